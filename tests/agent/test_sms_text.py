"""Chat messages as texts: cut at SMS length between words, links whole, cards as one line; and what
counts as a parcel exception."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.cards import HandoffCard, LabelCard, Parcel, TrackingCard
from agent.conversation import ChatMessage
from agent.parcel_watch import parcel_exception
from agent.sms_text import MAX_PARTS, sms_text, split_sms
from integrations.domain import TrackingEvent, TrackingStatus

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
LINK = "https://track.example/" + "x" * 200


def message(
    text: str, card: object = None, role: str = "assistant", author: str | None = None
) -> ChatMessage:
    return ChatMessage(id="m1", role=role, text=text, created_at=NOW, card=card, author=author)  # type: ignore[arg-type]


def test_a_long_reply_is_cut_between_words_into_segments() -> None:
    text = " ".join(f"word{i}" for i in range(80))
    parts = split_sms(text)
    assert len(parts) > 1 and all(len(p) <= 160 for p in parts)
    assert " ".join(parts) == text


def test_a_link_is_never_cut_and_non_ascii_uses_shorter_segments() -> None:
    parts = split_sms(f"Your label: {LINK} thanks")
    assert LINK in parts
    accented = split_sms("café " * 30)
    assert all(len(p) <= 70 for p in accented) and len(accented) == 3
    assert split_sms("   ") == []
    assert len(split_sms("word " * 2000)) == MAX_PARTS


def test_cards_become_one_line_with_their_link() -> None:
    tracking = TrackingCard(
        order_number="1001",
        parcels=[
            Parcel(
                carrier="UPS",
                tracking_number="1Z",
                status="in_transit",
                status_detail=None,
                estimated_delivery=NOW,
                tracking_url="https://ups.example/1Z",
                last_event=None,
                exception=None,
            )
        ],
    )
    assert sms_text(message("It's on its way.", tracking)) == (
        "It's on its way.\n#1001: UPS in transit, due Nov 26. Track: https://ups.example/1Z"
    )
    # The text already gives the link: the card adds nothing.
    assert (
        sms_text(message("Track it at https://ups.example/1Z", tracking))
        == "Track it at https://ups.example/1Z"
    )
    label = LabelCard(
        order_number="1002",
        carrier="USPS",
        tracking_number="94",
        label_url="https://l.example/1.png",
        emailed_to="b@x",
        items=[],
    )
    assert sms_text(message("Done.", label)).endswith("Return label (USPS 94): https://l.example/1.png")
    assert sms_text(message("Passing you over.", HandoffCard())).endswith(
        "A person from our team will reply here."
    )
    assert sms_text(message("On it.", role="agent", author="Rosa")) == "Rosa: On it."


def status(
    state: str, *, last_days: float, eta_days: float | None = None, detail: str | None = None
) -> TrackingStatus:
    return TrackingStatus(
        tracking_number="T1",
        carrier="UPS",
        status=state,
        status_detail=detail,
        estimated_delivery=NOW + timedelta(days=eta_days) if eta_days is not None else None,
        events=(TrackingEvent(at=NOW - timedelta(days=last_days), status=state, message="scan"),),
    )


@pytest.mark.parametrize(
    ("tracking", "kind"),
    [
        (status("failure", last_days=0, detail="address_not_found"), "failure"),
        (status("return_to_sender", last_days=0), "return_to_sender"),
        (status("error", last_days=0), "error"),
        (status("in_transit", last_days=6), "stuck"),
        (status("in_transit", last_days=1, eta_days=-2), "late"),
        (status("in_transit", last_days=1, eta_days=1), None),
        (status("in_transit", last_days=4), None),
        (status("delivered", last_days=30, eta_days=-30), None),
    ],
)
def test_what_counts_as_a_parcel_exception(tracking: TrackingStatus, kind: str | None) -> None:
    found = parcel_exception(tracking, NOW, stuck_after_days=5)
    assert (found.kind if found else None) == kind
    if found is not None:
        assert found.what and found.next_steps

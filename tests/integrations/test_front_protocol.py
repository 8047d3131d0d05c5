"""Front's webhooks: verified as Front documents an application's signature (base64 HMAC-SHA256 of
`X-Front-Request-Timestamp` + ":" + the raw body, keyed by the app secret; stale timestamps
refused), then parsed: the channel's `message` callback and the application events."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from integrations.domain import ApprovalRequested, HandbackConsumed, HandoffRequested
from integrations.events import (
    HandedBack,
    HumanReplied,
    RefundApproved,
    RefundDenied,
    TicketClosed,
    WebhookMalformed,
    WebhookRejected,
)
from integrations.front.protocol import FrontProtocol
from tests.published.front import reference

SECRET = "app-secret"
NOW = 1_764_800_000.0
CID = "conv-abc123"


def signed(body: dict[str, Any], *, at: float = NOW, secret: str = SECRET) -> tuple[dict[str, str], bytes]:
    raw = json.dumps(body).encode()
    stamp = str(int(at * 1000))
    digest = hmac.new(secret.encode(), f"{stamp}:".encode() + raw, hashlib.sha256).digest()
    return {"x-front-signature": base64.b64encode(digest).decode(), "x-front-request-timestamp": stamp}, raw


@pytest.fixture
def protocol() -> FrontProtocol:
    return FrontProtocol(secret=SECRET, max_age_seconds=300, clock=lambda: NOW)


def chat_conversation(**changes: Any) -> dict[str, Any]:
    """The published conversation, as one of our chats (its recipient is the chat's handle)."""
    return {
        **reference.CONVERSATION,
        "status": "assigned",
        "recipient": {"handle": f"chat:{CID}", "role": "from"},
        **changes,
    }


def teammate_reply(**changes: Any) -> dict[str, Any]:
    """The channel's callback: the published message, sent by a teammate to the chat."""
    payload = {
        **reference.MESSAGE,
        "type": "custom",
        "is_inbound": False,
        "text": "Leela here: it ships today.",
        "recipients": [{"handle": f"chat:{CID}", "role": "to"}],
        **changes,
    }
    return {"type": "message", "payload": payload}


def event(kind: str, target: dict[str, Any] | None = None) -> dict[str, Any]:
    """The published event with another type and target, on one of our chats."""
    return {**reference.EVENT, "type": kind, "target": target, "conversation": chat_conversation()}


# --------------------------------------------------------------------------- verification


def test_a_correctly_signed_fresh_delivery_passes(protocol: FrontProtocol) -> None:
    headers, raw = signed(teammate_reply())
    protocol.verify_webhook(headers, raw)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, r: (h, r.replace(b"ships", b"shops")),  # body changed
        lambda h, r: ({**h, "x-front-signature": "AAAA"}, r),  # signature changed
        lambda h, r: ({**h, "x-front-request-timestamp": str(int(NOW * 1000) + 1)}, r),  # timestamp changed
        lambda h, r: ({"x-front-request-timestamp": h["x-front-request-timestamp"]}, r),  # no signature
        lambda h, r: ({"x-front-signature": h["x-front-signature"]}, r),  # no timestamp
    ],
)
def test_anything_not_signed_by_the_app_is_rejected(protocol: FrontProtocol, tamper: Any) -> None:
    headers, raw = signed(teammate_reply())
    bad_headers, bad_raw = tamper(headers, raw)
    with pytest.raises(WebhookRejected):
        protocol.verify_webhook(bad_headers, bad_raw)


def test_another_secret_is_rejected(protocol: FrontProtocol) -> None:
    headers, raw = signed(teammate_reply(), secret="other")
    with pytest.raises(WebhookRejected):
        protocol.verify_webhook(headers, raw)


@pytest.mark.parametrize("age", [301.0, -301.0, 86_400.0])
def test_stale_or_future_timestamps_are_rejected(protocol: FrontProtocol, age: float) -> None:
    headers, raw = signed(teammate_reply(), at=NOW - age)
    with pytest.raises(WebhookRejected) as caught:
        protocol.verify_webhook(headers, raw)
    assert caught.value.code == "stale_timestamp"


def test_without_a_secret_nothing_is_accepted() -> None:
    headers, raw = signed(teammate_reply(), secret="")
    with pytest.raises(WebhookRejected):
        FrontProtocol(secret="", clock=lambda: NOW).verify_webhook(headers, raw)


# --------------------------------------------------------------------------- parsing


def test_a_teammates_message_in_the_channel_is_a_human_reply(protocol: FrontProtocol) -> None:
    headers, raw = signed(teammate_reply())
    [reply] = protocol.parse_webhook(headers, raw)
    assert isinstance(reply, HumanReplied)
    assert reply.conversation_id == CID and reply.ticket_id == str(int("55c8c149", 36))
    assert reply.text == "Leela here: it ships today." and reply.author == "Leela Turanga"
    assert reply.message_id == "front-msg_55c8c149"
    assert protocol.dedupe_keys(headers, raw) == ["message:msg_55c8c149"]


@pytest.mark.parametrize(
    "changes",
    [
        {"is_inbound": True},  # the shopper's own message
        {"text": "  "},  # nothing to say
        {"recipients": [{"handle": "calculon@momsbot.com", "role": "to"}]},  # not a chat of ours
    ],
)
def test_other_messages_mean_nothing(protocol: FrontProtocol, changes: dict[str, Any]) -> None:
    headers, raw = signed(teammate_reply(**changes))
    assert protocol.parse_webhook(headers, raw) == []


def test_archiving_closes_and_decision_tags_decide(protocol: FrontProtocol) -> None:
    def parsed(body: dict[str, Any]) -> list[Any]:
        return protocol.parse_webhook(*signed(body))

    [closed] = parsed(event("archive"))
    assert isinstance(closed, TicketClosed) and closed.conversation_id == CID
    assert closed.occurred_at is not None and closed.occurred_at.timestamp() == pytest.approx(1453770984.123)
    for name, kind in (
        ("ai_handback", HandedBack),
        ("refund-approved", RefundApproved),
        ("refund-denied", RefundDenied),
    ):
        [decided] = parsed(event("tag", {"_meta": {"type": "tag"}, "data": {**reference.TAG, "name": name}}))
        assert isinstance(decided, kind) and decided.ticket_id == str(int("55c8c149", 36))
    assert parsed(event("tag", {"_meta": {"type": "tag"}, "data": reference.TAG})) == []  # "Robots"
    assert (
        parsed(event("untag", {"_meta": {"type": "tag"}, "data": {**reference.TAG, "name": "ai_handback"}}))
        == []
    )
    assert parsed(reference.EVENT) == []  # the published assign, on a conversation not ours
    headers, raw = signed(event("archive"))
    assert protocol.dedupe_keys(headers, raw) == ["event:evt_55c8c149"]


def test_housekeeping_deliveries_mean_nothing(protocol: FrontProtocol) -> None:
    sync = {"type": "sync", "authorization": {"id": "cmp_abc"}}  # the validation Front sends on saving
    assert protocol.parse_webhook(*signed(sync)) == []
    assert protocol.parse_webhook(*signed({"type": "message_imported", "payload": {}})) == []


@pytest.mark.parametrize(
    "raw", [b"not json", b"[]", b'{"no": "type"}', b'{"type": "message", "payload": {}}', b'{"type": "odd"}']
)
def test_malformed_deliveries_are_refused(protocol: FrontProtocol, raw: bytes) -> None:
    with pytest.raises(WebhookMalformed):
        protocol.parse_webhook({}, raw)


def test_requests_become_tags_and_a_note() -> None:
    protocol = FrontProtocol(secret=SECRET)
    handoff = protocol.ticket_change(HandoffRequested(intent="returns"))
    assert handoff.add_tags == ("ai_handover", "returns") and not handoff.notes
    approval = protocol.ticket_change(ApprovalRequested(text="Refund $80 for #1005?", external_id="x"))
    assert approval.add_tags == ("refund-approval",)
    assert set(approval.remove_tags) == {"refund-approved", "refund-denied"}
    [(note, external_id)] = approval.notes
    assert note.startswith("Refund $80 for #1005?") and "refund-approved" in note and external_id == "x"
    assert protocol.ticket_change(HandbackConsumed()).remove_tags == ("ai_handback",)

"""Zendesk's webhooks: signatures as Zendesk documents them (base64 HMAC-SHA256 over the timestamp
header followed by the raw body), stale timestamps refused, and the triggers' bodies parsed into
domain events; our requests mapped to Zendesk tags."""

from __future__ import annotations

import json
from datetime import UTC, datetime
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
from integrations.zendesk.protocol import ZendeskProtocol, signature
from tests.published.zendesk_reference import WEBHOOK_HEADERS, WEBHOOK_SIGNING_SECRET

SENT_AT = WEBHOOK_HEADERS["x-zendesk-webhook-signature-timestamp"]  # 2021-03-25T05:09:27Z
SENT_EPOCH = datetime(2021, 3, 25, 5, 9, 27, tzinfo=UTC).timestamp()


def protocol(now: float = SENT_EPOCH + 2, max_age: float = 300.0) -> ZendeskProtocol:
    return ZendeskProtocol(secret=WEBHOOK_SIGNING_SECRET, max_age_seconds=max_age, clock=lambda: now)


def delivery(
    body: dict[str, Any], *, stamp: str = SENT_AT, secret: str = WEBHOOK_SIGNING_SECRET
) -> tuple[dict[str, str], bytes]:
    raw = json.dumps(body).encode()
    headers = {
        **WEBHOOK_HEADERS,
        "x-zendesk-webhook-signature-timestamp": stamp,
        "x-zendesk-webhook-signature": signature(secret, stamp, raw),
    }
    return headers, raw


def ticket(**values: Any) -> dict[str, Any]:
    return {
        "id": "35436",
        "external_id": "conv-1",
        "status": "Open",
        "tags": "ai-handled ai_handover",
        **values,
    }


def reply(**comment: Any) -> dict[str, Any]:
    return {
        "event": "comment_added",
        "ticket": ticket(),
        "comment": {
            "id": "1274",
            "body": "Thanks for your patience, Rosa here.",
            "public": True,
            "created_at": "2021-03-25T05:09:20Z",
            "author": {"id": "7", "name": "Rosa", "email": "rosa@example.com", "role": "agent"},
            **comment,
        },
    }


def test_the_signature_is_base64_hmac_sha256_of_timestamp_then_body() -> None:
    import base64
    import hashlib
    import hmac

    raw = b'{"event":"ticket_updated"}'
    expected = base64.b64encode(
        hmac.new(WEBHOOK_SIGNING_SECRET.encode(), (SENT_AT + raw.decode()).encode(), hashlib.sha256).digest()
    ).decode()
    assert signature(WEBHOOK_SIGNING_SECRET, SENT_AT, raw) == expected
    # The published example's headers carry a signature of this shape: 32 bytes, base64.
    assert len(base64.b64decode(WEBHOOK_HEADERS["x-zendesk-webhook-signature"])) == 32


def test_a_signed_fresh_delivery_is_accepted_and_parsed() -> None:
    headers, raw = delivery(reply())
    desk = protocol()
    desk.verify_webhook(headers, raw)
    [event] = desk.parse_webhook(headers, raw)
    assert isinstance(event, HumanReplied)
    assert (event.ticket_id, event.conversation_id, event.text) == (
        "35436",
        "conv-1",
        "Thanks for your patience, Rosa here.",
    )
    assert event.author == "Rosa" and event.message_id == "zendesk-35436-1274"
    assert desk.dedupe_keys(headers, raw) == ["invocation:8350205582"]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, r: (h, r.replace(b"Rosa", b"Eve")),  # another body
        lambda h, r: (
            {**h, "x-zendesk-webhook-signature-timestamp": "2021-03-25T05:09:28Z"},
            r,
        ),  # another time
        lambda h, r: ({k: v for k, v in h.items() if k != "x-zendesk-webhook-signature"}, r),
        lambda h, r: ({k: v for k, v in h.items() if k != "x-zendesk-webhook-signature-timestamp"}, r),
    ],
)
def test_a_tampered_or_unsigned_delivery_is_rejected(tamper: Any) -> None:
    headers, raw = tamper(*delivery(reply()))
    with pytest.raises(WebhookRejected):
        protocol().verify_webhook(headers, raw)


def test_another_secret_is_rejected_and_no_secret_rejects_everything() -> None:
    headers, raw = delivery(reply(), secret="someone else's")
    with pytest.raises(WebhookRejected):
        protocol().verify_webhook(headers, raw)
    good_headers, good_raw = delivery(reply())
    with pytest.raises(WebhookRejected):
        ZendeskProtocol(secret="", clock=lambda: SENT_EPOCH).verify_webhook(good_headers, good_raw)


@pytest.mark.parametrize("offset", [301.0, -301.0, 86_400.0])
def test_a_stale_or_future_timestamp_is_rejected_even_when_signed(offset: float) -> None:
    headers, raw = delivery(reply())
    with pytest.raises(WebhookRejected) as refused:
        protocol(now=SENT_EPOCH + offset).verify_webhook(headers, raw)
    assert refused.value.code == "stale_timestamp"
    protocol(now=SENT_EPOCH + 299).verify_webhook(headers, raw)  # within the window


def test_an_unreadable_timestamp_is_rejected() -> None:
    headers, raw = delivery(reply(), stamp="yesterday")
    with pytest.raises(WebhookRejected):
        protocol().verify_webhook(headers, raw)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"event": "ticket_updated", "ticket": ticket(status="Solved")}, TicketClosed),
        ({"event": "ticket_updated", "ticket": ticket(status="Closed", tags="ai_handback")}, TicketClosed),
        (
            {"event": "ticket_updated", "ticket": ticket(tags="ai_handover ai_handback refund-approved")},
            HandedBack,
        ),
        (
            {"event": "ticket_updated", "ticket": ticket(tags="refund-approval refund-approved")},
            RefundApproved,
        ),
        (
            {"event": "ticket_updated", "ticket": ticket(tags=["refund-approval", "refund-denied"])},
            RefundDenied,
        ),
    ],
)
def test_ticket_updates_become_events(body: dict[str, Any], kind: type) -> None:
    [event] = protocol().parse_webhook({}, json.dumps(body).encode())
    assert isinstance(event, kind)
    assert event.conversation_id == "conv-1" and event.ticket_id == "35436"


@pytest.mark.parametrize(
    "body",
    [
        reply(public=False),  # a private note for the team
        reply(author={"id": "9", "name": "Ana", "role": "end-user"}),  # the shopper
        reply(body="   "),
        {"event": "ticket_updated", "ticket": ticket()},  # nothing we act on
        {"event": "ticket_updated", "ticket": ticket(external_id="", status="Solved")},  # not ours
        {**reply(), "ticket": ticket(external_id="")},
    ],
)
def test_deliveries_that_mean_nothing_for_the_bot(body: dict[str, Any]) -> None:
    assert protocol().parse_webhook({}, json.dumps(body).encode()) == []


def test_a_reply_without_a_comment_id_is_keyed_by_the_invocation() -> None:
    body = reply(id="")
    headers, raw = delivery(body)
    [event] = protocol().parse_webhook(headers, raw)
    assert isinstance(event, HumanReplied) and event.message_id == "zendesk-35436-8350205582"


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1, 2]",
        b'{"event": "ticket_deleted", "ticket": {"id": "1"}}',
        b'{"event": "comment_added"}',
    ],
)
def test_malformed_bodies_are_refused(raw: bytes) -> None:
    with pytest.raises(WebhookMalformed):
        protocol().parse_webhook({}, raw)


def test_requests_become_zendesk_tags_and_notes() -> None:
    desk = protocol()
    handoff = desk.ticket_change(HandoffRequested(intent="refunds"))
    assert handoff.add_tags == ("ai_handover", "refunds")
    approval = desk.ticket_change(
        ApprovalRequested(text="Refund 480.00 on #1005?", external_id="c:approval:1")
    )
    assert approval.add_tags == ("refund-approval",)
    assert set(approval.remove_tags) == {"refund-approved", "refund-denied"}
    [(note, external_id)] = approval.notes
    assert (
        note.startswith("Refund 480.00 on #1005?")
        and "refund-approved" in note
        and external_id == "c:approval:1"
    )
    assert desk.ticket_change(HandbackConsumed()).remove_tags == ("ai_handback",)

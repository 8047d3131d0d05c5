"""Intercom's webhook notifications: `X-Hub-Signature` checked over the exact bytes, topics read into
domain events (a person's reply, close, hand-back by assignment or tag, refund decisions), the bot's
own doings left out, redeliveries known by the notification id; and our requests as tags."""

from __future__ import annotations

import copy
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
from integrations.intercom.client import CONVERSATION_ATTRIBUTE
from integrations.intercom.protocol import IntercomProtocol, signature
from tests.published.intercom.reference import CONVERSATION, NOTIFICATION_FIELDS, notification

SECRET = "client-secret"
BOT = "7451001"


def ours(**changes: Any) -> dict[str, Any]:
    """The published conversation, as one of ours (carrying our id), with `changes`."""
    item = copy.deepcopy(CONVERSATION)
    item["custom_attributes"] = {CONVERSATION_ATTRIBUTE: "conv-1"}
    item.update(changes)
    return item


def signed(body: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    raw = json.dumps(body).encode()
    return {"X-Hub-Signature": signature(SECRET, raw)}, raw


@pytest.fixture
def protocol() -> IntercomProtocol:
    return IntercomProtocol(secret=SECRET, bot_admin_id=BOT)


def test_the_signature_is_sha1_hmac_of_the_body_as_intercom_documents() -> None:
    raw = b'{"type":"notification_event"}'
    expected = "sha1=" + hmac.new(SECRET.encode(), raw, hashlib.sha1).hexdigest()
    assert signature(SECRET, raw) == expected and len(expected) == 45


def test_a_signed_notification_is_accepted_and_a_forged_or_unsigned_one_refused(
    protocol: IntercomProtocol,
) -> None:
    headers, raw = signed(notification("conversation.admin.replied", ours()))
    protocol.verify_webhook(headers, raw)
    protocol.verify_webhook(
        {"x-hub-signature": headers["X-Hub-Signature"].upper().replace("SHA1=", "sha1=")}, raw
    )
    with pytest.raises(WebhookRejected):
        protocol.verify_webhook(headers, raw.replace(b"Okay!", b"Refund!"))
    with pytest.raises(WebhookRejected):
        protocol.verify_webhook({}, raw)
    with pytest.raises(WebhookRejected):
        IntercomProtocol(secret="").verify_webhook(headers, raw)


def test_the_envelope_has_the_published_fields() -> None:
    assert tuple(notification("ping", {})) == NOTIFICATION_FIELDS


def test_a_persons_reply_takes_over(protocol: IntercomProtocol) -> None:
    headers, raw = signed(notification("conversation.admin.replied", ours()))
    [event] = protocol.parse_webhook(headers, raw)
    assert isinstance(event, HumanReplied)
    assert (event.ticket_id, event.conversation_id, event.text, event.author) == (
        "503",
        "conv-1",
        "Okay!",
        "Operator",
    )
    assert event.message_id == "intercom-503-1"
    assert protocol.dedupe_keys(headers, raw) == ["notification:notif_ccd8a4d2-c9ae-4d0b-9bd7-1d5a3d26d6b8"]


def test_the_bots_own_reply_and_close_and_foreign_conversations_are_nothing(
    protocol: IntercomProtocol,
) -> None:
    item = ours()
    item["conversation_parts"]["conversation_parts"][0]["author"]["id"] = BOT
    assert protocol.parse_webhook(*signed(notification("conversation.admin.replied", item))) == []
    closing = copy.deepcopy(item)
    closing["conversation_parts"]["conversation_parts"][0]["part_type"] = "close"
    assert protocol.parse_webhook(*signed(notification("conversation.admin.closed", closing))) == []
    assert protocol.parse_webhook(*signed(notification("conversation.admin.replied", CONVERSATION))) == []
    assert protocol.parse_webhook(*signed(notification("contact.user.created", {"type": "contact"}))) == []


def test_a_person_closing_hands_the_conversation_back(protocol: IntercomProtocol) -> None:
    item = ours()
    item["conversation_parts"]["conversation_parts"][0]["part_type"] = "close"
    [event] = protocol.parse_webhook(*signed(notification("conversation.admin.closed", item)))
    assert isinstance(event, TicketClosed) and event.conversation_id == "conv-1"


def test_assigning_to_the_bots_admin_is_a_hand_back(protocol: IntercomProtocol) -> None:
    item = ours(admin_assignee_id=int(BOT))
    item["conversation_parts"]["conversation_parts"][0]["part_type"] = "assignment"
    [event] = protocol.parse_webhook(*signed(notification("conversation.admin.assigned", item)))
    assert isinstance(event, HandedBack)
    to_person = ours(admin_assignee_id=274)
    to_person["conversation_parts"]["conversation_parts"][0]["part_type"] = "assignment"
    assert protocol.parse_webhook(*signed(notification("conversation.admin.assigned", to_person))) == []


@pytest.mark.parametrize(
    ("tag", "kind"),
    [("ai_handback", HandedBack), ("refund-approved", RefundApproved), ("refund-denied", RefundDenied)],
)
def test_a_persons_tag_decides(protocol: IntercomProtocol, tag: str, kind: type) -> None:
    applied = {
        "type": "tag",
        "id": "9",
        "name": tag,
        "applied_at": 1734537700,
        "applied_by": {"type": "admin", "id": "274"},
    }
    by_bot = dict(
        applied,
        name="refund-denied" if tag != "refund-denied" else "refund-approved",
        applied_at=1734537800,
        applied_by={"type": "admin", "id": BOT},
    )
    item = ours(tags={"type": "tag.list", "tags": [applied, by_bot]})
    [event] = protocol.parse_webhook(*signed(notification("conversation_part.tag.created", item)))
    assert isinstance(event, kind)


def test_a_malformed_notification_is_refused(protocol: IntercomProtocol) -> None:
    with pytest.raises(WebhookMalformed):
        protocol.parse_webhook(*signed({"topic": "conversation.admin.replied"}))
    with pytest.raises(WebhookMalformed):
        protocol.parse_webhook({}, b"not json")
    with pytest.raises(WebhookMalformed):
        protocol.parse_webhook(*signed(notification("conversation.admin.replied", {"id": None})))


def test_requests_become_tags_and_a_note(protocol: IntercomProtocol) -> None:
    assert protocol.ticket_change(HandoffRequested(intent="refunds")).add_tags == ("ai_handover", "refunds")
    approval = protocol.ticket_change(ApprovalRequested(text="Refund $180 on #1005?", external_id="c:a1"))
    [(note, key)] = approval.notes
    assert note.startswith("Refund $180 on #1005?") and "refund-approved" in note and key == "c:a1"
    assert approval.remove_tags == ("refund-approved", "refund-denied")
    assert protocol.ticket_change(HandbackConsumed()).remove_tags == ("ai_handback",)

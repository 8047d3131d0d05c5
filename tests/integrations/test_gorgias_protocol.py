"""The Gorgias adapter's protocol: its HTTP-integration webhooks in (verified by the shared-secret
header, parsed into domain events) and our vendor-neutral requests out (its tags and notes).

Bodies follow the template the README documents, filled from the objects of Gorgias's own
Swagger spec (`fixtures/gorgias/openapi-2016.json`: the `Ticket` and `TicketMessage` examples, tags
with their `uri`, a message `via: api`), and from what the sandbox sends (`sandbox/webhooks.py`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from integrations.domain import ApprovalRequested, HandbackConsumed, HandoffRequested, TicketChange
from integrations.events import (
    HandedBack,
    HumanReplied,
    RefundApproved,
    RefundDenied,
    TicketClosed,
    WebhookMalformed,
    WebhookRejected,
)
from integrations.gorgias.adapter import GorgiasHelpdesk
from integrations.gorgias.client import GorgiasClient
from integrations.gorgias.protocol import GorgiasProtocol
from integrations.helpdesk_tags import APPROVAL_TAG, APPROVED_TAG, DENIED_TAG, HANDBACK_TAG, HANDOVER_TAG
from sandbox.webhooks import helpdesk_event

HEADER = "X-Support-Agent-Secret"
SECRET = "a-long-shared-secret-for-the-http-integration"
CONVERSATION = "3f2c9d0e5b7a41c8"


@pytest.fixture
def protocol() -> GorgiasProtocol:
    return GorgiasProtocol(secret_header=HEADER, secret=SECRET)


@pytest.fixture(scope="module")
def spec(fixtures_dir: Path) -> dict[str, Any]:
    """Example values of the spec's definitions, by definition and property."""
    definitions = json.loads((fixtures_dir / "gorgias" / "openapi-2016.json").read_text())["definitions"]
    return {
        name: {prop: value.get("example") for prop, value in definitions[name]["properties"].items()}
        for name in ("Ticket", "TicketMessage")
    }


def ticket_of(spec: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The spec's example ticket as the documented template renders it, ours (external_id set)."""
    example = spec["Ticket"]
    ticket = {
        "id": 12,
        "external_id": CONVERSATION,
        "status": "open",
        "subject": example["subject"],
        "tags": example["tags"],  # [{"name": "refund", "id": 5, "uri": ...}]
        "assignee_user": example["assignee_user"],
        "updated_datetime": "2026-11-20T15:04:05+00:00",
    }
    return {**ticket, **changes}


def message_of(spec: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The spec's example message (`via: api`, sender `{"id": 7}`), as the template renders it."""
    example = spec["TicketMessage"]
    message = {
        "id": 4521,
        "channel": example["channel"],
        "via": example["via"],
        "from_agent": example["from_agent"],
        "public": example["public"],
        "body_text": example["body_text"],
        "sender": example["sender"],
        "created_datetime": "2026-11-20T15:03:00+00:00",
    }
    return {**message, **changes}


def raw(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def signed() -> dict[str, str]:
    return {HEADER: SECRET}


# --------------------------------------------------------------------------- verification


def test_the_shared_secret_header_is_required(protocol: GorgiasProtocol) -> None:
    body = raw({"event": "ticket-updated", "ticket": {"id": 1}})
    protocol.verify_webhook(signed(), body)
    protocol.verify_webhook({HEADER.lower(): SECRET}, body)  # header names are case-insensitive
    for headers in ({}, {HEADER: "guess"}, {HEADER: ""}, {"X-Other": SECRET}, {HEADER: SECRET + " "}):
        with pytest.raises(WebhookRejected) as refused:
            protocol.verify_webhook(headers, body)
        assert (refused.value.status, refused.value.code) == (401, "invalid_secret")


def test_without_a_configured_secret_every_delivery_is_refused() -> None:
    for protocol in (GorgiasProtocol(secret=""), GorgiasHelpdesk(GorgiasClient.__new__(GorgiasClient))):
        with pytest.raises(WebhookRejected):
            protocol.verify_webhook({HEADER: ""}, b"{}")


def test_no_delivery_id_so_no_dedupe_keys(protocol: GorgiasProtocol) -> None:
    assert protocol.dedupe_keys(signed(), b"{}") == []


# --------------------------------------------------------------------------- parsing


def test_a_persons_reply_is_human_replied(protocol: GorgiasProtocol, spec: dict[str, Any]) -> None:
    person = {"id": 4, "name": "John Smith", "email": "agent-smith@gorgias.io"}
    message = message_of(spec, via="helpdesk", from_agent=True, sender=person, body_text="Hi, John here.")

    events = protocol.parse_webhook(
        signed(), raw({"event": "ticket-message-created", "ticket": ticket_of(spec), "message": message})
    )

    assert events == [
        HumanReplied(
            ticket_id="12",
            conversation_id=CONVERSATION,
            occurred_at=datetime(2026, 11, 20, 15, 3, tzinfo=UTC),
            text="Hi, John here.",
            author="John Smith",
            message_id="gorgias-4521",
        )
    ]


@pytest.mark.parametrize(
    "changes",
    [
        {},  # the spec's example as it is: `via: api`, from_agent null (a customer message)
        {"via": "api", "from_agent": True},  # a message we mirrored
        {"via": "helpdesk", "from_agent": True, "channel": "internal-note"},  # a note to the team
        {"via": "helpdesk", "from_agent": True, "public": False},
        {"via": "email", "from_agent": False},  # the shopper writing by email
    ],
)
def test_messages_that_are_not_a_person_replying_mean_nothing(
    protocol: GorgiasProtocol, spec: dict[str, Any], changes: dict[str, Any]
) -> None:
    body = {
        "event": "ticket-message-created",
        "ticket": ticket_of(spec),
        "message": message_of(spec, **changes),
    }
    assert protocol.parse_webhook(signed(), raw(body)) == []


@pytest.mark.parametrize(
    ("status", "tags", "expected"),
    [
        ("closed", [HANDBACK_TAG, APPROVED_TAG], TicketClosed),  # a close wins
        ("open", ["refund", HANDBACK_TAG, APPROVED_TAG], HandedBack),  # then a hand-back
        ("open", [HANDOVER_TAG, APPROVED_TAG], RefundApproved),
        ("open", [APPROVAL_TAG, DENIED_TAG], RefundDenied),
    ],
)
def test_ticket_updates_are_closes_hand_backs_and_decisions(
    protocol: GorgiasProtocol, spec: dict[str, Any], status: str, tags: list[str], expected: type
) -> None:
    ticket = ticket_of(
        spec, status=status, tags=[{"name": t, "id": n, "uri": "x"} for n, t in enumerate(tags)]
    )

    [event] = protocol.parse_webhook(
        signed(), raw({"event": "ticket-updated", "ticket": ticket, "message": None})
    )

    assert type(event) is expected
    assert (event.ticket_id, event.conversation_id) == ("12", CONVERSATION)
    assert event.occurred_at == datetime(2026, 11, 20, 15, 4, 5, tzinfo=UTC)


def test_a_person_using_the_api_keys_account_still_takes_over(
    protocol: GorgiasProtocol, spec: dict[str, Any]
) -> None:
    """Only `via: api` marks our own messages: the API key's user may answer tickets too."""
    message = message_of(spec, via="helpdesk", from_agent=True, sender={"id": 9, "email": "owner@store.test"})
    body = {"event": "ticket-message-created", "ticket": ticket_of(spec), "message": message}
    assert [e.kind for e in protocol.parse_webhook(signed(), raw(body))] == ["human_replied"]


def test_tickets_that_mean_nothing_to_us(protocol: GorgiasProtocol, spec: dict[str, Any]) -> None:
    updated = {"event": "ticket-updated", "ticket": ticket_of(spec), "message": None}  # tag "refund" only
    not_ours = {"event": "ticket-updated", "ticket": ticket_of(spec, external_id=None, status="closed")}
    no_message = {"event": "ticket-message-created", "ticket": ticket_of(spec), "message": None}
    for body in (updated, not_ours, no_message):
        assert protocol.parse_webhook(signed(), raw(body)) == []


def test_what_the_sandbox_sends_parses(protocol: GorgiasProtocol) -> None:
    ticket = {
        "id": 7,
        "external_id": CONVERSATION,
        "status": "open",
        "tags": [{"id": 1, "name": HANDOVER_TAG}],
        "updated_datetime": "2026-11-20T15:00:00+00:00",
    }
    message = {
        "id": 8,
        "channel": "chat",
        "via": "helpdesk",
        "from_agent": True,
        "public": True,
        "body_text": "Rosa here.",
        "sender": {"id": 1, "name": "Rosa Alvarez", "email": "rosa@harborandpine.test"},
        "created_datetime": "2026-11-20T15:00:00+00:00",
    }
    body = helpdesk_event("ticket-message-created", ticket, message)

    [event] = protocol.parse_webhook(signed(), raw(body))

    assert isinstance(event, HumanReplied)
    assert (event.text, event.author, event.message_id) == ("Rosa here.", "Rosa Alvarez", "gorgias-8")


@pytest.mark.parametrize(
    "body",
    [
        b"{broken",
        b'"a string"',
        b"[]",
        b'{"ticket": {"id": 1}}',
        b'{"event": "x", "ticket": {"status": "open"}}',
    ],
)
def test_bodies_that_are_not_the_template_are_malformed(protocol: GorgiasProtocol, body: bytes) -> None:
    with pytest.raises(WebhookMalformed) as refused:
        protocol.parse_webhook(signed(), body)
    assert (refused.value.status, refused.value.code) == (400, "malformed_body")


# --------------------------------------------------------------------------- requests out


def test_requests_become_gorgias_tags_and_notes(protocol: GorgiasProtocol) -> None:
    assert protocol.ticket_change(HandoffRequested(intent="refunds")) == TicketChange(
        add_tags=(HANDOVER_TAG, "refunds")
    )
    approval = protocol.ticket_change(
        ApprovalRequested(text="Refund approval needed.", external_id="k:approval")
    )
    [(note, external_id)] = approval.notes
    assert external_id == "k:approval"
    assert note.startswith("Refund approval needed. ")
    assert f"'{APPROVED_TAG}' to approve" in note and f"'{DENIED_TAG}' to deny" in note
    assert (approval.add_tags, approval.remove_tags) == ((APPROVAL_TAG,), (APPROVED_TAG, DENIED_TAG))
    assert protocol.ticket_change(HandbackConsumed()) == TicketChange(remove_tags=(HANDBACK_TAG,))

"""`POST /webhooks/zendesk` with HELPDESK=zendesk: signed deliveries reach the service, unsigned,
forged or stale ones are refused before anything is parsed, an invocation is processed once, and
the other helpdesks' routes are not this server's."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from agent.settings import Settings
from integrations.events import HumanReplied, TicketClosed
from integrations.zendesk.protocol import signature
from tests.server.conftest import make_settings, start_conversation
from tests.server.fake_service import FakeConversationService

SECRET = "test-zendesk-signing-secret"


@pytest.fixture
def settings() -> Settings:
    return make_settings(helpdesk="zendesk", zendesk_webhook_secret=SECRET)


def signed(
    body: dict[str, Any], *, invocation: str = "8350205582", sent: datetime | None = None
) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    stamp = (sent or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return raw, {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Invocation-Id": invocation,
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        "X-Zendesk-Webhook-Signature": signature(SECRET, stamp, raw),
    }


def reply(conversation_id: str, text: str = "Rosa here.") -> dict[str, Any]:
    return {
        "event": "comment_added",
        "ticket": {
            "id": "77",
            "external_id": conversation_id,
            "status": "Open",
            "tags": "ai-handled ai_handover",
        },
        "comment": {"id": "901", "body": text, "public": True, "author": {"name": "Rosa", "role": "agent"}},
    }


async def test_a_signed_reply_reaches_the_conversation_once(
    client: httpx.AsyncClient, fake: FakeConversationService
) -> None:
    conversation_id = await start_conversation(client)
    raw, headers = signed(reply(conversation_id))

    first = await client.post("/webhooks/zendesk", content=raw, headers=headers)
    again = await client.post("/webhooks/zendesk", content=raw, headers=headers)

    assert first.json() == {"status": "ok"} and again.json() == {"status": "duplicate"}
    [event] = fake.helpdesk_events
    assert isinstance(event, HumanReplied) and event.text == "Rosa here." and event.author == "Rosa"
    view = (await client.get(f"/api/conversations/{conversation_id}")).json()
    assert view["messages"][-1]["text"] == "Rosa here."


async def test_solving_the_ticket_is_a_close(
    client: httpx.AsyncClient, fake: FakeConversationService
) -> None:
    conversation_id = await start_conversation(client)
    body = {
        "event": "ticket_updated",
        "ticket": {"id": "77", "external_id": conversation_id, "status": "Solved", "tags": ""},
    }
    raw, headers = signed(body)
    assert (await client.post("/webhooks/zendesk", content=raw, headers=headers)).json() == {"status": "ok"}
    assert [type(e) for e in fake.helpdesk_events] == [TicketClosed]


@pytest.mark.parametrize(
    "spoil",
    [
        lambda raw, h: (raw + b" ", h),  # the body changed after signing
        lambda raw, h: (raw, {k: v for k, v in h.items() if k != "X-Zendesk-Webhook-Signature"}),
        lambda raw, h: (
            raw,
            {
                **h,
                "X-Zendesk-Webhook-Signature": signature(
                    "guess", h["X-Zendesk-Webhook-Signature-Timestamp"], raw
                ),
            },
        ),
    ],
)
async def test_unsigned_or_forged_deliveries_are_401(
    client: httpx.AsyncClient, fake: FakeConversationService, spoil: Any
) -> None:
    conversation_id = await start_conversation(client)
    raw, headers = spoil(*signed(reply(conversation_id)))
    response = await client.post("/webhooks/zendesk", content=raw, headers=headers)
    assert response.status_code == 401 and response.json()["error"] == "invalid_signature"
    assert fake.helpdesk_events == []


async def test_a_stale_delivery_is_401_even_when_signed(
    client: httpx.AsyncClient, fake: FakeConversationService
) -> None:
    conversation_id = await start_conversation(client)
    raw, headers = signed(reply(conversation_id), sent=datetime.now(UTC) - timedelta(minutes=10))
    response = await client.post("/webhooks/zendesk", content=raw, headers=headers)
    assert response.status_code == 401 and response.json()["error"] == "stale_timestamp"
    assert fake.helpdesk_events == []


async def test_gorgias_is_not_this_servers_helpdesk(client: httpx.AsyncClient) -> None:
    response = await client.post("/webhooks/gorgias", json={"event": "x"})
    assert response.status_code == 404 and response.json()["error"] == "vendor_not_configured"


async def test_a_malformed_signed_body_is_400(client: httpx.AsyncClient) -> None:
    raw, headers = signed({"event": "ticket_deleted"})
    response = await client.post("/webhooks/zendesk", content=raw, headers=headers)
    assert response.status_code == 400 and response.json()["error"] == "malformed_body"

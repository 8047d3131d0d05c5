"""The Front emulator's control-API desk: a teammate acting in Front changes Front's records and
sends what Front would (the channel's `message` callback, the application webhook's `archive` and
`tag` events), signed as Front signs an app's requests, which the Front protocol accepts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from integrations.events import HandedBack, HumanReplied, RefundApproved, RefundDenied, TicketClosed
from integrations.front import FrontClient, front_http_client
from integrations.front.adapter import FrontHelpdesk
from integrations.front.protocol import FrontProtocol
from sandbox.helpdesks import snapshot_ticket_views, ticket_views
from sandbox.webhooks import encode_body
from sandbox.world import HelpdeskWebhook, World

SECRET = "front_app_secret_sandbox"
CID = "conv-xyz"


@pytest.fixture
def deliveries(sandbox_app: FastAPI, world: World) -> list[tuple[str, dict[str, str], dict[str, Any]]]:
    sent: list[tuple[str, dict[str, str], dict[str, Any]]] = []

    async def capture(url: str, headers: dict[str, str], body: dict[str, Any]) -> int:
        sent.append((url, headers, body))
        return 200

    sandbox_app.state.webhook_sender = capture
    world.helpdesk = "front"
    world.helpdesk_webhook = HelpdeskWebhook(
        url="http://agent/webhooks/front", secret_header="", secret=SECRET
    )
    return sent


@pytest.fixture
async def ticket_id(sandbox_transport: httpx.ASGITransport) -> AsyncIterator[str]:
    async with front_http_client(
        "http://sandbox/front", "front_sandbox", transport=sandbox_transport
    ) as http:
        helpdesk = FrontHelpdesk(FrontClient(http, channel_id="cha_sandbox"))
        ticket = await helpdesk.ensure_ticket(
            conversation_id=CID,
            customer_email="ana.silva@example.com",
            subject="Order 1001",
            tags=["ai-handled"],
            messages=[
                ("shopper", "Where is 1001?", "m1"),
                ("note", "Summary", "n1"),
                ("assistant", "On its way.", "m2"),
            ],
        )
        yield ticket.id


def _parsed(headers: dict[str, str], body: dict[str, Any]) -> list[Any]:
    protocol = FrontProtocol(secret=SECRET)
    raw = encode_body(body)
    protocol.verify_webhook(headers, raw)
    return protocol.parse_webhook(headers, raw)


async def test_the_neutral_view_of_a_front_conversation(ticket_id: str, world: World) -> None:
    [view] = ticket_views(world.model_copy(update={"helpdesk": "front"}))
    assert view["id"] == int(ticket_id) and view["external_id"] == CID and view["status"] == "open"
    assert [(m["channel"], m["body_text"], m["from_agent"]) for m in view["messages"]] == [
        ("chat", "Where is 1001?", False),
        ("internal-note", "Summary", True),
        ("chat", "On its way.", True),
    ]
    assert [t["name"] for t in view["tags"]] == ["ai-handled"]
    assert snapshot_ticket_views({**world.snapshot(), "helpdesk": "front"}) == [view]


async def test_a_reply_assigns_the_teammate_and_sends_the_channel_callback(
    ticket_id: str, sandbox_http: httpx.AsyncClient, world: World, deliveries: list[Any]
) -> None:
    response = await sandbox_http.post(f"/_sandbox/tickets/{ticket_id}/reply", json={"text": "Rosa here."})
    assert response.status_code == 200, response.text
    conversation = world.front.conversations[int(ticket_id)]
    assert conversation["status"] == "assigned" and conversation["assignee"]["email"]
    last = world.front.messages[int(ticket_id)][-1]
    assert last["is_inbound"] is False and last["author"]["id"] == conversation["assignee"]["id"]
    [(url, headers, body)] = deliveries
    assert url == "http://agent/webhooks/front" and body["type"] == "message"
    [reply] = _parsed(headers, body)
    assert isinstance(reply, HumanReplied) and reply.conversation_id == CID and reply.text == "Rosa here."
    assert response.json()["ticket"]["messages"][-1]["body_text"] == "Rosa here."


async def test_close_archives_and_tags_decide(
    ticket_id: str, sandbox_http: httpx.AsyncClient, world: World, deliveries: list[Any]
) -> None:
    for action in ("handback", "approve", "deny", "close"):
        assert (await sandbox_http.post(f"/_sandbox/tickets/{ticket_id}/{action}")).status_code == 200
    conversation = world.front.conversations[int(ticket_id)]
    assert conversation["status"] == "archived"
    assert {t["name"] for t in conversation["tags"]} == {
        "ai-handled",
        "ai_handback",
        "refund-approved",
        "refund-denied",
    }
    kinds = [type(_parsed(h, b)[0]) for _, h, b in deliveries]
    assert kinds == [HandedBack, RefundApproved, RefundDenied, TicketClosed]
    assert [b["type"] for _, _, b in deliveries] == ["tag", "tag", "tag", "archive"]
    assert len({b["id"] for _, _, b in deliveries}) == 4  # each event its own id (deduplication)


async def test_acting_on_an_unknown_conversation_is_404(
    sandbox_http: httpx.AsyncClient, world: World, deliveries: list[Any]
) -> None:
    response = await sandbox_http.post("/_sandbox/tickets/424242/reply", json={"text": "hi"})
    assert response.status_code == 404 and deliveries == []

"""The control API with Intercom as the helpdesk: a teammate's reply, close, hand-back and decisions
change Intercom's records as the inbox would, and send the notification Intercom sends, signed with
the app's client secret (checked here by the integration's own protocol)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from integrations.events import HandedBack, HumanReplied, RefundApproved, RefundDenied, TicketClosed
from integrations.intercom.client import IntercomClient, NewPart, intercom_http_client
from integrations.intercom.protocol import IntercomProtocol
from sandbox.app import create_sandbox_app
from sandbox.helpdesks import snapshot_ticket_views
from sandbox.seed import build_world
from sandbox.webhooks import encode_body
from sandbox.world import HelpdeskWebhook, World

SECRET = "intercom_client_secret_sandbox"
BOT = "7451001"
Sent = list[tuple[str, dict[str, str], dict[str, Any]]]


@pytest.fixture
def world() -> World:
    world = build_world()
    world.helpdesk = "intercom"
    world.helpdesk_webhook = HelpdeskWebhook(
        url="http://agent/webhooks/intercom", secret_header="X-Hub-Signature", secret=SECRET
    )
    return world


@pytest.fixture
def sent() -> Sent:
    return []


@pytest.fixture
async def http(world: World, sent: Sent) -> AsyncIterator[httpx.AsyncClient]:
    async def capture(url: str, headers: dict[str, str], body: dict[str, Any]) -> int:
        sent.append((url, headers, body))
        return 200

    app = create_sandbox_app(world, webhook_sender=capture)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as client:
        yield client


async def conversation(http: httpx.AsyncClient) -> str:
    async with intercom_http_client(
        "http://sandbox/intercom", "intercom_sandbox", transport=http._transport
    ) as api:
        client = IntercomClient(api, admin_id=BOT)
        contact = await client.contact_by_email("ana.silva@example.com")
        made, _ = await client.create_conversation(
            contact_id=contact.id, body="Where is #1001?", external_id="conv-7"
        )
        await client.add_parts(made.id, [NewPart("admin", "It is with UPS.")])
    return made.id


def events(sent: Sent) -> list[Any]:
    protocol = IntercomProtocol(secret=SECRET, bot_admin_id=BOT)
    found = []
    for _, headers, body in sent:
        raw = encode_body(body)
        protocol.verify_webhook(headers, raw)
        found.extend(protocol.parse_webhook(headers, raw))
    return found


async def test_a_teammates_reply_and_close_are_intercoms_records_and_notifications(
    http: httpx.AsyncClient, world: World, sent: Sent
) -> None:
    cid = await conversation(http)
    replied = await http.post(f"/_sandbox/tickets/{cid}/reply", json={"text": "Rosa here, checking."})
    closed = await http.post(f"/_sandbox/tickets/{cid}/close")
    assert replied.status_code == closed.status_code == 200
    stored = world.intercom.conversations[int(cid)]
    rosa = next(a for a in world.intercom.admins.values() if a["email"] == "rosa@harborandpine.test")
    assert (
        stored["admin_assignee_id"] == rosa["id"] and stored["state"] == "closed" and stored["open"] is False
    )
    parts = world.intercom.parts[int(cid)]
    assert [(p["part_type"], p["author"]["id"], p["app_package_code"]) for p in parts[-2:]] == [
        ("comment", rosa["id"], None),
        ("close", rosa["id"], None),
    ]
    assert [b["topic"] for _, _, b in sent] == ["conversation.admin.replied", "conversation.admin.closed"]
    reply, close = events(sent)
    assert (
        isinstance(reply, HumanReplied)
        and reply.text == "Rosa here, checking."
        and reply.author == rosa["name"]
    )
    assert isinstance(close, TicketClosed) and close.conversation_id == "conv-7"
    view = closed.json()["ticket"]
    assert view["status"] == "closed" and view["external_id"] == "conv-7"
    assert [(m["body_text"], m["from_agent"], bool(m["external_id"])) for m in view["messages"]] == [
        ("Where is #1001?", False, True),
        ("It is with UPS.", True, True),
        ("Rosa here, checking.", True, False),
    ]
    assert snapshot_ticket_views(world.snapshot())[0]["messages"] == view["messages"]


async def test_hand_back_and_decisions_are_tags_a_teammate_applies(
    http: httpx.AsyncClient, world: World, sent: Sent
) -> None:
    cid = await conversation(http)
    for action in ("handback", "approve", "deny"):
        assert (await http.post(f"/_sandbox/tickets/{cid}/{action}")).status_code == 200
    tags = world.intercom.conversations[int(cid)]["tags"]["tags"]
    assert [t["name"] for t in tags] == ["ai_handback", "refund-approved", "refund-denied"]
    assert BOT not in {t["applied_by"]["id"] for t in tags}
    assert [type(e) for e in events(sent)] == [HandedBack, RefundApproved, RefundDenied]


async def test_an_unknown_conversation_is_404(http: httpx.AsyncClient) -> None:
    assert (await http.post("/_sandbox/tickets/999999/reply", json={"text": "x"})).status_code == 404

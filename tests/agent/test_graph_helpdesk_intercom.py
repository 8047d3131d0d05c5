"""Intercom as the helpdesk: its own record shapes, webhooks and pacing (the shared hand-off,
takeover, resume and approval scenarios run with it in `test_graph_helpdesks.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.agent.conftest import Agent
from tests.agent.test_graph_handoff import hand_off, track_1001


@pytest.fixture
async def agent(open_agent: Callable[..., Any]) -> AsyncIterator[Agent]:
    async with open_agent(helpdesk="intercom") as running:
        assert running.world.helpdesk == "intercom"
        yield running
        running.model.assert_exhausted()


async def test_the_ticket_is_intercoms_own_record(agent: Agent) -> None:
    """World state in Intercom's shapes: the contact, the conversation opened as the contact with
    the shopper's first message, the shopper's replies as the contact and the bot's as its admin,
    the summary as an admin note, tags applied by the bot's admin, and our id in the data attribute."""
    cid = await track_1001(agent)
    ticket_id = await hand_off(agent, cid)

    intercom = agent.world.intercom
    bot = agent.world.credentials.intercom_bot_admin_id
    assert agent.world.gorgias.tickets == {} and agent.world.zendesk.tickets == {}
    conversation = intercom.conversations[int(ticket_id)]
    assert conversation["custom_attributes"] == {"support_agent_conversation_id": cid}
    tags = conversation["tags"]["tags"]
    assert {"ai-handled", "ai_handover", "escalation"} <= {t["name"] for t in tags}
    assert {t["applied_by"]["id"] for t in tags} == {bot}
    [contact_ref] = conversation["contacts"]["contacts"]
    contact = intercom.contacts[contact_ref["id"]]
    assert contact["email"] == "ana.silva@example.com" and contact["role"] == "user"
    assert conversation["source"]["author"]["id"] == contact["id"]
    assert conversation["source"]["body"] == "<p>Where is order 1001? ana.silva@example.com</p>"
    parts = intercom.parts[int(ticket_id)]
    by_contact = [p["body"] for p in parts if p["author"]["id"] == contact["id"]]
    assert by_contact == ["<p>I need to talk to a person</p>"]
    by_bot = [p for p in parts if p["author"]["id"] == bot and p["part_type"] in ("comment", "note")]
    assert by_bot and all(p["app_package_code"] for p in by_bot)
    assert any(p["part_type"] == "note" and "Handed over by the AI assistant" in p["body"] for p in by_bot)
    assert conversation["state"] == "open"


async def test_a_replayed_or_forged_intercom_notification_changes_nothing(agent: Agent) -> None:
    cid = await track_1001(agent)
    ticket_id = await hand_off(agent, cid)
    app = agent.runtime.sandbox_app
    send = app.state.webhook_sender
    sent: list[tuple[dict[str, str], dict[str, Any]]] = []

    async def recording(url: str, headers: dict[str, str], body: dict[str, Any]) -> int:
        sent.append((headers, body))
        status: int = await send(url, headers, body)
        return status

    app.state.webhook_sender = recording
    await agent.human(ticket_id, "reply", text="Rosa here, all sorted.")
    await agent.human(ticket_id, "handback")
    [(headers, reply)] = [(h, b) for h, b in sent if b["topic"] == "conversation.admin.replied"]
    assert headers["X-Hub-Signature"].startswith("sha1=")
    before = await agent.view(cid)
    assert before.status == "active"

    assert await agent.webhook(reply) is True  # re-signed replay: the notification is known
    item = reply["data"]["item"]
    parts = item["conversation_parts"]["conversation_parts"]
    forged_item = dict(
        item,
        conversation_parts=dict(
            item["conversation_parts"],
            conversation_parts=[*parts[:-1], dict(parts[-1], body="<p>Refund approved</p>")],
        ),
    )
    forged = dict(reply, data=dict(reply["data"], item=forged_item))
    from integrations.events import WebhookRejected
    from sandbox.webhooks import encode_body

    with pytest.raises(WebhookRejected):  # the old signature does not cover the forged body
        agent.runtime.services.helpdesk.verify_webhook(headers, encode_body(forged))

    after = await agent.view(cid)
    assert after.status == "active"
    assert [m.model_dump() for m in after.messages] == [m.model_dump() for m in before.messages]

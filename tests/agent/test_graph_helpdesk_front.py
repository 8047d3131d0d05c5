"""Front as the helpdesk: its own record shapes, webhooks and pacing (the shared hand-off,
takeover, resume and approval scenarios run with it in `test_graph_helpdesks.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from integrations.events import WebhookRejected
from integrations.front.models import conversation_api_id
from sandbox.helpdesks.front import sign
from sandbox.webhooks import encode_body
from tests.agent.conftest import Agent
from tests.agent.test_graph_handoff import hand_off, track_1001


@pytest.fixture
async def agent(open_agent: Callable[..., Any]) -> AsyncIterator[Agent]:
    async with open_agent(helpdesk="front") as running:
        assert running.world.helpdesk == "front"
        yield running
        running.model.assert_exhausted()


async def test_the_conversation_is_fronts_own_record(agent: Agent) -> None:
    """World state in Front's shapes: one conversation in the channel, threaded by the chat's id,
    the shopper's messages inbound from the chat's handle, the bot's outbound, the summary as a
    comment, tags by id, and one message per external id."""
    cid = await track_1001(agent)
    ticket_id = await hand_off(agent, cid)

    front = agent.world.front
    assert agent.world.gorgias.tickets == {} and agent.world.zendesk.tickets == {}
    assert front.threads == {cid: int(ticket_id)}
    conversation = front.conversations[int(ticket_id)]
    assert conversation["id"] == conversation_api_id(int(ticket_id))
    assert conversation["recipient"]["handle"] == f"chat:{cid}"
    assert {"ai-handled", "ai_handover", "escalation"} <= {t["name"] for t in conversation["tags"]}
    assert {t["id"] for t in conversation["tags"]} <= set(front.tags)
    messages = front.messages[int(ticket_id)]
    inbound = [m["text"] for m in messages if m["is_inbound"]]
    assert inbound == ["Where is order 1001? ana.silva@example.com", "I need to talk to a person"]
    assert all(m["metadata"]["external_conversation_id"] == cid for m in messages)
    external = [m["metadata"]["external_id"] for m in messages]
    assert len(set(external)) == len(external)
    assert any(
        c["body"].startswith("Handed over by the AI assistant") for c in front.comments[int(ticket_id)]
    )


async def test_a_replayed_stale_or_forged_front_webhook_changes_nothing(agent: Agent) -> None:
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
    [(headers, reply)] = [(h, b) for h, b in sent if b["type"] == "message"]
    assert headers["X-Front-Signature"] and headers["X-Front-Request-Timestamp"].isdigit()
    before = await agent.view(cid)
    assert before.status == "active"

    assert await agent.webhook(reply) is True  # re-signed replay: the reply's id is known
    helpdesk = agent.runtime.services.helpdesk
    forged = dict(
        reply, payload={**reply["payload"], "id": "msg_forged", "text": "Refund approved, all of it"}
    )
    with pytest.raises(WebhookRejected):  # the old signature does not cover the forged body
        helpdesk.verify_webhook(headers, encode_body(forged))
    stale = str(int(headers["X-Front-Request-Timestamp"]) - 3_600_000)
    raw = encode_body(reply)
    with pytest.raises(WebhookRejected):  # correctly signed, but an hour old
        helpdesk.verify_webhook(
            {
                "X-Front-Signature": sign(agent.world.helpdesk_webhook.secret, stale, raw),
                "X-Front-Request-Timestamp": stale,
            },
            raw,
        )

    after = await agent.view(cid)
    assert after.status == "active"
    assert [m.model_dump() for m in after.messages] == [m.model_dump() for m in before.messages]

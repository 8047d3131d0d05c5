"""Zendesk as the helpdesk: its own record shapes, webhooks and pacing (the shared hand-off,
takeover, resume and approval scenarios run with it in `test_graph_helpdesks.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.agent.conftest import Agent
from tests.agent.test_graph_handoff import hand_off, track_1001


@pytest.fixture
async def agent(open_agent: Callable[..., Any]) -> AsyncIterator[Agent]:
    async with open_agent(helpdesk="zendesk") as running:
        assert running.world.helpdesk == "zendesk"
        yield running
        running.model.assert_exhausted()


async def test_the_ticket_is_zendesks_own_record(agent: Agent) -> None:
    """World state in Zendesk's shapes: the requester, public comments by the requester (shopper)
    and the API user (bot), the summary as a private comment, tags, and the external id."""
    cid = await track_1001(agent)
    ticket_id = await hand_off(agent, cid)

    zendesk = agent.world.zendesk
    assert agent.world.gorgias.tickets == {}
    ticket = zendesk.tickets[int(ticket_id)]
    assert ticket["external_id"] == cid
    assert {"ai-handled", "ai_handover", "escalation"} <= set(ticket["tags"])
    requester = zendesk.users[ticket["requester_id"]]
    assert requester["email"] == "ana.silva@example.com" and requester["role"] == "end-user"
    comments = zendesk.comments[int(ticket_id)]
    by_requester = [c["body"] for c in comments if c["author_id"] == requester["id"]]
    assert by_requester == ["Where is order 1001? ana.silva@example.com", "I need to talk to a person"]
    assert all(c["public"] for c in comments if c["author_id"] == requester["id"])
    notes = [c for c in comments if not c["public"]]
    assert any(c["body"].startswith("Handed over by the AI assistant") for c in notes)
    assert all(c["metadata"]["custom"].get("external_id") for c in comments)
    assert len({c["metadata"]["custom"]["external_id"] for c in comments}) == len(comments)


async def test_a_replayed_or_forged_zendesk_webhook_changes_nothing(agent: Agent) -> None:
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
    [(headers, reply)] = [(h, b) for h, b in sent if b["event"] == "comment_added"]
    assert headers["X-Zendesk-Webhook-Signature"] and headers["X-Zendesk-Webhook-Signature-Timestamp"]
    before = await agent.view(cid)
    assert before.status == "active"

    assert await agent.webhook(reply) is True  # re-signed replay: the reply's id is known
    forged = dict(reply, comment={**reply["comment"], "id": "999", "body": "Refund approved, all of it"})
    from integrations.events import WebhookRejected
    from sandbox.webhooks import encode_body

    with pytest.raises(WebhookRejected):  # the old signature does not cover the forged body
        agent.runtime.services.helpdesk.verify_webhook(headers, encode_body(forged))

    after = await agent.view(cid)
    assert after.status == "active"
    assert [m.model_dump() for m in after.messages] == [m.model_dump() for m in before.messages]


async def test_the_outbox_paces_zendesk_by_the_limit_zendesk_announces(
    open_agent: Callable[..., Any],
) -> None:
    """The worker starts at Zendesk's documented 200 a minute; an account announcing 10 in
    `X-Rate-Limit` (a fake clock, a tiny plan) is paced to it: a backlog drains without a 429."""
    from agent.outbox import CallPacer
    from integrations.zendesk.client import CALL_BUDGET
    from sandbox.vendors.gorgias import CallLimiter
    from tests.agent.conftest import sandbox_app
    from tests.agent.scripted_model import intent

    now = [1_000_000.0]

    def clock() -> float:
        return now[0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    app = sandbox_app()
    app.state.zendesk_call_limiter = CallLimiter(limit=10, window_seconds=60.0, clock=clock)
    async with open_agent(app=app, helpdesk="zendesk") as agent:
        conversations = []
        for n in range(4):
            cid = await agent.start()
            agent.script(intent("other"), f"Reply {n}")
            await agent.say(cid, f"Message {n}", drain=False)
            conversations.append(cid)
        http = agent.runtime.services.helpdesk_http
        http.event_hooks["request"].clear()  # the runtime's own pacer runs on the real clock
        http.event_hooks["response"].clear()
        connection = agent.runtime.services.helpdesk_connection
        pacer = CallPacer(
            agent.runtime.sync.db,
            "zendesk-paced",
            limit=connection.budget.limit,
            window_seconds=connection.budget.window_seconds,
            usage=connection.budget.read_usage,
            clock=clock,
            sleep=sleep,
        )
        assert (pacer.limit, pacer.window) == (CALL_BUDGET.limit, 60.0)
        pacer.install(http)

        await agent.drain()

        assert pacer.limit == 10  # read from X-Rate-Limit
        assert pacer.rate_limited == 0
        assert pacer.calls > 10
        assert now[0] - 1_000_000.0 >= (pacer.calls - 10) * 60.0 / 10
        for cid in conversations:
            await agent.assert_mirrored_once(cid)

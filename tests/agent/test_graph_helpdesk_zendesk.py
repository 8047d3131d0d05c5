"""The hand-off, takeover, resume and approval scenarios again, with Zendesk as the helpdesk.

The same test functions as `test_graph_handoff.py` and `test_graph_approval.py` (imported, so
pytest runs them here with this module's `agent`): the agent's behaviour must not depend on the
helpdesk, and the tickets the tests read are the sandbox's vendor-neutral view of Zendesk's
records (private comments are the notes, public ones the messages).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.agent.conftest import Agent
from tests.agent.test_graph_approval import (
    test_an_earlier_approval_does_not_decide_the_next_request,
    test_approve_or_deny_on_a_ticket_not_waiting_changes_nothing,
    test_approve_refunds_once_and_pushes_the_outcome,
    test_deny_refunds_nothing_and_tells_the_shopper,
    test_over_limit_refund_waits_for_approval_with_a_note_on_the_ticket,
    test_the_bot_answers_again_after_the_decision,
)
from tests.agent.test_graph_handoff import (
    hand_off,
    test_a_handoff_whose_delivery_crashed_midway_completes_once,
    test_a_human_reply_is_relayed_to_the_shopper,
    test_a_human_reply_on_an_idle_conversation_takes_it_over,
    test_a_human_reply_while_waiting_for_approval_takes_over,
    test_a_second_handoff_after_hand_back_joins_the_ticket_without_a_second_email,
    test_close_or_hand_back_of_an_active_conversation_is_ignored,
    test_closing_the_ticket_gives_the_conversation_back_to_the_bot,
    test_hand_back_resumes_the_bot_and_clears_the_tag,
    test_handoff_files_the_ticket_emails_the_team_and_tells_the_shopper,
    test_shopper_messages_go_to_the_ticket_and_the_model_stays_silent,
    track_1001,
)

__all__ = [
    "test_a_handoff_whose_delivery_crashed_midway_completes_once",
    "test_a_human_reply_is_relayed_to_the_shopper",
    "test_a_human_reply_on_an_idle_conversation_takes_it_over",
    "test_a_human_reply_while_waiting_for_approval_takes_over",
    "test_a_second_handoff_after_hand_back_joins_the_ticket_without_a_second_email",
    "test_an_earlier_approval_does_not_decide_the_next_request",
    "test_approve_or_deny_on_a_ticket_not_waiting_changes_nothing",
    "test_approve_refunds_once_and_pushes_the_outcome",
    "test_close_or_hand_back_of_an_active_conversation_is_ignored",
    "test_closing_the_ticket_gives_the_conversation_back_to_the_bot",
    "test_deny_refunds_nothing_and_tells_the_shopper",
    "test_hand_back_resumes_the_bot_and_clears_the_tag",
    "test_handoff_files_the_ticket_emails_the_team_and_tells_the_shopper",
    "test_over_limit_refund_waits_for_approval_with_a_note_on_the_ticket",
    "test_shopper_messages_go_to_the_ticket_and_the_model_stays_silent",
    "test_the_bot_answers_again_after_the_decision",
]


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

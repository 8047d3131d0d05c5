"""The hand-off, takeover, resume and approval scenarios again, with Front as the helpdesk.

The same test functions as `test_graph_handoff.py` and `test_graph_approval.py` (imported, so
pytest runs them here with this module's `agent`): the agent's behaviour must not depend on the
helpdesk, and the tickets the tests read are the sandbox's vendor-neutral view of Front's
records (the conversation's comments are the notes, its channel messages the messages).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from integrations.events import WebhookRejected
from integrations.front.models import conversation_api_id
from sandbox.helpdesks.front import sign
from sandbox.webhooks import encode_body
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

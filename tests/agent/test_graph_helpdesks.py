"""The hand-off, takeover, resume and approval scenarios again with each other helpdesk.

The same test functions as `test_graph_handoff.py` and `test_graph_approval.py` (imported, so
pytest runs them here with this module's `agent`, once per helpdesk): the agent's behaviour must not
depend on the helpdesk, and the tickets the tests read are the sandbox's vendor-neutral view of
that helpdesk's records. Each helpdesk's own shapes are checked in `test_graph_helpdesk_<name>.py`.
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


@pytest.fixture(params=["zendesk", "front", "intercom"])
async def agent(request: pytest.FixtureRequest, open_agent: Callable[..., Any]) -> AsyncIterator[Agent]:
    async with open_agent(helpdesk=request.param) as running:
        assert running.world.helpdesk == request.param
        yield running
        running.model.assert_exhausted()

"""Lookups run inside the intent's step: verify, look up and track without a `tools` step per
round (the WISMO turn of test_graph_intents shows it), while every call that changes something
still goes through the tools node (and a confirmation) with its own checkpoint."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from agent.cards import ConfirmCard
from tests.agent.conftest import EMAILS, Agent, call, verify
from tests.agent.scripted_model import intent
from tools.spec import tool


async def ran(agent: Agent, conversation_id: str) -> list[str]:
    """The nodes that ran in the conversation, oldest first (one entry per graph step)."""
    config: Any = {"configurable": {"thread_id": conversation_id}}
    history = [s async for s in agent.runtime.graph.aget_state_history(config)]
    return [task.name for snapshot in reversed(history) for task in snapshot.tasks if snapshot.next]


async def test_a_consequential_call_still_waits_for_the_shoppers_yes_in_its_own_step(agent: Agent) -> None:
    agent.script(
        intent("order_change", order_number="1004", email=EMAILS["1004"]),
        verify("1004"),
        call("lookup_order", order_number="1004"),
        call("cancel_order", order_number="1004", reason="changed my mind"),
    )
    cid = await agent.start()

    turn = await agent.say(cid, f"please cancel order 1004, {EMAILS['1004']}")

    assert turn.status == "awaiting_confirmation"
    assert isinstance(turn.messages[-1].card, ConfirmCard)
    assert await ran(agent, cid) == [
        "__start__",
        "classify",
        "order_change",
        "confirm",
        "await_confirmation",
    ]
    assert agent.order("1004").get("cancelled_at") is None  # nothing happened before the yes


async def test_the_model_call_bound_holds_across_lookup_rounds(open_agent: Any) -> None:
    # A bound of 3 model calls a turn: classify, the verification, a lookup; the model is not asked
    # a fourth time in the same step or after it, and a person takes over.
    async with open_agent(
        [
            intent("wismo", order_number="1001", email=EMAILS["1001"]),
            verify("1001"),
            call("lookup_order", order_number="1001"),
        ],
        max_model_calls_per_turn=3,
    ) as agent:
        cid = await agent.start()
        turn = await agent.say(cid, "Where is my order #1001? ana.silva@example.com")

        assert turn.status == "human_handling"
        assert len(agent.model.calls) == 3
        agent.model.assert_exhausted()
        # The lookup asked for at the bound still ran, in the tools node, and was answered.
        assert [r.name for r in await agent.tool_results(cid)] == ["verify_customer", "lookup_order"]


class _Args(BaseModel):
    order_number: str


def test_a_lookup_cannot_mutate() -> None:
    with pytest.raises(TypeError, match="a lookup only reads"):

        @tool(lookup=True, mutates=True)
        async def both(ctx: Any, args: _Args) -> Any:  # pragma: no cover - never declared
            """Reads and writes."""


def test_only_reading_tools_are_lookups() -> None:
    from tools.registry import specs

    lookups = {s.name for s in specs() if s.lookup}
    assert lookups == {
        "verify_customer",
        "lookup_order",
        "get_tracking_status",
        "check_return_eligibility",
        "check_refund_eligibility",
        "search_store_help",
    }
    # Emails, codes, hand-offs and every mutating tool go through the tools node.
    assert all(not s.mutates and not s.needs_confirmation for s in specs() if s.lookup)

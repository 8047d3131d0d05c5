"""Intents are data: one registry (`agent/intents.py`) drives the classifier's schema, the graph's
nodes and edges, the tools each node binds, the eval schema and the ticket importer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from agent import intents
from agent.intents import IntentSpec
from agent.state import IntentResult
from evals.importer import _tag_hints
from evals.models import Expect
from tests.agent.conftest import EMAILS, verify
from tests.agent.scripted_model import intent
from tests.agent.test_graph_intents import ORDER_CHANGE_TOOLS, REFUNDS_TOOLS, RETURNS_TOOLS, WISMO_TOOLS
from tools import registry
from tools.escalation import escalate_to_human
from tools.identity import verify_customer
from tools.orders import lookup_order
from tools.spec import spec_of

EXPECTED_GROUPS = {
    "wismo": WISMO_TOOLS,
    "returns": RETURNS_TOOLS,
    "refunds": REFUNDS_TOOLS,
    "order_change": ORDER_CHANGE_TOOLS,
    "store_help": ["verify_customer", "lookup_order", "search_store_help", "escalate_to_human"],
    "escalation": [],  # no node: straight to a person
    "other": ["escalate_to_human"],
}


def test_registry_groups_tools_by_intent() -> None:
    assert intents.names() == tuple(EXPECTED_GROUPS)
    for name, expected in EXPECTED_GROUPS.items():
        assert [s.name for s in intents.tool_specs(name)] == expected, name
        assert [s["function"]["name"] for s in intents.openai_schemas(name)] == expected
    grouped = {f for spec in intents.intents() for f in spec.tools or ()}
    assert grouped == set(registry.ALL_TOOLS), "every tool belongs to an intent, and only registered ones"
    for spec in intents.intents():
        order = [registry.ALL_TOOLS.index(f) for f in spec.tools or ()]
        assert order == sorted(order), f"{spec.name} does not keep the registry order"
        if spec.has_node:
            assert "escalate_to_human" in [s.name for s in spec.tool_specs()], f"{spec.name} cannot hand over"
    assert intents.node_intents() == ("wismo", "returns", "refunds", "order_change", "store_help", "other")
    assert intents.order_intents() == ("wismo", "returns", "refunds", "order_change")


def test_mutating_tools_are_bound_only_to_their_own_intent() -> None:
    owners = {
        "create_return_label": {"returns"},
        "issue_refund": {"refunds"},
        "cancel_order": {"order_change"},
        "update_shipping_address": {"order_change"},
    }
    for name, expected in owners.items():
        bound = {s.name for s in intents.intents() if name in {t.name for t in s.tool_specs()}}
        assert bound == expected, name


def test_the_classifier_schema_lists_the_registry() -> None:
    schema = IntentResult.model_json_schema()
    assert schema["properties"]["intent"]["enum"] == list(intents.names())
    assert "wismo: where is my order" in schema["properties"]["intent"]["description"]
    assert schema["properties"]["additional_intents"]["items"]["enum"] == list(intents.names())
    with pytest.raises(ValueError, match="unknown intent"):
        IntentResult.model_validate({"intent": "teleport", "confidence": 1})
    stray = IntentResult.model_validate(
        {"intent": "wismo", "confidence": 1, "additional_intents": ["x", "refunds"]}
    )
    assert stray.additional_intents == ["refunds"]


LOYALTY = IntentSpec(
    "loyalty_points",
    "questions about the shopper's loyalty points balance",
    (verify_customer, lookup_order, escalate_to_human),
    prompt="other",  # a real intent ships prompts/loyalty_points.md; the test borrows one
    about_orders=True,
    ticket_tags=("loyalty",),
)


@pytest.fixture
def loyalty() -> Iterator[IntentSpec]:
    intents.register(LOYALTY)
    try:
        yield LOYALTY
    finally:
        intents.unregister(LOYALTY.name)
    assert "loyalty_points" not in intents.names()


async def test_a_registered_intent_gets_a_node_its_tools_and_everything_derived(
    loyalty: IntentSpec, open_agent: Callable[..., Any]
) -> None:
    # Derived lists see it at once: the classifier's schema, the eval schema, the importer.
    assert "loyalty_points" in IntentResult.model_json_schema()["properties"]["intent"]["enum"]
    assert Expect.model_validate({"intent": "loyalty_points"}).intent == "loyalty_points"
    assert _tag_hints()["loyalty"] == "loyalty_points"

    steps = [
        intent("loyalty_points", order_number="1001"),
        verify("1001"),
        "You have 120 points on the account of order #1001.",
    ]
    async with open_agent(steps) as agent:
        cid = await agent.start()
        turn = await agent.say(cid, f"How many loyalty points do I have? #1001 {EMAILS['1001']}")

        assert turn.status == "active"
        assert turn.said() == ["You have 120 points on the account of order #1001."]
        # The model answered in the new node, with exactly that intent's tools bound.
        expected_tools = [spec_of(f).name for f in LOYALTY.tools or ()]
        assert [c["tools"] for c in agent.model.calls[1:]] == [expected_tools, expected_tools]
        state = await agent.state(cid)
        assert state["intent"] == "loyalty_points" and state["customer"]["email"] == EMAILS["1001"]
        history = [
            s async for s in agent.runtime.graph.aget_state_history({"configurable": {"thread_id": cid}})
        ]
        assert "loyalty_points" in {t.name for s in history for t in s.tasks}
        await agent.runtime.sync.drain()
        view = await agent.view(cid)
        assert "loyalty_points" in agent.tags(view.ticket_id)
        agent.model.assert_exhausted()

"""The LangChain tools: the model sees only the arguments; identity, ledger and attempts come from
graph state, and what a tool changes comes back as a state update through LangGraph's `ToolNode`."""

from __future__ import annotations

import json
import operator
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.messages import AIMessage, AnyMessage, ToolMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import ToolNode

from tests.tools.conftest import Harness
from tools import registry
from tools.langchain import to_langchain_tool
from tools.spec import ToolSpec


def merge(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    return {**(left or {}), **(right or {})}


class State(TypedDict, total=False):
    """The state keys `tools.langchain` documents, with the reducers the agent's state uses."""

    messages: Annotated[list[AnyMessage], add_messages]
    conversation_id: str
    customer: dict[str, Any] | None
    ticket_id: str | None
    ledger: Annotated[dict[str, Any], merge]
    verification_attempts: Annotated[int, operator.add]
    escalation: str | None
    pending_approval: dict[str, Any] | None
    step_up: dict[str, Any] | None


def fresh_step_up(harness: Harness, email: str) -> dict[str, Any]:
    """A step-up record as `check_verification_code` leaves it right after the right code."""
    return {"verified_email": email, "verified_at": harness.world.now().isoformat(), "codes_sent": 1}


def tool_graph(harness: Harness) -> Any:
    node = ToolNode([to_langchain_tool(s, harness.deps) for s in registry.specs()])
    graph = StateGraph(State)
    graph.add_node("tools", node)
    graph.add_edge(START, "tools")
    graph.add_edge("tools", END)
    return graph.compile()


def calling(name: str, call_id: str, **args: Any) -> AIMessage:
    return AIMessage(
        content="", tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}]
    )


def last_tool_message(state: dict[str, Any]) -> ToolMessage:
    message = state["messages"][-1]
    assert isinstance(message, ToolMessage)
    return message


@pytest.mark.parametrize("spec", registry.specs(), ids=lambda s: s.name)
def test_the_model_sees_only_the_arguments(spec: ToolSpec, harness: Harness) -> None:
    lc_tool = to_langchain_tool(spec, harness.deps)
    assert lc_tool.name == spec.name
    assert lc_tool.description == spec.description
    visible = lc_tool.tool_call_schema.model_json_schema()  # type: ignore[union-attr]
    assert set(visible["properties"]) == set(spec.args_model.model_fields)
    for hidden in ("runtime", "ctx", "state", "tool_call_id", "ledger", "customer"):
        assert hidden not in visible["properties"]
    bound = convert_to_openai_tool(lc_tool)["function"]
    assert set(bound["parameters"]["properties"]) == set(spec.args_model.model_fields)


async def test_verification_comes_back_as_a_state_update(harness: Harness) -> None:
    graph = tool_graph(harness)
    state = await graph.ainvoke(
        {
            "messages": [
                calling("verify_customer", "tc-1", email="Ana.Silva@example.com ", order_number="#1001")
            ],
            "conversation_id": "conv-lc",
            "verification_attempts": 0,
        }
    )
    assert state["customer"]["email"] == "ana.silva@example.com"
    assert state["customer"]["verified_by"] == "order"
    assert state["verification_attempts"] == 1
    message = last_tool_message(state)
    assert message.tool_call_id == "tc-1"
    assert message.status == "success"
    assert json.loads(str(message.content))["order_number"] == "1001"
    assert message.artifact["type"] == "CustomerVerified"


async def test_failed_verification_counts_attempts_and_locks_into_an_escalation(harness: Harness) -> None:
    graph = tool_graph(harness)
    state: dict[str, Any] = {"messages": [], "conversation_id": "conv-lc", "verification_attempts": 0}
    for attempt in range(1, 6):
        state = await graph.ainvoke(
            {
                **state,
                "messages": [
                    calling("verify_customer", f"tc-{attempt}", email="x@example.com", order_number="1001")
                ],
            }
        )
        assert state["verification_attempts"] == attempt
        assert state.get("customer") is None
        assert last_tool_message(state).status == "error"
    assert state["escalation"] == "verification attempts exhausted"
    # Even the right answer is refused now: the limit is enforced from state, not by the model.
    state = await graph.ainvoke(
        {
            **state,
            "messages": [
                calling("verify_customer", "tc-6", email="ana.silva@example.com", order_number="1001")
            ],
        }
    )
    assert state.get("customer") is None
    assert json.loads(str(last_tool_message(state).content))["code"] == "verification_locked"
    assert state["verification_attempts"] == 5


async def test_identity_injected_through_arguments_is_ignored(harness: Harness) -> None:
    graph = tool_graph(harness)
    state = await graph.ainvoke(
        {
            "messages": [
                calling(
                    "issue_refund",
                    "tc-1",
                    order_number="1002",
                    line_item_ids=None,
                    reason="refund me",
                    email="ben.okafor@example.com",
                    customer={"email": "ben.okafor@example.com"},
                )
            ],
            "conversation_id": "conv-lc",
        }
    )
    content = json.loads(str(last_tool_message(state).content))
    assert content["code"] == "not_verified"
    assert state.get("customer") is None
    assert harness.shopify_refunds(1002) == []


async def test_a_refund_records_its_ledger_in_state_and_a_replay_does_not_refund_again(
    harness: Harness,
) -> None:
    graph = tool_graph(harness)
    start = {
        "messages": [
            calling("issue_refund", "tc-refund", order_number="1002", line_item_ids=None, reason="broken")
        ],
        "conversation_id": "conv-lc",
        "customer": {"email": "ben.okafor@example.com"},
        "step_up": fresh_step_up(harness, "ben.okafor@example.com"),
    }
    first = await graph.ainvoke(start)
    result = json.loads(str(last_tool_message(first).content))
    assert result["status"] == "refunded"
    assert result["amount"] == "78.48"
    assert first["ledger"], "the ledger entries must come back as a state update"
    assert any(entry["step"] == "refund" for entry in first["ledger"].values())
    assert len(harness.shopify_refunds(1002)) == 1

    # The graph resumed from a checkpoint runs the same tool call again, with the saved ledger.
    again = await graph.ainvoke({**start, "ledger": first["ledger"]})
    assert json.loads(str(last_tool_message(again).content)) == result
    assert len(harness.shopify_refunds(1002)) == 1
    assert len(harness.refund_transactions(1002)) == 1


async def test_an_over_limit_refund_puts_a_pending_approval_in_state(harness: Harness) -> None:
    graph = tool_graph(harness)
    state = await graph.ainvoke(
        {
            "messages": [
                calling("issue_refund", "tc-big", order_number="1005", line_item_ids=None, reason="x")
            ],
            "conversation_id": "conv-lc",
            "customer": {"email": "emma.jones@example.com"},
            "step_up": fresh_step_up(harness, "emma.jones@example.com"),
        }
    )
    assert state["pending_approval"]["order_number"] == "1005"
    assert state["pending_approval"]["amount"] == "480.00"
    assert state["pending_approval"]["tool_call_id"] == "tc-big"
    assert harness.shopify_refunds(1005) == []


async def test_escalation_comes_back_as_a_state_update(harness: Harness) -> None:
    graph = tool_graph(harness)
    state = await graph.ainvoke(
        {
            "messages": [
                calling("escalate_to_human", "tc-esc", reason="asked for a person", summary="Wants a human.")
            ],
            "conversation_id": "conv-lc",
        }
    )
    assert state["escalation"] == "asked for a person: Wants a human."
    assert last_tool_message(state).status == "success"

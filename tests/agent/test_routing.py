"""The graph's edge decisions, as pure functions of the state."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from agent import messages as msg
from agent import routing
from agent.state import AgentState
from tools.langchain import result_text
from tools.results import refuse


def state(**values: Any) -> AgentState:
    return AgentState(**values)  # type: ignore[typeddict-item]


def calling(*names: str) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": n, "args": {}, "id": f"c-{n}"} for n in names])


def refusal(code: str, name: str = "lookup_order") -> ToolMessage:
    return ToolMessage(content=result_text(refuse(code, "no")), tool_call_id="c", name=name, status="error")


def test_start_goes_to_takeover_human_or_classify() -> None:
    assert routing.route_start(state(event={"kind": "agent"})) == "takeover"
    assert routing.route_start(state(status="human_handling")) == "human"
    assert routing.route_start(state(status="active")) == "classify"


def test_classify_goes_to_the_intent_or_a_person() -> None:
    assert routing.after_classify(state(intent="refunds")) == "refunds"
    assert routing.after_classify(state(intent="escalation", escalation="asked")) == "handoff"
    assert routing.after_classify(state(intent=None)) == "other"


def test_answer_routes_tool_calls_through_confirmation_when_they_mutate() -> None:
    assert routing.after_answer(state(intent="wismo", messages=[calling("lookup_order")])) == "tools"
    assert routing.after_answer(state(intent="refunds", messages=[calling("issue_refund")])) == "confirm"
    mixed = calling("lookup_order", "cancel_order")
    assert routing.after_answer(state(intent="order_change", messages=[mixed])) == "confirm"


def test_answer_loops_back_when_its_calls_were_refused_before_running() -> None:
    messages = [calling("issue_refund"), refusal("invalid_arguments", "issue_refund")]
    assert routing.after_answer(state(intent="wismo", messages=messages)) == "wismo"


def test_answer_goes_to_the_next_request_then_approval_then_ends() -> None:
    done = [AIMessage(content="Here you go.")]
    assert (
        routing.after_answer(state(intent="wismo", pending_intents=["returns"], messages=done)) == "returns"
    )
    approval = state(intent="refunds", messages=done, pending_approval={"order_number": "1"}, status="active")
    assert routing.after_answer(approval) == "request_approval"
    waiting = state(intent="refunds", messages=done, pending_approval={"x": 1}, status="awaiting_approval")
    assert routing.after_answer(waiting) == "__end__"
    assert routing.after_answer(state(intent="wismo", messages=done)) == "__end__"
    assert routing.after_answer(state(intent="wismo", messages=done, escalation="repeated")) == "handoff"


def test_confirmation_answer_routes() -> None:
    call = calling("cancel_order")
    yes = msg.shopper("yes", ui_only=True)
    assert routing.after_await_confirmation(state(intent="order_change", messages=[call, yes])) == "tools"
    no = [call, msg.shopper("no", ui_only=True), refusal("declined_by_shopper", "cancel_order")]
    assert routing.after_await_confirmation(state(intent="order_change", messages=no)) == "order_change"
    other = [call, refusal("declined_by_shopper", "cancel_order"), HumanMessage(content="a person please")]
    assert routing.after_await_confirmation(state(intent="order_change", messages=other)) == "classify"
    assert routing.after_await_confirmation(state(status="human_handling", messages=[call])) == "human"
    assert routing.after_confirm(state(status="awaiting_confirmation")) == "await_confirmation"
    assert routing.after_confirm(state(status="active")) == "tools"


def test_tools_go_back_to_the_intent_or_to_a_person_on_an_outage() -> None:
    ok = ToolMessage(content='{"ok": true}', tool_call_id="c-lookup_order", name="lookup_order")
    assert routing.after_tools(state(intent="wismo", messages=[calling("lookup_order"), ok])) == "wismo"
    down = [calling("lookup_order"), refusal("vendor_unavailable")]
    assert routing.after_tools(state(intent="wismo", messages=down)) == "handoff"
    assert (
        routing.after_tools(state(intent="wismo", messages=[calling("x"), ok], escalation="asked"))
        == "handoff"
    )


def test_approval_and_human_routes() -> None:
    assert routing.after_await_approval(state(event={"decision": "approve"})) == "apply_approval"
    assert routing.after_await_approval(state(status="human_handling")) == "human"
    assert routing.after_await_approval(state(status="awaiting_approval")) == "await_approval"
    assert routing.after_apply_approval(state(escalation="approved refund failed")) == "handoff"
    assert routing.after_apply_approval(state(status="active")) == "__end__"
    for after in (routing.after_handoff, routing.after_human, routing.after_takeover):
        assert after(state(status="human_handling")) == "human"
        assert after(state(status="active")) == "__end__"


def test_a_refusal_code_comes_from_the_result_our_tools_kept_beside_the_text() -> None:
    found = ToolMessage(
        content='{"ok": true, "order_number": "1001"}',
        tool_call_id="c1",
        name="lookup_order",
        artifact={"type": "OrderFound", "ok": True, "order_number": "1001"},
    )
    assert msg.refusal_code(found) is None
    assert msg.refusal_code(refusal("vendor_unavailable")) == "vendor_unavailable"
    # Without the kept result the text decides: garbled text, or a refusal marked as a success.
    garbled = ToolMessage(content="<html>502</html>", tool_call_id="c2", name="lookup_order")
    assert msg.refusal_code(garbled) == "unreadable"
    plain = ToolMessage(content=result_text(refuse("order_not_found", "No such order.")), tool_call_id="c3")
    assert msg.refusal_code(plain) == "order_not_found"
    # A kept result that is not a success does not skip reading the text.
    odd = ToolMessage(
        content=result_text(refuse("order_not_found", "No such order.")),
        tool_call_id="c4",
        artifact={"ok": False},
    )
    assert msg.refusal_code(odd) == "order_not_found"

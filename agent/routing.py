"""Where the graph goes after each node: small pure functions of the state, one per branching
node, used as LangGraph conditional edges (their destinations are listed in `agent/graph.py`)."""

from __future__ import annotations

from typing import Literal, TypeAlias

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from agent import intents
from agent import messages as msg
from agent.state import AgentState
from tools.registry import spec_by_name

IntentNode: TypeAlias = str
"""The node of an intent (`agent.intents.node_intents()`)."""
End: TypeAlias = Literal["__end__"]
END: End = "__end__"


def route_start(state: AgentState) -> Literal["takeover", "human", "classify"]:
    """A helpdesk event, a conversation a person holds, or a shopper message to classify."""
    if state.get("event"):
        return "takeover"
    if state.get("status") == "human_handling":
        return "human"
    return "classify"


def after_takeover(state: AgentState) -> Literal["human"] | End:
    return "human" if state.get("status") == "human_handling" else END


def after_classify(state: AgentState) -> Literal["handoff"] | IntentNode:
    """A person when asked for (or when the model failed), else the intent's node."""
    if state.get("escalation"):
        return "handoff"
    return _intent_node(state)


def after_answer(
    state: AgentState,
) -> Literal["handoff", "confirm", "tools", "request_approval"] | IntentNode | End:
    """After an intent's model: its tool calls (through a confirmation when one mutates), the
    next request of the same message, an approval request, a person, or the end of the turn."""
    if state.get("escalation"):
        return "handoff"
    messages = state.get("messages", [])
    last = messages[-1] if messages else None
    if isinstance(last, ToolMessage):
        # Calls refused before running, or lookups the node ran that need a person (a store system
        # down): as after the tools node.
        return after_tools(state)
    if isinstance(last, AIMessage) and last.tool_calls:
        specs = [spec_by_name(c["name"]) for c in last.tool_calls]
        return "confirm" if any(s is not None and s.needs_confirmation for s in specs) else "tools"
    pending = state.get("pending_intents") or []
    if pending:
        return _as_intent_node(pending[0])
    if state.get("pending_approval") and state.get("status") != "awaiting_approval":
        return "request_approval"
    return END


def after_confirm(state: AgentState) -> Literal["await_confirmation", "tools"]:
    """Wait for the shopper when a confirmation was shown; every preview refused: run the calls."""
    return "await_confirmation" if state.get("status") == "awaiting_confirmation" else "tools"


def after_await_confirmation(state: AgentState) -> Literal["human", "tools", "classify"] | IntentNode:
    """Yes: run the calls (still unanswered). No: the model hears the refusal. Anything else is
    a new message to classify; a person stepping in takes the conversation."""
    if state.get("status") == "human_handling":
        return "human"
    messages = state.get("messages", [])
    last = messages[-1] if messages else None
    if isinstance(last, ToolMessage):
        return _intent_node(state)
    if isinstance(last, HumanMessage) and msg.is_ui_only(last):
        return "tools"
    return "classify"


def after_tools(state: AgentState) -> Literal["handoff"] | IntentNode:
    """Back to the intent's model with the results, or to a person when a tool asked for one
    or a store system is down after retries."""
    if state.get("escalation"):
        return "handoff"
    if any(
        msg.refusal_code(r) == "vendor_unavailable"
        for r in msg.tool_messages_since_last_ai(state.get("messages", []))
    ):
        return "handoff"
    return _intent_node(state)


def after_await_approval(state: AgentState) -> Literal["apply_approval", "human", "await_approval"]:
    if "decision" in (state.get("event") or {}):
        return "apply_approval"
    if state.get("status") == "human_handling":
        return "human"
    return "await_approval"


def after_apply_approval(state: AgentState) -> Literal["handoff"] | End:
    return "handoff" if state.get("escalation") else END


def after_handoff(state: AgentState) -> Literal["human"] | End:
    """With the team (the bot goes silent), or the end of the turn when the hand-off cap refused."""
    return "human" if state.get("status") == "human_handling" else END


def after_human(state: AgentState) -> Literal["human"] | End:
    """Silent for as long as a person holds the conversation."""
    return "human" if state.get("status") == "human_handling" else END


def _intent_node(state: AgentState) -> IntentNode:
    return _as_intent_node(state.get("intent"))


def _as_intent_node(intent: str | None) -> IntentNode:
    return intent if intent in intents.node_intents() else intents.FALLBACK

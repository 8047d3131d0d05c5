"""Hand the conversation to a person."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage

from agent import messages as msg
from agent.cards import HandoffCard
from agent.language import state_language
from agent.nodes.wiring import Wiring
from agent.state import AgentState
from prompts.templates import say
from tools.context import PendingApproval


async def model_failed(state: AgentState, reason: str) -> dict[str, Any]:
    """The update of a node whose model call failed: an apology in the shopper's language, and a
    person (routing sees `escalation`)."""
    language = await state_language(state)
    return {"messages": [msg.assistant(say("handoff.apology", language))], "escalation": reason}


async def handoff(state: AgentState, wiring: Wiring) -> dict[str, Any]:
    """Hand the conversation to a person: the ticket gets the tags and a summary, the team one
    email per conversation, all through the outbox ahead of routine mirroring. A helpdesk outage
    only delays them; the conversation is with the team from now on (`status`)."""
    language = await state_language(state)
    if await handoffs_exhausted(state, wiring):
        return {
            "messages": [msg.assistant(_handoff_cap_text(wiring.deps.contact_email, language))],
            "escalation": None,
            "pending_intents": [],
        }
    reason = escalation_reason(state)
    intent = state.get("intent") or "escalation"
    key = f"handoff-{len(state.get('messages', []))}"
    summary = _summary(state, reason)
    customer = state.get("customer") or {}
    asks: dict[str, Any] = {
        f"{key}:handoff": {"kind": "handoff", "intent": intent, "priority": "urgent"},
        f"{key}:note": {
            "kind": "note",
            "text": summary,
            "external_id": f"{state.get('conversation_id')}:{key}:note",
            "priority": "urgent",
        },
        # One team email per conversation: a repeated hand-off joins the same ticket quietly.
        "team_email": {
            "kind": "team_email",
            "customer_email": customer.get("email"),
            "order_number": order_number(state),
            "reason": reason,
            "summary": summary,
            "transcript": [list(row) for row in _transcript(state.get("messages", []))],
            "priority": "urgent",
        },
    }
    return {
        "messages": [
            msg.assistant(
                say("handoff.handed_over", language), card=HandoffCard(ticket_id=state.get("ticket_id"))
            )
        ],
        "status": "human_handling",
        "helpdesk": asks,
        "escalation": None,
        "pending_intents": [],
    }


async def handoffs_exhausted(state: AgentState, wiring: Wiring) -> bool:
    """A new hand-off beyond the client address's hourly cap (store-wide, any conversation):
    no new ticket escalation or team email. A conversation already handed off is not counted."""
    tools = wiring.tools
    guards, client = tools.guards, state.get("client")
    if guards is None or not client or "team_email" in (state.get("helpdesk") or {}):
        return False
    count = await guards.hit(f"handoff:{client}", tools.clock().timestamp(), 3600.0)
    return count > tools.policy.max_handoffs_per_client_per_hour


def escalation_reason(state: AgentState) -> str:
    if state.get("escalation"):
        return str(state["escalation"])
    results = msg.tool_messages_since_last_ai(state.get("messages", []))
    if any(msg.refusal_code(r) == "vendor_unavailable" for r in results):
        return "a store system is down after retries"
    return "shopper asked for a person"


def _handoff_cap_text(contact_email: str | None, language: str) -> str:
    if contact_email:
        return say("handoff.cap_email", language, contact_email=contact_email)
    return say("handoff.cap_no_email", language)


def order_number(state: AgentState) -> str | None:
    """The order the conversation is about: the pending approval's, else the latest tool call's."""
    approval = state.get("pending_approval")
    if approval:
        return PendingApproval.model_validate(approval).order_number
    for message in reversed(state.get("messages", [])):
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                number = call["args"].get("order_number")
                if number:
                    return str(number)
    return None


def _transcript(messages: Sequence[AnyMessage]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for message in messages:
        text = msg.text_of(message).strip()
        if not text:
            continue
        if isinstance(message, HumanMessage):
            rows.append(("shopper", text))
        elif msg.is_human_agent(message):
            rows.append(("agent", text))
        elif isinstance(message, AIMessage):
            rows.append(("assistant", text))
    return rows


def _summary(state: AgentState, reason: str) -> str:
    customer = state.get("customer") or {}
    who = f"verified shopper {customer.get('email')}" if customer else "an unverified shopper"
    order = order_number(state)
    last = msg.last_shopper_text(state.get("messages", []))
    lines = [
        f"Handed over by the AI assistant. Reason: {reason}.",
        f"Conversation with {who}" + (f" about order #{order}." if order else "."),
        f"Topic: {(state.get('intent') or 'unknown').replace('_', ' ')}.",
        f"Last message from the shopper: {last[:500]}",
    ]
    return "\n".join(lines)

"""A person holds the conversation: the bot is silent until the ticket is closed or handed back."""

from __future__ import annotations

from typing import Any

from langgraph.types import interrupt

from agent import messages as msg
from agent.language import state_language
from agent.state import AgentState
from prompts.templates import say


async def takeover(state: AgentState) -> dict[str, Any]:
    """A helpdesk event while the bot is idle: a person's reply takes the conversation over."""
    event = state.get("event") or {}
    if event.get("kind") == "agent":
        message = msg.human_agent(event["text"], author=event.get("author"), message_id=event.get("id"))
        return {"event": None, "status": "human_handling", "messages": [message]}
    return {"event": None}


async def human(state: AgentState) -> dict[str, Any]:
    """The bot is silent: shopper messages go to the ticket (the outbox mirrors them), a person's
    replies come back; a close or hand-back returns the conversation to the bot (`status`)."""
    value = interrupt({"type": "human_handling", "ticket_id": state.get("ticket_id")})
    if not isinstance(value, dict):
        return {"messages": [msg.shopper(str(value))]}
    kind = value.get("kind", "shopper")
    if kind == "shopper":
        return {"messages": [msg.shopper(value.get("text", ""), message_id=value.get("id"))]}
    if kind == "agent":
        message = msg.human_agent(
            value.get("text", ""), author=value.get("author"), message_id=value.get("id")
        )
        return {"messages": [message]}
    if kind in ("close", "handback"):
        language = await state_language(state)
        back = msg.assistant(say("handoff.handback" if kind == "handback" else "handoff.closed", language))
        update: dict[str, Any] = {
            "messages": [back],
            "status": "active",
            "intent": None,
            "unhelpful_turns": 0,
        }
        if kind == "handback":
            # Used once: left on the ticket, the hand-back mark would end the next takeover at once.
            update["helpdesk"] = {f"handback-{back.id}": {"kind": "handback_consumed", "priority": "urgent"}}
        return update
    return {}

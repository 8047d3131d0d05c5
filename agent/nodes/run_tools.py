"""Run the latest tool calls."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Final, cast

from langchain_core.messages import ToolMessage
from langchain_core.messages.tool import ToolCall
from langgraph.types import Command

from agent import messages as msg
from agent.language import state_language
from agent.nodes.wiring import Wiring
from agent.state import AgentState, apply_update
from tools.langchain import execute, result_text
from tools.results import refuse

logger = logging.getLogger(__name__)

# Tools whose effect (who the shopper is) the other calls of the same message depend on.
IDENTITY_TOOLS: Final[frozenset[str]] = frozenset({"verify_customer"})


async def run_tools(state: AgentState, wiring: Wiring) -> list[Command[Any]] | dict[str, Any]:
    """Run the latest tool calls; each call's update is applied through the state's reducers.
    The confirmation exchange may follow the calling message in state."""
    call_message = msg.last_tool_calling_message(state.get("messages", []))
    if call_message is None:
        return {}
    updates = await run_calls(state, call_message.tool_calls, wiring)
    return [Command(update=update) for update in updates]


async def run_calls(
    state: Mapping[str, Any], calls: Sequence[ToolCall], wiring: Wiring
) -> list[dict[str, Any]]:
    """Each call's state update (its ToolMessage and what it changes), in the order of `calls`
    with identity calls first.

    Identity calls (`verify_customer`) run first, in order, and the calls after them see who is
    verified: a model that asks "verify, then track" in one message (as LLMs do with parallel tool
    calls) gets both answered in one step, and a failed verification still refuses the rest. The
    other calls run concurrently against the same state, as LangGraph's ToolNode would, without
    its per-call machinery."""
    language = await state_language(cast(AgentState, state))

    async def one(call: ToolCall, seen: Mapping[str, Any]) -> dict[str, Any]:
        call_id = call["id"] or "no-call-id"
        try:
            spec = wiring.spec(call["name"])
            return await execute(spec, wiring.tools, seen, call_id, call["args"], language=language)
        except Exception:  # a bug in a tool: the model hears it failed; the turn goes on
            logger.exception("tool %s failed", call["name"])
            failed = refuse("vendor_unavailable", "This failed on our side; nothing was confirmed.")
            message = ToolMessage(
                content=result_text(failed), tool_call_id=call_id, name=call["name"], status="error"
            )
            return {"messages": [message]}

    first = [c for c in calls if c["name"] in IDENTITY_TOOLS]
    rest = [c for c in calls if c["name"] not in IDENTITY_TOOLS]
    seen: Mapping[str, Any] = state
    updates: list[dict[str, Any]] = []
    for call in first:
        update = await one(call, seen)
        updates.append(update)
        if rest:
            seen = apply_update(seen, {k: v for k, v in update.items() if k != "messages"})
    updates += await asyncio.gather(*(one(call, seen) for call in rest))
    return updates

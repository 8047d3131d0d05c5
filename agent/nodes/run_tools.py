"""Run the latest tool calls."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
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

    Identity calls (`verify_customer`) run first, in order, and the calls after them see who is
    verified: a model that asks "verify, then track" in one message (as LLMs do with parallel tool
    calls, and the offline model when it has both details) gets both answered in one step, and a
    failed verification still refuses the rest. The other calls run concurrently against the same
    state, as LangGraph's ToolNode would, without its per-call machinery. The confirmation exchange
    may follow the calling message in state."""
    call_message = msg.last_tool_calling_message(state.get("messages", []))
    if call_message is None:
        return {}

    language = await state_language(state)

    async def one(call: ToolCall, seen: Mapping[str, Any]) -> Command[Any]:
        call_id = call["id"] or "no-call-id"
        try:
            spec = wiring.spec(call["name"])
            update = await execute(spec, wiring.tools, seen, call_id, call["args"], language=language)
        except Exception:  # a bug in a tool: the model hears it failed; the turn goes on
            logger.exception("tool %s failed", call["name"])
            failed = refuse("vendor_unavailable", "This failed on our side; nothing was confirmed.")
            message = ToolMessage(
                content=result_text(failed), tool_call_id=call_id, name=call["name"], status="error"
            )
            update = {"messages": [message]}
        return Command(update=update)

    calls = call_message.tool_calls
    first = [c for c in calls if c["name"] in IDENTITY_TOOLS]
    rest = [c for c in calls if c["name"] not in IDENTITY_TOOLS]
    seen: Mapping[str, Any] = cast(Mapping[str, Any], state)
    commands: list[Command[Any]] = []
    for call in first:
        command = await one(call, seen)
        commands.append(command)
        if rest and isinstance(command.update, dict):
            seen = apply_update(seen, {k: v for k, v in command.update.items() if k != "messages"})
    commands += await asyncio.gather(*(one(call, seen) for call in rest))
    return commands

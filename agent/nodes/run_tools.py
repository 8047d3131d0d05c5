"""Run the latest tool calls."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from langchain_core.messages import ToolMessage
from langchain_core.messages.tool import ToolCall
from langgraph.types import Command

from agent import messages as msg
from agent.nodes.wiring import Wiring
from agent.state import AgentState
from tools.langchain import execute, result_text
from tools.results import refuse

logger = logging.getLogger(__name__)


async def run_tools(state: AgentState, wiring: Wiring) -> list[Command[Any]] | dict[str, Any]:
    """Run the latest tool calls, concurrently, each against the same state (as LangGraph's
    ToolNode would, without its per-call machinery); each call's update is applied through the
    state's reducers. The confirmation exchange may follow the calling message in state."""
    call_message = msg.last_tool_calling_message(state.get("messages", []))
    if call_message is None:
        return {}

    async def one(call: ToolCall) -> Command[Any]:
        call_id = call["id"] or "no-call-id"
        try:
            spec = wiring.spec(call["name"])
            update = await execute(spec, wiring.tools, cast(dict[str, Any], state), call_id, call["args"])
        except Exception:  # a bug in a tool: the model hears it failed; the turn goes on
            logger.exception("tool %s failed", call["name"])
            failed = refuse("vendor_unavailable", "This failed on our side; nothing was confirmed.")
            message = ToolMessage(
                content=result_text(failed), tool_call_id=call_id, name=call["name"], status="error"
            )
            update = {"messages": [message]}
        return Command(update=update)

    return list(await asyncio.gather(*(one(call) for call in call_message.tool_calls)))

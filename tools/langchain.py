"""Tools as LangChain tools for LangGraph's `ToolNode`, with the runtime context hidden from the model.

The model sees only the args schema. Identity, ledger and conversation id are read from graph
state through `ToolRuntime`; what a tool changes in state comes back as a `Command` update.
State keys used (the agent's state defines them with reducers):
`conversation_id`, `customer`, `ledger` (merged dict), `verification_attempts` (added),
`ticket_id`, `client`, `escalation`, `pending_approval`, `step_up`, `helpdesk` (merged dict of requests for the helpdesk).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.prebuilt import ToolRuntime
from langgraph.types import Command

from tools.context import ToolContext, ToolDeps, VerifiedCustomer
from tools.results import Refusal, ToolResult
from tools.spec import ToolSpec, run_tool


def context_from_state(deps: ToolDeps, state: Mapping[str, Any], tool_call_id: str) -> ToolContext:
    """A tool context from graph state: identity and ledger come from state, never from the model."""
    raw_customer = state.get("customer")
    customer = (
        raw_customer
        if isinstance(raw_customer, VerifiedCustomer) or raw_customer is None
        else VerifiedCustomer.model_validate(raw_customer)
    )
    return ToolContext(
        deps=deps,
        conversation_id=str(state.get("conversation_id") or "anonymous"),
        tool_call_id=tool_call_id,
        customer=customer,
        ledger=dict(state.get("ledger") or {}),
        verification_attempts=int(state.get("verification_attempts") or 0),
        ticket_id=state.get("ticket_id"),
        client=state.get("client"),
        step_up=state.get("step_up"),
    )


def state_update(ctx: ToolContext, before: ToolContext | None = None) -> dict[str, Any]:
    """What the call changed, as a state update (ledger entries, identity, escalation, approval)."""
    update: dict[str, Any] = {}
    new_entries = {k: v for k, v in ctx.ledger.items() if before is None or k not in before.ledger}
    if new_entries:
        update["ledger"] = new_entries
    attempts = ctx.verification_attempts - (before.verification_attempts if before else 0)
    if attempts:
        update["verification_attempts"] = attempts
    if ctx.set_customer is not None:
        update["customer"] = ctx.set_customer.model_dump()
    if ctx.escalate_reason:
        update["escalation"] = ctx.escalate_reason
    if ctx.approval_request:
        update["pending_approval"] = ctx.approval_request.model_dump(mode="json")
    if ctx.set_step_up is not None:
        update["step_up"] = ctx.set_step_up
    if ctx.helpdesk_requests:
        update["helpdesk"] = dict(ctx.helpdesk_requests)
    return update


def result_text(result: ToolResult | Refusal) -> str:
    return result.model_dump_json(exclude_none=True)


async def execute(
    spec: ToolSpec,
    deps: ToolDeps,
    state: Mapping[str, Any],
    tool_call_id: str,
    args: Any,
    *,
    language: str = "en",
) -> dict[str, Any]:
    """Run one tool call against graph state; returns the state update: its `ToolMessage` and what
    the call changed (ledger entries, identity, escalation, approval, helpdesk requests).
    `language`: the shopper's, for what a result carries to be shown as it is (why an item can't
    be returned)."""
    ctx = context_from_state(deps, state, tool_call_id)
    ctx.language = language
    baseline = ToolContext(
        deps=deps,
        conversation_id=ctx.conversation_id,
        tool_call_id=tool_call_id,
        ledger=dict(ctx.ledger),
        verification_attempts=ctx.verification_attempts,
    )
    result = await run_tool(spec, ctx, args)
    message = ToolMessage(
        content=result_text(result),
        tool_call_id=tool_call_id,
        name=spec.name,
        status="success" if result.ok else "error",
        # Plain JSON, so any checkpointer can store it; `type` names the result model for cards.
        artifact={"type": type(result).__name__, **result.model_dump(mode="json")},
    )
    return {"messages": [message], **state_update(ctx, baseline)}


def to_langchain_tool(spec: ToolSpec, deps: ToolDeps) -> BaseTool:
    """A `StructuredTool` running `spec` with context from state; returns a `Command` update."""

    async def call(runtime: ToolRuntime, **kwargs: Any) -> Command[Any]:
        tool_call_id = runtime.tool_call_id or "no-call-id"
        return Command(update=await execute(spec, deps, runtime.state, tool_call_id, kwargs))

    return StructuredTool(
        name=spec.name,
        description=spec.description,
        args_schema=spec.args_model,
        coroutine=call,
        func=None,
    )

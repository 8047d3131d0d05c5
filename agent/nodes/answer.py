"""An intent's node: its prompt and its own tools bound to the model. It either calls tools or
answers; `routing.after_answer` reads which from the state."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from langchain_core.messages import AIMessage, AnyMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig

import prompts
from agent import intents
from agent import messages as msg
from agent.intents import IntentSpec
from agent.nodes.handoff import model_failed
from agent.nodes.run_tools import run_calls
from agent.nodes.wiring import (
    ModelFailure,
    Wiring,
    answer_streaming,
    call_model,
    streams_tokens,
    turn_writer,
)
from agent.state import AgentState, apply_update
from tools.langchain import result_text
from tools.registry import spec_by_name
from tools.results import refuse

UNHELPFUL_LIMIT = 3
"""Turns in a row without progress before a person is brought in."""


async def answer(state: AgentState, config: RunnableConfig, wiring: Wiring, intent: str) -> dict[str, Any]:
    """Ask the intent's model; while it only asks for lookups (verify, order, tracking,
    eligibility, help pages), run them here and ask again, all in one graph step.

    Lookups change nothing a retry could repeat, so one checkpoint for the round is enough; every
    other call (a confirmed action, an email, a hand-off) leaves this node as before, for the
    tools node or a confirmation. The model-call bound of a turn applies to every round."""
    update: dict[str, Any] = {}
    pending = list(state.get("pending_intents") or [])
    if state.get("intent") != intent and pending and pending[0] == intent:
        # The next request of the same message: this node takes it over.
        update = {"intent": intent, "pending_intents": pending[1:]}
    seen: dict[str, Any] = {**state, **update}
    while True:
        step = await _ask(cast(AgentState, seen), config, wiring, intent)
        update, seen = apply_update(update, step), apply_update(seen, step)
        response = step["messages"][-1]
        if not (isinstance(response, AIMessage) and response.tool_calls) or not _lookups_only(response):
            break
        if seen.get("model_calls", 0) >= wiring.deps.max_model_calls_per_turn:
            break  # the tools node runs them; the next model call is refused by the bound
        _announce(response, config)
        for result in await run_calls(seen, response.tool_calls, wiring):
            update, seen = apply_update(update, result), apply_update(seen, result)
        if seen.get("escalation") or _vendor_down(seen):
            return update  # routing takes it to a person
    if isinstance(response, AIMessage) and not response.tool_calls and not seen.get("escalation"):
        update |= _after_reply(cast(AgentState, seen))
    return update


async def _ask(state: AgentState, config: RunnableConfig, wiring: Wiring, intent: str) -> dict[str, Any]:
    """One model call of the intent's node: its update (the answer, or an apology and a person)."""
    calls = state.get("model_calls", 0)
    if calls >= wiring.deps.max_model_calls_per_turn:
        return await model_failed(state, "too many steps without an answer")
    spec = intents.get(intent)
    assert spec is not None and spec.has_node  # the graph has a node only for these
    system = SystemMessage(
        prompts.render(
            spec.prompt_name,
            store_name=wiring.deps.store_name,
            rules=wiring.rules_text,
            policy=wiring.policy_text,
            context=wiring.context_text(state, intent),
        )
    )
    window = [*_signed_identity(state, spec), *msg.model_window(state.get("messages", []))]
    try:
        model, prompt = wiring.bound[intent], [system, *window]
        if streams_tokens(config):
            write = turn_writer(config)
            response = await call_model(lambda: answer_streaming(model, prompt, write))
        else:
            response = await call_model(lambda: model.ainvoke(prompt))
    except ModelFailure as exc:
        return await model_failed(state, f"model failure: {exc}")
    if not isinstance(response, AIMessage):
        response = AIMessage(content=str(getattr(response, "content", "")))
    response.additional_kwargs.setdefault(msg.CREATED_AT, datetime.now(UTC).isoformat())
    update: dict[str, Any] = {"messages": [response], "model_calls": calls + 1}
    allowed = {s.name for s in spec.tool_specs()}
    if any(c["name"] not in allowed for c in response.tool_calls):
        # A tool this intent does not hold: every call is answered with a refusal, and the
        # model hears it on the next pass (routing sees the tool results and loops back).
        update["messages"] = [
            response,
            *(
                ToolMessage(
                    content=result_text(
                        refuse("invalid_arguments", f"Tool {c['name']} is not available here.")
                    ),
                    tool_call_id=c["id"] or "",
                    name=c["name"],
                    status="error",
                )
                for c in response.tool_calls
            ),
        ]
    return update


def _lookups_only(response: AIMessage) -> bool:
    specs = [spec_by_name(c["name"]) for c in response.tool_calls]
    return all(s is not None and s.lookup for s in specs)


def _announce(response: AIMessage, config: RunnableConfig) -> None:
    """Tell a streaming client what is being looked up while it runs (`progress`, by call id)."""
    write = turn_writer(config)
    for call in response.tool_calls:
        write({"progress": call["name"], "call_id": call["id"]})


def _vendor_down(state: Mapping[str, Any]) -> bool:
    return any(
        msg.refusal_code(r) == "vendor_unavailable"
        for r in msg.tool_messages_since_last_ai(state.get("messages", []))
    )


def _after_reply(state: AgentState) -> dict[str, Any]:
    """After a reply to the shopper: count turns that made no progress (a person after three)."""
    if state.get("pending_intents"):
        return {}  # routing goes on to the next request of the message
    unhelpful = (state.get("unhelpful_turns") or 0) + 1 if _unhelpful(state) else 0
    update: dict[str, Any] = {"unhelpful_turns": unhelpful}
    if unhelpful >= UNHELPFUL_LIMIT:
        update["escalation"] = "repeated failure to help"
    return update


def _unhelpful(state: AgentState) -> bool:
    """The turn made no progress: the model is unsure, or the last tool call failed on bad input."""
    if (state.get("intent_confidence") or 1.0) < 0.35 and state.get("intent") == "other":
        return True
    results = msg.tool_messages_since_last_ai(state.get("messages", []))
    if not results:
        return False
    return msg.refusal_code(results[-1]) in ("invalid_arguments", "order_not_found", "unreadable")


def _signed_identity(state: AgentState, spec: IntentSpec) -> list[AnyMessage]:
    """A shopper signed in through the widget is verified before the conversation: the model is
    told as data (a verify_customer exchange ahead of the window, never stored), not only in prose."""
    customer = state.get("customer") or {}
    bound = {s.name for s in spec.tool_specs()}
    if customer.get("verified_by") not in ("signed_identity", "phone") or "verify_customer" not in bound:
        return []
    return msg.signed_identity_exchange(str(customer["email"]), customer.get("name"))

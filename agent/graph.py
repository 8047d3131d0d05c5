"""The agent: a LangGraph state machine (DESIGN.md §6).

```
START → gate ─(human_handling / helpdesk event)─► human (interrupt: bot silent)
          │
          ▼
       classify ─► wismo | returns | refunds | order_change | other ─► finish → END
          │          (model + intent tools; ToolNode loop; mutating tool → confirm interrupt;
          │           over-limit refund → approval interrupt after the reply)
          └─(escalation, auto-triggers)─► handoff ─► human
```
`build_graph(model, deps, checkpointer)` builds it. `from agent.graph import graph` gives the
default graph (offline model, sandbox demo store), built on first access by `agent/studio.py`,
which is also what `langgraph.json` points at.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeAlias, cast

from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.messages.tool import ToolCall
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, interrupt
from pydantic import ValidationError

import prompts
from agent import messages as msg
from agent.offline.entities import is_affirmative, is_negative
from agent.state import INTENTS, AgentState, Intent, IntentResult
from agent.step_up import is_code_entry
from integrations._http import IntegrationError
from tools.context import ToolContext, ToolDeps
from tools.langchain import context_from_state, result_text
from tools.langchain import execute as execute_call
from tools.langchain import to_langchain_tool as make_tool
from tools.refunds import refund_after_approval
from tools.registry import specs
from tools.results import Refusal, refuse
from tools.spec import Preview, ToolSpec

logger = logging.getLogger(__name__)

ACTION_INTENTS: tuple[Intent, ...] = ("wismo", "returns", "refunds", "order_change")
MODEL_INTENTS: tuple[Intent, ...] = ("wismo", "returns", "refunds", "order_change", "other")
APPROVED_TAG = "refund-approved"
DENIED_TAG = "refund-denied"
HANDBACK_TAG = "ai_handback"
UNHELPFUL_LIMIT = 3
PROGRESS = {
    "verify_customer": "Checking your details…",
    "lookup_order": "Looking up your order…",
    "get_tracking_status": "Checking the carrier's tracking…",
    "check_return_eligibility": "Checking what can be returned…",
    "create_return_label": "Creating your return label…",
    "check_refund_eligibility": "Checking your refund…",
    "issue_refund": "Processing your refund…",
    "cancel_order": "Cancelling your order…",
    "update_shipping_address": "Updating the shipping address…",
    "escalate_to_human": "Bringing in our support team…",
    "send_verification_code": "Emailing you a code…",
    "check_verification_code": "Checking the code…",
}

# Where each node can go next: LangGraph reads these to draw the graph (Studio, Mermaid).
IntentNode: TypeAlias = Literal["wismo", "returns", "refunds", "order_change", "other"]
FromStart: TypeAlias = Literal["classify", "human", "takeover"]
FromTakeover: TypeAlias = Literal["human", "__end__"]
FromClassify: TypeAlias = Literal[
    "wismo", "returns", "refunds", "order_change", "other", "handoff", "model_failed"
]
FromIntent: TypeAlias = Literal[
    "confirm",
    "tools",
    "model_failed",
    "handoff",
    "request_approval",
    "__end__",
    "wismo",
    "returns",
    "refunds",
    "order_change",
    "other",
]
FromConfirm: TypeAlias = Literal["tools", "await_confirmation"]
FromAwaitConfirmation: TypeAlias = Literal[
    "tools", "classify", "human", "wismo", "returns", "refunds", "order_change", "other"
]
FromTools: TypeAlias = Literal["handoff", "wismo", "returns", "refunds", "order_change", "other"]
FromRequestApproval: TypeAlias = Literal["await_approval", "handoff"]
FromAwaitApproval: TypeAlias = Literal["apply_approval", "await_approval", "human"]
FromApplyApproval: TypeAlias = Literal["__end__", "handoff"]
ToHuman: TypeAlias = Literal["human", "__end__"]
ToHandoff: TypeAlias = Literal["handoff"]
FromHuman: TypeAlias = Literal["human", "__end__"]


@dataclass
class AgentDeps:
    """What the graph needs besides the model: the tools' services and a few settings."""

    tools: ToolDeps
    store_name: str = "the store"
    max_model_calls_per_turn: int = 8
    contact_email: str | None = None
    """Where shoppers can write to the team (told when the hand-off cap is reached)."""


class ModelFailure(Exception):
    """The model failed after its own retries (timeout, outage, garbage)."""


def _specs_by_name() -> dict[str, ToolSpec]:
    return {s.name: s for s in specs()}


def build_graph(
    model: BaseChatModel,
    deps: AgentDeps,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
) -> CompiledStateGraph[AgentState, None, AgentState, AgentState]:
    """Compile the support agent graph for a model, its dependencies and a checkpointer."""
    tool_deps = deps.tools
    spec_index = _specs_by_name()
    lc_tools = {name: make_tool(spec, tool_deps) for name, spec in spec_index.items()}
    bound_models = {
        intent: model.bind_tools([lc_tools[s.name] for s in specs(intent)]) for intent in MODEL_INTENTS
    }
    policy = tool_deps.policy
    policy_text = prompts.render(
        "policy",
        return_window_days=policy.return_window_days,
        refund_limit=f"{policy.refund_auto_approve_limit}",
    )
    rules_text = prompts.load("_rules").strip()

    def context_text(state: AgentState, intent: str) -> str:
        customer = state.get("customer")
        shopper = f"verified as {customer['email']}" if customer else "not verified"
        today = tool_deps.clock().date().isoformat()
        return prompts.render("context", intent=intent, shopper=shopper, today=today)

    async def call_model(call: Callable[[], Awaitable[Any]]) -> Any:
        try:
            return await call()
        except Exception as exc:  # any model client error: the shopper gets an apology, not a trace
            logger.exception("model call failed")
            raise ModelFailure(type(exc).__name__) from exc

    # ------------------------------------------------------------------ takeover

    async def takeover(state: AgentState) -> Command[FromTakeover]:
        """A helpdesk event while the bot is idle: a person's reply takes the conversation over."""
        event = state.get("event") or {}
        if event.get("kind") == "agent":
            message = msg.human_agent(event["text"], author=event.get("author"), message_id=event.get("id"))
            return Command(
                update={"event": None, "status": "human_handling", "messages": [message]}, goto="human"
            )
        return Command(update={"event": None}, goto="__end__")

    # ------------------------------------------------------------------ classify

    async def classify(state: AgentState) -> Command[FromClassify]:
        intent_now = state.get("intent")
        if intent_now in ACTION_INTENTS and is_code_entry(msg.last_human(state.get("messages", []))):
            # A step-up code (shown as a placeholder) answers the request under way: no model call.
            keep = {"intent_confidence": 1.0, "pending_intents": [], "turn_intents": [intent_now]}
            return Command(update={**keep, "model_calls": 0, "escalation": None}, goto=_node(intent_now))
        history = msg.model_window(state.get("messages", []), limit=8)
        system = SystemMessage(prompts.render("classify", store_name=deps.store_name))
        structured = model.with_structured_output(IntentResult)
        try:
            result = cast(IntentResult, await call_model(lambda: structured.ainvoke([system, *history])))
        except ModelFailure as exc:
            if not isinstance(exc.__cause__, OutputParserException | ValidationError):
                return Command(update={"escalation": f"model failure: {exc}"}, goto="model_failed")
            # The model answered but not in the schema (small local models do): carry on with the
            # request under way, or as small talk, rather than sending the shopper to a person.
            logger.warning("classification output did not parse; continuing with the current intent")
            result = IntentResult(intent=state.get("intent") or "other", confidence=0.0)
        if result is None:  # some providers return None for an empty structured answer
            result = IntentResult(intent=state.get("intent") or "other", confidence=0.0)
        intent: Intent = result.intent
        previous = state.get("intent")
        # A message that only carries details (an email, a number) continues the request under way.
        if (
            intent == "other"
            and previous in ACTION_INTENTS
            and (result.order_number or result.email or result.confidence < 0.5)
        ):
            intent = previous
        extra = [i for i in dict.fromkeys(result.additional_intents) if i != intent and i in INTENTS]
        update: dict[str, Any] = {
            "intent": intent,
            "intent_confidence": result.confidence,
            "pending_intents": [i for i in extra if i != "escalation"],
            "turn_intents": [intent, *extra],
            "model_calls": 1,
            "escalation": None,
        }
        if intent == "escalation" or "escalation" in extra:
            update["escalation"] = "shopper asked for a person"
            return Command(update=update, goto="handoff")
        return Command(update=update, goto=_node(intent))

    # ------------------------------------------------------------------ intent nodes

    def intent_node(intent: Intent) -> Callable[[AgentState], Awaitable[Command[FromIntent]]]:
        prompt_name = intent

        async def run(state: AgentState) -> Command[FromIntent]:
            calls = state.get("model_calls", 0)
            if calls >= deps.max_model_calls_per_turn:
                return Command(update={"escalation": "too many steps without an answer"}, goto="model_failed")
            system = SystemMessage(
                prompts.render(
                    prompt_name,
                    store_name=deps.store_name,
                    rules=rules_text,
                    policy=policy_text,
                    context=context_text(state, intent),
                )
            )
            window = msg.model_window(state.get("messages", []))
            try:
                response = await call_model(lambda: bound_models[intent].ainvoke([system, *window]))
            except ModelFailure as exc:
                return Command(update={"escalation": f"model failure: {exc}"}, goto="model_failed")
            if not isinstance(response, AIMessage):
                response = AIMessage(content=str(getattr(response, "content", "")))
            response.additional_kwargs.setdefault(msg.CREATED_AT, datetime.now(UTC).isoformat())
            update: dict[str, Any] = {"messages": [response], "model_calls": calls + 1}
            if response.tool_calls:
                unknown = [
                    c["name"] for c in response.tool_calls if c["name"] not in {s.name for s in specs(intent)}
                ]
                if unknown:
                    # The model called a tool this intent does not hold: answer the calls with a refusal.
                    refusals = [
                        ToolMessage(
                            content=result_text(
                                refuse("invalid_arguments", f"Tool {c['name']} is not available here.")
                            ),
                            tool_call_id=c["id"] or "",
                            name=c["name"],
                            status="error",
                        )
                        for c in response.tool_calls
                    ]
                    return Command(update={**update, "messages": [response, *refusals]}, goto=_node(intent))
                needs_yes = any(spec_index[c["name"]].needs_confirmation for c in response.tool_calls)
                return Command(update=update, goto="confirm" if needs_yes else "tools")
            return _finish({**state, **update, "messages": [*state.get("messages", []), response]}, update)

        run.__name__ = f"{intent}_node"
        return run

    # ------------------------------------------------------------------ confirm

    async def confirm(state: AgentState) -> Command[FromConfirm]:
        """Show the shopper exactly what will happen; no side effect before they say yes."""
        call_message = msg.last_tool_calling_message(state.get("messages", []))
        assert call_message is not None
        previews: list[Preview] = []
        early: list[ToolMessage] = []
        for call in call_message.tool_calls:
            spec = spec_index[call["name"]]
            if not spec.needs_confirmation or spec.preview is None:
                continue
            ctx = context_from_state(tool_deps, cast(dict[str, Any], state), call["id"] or "")
            try:
                args = spec.parse_args(call["args"])
                outcome: Preview | Refusal = await spec.preview(ctx, args)
            except IntegrationError:
                outcome = refuse("vendor_unavailable", "The store's systems are not answering right now.")
            except ValueError as exc:
                outcome = refuse("invalid_arguments", str(exc)[:200])
            if isinstance(outcome, Refusal):
                early.append(
                    ToolMessage(
                        content=result_text(outcome),
                        tool_call_id=call["id"] or "",
                        name=call["name"],
                        status="error",
                    )
                )
            else:
                previews.append(outcome)
        if not previews:
            # Every confirmable call is refused anyway: run the calls, the tools refuse identically.
            return Command(goto="tools")
        summary = " ".join(p.summary for p in previews)
        items = [item for p in previews for item in p.items]
        address = next((p.address for p in previews if p.address), None)
        card: dict[str, Any] = {
            "type": "confirm",
            "summary": summary,
            "items": items,
            "amount": next((p.amount for p in previews if p.amount), None),
            "address": address,
        }
        question = summary + (" Items: " + "; ".join(items) + "." if items else "")
        if address:
            question += f" New address: {address}."
        question += " Shall I go ahead? (yes/no)"
        return Command(
            update={
                "messages": [msg.assistant(question, card=card, ui_only=True)],
                "status": "awaiting_confirmation",
            },
            goto="await_confirmation",
        )

    async def await_confirmation(state: AgentState) -> Command[FromAwaitConfirmation]:
        answer = interrupt({"type": "confirm"})
        text = str(answer.get("text", "")) if isinstance(answer, dict) else str(answer)
        message_id = answer.get("id") if isinstance(answer, dict) else None
        call_message = msg.last_tool_calling_message(state.get("messages", []))
        assert call_message is not None
        if isinstance(answer, dict) and answer.get("kind") == "agent":
            # A person stepped in: their words are not the shopper's yes. Nothing is done.
            stepped_in = refuse(
                "declined_by_shopper", "A person from the team took over before the shopper answered."
            )
            results = [
                ToolMessage(
                    content=result_text(stepped_in),
                    tool_call_id=c["id"] or "",
                    name=c["name"],
                    status="error",
                )
                for c in call_message.tool_calls
            ]
            human_message = msg.human_agent(text, author=answer.get("author"), message_id=message_id)
            return Command(
                update={"messages": [*results, human_message], "status": "human_handling"}, goto="human"
            )
        if is_affirmative(text) and not is_negative(text):
            reply = msg.shopper(text, message_id=message_id, ui_only=True)
            return Command(update={"messages": [reply], "status": "active"}, goto="tools")
        declined = refuse(
            "declined_by_shopper",
            "The shopper did not confirm, so nothing was done."
            + ("" if is_negative(text) else f" Their reply: {text!r}"),
        )
        results = [
            ToolMessage(
                content=result_text(declined), tool_call_id=c["id"] or "", name=c["name"], status="error"
            )
            for c in call_message.tool_calls
        ]
        if is_negative(text):
            reply = msg.shopper(text, message_id=message_id, ui_only=True)
            intent = state.get("intent") or "other"
            return Command(update={"messages": [reply, *results], "status": "active"}, goto=_node(intent))
        # Neither yes nor no: a new request ("can I talk to a person?", "only the mug"). Nothing is
        # done, and the message is classified like any other.
        reply = msg.shopper(text, message_id=message_id)
        return Command(update={"messages": [*results, reply], "status": "active"}, goto="classify")

    # ------------------------------------------------------------------ tools

    async def run_tools(state: AgentState) -> Any:
        """Run the latest tool calls, concurrently, each against the same state (as LangGraph's
        ToolNode would, without its per-call machinery); each call's update is applied through the
        state's reducers. The confirmation exchange may follow the calling message in state."""
        call_message = msg.last_tool_calling_message(state.get("messages", []))
        if call_message is None:
            return {}

        async def one(call: ToolCall) -> Command[Any]:
            call_id = call["id"] or "no-call-id"
            try:
                update = await execute_call(
                    spec_index[call["name"]], tool_deps, cast(dict[str, Any], state), call_id, call["args"]
                )
            except Exception:  # a bug in a tool: the model hears it failed; the turn goes on
                logger.exception("tool %s failed", call["name"])
                failed = refuse("vendor_unavailable", "This failed on our side; nothing was confirmed.")
                update = {
                    "messages": [
                        ToolMessage(
                            content=result_text(failed),
                            tool_call_id=call_id,
                            name=call["name"],
                            status="error",
                        )
                    ]
                }
            return Command(update=update)

        return list(await asyncio.gather(*(one(call) for call in call_message.tool_calls)))

    # ------------------------------------------------------------------ approval

    async def request_approval(state: AgentState) -> Command[FromRequestApproval]:
        """Ask the team to approve the refund on the ticket (through the outbox, ahead of routine
        mirroring), then wait for their decision."""
        request = state.get("pending_approval") or {}
        key = str(request.get("idempotency_key"))
        text = (
            f"Refund approval needed: order #{request.get('order_number')}, {request.get('amount')} "
            f"{request.get('currency')} for {', '.join(request.get('items') or [])}. Reason: {request.get('reason')}. "
            f"Add the tag '{APPROVED_TAG}' to approve or '{DENIED_TAG}' to deny; the shopper is told in the chat."
        )
        asks = {
            f"{key}:approval-note": {
                "kind": "note",
                "text": text,
                "external_id": f"{key}:approval",
                "priority": "urgent",
            },
            # No stale decision from an earlier request may decide this one.
            f"{key}:approval-tags": {
                "kind": "tags",
                "add": ["refund-approval"],
                "remove": [APPROVED_TAG, DENIED_TAG],
                "priority": "urgent",
            },
        }
        return Command(update={"helpdesk": asks, "status": "awaiting_approval"}, goto="await_approval")

    async def await_approval(state: AgentState) -> Command[FromAwaitApproval]:
        value = interrupt({"type": "approval", "ticket_id": state.get("ticket_id")})
        kind = value.get("kind") if isinstance(value, dict) else None
        if kind == "approval":
            decision = value.get("decision")
            return Command(update={"event": {"decision": decision}}, goto="apply_approval")
        if kind == "shopper":
            reply = msg.assistant(
                "Your refund request is still with our team for approval. I'll post their decision right here."
            )
            return Command(
                update={"messages": [msg.shopper(value.get("text", ""), message_id=value.get("id")), reply]},
                goto="await_approval",
            )
        if kind == "agent":
            message = msg.human_agent(
                value.get("text", ""), author=value.get("author"), message_id=value.get("id")
            )
            return Command(update={"messages": [message], "status": "human_handling"}, goto="human")
        return Command(goto="await_approval")

    async def apply_approval(state: AgentState) -> Command[FromApplyApproval]:
        request = state.get("pending_approval") or {}
        decision = (state.get("event") or {}).get("decision")
        base: dict[str, Any] = {"event": None, "pending_approval": None, "status": "active"}
        if decision != "approve":
            text = (
                f"Our team reviewed your refund request for order #{request.get('order_number')} and could not "
                "approve it. Nothing was refunded. A team member can explain more if you reply here."
            )
            return Command(update={**base, "messages": [msg.assistant(text)]}, goto="__end__")
        ctx = _ctx(state, str(request.get("tool_call_id") or "approval"))
        try:
            outcome = await refund_after_approval(ctx, request)
        except IntegrationError:
            outcome = refuse("vendor_unavailable", "The payment system is not answering.")
        if isinstance(outcome, Refusal):
            text = f"Your refund was approved, but it could not be completed: {outcome.message}"
            return Command(
                update={
                    **base,
                    "ledger": ctx.ledger,
                    "messages": [msg.assistant(text)],
                    "escalation": "approved refund failed",
                },
                goto="handoff",
            )
        text = (
            f"Good news: your refund for order #{outcome.order_number} was approved and {outcome.amount} "
            f"{outcome.currency} is on its way back to your original payment method (refund {outcome.refund_id})."
        )
        card = {
            "type": "refund",
            "order_number": outcome.order_number,
            "amount": outcome.amount,
            "currency": outcome.currency,
        }
        return Command(
            update={**base, "ledger": ctx.ledger, "messages": [msg.assistant(text, card=card)]},
            goto="__end__",
        )

    # ------------------------------------------------------------------ handoff

    def _ctx(state: AgentState, call_id: str) -> ToolContext:
        return context_from_state(tool_deps, cast(dict[str, Any], state), call_id)

    async def handoff(state: AgentState) -> Command[ToHuman]:
        """Hand the conversation to a person: the ticket gets the tags and a summary, the team one
        email per conversation, all through the outbox ahead of routine mirroring. A helpdesk outage
        only delays them; the conversation is with the team from now on."""
        if await handoffs_exhausted(state):
            return Command(
                update={
                    "messages": [msg.assistant(_handoff_cap_text(deps.contact_email))],
                    "escalation": None,
                    "pending_intents": [],
                },
                goto="__end__",
            )
        reason = _escalation_reason(state)
        intent = state.get("intent") or "escalation"
        key = f"handoff-{len(state.get('messages', []))}"
        summary = _summary(state, reason)
        customer = state.get("customer") or {}
        asks: dict[str, Any] = {
            f"{key}:tags": {
                "kind": "tags",
                "add": ["ai-handled", "ai_handover", intent],
                "priority": "urgent",
            },
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
                "order_number": _order_number(state),
                "reason": reason,
                "summary": summary,
                "transcript": [list(row) for row in _transcript(state.get("messages", []))],
                "priority": "urgent",
            },
        }
        text = (
            "I've passed this conversation to our support team, with a summary so you won't need to repeat "
            "yourself. A person will reply right here in this chat, usually within a few hours during "
            "business hours. I'll stay quiet until they're done."
        )
        card: dict[str, Any] = {"type": "handoff", "ticket_id": state.get("ticket_id")}
        return Command(
            update={
                "messages": [msg.assistant(text, card=card)],
                "status": "human_handling",
                "helpdesk": asks,
                "escalation": None,
                "pending_intents": [],
            },
            goto="human",
        )

    async def handoffs_exhausted(state: AgentState) -> bool:
        """A new hand-off beyond the client address's hourly cap (store-wide, any conversation):
        no new ticket escalation or team email. A conversation already handed off is not counted."""
        guards, client = tool_deps.guards, state.get("client")
        if guards is None or not client or "team_email" in (state.get("helpdesk") or {}):
            return False
        count = await guards.hit(f"handoff:{client}", tool_deps.clock().timestamp(), 3600.0)
        return count > policy.max_handoffs_per_client_per_hour

    async def model_failed(state: AgentState) -> Command[ToHandoff]:
        apology = msg.assistant(
            "I'm sorry, I'm having trouble answering right now. I'm bringing in a person from our support team."
        )
        return Command(update={"messages": [apology]}, goto="handoff")

    # ------------------------------------------------------------------ human handling

    async def human(state: AgentState) -> Command[FromHuman]:
        """The bot is silent: shopper messages go to the ticket (the outbox mirrors them), a
        person's replies come back; a close or hand-back returns the conversation to the bot."""
        value = interrupt({"type": "human_handling", "ticket_id": state.get("ticket_id")})
        kind = value.get("kind") if isinstance(value, dict) else "shopper"
        if kind == "shopper":
            text = value.get("text", "") if isinstance(value, dict) else str(value)
            return Command(
                update={
                    "messages": [
                        msg.shopper(text, message_id=value.get("id") if isinstance(value, dict) else None)
                    ]
                },
                goto="human",
            )
        if kind == "agent":
            message = msg.human_agent(
                value.get("text", ""), author=value.get("author"), message_id=value.get("id")
            )
            return Command(update={"messages": [message]}, goto="human")
        if kind in ("close", "handback"):
            text = (
                "You're back with the assistant. Is there anything else I can help with?"
                if kind == "handback"
                else "Our support team has closed this conversation. If you need anything else, just write here."
            )
            back = msg.assistant(text)
            update: dict[str, Any] = {
                "messages": [back],
                "status": "active",
                "intent": None,
                "unhelpful_turns": 0,
            }
            if kind == "handback":
                # Used once: left on the ticket, the tag would hand back the next takeover at once.
                update["helpdesk"] = {
                    f"handback-{back.id}": {"kind": "tags", "remove": [HANDBACK_TAG], "priority": "urgent"}
                }
            return Command(update=update, goto="__end__")
        return Command(goto="human")

    # ------------------------------------------------------------------ assembly

    builder: StateGraph[AgentState, None, AgentState, AgentState] = StateGraph(AgentState)
    builder.add_node("takeover", takeover)
    builder.add_node("classify", classify)
    for intent in MODEL_INTENTS:
        builder.add_node(intent, cast(Any, intent_node(intent)))
    builder.add_node("confirm", confirm)
    builder.add_node("await_confirmation", await_confirmation)
    builder.add_node("tools", run_tools)
    builder.add_node("request_approval", request_approval)
    builder.add_node("await_approval", await_approval)
    builder.add_node("apply_approval", apply_approval)
    builder.add_node("handoff", handoff)
    builder.add_node("model_failed", model_failed)
    builder.add_node("human", human)
    builder.add_conditional_edges(START, route_start)
    builder.add_conditional_edges("tools", route_after_tools)
    return builder.compile(checkpointer=checkpointer, name="support-agent")


def route_start(state: AgentState) -> FromStart:
    """A helpdesk event, a conversation a person holds, or a shopper message to classify."""
    if state.get("event"):
        return "takeover"
    if state.get("status") == "human_handling":
        return "human"
    return "classify"


def route_after_tools(state: AgentState) -> FromTools:
    """Back to the intent's model with the results, or to a person when a tool asked for one
    or a store system is down after retries."""
    if state.get("escalation"):
        return "handoff"
    for result in msg.tool_messages_since_last_ai(state.get("messages", [])):
        if _refusal_code(result) == "vendor_unavailable":
            return "handoff"
    return cast(FromTools, state.get("intent") or "other")


def _escalation_reason(state: AgentState) -> str:
    if state.get("escalation"):
        return str(state["escalation"])
    results = msg.tool_messages_since_last_ai(state.get("messages", []))
    if any(_refusal_code(r) == "vendor_unavailable" for r in results):
        return "a store system is down after retries"
    return "shopper asked for a person"


def _refusal_code(result: ToolMessage) -> str | None:
    try:
        body = json.loads(str(result.content))
    except json.JSONDecodeError:
        return None
    code = body.get("code") if isinstance(body, dict) and body.get("ok") is False else None
    return str(code) if code else None


def _finish(state: dict[str, Any], update: dict[str, Any]) -> Command[FromIntent]:
    """The model answered without tools: the next request of the message, a person after repeated
    failure, an approval request, or the end of the turn."""
    pending = list(state.get("pending_intents") or [])
    if pending:
        nxt = pending.pop(0)
        return Command(update={**update, "pending_intents": pending, "intent": nxt}, goto=_node(nxt))
    count = (state.get("unhelpful_turns") or 0) + 1 if _unhelpful(cast(AgentState, state)) else 0
    update = {**update, "unhelpful_turns": count}
    if count >= UNHELPFUL_LIMIT:
        return Command(update={**update, "escalation": "repeated failure to help"}, goto="handoff")
    if state.get("pending_approval") and state.get("status") != "awaiting_approval":
        return Command(update=update, goto="request_approval")
    return Command(update=update, goto="__end__")


def _node(name: str) -> Any:
    """A destination chosen at run time (an intent held in state); the annotations list them all."""
    return name


def _unhelpful(state: AgentState) -> bool:
    """The turn made no progress: the model is unsure, or the last tool call failed on bad input."""
    if (state.get("intent_confidence") or 1.0) < 0.35 and state.get("intent") == "other":
        return True
    results = msg.tool_messages_since_last_ai(state.get("messages", []))
    if not results:
        return False
    try:
        last = json.loads(str(results[-1].content))
    except json.JSONDecodeError:
        return True
    return last.get("code") in ("invalid_arguments", "order_not_found")


def _handoff_cap_text(contact_email: str | None) -> str:
    where = f"email us at {contact_email}" if contact_email else "reply to any email you have had from us"
    return (
        "Our support team already has your earlier requests for a person and will answer them; I can't open "
        f"another one right now. If it's urgent or about something new, please {where}. I'm still here for "
        "anything I can help with."
    )


def _order_number(state: AgentState) -> str | None:
    approval = state.get("pending_approval") or {}
    if approval.get("order_number"):
        return str(approval["order_number"])
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
    order = _order_number(state)
    last = msg.last_shopper_text(state.get("messages", []))
    lines = [
        f"Handed over by the AI assistant. Reason: {reason}.",
        f"Conversation with {who}" + (f" about order #{order}." if order else "."),
        f"Topic: {(state.get('intent') or 'unknown').replace('_', ' ')}.",
        f"Last message from the shopper: {last[:500]}",
    ]
    return "\n".join(lines)

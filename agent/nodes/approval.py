"""A refund over the automatic limit: the team decides in the helpdesk; the bot waits."""

from __future__ import annotations

from typing import Any

from langgraph.types import interrupt

from agent import messages as msg
from agent.cards import RefundCard
from agent.language import language_of, state_language
from agent.nodes.wiring import Wiring
from agent.state import AgentState
from integrations._http import IntegrationError
from prompts.templates import say
from tools.context import PendingApproval
from tools.refunds import refund_after_approval
from tools.results import Refusal, refuse

# The refusal's code → what the shopper hears when an approved refund could not be made.
APPROVED_BUT_FAILED = {
    "already_refunded": "approval.failed_already_refunded",
    "vendor_unavailable": "approval.failed_unavailable",
}


def pending_approval(state: AgentState) -> PendingApproval:
    """The refund waiting for the team (routing only comes here when there is one)."""
    return PendingApproval.model_validate(state.get("pending_approval"))


async def request_approval(state: AgentState) -> dict[str, Any]:
    """Ask the team to approve the refund on the ticket (through the outbox, ahead of routine
    mirroring), then wait for their decision."""
    request = pending_approval(state)
    key = request.idempotency_key
    text = (
        f"Refund approval needed: order #{request.order_number}, {request.amount} "
        f"{request.currency} for {', '.join(request.items)}. Reason: {request.reason}."
    )
    # The helpdesk's adapter says how its team decides (and clears any earlier decision).
    asks = {
        f"{key}:approval": {
            "kind": "approval_requested",
            "text": text,
            "external_id": f"{key}:approval",
            "priority": "urgent",
        }
    }
    return {"helpdesk": asks, "status": "awaiting_approval"}


async def await_approval(state: AgentState) -> dict[str, Any]:
    """Wait for the team's decision; the shopper hears it is pending, a person may step in."""
    value = interrupt({"type": "approval", "ticket_id": state.get("ticket_id")})
    kind = value.get("kind") if isinstance(value, dict) else None
    if kind == "approval":
        return {"event": {"decision": value.get("decision")}}
    if kind == "shopper":
        shopper = msg.shopper(value.get("text", ""), message_id=value.get("id"))
        language = await language_of([*state.get("messages", []), shopper])
        return {"messages": [shopper, msg.assistant(say("approval.pending", language))]}
    if kind == "agent":
        message = msg.human_agent(
            value.get("text", ""), author=value.get("author"), message_id=value.get("id")
        )
        return {"messages": [message], "status": "human_handling"}
    return {}


async def apply_approval(state: AgentState, wiring: Wiring) -> dict[str, Any]:
    """Carry out the team's decision: refund (exactly once, through the ledger) or say no."""
    request = pending_approval(state)
    decision = (state.get("event") or {}).get("decision")
    base: dict[str, Any] = {"event": None, "pending_approval": None, "status": "active"}
    language = await state_language(state)
    if decision != "approve":
        text = say("approval.declined", language, order=request.order_number)
        return {**base, "messages": [msg.assistant(text)]}
    ctx = wiring.tool_context(state, request.tool_call_id or "approval")
    try:
        outcome = await refund_after_approval(ctx, request)
    except IntegrationError:
        outcome = refuse("vendor_unavailable", "The payment system is not answering.")
    if isinstance(outcome, Refusal):
        # The refusal's message is written for the model; the shopper gets words chosen here.
        text = say(
            APPROVED_BUT_FAILED.get(outcome.code, "approval.failed"), language, order=request.order_number
        )
        return {
            **base,
            "ledger": ctx.ledger,
            "messages": [msg.assistant(text)],
            "escalation": "approved refund failed",
        }
    text = say(
        "approval.approved",
        language,
        order=outcome.order_number,
        amount=outcome.amount,
        currency=outcome.currency,
        refund_id=outcome.refund_id,
    )
    card = RefundCard(
        order_number=outcome.order_number, amount=outcome.amount, currency=outcome.currency, status="refunded"
    )
    return {**base, "ledger": ctx.ledger, "messages": [msg.assistant(text, card=card)]}

"""Refunds: how much can be refunded, and refunding it (or asking a person to approve it).

Money moves once per idempotency key: the Stripe refund carries the key as its
`Idempotency-Key`, a platform refund is checked against the order before it is written, and the
ledger in graph state replays a completed refund instead of repeating it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from integrations.domain import Order, RefundLine, RefundQuote
from prompts.templates import say
from tools.common import OrderNumber, money, owned_order
from tools.context import PendingApproval, ToolContext
from tools.results import Refusal, ToolResult, refuse
from tools.returns import assess_returns, ineligibility_code, unconfirmed_delivery
from tools.spec import Preview, tool
from tools.step_up import require_step_up


class CheckRefundEligibilityArgs(BaseModel):
    order_number: OrderNumber
    line_item_ids: list[str] | None = Field(
        description="Refund only these line items (line_item_id from lookup_order); null for the whole order."
    )


class RefundEligibility(ToolResult):
    order_number: str
    refundable_amount: str
    currency: str
    items: list[str]
    within_auto_approval_limit: bool
    needs_human_approval: bool
    processor: Literal["platform", "stripe"]
    excluded: list[str] = Field(description="Items that cannot be refunded and why.")


async def _quote(
    ctx: ToolContext, order: Order, line_item_ids: list[str] | None
) -> tuple[RefundQuote, list[str], list[str]] | Refusal:
    """The refund the policy allows for these items: (quote, item titles, excluded reasons)."""
    refundable = order.refundable
    if order.payment_processor == "stripe" and order.payment_reference:
        # Stripe refunds do not show in the platform's records: what is left is Stripe's answer.
        refundable = min(refundable, await ctx.deps.payments.refundable(order.payment_reference))
    if refundable <= 0 or order.financial_status == "refunded":
        return refuse(
            "already_refunded",
            f"Order #{order.number} has already been fully refunded.",
            order_number=order.number,
        )
    unknown_delivery = unconfirmed_delivery(order)
    if unknown_delivery is not None:
        return unknown_delivery
    eligibility = assess_returns(ctx, order)
    by_id = {i.line_item_id: i for i in eligibility.items}
    wanted = list(dict.fromkeys(line_item_ids)) if line_item_ids else list(by_id)
    unknown = [i for i in wanted if i not in by_id]
    if unknown:
        return refuse(
            "invalid_arguments", f"These items are not on order {order.number}: {', '.join(unknown)}."
        )
    allowed = [by_id[i] for i in wanted if by_id[i].returnable]
    excluded = [f"{by_id[i].title}: {by_id[i].explanation}" for i in wanted if not by_id[i].returnable]
    if not allowed:
        first = by_id[wanted[0]]
        code = ineligibility_code(first.reason, "nothing_to_refund")
        if code == "already_returned":
            code = "already_refunded"
        return refuse(
            code,
            "Nothing on this order can be refunded. " + "; ".join(excluded),
            excluded=excluded,
            order_number=order.number,
        )
    lines = [RefundLine(line_item_id=i.line_item_id, quantity=i.quantity) for i in allowed]
    # Shipping goes back with the last of the items, whether or not earlier items were refunded.
    remaining = {i.line_item_id for i in eligibility.items if i.reason != "already_returned"}
    whole_order = remaining <= {i.line_item_id for i in allowed}
    if order.payment_processor == "stripe":
        # Stripe only moves money: the amount is the platform's own refund arithmetic on the
        # order's discounted lines, their tax and (with the last items) the shipping left.
        amount = min(refundable, order.refund_amount(lines, include_shipping=whole_order))
        quote = RefundQuote(
            order_id=order.id,
            amount=amount,
            currency=order.currency,
            lines=tuple(lines),
            include_shipping=whole_order,
        )
    else:
        quote = await ctx.deps.commerce.quote_refund(order.id, lines, include_shipping=whole_order)
    if quote.amount <= 0:
        return refuse("nothing_to_refund", f"There is nothing left to refund on order #{order.number}.")
    if quote.amount > refundable:
        return refuse(
            "over_refundable",
            f"The refund would exceed what is left to refund ({money(refundable, order.currency)}).",
        )
    return quote, [f"{i.quantity} × {i.title}" for i in allowed], excluded


Quoted = tuple[Order, RefundQuote, list[str], list[str]]


async def _owned_quote(ctx: ToolContext, number: str, line_item_ids: list[str] | None) -> Quoted | Refusal:
    """The shopper's order and the refund the policy allows on it: (order, quote, items, excluded)."""
    order = await owned_order(ctx, number)
    if isinstance(order, Refusal):
        return order
    quoted = await _quote(ctx, order, line_item_ids)
    if isinstance(quoted, Refusal):
        return quoted
    return (order, *quoted)


@tool(lookup=True, progress="Checking your refund…")
async def check_refund_eligibility(
    ctx: ToolContext, args: CheckRefundEligibilityArgs
) -> RefundEligibility | Refusal:
    """How much of the verified shopper's order can be refunded under the store policy, and whether a
    refund of that size is within the automatic limit or needs a person's approval."""
    quoted = await _owned_quote(ctx, args.order_number, args.line_item_ids)
    if isinstance(quoted, Refusal):
        return quoted
    order, quote, items, excluded = quoted
    within = quote.amount <= ctx.deps.policy.refund_auto_approve_limit
    return RefundEligibility(
        order_number=order.number,
        refundable_amount=str(quote.amount),
        currency=quote.currency,
        items=items,
        within_auto_approval_limit=within,
        needs_human_approval=not within,
        processor=order.payment_processor,
        excluded=excluded,
    )


class IssueRefundArgs(BaseModel):
    order_number: OrderNumber
    line_item_ids: list[str] | None = Field(
        description="Refund only these line items (line_item_id from lookup_order); null for the whole order."
    )
    reason: str = Field(description="Why the shopper wants the refund, in a few words.", max_length=300)


class RefundIssued(ToolResult):
    status: Literal["refunded"] = "refunded"
    order_number: str
    amount: str
    currency: str
    refund_id: str
    processor: str
    items: list[str]


class RefundPendingApproval(ToolResult):
    status: Literal["pending_approval"] = "pending_approval"
    order_number: str
    amount: str
    currency: str
    items: list[str]
    message: str


async def perform_refund(
    ctx: ToolContext, order: Order, quote: RefundQuote, items: list[str], reason: str
) -> RefundIssued:
    """Move the money, once per idempotency key, and note it on the order.

    Also used by the approval step after a person approves an over-limit refund.
    """
    deps = ctx.deps
    key = ctx.idempotency_key

    async def pay() -> dict[str, Any]:
        if order.payment_processor == "stripe" and order.payment_reference:
            record = await deps.payments.refund(
                order.payment_reference,
                quote.amount,
                currency=order.currency,
                idempotency_key=key,
                metadata={
                    "order_number": order.number,
                    "conversation_id": ctx.conversation_id,
                    "reason": reason[:200],
                },
            )
        else:
            record = await deps.commerce.refund(
                quote, note=f"{reason[:200]} [ref {key}]", idempotency_key=key
            )
        return {
            "id": record.id,
            "processor": record.processor,
            "amount": str(record.amount),
            "currency": record.currency,
            "items": list(items),
        }

    paid = await ctx.once("issue_refund", "refund", pay)
    return await finish_refund(ctx, order, paid)


async def finish_refund(ctx: ToolContext, order: Order, paid: dict[str, Any]) -> RefundIssued:
    """After the money moved: the order note (once), and the result."""
    deps = ctx.deps
    key = ctx.idempotency_key
    items = [str(i) for i in paid.get("items") or []]

    async def note() -> dict[str, str]:
        await deps.commerce.append_note(
            order.id,
            f"Refund {paid['processor']} {paid['id']}: {money(paid['amount'], paid['currency'])} for "
            f"{', '.join(items) or 'the items refunded'} [ref {key}]",
        )
        return {"noted": "yes"}

    await ctx.once("issue_refund", "note", note)
    return RefundIssued(
        order_number=order.number,
        amount=str(paid["amount"]),
        currency=str(paid["currency"]),
        refund_id=str(paid["id"]),
        processor=str(paid["processor"]),
        items=items,
    )


async def _resumed(ctx: ToolContext, number: str) -> RefundIssued | Refusal | None:
    """A refund this call already made (the process died before the turn was saved): finish it
    rather than re-checking eligibility, which would now see nothing left to refund."""
    paid = await ctx.completed("refund")
    if paid is None:
        return None
    order = await owned_order(ctx, number)
    if isinstance(order, Refusal):
        return order
    return await finish_refund(ctx, order, paid)


async def _made_by_this_call(ctx: ToolContext, number: str) -> RefundIssued | None:
    """The vendor holds a refund made with this call's key, though no record of it survived here (the
    process died between the vendor's answer and the journal): finish it instead of refusing."""
    order = await owned_order(ctx, number)
    if isinstance(order, Refusal):
        return None
    deps = ctx.deps
    if order.payment_processor == "stripe" and order.payment_reference:
        record = await deps.payments.find_refund(order.payment_reference, ctx.idempotency_key)
    else:
        record = await deps.commerce.find_refund(order.id, ctx.idempotency_key)
    if record is None:
        return None
    paid: dict[str, Any] = {
        "id": record.id,
        "processor": record.processor,
        "amount": str(record.amount),
        "currency": record.currency,
        "items": [],
    }
    ctx.ledger[ctx.step_key("refund")] = {"tool": "issue_refund", "step": "refund", "result": paid}
    if f"[ref {ctx.idempotency_key}]" in (order.note or ""):  # the note was written too
        ctx.ledger[ctx.step_key("note")] = {
            "tool": "issue_refund",
            "step": "note",
            "result": {"noted": "yes"},
        }
    return await finish_refund(ctx, order, paid)


async def preview_refund(ctx: ToolContext, args: IssueRefundArgs) -> Preview | Refusal:
    quoted = await _owned_quote(ctx, args.order_number, args.line_item_ids)
    if isinstance(quoted, Refusal):
        return quoted
    order, quote, items, excluded = quoted
    step_up = require_step_up(ctx, "issue_refund", order.number)
    if step_up is not None:
        return step_up
    approval = quote.amount > ctx.deps.policy.refund_auto_approve_limit
    summary = say(
        "confirm.refund_needs_approval" if approval else "confirm.refund",
        ctx.language,
        amount=money(quote.amount, quote.currency),
        order=order.number,
    )
    return Preview(summary=summary, items=items, amount=str(quote.amount), excluded=excluded)


@tool(mutates=True, needs_confirmation=True, preview=preview_refund, progress="Processing your refund…")
async def issue_refund(
    ctx: ToolContext, args: IssueRefundArgs
) -> RefundIssued | RefundPendingApproval | Refusal:
    """Refund the verified shopper's order (or some of its items) to the original payment method. Never
    more than the refundable amount; refunds above the store's automatic limit are not made but sent to
    a person for approval. The shopper must have confirmed."""
    resumed = await _resumed(ctx, args.order_number)
    if resumed is not None:
        return resumed
    quoted = await _owned_quote(ctx, args.order_number, args.line_item_ids)
    if isinstance(quoted, Refusal):
        if quoted.code == "already_refunded":
            return await _made_by_this_call(ctx, args.order_number) or quoted
        return quoted
    order, quote, items, _ = quoted
    step_up = require_step_up(ctx, "issue_refund", order.number)
    if step_up is not None:
        return step_up
    if quote.amount > ctx.deps.policy.refund_auto_approve_limit:
        ctx.approval_request = PendingApproval(
            order_number=order.number,
            amount=str(quote.amount),
            currency=quote.currency,
            items=items,
            line_item_ids=[line.line_item_id for line in quote.lines],
            reason=args.reason,
            idempotency_key=ctx.idempotency_key,
            tool_call_id=ctx.tool_call_id,
        )
        return RefundPendingApproval(
            order_number=order.number,
            amount=str(quote.amount),
            currency=quote.currency,
            items=items,
            message=(
                f"Refunds above {money(ctx.deps.policy.refund_auto_approve_limit, quote.currency)} need a "
                "person's approval. The request has been sent to the support team; nothing has been refunded yet."
            ),
        )
    return await perform_refund(ctx, order, quote, items, args.reason)


async def refund_after_approval(ctx: ToolContext, request: PendingApproval) -> RefundIssued | Refusal:
    """Carry out an over-limit refund a person approved (called by the graph, never by the model).

    The order is re-read and re-quoted, so an approval cannot refund more than is refundable now.
    """
    resumed = await _resumed(ctx, request.order_number)
    if resumed is not None:
        return resumed
    order = await owned_order(ctx, request.order_number)
    if isinstance(order, Refusal):
        return order
    quoted = await _quote(ctx, order, request.line_item_ids)
    if isinstance(quoted, Refusal):
        return quoted
    quote, items, _ = quoted
    return await perform_refund(ctx, order, quote, items, request.reason or "approved refund")

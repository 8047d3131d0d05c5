"""Refunds: verify, look up the order (for item names), check eligibility, then ask for the refund.

The refund itself is confirmed by the graph; above the store's limit the tool does not refund
but asks a person to approve, and the reply says exactly that. Items a return label was created
for in this conversation are refunded when the return arrives (store policy): asking about their
refund gets that answer, never a second, immediate refund.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from agent.offline.conversation import ToolOutcome
from agent.offline.flows.common import declined_step, not_possible, refused, shopper_reason
from agent.offline.flows.formatting import bullets, join, money
from agent.offline.flows.opening import looked_up_order, verified_order_number
from agent.offline.flows.returns import ambiguous_items, ask_which, named_items
from agent.offline.flows.situation import Decision, Situation
from tools.orders import OrderView
from tools.refunds import RefundEligibility, RefundIssued, RefundPendingApproval
from tools.results import RefusalCode
from tools.returns import ReturnLabelCreated

_ITEM_CODES: frozenset[RefusalCode] = frozenset(
    {"final_sale", "outside_return_window", "already_returned", "nothing_to_refund"}
)


def refunds_step(sit: Situation) -> Decision:
    conv = sit.conversation
    declined = declined_step(sit, ("issue_refund",))
    if declined is not None:
        return declined
    refund = conv.segment_result("issue_refund")
    if refund is not None:
        return _refund_reply(sit, refund)
    number = verified_order_number(sit)
    if isinstance(number, Decision):
        return number
    order = looked_up_order(sit, number)
    if isinstance(order, Decision):
        return order
    items = order.items if order is not None else []
    unclear = ambiguous_items(sit, [i.title for i in items])
    if unclear:
        return ask_which(sit, [i.title for i in items], unclear)
    chosen = [items[k] for k in named_items(sit, [i.title for i in items])]
    ids = [i.line_item_id for i in chosen] if chosen and len(chosen) < len(items) else None
    label = _return_on_its_way(sit, number, [i.line_item_id for i in chosen])
    if label is not None:
        return sit.say(
            "refunds.after_return", order_number=number, items=join(label.items, sit.replies.language)
        )
    eligibility = conv.segment_result("check_refund_eligibility", number)
    if eligibility is None:
        if not sit.can("check_refund_eligibility"):
            return not_possible(sit, number)
        return sit.call("check_refund_eligibility", {"order_number": number, "line_item_ids": ids})
    if not eligibility.ok:
        return _not_refundable(sit, eligibility, order)
    if not sit.can("issue_refund"):
        return not_possible(sit, number)
    args = {
        "order_number": number,
        "line_item_ids": eligibility.args.get("line_item_ids", ids),
        "reason": shopper_reason(sit, "requested by the shopper in chat"),
    }
    return sit.call("issue_refund", args)


def _return_on_its_way(sit: Situation, number: str, chosen_ids: list[str]) -> ReturnLabelCreated | None:
    """The return label created in this conversation for the items the shopper asks about.

    Returned items are refunded once the return arrives at the warehouse (store policy), so a
    refund question right after the label ("when will I get my money back?") is answered with
    that, not with a second, immediate refund. Items the label does not cover, or an order refunded
    after the label was created, go through the normal refund flow.
    """
    conv = sit.conversation
    label = conv.latest_result("create_return_label", number)
    created = label.success(ReturnLabelCreated) if label is not None else None
    if label is None or created is None:
        return None
    refund = conv.latest_result("issue_refund", number)
    if refund is not None and refund.position > label.position:
        return None
    covered = label.args.get("line_item_ids")
    if chosen_ids and covered and not set(chosen_ids) <= {str(i) for i in covered}:
        return None
    return created


def _not_refundable(sit: Situation, outcome: ToolOutcome, order: OrderView | None) -> Decision:
    number = outcome.order_number or (order.order_number if order is not None else "")
    refusal = outcome.refusal
    if refusal is None:
        return refused(sit, outcome)
    if refusal.code == "already_refunded":
        if order is not None and _positive(order.refunded):
            return sit.say(
                "refunds.already_refunded_amount",
                order_number=number,
                amount=money(order.refunded, order.currency),
            )
        return sit.say("refunds.already_refunded", order_number=number)
    if refusal.code == "not_delivered":
        unfulfilled = order is not None and order.status == "unfulfilled"
        return sit.say("refunds.not_shipped" if unfulfilled else "refunds.not_delivered", order_number=number)
    if refusal.code in _ITEM_CODES:
        # Item by item when the tool lists them; "nothing left to refund" is about the whole order.
        reasons = refusal.excluded or [refusal.message]
        return sit.say("refunds.not_refundable", order_number=number, reasons=bullets(reasons))
    return refused(sit, outcome)


def _positive(amount: object) -> bool:
    """A platform amount above zero (a Stripe refund can leave the platform's "refunded" at 0.00)."""
    try:
        return Decimal(str(amount)) > 0
    except (InvalidOperation, ValueError):
        return False


def _excluded_note(sit: Situation, number: str | None) -> str:
    eligibility = sit.conversation.latest_result("check_refund_eligibility", number)
    checked = eligibility.success(RefundEligibility) if eligibility is not None else None
    if checked is None or not checked.excluded:
        return ""
    return "\n\n" + sit.replies.render("refunds.excluded", excluded=bullets(checked.excluded))


def _refund_reply(sit: Situation, outcome: ToolOutcome) -> Decision:
    result = outcome.success(RefundIssued) or outcome.success(RefundPendingApproval)
    if result is None:
        return _not_refundable(sit, outcome, None)
    amount = money(result.amount, result.currency)
    items = join(result.items, sit.replies.language)
    number = result.order_number
    note = _excluded_note(sit, number)
    key = "refunds.pending_approval" if isinstance(result, RefundPendingApproval) else "refunds.refunded"
    text = sit.replies.render(key, order_number=number, amount=amount, items=items)
    return Decision(text=text + note)

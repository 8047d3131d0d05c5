"""Refunds: verify, look up the order (for item names), check eligibility, then ask for the refund.

The refund itself is confirmed by the graph; above the store's limit the tool does not refund
but asks a person to approve, and the reply says exactly that. Items a return label was created
for in this conversation are refunded when the return arrives (store policy): asking about their
refund gets that answer, never a second, immediate refund.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from agent.offline.conversation import ToolOutcome
from agent.offline.flows.common import declined_step, not_possible, refused, shopper_reason
from agent.offline.flows.formatting import bullets, join, money
from agent.offline.flows.opening import looked_up_order, verified_order_number
from agent.offline.flows.returns import named_items
from agent.offline.flows.situation import Decision, Situation

_ITEM_CODES = frozenset({"final_sale", "outside_return_window", "already_returned", "nothing_to_refund"})
_NOTHING_PREFIX = "Nothing on this order can be refunded."


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
    items = [i for i in order.get("items") or [] if isinstance(i, dict)]
    chosen = [items[k] for k in named_items(sit, [str(i.get("title")) for i in items])]
    ids = [str(i["line_item_id"]) for i in chosen] if chosen and len(chosen) < len(items) else None
    label = _return_on_its_way(sit, number, [str(i.get("line_item_id")) for i in chosen])
    if label is not None:
        return sit.say(
            "refunds.after_return",
            order_number=number,
            items=join([str(i) for i in label.result.get("items") or []]),
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


def _return_on_its_way(sit: Situation, number: str, chosen_ids: list[str]) -> ToolOutcome | None:
    """The return label created in this conversation for the items the shopper asks about.

    Returned items are refunded once the return arrives at the warehouse (store policy), so a
    refund question right after the label ("when will I get my money back?") is answered with
    that, not with a second, immediate refund. Items the label does not cover, or an order refunded
    after the label was created, go through the normal refund flow.
    """
    conv = sit.conversation
    label = conv.latest_result("create_return_label", number)
    if label is None or not label.ok:
        return None
    refund = conv.latest_result("issue_refund", number)
    if refund is not None and refund.position > label.position:
        return None
    covered = label.args.get("line_item_ids")
    if chosen_ids and covered and not set(chosen_ids) <= {str(i) for i in covered}:
        return None
    return label


def _not_refundable(sit: Situation, outcome: ToolOutcome, order: dict[str, Any]) -> Decision:
    number = outcome.order_number or str(order.get("order_number") or "")
    if outcome.code == "already_refunded":
        if _positive(order.get("refunded")) and order.get("currency"):
            return sit.say(
                "refunds.already_refunded_amount",
                order_number=number,
                amount=money(order["refunded"], order["currency"]),
            )
        return sit.say("refunds.already_refunded", order_number=number)
    if outcome.code == "not_delivered":
        key = "refunds.not_shipped" if order.get("status") == "unfulfilled" else "refunds.not_delivered"
        return sit.say(key, order_number=number)
    if outcome.code in _ITEM_CODES:
        message = str(outcome.result.get("message") or "")
        reasons = [r.strip() for r in message.removeprefix(_NOTHING_PREFIX).split(";") if r.strip()]
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
    excluded = eligibility.result.get("excluded") if eligibility is not None and eligibility.ok else None
    if not excluded:
        return ""
    return "\n\n" + sit.replies.render("refunds.excluded", excluded=bullets([str(e) for e in excluded]))


def _refund_reply(sit: Situation, outcome: ToolOutcome) -> Decision:
    result = outcome.result
    if not outcome.ok:
        return _not_refundable(sit, outcome, {})
    amount = money(result.get("amount"), result.get("currency"))
    items = join([str(i) for i in result.get("items") or []])
    number = str(result.get("order_number") or "")
    note = _excluded_note(sit, number)
    if result.get("status") == "pending_approval":
        text = sit.replies.render("refunds.pending_approval", order_number=number, amount=amount, items=items)
    else:
        text = sit.replies.render("refunds.refunded", order_number=number, amount=amount, items=items)
    return Decision(text=text + note)

"""Order changes before shipping: cancel the order, or change where it goes.

The order is looked up first so a shipped order gets a plain explanation instead of a
confirmation the tool would refuse anyway; an address change needs the complete new address.
"""

from __future__ import annotations

from agent.offline.conversation import ToolOutcome
from agent.offline.flows.common import declined_step, not_possible, refused, shopper_reason
from agent.offline.flows.formatting import money
from agent.offline.flows.opening import looked_up_order, verified_order_number
from agent.offline.flows.situation import Decision, Situation
from agent.offline.nlu.address import ParsedAddress, parse_address
from agent.offline.nlu.entities import order_change_kind
from tools.order_changes import AddressUpdated, OrderCancelled

# How many shopper messages back "change my address" / an address still counts.
LOOKBACK = 4


def change_kind(sit: Situation) -> str | None:
    for text in [sit.clause, *sit.conversation.shopper_texts()[1:LOOKBACK]]:
        kind = order_change_kind(text)
        if kind is not None:
            return kind
    return None


def new_address(sit: Situation) -> ParsedAddress | None:
    for text in sit.conversation.shopper_texts()[:LOOKBACK]:
        address = parse_address(text)
        if address is not None:
            return address
    return None


def order_change_step(sit: Situation) -> Decision:
    conv = sit.conversation
    declined = declined_step(sit, ("cancel_order", "update_shipping_address"))
    if declined is not None:
        return declined
    for name in ("cancel_order", "update_shipping_address"):
        done = conv.segment_result(name)
        if done is not None:
            return _done_reply(sit, done)
    number = verified_order_number(sit)
    if isinstance(number, Decision):
        return number
    order = looked_up_order(sit, number)
    if isinstance(order, Decision):
        return order
    status = order.status if order is not None else None
    if status == "cancelled":
        return sit.say("order_change.already_cancelled", order_number=number)
    if status == "refunded":
        return sit.say("refunds.already_refunded", order_number=number)
    if status in ("shipped", "delivered"):
        return sit.say("order_change.already_shipped", order_number=number)
    kind = change_kind(sit)
    if kind == "cancel":
        if not sit.can("cancel_order"):
            return not_possible(sit, number)
        reason = shopper_reason(sit, "requested by the shopper in chat")
        return sit.call("cancel_order", {"order_number": number, "reason": reason})
    if kind == "address":
        address = new_address(sit)
        if address is None:
            current = order.shipping_address if order is not None else None
            if current:
                return sit.say("order_change.ask_address_current", order_number=number, current=current)
            return sit.say("order_change.ask_address", order_number=number)
        if not sit.can("update_shipping_address"):
            return not_possible(sit, number)
        return sit.call("update_shipping_address", {"order_number": number, "address": address.as_args()})
    return sit.say("order_change.ask_kind", order_number=number)


def _done_reply(sit: Situation, outcome: ToolOutcome) -> Decision:
    number = outcome.order_number or ""
    cancelled = outcome.success(OrderCancelled)
    if cancelled is not None:
        amount = money(cancelled.refunded_amount, cancelled.currency)
        return sit.say("order_change.cancelled", order_number=number, amount=amount)
    moved = outcome.success(AddressUpdated)
    if moved is not None:
        return sit.say("order_change.address_updated", order_number=number, address=moved.address)
    return refused(sit, outcome)

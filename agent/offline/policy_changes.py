"""Order changes before shipping: cancel the order, or change where it goes.

The order is looked up first so a shipped order gets a plain explanation instead of a
confirmation the tool would refuse anyway; an address change needs the complete new address.
"""

from __future__ import annotations

from typing import Any

from agent.offline.conversation import ToolOutcome
from agent.offline.entities import order_change_kind
from agent.offline.policy_address import ParsedAddress, parse_address
from agent.offline.policy_common import declined_step, not_possible, refused, said_no, shopper_reason
from agent.offline.policy_core import Decision, Situation
from agent.offline.policy_format import money
from agent.offline.policy_identity import order_step, verification_step

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
    verify = verification_step(sit)
    if verify is not None:
        return verify
    if said_no(sit):
        return sit.say("common.declined")
    number, find = order_step(sit)
    if find is not None or number is None:
        return find or sit.say("orders.ask_number")
    looked_up = next(
        (o for o in reversed(conv.segment_outcomes) if o.name == "lookup_order" and o.order_number == number),
        None,
    )
    if looked_up is None and sit.can("lookup_order"):
        return sit.call("lookup_order", {"order_number": number})
    if looked_up is not None and not looked_up.ok:
        return refused(sit, looked_up)
    order: dict[str, Any] = (looked_up.result.get("order") or {}) if looked_up is not None else {}
    status = order.get("status")
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
            current = str(order.get("shipping_address") or "")
            if current:
                return sit.say("order_change.ask_address_current", order_number=number, current=current)
            return sit.say("order_change.ask_address", order_number=number)
        if not sit.can("update_shipping_address"):
            return not_possible(sit, number)
        return sit.call("update_shipping_address", {"order_number": number, "address": address.as_args()})
    return sit.say("order_change.ask_kind", order_number=number)


def _done_reply(sit: Situation, outcome: ToolOutcome) -> Decision:
    result = outcome.result
    number = outcome.order_number or ""
    if not outcome.ok:
        return refused(sit, outcome)
    if outcome.name == "cancel_order":
        amount = money(result.get("refunded_amount"), result.get("currency"))
        return sit.say("order_change.cancelled", order_number=number, amount=amount)
    return sit.say("order_change.address_updated", order_number=number, address=result.get("address"))

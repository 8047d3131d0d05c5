"""Steps every order flow (returns, refunds, order changes) takes before its own work."""

from __future__ import annotations

from typing import Any

from agent.offline.policy_common import refused, said_no
from agent.offline.policy_core import Decision, Situation
from agent.offline.policy_identity import order_step, verification_step


def verified_order_number(sit: Situation) -> str | Decision:
    """The order number to act on once the shopper is verified, or what to say or call first."""
    verify = verification_step(sit)
    if verify is not None:
        return verify
    if said_no(sit):
        return sit.say("common.declined")
    number, find = order_step(sit)
    if find is not None or number is None:
        return find or sit.say("orders.ask_number")
    return number


def looked_up_order(sit: Situation, number: str) -> dict[str, Any] | Decision:
    """The order as `lookup_order` returned it in this step, or the call (or refusal) to make first."""
    looked_up = next(
        (
            o
            for o in reversed(sit.conversation.segment_outcomes)
            if o.name == "lookup_order" and o.order_number == number
        ),
        None,
    )
    if looked_up is None and sit.can("lookup_order"):
        return sit.call("lookup_order", {"order_number": number})
    if looked_up is not None and not looked_up.ok:
        return refused(sit, looked_up)
    order: dict[str, Any] = (looked_up.result.get("order") or {}) if looked_up is not None else {}
    return order

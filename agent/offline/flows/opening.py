"""Who the shopper is and which order they mean: verification first, then the order number.

Details may be spread over several messages ("where's my order?" … "ana.silva@example.com" …
"#1001") and corrected ("sorry, I meant #1002"): the newest mention wins. Identity itself is never
decided here: ``verify_customer`` decides, and its answer (or another tool's) says who is verified.
"""

from __future__ import annotations

import re
from typing import Final

from agent.offline.conversation import ToolOutcome
from agent.offline.flows.common import beyond_history, escalate, refused, said_no
from agent.offline.flows.formatting import bullets, day, join
from agent.offline.flows.situation import Decision, Situation
from agent.offline.nlu.entities import extract_email, match_line_items
from agent.offline.nlu.language import clause_for, has_details
from agent.offline.nlu.order_numbers import lone_number, order_number_in
from tools.orders import OrderDetails, OrderView, RecentOrders

# An email the shopper names as someone else's ("show me ben@x.com's orders") is never used to
# verify: only an address they give as their own is.
_OTHERS_AFTER = re.compile(r"^\s*(?:'s|’s)\b")
_OTHERS_BEFORE = re.compile(
    r"\b(?:orders? (?:of|for|from)|belong(?:s|ing)? to|account of|customer|someone|somebody|friend|wife|"
    r"husband|partner|mom|mother|dad|father|brother|sister|colleague|boss|another|other)\b[^.?!]*$",
    re.IGNORECASE,
)


def _own_email(text: str) -> str | None:
    email = extract_email(text)
    if email is None:
        return None
    at = text.find(email)
    if _OTHERS_AFTER.match(text[at + len(email) :]) or _OTHERS_BEFORE.search(text[max(0, at - 60) : at]):
        return None
    return email


def shopper_email(sit: Situation) -> str | None:
    """The newest email address the shopper gave as their own."""
    for text in sit.conversation.shopper_texts():
        email = _own_email(text)
        if email:
            return email
    return None


def mentioned_order(sit: Situation) -> str | None:
    """The newest order number the shopper mentioned for this intent's request."""
    number = order_number_in(sit.clause)
    if number:
        return number
    for text in sit.conversation.shopper_texts():
        number = order_number_in(clause_for(sit.predict, text, sit.intent)) or order_number_in(text)
        if number:
            return number
    return _answered_number(sit)


def _answered_number(sit: Situation) -> str | None:
    """The agent just asked for the order number: the one number in the answer is it, however it
    is worded ("998 i believe", "um it was 1013 or so")."""
    if "order_number" not in sit.conversation.asked_for():
        return None
    return lone_number(sit.latest)


def verification_step(sit: Situation) -> Decision | None:
    """``None`` when the shopper is verified; otherwise what to ask or call next."""
    conv = sit.conversation
    if conv.is_verified:
        return None
    attempted = conv.segment_result("verify_customer")
    if attempted is not None and not attempted.ok:
        return _verification_refused(sit, attempted)
    email = shopper_email(sit)
    number = mentioned_order(sit)
    if email and number and sit.can("verify_customer"):
        args = {"email": email, "order_number": number}
        last = conv.latest_verification()
        if last is not None and not last.ok and last.args == args and not has_details(sit.latest):
            # The same details just failed: asking again beats burning another attempt.
            return _verification_refused(sit, last)
        return sit.call("verify_customer", args)
    if email and not number:
        return sit.say("verification.ask_order")
    if number and not email:
        return sit.say("verification.ask_email", order_number=number)
    return sit.say("verification.ask_both")


# Failed verifications in one conversation before a person takes over (a dead end, not a quiz).
FAILED_VERIFICATIONS: Final[int] = 3


def _verification_refused(sit: Situation, outcome: ToolOutcome) -> Decision:
    failed = [
        o
        for o in sit.conversation.outcomes
        if o.name == "verify_customer" and o.code == "verification_failed"
    ]
    if (
        len(failed) >= FAILED_VERIFICATIONS
        and sit.can("escalate_to_human")
        and outcome.code != "order_too_old"
    ):
        facts = f"{len(failed)} verification attempts failed in this chat (details did not match)."
        return escalate(
            sit, "repeated failure: could not verify the shopper", mentioned_order(sit), facts=facts
        )
    if outcome.code == "verification_locked":
        return sit.say("verification.locked")
    if outcome.code == "order_too_old":
        return beyond_history(sit, outcome)
    return sit.say("verification.failed")


def order_step(sit: Situation) -> tuple[str | None, Decision | None]:
    """The order to act on, or the step that finds it (list the shopper's orders, ask)."""
    number = mentioned_order(sit) or _picked_from_list(sit) or sit.conversation.verified_order_number
    if number:
        return number, None
    listed = next(
        (
            o
            for o in reversed(sit.conversation.segment_outcomes)
            if o.name == "lookup_order" and o.args.get("order_number") is None
        ),
        None,
    )
    if listed is None:
        if sit.can("lookup_order"):
            return None, sit.call("lookup_order", {"order_number": None})
        return None, sit.say("orders.ask_number")
    recent = listed.success(RecentOrders)
    if recent is None:
        return None, sit.say("orders.ask_number")
    orders = recent.orders
    if len(orders) == 1:
        return orders[0].order_number, None
    if not orders:
        return None, sit.say("orders.none_found")
    lines = [_order_line(sit, o) for o in orders]
    return None, sit.say("orders.pick", orders=bullets(lines))


def _picked_from_list(sit: Situation) -> str | None:
    """The order the shopper picked from the list the agent just showed ("the one with the
    lantern", "the second one"), so the list is not shown again."""
    conv = sit.conversation
    if not conv.assistant_asked_question():
        return None
    listing = next(
        (
            o
            for o in reversed(conv.outcomes)
            if o.name == "lookup_order"
            and o.args.get("order_number") is None
            and o.position < conv.turns[-1].position
        ),
        None,
    )
    recent = listing.success(RecentOrders) if listing is not None else None
    if recent is None or len(recent.orders) < 2:
        return None
    descriptions = [" ".join(i.title for i in o.items) for o in recent.orders]
    picked = match_line_items(sit.latest, descriptions)
    return recent.orders[picked[0]].order_number if len(picked) == 1 else None


def _order_line(sit: Situation, order: OrderView) -> str:
    titles = [i.title for i in order.items]
    placed = day(order.placed_at, sit.today, sit.replies.language)
    return f"#{order.order_number}, placed {placed}, {order.status}: {join(titles, sit.replies.language)}"


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


def looked_up_order(sit: Situation, number: str) -> OrderView | Decision | None:
    """The order as `lookup_order` returned it in this step, or the call (or refusal) to make first;
    None when the order cannot be looked up here (the flow goes on without its details)."""
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
    if looked_up is None:
        return None
    details = looked_up.success(OrderDetails)
    if details is None:
        return refused(sit, looked_up)
    return details.order

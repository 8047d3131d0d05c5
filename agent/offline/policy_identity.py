"""Who the shopper is and which order they mean: verification first, then the order number.

Details may be spread over several messages ("where's my order?" … "ana.silva@example.com" …
"#1001") and corrected ("sorry, I meant #1002"): the newest mention wins. Identity itself is never
decided here: ``verify_customer`` decides, and the graph's context says who is verified.
"""

from __future__ import annotations

import re

from agent.offline.conversation import ToolOutcome
from agent.offline.entities import extract_email
from agent.offline.policy_common import beyond_history
from agent.offline.policy_core import Decision, Situation
from agent.offline.policy_entities import order_number_in
from agent.offline.policy_format import bullets, day, join
from agent.offline.policy_language import clause_for, has_details

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
    return None


def verification_step(sit: Situation) -> Decision | None:
    """``None`` when the shopper is verified; otherwise what to ask or call next."""
    conv = sit.conversation
    if conv.verified_email:
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


def _verification_refused(sit: Situation, outcome: ToolOutcome) -> Decision:
    if outcome.code == "verification_locked":
        return sit.say("verification.locked")
    if outcome.code == "order_too_old":
        return beyond_history(sit, outcome)
    return sit.say("verification.failed")


def order_step(sit: Situation) -> tuple[str | None, Decision | None]:
    """The order to act on, or the step that finds it (list the shopper's orders, ask)."""
    number = mentioned_order(sit) or sit.conversation.verified_order_number
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
    if not listed.ok:
        return None, sit.say("orders.ask_number")
    orders = [o for o in listed.result.get("orders") or [] if isinstance(o, dict)]
    if len(orders) == 1:
        return str(orders[0].get("order_number")), None
    if not orders:
        return None, sit.say("orders.none_found")
    lines = [_order_line(sit, o) for o in orders]
    return None, sit.say("orders.pick", orders=bullets(lines))


def _order_line(sit: Situation, order: dict[str, object]) -> str:
    items = order.get("items")
    titles = [str(i.get("title")) for i in items if isinstance(i, dict)] if isinstance(items, list) else []
    placed = day(order.get("placed_at"), sit.today)
    return f"#{order.get('order_number')}, placed {placed}, {order.get('status')}: {join(titles)}"

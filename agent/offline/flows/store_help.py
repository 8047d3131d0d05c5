"""Questions about the store itself, answered from its help pages; and "which orders do I have?".

A question goes to ``search_store_help`` in the conversation's language and the best passage is given
with its source named (and, when only an English page answers it, saying the page is in English). When
the help pages hold nothing relevant the shopper hears so plainly (never a guess) and is offered a
person; a "yes" to that offer hands over. A verified (or signed-in) shopper asking which orders they
have gets their recent orders from ``lookup_order``, which checks whose they are.
"""

from __future__ import annotations

import re
from typing import Final

from agent.offline.flows.common import escalate, refused, said_no, said_yes
from agent.offline.flows.formatting import bullets
from agent.offline.flows.opening import _order_line, verification_step
from agent.offline.flows.situation import Decision, Situation
from agent.offline.nlu.language import has_details
from tools.orders import RecentOrders
from tools.store_help import StoreHelp

_MY_ORDERS: Final[re.Pattern[str]] = re.compile(
    r"\b(?:my|our) (?:\w+ )?(?:orders|purchases|order history)\b|\border history\b|\borders? (?:do|did|have) (?:i|we)\b"
    r"|\bwhat (?:have|did) i (?:order(?:ed)?|buy|bought|purchased?)\b|\bhave i ordered\b"
    r"|\b(?:which|what|list|show|see|view|pull up)\b[\w\s']{0,20}\b(?:orders|purchases)\b[\w\s']{0,20}\b(?:i|me|my)\b",
    re.IGNORECASE,
)
_ONE_ORDER: Final[re.Pattern[str]] = re.compile(
    r"\b(?:where|when|track|status|cancel|return|refund)\b", re.IGNORECASE
)
# The offer of a person after "I don't know" (prompts/offline/[<lang>/]store_help.md, situation unknown).
_OFFERED_PERSON: Final[tuple[str, ...]] = (
    "pass your question to a person",
    "pase tu pregunta a una persona",
    "transmette votre question à une personne",
    "frage an eine person weitergebe",
)


def asks_for_own_orders(text: str) -> bool:
    return bool(_MY_ORDERS.search(text)) and not _ONE_ORDER.search(text)


def store_help_step(sit: Situation) -> Decision:
    conv = sit.conversation
    if conv.segment_result("escalate_to_human") is not None:
        return sit.say("escalation.handed_over")
    last = (conv.last_assistant_text() or "").lower()
    offered = any(phrase in last for phrase in _OFFERED_PERSON)
    if offered and said_yes(sit) and sit.can("escalate_to_human"):
        return escalate(sit, "store question the help pages do not answer", None)
    if offered and said_no(sit):
        return sit.say("store_help.no_person")
    if _wants_order_list(sit):
        return _order_list(sit)
    return _answer(sit)


def _wants_order_list(sit: Situation) -> bool:
    """The latest message asks for the list, or gives the details asked for to get it."""
    if asks_for_own_orders(sit.latest):
        return True
    earlier = sit.conversation.shopper_texts()[1:3]
    return has_details(sit.latest) and any(asks_for_own_orders(t) for t in earlier)


def _order_list(sit: Situation) -> Decision:
    conv = sit.conversation
    listed = next(
        (
            o
            for o in reversed(conv.segment_outcomes)
            if o.name == "lookup_order" and o.args.get("order_number") is None
        ),
        None,
    )
    if listed is None:
        verify = verification_step(sit) if not _signed_in_maybe(sit) else None
        if verify is not None:
            return verify
        if not sit.can("lookup_order"):
            return sit.say("orders.ask_number")
        return sit.call("lookup_order", {"order_number": None})
    recent = listed.success(RecentOrders)
    if recent is None:
        if listed.code == "not_verified":
            return verification_step(sit) or sit.say("verification.ask_both")
        return refused(sit, listed)
    if not recent.orders:
        return sit.say("orders.none_found")
    lines = [_order_line(sit, o) for o in recent.orders]
    return sit.say("store_help.orders", orders=bullets(lines))


def _signed_in_maybe(sit: Situation) -> bool:
    """Worth asking the tools first: they know a signed-in shopper; nobody has tried verifying yet
    in this turn and the shopper gave no details to verify with."""
    conv = sit.conversation
    return conv.is_verified or (
        conv.segment_result("verify_customer") is None and not has_details(sit.latest)
    )


def _answer(sit: Situation) -> Decision:
    searched = sit.conversation.segment_result("search_store_help")
    if searched is None:
        if not sit.can("search_store_help"):
            return sit.say("store_help.unknown")
        question = sit.clause or sit.latest
        # The pages in the shopper's language first (tools/help_content.py falls back to English).
        return sit.call("search_store_help", {"question": question[:500], "language": sit.replies.language})
    found = searched.success(StoreHelp)
    if found is None or not found.found or not found.answers:
        return sit.say("store_help.unknown")
    best = found.answers[0]
    if best.language != sit.replies.language:
        # No page in the shopper's language answers it: quote the English page and say it is in English.
        return sit.say("store_help.answer_in_english", source=best.source, text=best.text)
    return sit.say("store_help.answer", source=best.source, text=best.text)

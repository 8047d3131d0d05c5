"""Replies every order flow shares: tool refusals, a declined confirmation, handing over."""

from __future__ import annotations

import re

from agent.offline.conversation import ToolOutcome
from agent.offline.flows.situation import Decision, Situation
from agent.offline.nlu.entities import is_affirmative, is_negative
from agent.offline.nlu.language import has_details
from tools.results import Refusal


def refused(sit: Situation, outcome: ToolOutcome) -> Decision:
    """Explain a refusal the flow has no specific words for. Never repeats internal instructions
    (a refusal's ``message`` is written for the model), only what the code means."""
    code = outcome.code
    number = outcome.order_number or ""
    if code == "declined_by_shopper":
        return sit.say("common.declined")
    if code in ("not_verified",):
        return sit.say("verification.ask_both")
    if code == "verification_failed":
        return sit.say("verification.failed")
    if code == "verification_locked":
        return sit.say("verification.locked")
    if code == "vendor_unavailable":
        return sit.say("common.vendor_unavailable")
    if code == "order_too_old":
        return beyond_history(sit, outcome)
    if not number:
        return not_possible(sit, None)
    if code in ("order_not_found", "not_your_order"):
        return sit.say("orders.not_found", order_number=number)
    if code == "already_cancelled":
        return sit.say("order_change.already_cancelled", order_number=number)
    if code == "already_fulfilled":
        return sit.say("order_change.already_shipped", order_number=number)
    if code == "already_refunded":
        return sit.say("refunds.already_refunded", order_number=number)
    return not_possible(sit, number)


def beyond_history(sit: Situation, outcome: ToolOutcome) -> Decision:
    """An order older than the store lets the assistant read: say so, and hand over to a person."""
    number = outcome.order_number or ""
    refusal = outcome.result if isinstance(outcome.result, Refusal) else None
    days = (refusal.details.get("days") if refusal else None) or "60"
    text = sit.replies.render("orders.too_old", order_number=number, days=days)
    if not sit.can("escalate_to_human"):
        return Decision(text=text)
    facts = f"Order #{number} is older than the {days} days of orders the assistant can read."
    return escalate(sit, "order older than the assistant can read", number or None, facts=facts, text=text)


# What `common.not_possible` was about, in the words of the shopper's language.
_WHAT = {
    "en": ("order #{}", "that request"),
    "es": ("el pedido #{}", "esa solicitud"),
    "fr": ("la commande #{}", "cette demande"),
    "de": ("die Bestellung #{}", "diese Anfrage"),
}


def not_possible(sit: Situation, order_number: object) -> Decision:
    order, request = _WHAT.get(sit.replies.language, _WHAT["en"])
    return sit.say("common.not_possible", order=order.format(order_number) if order_number else request)


def declined_step(sit: Situation, mutating: tuple[str, ...]) -> Decision | None:
    """The shopper said no to the confirmation of one of ``mutating`` (the graph's refusal)."""
    for name in mutating:
        outcome = sit.conversation.segment_result(name)
        if outcome is not None and outcome.code == "declined_by_shopper":
            return sit.say("common.declined")
    return None


def summary(sit: Situation, order_number: str | None, facts: str = "") -> str:
    """Two or three sentences a support agent can act on (escalate_to_human's ``summary``)."""
    conv = sit.conversation
    if conv.verified_email:
        who = f"Shopper verified as {conv.verified_email}."
    else:
        who = "Shopper verified." if conv.is_verified else "Shopper not verified in this chat."
    order = f" Order #{order_number}." if order_number else ""
    recent = [t.strip().replace("\n", " ") for t in conv.shopper_texts()[:3] if t.strip()]
    said = " | ".join(f'"{t[:200]}"' for t in reversed(recent))
    text = f"{who}{order} Topic: {sit.intent}. {facts.strip()} Shopper wrote: {said}".replace("  ", " ")
    return text[:1990]


def escalate(
    sit: Situation, reason: str, order_number: str | None, facts: str = "", text: str = ""
) -> Decision:
    """Call ``escalate_to_human`` (the graph then hands off and tells the shopper)."""
    return sit.call(
        "escalate_to_human",
        {"reason": reason[:300], "summary": summary(sit, order_number, facts)},
        text=text,
    )


def said_no(sit: Situation) -> bool:
    """The shopper's latest message is a plain "no" to the question the assistant just asked."""
    conv = sit.conversation
    return (
        not conv.segment_outcomes
        and conv.assistant_asked_question()
        and is_negative(sit.latest)
        and not has_details(sit.latest)
    )


def said_yes(sit: Situation) -> bool:
    """The shopper's latest message is a "yes" to the question the assistant just asked."""
    return sit.conversation.assistant_asked_question() and is_affirmative(sit.latest)


_BECAUSE = re.compile(r"\b(?:because|since|cause|cuz|coz|bc)\s+(.{3,120}?)(?:[.!?]|$)", re.IGNORECASE)
_REASONS = re.compile(
    r"\b(?:too (?:small|big|large|tight|loose|short|long)|(?:does ?n[o']?t|didn'?t) fit|damaged|broken|"
    r"defective|faulty|ripped|torn|stained|wrong (?:item|size|colou?r|product|thing)|changed my mind|"
    r"not as (?:described|pictured)|(?:don'?t|do not|no longer) (?:need|want|like) (?:it|them)|"
    r"arrived late|never arrived|duplicate|ordered (?:twice|by mistake)|by mistake|found (?:it )?cheaper)\b",
    re.IGNORECASE,
)


def shopper_reason(sit: Situation, default: str) -> str:
    """The shopper's own words for why (a return, refund or cancellation), or ``default``."""
    for text in sit.conversation.shopper_texts()[:4]:
        because = _BECAUSE.search(text)
        if because:
            return because.group(1).strip()[:200]
        known = _REASONS.search(text)
        if known:
            return known.group(0)[:200]
    return default

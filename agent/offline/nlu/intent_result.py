"""The ``IntentResult`` structured output: what the latest shopper message asks for.

A short follow-up ("yes", "#1002", "the mug") belongs to the request under way; a message with two
requests gives the first as the intent and the others as ``additional_intents``; a legal or
chargeback threat is always ``escalation``.
"""

from __future__ import annotations

import re
from typing import Any, Final

from agent.offline.conversation import Conversation
from agent.offline.nlu.entities import extract_email, is_threat
from agent.offline.nlu.frustration import delivered_not_received, is_frustrated
from agent.offline.nlu.language import (
    CARRY_LOOKBACK,
    GUESSING,
    Predict,
    clause_intents,
    has_details,
    is_request,
    resolve_intents,
)
from agent.offline.nlu.order_numbers import lone_number, order_number_in

# A question about the parcel just tracked: when it comes, who brings it ("what day will it come?",
# "which courier?", "¿y cuándo llega?", "et quand arrive-t-il ?", "wann kommt es an?"). With an order
# in focus it continues the tracking request.
_PARCEL_FOLLOW_UP: Final[re.Pattern[str]] = re.compile(
    r"\b(?:when|what day|which day|what time|how long|how many days|eta|arriv\w*|get here|come|coming|"
    r"deliver\w*|courier|carrier|shipper|who(?:'s| is) (?:delivering|bringing)|bringing it|which (?:company|service)|"
    r"shipping company|tracking (?:number|link)|where is it now|still on (?:its|the) way|"
    # Spanish, French, German: when, which day, arrives, delivered, carrier, tracking
    r"cuándo|cuando|qué día|llega\w*|entrega\w*|transportista|mensajer\w*|repartidor\w*|seguimiento|"
    r"quand|quel jour|livr\w*|transporteur|livreur|suivi|"
    r"wann|welche[nm]? tag|(?:an)?kommt|ankunft|liefer\w*|zustell\w*|paketdienst|versanddienst|sendungsnummer)\b",
    re.IGNORECASE,
)


def answers_the_question(conversation: Conversation, text: str) -> bool:
    """The latest message gives the order number the agent just asked for, and nothing else."""
    return (
        "order_number" in conversation.asked_for()
        and lone_number(text) is not None
        and len(text.split()) <= 6
    )


def _gives_the_details_asked_for(conversation: Conversation, text: str) -> bool:
    """The number asked for, or the email and order number asked for given as a plain statement
    ("it's ben@example.com and one of them was 1002"): the request under way goes on."""
    if answers_the_question(conversation, text):
        return True
    asked = conversation.asked_for()
    return {"email", "order_number"} <= asked and has_details(text) and not is_request(text)


def _parcel_follow_up(conversation: Conversation, text: str) -> bool:
    """A question about the tracked parcel right after its tracking was shown (the order in focus)."""
    tracked = conversation.latest_result("get_tracking_status")
    return tracked is not None and tracked.ok and bool(_PARCEL_FOLLOW_UP.search(text))


def classify(conversation: Conversation, predict: Predict) -> dict[str, Any]:
    """Arguments of the ``IntentResult`` tool call for the latest shopper message."""
    turns = conversation.turns[-CARRY_LOOKBACK:]
    if not turns:
        return {
            "intent": "other",
            "confidence": 0.0,
            "additional_intents": [],
            "order_number": None,
            "email": None,
        }
    offset = len(conversation.turns) - len(turns)
    texts = [t.text for t in turns]
    asked = [conversation.asked_before(offset + i) for i in range(len(turns))]
    everything = resolve_intents(predict, texts, asked)
    resolved = everything[-1]
    latest = texts[-1]
    ongoing = next((r for r in reversed(everything[:-1]) if r.intent != "other"), None)
    if ongoing is not None and _gives_the_details_asked_for(conversation, latest):
        # The agent asked for the order number and got one ("um 998 i believe"): the request
        # under way goes on, whatever the words around the number suggest.
        resolved = ongoing
    intent, confidence, additional = resolved.intent, resolved.confidence, []
    primary_clause = latest
    parts = clause_intents(predict, latest)
    if len(parts) > 1:
        wanted = [(c, p) for c, p in parts if p.intent != "other" and p.confidence >= GUESSING]
        asks = [(c, p) for c, p in wanted if is_request(c)]
        if asks:
            # The ask may be anywhere in a long message: the story around it ("the parcel came,
            # the box was fine") is context, not a request of its own.
            wanted = asks
        if wanted:
            primary_clause, first = wanted[0]
            intent, confidence = first.intent, first.confidence
            for _, prediction in wanted[1:]:
                if prediction.intent != intent and prediction.intent not in additional:
                    additional.append(prediction.intent)
    if intent == "other" and _parcel_follow_up(conversation, latest):
        intent, confidence = "wismo", max(confidence, 0.7)
    if delivered_not_received(latest) and intent not in ("escalation", "wismo"):
        # "It says delivered but I never got it": the tracking flow looks, then hands over.
        intent, confidence, additional = "wismo", max(confidence, 0.8), []
    if is_frustrated(latest) and intent != "escalation":
        # "This is useless", "you're not helping": a dead end for the shopper, a case for a person.
        intent, confidence, additional = "escalation", max(confidence, 0.9), []
    if is_threat(latest) and intent != "escalation":
        # A legal or chargeback threat goes to a person, whatever else the message asks for: the bot
        # must not refund or change an order under a threat.
        intent, confidence, additional = "escalation", max(confidence, 0.9), []
    return {
        "intent": intent,
        "confidence": round(min(1.0, max(0.0, confidence)), 4),
        "additional_intents": additional,
        "order_number": order_number_in(primary_clause) or order_number_in(latest),
        "email": extract_email(latest),
    }

"""What the offline model understands of the shopper's words: intents per clause, follow-ups, small talk.

Built on the trained classifier (``agent.offline.nlu.classifier``) and the entity extraction
(``agent.offline.nlu.entities``); this module only decides how to use them in a conversation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from agent.offline.nlu.address import parse_address
from agent.offline.nlu.classifier import IntentPrediction
from agent.offline.nlu.entities import (
    extract_email,
    is_affirmative,
    is_negative,
    split_requests,
)
from agent.offline.nlu.order_numbers import order_number_in

# A prediction this sure of a non-"other" intent is a new request, even in the middle of a flow.
CONFIDENT: Final[float] = 0.6
# Below this the classifier is guessing: treat the message as "other" unless it is a follow-up.
GUESSING: Final[float] = 0.4
# How far back a follow-up ("yes", "#1002", "the mug") looks for the request it belongs to.
CARRY_LOOKBACK: Final[int] = 8

Predict = Callable[[Sequence[str]], list[IntentPrediction]]
SmallTalk = Literal["greeting", "thanks", "goodbye"]

_GREETING = re.compile(
    r"^\W*(?:hi+|hello+|hey+|hiya|howdy|yo|good (?:morning|afternoon|evening|day)|greetings|hallo|hola|"
    r"buenos días|buenas|bonjour|bonsoir|salut|guten (?:tag|morgen|abend))\b",
    re.IGNORECASE,
)
_THANKS = re.compile(
    r"\b(?:thanks?|thank (?:you|u)|thx|tysm|ty|cheers|appreciate(?:d| it)|gracias|merci|danke)\b",
    re.IGNORECASE,
)
_GOODBYE = re.compile(
    r"\b(?:bye+|goodbye|good bye|see (?:you|ya)|that'?s all|that is all|have a (?:good|nice|great) "
    r"(?:day|one|evening|night)|take care|all good now|nothing else|adiós|adios|hasta luego|au revoir|"
    r"bonne journée|tschüss|auf wiedersehen)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")


def small_talk(text: str) -> SmallTalk | None:
    """Greeting, thanks or goodbye when that is all the message is (a few words at most)."""
    words = len(_WORD.findall(text))
    if words > 8:
        return None
    if _GOODBYE.search(text):
        return "goodbye"
    if _THANKS.search(text):
        return "thanks"
    if _GREETING.search(text) and words <= 5:
        return "greeting"
    return None


_REQUEST_CUE = re.compile(
    r"\?|\b(?:can|could|would|will) (?:i|you|we|u|someone|somebody)\b|\b(?:i'?d|i would|we'?d) (?:like|love|prefer|rather)\b|"
    r"\b(?:i|we) (?:want|need|wanna|wish|hope)\b|\bplease\b|\bpls\b|\bhow (?:do|can|long)\b|\b(?:where|when|why)\b|"
    r"\b(?:is|are) (?:there|it|they)\b|\bany (?:way|chance)\b|\blet me\b|^\s*(?:cancel|return|refund|track|"
    r"send|ship|change|help|give|check|look)\b",
    re.IGNORECASE,
)


def is_request(clause: str) -> bool:
    """Whether a clause asks for something (a question or a request), not just tells a story."""
    return bool(_REQUEST_CUE.search(clause))


def has_details(text: str) -> bool:
    """Whether the message supplies something a request needs: an email, an order number, an address."""
    return bool(extract_email(text) or order_number_in(text) or parse_address(text))


def is_answer(text: str) -> bool:
    """A clear yes or no."""
    return is_affirmative(text) or is_negative(text)


def makes_progress(text: str) -> bool:
    """Whether a shopper message moves things on even when no tool is called for it."""
    return has_details(text) or is_answer(text) or small_talk(text) is not None


_DETAIL_TOKENS = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|#?\s?\d+|\b(?:order|number|no|nr|num|it'?s|its|it|is|was|my|email|e-mail|address|"
    r"here|the|sorry|i|meant|mean|and|oh|ok|okay|thanks|thank|you|please|pls|actually|oops|that|one|this|for)\b",
    re.IGNORECASE,
)


def only_details(text: str) -> bool:
    """A message that is just an email and/or order number with filler ("sorry, I meant #1002")."""
    if not (extract_email(text) or order_number_in(text)):
        return False
    return not _WORD.findall(_DETAIL_TOKENS.sub(" ", text))


def is_follow_up(text: str, asked_question: bool) -> bool:
    """Whether the message answers the assistant rather than starting something new."""
    if has_details(text):
        return True
    if not asked_question:
        return False
    if is_answer(text):  # "no thanks" answers the question, it is not small talk
        return True
    if small_talk(text) is not None:
        return False
    # A short statement ("the blue one", "both please") answers; a new question does not.
    return len(_WORD.findall(text)) <= 8 and not text.rstrip().endswith("?")


@dataclass(frozen=True)
class ResolvedIntent:
    intent: str
    confidence: float


def resolve_intents(predict: Predict, texts: Sequence[str], asked: Sequence[bool]) -> list[ResolvedIntent]:
    """The intent of each shopper message (oldest first), follow-ups carrying the request before.

    ``asked[i]`` says whether the assistant's reply before message ``i`` was a question.
    """
    predictions = predict(list(texts))
    resolved: list[ResolvedIntent] = []
    for index, (text, prediction) in enumerate(zip(texts, predictions, strict=True)):
        ongoing = next((r for r in reversed(resolved) if r.intent != "other"), None)
        confident = prediction.intent != "other" and prediction.confidence >= CONFIDENT
        details = only_details(text)
        if ongoing is not None and is_follow_up(text, asked[index]) and (details or not confident):
            # Bare details say nothing about intent, however sure the classifier is ("1001").
            resolved.append(ongoing)
        elif details:
            resolved.append(ResolvedIntent("other", 0.5))
        elif confident:
            resolved.append(ResolvedIntent(prediction.intent, prediction.confidence))
        elif prediction.confidence < GUESSING:
            resolved.append(ResolvedIntent("other", prediction.confidence))
        else:
            resolved.append(ResolvedIntent(prediction.intent, prediction.confidence))
    return resolved


def clauses(text: str) -> list[str]:
    return split_requests(text) or [text]


def clause_intents(predict: Predict, text: str) -> list[tuple[str, IntentPrediction]]:
    """Each request clause of a message with its prediction (one clause for a single request)."""
    parts = clauses(text)
    if len(parts) == 1:
        return [(parts[0], predict([parts[0]])[0])]
    return list(zip(parts, predict(parts), strict=True))


def clause_for(predict: Predict, text: str, intent: str) -> str:
    """The part of a message that is about ``intent`` (the whole message when none stands out)."""
    parts = clauses(text)
    if len(parts) == 1:
        return text
    for clause, prediction in zip(parts, predict(parts), strict=True):
        if prediction.intent == intent:
            return clause
    return text

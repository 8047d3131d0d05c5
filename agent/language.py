"""Which language the shopper writes in, so the offline model and the graph's own texts
(``prompts/fixed/``) can answer in it.

Detection is py3langid (a fork of langid.py whose model ships inside the package: no download, a
few MB, deterministic), restricted to the languages shoppers of these stores write in. A short message
("sí", "ok", "1001") says little, so it is read from a few marker words, and a message that says
nothing either way keeps the language the conversation already has; English is the default.
"""

from __future__ import annotations

import asyncio
import functools
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Final

from langchain_core.messages import BaseMessage, HumanMessage

# Languages the offline model's templates are written in (prompts/offline/<lang>/); others get English.
ANSWERED: Final[tuple[str, ...]] = ("en", "es", "fr", "de")
# Languages the detector chooses among: a few neighbours too, so Italian is not read as Spanish.
_DETECTED: Final[list[str]] = ["en", "es", "fr", "de", "it", "pt", "nl"]
# Below this the detector is guessing (short or mixed text).
_SURE: Final[float] = 0.7
_MIN_WORDS: Final[int] = 3

_MARKERS: Final[dict[str, re.Pattern[str]]] = {
    "es": re.compile(
        r"\b(?:hola|gracias|sí|por favor|vale|claro|buenos días|buenas|adiós|pedido|dónde|quiero)\b",
        re.IGNORECASE,
    ),
    "fr": re.compile(
        r"\b(?:bonjour|bonsoir|merci|oui|d'accord|s'il vous plaît|commande|où|je voudrais)\b", re.IGNORECASE
    ),
    "de": re.compile(
        r"\b(?:hallo|guten tag|danke|ja bitte|bitte|genau|nein|tschüss|bestellung|wo ist)\b", re.IGNORECASE
    ),
    "en": re.compile(r"\b(?:hi|hello|thanks|thank you|yes|yeah|please|order|where)\b", re.IGNORECASE),
}
_NOISE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|#?\d+")
_WORD = re.compile(r"[^\W\d_]+")

_identifier: Any = None
_lock = threading.Lock()


def _detector() -> Any:
    """The py3langid identifier, loaded once (a few seconds: callers warm it up off the event loop)."""
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            identifier.set_languages(_DETECTED)
            _identifier = identifier
        return _identifier


def warm_up() -> None:
    _detector()


def is_ready() -> bool:
    """Whether the detector is loaded (using it then does no file work)."""
    return _identifier is not None


async def load() -> None:
    """Load the detector's model off the event loop (about a second), unless it is loaded."""
    if not is_ready():
        await asyncio.to_thread(warm_up)


# A conversation's language is asked for several times a turn (classification, each answer of the
# offline model, the service's notices), each time over the same recent messages: a message's
# language depends on its text alone, so each text is classified once. Bounded: shopper messages
# are capped in size by the API, and 2,048 of them is a few MB at most.
@functools.lru_cache(maxsize=2048)
def detect(text: str) -> str | None:
    """The language of one message, or None when it does not say (too short, numbers, unsure)."""
    cleaned = _NOISE.sub(" ", text)
    words = _WORD.findall(cleaned)
    if len(words) >= _MIN_WORDS:
        language, probability = _detector().classify(cleaned)
        if float(probability) >= _SURE:
            return str(language)
    hits = [language for language, marker in _MARKERS.items() if marker.search(cleaned)]
    return hits[0] if len(hits) == 1 else None


def conversation_language(texts_newest_first: Sequence[str]) -> str:
    """The language to answer in: the newest message that says, among those the templates have."""
    for text in texts_newest_first[:6]:
        language = detect(text)
        if language is not None:
            return language if language in ANSWERED else "en"
    return "en"


async def language_of(messages: Sequence[BaseMessage]) -> str:
    """The conversation's language, from its shopper messages (newest first): en, es, fr or de.
    The detector's model is loaded off the event loop the first time (about a second)."""
    await load()
    texts = [
        m.content for m in reversed(messages) if isinstance(m, HumanMessage) and isinstance(m.content, str)
    ]
    return conversation_language(texts)


async def state_language(state: Mapping[str, Any]) -> str:
    """The language the turn's classification recorded in the state (`language`), else detected
    from its messages: nodes that speak after classification do not detect it again."""
    recorded = state.get("language")
    return recorded if isinstance(recorded, str) else await language_of(state.get("messages", []))

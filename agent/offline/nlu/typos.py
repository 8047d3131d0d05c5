"""Light typo correction for the intent classifier: "retrun" -> "return", "ordr" -> "order".

Shoppers type on phones. The classifier's character n-grams tolerate some typos, but a
misspelt key word ("retrun the beanie from ordr 1002") can still tip a message to the wrong
intent. Before classification, each word that is a one-slip misspelling of one of a few dozen
support key words is replaced by the key word. A slip is the commonest kind of typing error:
a letter dropped ("pakage"), two neighbours swapped ("cancle") or a letter doubled ("adresss").
Real words that are one slip away from a key word ("were", "here", "tracing", "manger") are left
alone, and so is a misspelling that could be two different key words. A short list of frequent
misspellings that are not single slips ("recieve", "speek") is added by hand.

Everything is a fixed lookup table built at import: deterministic, and cheap per message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

# The words that carry a support request's intent, in the forms shoppers use.
KEY_WORDS: Final[tuple[str, ...]] = tuple(
    """
    order orders purchase return returns returned returning refund refunds refunded cancel cancelled
    canceled cancellation package parcel address tracking track tracked where delivery delivered
    deliver arrive arrived arrival shipped shipping shipment exchange change money charged human
    agent person manager supervisor speak received receive status item label email send sent back
    """.split()
)

# Real words one slip away from a key word: correcting them would change what the shopper said.
_REAL_WORDS: Final[frozenset[str]] = frozenset(
    """
    here were there hare ware whee other older odder border ode odes code rack tack racked tacked
    traced tracing racking tacking tracer manage manger charge hipped hipping chipped stats peak
    gent abel able delver retuned retuning reorder reorders ranger angel mail sipped sipping
    """.split()
)

# Frequent misspellings that are not a single slip.
_EXTRA: Final[dict[str, str]] = {
    "humen": "human",
    "packege": "package",
    "pakege": "package",
    "adres": "address",
    "adresss": "address",
    "refound": "refund",
    "returm": "return",
    "delievered": "delivered",
    "recievd": "received",
    "speek": "speak",
}

# Below this length too many slips are real words ("item" -> "tem", "iem").
_MIN_LENGTH: Final[int] = 4


def _slips(word: str) -> set[str]:
    """Every spelling one slip away from ``word``: a letter dropped, doubled or swapped."""
    found: set[str] = set()
    for i in range(len(word)):
        found.add(word[:i] + word[i + 1 :])
        found.add(word[:i] + word[i] + word[i:])
        if i + 1 < len(word):
            found.add(word[:i] + word[i + 1] + word[i] + word[i + 2 :])
    found.discard(word)
    return {w for w in found if len(w) >= _MIN_LENGTH}


def build_corrections(key_words: Iterable[str]) -> dict[str, str]:
    """Misspelling -> key word, for every unambiguous slip of a key word that is not a real word."""
    words = tuple(key_words)
    owners: dict[str, set[str]] = {}
    for word in words:
        for slip in _slips(word):
            owners.setdefault(slip, set()).add(word)
    corrections = {
        slip: next(iter(owner))
        for slip, owner in owners.items()
        if len(owner) == 1 and slip not in words and slip not in _REAL_WORDS
    }
    corrections.update(_EXTRA)
    return corrections


CORRECTIONS: Final[dict[str, str]] = build_corrections(KEY_WORDS)

_LOWER_WORD = re.compile(r"[a-z]+")


def correct_typos(text: str) -> str:
    """``text`` (already lower-cased) with misspelt key words replaced: "wheres my pakage" ->
    "wheres my package". Everything else, spacing included, is kept as it was."""
    return _LOWER_WORD.sub(lambda m: CORRECTIONS.get(m.group(0), m.group(0)), text)

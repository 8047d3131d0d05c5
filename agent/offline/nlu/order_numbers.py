"""Order numbers as a support chat means them, on top of ``agent.offline.nlu.entities``."""

from __future__ import annotations

import re

from agent.offline.nlu.address import parse_address
from agent.offline.nlu.entities import extract_order_number

# "return the beanie from 1002", "refund for 1009", "cancel 1004": a bare number right after one of
# these words is an order number in a support chat. The entity extractor only accepts marked
# numbers ("#1002", "order 1002"), which is right in general and too strict here.
_LOOSE_ORDER = re.compile(
    r"\b(?:from|for|on|of|about|re|regarding|cancel|cancell?ing|return|returning|refund|refunding|track|"
    r"tracking|change|changing|with)\s+(\d{4,6})\b(?![.,/-]?\d)(?!\s*(?:%|dollars?|bucks|usd|eur|euros?|pounds|"
    r"days?|weeks?|months?|years?|hours?|items?|pcs|pieces|units)\b)",
    re.IGNORECASE,
)


def order_number_in(text: str) -> str | None:
    """The order number in a message: a marked one ("#1002", "order 1002"), else a bare number
    right after "from", "for", "cancel" and the like. Never a number inside an address."""
    marked = extract_order_number(text)
    if marked or parse_address(text):
        return marked
    loose = _LOOSE_ORDER.search(text)
    return loose.group(1) if loose else None

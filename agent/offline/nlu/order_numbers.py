"""Order numbers as a support chat means them, on top of ``agent.offline.nlu.entities``."""

from __future__ import annotations

import re

from agent.offline.nlu.address import address_start, parse_address
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


# "when will 1011 get here?", "has 1005 been delivered?", "should be 1013 I think": in a support chat
# a lone 4-6 digit number, not an amount, a year, a quantity or part of an address, phone or
# tracking number, is the order number. Only when it is the message's only such number.
_UNMARKED = re.compile(
    r"(?<![\w$€£#.,/:-])(\d{4,6})(?![\w/:-])(?![.,]\d)(?!\s*(?:%|dollars?|bucks|usd|eur|euros?|pounds|gbp|"
    r"days?|weeks?|months?|years?|hours?|hrs?|minutes?|mins?|items?|pcs|pieces|units|am|pm|ml|in|cm|mm|kg|g|lbs?|"
    r"km|miles?|calories|points)\b)",
    re.IGNORECASE,
)
_NOT_AN_ORDER_BEFORE = re.compile(
    r"\b(?:year|circa|zip|postal|postcode|code|phone|tel|call|apt|suite|unit|"
    r"size|model|sku|pin|card|ending in|tracking|paid|pay|cost|costs|spent|charged|price|worth|total|of)\s*(?:number|no\.?|#)?\s*(?:is|was|:)?\s*$",
    re.IGNORECASE,
)


# "in 2024", "since 2019": a year, not an order ("everything in 1006" is an order).
_YEAR = re.compile(r"\b(?:in|since|until|till|by|from|of)\s+$", re.IGNORECASE)


def _unmarked_number(text: str) -> str | None:
    found = [
        m
        for m in _UNMARKED.finditer(text)
        if not _NOT_AN_ORDER_BEFORE.search(text[max(0, m.start() - 20) : m.start()])
        and not (
            re.fullmatch(r"(?:19|20)\d\d", m.group(1))
            and _YEAR.search(text[max(0, m.start() - 8) : m.start()])
        )
    ]
    digit_runs = re.findall(r"\d{4,}", text)
    if len(found) != 1 or len(digit_runs) != 1:
        return None
    return found[0].group(1)


def order_number_in(text: str) -> str | None:
    """The order number in a message: a marked one ("#1002", "order 1002"), else a bare number
    right after "from", "for", "cancel" and the like, else the message's one lone 4-6 digit number.
    Never a number inside an address."""
    marked = extract_order_number(text)
    if marked:
        return marked
    if parse_address(text):
        # "please ship 1004 to 77 Birch Lane, ...": the number before the address.
        start = address_start(text)
        return order_number_in(text[:start]) if start else None
    loose = _LOOSE_ORDER.search(text)
    if loose:
        return loose.group(1)
    return _unmarked_number(text)


_EMAIL_LIKE = re.compile(r"\S+@\S+")
_ANY_NUMBER = re.compile(r"(?<![\w$€£.,/-])#?(\d{3,10})(?![\w.,/-]*\d)")


def lone_number(text: str) -> str | None:
    """The one 3-10 digit number in a message (emails aside), or ``None``: an answer to "what's
    the order number?" however it is worded ("um 998 i believe")."""
    numbers = _ANY_NUMBER.findall(_EMAIL_LIKE.sub(" ", text))
    return numbers[0] if len(numbers) == 1 else None

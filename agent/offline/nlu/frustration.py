"""Dead ends a person should take over: frustration with the assistant, and a parcel marked
delivered that never reached the shopper.

Anger alone is not escalation ("where the hell is my order?" gets the tracking). What is: the
shopper saying the assistant is not helping ("this is useless", "you're not helping", "what a
waste of time", "you keep giving me the same answer"). A product called useless ("the lantern is
useless, it won't charge") is a return, not frustration with the chat.
"""

from __future__ import annotations

import re

_FRUSTRATED = re.compile(
    r"\b(?:this|that|it)(?:'s| is| was)\s+(?:so\s+|completely\s+|totally\s+|absolutely\s+|utterly\s+|just\s+)?"
    r"(?:useless|pointless|hopeless|a joke|a waste of (?:my )?time)\b(?!\s+(?:item|product|thing i))|"
    r"\b(?:you(?:'re| are)|u r|ur|this (?:bot|chat|assistant|thing)(?: is)?|the (?:bot|chat|assistant)(?: is)?)\s+"
    r"(?:so\s+|completely\s+|totally\s+|absolutely\s+|utterly\s+|really\s+)?(?:useless|pointless|hopeless|"
    r"no help|not helpful|unhelpful|stupid|dumb|a joke)\b|"
    r"\buseless (?:bot|chat|assistant|machine)\b|"
    r"\b(?:talking|chatting|speaking|writing) (?:to|with) (?:you|this (?:bot|thing|chat)|a bot)\b.{0,25}?"
    r"\b(?:pointless|useless|hopeless|a waste of time|no use)\b|"
    r"\b(?:you(?:'re| are)|u r|this is|this bot is|it'?s) (?:not|n't) (?:helping|helpful|any help)\b|"
    r"\b(?:you(?:'re| are)n'?t|this isn'?t|that isn'?t|it isn'?t|you aren'?t) (?:helping|helpful|any help)\b|"
    r"\b(?:not|no) (?:helping|help) (?:at all|whatsoever)\b|"
    r"\b(?:what|such) a waste of (?:my )?time\b|\bwasting my time\b|"
    r"\b(?:keep|keeps|kept) (?:giving|sending|telling|showing|asking) (?:me )?(?:the )?same\b|"
    r"\bsame (?:answer|reply|response|thing) (?:again|over and over)\b|"
    r"\b(?:going|go|goes|running) (?:round|around) in circles\b|\bgetting nowhere\b|"
    r"\byou (?:don'?t|do not|never) (?:understand|listen|get it)\b",
    re.IGNORECASE,
)


def is_frustrated(text: str) -> bool:
    """The shopper says the assistant is not helping (a reason to hand over to a person)."""
    return bool(_FRUSTRATED.search(text.replace("\u2019", "'")))


_DELIVERED = re.compile(r"\bdeliver(?:ed|y confirmed)\b|\bdropped off\b", re.IGNORECASE)
_NOT_RECEIVED = re.compile(
    r"\b(?:never|not|didn'?t|did not|haven'?t|have not|hasn'?t|has not|wasn'?t|was not|isn'?t|is not)\s+"
    r"(?:\w+\s+){0,2}(?:got|get|gotten|receive[d]?|arrive[d]?|come|came|show(?:n|ed)? up|turn(?:ed)? up|"
    r"here|there|on (?:my|the) (?:porch|doorstep|step)|at (?:my|the) (?:door|house|address))\b|"
    r"\bnothing (?:at|on|in|by) (?:my|the)\b|\bnothing (?:came|arrived|was there|here)\b|"
    r"\bno (?:package|parcel|box|sign of it)\b|\b(?:missing|stolen|lost)\b|\bcan'?t find (?:it|the)\b",
    re.IGNORECASE,
)


def claims_not_received(text: str) -> bool:
    """The shopper says a parcel did not reach them ("never got it", "not on my porch")."""
    return bool(_NOT_RECEIVED.search(text.replace("\u2019", "'")))


def delivered_not_received(text: str) -> bool:
    """Says delivered but I never got it: a case for a person, whatever the tracking says."""
    normalized = text.replace("\u2019", "'")
    return bool(_DELIVERED.search(normalized)) and claims_not_received(normalized)

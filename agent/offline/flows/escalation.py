"""Escalation: the shopper asks for a person (or threatens legal action or a chargeback)."""

from __future__ import annotations

import re

from agent.offline.flows.common import escalate
from agent.offline.flows.opening import mentioned_order
from agent.offline.flows.situation import Decision, Situation
from agent.offline.nlu.frustration import is_frustrated

_CHARGEBACK = re.compile(
    r"\b(?:charge ?backs?|dispute|my bank|credit card company|reverse the charge)\b", re.I
)
_LEGAL = re.compile(
    r"\b(?:lawyer|attorney|legal|sue|suing|lawsuit|court|small claims|trading standards)\b", re.I
)


def escalation_reason(text: str) -> str:
    if _CHARGEBACK.search(text):
        return "chargeback threat"
    if _LEGAL.search(text):
        return "legal threat"
    if is_frustrated(text):
        return "shopper frustrated: the assistant is not helping"
    return "asked for a person"


def escalation_step(sit: Situation) -> Decision:
    if sit.conversation.segment_result("escalate_to_human") is not None:
        return sit.say("escalation.handed_over")
    if not sit.can("escalate_to_human"):
        return sit.say("escalation.unavailable")
    return escalate(sit, escalation_reason(sit.latest), mentioned_order(sit))

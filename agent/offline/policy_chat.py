"""Small talk, out-of-scope questions, and asks for a person."""

from __future__ import annotations

import re

from agent.offline.entities import is_negative
from agent.offline.policy_common import escalate
from agent.offline.policy_core import Decision, Situation
from agent.offline.policy_identity import mentioned_order
from agent.offline.policy_language import is_answer, small_talk

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
    return "asked for a person"


def escalation_step(sit: Situation) -> Decision:
    if sit.conversation.segment_result("escalate_to_human") is not None:
        return sit.say("escalation.handed_over")
    if not sit.can("escalate_to_human"):
        return sit.say("escalation.unavailable")
    return escalate(sit, escalation_reason(sit.latest), mentioned_order(sit))


def other_step(sit: Situation) -> Decision:
    if sit.conversation.segment_result("escalate_to_human") is not None:
        return sit.say("escalation.handed_over")
    kind = small_talk(sit.latest)
    if kind is not None:
        return sit.say(f"other.{kind}")
    if is_answer(sit.latest):
        # A bare "no" / "yes" outside a request: close politely, or ask what they need.
        return sit.say("other.goodbye" if is_negative(sit.latest) else "other.what_help")
    return sit.say("other.out_of_scope")

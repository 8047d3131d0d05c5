"""Small talk and out-of-scope questions."""

from __future__ import annotations

from agent.offline.flows.situation import Decision, Situation
from agent.offline.nlu.entities import is_negative
from agent.offline.nlu.language import is_answer, small_talk


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

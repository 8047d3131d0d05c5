"""Which flow answers an intent node's model call, and the checks every answer passes.

``decide`` is what an intent node's model says next: a tool call, a reply, or both. Each intent
has a flow (a step function) that looks at what its tools already returned in this turn and picks
the next call (verify → look up → check → act) or phrases the result with the templates in
``prompts/offline/``. Nothing is remembered between calls: the messages are the state.

Step-up verification comes before the flow's own step. After three shopper turns in a row that
moved nothing on (no tool call, no new detail), the model stops asking and hands over with
``escalate_to_human(reason="repeated confusion")``; a tool call that already got its answer in
this turn is never repeated.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Final

from agent.offline.conversation import Conversation, ShopperTurn
from agent.offline.flows.common import escalate, not_possible
from agent.offline.flows.escalation import escalation_step
from agent.offline.flows.opening import mentioned_order
from agent.offline.flows.order_change import order_change_step
from agent.offline.flows.other import other_step
from agent.offline.flows.refunds import refunds_step
from agent.offline.flows.returns import returns_step
from agent.offline.flows.situation import Decision, Situation
from agent.offline.flows.step_up import step_up_step
from agent.offline.flows.templates import Replies
from agent.offline.flows.wismo import wismo_step
from agent.offline.nlu.intent_result import classify
from agent.offline.nlu.language import Predict, makes_progress

Step = Callable[[Situation], Decision]

STEPS: Final[dict[str, Step]] = {
    "wismo": wismo_step,
    "returns": returns_step,
    "refunds": refunds_step,
    "order_change": order_change_step,
    "escalation": escalation_step,
    "other": other_step,
}
# Consecutive shopper turns without progress before handing over (this turn included).
CONFUSED_TURNS: Final[int] = 3


def decide(conversation: Conversation, tools: Collection[str], predict: Predict) -> Decision:
    """The next answer of an intent node's model."""
    intent = conversation.context.intent
    if intent not in STEPS:
        intent = str(classify(conversation, predict)["intent"]) if conversation.turns else "other"
    situation = Situation(
        intent=intent,
        conversation=conversation,
        tools=frozenset(tools),
        predict=predict,
        replies=Replies(conversation.fingerprint()),
    )
    # Step-up verification comes first: it holds back the action the intent's step asked for.
    decision = step_up_step(situation) or STEPS[intent](situation)
    if not decision.calls and _confused(situation):
        return escalate(situation, "repeated confusion", mentioned_order(situation))
    return _without_repeats(situation, decision)


def _stuck(turn: ShopperTurn) -> bool:
    # A turn a person from the team answered is theirs, not the bot's failure to help.
    return not turn.had_tool_calls and not turn.person_replied and not makes_progress(turn.text)


def _confused(sit: Situation) -> bool:
    """This turn and the two before it went nowhere (and a person can be called)."""
    conv = sit.conversation
    if not sit.can("escalate_to_human") or not conv.turns or conv.segment_outcomes:
        return False
    streak = 0
    for turn in reversed(conv.turns):
        if not _stuck(turn):
            break
        streak += 1
    return streak >= CONFUSED_TURNS


def _without_repeats(sit: Situation, decision: Decision) -> Decision:
    """Never call a tool again with the arguments it already answered in this turn (no loops)."""
    repeated = [c for c in decision.calls if sit.conversation.called_in_segment(c.name, c.args)]
    if repeated:
        return not_possible(sit, repeated[0].args.get("order_number"))
    return decision

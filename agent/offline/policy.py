"""The offline model's dialogue policy: from a conversation to the next model answer.

Two entry points, one per way the graph uses a model:

- ``classify``: the arguments of the ``IntentResult`` structured output for the latest shopper
  message (intent, confidence, further intents in the same message, order number, email). A short
  follow-up ("yes", "#1002", "the mug") belongs to the request under way.
- ``decide``: what an intent node's model says next: a tool call, a reply, or both. Each intent
  has a step function that looks at what its tools already returned in this turn and picks the
  next call (verify → look up → check → act) or phrases the result with the templates in
  ``prompts/offline/``. Nothing is remembered between calls: the messages are the state.

After three shopper turns in a row that moved nothing on (no tool call, no new detail), the model
stops asking and hands over with ``escalate_to_human(reason="repeated confusion")``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, Final

from agent.offline.conversation import Conversation, ShopperTurn
from agent.offline.entities import extract_email, is_threat
from agent.offline.policy_changes import order_change_step
from agent.offline.policy_chat import escalation_step, other_step
from agent.offline.policy_common import escalate, not_possible
from agent.offline.policy_core import Decision, Situation
from agent.offline.policy_entities import order_number_in
from agent.offline.policy_identity import mentioned_order
from agent.offline.policy_language import (
    CARRY_LOOKBACK,
    GUESSING,
    Predict,
    clause_intents,
    makes_progress,
    resolve_intents,
)
from agent.offline.policy_refunds import refunds_step
from agent.offline.policy_returns import returns_step
from agent.offline.policy_step_up import step_up_step
from agent.offline.policy_templates import Replies
from agent.offline.policy_wismo import wismo_step

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


def classify(conversation: Conversation, predict: Predict) -> dict[str, Any]:
    """Arguments of the ``IntentResult`` tool call for the latest shopper message."""
    turns = conversation.turns[-CARRY_LOOKBACK:]
    if not turns:
        return {
            "intent": "other",
            "confidence": 0.0,
            "additional_intents": [],
            "order_number": None,
            "email": None,
        }
    offset = len(conversation.turns) - len(turns)
    texts = [t.text for t in turns]
    asked = [conversation.asked_before(offset + i) for i in range(len(turns))]
    resolved = resolve_intents(predict, texts, asked)[-1]
    latest = texts[-1]
    intent, confidence, additional = resolved.intent, resolved.confidence, []
    primary_clause = latest
    parts = clause_intents(predict, latest)
    if len(parts) > 1:
        wanted = [(c, p) for c, p in parts if p.intent != "other" and p.confidence >= GUESSING]
        if wanted:
            primary_clause, first = wanted[0]
            intent, confidence = first.intent, first.confidence
            for _, prediction in wanted[1:]:
                if prediction.intent != intent and prediction.intent not in additional:
                    additional.append(prediction.intent)
    if is_threat(latest) and intent != "escalation":
        # A legal or chargeback threat goes to a person, whatever else the message asks for: the bot
        # must not refund or change an order under a threat.
        intent, confidence, additional = "escalation", max(confidence, 0.9), []
    return {
        "intent": intent,
        "confidence": round(min(1.0, max(0.0, confidence)), 4),
        "additional_intents": additional,
        "order_number": order_number_in(primary_clause) or order_number_in(latest),
        "email": extract_email(latest),
    }


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

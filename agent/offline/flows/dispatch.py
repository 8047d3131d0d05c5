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

import importlib
from collections.abc import Callable, Collection, Mapping
from datetime import date
from functools import lru_cache
from types import MappingProxyType
from typing import Final

from agent import intents
from agent.language import conversation_language
from agent.offline.conversation import Conversation, ShopperTurn
from agent.offline.flows.common import escalate, not_possible
from agent.offline.flows.opening import mentioned_order
from agent.offline.flows.other import other_step
from agent.offline.flows.situation import Decision, Situation
from agent.offline.flows.step_up import step_up_step
from agent.offline.flows.templates import Replies
from agent.offline.nlu.intent_result import classify
from agent.offline.nlu.language import Predict, makes_progress

Step = Callable[[Situation], Decision]


def step_for(intent: str) -> Step:
    """The flow of an intent (its IntentSpec's `offline_flow`); small talk when it has none."""
    spec = intents.get(intent)
    if spec is None or spec.offline_flow is None:
        return other_step
    module, _, name = spec.offline_flow.partition(":")
    step: Step = getattr(importlib.import_module(module), name)
    return step


def own_tools() -> Mapping[str, frozenset[str]]:
    """Per intent, the tools no other intent holds (agent.intents): binding one of them is how the
    graph's intent node shows which intent it is. Escalation and other hold none of their own."""
    return _own_tools(tuple(intents.intents()))


@lru_cache(maxsize=8)
def _own_tools(registered: tuple[intents.IntentSpec, ...]) -> Mapping[str, frozenset[str]]:
    # Keyed by the registry's contents (a registered or removed intent is a new key): every model
    # call asks, and the answer only changes with the registry.
    names = {spec.name: frozenset(s.name for s in spec.tool_specs()) for spec in registered}
    own = {
        intent: held - frozenset().union(*(other for name, other in names.items() if name != intent))
        for intent, held in names.items()
    }
    return MappingProxyType({intent: tools for intent, tools in own.items() if tools})


# Consecutive shopper turns without progress before handing over (this turn included).
CONFUSED_TURNS: Final[int] = 3


def decide(
    conversation: Conversation, tools: Collection[str], predict: Predict, today: date | None = None
) -> Decision:
    """The next answer of an intent node's model, which holds ``tools``."""
    bound = frozenset(tools)
    intent = flow_for(conversation, bound, predict)
    situation = Situation(
        intent=intent,
        conversation=conversation,
        tools=bound,
        predict=predict,
        replies=Replies(conversation.fingerprint(), conversation_language(conversation.shopper_texts())),
        today=today,
    )
    # Step-up verification comes first: it holds back the action the intent's step asked for.
    decision = step_up_step(situation) or step_for(intent)(situation)
    if not decision.calls and _confused(situation):
        return escalate(situation, "repeated confusion", mentioned_order(situation))
    return _without_repeats(situation, decision)


def flow_for(conversation: Conversation, tools: frozenset[str], predict: Predict) -> str:
    """The flow that answers: the one whose own tools are bound (each intent node binds only its
    intent's tools). With none of them, or several (a client binding every tool), the conversation
    decides: a person asked for, small talk, or the classified request among those bound."""
    holding = [intent for intent, own in own_tools().items() if own & tools]
    if len(holding) == 1:
        return holding[0]
    classified = str(classify(conversation, predict)["intent"]) if conversation.turns else "other"
    if not holding:
        return "escalation" if classified == "escalation" else "other"
    return classified if classified in holding else holding[0]


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

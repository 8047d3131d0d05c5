"""Classify the shopper's latest message into an intent (structured output)."""

from __future__ import annotations

import logging
from typing import Any, cast

from langchain_core.exceptions import OutputParserException
from langchain_core.messages import SystemMessage
from pydantic import ValidationError

import prompts
from agent import intents
from agent import messages as msg
from agent.language import language_of
from agent.nodes.handoff import model_failed
from agent.nodes.wiring import ModelFailure, Wiring, call_model
from agent.state import AgentState, IntentResult
from agent.step_up import is_code_entry

logger = logging.getLogger(__name__)


async def classify(state: AgentState, wiring: Wiring) -> dict[str, Any]:
    """Set `intent` (and further requests of the same message in `pending_intents`); an
    escalation, or a model that fails, sets `escalation`. `routing.after_classify` goes on."""
    intent_now = state.get("intent")
    if intent_now in intents.order_intents() and is_code_entry(msg.last_human(state.get("messages", []))):
        # A step-up code (shown as a placeholder) answers the request under way: no model call.
        return {
            "intent_confidence": 1.0,
            "pending_intents": [],
            "turn_intents": [intent_now],
            "model_calls": 0,
            "escalation": None,
        }
    language = await language_of(state.get("messages", []))
    history = msg.model_window(state.get("messages", []), limit=8)
    system = SystemMessage(prompts.render("classify", store_name=wiring.deps.store_name))
    structured = wiring.classifier()
    try:
        result = cast(IntentResult | None, await call_model(lambda: structured.ainvoke([system, *history])))
    except ModelFailure as exc:
        if not isinstance(exc.__cause__, OutputParserException | ValidationError):
            return {
                **await model_failed({**state, "language": language}, f"model failure: {exc}"),
                "language": language,
            }
        # The model answered but not in the schema (small local models do): carry on with the
        # request under way, or as small talk, rather than sending the shopper to a person.
        logger.warning("classification output did not parse; continuing with the current intent")
        result = None
    if result is None:  # also: some providers return None for an empty structured answer
        result = IntentResult(intent=intent_now or intents.FALLBACK, confidence=0.0)
    intent = result.intent
    # A message that only carries details (an email, a number) continues the request under way.
    if (
        intent == intents.FALLBACK
        and intent_now in intents.order_intents()
        and (result.order_number or result.email or result.confidence < 0.5)
    ):
        intent = intent_now
    extra = [i for i in dict.fromkeys(result.additional_intents) if i != intent]
    update: dict[str, Any] = {
        "intent": intent,
        "language": language,
        "intent_confidence": result.confidence,
        "pending_intents": [i for i in extra if i in intents.node_intents()],
        "turn_intents": [intent, *extra],
        "model_calls": 1,
        "escalation": None,
    }
    if any(not spec.has_node for spec in map(intents.get, [intent, *extra]) if spec):
        update["escalation"] = "shopper asked for a person"
    return update

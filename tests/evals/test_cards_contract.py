"""Every card the agent emits across the whole eval suite validates against the JSON Schema the
server publishes to the widget (`GET /api/cards.schema.json`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import jsonschema
import pytest
from langchain_core.messages import AnyMessage

import evals.runner
from agent.cards import card_schema
from agent.conversation import ChatMessage
from agent.settings import Settings
from agent.view import chat_messages
from evals.loading import load_cases
from evals.runner import eval_settings, run_suite


async def test_every_card_of_the_eval_suite_matches_the_published_schema(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[dict[str, Any]] = []

    def recording(messages: Sequence[AnyMessage]) -> list[ChatMessage]:
        shown = chat_messages(messages)
        seen.extend(m.model_dump(mode="json")["card"] for m in shown if m.card is not None)
        return shown

    monkeypatch.setattr(evals.runner, "chat_messages", recording)
    results = await run_suite(load_cases(), eval_settings(Settings(), "offline"))
    assert all(r.passed for r in results)

    validator = jsonschema.Draft202012Validator(card_schema())
    problems = [f"{card}: {e.message}" for card in seen for e in validator.iter_errors(card)]
    assert problems == []
    kinds = Counter(card["type"] for card in seen)
    assert set(kinds) == {"order", "tracking", "confirm", "label", "refund", "handoff"}, kinds


def test_the_schema_refuses_what_the_widget_cannot_draw() -> None:
    validator = jsonschema.Draft202012Validator(card_schema())
    assert not validator.is_valid({"type": "coupon", "code": "X"})
    assert not validator.is_valid({"type": "refund", "order_number": "1001", "amount": "5.00"})  # no status
    assert validator.is_valid({"type": "handoff", "ticket_id": None})

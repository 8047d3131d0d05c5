"""The types every flow shares: what the model decides (`Decision`), and what a step sees (`Situation`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from agent.offline.conversation import Conversation
from agent.offline.flows.templates import Replies
from agent.offline.nlu.language import Predict, clause_for


@dataclass(frozen=True)
class PlannedCall:
    """A tool call the model will emit (the chat model gives it a deterministic id)."""

    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Decision:
    """One model answer: text for the shopper, tool calls, or both (text first)."""

    text: str = ""
    calls: tuple[PlannedCall, ...] = ()


@dataclass
class Situation:
    """Everything one flow step may look at."""

    intent: str
    conversation: Conversation
    tools: frozenset[str]
    predict: Predict
    replies: Replies = field(repr=False)
    today: date | None = None
    """The model's clock's date: dates in replies read "today", "tomorrow" ... (None: written out)."""

    @property
    def latest(self) -> str:
        return self.conversation.latest_shopper_text

    @cached_property
    def clause(self) -> str:
        """The part of the latest shopper message this intent acts on (two requests, one message)."""
        return clause_for(self.predict, self.latest, self.intent) if self.latest else ""

    def can(self, tool: str) -> bool:
        """Only tools bound to this call may be called."""
        return tool in self.tools

    def say(self, key: str, **values: object) -> Decision:
        return Decision(text=self.replies.render(key, **values))

    def call(self, name: str, args: dict[str, Any], text: str = "") -> Decision:
        return Decision(text=text, calls=(PlannedCall(name, args),))

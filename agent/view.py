"""From graph state to what the shopper sees: chat messages with cards."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage
from pydantic import ValidationError

from agent import messages as msg
from agent.cards import CARD, Card, card_for_artifact
from agent.conversation import ChatMessage
from agent.messages import CREATED_AT

logger = logging.getLogger(__name__)


def card_from_tool(message: ToolMessage) -> Card | None:
    """A widget card for a tool result worth showing (order, tracking, label, refund)."""
    return card_for_artifact(message.artifact)


def card_on(message: AIMessage) -> Card | None:
    """The card a node put on its message (stored as JSON in the checkpoint)."""
    raw = message.additional_kwargs.get(msg.CARD)
    if raw is None:
        return None
    try:
        return CARD.validate_python(raw)
    except ValidationError:
        logger.warning("a stored card did not validate; the message is shown without it")
        return None


def _created_at(message: AnyMessage) -> datetime:
    raw = message.additional_kwargs.get(CREATED_AT)
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            pass
    return datetime.now(UTC)


def chat_messages(messages: Sequence[AnyMessage]) -> list[ChatMessage]:
    """The conversation as the widget shows it. Tool traffic becomes cards on the next reply."""
    shown: list[ChatMessage] = []
    pending_card: Card | None = None
    for message in messages:
        if isinstance(message, ToolMessage):
            pending_card = card_from_tool(message) or pending_card
            continue
        text = msg.text_of(message).strip()
        if isinstance(message, HumanMessage):
            if text:
                shown.append(
                    ChatMessage(
                        id=str(message.id), role="shopper", text=text, created_at=_created_at(message)
                    )
                )
            continue
        if not isinstance(message, AIMessage) or not text:
            continue
        if msg.is_human_agent(message):
            shown.append(
                ChatMessage(
                    id=str(message.id),
                    role="agent",
                    text=text,
                    created_at=_created_at(message),
                    author=str(message.additional_kwargs.get(msg.AUTHOR) or "Support team"),
                )
            )
            continue
        card = card_on(message) or pending_card
        pending_card = None
        shown.append(
            ChatMessage(
                id=str(message.id), role="assistant", text=text, created_at=_created_at(message), card=card
            )
        )
    return shown

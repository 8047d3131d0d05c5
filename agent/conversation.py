"""The conversation service: what the server (and the CLI) use to talk to the agent.

It owns the compiled graph and turns graph runs into chat events. The server depends only on
`ConversationService` and these models, so it can be tested against a fake.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from agent.cards import Card
from agent.state import Status
from integrations.events import HelpdeskEvent, StoreEvent

Role = Literal["shopper", "assistant", "agent"]


class ChatMessage(BaseModel):
    """One message of a conversation, as the widget shows it."""

    id: str
    role: Role
    text: str
    created_at: datetime
    card: Card | None = Field(
        None,
        description="A card (agent.cards.Card: order, tracking, confirm, label, refund, handoff); "
        "its JSON Schema is served at GET /api/cards.schema.json.",
    )
    author: str | None = Field(None, description="Display name of a human agent.")


EventType = Literal["status", "progress", "delta", "message", "handoff", "error", "done"]


class ChatEvent(BaseModel):
    """One server-sent event.

    - `progress` {"text": "Looking up your order…", "tool": name}
    - `delta` {"message_id", "text"}: a piece of assistant text as it is produced
    - `message` ChatMessage: a complete message (assistant, or a human agent's)
    - `status` {"status", "intent"}: the conversation's status changed
    - `handoff` {"ticket_id", "text"}: a person is taking over
    - `error` {"error", "retryable"}: the turn failed; the shopper's message is kept
    - `done` {"status", "messages": [ChatMessage...]}: end of the turn
    """

    type: EventType
    data: dict[str, Any]


class ConversationView(BaseModel):
    id: str
    status: Status
    intent: str | None
    ticket_id: str | None
    customer_email: str | None
    messages: list[ChatMessage]


class ConversationNotFound(Exception):
    """No conversation with this id."""


class ConversationService(Protocol):
    async def start(self, *, verified_email: str | None = None, access_digest: str | None = None) -> str:
        """A new conversation; `verified_email` when the widget sent a valid signed identity.

        `access_digest` is the SHA-256 (hex) of the bearer token the chat API handed out for it;
        only the digest is kept, so a leaked database does not hand out access to conversations."""
        ...

    async def access_digest(self, conversation_id: str) -> str | None:
        """The stored `access_digest`; None for an unknown conversation or one started without one."""
        ...

    def send(
        self,
        conversation_id: str,
        text: str,
        *,
        client_message_id: str | None = None,
        stream_tokens: bool = True,
        client: str | None = None,
    ) -> AsyncIterator[ChatEvent]:
        """Process one shopper message. The message is stored before anything else happens; a repeated
        `client_message_id` is not processed twice (the stored outcome is replayed). Without
        `stream_tokens` no `delta` events are produced (a client that waits for the whole turn).
        `client` is the sender's address (the server knows it; in-process callers have none):
        store-wide throttles count per address, which the agent keeps only as an opaque reference."""
        ...

    async def get(self, conversation_id: str) -> ConversationView:
        """Raises ConversationNotFound."""
        ...

    def subscribe(self, conversation_id: str) -> AsyncIterator[ChatEvent]:
        """Events that happen outside a shopper turn: human agent replies, status changes."""
        ...

    async def helpdesk_event(self, event: HelpdeskEvent) -> bool:
        """A person acted on a ticket (replied, closed, handed back, approved or denied a refund),
        as the helpdesk's adapter parsed it. Returns False if it names no conversation of ours."""
        ...

    async def store_event(self, event: StoreEvent) -> None:
        """An order changed in the store platform (updated, fulfilled, cancelled, refunded)."""
        ...

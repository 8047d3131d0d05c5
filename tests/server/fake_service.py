"""A scripted `ConversationService` for the server and browser tests.

It behaves like the real one from the outside: the shopper's message is stored before anything
else, a repeated `client_message_id` replays the stored outcome, events come in the real order
(progress → deltas → message → status → done), subscribers get agent replies and status
changes. The conversations it can hold:

- "where is #1001"     → progress, streamed text, a tracking card
- "return #1002"       → a confirm card (status awaiting_confirmation); "yes" → a label card
  (and, with a sandbox world, the label email in the SendGrid outbox); "no" → nothing done
- "show order #1001"   → an order card; "refund #1009" → a refund card
- "human" / "person"   → handoff event + card, status human_handling (with a sandbox world, a
  Gorgias ticket with external_id = conversation id, so `/_sandbox/` can reply and close it)
- while human_handling → the message is forwarded, the bot stays silent
- anything else        → a short help text

`fail_next_turns` makes the next turns end in an `error` event after the shopper's message is
stored (a retry with the same client_message_id is then processed, not stored twice); `hold`
blocks turns, after the shopper's message is stored, until it is set.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agent.conversation import ChatEvent, ChatMessage, ConversationNotFound, ConversationView
from agent.state import Status
from integrations.events import HelpdeskEvent, HumanReplied, RefundApproved, RefundDenied, StoreEvent
from sandbox.helpdesk import create_ticket
from sandbox.world import World

AGENT_NAME = "Rosa Alvarez"


def tracking_card_1001() -> dict[str, Any]:
    return {
        "type": "tracking",
        "order_number": "1001",
        "parcels": [
            {
                "carrier": "UPS",
                "tracking_number": "1Z84F2A90312345678",
                "status": "in_transit",
                "status_detail": "arrived_at_facility",
                "estimated_delivery": "2026-11-22T00:00:00Z",
                "tracking_url": "https://www.ups.com/track?tracknum=1Z84F2A90312345678",
                "last_event": {
                    "at": "2026-11-19T22:12:00Z",
                    "message": "Departed from facility",
                    "location": "Sacramento, CA",
                    "status": "in_transit",
                },
                "exception": None,
            }
        ],
    }


def order_card_1001() -> dict[str, Any]:
    return {
        "type": "order",
        "order_number": "1001",
        "status": "shipped",
        "items": [
            {"title": "Trail Running Shoes", "quantity": 1, "unit_price": "135.00"},
            {"title": "Merino Hiking Socks 3-Pack", "quantity": 1, "unit_price": "24.00"},
        ],
        "total": "180.67",
        "currency": "USD",
        "shipments": [
            {
                "carrier": "UPS",
                "tracking_number": "1Z84F2A90312345678",
                "tracking_url": None,
                "status": "in_transit",
                "shipped_at": None,
                "delivered_at": None,
            }
        ],
    }


RETURN_ITEMS = ["1 × Stoneware Mug Set", "1 × Merino Wool Beanie"]


def refund_card_1009() -> dict[str, Any]:
    return {
        "type": "refund",
        "order_number": "1009",
        "amount": "80.97",
        "currency": "USD",
        "status": "refunded",
    }


def confirm_card_1002() -> dict[str, Any]:
    return {
        "type": "confirm",
        "summary": "Create a prepaid return label for order #1002",
        "items": RETURN_ITEMS,
        "amount": "67.00",
        "address": "Ben Okafor, 2210 E Cesar Chavez St, Austin, TX 78702",
    }


def label_card_1002() -> dict[str, Any]:
    return {
        "type": "label",
        "order_number": "1002",
        "carrier": "USPS",
        "tracking_number": "9470111899223800001002",
        "label_url": "https://easypost-files.example/labels/1002.pdf",
        "emailed_to": "ben.okafor@example.com",
        "items": RETURN_ITEMS,
    }


@dataclass
class FakeConversation:
    id: str
    verified_email: str | None
    access_digest: str | None = None
    status: Status = "active"
    intent: str | None = None
    ticket_id: str | None = None
    messages: list[ChatMessage] = field(default_factory=list)
    outcomes: dict[str, list[ChatEvent]] = field(default_factory=dict)
    received: set[str] = field(default_factory=set)
    pending: str | None = None  # what "yes" would do


class _Subscription:
    """Registered when created (not at the first iteration), so no event is missed between the
    route's call and the stream starting; `aclose` unregisters."""

    def __init__(self, owner: list[asyncio.Queue[ChatEvent]]) -> None:
        self._owner = owner
        self._queue: asyncio.Queue[ChatEvent] = asyncio.Queue()
        owner.append(self._queue)

    def __aiter__(self) -> _Subscription:
        return self

    async def __anext__(self) -> ChatEvent:
        try:
            return await self._queue.get()
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        if self._queue in self._owner:
            self._owner.remove(self._queue)


class FakeConversationService:
    def __init__(self, world: World | None = None) -> None:
        self.world = world
        self.conversations: dict[str, FakeConversation] = {}
        self.subscribers: dict[str, list[asyncio.Queue[ChatEvent]]] = {}
        self.store_events: list[StoreEvent] = []
        self.helpdesk_events: list[HelpdeskEvent] = []
        self.processed: list[tuple[str, str]] = []  # (conversation id, text) of turns actually run
        self.clients: list[str | None] = []  # the client address the server passed with each message
        self.fail_next_turns = 0
        self.hold: asyncio.Event | None = None
        self.held = asyncio.Event()  # set when a turn is waiting on `hold`
        self._ids = itertools.count(1)

    # ------------------------------------------------------------------ helpers

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):04d}"

    def _conversation(self, conversation_id: str) -> FakeConversation:
        try:
            return self.conversations[conversation_id]
        except KeyError:
            raise ConversationNotFound(conversation_id) from None

    def _message(
        self, role: str, text: str, *, card: dict[str, Any] | None = None, author: str | None = None
    ) -> ChatMessage:
        return ChatMessage.model_validate(
            {
                "id": self._new_id("msg"),
                "role": role,
                "text": text,
                "created_at": datetime.now(UTC),
                "card": card,
                "author": author,
            }
        )

    async def _publish(self, conversation_id: str, event: ChatEvent) -> None:
        for queue in list(self.subscribers.get(conversation_id, [])):
            queue.put_nowait(event)

    def subscriber_count(self, conversation_id: str) -> int:
        return len(self.subscribers.get(conversation_id, []))

    # ------------------------------------------------------------------ the protocol

    async def start(self, *, verified_email: str | None = None, access_digest: str | None = None) -> str:
        conversation_id = self._new_id("conv")
        self.conversations[conversation_id] = FakeConversation(conversation_id, verified_email, access_digest)
        return conversation_id

    async def access_digest(self, conversation_id: str) -> str | None:
        conversation = self.conversations.get(conversation_id)
        return None if conversation is None else conversation.access_digest

    async def send(
        self,
        conversation_id: str,
        text: str,
        *,
        client_message_id: str | None = None,
        stream_tokens: bool = True,
        client: str | None = None,
    ) -> AsyncIterator[ChatEvent]:
        conversation = self._conversation(conversation_id)
        self.clients.append(client)
        if client_message_id is not None and client_message_id in conversation.outcomes:
            for event in conversation.outcomes[client_message_id]:
                yield event
            return
        # Stored first (once per client message id), so a crash or a failure loses nothing.
        if client_message_id is None or client_message_id not in conversation.received:
            conversation.messages.append(self._message("shopper", text))
            if client_message_id is not None:
                conversation.received.add(client_message_id)
        if self.hold is not None:
            self.held.set()
            await self.hold.wait()
        if self.fail_next_turns > 0:
            self.fail_next_turns -= 1
            yield ChatEvent(
                type="error", data={"error": "The store is not answering right now.", "retryable": True}
            )
            return
        self.processed.append((conversation_id, text))
        events = [event async for event in self._turn(conversation, text)]
        new = [ChatMessage.model_validate(e.data) for e in events if e.type == "message"]
        done = ChatEvent(
            type="done",
            data={"status": conversation.status, "messages": [m.model_dump(mode="json") for m in new]},
        )
        events.append(done)
        if client_message_id is not None:
            conversation.outcomes[client_message_id] = events
        for event in events:
            yield event

    async def _reply(
        self, conversation: FakeConversation, text: str, card: dict[str, Any] | None = None
    ) -> AsyncIterator[ChatEvent]:
        message = self._message("assistant", text, card=card)
        for piece in re.findall(r"\S+\s*", text):
            yield ChatEvent(type="delta", data={"message_id": message.id, "text": piece})
        conversation.messages.append(message)
        yield ChatEvent(type="message", data=message.model_dump(mode="json"))

    def _status(self, conversation: FakeConversation, status: Status, intent: str | None) -> ChatEvent:
        conversation.status = status
        conversation.intent = intent
        return ChatEvent(type="status", data={"status": status, "intent": intent})

    async def _turn(self, conversation: FakeConversation, text: str) -> AsyncIterator[ChatEvent]:
        lowered = text.lower()
        if conversation.status == "human_handling":
            return  # forwarded to the ticket; the bot stays silent
        if conversation.status == "awaiting_confirmation" and lowered in {"yes", "no"}:
            if lowered == "yes":
                yield ChatEvent(
                    type="progress",
                    data={"text": "Creating your return label…", "tool": "create_return_label"},
                )
                self._email_label()
                async for event in self._reply(
                    conversation,
                    "Done! Your prepaid USPS label is ready and I've emailed it to ben.okafor@example.com.",
                    label_card_1002(),
                ):
                    yield event
            else:
                async for event in self._reply(conversation, "No problem — I haven't changed anything."):
                    yield event
            yield self._status(conversation, "active", "returns")
            return
        if "human" in lowered or "person" in lowered:
            ticket_id = self._open_ticket(conversation)
            conversation.ticket_id = ticket_id
            yield ChatEvent(
                type="handoff",
                data={"ticket_id": ticket_id, "text": "You're now chatting with our support team."},
            )
            async for event in self._reply(
                conversation,
                "I've passed this to our support team with a summary. Someone will reply right here.",
                {"type": "handoff", "ticket_id": ticket_id},
            ):
                yield event
            yield self._status(conversation, "human_handling", "escalation")
            return
        if "return" in lowered and "1002" in lowered:
            yield ChatEvent(
                type="progress",
                data={"text": "Checking what can be returned…", "tool": "check_return_eligibility"},
            )
            async for event in self._reply(
                conversation,
                "Both items from order #1002 can be returned. Shall I create a prepaid return label?",
                confirm_card_1002(),
            ):
                yield event
            conversation.pending = "return_1002"
            yield self._status(conversation, "awaiting_confirmation", "returns")
            return
        if "1001" in lowered and ("where" in lowered or "track" in lowered):
            yield ChatEvent(type="progress", data={"text": "Looking up your order…", "tool": "lookup_order"})
            yield ChatEvent(
                type="progress",
                data={"text": "Checking the carrier's tracking…", "tool": "get_tracking_status"},
            )
            async for event in self._reply(
                conversation,
                "Your order #1001 is on its way with UPS and should arrive by Sunday, November 22.",
                tracking_card_1001(),
            ):
                yield event
            yield self._status(conversation, "active", "wismo")
            return
        if "refund" in lowered and "1009" in lowered:
            async for event in self._reply(
                conversation, "I've refunded order #1009 to your original payment method.", refund_card_1009()
            ):
                yield event
            yield self._status(conversation, "active", "refunds")
            return
        if "order" in lowered and "1001" in lowered:
            async for event in self._reply(conversation, "Here is order #1001.", order_card_1001()):
                yield event
            yield self._status(conversation, "active", "wismo")
            return
        async for event in self._reply(
            conversation, "I can track orders, start returns and refunds, or connect you with our team."
        ):
            yield event
        yield self._status(conversation, "active", "other")

    async def get(self, conversation_id: str) -> ConversationView:
        conversation = self._conversation(conversation_id)
        return ConversationView(
            id=conversation.id,
            status=conversation.status,
            intent=conversation.intent,
            ticket_id=conversation.ticket_id,
            customer_email=conversation.verified_email,
            messages=list(conversation.messages),
        )

    def subscribe(self, conversation_id: str) -> AsyncIterator[ChatEvent]:
        return _Subscription(self.subscribers.setdefault(conversation_id, []))

    async def helpdesk_event(self, event: HelpdeskEvent) -> bool:
        self.helpdesk_events.append(event)
        conversation = self.conversations.get(event.conversation_id)
        if conversation is None:
            return False
        if isinstance(event, HumanReplied):
            await self.push_agent_message(conversation.id, event.text, event.author)
        elif not isinstance(event, RefundApproved | RefundDenied):  # closed or handed back
            await self._publish(conversation.id, self._status(conversation, "active", conversation.intent))
        return True

    async def store_event(self, event: StoreEvent) -> None:
        self.store_events.append(event)

    # ------------------------------------------------------------------ test controls

    async def push_agent_message(
        self, conversation_id: str, text: str, author: str | None = AGENT_NAME
    ) -> ChatMessage:
        """A human agent's reply: stored, the bot paused, subscribers told."""
        conversation = self._conversation(conversation_id)
        message = self._message("agent", text, author=author)
        conversation.messages.append(message)
        if conversation.status != "human_handling":
            await self._publish(
                conversation_id, self._status(conversation, "human_handling", conversation.intent)
            )
        await self._publish(conversation_id, ChatEvent(type="message", data=message.model_dump(mode="json")))
        return message

    def _open_ticket(self, conversation: FakeConversation) -> str:
        if self.world is None:
            return "T-1"
        email = conversation.verified_email or "guest@example.com"
        customer = next(
            (c for c in self.world.gorgias.customers.values() if c.get("email") == email),
            {"id": 0, "email": email, "name": "Guest"},
        )
        ticket = create_ticket(
            self.world,
            customer=customer,
            subject="Chat: wants a person",
            channel="chat",
            via="api",
            tags=["ai_handover", "escalation"],
            external_id=conversation.id,
        )
        return str(ticket["id"])

    def _email_label(self) -> None:
        if self.world is None:
            return
        self.world.sendgrid.outbox.append(
            {
                "message_id": self._new_id("sg"),
                "to": ["ben.okafor@example.com"],
                "subject": "Your Harbor & Pine return label",
                "sent_at": self.world.now_iso(),
            }
        )

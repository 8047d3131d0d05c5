"""The Front side of the conversation with people: its webhooks in, its tags out.

Two kinds of delivery reach `/webhooks/front`, both from the Front app that owns the channel and
both signed the way Front documents for applications (dev.frontapp.com/docs/application-webhooks,
/docs/security-1): `X-Front-Signature` is base64(HMAC-SHA256(app secret, timestamp + ":" + raw
body)), the timestamp (milliseconds) being `X-Front-Request-Timestamp`. A delivery whose timestamp
is older (or further ahead) than `max_age_seconds` is refused, so a captured one cannot be replayed.

- The channel's callback, `{"type": "message", "payload": <message>}`: a teammate answered in the
  channel. The recipient's handle is the chat's (`chat:<conversation id>`), so the reply is ours to
  relay; it takes the conversation over.
- The application webhook's events (`archive`, `tag`, ...): `archive` closes, a tag a teammate adds
  hands back or decides a refund. The event's conversation carries the same recipient handle.
- Front's `sync` validation message (sent when the webhook is saved) means nothing here.

The team speaks to the bot through tags, as with Gorgias and Zendesk: these names are this
integration's conventions and appear nowhere above `integrations/`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from pydantic import ValidationError

from integrations.domain import (
    HelpdeskRequest,
    TicketChange,
)
from integrations.events import (
    HelpdeskEvent,
    HumanReplied,
    TicketClosed,
    WebhookMalformed,
    WebhookRejected,
    header,
)
from integrations.front.models import (
    ChannelMessageDelivery,
    FrontConversation,
    FrontEvent,
    FrontMessage,
    conversation_number,
)
from integrations.helpdesk_tags import (
    DECISIONS,
    ticket_change,
)

SIGNATURE_HEADER = "X-Front-Signature"
TIMESTAMP_HEADER = "X-Front-Request-Timestamp"
DEFAULT_MAX_AGE_SECONDS = 300.0  # Front recommends 5 minutes
HANDLE_PREFIX = "chat:"


MESSAGE_ID_PREFIX = "front-"


def chat_handle(conversation_id: str) -> str:
    """The shopper's handle in the channel: the chat itself (a web chat has no address of its own)."""
    return f"{HANDLE_PREFIX}{conversation_id}"


def conversation_of_handle(handle: str | None) -> str | None:
    if handle and handle.startswith(HANDLE_PREFIX) and len(handle) > len(HANDLE_PREFIX):
        return handle[len(HANDLE_PREFIX) :]
    return None


def signature(secret: str, timestamp: str, raw_body: bytes) -> str:
    """Front's application signature: base64(HMAC-SHA256(secret, timestamp + ":" + body))."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b":" + raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _seconds(stamp: str) -> float | None:
    """The request timestamp in seconds: Front sends milliseconds since the epoch."""
    value = stamp.strip()
    if not value.isdigit():
        return None
    number = int(value)
    return number / 1000 if number > 10**11 else float(number)


def _when(seconds: float | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None


class FrontProtocol:
    """Verifies and parses the Front app's deliveries; maps our requests to tags."""

    def __init__(
        self,
        *,
        secret: str,
        max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self.max_age_seconds = max_age_seconds
        self._clock = clock

    # ------------------------------------------------------------------ webhooks in

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        given = header(headers, SIGNATURE_HEADER)
        stamp = header(headers, TIMESTAMP_HEADER)
        if not given or not stamp or not self._secret:
            raise WebhookRejected(f"Missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER}.")
        expected = signature(self._secret, stamp.strip(), raw_body)
        if not hmac.compare_digest(given.strip().encode(), expected.encode()):
            raise WebhookRejected(f"Wrong {SIGNATURE_HEADER}.")
        sent = _seconds(stamp)
        if sent is None or abs(self._clock() - sent) > self.max_age_seconds:
            raise WebhookRejected(f"Stale or unreadable {TIMESTAMP_HEADER}.", code="stale_timestamp")

    @staticmethod
    def _body(raw_body: bytes) -> dict[str, object]:
        try:
            body = json.loads(raw_body)
        except (ValueError, UnicodeDecodeError):
            raise WebhookMalformed("The body is not valid JSON.") from None
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            raise WebhookMalformed("Expected a JSON object with a type.")
        return body

    def dedupe_keys(self, headers: Mapping[str, str], raw_body: bytes) -> list[str]:
        try:
            body = json.loads(raw_body)
        except (ValueError, UnicodeDecodeError):
            return []
        if not isinstance(body, dict):
            return []
        if body.get("type") == "message" and isinstance(body.get("payload"), dict):
            message_id = body["payload"].get("id")
            return [f"message:{message_id}"] if message_id else []
        event_id = body.get("id")
        return [f"event:{event_id}"] if isinstance(event_id, str) and event_id.startswith("evt_") else []

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> list[HelpdeskEvent]:
        body = self._body(raw_body)
        kind = body["type"]
        try:
            if kind == "message":
                event = self.reply_of(ChannelMessageDelivery.model_validate(body).payload)
            elif kind in ("sync", "authorization", "delete", "message_autoreply", "message_imported"):
                return []  # the channel's and the app's housekeeping: nothing for a conversation
            elif "conversation" in body:
                event = self.event_of(FrontEvent.model_validate(body))
            else:
                raise WebhookMalformed(f"Unexpected Front delivery {kind!r}.")
        except ValidationError:
            raise WebhookMalformed("Expected a channel message or an application event.") from None
        return [] if event is None else [event]

    @staticmethod
    def _ticket_id(api_id: str | None) -> str | None:
        try:
            return str(conversation_number(api_id or ""))
        except ValueError:
            return None

    def reply_of(self, message: FrontMessage) -> HelpdeskEvent | None:
        """A teammate's message sent in the channel: the reply the shopper must see."""
        if message.is_inbound or not message.plain_text.strip():
            return None
        conversation_id = (
            next((c for r in message.recipients if (c := conversation_of_handle(r.handle))), None)
            or message.metadata.external_conversation_id
        )
        ticket_id = self._ticket_id(message.conversation_id)
        if conversation_id is None or ticket_id is None:
            return None  # not a chat of ours
        author = message.author
        return HumanReplied(
            ticket_id=ticket_id,
            conversation_id=conversation_id,
            occurred_at=_when(message.created_at),
            text=message.plain_text,
            author=author.display_name if author else None,
            message_id=f"{MESSAGE_ID_PREFIX}{message.id}",
        )

    def event_of(self, event: FrontEvent) -> HelpdeskEvent | None:
        """An application event: archiving closes; a decision tag a teammate adds decides."""
        conversation: FrontConversation = event.conversation
        conversation_id = conversation_of_handle(
            conversation.recipient.handle if conversation.recipient else None
        )
        ticket_id = self._ticket_id(conversation.id)
        if conversation_id is None or ticket_id is None:
            return None
        at = _when(event.emitted_at)
        if event.type == "archive":
            return TicketClosed(ticket_id=ticket_id, conversation_id=conversation_id, occurred_at=at)
        if event.type == "tag" and event.target is not None and event.target.data is not None:
            decision = DECISIONS.get(str(event.target.data.get("name") or ""))
            if decision is not None:
                return decision(ticket_id=ticket_id, conversation_id=conversation_id, occurred_at=at)
        return None

    # ------------------------------------------------------------------ requests out

    def ticket_change(self, request: HelpdeskRequest) -> TicketChange:
        return ticket_change(request)

"""The Zendesk side of the conversation with people: its webhooks in, its tags out.

Zendesk calls a webhook when a trigger fires, with a body the trigger defines (ours is documented
in the README and is what the sandbox sends: `ZendeskWebhookBody`) and a signature:
`X-Zendesk-Webhook-Signature` is base64(HMAC-SHA256(signing secret, timestamp + raw body)), the
timestamp being `X-Zendesk-Webhook-Signature-Timestamp`. A delivery whose timestamp is older (or
further ahead) than `max_age_seconds` is refused, so a captured delivery cannot be replayed later.

The team speaks to the bot through tags on the ticket, as with Gorgias: these names are this
integration's conventions and appear nowhere above `integrations/`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from datetime import datetime

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
from integrations.helpdesk_tags import (
    decision,
    ticket_change,
)
from integrations.zendesk.models import ZendeskWebhookBody

SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
INVOCATION_HEADER = "X-Zendesk-Webhook-Invocation-Id"
DEFAULT_MAX_AGE_SECONDS = 300.0

SOLVED_STATUSES = ("solved", "closed")

MESSAGE_ID_PREFIX = "zendesk-"


def signature(secret: str, timestamp: str, raw_body: bytes) -> str:
    """Zendesk's webhook signature: base64(HMAC-SHA256(secret, timestamp + body))."""
    digest = hmac.new(secret.encode(), timestamp.encode() + raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _timestamp(value: str) -> float | None:
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class ZendeskProtocol:
    """Verifies and parses the deliveries of our Zendesk triggers; maps our requests to tags.

    The triggers fire only on updates not made through the API ("Update via is not Web service"),
    so the comments and tags we write never come back as a person's doing.
    """

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
        expected = signature(self._secret, stamp, raw_body)
        if not hmac.compare_digest(given.strip().encode(), expected.encode()):
            raise WebhookRejected(f"Wrong {SIGNATURE_HEADER}.")
        sent = _timestamp(stamp)
        if sent is None or abs(self._clock() - sent) > self.max_age_seconds:
            raise WebhookRejected(f"Stale or unreadable {TIMESTAMP_HEADER}.", code="stale_timestamp")

    def dedupe_keys(self, headers: Mapping[str, str], raw_body: bytes) -> list[str]:
        invocation = header(headers, INVOCATION_HEADER)
        return [f"invocation:{invocation}"] if invocation else []

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> list[HelpdeskEvent]:
        try:
            body = json.loads(raw_body)
        except (ValueError, UnicodeDecodeError):
            raise WebhookMalformed("The body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise WebhookMalformed("The body must be a JSON object.")
        try:
            delivery = ZendeskWebhookBody.model_validate(body)
        except ValidationError:
            raise WebhookMalformed(
                "Expected {event, ticket: {id, external_id, status, tags}, comment}."
            ) from None
        event = self.event_of(delivery, header(headers, INVOCATION_HEADER))
        return [] if event is None else [event]

    def event_of(self, delivery: ZendeskWebhookBody, invocation: str | None = None) -> HelpdeskEvent | None:
        """What one delivery means: at most one event (solving wins over tags; a hand-back over a
        refund decision, as a person handing back is done with the conversation)."""
        ticket = delivery.ticket
        if not ticket.external_id:
            return None  # not a ticket of ours
        ticket_id, conversation_id, at = str(ticket.id), ticket.external_id, ticket.updated_at
        if delivery.event == "comment_added":
            comment = delivery.comment
            if comment is None or not comment.public or not comment.body.strip():
                return None  # a note for the team
            author = comment.author
            if author is not None and (author.role or "").lower() in ("end-user", "end_user"):
                return None  # the shopper
            identity = comment.id if comment.id is not None else invocation
            if identity is None:
                stamp = comment.created_at.isoformat() if comment.created_at else ""
                identity = hashlib.sha256(f"{ticket_id}|{stamp}|{comment.body}".encode()).hexdigest()[:24]
            return HumanReplied(
                ticket_id=ticket_id,
                conversation_id=conversation_id,
                occurred_at=comment.created_at or at,
                text=comment.body,
                author=(author.name or author.email) if author else None,
                message_id=f"{MESSAGE_ID_PREFIX}{ticket_id}-{identity}",
            )
        tags = set(ticket.tags)
        if ticket.status in SOLVED_STATUSES:
            return TicketClosed(ticket_id=ticket_id, conversation_id=conversation_id, occurred_at=at)
        return decision(tags, ticket_id, conversation_id, at)

    # ------------------------------------------------------------------ requests out

    def ticket_change(self, request: HelpdeskRequest) -> TicketChange:
        return ticket_change(request)

"""The Gorgias side of the conversation with people: its webhooks in, its tags out.

Gorgias sends "HTTP integration" requests: a body template the store defines (ours is documented
in the README and is what the sandbox sends, `HelpdeskWebhookEvent`) on triggers such as
`ticket-updated` and `ticket-message-created`, with no signature: a header the store chooses
carries a shared secret. The team speaks to the bot through tags on the ticket; these names are
Gorgias conventions of this integration and appear nowhere above `integrations/gorgias/`.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping

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
from integrations.gorgias.models import HelpdeskWebhookEvent
from integrations.helpdesk_tags import (
    decision,
    ticket_change,
)

MESSAGE_ID_PREFIX = "gorgias-"
DEFAULT_HEADER = "X-Support-Agent-Secret"  # the default name of the header carrying the shared secret


class GorgiasProtocol:
    """Verifies and parses Gorgias HTTP-integration deliveries; maps our requests to Gorgias tags.

    Messages we mirror are written through the API (`via: api`), so they are never taken for a
    person replying. (Not recognised by their sender: the API key's user may well be a person who
    also answers tickets in Gorgias.)
    """

    def __init__(self, *, secret: str, secret_header: str = DEFAULT_HEADER) -> None:
        self.secret_header = secret_header
        self._secret = secret

    # ------------------------------------------------------------------ webhooks in

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        given = header(headers, self.secret_header)
        if not given or not self._secret or not hmac.compare_digest(given.encode(), self._secret.encode()):
            raise WebhookRejected(f"Missing or wrong {self.secret_header} header.", code="invalid_secret")

    def dedupe_keys(self, headers: Mapping[str, str], raw_body: bytes) -> list[str]:
        # An HTTP integration sends no delivery id; a replay is recognised by the events' guards
        # (a reply's message id, the hand-back time, the conversation's status).
        return []

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> list[HelpdeskEvent]:
        try:
            body = json.loads(raw_body)
        except (ValueError, UnicodeDecodeError):
            raise WebhookMalformed("The body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise WebhookMalformed("The body must be a JSON object.")
        try:
            delivery = HelpdeskWebhookEvent.model_validate(body)
        except ValidationError:
            raise WebhookMalformed("Expected {event, ticket: {id, ...}, message}.") from None
        event = self.event_of(delivery)
        return [] if event is None else [event]

    def event_of(self, delivery: HelpdeskWebhookEvent) -> HelpdeskEvent | None:
        """What one delivery means: at most one event (a close wins over tags; a hand-back over a
        refund decision, as a person handing back is done with the conversation)."""
        ticket = delivery.ticket
        if not ticket.external_id:
            return None  # not a ticket of ours
        ticket_id, conversation_id, at = str(ticket.id), ticket.external_id, ticket.updated_datetime
        message = delivery.message
        if delivery.event == "ticket-message-created":
            if message is None or message.via == "api":  # none, or one of our own mirrored messages
                return None
            if not message.is_human_reply():
                return None  # a note, or the shopper
            sender = message.sender
            return HumanReplied(
                ticket_id=ticket_id,
                conversation_id=conversation_id,
                occurred_at=message.created_datetime,
                text=message.body_text or "",
                author=(sender.name or sender.email) if sender else None,
                message_id=f"{MESSAGE_ID_PREFIX}{message.id}",
            )
        tags = set(ticket.tag_names)
        if ticket.status == "closed":
            return TicketClosed(ticket_id=ticket_id, conversation_id=conversation_id, occurred_at=at)
        return decision(tags, ticket_id, conversation_id, at)

    # ------------------------------------------------------------------ requests out

    def ticket_change(self, request: HelpdeskRequest) -> TicketChange:
        return ticket_change(request)

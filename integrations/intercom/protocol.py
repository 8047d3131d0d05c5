"""The Intercom side of the conversation with people: its webhook notifications in, its tags out.

Intercom notifies the app's webhook URL of the topics the app subscribes to, with a
`notification_event` body (the conversation as `data.item`) and `X-Hub-Signature: sha1=<hex>`, the
HMAC-SHA1 of the raw body keyed by the app's client secret. Intercom sends no timestamp to check, so
a replayed delivery is recognised by its notification id (`dedupe_keys`) and the events' own ids.

The topics we read:
- `conversation.admin.replied`: a person's reply to the shopper takes the conversation over (the
  bot's own replies, made as the bot's admin, are left out);
- `conversation.admin.closed`: closed, the bot may answer again;
- `conversation.admin.assigned`: assigned back to the bot's admin, a hand-back;
- `conversation_part.tag.created`: a tag a person added decides (hand back, approve, deny).

The tag names are this integration's conventions and appear nowhere above `integrations/`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

from pydantic import ValidationError

from integrations.domain import (
    HelpdeskRequest,
    TicketChange,
)
from integrations.events import (
    HandedBack,
    HelpdeskEvent,
    HumanReplied,
    TicketClosed,
    WebhookMalformed,
    WebhookRejected,
    header,
)
from integrations.helpdesk_tags import (
    APPROVED_TAG,
    DECISIONS,
    DENIED_TAG,
    ticket_change,
)
from integrations.intercom.client import CONVERSATION_ATTRIBUTE
from integrations.intercom.models import IntercomConversation, IntercomNotification

SIGNATURE_HEADER = "X-Hub-Signature"

TOPICS = (
    "conversation.admin.replied",
    "conversation.admin.closed",
    "conversation.admin.assigned",
    "conversation_part.tag.created",
)

APPROVAL_INSTRUCTIONS = f"Tag the conversation '{APPROVED_TAG}' to approve or '{DENIED_TAG}' to deny; the shopper is told in the chat."
MESSAGE_ID_PREFIX = "intercom-"


def signature(secret: str, raw_body: bytes) -> str:
    """Intercom's `X-Hub-Signature`: `sha1=` and the hex HMAC-SHA1 of the body with the client secret."""
    return "sha1=" + hmac.new(secret.encode(), raw_body, hashlib.sha1).hexdigest()


class IntercomProtocol:
    """Verifies and parses Intercom's webhook notifications; maps our requests to tags.

    `bot_admin_id` is the admin the bot acts as: what it does comes back as notifications too, and
    is not a person's doing."""

    def __init__(self, *, secret: str, bot_admin_id: str = "") -> None:
        self._secret = secret
        self.bot_admin_id = bot_admin_id

    # ------------------------------------------------------------------ webhooks in

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        given = (header(headers, SIGNATURE_HEADER) or "").strip()
        if not given or not self._secret:
            raise WebhookRejected(f"Missing {SIGNATURE_HEADER}.")
        if not hmac.compare_digest(given.lower().encode(), signature(self._secret, raw_body).encode()):
            raise WebhookRejected(f"Wrong {SIGNATURE_HEADER}.")

    @staticmethod
    def _notification(raw_body: bytes) -> IntercomNotification:
        try:
            body = json.loads(raw_body)
        except (ValueError, UnicodeDecodeError):
            raise WebhookMalformed("The body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise WebhookMalformed("The body must be a JSON object.")
        try:
            return IntercomNotification.model_validate(body)
        except ValidationError:
            raise WebhookMalformed("Expected a notification_event {topic, data: {item}}.") from None

    def dedupe_keys(self, headers: Mapping[str, str], raw_body: bytes) -> list[str]:
        notification = self._notification(raw_body)
        return [f"notification:{notification.id}"] if notification.id else []

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> list[HelpdeskEvent]:
        notification = self._notification(raw_body)
        if notification.topic not in TOPICS:
            return []  # another topic the app subscribes to: not ours to act on
        try:
            conversation = IntercomConversation.model_validate(notification.data.item)
        except ValidationError:
            raise WebhookMalformed("Expected the conversation as data.item.") from None
        event = self.event_of(notification.topic, conversation)
        return [] if event is None else [event]

    def _is_bot(self, admin_id: str | None) -> bool:
        return bool(self.bot_admin_id) and admin_id == self.bot_admin_id

    def event_of(self, topic: str, conversation: IntercomConversation) -> HelpdeskEvent | None:
        """What one notification means: at most one event."""
        ours = conversation.custom_attributes.get(CONVERSATION_ATTRIBUTE)
        if not ours:
            return None  # not a conversation of ours
        ticket_id, conversation_id = conversation.id, str(ours)
        parts = conversation.parts
        last = parts[-1] if parts else None
        at = conversation.updated_at
        if topic == "conversation.admin.replied":
            if last is None or last.part_type != "comment" or last.author.type != "admin":
                return None
            if self._is_bot(last.author.id) or not last.text:
                return None  # the bot's own reply
            return HumanReplied(
                ticket_id=ticket_id,
                conversation_id=conversation_id,
                occurred_at=last.created_at,
                text=last.text,
                author=last.author.name or last.author.email,
                message_id=f"{MESSAGE_ID_PREFIX}{ticket_id}-{last.id}",
            )
        if topic == "conversation.admin.closed":
            if last is not None and last.part_type == "close" and self._is_bot(last.author.id):
                return None  # the bot closed it itself
            return TicketClosed(ticket_id=ticket_id, conversation_id=conversation_id, occurred_at=at)
        if topic == "conversation.admin.assigned":
            if last is None or last.part_type not in ("assignment", "assign_and_reopen"):
                return None
            if self._is_bot(last.author.id) or not self._is_bot(conversation.admin_assignee_id):
                return None
            return HandedBack(ticket_id=ticket_id, conversation_id=conversation_id, occurred_at=at)
        # conversation_part.tag.created: the newest decision tag a person (not the bot) applied
        decisions = [
            (tag.applied_at or 0, position, tag.name)
            for position, tag in enumerate(conversation.tags)
            if tag.name in DECISIONS and not self._is_bot(tag.applied_by_id)
        ]
        if not decisions:
            return None
        newest = max(decisions)[2]  # the latest applied; of two in the same second, the one listed last
        return DECISIONS[newest](ticket_id=ticket_id, conversation_id=conversation_id, occurred_at=at)

    # ------------------------------------------------------------------ requests out

    def ticket_change(self, request: HelpdeskRequest) -> TicketChange:
        return ticket_change(request, APPROVAL_INSTRUCTIONS)

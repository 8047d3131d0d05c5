"""Pydantic models of the Front Core API payloads we use (only the fields we read; extra ignored).

Shapes follow Front's API reference (dev.frontapp.com/reference): conversations, messages,
comments, tags and teammates as the Core API returns them, the Channel API's answer to a synced
message, and the two kinds of webhook an application receives: the channel's callback when a
teammate sends a message in the channel (`{"type": "message", "payload": <message>}`) and the
application webhook's events (`{"type": "archive" | "tag" | ..., "conversation": ..., "target": ...}`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

CONVERSATION_PREFIX = "cnv_"


def conversation_api_id(number: int) -> str:
    """Front's API id of a conversation from the number its app URLs show: `cnv_` + base 36."""
    if number < 0:
        raise ValueError("a conversation number is not negative")
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if number == 0:
            return CONVERSATION_PREFIX + text


def conversation_number(api_id: str) -> int:
    """The number of a `cnv_...` id (the reverse of `conversation_api_id`); ValueError otherwise."""
    if not api_id.startswith(CONVERSATION_PREFIX) or len(api_id) == len(CONVERSATION_PREFIX):
        raise ValueError(f"not a Front conversation id: {api_id!r}")
    return int(api_id[len(CONVERSATION_PREFIX) :], 36)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class FrontTag(_Model):
    id: str
    name: str


class FrontTeammate(_Model):
    id: str
    email: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None

    @property
    def display_name(self) -> str | None:
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return name or self.email or self.username


class FrontRecipient(_Model):
    handle: str
    role: str | None = None
    name: str | None = None


class FrontConversation(_Model):
    id: str
    subject: str | None = None
    status: str = "unassigned"
    """archived, unassigned, assigned, deleted, snoozed (and `invisible` in shared views)."""
    assignee: FrontTeammate | None = None
    recipient: FrontRecipient | None = None
    tags: list[FrontTag] = Field(default_factory=list)
    created_at: float | None = None

    @property
    def number(self) -> int:
        return conversation_number(self.id)


class MessageMetadata(_Model):
    external_id: str | None = None
    external_conversation_id: str | None = None
    external_conversation_ids: list[str] = Field(default_factory=list)


class FrontMessage(_Model):
    id: str
    type: str | None = None
    is_inbound: bool = True
    created_at: float | None = None
    body: str = ""
    text: str | None = None
    author: FrontTeammate | None = None
    recipients: list[FrontRecipient] = Field(default_factory=list)
    metadata: MessageMetadata = Field(default_factory=MessageMetadata)
    links: dict[str, Any] = Field(default_factory=dict, alias="_links")

    @property
    def conversation_id(self) -> str | None:
        """The id of the conversation the message belongs to, from its `_links.related.conversation`."""
        related = self.links.get("related") if isinstance(self.links, dict) else None
        url = related.get("conversation") if isinstance(related, dict) else None
        if not isinstance(url, str) or not url:
            return None
        return url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def plain_text(self) -> str:
        return self.text if self.text is not None else self.body


class FrontComment(_Model):
    id: str
    body: str = ""
    author: FrontTeammate | None = None
    posted_at: float | None = None


class SyncAccepted(_Model):
    """The Channel API's answer to a synced message: accepted for import, with the message's uid."""

    status: str = "accepted"  # the Channel API says so; the custom channel's endpoint only gives the uid
    message_uid: str


# --------------------------------------------------------------------------- webhooks


class ChannelMessageDelivery(_Model):
    """The channel's callback: a teammate sent a message in the channel (to the shopper)."""

    type: str
    payload: FrontMessage


class EventTarget(_Model):
    meta: dict[str, Any] = Field(default_factory=dict, alias="_meta")
    data: dict[str, Any] | None = None

    @property
    def kind(self) -> str | None:
        value = self.meta.get("type")
        return str(value) if value else None


class FrontEvent(_Model):
    """An application webhook's event (Front's event object, e.g. `archive`, `tag`, `reopen`)."""

    id: str
    type: str
    emitted_at: float | None = None
    conversation: FrontConversation
    target: EventTarget | None = None
    source: EventTarget | None = None

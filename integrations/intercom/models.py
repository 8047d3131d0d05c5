"""Pydantic models of the Intercom REST API payloads we use (only the fields we read; extra ignored).

Shapes follow Intercom's API reference (version 2.14: contacts, conversations and their parts, tags,
admins) and its webhook notifications (`notification_event` with the conversation as `data.item`).
Intercom ids are strings in JSON even when they look like numbers; admin ids sometimes arrive as
numbers (`admin_assignee_id`), so every id is read as a string.
"""

from __future__ import annotations

import html
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _id(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"(?i)<br\s*/?>|</p>\s*<p[^>]*>")


def plain_text(body: str | None) -> str:
    """A part's body as text: Intercom stores bodies as HTML (`<p>Okay!</p>`)."""
    if not body:
        return ""
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", body))).strip()


class IntercomContact(_Model):
    id: str
    role: str | None = Field(None, description="user or lead.")
    email: str | None = None
    name: str | None = None
    external_id: str | None = None


class IntercomAdmin(_Model):
    id: str
    type: str = "admin"
    name: str | None = None
    email: str | None = None

    _ids = field_validator("id", mode="before")(_id)


class IntercomTag(_Model):
    id: str
    name: str
    applied_by: dict[str, Any] | None = None
    applied_at: int | None = None

    _ids = field_validator("id", mode="before")(_id)

    @property
    def applied_by_id(self) -> str | None:
        value = (self.applied_by or {}).get("id")
        return str(value) if value is not None else None


class Author(_Model):
    type: str = ""
    id: str | None = None
    name: str | None = None
    email: str | None = None

    _ids = field_validator("id", mode="before")(_id)


class ConversationPart(_Model):
    id: str
    part_type: str = ""
    body: str | None = None
    created_at: int | None = None
    author: Author = Field(default_factory=Author)
    assigned_to: dict[str, Any] | None = None

    _ids = field_validator("id", mode="before")(_id)

    @property
    def text(self) -> str:
        return plain_text(self.body)


class Source(_Model):
    id: str | None = None
    body: str | None = None
    author: Author = Field(default_factory=Author)

    _ids = field_validator("id", mode="before")(_id)


class _TagList(_Model):
    tags: list[IntercomTag] = Field(default_factory=list)


class _PartList(_Model):
    conversation_parts: list[ConversationPart] = Field(default_factory=list)
    total_count: int | None = None


class _ContactRef(_Model):
    id: str


class _ContactList(_Model):
    contacts: list[_ContactRef] = Field(default_factory=list)


class IntercomConversation(_Model):
    id: str
    created_at: int | None = None
    updated_at: int | None = None
    open: bool = True
    state: str = "open"
    admin_assignee_id: str | None = None
    team_assignee_id: str | None = None
    source: Source = Field(default_factory=Source)
    contacts: _ContactList = Field(default_factory=_ContactList)
    tags_: _TagList = Field(default_factory=_TagList, alias="tags")
    custom_attributes: dict[str, Any] = Field(default_factory=dict)
    conversation_parts: _PartList = Field(default_factory=_PartList)

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    _ids = field_validator("id", "admin_assignee_id", "team_assignee_id", mode="before")(_id)

    @field_validator("tags_", "conversation_parts", "contacts", "source", "custom_attributes", mode="before")
    @classmethod
    def _none(cls, value: Any) -> Any:
        return {} if value is None else value

    @property
    def tags(self) -> list[IntercomTag]:
        return self.tags_.tags

    @property
    def tag_names(self) -> list[str]:
        return [tag.name for tag in self.tags]

    @property
    def parts(self) -> list[ConversationPart]:
        return self.conversation_parts.conversation_parts

    @property
    def contact_id(self) -> str | None:
        return self.contacts.contacts[0].id if self.contacts.contacts else None


class CreatedMessage(_Model):
    """What `POST /conversations` answers: the user's message, with the conversation it opened."""

    type: str = "user_message"
    id: str
    conversation_id: str

    _ids = field_validator("id", "conversation_id", mode="before")(_id)


# --------------------------------------------------------------------------- webhook notifications


class _NotificationData(_Model):
    item: dict[str, Any] = Field(default_factory=dict)


class IntercomNotification(_Model):
    """A webhook delivery: `topic` says what happened, `data.item` is the object (a conversation for
    every `conversation.*` and `conversation_part.*` topic)."""

    type: str
    id: str | None = None
    topic: str
    app_id: str | None = None
    created_at: int | None = None
    data: _NotificationData

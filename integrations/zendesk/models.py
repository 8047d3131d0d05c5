"""Pydantic models of the Zendesk Support payloads we use (only the fields we read; extra ignored).

Shapes follow Zendesk's API reference (`/api/v2/tickets`, `/tickets/{id}/comments`, `/users`) and
the webhook body this integration documents for its triggers (README, "Connecting your helpdesk").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ZendeskUser(_Model):
    id: int
    name: str | None = None
    email: str | None = None
    role: str | None = Field(None, description="end-user, agent or admin.")


class ZendeskTicket(_Model):
    id: int
    external_id: str | None = None
    status: str = "new"
    subject: str | None = None
    tags: list[str] = Field(default_factory=list)
    requester_id: int | None = None
    assignee_id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ZendeskComment(_Model):
    id: int
    author_id: int | None = None
    body: str = ""
    public: bool = True
    created_at: datetime | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def external_id(self) -> str | None:
        """The id we gave the comment, kept in its audit's custom metadata."""
        custom = self.metadata.get("custom")
        value = custom.get("external_id") if isinstance(custom, dict) else None
        return str(value) if value else None


class NewComment(_Model):
    """A comment to add: public (a message of the conversation) or private (a note for the team)."""

    body: str
    public: bool
    author_id: int | None = Field(
        None, description="Whose words: the requester's for the shopper's; the API user's otherwise."
    )
    external_id: str | None = None

    def payload(self) -> dict[str, Any]:
        comment: dict[str, Any] = {"body": self.body, "public": self.public}
        if self.author_id is not None:
            comment["author_id"] = self.author_id
        return comment


# --------------------------------------------------------------------------- webhooks from triggers


def _text(value: Any) -> Any:
    """Placeholders render as text: numbers and booleans arrive quoted, empty ones as ''."""
    return None if value == "" else value


class HookTicket(_Model):
    id: int
    external_id: str | None = None
    status: str = ""
    tags: list[str] = Field(default_factory=list)
    updated_at: datetime | None = None

    @field_validator("external_id", "updated_at", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return _text(value)

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: Any) -> Any:
        return str(value or "").strip().lower()  # `{{ticket.status}}` renders the display name, "Solved"

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> Any:
        if isinstance(value, str):  # `{{ticket.tags}}` renders the tags space-separated
            return value.split()
        return value


class HookAuthor(_Model):
    id: int | None = None
    name: str | None = None
    email: str | None = None
    role: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return _text(value)


class HookComment(_Model):
    id: int | None = None
    body: str = ""
    public: bool = True
    created_at: datetime | None = None
    author: HookAuthor | None = None

    @field_validator("id", "created_at", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return _text(value)


class ZendeskWebhookBody(_Model):
    """What our two triggers send: `comment_added` (a person's public comment) and `ticket_updated`
    (solved, or a tag a person added)."""

    event: Literal["comment_added", "ticket_updated"]
    ticket: HookTicket
    comment: HookComment | None = None

"""Gorgias payloads: only the fields we use, lenient about the API's older shapes.

The same models parse the real API (and the example objects of its 2016 Swagger spec), the
sandbox emulator, and the webhook body our documented HTTP-integration template sends.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

INTERNAL_NOTE = "internal-note"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class GorgiasTag(_Model):
    id: int | None = None
    name: str


class GorgiasChannel(_Model):
    """One way to reach a customer (`{"type": "email", "address": ...}`)."""

    type: str
    address: str


class GorgiasPerson(_Model):
    """A sender, receiver or assignee as embedded in tickets and messages (often only an id)."""

    id: int | None = None
    email: str | None = None
    name: str | None = None


class GorgiasUser(GorgiasPerson):
    """A helpdesk agent (an assignee)."""

    id: int


class GorgiasCustomer(_Model):
    id: int
    email: str | None = None
    name: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    external_id: str | None = None
    channels: list[GorgiasChannel] = Field(default_factory=list)

    @field_validator("channels", mode="before")
    @classmethod
    def _no_null_channels(cls, value: Any) -> Any:
        return [] if value is None else value

    def has_email(self, email: str) -> bool:
        """Whether the customer is reachable at `email` (their main email or an email channel)."""
        wanted = email.strip().lower()
        addresses = [self.email or ""] + [c.address for c in self.channels if c.type == "email"]
        return any(address.strip().lower() == wanted for address in addresses)


def _external_id(value: Any) -> Any:
    # Gorgias lets integrations write any scalar here; we compare as strings.
    return str(value) if isinstance(value, int) else value


def _not_none(default: bool) -> Any:
    def convert(value: Any) -> Any:
        return default if value is None else value

    return convert


class GorgiasMessage(_Model):
    id: int
    ticket_id: int | None = None
    channel: str
    via: str | None = None
    from_agent: bool = False
    public: bool = True
    sender: GorgiasPerson | None = None
    receiver: GorgiasPerson | None = None
    subject: str | None = None
    body_text: str | None = None
    body_html: str | None = None
    external_id: str | None = None
    created_datetime: datetime | None = None

    _external = field_validator("external_id", mode="before")(_external_id)
    _from_agent = field_validator("from_agent", mode="before")(_not_none(False))
    _public = field_validator("public", mode="before")(_not_none(True))

    @property
    def is_internal_note(self) -> bool:
        return self.channel == INTERNAL_NOTE or not self.public


class GorgiasTicket(_Model):
    id: int
    external_id: str | None = None
    status: str = "open"
    subject: str | None = None
    channel: str | None = None
    via: str | None = None
    tags: list[GorgiasTag] = Field(default_factory=list)
    assignee_user: GorgiasUser | None = None
    # The 2016 API called the customer the "requester".
    customer: GorgiasPerson | None = Field(None, validation_alias=AliasChoices("customer", "requester"))
    messages: list[GorgiasMessage] = Field(default_factory=list)
    created_datetime: datetime | None = None
    updated_datetime: datetime | None = None
    closed_datetime: datetime | None = None

    _external = field_validator("external_id", mode="before")(_external_id)

    @field_validator("tags", "messages", mode="before")
    @classmethod
    def _no_null_lists(cls, value: Any) -> Any:
        return [] if value is None else value

    @property
    def tag_names(self) -> list[str]:
        return [tag.name for tag in self.tags]

    @property
    def is_closed(self) -> bool:
        return self.status == "closed"


class NewMessage(_Model):
    """A message we send: on a new ticket or appended to one.

    `sender`/`receiver` are `{"email": ...}` or `{"id": ...}`; the client fills the customer in
    when they are left out. `external_id` is our own id, so a retried sync does not post twice.
    """

    channel: str = "chat"
    via: str = "api"
    from_agent: bool
    public: bool | None = None
    body_text: str
    body_html: str | None = None
    sender: dict[str, Any] | None = None
    receiver: dict[str, Any] | None = None
    subject: str | None = None
    external_id: str | None = None

    @classmethod
    def from_customer(
        cls, text: str, *, email: str | None = None, channel: str = "chat", external_id: str | None = None
    ) -> NewMessage:
        """What the shopper wrote (mirrored from the chat widget)."""
        return cls(
            channel=channel,
            from_agent=False,
            body_text=text,
            sender={"email": email} if email else None,
            external_id=external_id,
        )

    @classmethod
    def from_bot(
        cls,
        text: str,
        *,
        customer_email: str | None = None,
        channel: str = "chat",
        external_id: str | None = None,
    ) -> NewMessage:
        """What the AI agent answered (sent as the API user, so `from_agent` is true)."""
        return cls(
            channel=channel,
            from_agent=True,
            body_text=text,
            receiver={"email": customer_email} if customer_email else None,
            external_id=external_id,
        )

    @classmethod
    def internal_note(
        cls, text: str, *, html: str | None = None, external_id: str | None = None
    ) -> NewMessage:
        """A note only the team sees: never public, never sent to the shopper."""
        return cls(
            channel=INTERNAL_NOTE,
            from_agent=True,
            public=False,
            body_text=text,
            body_html=html,
            external_id=external_id,
        )

    @property
    def is_internal_note(self) -> bool:
        return self.channel == INTERNAL_NOTE

    def payload(self) -> dict[str, Any]:
        """The request body Gorgias expects (internal notes forced private)."""
        body = self.model_dump(exclude_none=True)
        if self.is_internal_note:
            body["public"] = False
            body["from_agent"] = True
        return body


# --------------------------------------------------------------------------- webhooks


class HelpdeskWebhookTicket(_Model):
    id: int
    external_id: str | None = None
    status: str | None = None
    subject: str | None = None
    tags: list[GorgiasTag] = Field(default_factory=list)
    assignee_user: GorgiasPerson | None = None
    updated_datetime: datetime | None = None

    _external = field_validator("external_id", mode="before")(_external_id)

    @field_validator("tags", mode="before")
    @classmethod
    def _no_null_tags(cls, value: Any) -> Any:
        return [] if value is None else value

    @property
    def tag_names(self) -> list[str]:
        return [tag.name for tag in self.tags]


class HelpdeskWebhookMessage(_Model):
    id: int
    channel: str | None = None
    via: str | None = Field(None, description="`api` for messages written through the API (ours).")
    from_agent: bool = False
    public: bool = True
    body_text: str | None = None
    sender: GorgiasPerson | None = None
    created_datetime: datetime | None = None

    _from_agent = field_validator("from_agent", mode="before")(_not_none(False))
    _public = field_validator("public", mode="before")(_not_none(True))

    def is_human_reply(self, *, api_user_email: str | None = None) -> bool:
        """A public message written by a person on the team: not a note, not the shopper.

        Messages the agent itself mirrors through the API are `from_agent` too; pass the API
        user's email (`GORGIAS_EMAIL`) so they are not mistaken for a human taking over.
        """
        if not (self.from_agent and self.public and self.channel != INTERNAL_NOTE):
            return False
        sender = (self.sender.email or "").strip().lower() if self.sender else ""
        return not (api_user_email and sender == api_user_email.strip().lower())


class HelpdeskWebhookEvent(_Model):
    """The body our documented Gorgias HTTP-integration template sends.

    `event` is the trigger (`ticket-created`, `ticket-updated`, `ticket-message-created`);
    `message` is present for message events.
    """

    event: str
    ticket: HelpdeskWebhookTicket
    message: HelpdeskWebhookMessage | None = None

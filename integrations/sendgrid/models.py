"""SendGrid payloads (only the fields we use) and what our mailer returns."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SendGridFieldError(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message: str | None = None
    field: str | None = None


class SendGridErrorBody(BaseModel):
    """`{"errors": [{"message", "field", "help"}]}`, SendGrid's error shape."""

    model_config = ConfigDict(extra="ignore")

    errors: list[SendGridFieldError] = Field(default_factory=list)

    def describe(self) -> str:
        parts = [f"{e.field}: {e.message}" if e.field else str(e.message) for e in self.errors if e.message]
        return "; ".join(parts) or "no details"


class SentEmail(BaseModel):
    """An email SendGrid accepted (202). `message_id` is its `X-Message-Id`, for support lookups."""

    model_config = ConfigDict(extra="ignore")

    message_id: str | None
    status: int


class SendGridSender(BaseModel):
    """A Sender Identity (`GET /v3/verified_senders`): mail from `from_email` is accepted once verified."""

    model_config = ConfigDict(extra="ignore")

    id: int | None = None
    from_email: str
    verified: bool = False


class SendGridDomain(BaseModel):
    """A domain authentication (`GET /v3/whitelabel/domains`): every address on a valid one may send."""

    model_config = ConfigDict(extra="ignore")

    domain: str
    valid: bool = False

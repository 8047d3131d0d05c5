"""Text messages in vendor-neutral terms: what the agent asks of an SMS provider and hears back.

The keywords are the carriers' (CTIA) conventions, which every SMS provider honours; the Twilio
adapter (`integrations/twilio/`) maps its API and webhooks onto these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol

from integrations._http import IntegrationError
from integrations.domain import Domain

STOP_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
START_KEYWORDS = frozenset({"START", "YES", "UNSTOP", "OPTIN"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})

RefusalReason = Literal["opted_out", "invalid_number"]


class SentText(Domain):
    """A text the provider accepted."""

    message_id: str
    to: str
    status: str
    segments: int = 1


class TextReceived(Domain):
    """A shopper texted the store's number."""

    kind: Literal["text_received"] = "text_received"
    message_id: str
    from_number: str
    to_number: str
    body: str


class TextStatusChanged(Domain):
    """The provider reports how a text we sent fared (sent, delivered, undelivered, failed)."""

    kind: Literal["text_status"] = "text_status"
    message_id: str
    status: str
    to_number: str | None = None
    refused: RefusalReason | None = None


class TextRefused(IntegrationError):
    """The provider will not text this number: it opted out, or it is not a mobile phone number."""

    def __init__(self, vendor: str, reason: RefusalReason, message: str) -> None:
        super().__init__(vendor, message)
        self.reason = reason


class TextMessaging(Protocol):
    """Sends texts from the store's number (Twilio)."""

    async def send(self, to: str, body: str, *, status_callback: str | None = None) -> SentText:
        """Text `body` to `to` (E.164). Raises `TextRefused` for a number that cannot be texted."""
        ...


class TextWebhooks(Protocol):
    """The SMS provider's webhooks: verified against the exact URL called, then parsed."""

    def verify(self, url: str, headers: Mapping[str, str], raw_body: bytes) -> None:
        """Raise `WebhookRejected` unless the provider provably sent this request to `url`."""
        ...

    def parse(self, raw_body: bytes) -> TextReceived | TextStatusChanged: ...

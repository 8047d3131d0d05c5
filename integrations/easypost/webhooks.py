"""EasyPost's webhooks: `tracker.updated` events, verified with the webhook's HMAC secret.

EasyPost signs each delivery of a webhook created with a `webhook_secret`: the header
`X-Hmac-Signature` is `hmac-sha256-hex=` followed by the hex HMAC-SHA256 of the raw body, keyed with
the secret (the SDK's `validate_webhook` checks the same, after normalising the secret to NFKD).
A delivery without it, or with another value, is refused before its body is read.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
from collections.abc import Mapping

from pydantic import ValidationError

from integrations.domain import TrackingStatus
from integrations.easypost.adapter import tracking_status
from integrations.easypost.models import EasyPostTracker, TrackingInfo
from integrations.events import WebhookMalformed, WebhookRejected, header

SIGNATURE_HEADER = "X-Hmac-Signature"
SIGNATURE_PREFIX = "hmac-sha256-hex="
TRACKER_UPDATED = "tracker.updated"


def signature(secret: str, raw_body: bytes) -> str:
    """The header value EasyPost sends for this body."""
    key = unicodedata.normalize("NFKD", secret).encode()
    return SIGNATURE_PREFIX + hmac.new(key, raw_body, hashlib.sha256).hexdigest()


class EasyPostWebhooks:
    """`TrackingWebhooks` for EasyPost."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        given = header(headers, SIGNATURE_HEADER)
        if not given:
            raise WebhookRejected(f"{SIGNATURE_HEADER} is missing.")
        if not hmac.compare_digest(given.strip().encode(), signature(self._secret, raw_body).encode()):
            raise WebhookRejected(f"{SIGNATURE_HEADER} does not match the body.")

    def event_id(self, raw_body: bytes) -> str | None:
        try:
            body = json.loads(raw_body)
        except ValueError:
            return None
        value = body.get("id") if isinstance(body, dict) else None
        return str(value) if value else None

    def parse(self, raw_body: bytes) -> TrackingStatus | None:
        """The tracker of a `tracker.updated` event (None for other events, which we ignore)."""
        try:
            body = json.loads(raw_body)
        except ValueError:
            raise WebhookMalformed("The body is not JSON.") from None
        if not isinstance(body, dict) or body.get("object") != "Event":
            raise WebhookMalformed("Not an EasyPost event.")
        if body.get("description") != TRACKER_UPDATED:
            return None
        try:
            tracker = EasyPostTracker.model_validate(body.get("result"))
        except ValidationError:
            raise WebhookMalformed("The event's result is not a tracker.") from None
        return tracking_status(TrackingInfo.from_tracker(tracker))

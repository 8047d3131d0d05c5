"""Twilio's webhooks (an incoming text, a status callback for one we sent): verified, then parsed.

Twilio signs each request with `X-Twilio-Signature`: base64 HMAC-SHA1, keyed with the account's auth
token, over the full URL it requested followed by every POST parameter, sorted by name, as
name + value. The URL is the one configured at Twilio (our PUBLIC_URL), not whatever a proxy in
front of us rewrote it to. The SDK's `RequestValidator` does the computing; anything that fails it,
or carries no signature, is refused before a parameter is read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from urllib.parse import parse_qs

from twilio.request_validator import RequestValidator

from integrations.events import WebhookMalformed, WebhookRejected, header
from integrations.texting import TextReceived, TextStatusChanged
from integrations.twilio.models import INVALID_TO_NUMBER, NOT_A_MOBILE, OPTED_OUT

SIGNATURE_HEADER = "X-Twilio-Signature"


class _FormParams:
    """POST parameters as the SDK's validator reads them (every value of a repeated name)."""

    def __init__(self, values: Mapping[str, list[str]]) -> None:
        self._values = values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def getall(self, name: str) -> list[str]:
        return list(self._values[name])


def form_params(raw_body: bytes) -> dict[str, list[str]]:
    try:
        return parse_qs(raw_body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise WebhookMalformed("The body is not form-encoded UTF-8.") from None


class TwilioWebhooks:
    """Verifies and parses what Twilio posts to our webhook addresses."""

    def __init__(self, auth_token: str, *, account_sid: str) -> None:
        self._validator = RequestValidator(auth_token)
        self._account_sid = account_sid

    def verify(self, url: str, headers: Mapping[str, str], raw_body: bytes) -> None:
        """Raise `WebhookRejected` unless Twilio signed exactly this URL and these parameters."""
        signature = header(headers, SIGNATURE_HEADER)
        if not signature:
            raise WebhookRejected(f"{SIGNATURE_HEADER} is missing.")
        params = form_params(raw_body)
        if not self._validator.validate(url, _FormParams(params), signature):
            raise WebhookRejected(f"{SIGNATURE_HEADER} does not match this request.")
        account = _one(params, "AccountSid")
        if account is not None and account != self._account_sid:
            raise WebhookRejected("The request is for another Twilio account.")

    def parse(self, raw_body: bytes) -> TextReceived | TextStatusChanged:
        """An incoming text or a status callback (`WebhookMalformed` when it is neither)."""
        params = form_params(raw_body)
        sid = _one(params, "MessageSid") or _one(params, "SmsSid")
        if not sid:
            raise WebhookMalformed("No MessageSid: not a Twilio messaging webhook.")
        body = _one(params, "Body")
        status = _one(params, "MessageStatus") or _one(params, "SmsStatus")
        if body is not None and status in (None, "received"):
            sender, to = _one(params, "From"), _one(params, "To")
            if not sender or not to:
                raise WebhookMalformed("An incoming message needs From and To.")
            return TextReceived(message_id=sid, from_number=sender, to_number=to, body=body)
        if not status:
            raise WebhookMalformed("Neither a message nor a status callback.")
        code = _one(params, "ErrorCode")
        refused = {
            str(OPTED_OUT): "opted_out",
            str(INVALID_TO_NUMBER): "invalid_number",
            str(NOT_A_MOBILE): "invalid_number",
        }.get(code or "")
        return TextStatusChanged(
            message_id=sid,
            status=status,
            to_number=_one(params, "To"),
            refused=refused,
        )


def _one(params: Mapping[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None

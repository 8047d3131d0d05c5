"""Sending SMS through Twilio's Messages API with the official `twilio` SDK.

The SDK is blocking (requests): every call runs in a worker thread (`integrations._sdk.call_sdk`).
Its HTTP client is pointed at a configurable API root (the sandbox, a proxy) by rewriting the
`https://api.twilio.com` prefix the SDK builds its URLs with. Sending is never retried on its own:
a message Twilio accepted before the answer got lost would be texted twice.
"""

from __future__ import annotations

import logging
from typing import Any

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from integrations._http import IntegrationError, RetryPolicyFactory, VendorError
from integrations._sdk import call_sdk, error_for_status, network_error
from integrations.texting import SentText, TextRefused
from integrations.twilio.models import INVALID_TO_NUMBER, NOT_A_MOBILE, OPTED_OUT

VENDOR = "twilio"
AUTH_SETTING = "TWILIO_AUTH_TOKEN"
TWILIO_API_ROOT = "https://api.twilio.com"
# The SDK logs every request's parameters (phone numbers, texts) at INFO: keep only its warnings.
_sdk_logger = logging.getLogger("support_agent.twilio_sdk")
_sdk_logger.setLevel(logging.WARNING)


class _RootedHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """The SDK's HTTP client, sending what it addresses to api.twilio.com to `api_root` instead."""

    def __init__(self, api_root: str, timeout: float) -> None:
        super().__init__(timeout=timeout, logger=_sdk_logger)
        self._root = api_root.rstrip("/")

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if url.startswith(TWILIO_API_ROOT):
            url = self._root + url[len(TWILIO_API_ROOT) :]
        return super().request(method, url, params, data, headers, auth, timeout, allow_redirects)


def _map_error(exc: Exception) -> IntegrationError:
    if isinstance(exc, TwilioRestException):
        code = int(exc.code) if exc.code is not None else None
        if code == OPTED_OUT:
            return TextRefused(VENDOR, "opted_out", f"Twilio error {code}: {exc.msg}")
        if code in (INVALID_TO_NUMBER, NOT_A_MOBILE):
            return TextRefused(VENDOR, "invalid_number", f"Twilio error {code}")
        # A 5xx on a send may have been applied: never retried (no idempotency key at Twilio).
        return error_for_status(
            VENDOR,
            int(exc.status),
            f"{code}: {exc.msg}",
            auth_setting=AUTH_SETTING,
            retry_server_errors=False,
        )
    network = network_error(VENDOR, exc, retryable=False)
    if network is not None:
        return network
    name = type(exc).__name__
    if "Timeout" in name or "ConnectionError" in name:
        return VendorError(VENDOR, f"could not reach Twilio ({name})", retryable=False)
    return VendorError(VENDOR, f"unexpected SDK error ({name})")


class TwilioMessaging:
    """`TextMessaging`: texts from the store's Twilio number."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str,
        api_root: str | None = None,
        timeout: float = 15.0,
        retry_policy: RetryPolicyFactory | None = None,
    ) -> None:
        self._from = from_number
        self._retry_policy = retry_policy
        self.account_sid = account_sid
        # `environment={}`: the SDK would otherwise read TWILIO_EDGE / TWILIO_REGION itself.
        self._client = Client(
            account_sid,
            auth_token,
            http_client=_RootedHttpClient(api_root or TWILIO_API_ROOT, timeout),
            environment={},
        )

    @property
    def from_number(self) -> str:
        return self._from

    async def send(self, to: str, body: str, *, status_callback: str | None = None) -> SentText:
        """Text `body` to `to` (E.164). Raises `TextRefused` for a number Twilio will not text."""
        params: dict[str, Any] = {"to": to, "from_": self._from, "body": body}
        if status_callback:
            params["status_callback"] = status_callback

        def create() -> SentText:
            message = self._client.messages.create(**params)
            return SentText(
                message_id=str(message.sid),
                to=str(message.to),
                status=str(message.status),
                segments=int(message.num_segments or 1),
            )

        return await call_sdk(
            VENDOR, create, map_error=_map_error, idempotent=False, retry_policy=self._retry_policy
        )

"""What every vendor client shares: the error hierarchy, the retry policy and log redaction.

Clients raise only the errors defined here, so the tool layer can turn any vendor failure into
a clear result for the shopper without knowing which vendor failed.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

logger = logging.getLogger("integrations")

T = TypeVar("T")

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
MAX_ATTEMPTS = 4
MAX_TOTAL_SECONDS = 30.0
MAX_RETRY_AFTER_SECONDS = 10.0


# --------------------------------------------------------------------------- errors


class IntegrationError(Exception):
    """Base of every error a vendor client raises. The message is safe to log."""

    def __init__(self, vendor: str, message: str, *, status: int | None = None) -> None:
        self.vendor = vendor
        self.status = status
        super().__init__(redact(f"{vendor}: {message}"))


class NotFound(IntegrationError):
    """The vendor has no such object (HTTP 404)."""


class AuthError(IntegrationError):
    """Credentials are missing or rejected. `setting` names the configuration value to fix."""

    def __init__(self, vendor: str, message: str, *, setting: str, status: int | None = None) -> None:
        self.setting = setting
        super().__init__(vendor, f"{message} (check the setting {setting})", status=status)


class RateLimited(IntegrationError):
    """The vendor throttled us (HTTP 429). `retry_after` is in seconds when the vendor said."""

    def __init__(self, vendor: str, message: str, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(vendor, message, status=429)


class VendorError(IntegrationError):
    """Anything else: 5xx, timeouts, connection failures, malformed or rejected requests."""

    def __init__(
        self, vendor: str, message: str, *, status: int | None = None, retryable: bool = False
    ) -> None:
        self.retryable = retryable
        super().__init__(vendor, message, status=status)


# --------------------------------------------------------------------------- redaction

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# The same address percent-encoded in a URL's query string (`customers?email=ana%40example.com`).
_ENCODED_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+%40[A-Za-z0-9.\-]+\.[A-Za-z]{2,}", re.IGNORECASE)
_SECRET_PATTERNS = [
    re.compile(r"\bshp(?:at|ss|ca|pa)_[A-Za-z0-9_]+"),
    re.compile(r"\b(?:sk|rk|pk)_(?:test|live)_[A-Za-z0-9_]+"),
    re.compile(r"\bEZ[AT]K[A-Za-z0-9_]+"),
    re.compile(r"\bSG\.[A-Za-z0-9_\-.]+"),
    re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}"),
    re.compile(
        r"(?i)(authorization|x-shopify-access-token|api[_-]?key|password|token)([\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"
    ),
    re.compile(r"(?i)\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=\-]+"),
]


def redact(text: str) -> str:
    """Remove secrets and email addresses from text bound for logs or exception messages."""
    for pattern in _SECRET_PATTERNS:
        if pattern.groups >= 2:
            text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
        elif pattern.groups == 1:
            text = pattern.sub(lambda m: f"{m.group(1)} [redacted]", text)
        else:
            text = pattern.sub("[redacted]", text)
    return _ENCODED_EMAIL.sub("[email]", _EMAIL.sub("[email]", text))


class RedactingFilter(logging.Filter):
    """Logging filter that redacts every record's rendered message."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


# Loggers whose formatters read `record.args` themselves (uvicorn's access formatter unpacks
# client, method, path, version, status): their arguments are redacted one by one instead.
_ARGS_READ_BY_FORMATTER = frozenset({"uvicorn.access"})


def _redact_arg(value: object) -> object:
    if value is None or isinstance(value, int | float):
        return value  # numbers keep their type for %d / %f
    return redact(str(value))


def redact_record(record: logging.LogRecord) -> None:
    """Redact a log record in place: its message, its arguments and its traceback text.

    The message is rendered first, so an email or token passed as an argument is caught together
    with the words around it (`"token %s"`); the arguments are then dropped."""
    if record.name in _ARGS_READ_BY_FORMATTER and isinstance(record.args, tuple):
        record.args = tuple(_redact_arg(arg) for arg in record.args)
    else:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: keep the format string, drop the arguments
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
    if record.exc_info and not record.exc_text:
        # Formatters reuse `exc_text` when set, so the traceback is redacted once, here.
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))


logger.addFilter(RedactingFilter())


# --------------------------------------------------------------------------- response mapping


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header (numeric form only; vendors we use send numbers)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def error_message(response: httpx.Response) -> str:
    """A short, redacted description of an error response body, whatever shape the vendor used."""
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        text = response.text[:200]
        return text or response.reason_phrase
    if isinstance(body, dict):
        for key in ("errors", "error", "_error", "message", "detail"):
            if key in body:
                value = body[key]
                if isinstance(value, dict):
                    value = value.get("message") or value
                return str(value)[:300]
    return str(body)[:300]


def raise_for_status(vendor: str, response: httpx.Response, *, auth_setting: str) -> None:
    """Map an HTTP error status to the typed error hierarchy; do nothing on success."""
    status = response.status_code
    if status < 400:
        return
    message = (
        f"HTTP {status} on {response.request.method} {response.request.url.path}: {error_message(response)}"
    )
    if status in (401, 403):
        raise AuthError(vendor, message, setting=auth_setting, status=status)
    if status == 404:
        raise NotFound(vendor, message, status=status)
    if status == 429:
        raise RateLimited(vendor, message, retry_after=parse_retry_after(response.headers.get("Retry-After")))
    raise VendorError(vendor, message, status=status, retryable=status >= 500)


def json_body(vendor: str, response: httpx.Response) -> Any:
    """Decode a JSON body; a malformed one is a `VendorError`, never a raw decode exception."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise VendorError(
            vendor, f"malformed JSON in response to {response.request.url.path}", status=response.status_code
        ) from exc


# --------------------------------------------------------------------------- retries


def is_retryable(exc: BaseException) -> bool:
    """Throttling, server errors, timeouts and connection failures are worth another try."""
    if isinstance(exc, RateLimited):
        return True
    if isinstance(exc, VendorError):
        return exc.retryable
    return isinstance(exc, httpx.TimeoutException | httpx.TransportError)


def _wait(base: wait_exponential_jitter) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            return min(exc.retry_after, MAX_RETRY_AFTER_SECONDS)
        return float(base(state))

    return wait


def _log_retry(state: RetryCallState) -> None:
    """Which vendor failed, and how (vendor errors carry redacted messages), before the wait."""
    exc = state.outcome.exception() if state.outcome else None
    logger.warning(
        "retrying after %s (attempt %d): %s",
        type(exc).__name__ if exc is not None else "?",
        state.attempt_number,
        str(exc) if isinstance(exc, IntegrationError) else "",
    )


def retrying(
    *,
    attempts: int = MAX_ATTEMPTS,
    max_seconds: float = MAX_TOTAL_SECONDS,
    initial_wait: float = 0.5,
    max_wait: float = 8.0,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> AsyncRetrying:
    """The shared retry policy: bounded attempts and total time, Retry-After honoured, jittered backoff.

    `sleep` replaces `asyncio.sleep` (tests record the waits instead of waiting).
    """
    extra: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
    return AsyncRetrying(
        **extra,
        retry=retry_if_exception(is_retryable),
        stop=stop_after_attempt(attempts) | stop_after_delay(max_seconds),
        wait=_wait(wait_exponential_jitter(multiplier=initial_wait, max=max_wait, jitter=initial_wait)),
        reraise=True,
        before_sleep=_log_retry,
    )


async def with_retries(
    call: Callable[[], Awaitable[T]], *, idempotent: bool, policy: AsyncRetrying | None = None
) -> T:
    """Run `call` under the retry policy when it is safe to repeat; once otherwise.

    A non-idempotent write is never retried: a timeout after the vendor applied it would
    otherwise apply it twice. Callers make writes idempotent (keys, read-before-write) first.
    """
    if not idempotent:
        return await call()
    async for attempt in policy or retrying():
        with attempt:
            return await call()
    raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover


def transport_error(vendor: str, exc: httpx.HTTPError) -> VendorError:
    """Wrap an httpx transport failure (timeout, refused connection) as a retryable `VendorError`."""
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "could not connect"
    return VendorError(vendor, f"request {kind}: {type(exc).__name__}", retryable=True)


def build_async_client(
    base_url: str,
    *,
    headers: Mapping[str, str] | None = None,
    auth: httpx.Auth | tuple[str, str] | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The one place an `httpx.AsyncClient` for a vendor is built (production, sandbox, mocks)."""
    return httpx.AsyncClient(
        base_url=base_url, headers=dict(headers or {}), auth=auth, timeout=timeout, transport=transport
    )


async def request_json(
    client: httpx.AsyncClient,
    vendor: str,
    method: str,
    url: str,
    *,
    auth_setting: str,
    idempotent: bool,
    policy: AsyncRetrying | None = None,
    **kwargs: Any,
) -> tuple[Any, httpx.Response]:
    """Send one request with retries (when idempotent), typed errors and JSON decoding.

    Returns the decoded body (None for an empty body) and the response, for headers such as
    `Link` pagination.
    """

    async def once() -> tuple[Any, httpx.Response]:
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise transport_error(vendor, exc) from None
        raise_for_status(vendor, response, auth_setting=auth_setting)
        if not response.content:
            return None, response
        return json_body(vendor, response), response

    return await with_retries(once, idempotent=idempotent, policy=policy)


RetryPolicyFactory = Callable[[], AsyncRetrying]
"""Clients take one of these so tests can swap in a policy that records waits instead of sleeping."""

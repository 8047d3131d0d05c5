"""Request hardening for the public API: signed identities, webhook secrets, size and rate limits.

Everything here is checked before the conversation service sees a request, so a refused request
changes nothing. Errors are raised as `ApiError` and rendered as `{"error", "detail"}` JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ApiError(Exception):
    """An error the API returns on purpose: a status, a stable machine-readable code, a detail."""

    def __init__(
        self, status: int, error: str, detail: Any = None, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers or {}


# --------------------------------------------------------------------------- signed identity


# A signed identity issued this far in the future is refused (the store's clock may run a little ahead).
IDENTITY_MAX_SKEW_SECONDS = 300


def identity_message(email: str, issued_at: int) -> bytes:
    """The signed bytes: the email exactly as sent, a newline, the issue time in Unix seconds."""
    return f"{email}\n{issued_at}".encode()


def sign_identity(email: str, issued_at: int, secret: str) -> str:
    """What the store's backend puts in `data-signature`: hex HMAC-SHA256(secret, email \n issued_at)."""
    return hmac.new(secret.encode(), identity_message(email, issued_at), hashlib.sha256).hexdigest()


def verify_identity(email: str, issued_at: int, signature: str, secret: str) -> bool:
    """True when `signature` is `sign_identity(email, issued_at, secret)`; compared in constant time.

    The email is signed exactly as sent (no case folding), so the store and we agree on the bytes.
    Freshness is a separate check (`identity_age_problem`), made only once the signature holds.
    """
    if not email or not signature or not secret:
        return False
    expected = sign_identity(email, issued_at, secret)
    return hmac.compare_digest(signature.strip().lower().encode(), expected.encode())


def identity_age_problem(issued_at: int, now: float, max_age_seconds: int) -> str | None:
    """Why an identity issued at `issued_at` is not acceptable at `now`, or None when it is.

    A signed identity is a bearer credential for a shopper: without an expiry, one copied from a
    page would verify its holder as that shopper forever."""
    if issued_at > now + IDENTITY_MAX_SKEW_SECONDS:
        return "issued_at is in the future; sign with the current Unix time in seconds."
    if now - issued_at > max_age_seconds:
        return f"The signed identity is older than {max_age_seconds} seconds; sign a fresh one when rendering the page."
    return None


def secret_header_matches(given: str | None, expected: str) -> bool:
    """A shared-secret header check that takes the same time wherever the strings differ."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


# --------------------------------------------------------------------------- rate limiting


class RateLimiter:
    """In-memory token buckets, one per key: `per_minute` tokens, refilled continuously.

    Keys are bounded (least recently used are dropped; a dropped key simply starts full again), so
    a flood of random conversation ids cannot grow memory. One process only: with several server
    processes each keeps its own buckets.
    """

    def __init__(
        self, per_minute: int, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000
    ) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, updated)

    @property
    def enabled(self) -> bool:
        return self.capacity > 0

    def _tokens(self, key: str) -> float:
        now = self.clock()
        tokens, updated = self._buckets.get(key, (self.capacity, now))
        return min(self.capacity, tokens + (now - updated) * self.rate)

    def wait_time(self, key: str) -> float:
        """Seconds until `key` may act again (0 when it may act now). Consumes nothing."""
        if not self.enabled:
            return 0.0
        tokens = self._tokens(key)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def consume(self, key: str) -> None:
        if not self.enabled:
            return
        self._buckets[key] = (self._tokens(key) - 1, self.clock())
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)


def client_ip(request: Request) -> str:
    """The peer address. Behind a proxy, run uvicorn with `--proxy-headers --forwarded-allow-ips`
    so this is the shopper's address, not the proxy's (headers are not trusted here)."""
    return request.client.host if request.client else "unknown"


def enforce_rate_limits(*checks: tuple[RateLimiter, str]) -> None:
    """Consume one token from every (limiter, key) or, when any is empty, none and raise 429."""
    wait = max((limiter.wait_time(key) for limiter, key in checks), default=0.0)
    if wait > 0:
        retry_after = max(1, math.ceil(wait))
        raise ApiError(
            429,
            "rate_limited",
            {"retry_after_seconds": retry_after},
            headers={"Retry-After": str(retry_after)},
        )
    for limiter, key in checks:
        limiter.consume(key)


# --------------------------------------------------------------------------- webhook replay protection


class RecentIds:
    """A bounded set of recently seen ids (least recently seen dropped first).

    In memory: a restart or a second server process forgets them. A persistent table keyed by
    webhook id would close that gap; the service's handlers should stay idempotent regardless.
    """

    def __init__(self, max_size: int = 10_000) -> None:
        self.max_size = max_size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, item: object) -> bool:
        return item in self._ids

    def add(self, item: str) -> None:
        self._ids[item] = None
        self._ids.move_to_end(item)
        while len(self._ids) > self.max_size:
            self._ids.popitem(last=False)

    def discard(self, item: str) -> None:
        self._ids.pop(item, None)


# --------------------------------------------------------------------------- body size


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes the limit. An HTTPException, so FastAPI's
    body parsing lets it through to the JSON error handler instead of calling it a parse error."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, {"max_bytes": max_bytes})


class BodySizeLimitMiddleware:
    """Refuses request bodies larger than `max_bytes` with 413, whether the size is declared in
    Content-Length or only discovered while the (chunked) body streams in."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.max_bytes
            except ValueError:
                await self._refuse(send, 400, "invalid_content_length", "Content-Length is not a number.")
                return
            if too_large:
                await self._refuse(send, 413, "body_too_large", {"max_bytes": self.max_bytes})
                return

        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send, 413, "body_too_large", {"max_bytes": self.max_bytes})

    @staticmethod
    async def _refuse(send: Send, status: int, error: str, detail: Any) -> None:
        body = json.dumps({"error": error, "detail": detail}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

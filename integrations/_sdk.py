"""What the SDK-based clients (EasyPost, Stripe, SendGrid) share: run a blocking SDK call in a
worker thread, turn whatever it raises into the typed errors of `_http`, and retry it when safe.

The official SDKs do their own networking (requests, urllib), so they cannot use the httpx seam
of `_http.request_json`. Each client passes an `ErrorMapper` that knows its SDK's exceptions;
the mapping runs in the worker thread, right where the exception is raised, so per-thread state
captured by SDK hooks (such as the last response's `Retry-After`) is still at hand.
"""

from __future__ import annotations

import asyncio
import socket
import urllib.error
from collections.abc import Callable
from typing import TypeVar

from pydantic import ValidationError

from integrations._http import (
    AuthError,
    IntegrationError,
    NotFound,
    RateLimited,
    RetryPolicyFactory,
    VendorError,
    logger,
    with_retries,
)

T = TypeVar("T")

ErrorMapper = Callable[[Exception], IntegrationError]
"""Turns one SDK exception into a typed error. Must not put secrets or emails in the message."""


def error_for_status(
    vendor: str,
    status: int,
    message: str,
    *,
    auth_setting: str,
    retry_after: float | None = None,
    retry_server_errors: bool = True,
) -> IntegrationError:
    """The typed error for an HTTP error status reported by an SDK (same mapping as `_http`).

    `retry_server_errors=False` marks a 5xx as final: for a write the vendor may have applied
    before failing, and that has no idempotency key, another attempt could apply it twice.
    """
    text = f"HTTP {status}: {message}"
    if status in (401, 403):
        return AuthError(vendor, text, setting=auth_setting, status=status)
    if status == 404:
        return NotFound(vendor, text, status=status)
    if status == 429:
        return RateLimited(vendor, text, retry_after=retry_after)
    return VendorError(vendor, text, status=status, retryable=status >= 500 and retry_server_errors)


def timed_out(vendor: str, *, retryable: bool = True) -> VendorError:
    return VendorError(vendor, "request timed out", retryable=retryable)


def could_not_connect(vendor: str, detail: str, *, retryable: bool = True) -> VendorError:
    return VendorError(vendor, f"could not connect: {detail}", retryable=retryable)


def malformed(vendor: str, status: int | None = None) -> VendorError:
    return VendorError(vendor, "malformed response body", status=status)


def network_error(vendor: str, exc: BaseException, *, retryable: bool = True) -> VendorError | None:
    """A typed error for a plain socket/urllib failure (SDKs on urllib let these escape), else None."""
    if isinstance(exc, TimeoutError | socket.timeout):
        return timed_out(vendor, retryable=retryable)
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        if isinstance(exc.reason, TimeoutError | socket.timeout):
            return timed_out(vendor, retryable=retryable)
        return could_not_connect(vendor, type(exc.reason).__name__, retryable=retryable)
    if isinstance(exc, ConnectionError):
        return could_not_connect(vendor, type(exc).__name__, retryable=retryable)
    return None


async def call_sdk(
    vendor: str,
    call: Callable[[], T],
    *,
    map_error: ErrorMapper,
    idempotent: bool,
    retry_policy: RetryPolicyFactory | None = None,
) -> T:
    """Run the blocking `call` in a worker thread, with typed errors, retried when `idempotent`.

    `call` should also parse the SDK's result into our pydantic models, so a response that does
    not have the expected shape surfaces here as a `VendorError` rather than a validation error.
    """

    def guarded() -> T:
        try:
            return call()
        except IntegrationError:
            raise
        except ValidationError as exc:
            # The pydantic message quotes the payload (addresses, emails): keep only the count.
            raise VendorError(vendor, f"unexpected response shape ({exc.error_count()} fields)") from None
        except Exception as exc:  # any SDK exception: the mapper decides what it means
            mapped = map_error(exc)
            logger.debug("%s SDK raised %s -> %s", vendor, type(exc).__name__, type(mapped).__name__)
            raise mapped from None

    async def once() -> T:
        return await asyncio.to_thread(guarded)

    policy = retry_policy() if retry_policy is not None else None
    return await with_retries(once, idempotent=idempotent, policy=policy)

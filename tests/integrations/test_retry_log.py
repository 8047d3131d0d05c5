"""A vendor call that is retried says in the log which vendor failed and how, with nothing private."""

from __future__ import annotations

import logging

import pytest

from integrations._http import VendorError, retrying, with_retries


async def test_a_retry_names_the_vendor_and_its_error_without_the_shoppers_email(
    caplog: pytest.LogCaptureFixture,
) -> None:
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise VendorError("shopify", "503 looking up ana.silva@example.com", status=503, retryable=True)
        return "order"

    with caplog.at_level(logging.WARNING, logger="integrations"):
        result = await with_retries(flaky, idempotent=True, policy=retrying(sleep=no_wait))

    assert result == "order" and calls == 2 and len(waits) == 1
    [line] = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert "VendorError (attempt 1)" in line and "shopify: 503 looking up" in line
    assert "ana.silva@example.com" not in line

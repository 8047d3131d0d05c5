"""The hardening primitives on their own: identity signatures, token buckets, the replay set."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from server.security import (
    RateLimiter,
    RecentIds,
    identity_age_problem,
    secret_header_matches,
    sign_identity,
    verify_identity,
)

T = 1_795_000_000  # an issue time, Unix seconds


def test_identity_signature_is_hex_hmac_sha256_of_email_newline_issue_time() -> None:
    expected = hmac.new(b"s3cret", f"ana.silva@example.com\n{T}".encode(), hashlib.sha256).hexdigest()

    assert sign_identity("ana.silva@example.com", T, "s3cret") == expected
    assert verify_identity("ana.silva@example.com", T, expected, "s3cret")
    assert verify_identity("ana.silva@example.com", T, expected.upper(), "s3cret")


@pytest.mark.parametrize(
    ("email", "issued_at", "signature", "secret"),
    [
        ("ana.silva@example.com", T, sign_identity("ana.silva@example.com", T, "other"), "s3cret"),
        ("ANA.SILVA@example.com", T, sign_identity("ana.silva@example.com", T, "s3cret"), "s3cret"),
        ("ana.silva@example.com", T + 1, sign_identity("ana.silva@example.com", T, "s3cret"), "s3cret"),
        ("ana.silva@example.com", T, "", "s3cret"),
        ("", T, sign_identity("", T, "s3cret"), "s3cret"),
        ("ana.silva@example.com", T, sign_identity("ana.silva@example.com", T, ""), ""),
        ("ana.silva@example.com", T, "é" * 64, "s3cret"),
    ],
)
def test_identity_signature_refusals(email: str, issued_at: int, signature: str, secret: str) -> None:
    assert not verify_identity(email, issued_at, signature, secret)


def test_identity_age_window() -> None:
    day = 86_400
    assert identity_age_problem(T, T + day, day) is None
    assert identity_age_problem(T, T - 60, day) is None  # the store's clock a minute ahead
    assert "older than 86400 seconds" in (identity_age_problem(T, T + day + 1, day) or "")
    assert "future" in (identity_age_problem(T + 3600, T, day) or "")


def test_secret_header() -> None:
    assert secret_header_matches("abc", "abc")
    assert not secret_header_matches("abd", "abc")
    assert not secret_header_matches(None, "abc")
    assert not secret_header_matches("", "")


def test_token_bucket_refills_continuously() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])  # one token a second, 60 at most

    for _ in range(60):
        assert limiter.wait_time("ip") == 0
        limiter.consume("ip")
    assert limiter.wait_time("ip") == pytest.approx(1.0)
    assert limiter.wait_time("other-ip") == 0
    now[0] += 0.5
    assert limiter.wait_time("ip") == pytest.approx(0.5)
    now[0] += 0.5
    assert limiter.wait_time("ip") == 0
    now[0] += 3600
    for _ in range(60):  # never more than the capacity, however long it rested
        limiter.consume("ip")
    assert limiter.wait_time("ip") > 0


def test_token_buckets_are_bounded() -> None:
    limiter = RateLimiter(1, clock=lambda: 0.0, max_keys=3)

    for key in ("a", "b", "c", "d"):
        limiter.consume(key)

    assert limiter.wait_time("a") == 0  # forgotten: starts full again
    assert limiter.wait_time("d") > 0
    assert len(limiter._buckets) == 3


def test_zero_disables_a_limit() -> None:
    limiter = RateLimiter(0)
    limiter.consume("ip")

    assert limiter.wait_time("ip") == 0


def test_recent_ids_forget_the_oldest() -> None:
    seen = RecentIds(max_size=2)
    seen.add("a")
    seen.add("b")
    seen.add("a")  # refreshed
    seen.add("c")

    assert "a" in seen
    assert "b" not in seen
    assert "c" in seen
    seen.discard("a")
    assert "a" not in seen

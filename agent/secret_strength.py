"""Is a signing secret strong enough for a real store?

A signing secret (the store secret that signs widget identities, the webhook secrets) is only as
good as an attacker's inability to guess it: one shopper signature or one webhook delivery is
enough to test guesses offline, at billions per second. So with SANDBOX_MODE=false we refuse
secrets shorter than 32 bytes and secrets that are long but obviously not random (one repeated
character, a short unit repeated, a keyboard or alphabet run). This cannot prove randomness; it
catches the mistakes people actually make (`STORE_SECRET=a`, `changeme`, `aaaa…`).
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterable

from pydantic import SecretStr

MIN_SECRET_BYTES = 32
# 32 random characters from even the hex alphabet show ~13 distinct characters; 8 is far below
# anything a generator produces, and above every word or pattern a person types.
MIN_DISTINCT_CHARACTERS = 8
KEYGEN_HINT = "`support-agent keygen` prints suitable values"


def weakness(secret: str) -> str | None:
    """Why `secret` is too weak to sign with, or None when it looks random enough."""
    size = len(secret.encode())
    if size < MIN_SECRET_BYTES:
        return f"{size} bytes long, needs at least {MIN_SECRET_BYTES}"
    distinct = len(set(secret))
    if distinct < MIN_DISTINCT_CHARACTERS:
        return f"only {distinct} distinct characters, needs at least {MIN_DISTINCT_CHARACTERS}"
    if _is_repetition(secret):
        return "a short piece repeated"
    if _is_run(secret):
        return "mostly a run of consecutive characters (abcd…, 1234…)"
    return None


def _is_repetition(secret: str) -> bool:
    """True when the secret is one shorter unit repeated (e.g. 'abc123abc123…')."""
    n = len(secret)
    return any(secret == (secret[:period] * (n // period + 1))[:n] for period in range(1, n // 2 + 1))


def _is_run(secret: str) -> bool:
    """True when most neighbouring characters step by ±1 (alphabet or digit runs)."""
    steps = [abs(ord(b) - ord(a)) for a, b in itertools.pairwise(secret)]
    return sum(1 for step in steps if step in (0, 1)) > len(steps) // 2


def weak_secrets(values: Iterable[tuple[str, SecretStr | str]]) -> list[str]:
    """'SETTING: reason' for every (setting name, value) that is too weak."""
    problems: list[str] = []
    for name, value in values:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        reason = weakness(raw)
        if reason is not None:
            problems.append(f"{name.upper()} ({reason})")
    return problems


def weak_secrets_message(problems: list[str]) -> str:
    """The configuration error for `weak_secrets`: names each setting and says how to make one."""
    return (
        f"SANDBOX_MODE=false but these signing secrets are too weak to guard a real store: {'; '.join(problems)}. Use at least "
        f"{MIN_SECRET_BYTES} random bytes, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'` "
        f"({KEYGEN_HINT}); set the same value where it is used (your store's page signing, the Gorgias HTTP "
        "integration's header). Shopify's webhook secret is the app's API secret key."
    )


def check_signing_secrets(settings: object, names: Iterable[str]) -> None:
    """Raise ConfigError naming every signing secret of `settings` that is too weak."""
    from agent.models import ConfigError

    problems = weak_secrets((name, getattr(settings, name)) for name in names)
    if problems:
        raise ConfigError(weak_secrets_message(problems))


def generate_secret() -> str:
    """A fresh signing secret: 48 random bytes, URL-safe base64 (64 characters)."""
    return secrets.token_urlsafe(48)

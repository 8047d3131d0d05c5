"""Weak signing secrets are refused for a real store, with a message that says how to fix it."""

from __future__ import annotations

import secrets

import pytest
from pydantic import SecretStr

from agent.deps import real_store_settings
from agent.models import ConfigError
from agent.secret_strength import generate_secret, weakness
from agent.settings import Settings

STRONG = "kX9vQ2mZ7pL4wR8tN1bF6hJ3yC5dG0sAe"


@pytest.mark.parametrize(
    "secret",
    [
        "a",
        "changeme",
        "correct horse battery",  # 21 bytes
        "a" * 64,
        "ab" * 32,
        "abc123" * 8,
        "passwordpasswordpasswordpassword",
        "abcdefghijklmnopqrstuvwxyz0123456789",
        "0123456789abcdef0123456789abcdef",
    ],
)
def test_weak_secrets_are_named_weak(secret: str) -> None:
    assert weakness(secret) is not None


@pytest.mark.parametrize(
    "secret",
    [
        STRONG,
        secrets.token_hex(16),  # 32 hex characters: what Shopify's older app secrets look like
        "shpss_" + secrets.token_hex(16),
        secrets.token_urlsafe(32),
        generate_secret(),
    ],
)
def test_random_secrets_pass(secret: str) -> None:
    assert weakness(secret) is None


def _real_store(**secrets_: str) -> Settings:
    values = {
        "store_secret": STRONG,
        "gorgias_webhook_secret": "Tq8Lz3Wn6Rv1Yp4Kc9Mx2Hb7Js5Df0Gu",
        "shopify_webhook_secret": "shpss_" + "9f2c4e1a7b3d8e6f0a5c2b9d4e7f1a3c",
    }
    values.update(secrets_)
    return Settings(
        _env_file=None,
        sandbox_mode=False,
        shopify_api_base="https://acme.myshopify.com/admin/api",
        gorgias_base_url="https://acme.gorgias.com/api",
        **{name: SecretStr(value) for name, value in values.items()},
    )


def test_real_store_refuses_each_weak_secret_by_name() -> None:
    with pytest.raises(ConfigError) as info:
        real_store_settings(_real_store(store_secret="a", gorgias_webhook_secret="x" * 40))
    message = str(info.value)
    assert "STORE_SECRET (1 bytes long, needs at least 32)" in message
    assert "GORGIAS_WEBHOOK_SECRET (only 1 distinct characters" in message
    assert "SHOPIFY_WEBHOOK_SECRET" not in message
    assert "support-agent keygen" in message  # how to make one
    assert "x" * 40 not in message  # the secret itself is never echoed


def test_real_store_accepts_strong_secrets() -> None:
    real = real_store_settings(_real_store())
    assert real.store_secret.get_secret_value() == STRONG

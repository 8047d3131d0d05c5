"""With SANDBOX_MODE=false nothing silently stays on the sandbox."""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr

from agent.deps import real_store_settings
from agent.models import ConfigError
from agent.settings import Settings


def test_store_platform_and_helpdesk_must_be_configured() -> None:
    with pytest.raises(ConfigError) as info:
        real_store_settings(Settings(_env_file=None, sandbox_mode=False))
    assert "SHOPIFY_API_BASE" in str(info.value)
    assert "GORGIAS_BASE_URL" in str(info.value)


# Strong enough for `agent.secret_strength` (32+ bytes, not a pattern).
STORE_SECRET = SecretStr("kX9vQ2mZ7pL4wR8tN1bF6hJ3yC5dG0sAe")
HELPDESK_SECRET = SecretStr("Tq8Lz3Wn6Rv1Yp4Kc9Mx2Hb7Js5Df0Gu")
SHOPIFY_SECRET = SecretStr("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")


def test_public_sandbox_signing_secrets_are_refused() -> None:
    """With the sandbox's public secrets anyone could sign an identity or fake a refund approval."""
    settings = Settings(
        _env_file=None,
        sandbox_mode=False,
        shopify_api_base="https://acme.myshopify.com/admin/api",
        gorgias_base_url="https://acme.gorgias.com/api",
        store_secret=STORE_SECRET,
    )
    with pytest.raises(ConfigError) as info:
        real_store_settings(settings)
    assert "GORGIAS_WEBHOOK_SECRET" in str(info.value)
    assert "SHOPIFY_WEBHOOK_SECRET" in str(info.value)
    assert "STORE_SECRET" not in str(info.value)


def test_sdk_vendors_left_at_the_sandbox_default_use_the_vendors_own_api(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)  # whatever level an earlier test (the eval CLI) left the root at
    settings = Settings(
        _env_file=None,
        sandbox_mode=False,
        shopify_api_base="https://acme.myshopify.com/admin/api",
        gorgias_base_url="https://acme.gorgias.com/api",
        store_secret=STORE_SECRET,
        gorgias_webhook_secret=HELPDESK_SECRET,
        shopify_webhook_secret=SHOPIFY_SECRET,
        stripe_api_key=SecretStr("sk_live_real"),
        stripe_api_base="https://stripe.internal.proxy",
    )
    real = real_store_settings(settings)
    assert real.easypost_api_base == ""  # the clients read an empty base as the vendor's default
    assert real.sendgrid_host == ""
    assert real.stripe_api_base == "https://stripe.internal.proxy"  # set explicitly: kept
    assert "SHOPIFY_ACCESS_TOKEN still holds the sandbox placeholder" in caplog.text
    assert "STRIPE_API_KEY" not in caplog.text
    assert "sk_live_real" not in caplog.text


WOOCOMMERCE_SECRET = SecretStr("wc9Xf2Lq7Rz4Tn8Vb1Mk6Hp3Jd5Sg0YcA")


def test_a_woocommerce_store_needs_its_own_address_and_webhook_secret() -> None:
    settings = Settings(
        _env_file=None,
        sandbox_mode=False,
        store_platform="woocommerce",
        gorgias_base_url="https://acme.gorgias.com/api",
        store_secret=STORE_SECRET,
        gorgias_webhook_secret=HELPDESK_SECRET,
    )
    with pytest.raises(ConfigError) as info:
        real_store_settings(settings)
    assert "WOOCOMMERCE_URL" in str(info.value) and "SHOPIFY" not in str(info.value)
    settings = settings.model_copy(update={"woocommerce_url": "https://shop.acme.example"})
    with pytest.raises(ConfigError) as info:
        real_store_settings(settings)
    assert "WOOCOMMERCE_WEBHOOK_SECRET" in str(info.value) and "SHOPIFY" not in str(info.value)
    real = real_store_settings(settings.model_copy(update={"woocommerce_webhook_secret": WOOCOMMERCE_SECRET}))
    assert real.store_platform == "woocommerce"


def test_a_real_woocommerce_store_over_plain_http_is_refused() -> None:
    from agent.deps import build_services
    from integrations.woocommerce.client import InsecureStoreURL

    settings = Settings(
        _env_file=None,
        sandbox_mode=False,
        store_platform="woocommerce",
        woocommerce_url="http://shop.acme.example",
    )
    with pytest.raises(InsecureStoreURL, match="https"):
        build_services(settings, None)
    with pytest.raises(ConfigError, match="WOOCOMMERCE_URL must start with https"):
        real_store_settings(settings)


BIGCOMMERCE_SECRET = SecretStr("bc4Rt8Yq2Wm6Zx0Lp3Nv7Kd1Hs5Jf9GbE")


def test_a_bigcommerce_store_needs_its_hash_and_webhook_secret_and_talks_to_bigcommerce() -> None:
    settings = Settings(
        _env_file=None,
        sandbox_mode=False,
        store_platform="bigcommerce",
        gorgias_base_url="https://acme.gorgias.com/api",
        store_secret=STORE_SECRET,
        gorgias_webhook_secret=HELPDESK_SECRET,
    )
    with pytest.raises(ConfigError) as info:
        real_store_settings(settings)
    assert "BIGCOMMERCE_STORE_HASH" in str(info.value) and "SHOPIFY" not in str(info.value)
    settings = settings.model_copy(update={"bigcommerce_store_hash": "abc123xyz"})
    with pytest.raises(ConfigError) as info:
        real_store_settings(settings)
    assert "BIGCOMMERCE_WEBHOOK_SECRET" in str(info.value)
    real = real_store_settings(settings.model_copy(update={"bigcommerce_webhook_secret": BIGCOMMERCE_SECRET}))
    assert real.bigcommerce_api_base == "https://api.bigcommerce.com"  # the sandbox default gives way
    with pytest.raises(ConfigError, match="BIGCOMMERCE_API_BASE must start with https"):
        real_store_settings(real.model_copy(update={"bigcommerce_api_base": "http://api.example"}))


def test_sms_stays_off_and_tracking_webhooks_refused_until_configured(
    caplog: pytest.LogCaptureFixture,
) -> None:
    base = {
        "_env_file": None,
        "sandbox_mode": False,
        "shopify_api_base": "https://acme.myshopify.com/admin/api",
        "gorgias_base_url": "https://acme.gorgias.com/api",
        "store_secret": STORE_SECRET,
        "gorgias_webhook_secret": HELPDESK_SECRET,
        "shopify_webhook_secret": SHOPIFY_SECRET,
    }
    real = real_store_settings(Settings(**base))
    assert real.sms_enabled is False and "SMS is off" in caplog.text
    assert real.twilio_api_base == ""  # Twilio itself once configured
    public = Settings.model_fields["easypost_webhook_secret"].default.get_secret_value()
    assert real.easypost_webhook_secret.get_secret_value() != public  # anyone could sign with the public one
    configured = real_store_settings(
        Settings(
            **base,
            twilio_auth_token=SecretStr("0123456789abcdef0123456789abcdef"),
            easypost_webhook_secret=SecretStr("whsec_real"),
        )
    )
    assert configured.sms_enabled is True
    assert configured.easypost_webhook_secret.get_secret_value() == "whsec_real"
    assert "0123456789abcdef" not in caplog.text

"""Start-up checks in real-store mode, against the sandbox over HTTP: the Shopify token's scopes
(each missing one named, with what it breaks), the API version, and SendGrid's MAIL_FROM."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from agent.settings import Settings
from agent.startup_checks import check_shopify_scopes, check_shopify_version, check_vendor_setup
from tests.conftest import LiveSandbox

TODAY = datetime(2026, 12, 3, tzinfo=UTC)


def real_store(live: LiveSandbox, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "sandbox_mode": False,
        "shopify_api_base": f"{live.url}/shopify/admin/api",
        "shopify_access_token": SecretStr("shpat_sandbox"),
        "sendgrid_host": f"{live.url}/sendgrid",
        "sendgrid_api_key": SecretStr("SG.sandbox"),
        "mail_from": "support@harborandpine.test",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


async def test_the_demo_token_lacks_read_all_orders_and_start_up_says_what_that_means(
    live_sandbox: LiveSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="agent.startup"):
        warnings = await check_vendor_setup(real_store(live_sandbox), now=lambda: TODAY)
    assert len(warnings) == 1
    (warning,) = warnings
    assert "lacks read_all_orders" in warning and "60 days" in warning and "person" in warning
    assert [r.getMessage() for r in caplog.records if r.name == "agent.startup"] == warnings


async def test_each_missing_scope_is_named_with_what_it_breaks(live_sandbox: LiveSandbox) -> None:
    live_sandbox.world.shopify.access_scopes = ["read_orders", "read_all_orders"]
    (warning,) = await check_shopify_scopes(real_store(live_sandbox))
    assert "lacks the scopes write_orders, read_products" in warning
    assert "refund" in warning and "final-sale" in warning
    assert "403" in warning


async def test_a_token_with_every_scope_passes(live_sandbox: LiveSandbox) -> None:
    live_sandbox.world.shopify.access_scopes = ["write_orders", "read_products", "read_all_orders"]
    assert await check_shopify_scopes(real_store(live_sandbox)) == []


async def test_a_refused_token_is_said_plainly(live_sandbox: LiveSandbox) -> None:
    (warning,) = await check_shopify_scopes(
        real_store(live_sandbox, shopify_access_token=SecretStr("shpat_wrong"))
    )
    assert warning.startswith("Shopify refused the Admin API token")
    assert "shpat_wrong" not in warning


def test_an_unsupported_api_version_is_named_with_the_supported_ones() -> None:
    settings = Settings(_env_file=None, shopify_api_version="2024-10")  # type: ignore[call-arg]
    (warning,) = check_shopify_version(settings, TODAY)
    assert "SHOPIFY_API_VERSION=2024-10 is no longer supported" in warning
    assert "2026-01" in warning and "2026-10" in warning
    assert check_shopify_version(Settings(_env_file=None), TODAY) == []  # type: ignore[call-arg]


def test_a_version_left_in_the_base_url_is_pointed_out() -> None:
    settings = Settings(_env_file=None, shopify_api_base="https://acme.myshopify.com/admin/api/2024-10")  # type: ignore[call-arg]
    (warning,) = check_shopify_version(settings, TODAY)
    assert "SHOPIFY_API_BASE ends in the version 2024-10, which is ignored" in warning


async def test_bigcommerce_hooks_must_carry_the_secret_header(live_sandbox: LiveSandbox) -> None:
    """BigCommerce signs nothing: a hook without the header (or with another value) would be refused."""
    from agent.startup_checks import check_bigcommerce_hooks
    from integrations.bigcommerce.webhooks import SUBSCRIBED_SCOPES

    secret = "a-long-random-bigcommerce-hook-secret-value"
    settings = real_store(
        live_sandbox,
        store_platform="bigcommerce",
        bigcommerce_api_base=f"{live_sandbox.url}/bigcommerce",
        bigcommerce_webhook_secret=SecretStr(secret),
    )
    warnings = await check_bigcommerce_hooks(settings)
    assert len(warnings) == len(SUBSCRIBED_SCOPES) and all(
        "No active BigCommerce hook" in w for w in warnings
    )
    for scope in SUBSCRIBED_SCOPES:
        live_sandbox.world.bigcommerce.hooks[len(live_sandbox.world.bigcommerce.hooks) + 1] = {
            "id": len(live_sandbox.world.bigcommerce.hooks) + 1,
            "scope": scope,
            "destination": "https://agent.example/webhooks/bigcommerce",
            "headers": {"X-Support-Agent-Secret": secret if scope != "store/order/updated" else "old-value"},
            "is_active": True,
        }
    (warning,) = await check_bigcommerce_hooks(settings)
    assert "store/order/updated" in warning and "will refuse its deliveries" in warning
    assert secret not in warning
    refused = await check_bigcommerce_hooks(
        settings.model_copy(update={"bigcommerce_access_token": SecretStr("x")})
    )
    assert refused[0].startswith("BigCommerce refused the access token")

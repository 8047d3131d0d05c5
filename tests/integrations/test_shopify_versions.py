"""Shopify API versions: the version is a setting defaulting to a supported one, the emulator
applies Shopify's published rule (four supported stable versions, a release candidate, a retired
version served by the oldest supported one), and the client says when Shopify fell forward."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import ValidationError

from agent.settings import Settings
from integrations.shopify import DEFAULT_API_VERSION, ShopifyGraphQLClient, shopify_graphql_http_client
from integrations.shopify.client import admin_api_url
from integrations.shopify.models import (
    API_VERSION_HEADER,
    release_candidate,
    served_api_version,
    supported_api_versions,
)
from sandbox.world import World

TODAY = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
TOKEN = {"X-Shopify-Access-Token": "shpat_sandbox"}
SHOP = {"query": "{ currentAppInstallation { accessScopes { handle } } }"}


# --------------------------------------------------------------------------- Shopify's published rule


def test_shopifys_published_release_schedule() -> None:
    # shopify.dev "About Shopify API versioning": 2023-01 released January 1, 2023, supported until
    # January 1, 2024; a version every quarter at 17:00 UTC; at least 12 months each.
    assert supported_api_versions(datetime(2023, 12, 31, tzinfo=UTC)) == (
        "2023-01",
        "2023-04",
        "2023-07",
        "2023-10",
    )
    assert supported_api_versions(datetime(2024, 1, 1, 16, 59, tzinfo=UTC))[0] == "2023-01"
    assert supported_api_versions(datetime(2024, 1, 1, 17, 0, tzinfo=UTC))[0] == "2023-04"


def test_today_shopify_supports_four_versions_and_the_default_is_one() -> None:
    assert supported_api_versions(TODAY) == ("2026-01", "2026-04", "2026-07", "2026-10")
    assert release_candidate(TODAY) == "2027-01"
    assert DEFAULT_API_VERSION == Settings.model_fields["shopify_api_version"].default == "2026-10"
    assert DEFAULT_API_VERSION in supported_api_versions(TODAY)
    assert DEFAULT_API_VERSION in supported_api_versions(World().clock)  # and at the sandbox's clock


def test_a_retired_version_is_served_by_the_oldest_supported() -> None:
    assert served_api_version("2024-10", TODAY) == "2026-01"
    assert served_api_version("2025-10", TODAY) == "2026-01"
    assert served_api_version("2026-07", TODAY) == "2026-07"
    assert served_api_version("2027-01", TODAY) == "2027-01"  # the release candidate
    assert served_api_version("unstable", TODAY) == "unstable"
    assert served_api_version("2026-02", TODAY) == "2026-01"  # never released: falls forward too
    assert served_api_version("latest", TODAY) is None


# --------------------------------------------------------------------------- the setting


def test_the_version_is_a_setting_and_must_look_like_a_release() -> None:
    assert Settings(_env_file=None, shopify_api_version="2026-07").shopify_api_version == "2026-07"  # type: ignore[call-arg]
    for wrong in ("2026-02", "26-10", "latest"):
        with pytest.raises(ValidationError):
            Settings(_env_file=None, shopify_api_version=wrong)  # type: ignore[call-arg]


def test_the_base_url_takes_the_version_from_the_setting() -> None:
    assert admin_api_url("https://acme.myshopify.com/admin/api", "2026-10") == (
        "https://acme.myshopify.com/admin/api/2026-10/"
    )
    # An older setting that still names a version gives way to SHOPIFY_API_VERSION.
    assert admin_api_url("https://acme.myshopify.com/admin/api/2024-10/", "2026-07") == (
        "https://acme.myshopify.com/admin/api/2026-07/"
    )


# --------------------------------------------------------------------------- the emulator and the client


@pytest.mark.parametrize(
    ("asked", "served"),
    [("2026-10", "2026-10"), ("2026-01", "2026-01"), ("2024-10", "2026-01"), ("2027-01", "2027-01")],
)
async def test_the_emulator_answers_with_the_version_shopify_would(
    sandbox_http: httpx.AsyncClient, asked: str, served: str
) -> None:
    response = await sandbox_http.post(f"/shopify/admin/api/{asked}/graphql.json", json=SHOP, headers=TOKEN)
    assert response.status_code == 200
    assert response.headers[API_VERSION_HEADER] == served


async def test_the_emulator_retires_versions_as_its_clock_moves(
    sandbox_http: httpx.AsyncClient, world: World
) -> None:
    world.clock = datetime(2027, 1, 1, 18, 0, tzinfo=UTC)  # 2027-01 released, 2026-01 retired
    response = await sandbox_http.post("/shopify/admin/api/2026-01/graphql.json", json=SHOP, headers=TOKEN)
    assert response.headers[API_VERSION_HEADER] == "2026-04"


async def test_a_path_that_names_no_version_is_shopifys_404(sandbox_http: httpx.AsyncClient) -> None:
    response = await sandbox_http.post("/shopify/admin/api/latest/graphql.json", json=SHOP, headers=TOKEN)
    assert response.status_code == 404
    assert response.json() == {"errors": "Not Found"}


async def test_webhooks_record_the_version_they_were_made_with(
    sandbox_transport: httpx.ASGITransport,
) -> None:
    async with shopify_graphql_http_client(
        "http://sandbox/shopify/admin/api",
        "shpat_sandbox",
        api_version="2026-07",
        transport=sandbox_transport,
    ) as http:
        hook = await ShopifyGraphQLClient(http).register_webhook(
            "orders/updated", "https://agent.test/hooks/orders"
        )
    assert hook.api_version is not None and hook.api_version.handle == "2026-07"


async def test_the_client_warns_once_when_shopify_falls_forward(
    sandbox_transport: httpx.ASGITransport, caplog: pytest.LogCaptureFixture
) -> None:
    async with shopify_graphql_http_client(
        "http://sandbox/shopify/admin/api",
        "shpat_sandbox",
        api_version="2024-10",
        transport=sandbox_transport,
    ) as http:
        client = ShopifyGraphQLClient(http)
        with caplog.at_level(logging.WARNING, logger="integrations.shopify"):
            await client.find_order_by_number(1001)
            await client.find_order_by_number(1002)
    assert client.api_version == "2024-10"
    assert client.served_api_version == "2026-01"
    warnings = [r.getMessage() for r in caplog.records if "SHOPIFY_API_VERSION" in r.getMessage()]
    assert len(warnings) == 1
    assert "2026-01" in warnings[0] and "2024-10" in warnings[0]


async def test_the_default_version_is_served_as_asked(sandbox_transport: httpx.ASGITransport) -> None:
    async with shopify_graphql_http_client(
        "http://sandbox/shopify/admin/api", "shpat_sandbox", transport=sandbox_transport
    ) as http:
        client = ShopifyGraphQLClient(http)
        await client.find_order_by_number(1001)
    assert client.api_version == client.served_api_version == DEFAULT_API_VERSION

"""The Shopify GraphQL client and adapter as the tests build them (against the sandbox by default)."""

from __future__ import annotations

import httpx

from integrations._http import retrying
from integrations.shopify.adapter import ShopifyCommerce
from integrations.shopify.graphql_client import ShopifyGraphQLClient, shopify_graphql_http_client
from integrations.shopify.webhooks import ShopifyWebhooks

SANDBOX_API = "http://sandbox/shopify/admin/api"
TOKEN = "shpat_sandbox"


def graphql_client(
    transport: httpx.AsyncBaseTransport,
    waits: list[float] | None = None,
    *,
    api: str = SANDBOX_API,
    token: str = TOKEN,
) -> ShopifyGraphQLClient:
    """A client whose retries and job polls record their waits in `waits` instead of sleeping."""
    recorded = waits if waits is not None else []

    async def sleep(seconds: float) -> None:
        recorded.append(seconds)

    return ShopifyGraphQLClient(
        shopify_graphql_http_client(api, token, transport=transport),
        retry_policy=lambda: retrying(sleep=sleep),
        sleep=sleep,
    )


def graphql_commerce(
    transport: httpx.AsyncBaseTransport,
    waits: list[float] | None = None,
    *,
    webhooks: ShopifyWebhooks | None = None,
) -> ShopifyCommerce:
    return ShopifyCommerce(graphql_client(transport, waits), webhooks=webhooks)

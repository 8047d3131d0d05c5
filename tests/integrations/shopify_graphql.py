"""The Shopify GraphQL client and adapter as the tests build them (against the sandbox by default)."""

from __future__ import annotations

from decimal import Decimal

import httpx

from integrations._http import retrying
from integrations.shopify.adapter import ShopifyCommerce
from integrations.shopify.client import ShopifyGraphQLClient, shopify_graphql_http_client
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


SUGGESTED_REFUND_PARTS = """query($id: ID!, $lines: [RefundLineItemInput!], $shipping: Boolean) {
  order(id: $id) { suggestedRefund(refundLineItems: $lines, refundShipping: $shipping) {
    subtotalSet { shopMoney { amount } } totalTaxSet { shopMoney { amount } }
    shipping { amountSet { shopMoney { amount } } taxSet { shopMoney { amount } } }
  } }
}"""


async def suggested_total(
    http: httpx.AsyncClient,
    order_id: int,
    lines: list[tuple[int, int]],
    shipping: bool,
    *,
    endpoint: str = "/shopify/admin/api/2026-10/graphql.json",
) -> Decimal:
    """The emulator's suggested refund: the items' subtotal and tax plus shipping and its tax."""
    variables = {
        "id": f"gid://shopify/Order/{order_id}",
        "lines": [{"lineItemId": f"gid://shopify/LineItem/{line}", "quantity": q} for line, q in lines],
        "shipping": shipping,
    }
    response = await http.post(
        endpoint,
        json={"query": SUGGESTED_REFUND_PARTS, "variables": variables},
        headers={"X-Shopify-Access-Token": TOKEN},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    s = body["data"]["order"]["suggestedRefund"]
    parts = (s["subtotalSet"], s["totalTaxSet"], s["shipping"]["amountSet"], s["shipping"]["taxSet"])
    return sum((Decimal(p["shopMoney"]["amount"]) for p in parts), Decimal(0))

"""Shopify access scopes and the 60-day window: the emulator grants what the token holds (403 for
a missing scope, only the last 60 days of orders without read_all_orders), the client reads the
scopes from the unversioned `/admin/oauth/access_scopes.json`, and the adapter tells an order
beyond the window from one that does not exist."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from integrations._http import AuthError, NotFound
from integrations.shopify import ShopifyClient, shopify_http_client
from integrations.shopify.models import (
    OPTIONAL_SCOPES,
    REQUIRED_SCOPES,
    granted_scopes,
    missing_scopes,
    scope_refusal,
)
from sandbox.world import World
from tests.integrations.shopify_graphql import graphql_commerce
from tests.published import shopify_rest as published

API = "http://sandbox/shopify/admin/api"
HEADERS = {"X-Shopify-Access-Token": "shpat_sandbox"}
ORDER_998 = 5200000998  # Chloe's, placed 95 days before the demo store's clock
ORDER_1017 = 5200001017  # Ana's, placed exactly 60 days before it


def client_for(transport: httpx.AsyncBaseTransport) -> ShopifyClient:
    return ShopifyClient(shopify_http_client(API, "shpat_sandbox", transport=transport))


# --------------------------------------------------------------------------- contract: the published scopes


async def test_the_published_access_scopes_are_read_from_the_unversioned_path() -> None:
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(200, json=published.ACCESS_SCOPES)

    http = shopify_http_client(
        "https://test-shop.myshopify.io/admin/api", "t", transport=httpx.MockTransport(answer)
    )
    scopes = await ShopifyClient(http).access_scopes()
    # Shopify/shopify-api-ruby's access_scope_test: GET https://test-shop.myshopify.io/admin/oauth/access_scopes.json
    assert asked == ["https://test-shop.myshopify.io/admin/oauth/access_scopes.json"]
    assert scopes == ["read_products", "write_orders", "read_orders"]
    assert missing_scopes(scopes, REQUIRED_SCOPES) == []
    assert missing_scopes(scopes, OPTIONAL_SCOPES) == ["read_all_orders"]


def test_a_write_scope_holds_its_read_scope() -> None:
    assert granted_scopes(["write_orders"]) == {"write_orders", "read_orders"}
    assert missing_scopes(["write_orders"], REQUIRED_SCOPES) == ["read_products"]


# --------------------------------------------------------------------------- the emulator


async def test_the_emulator_lists_the_tokens_scopes(sandbox_http: httpx.AsyncClient, world: World) -> None:
    response = await sandbox_http.get("/shopify/admin/oauth/access_scopes.json", headers=HEADERS)
    assert response.status_code == 200
    assert response.json() == {"access_scopes": [{"handle": h} for h in world.shopify.access_scopes]}
    assert world.shopify.access_scopes == ["read_orders", "write_orders", "read_products"]  # the demo store's
    refused = await sandbox_http.get(
        "/shopify/admin/oauth/access_scopes.json", headers={"X-Shopify-Access-Token": "x"}
    )
    assert refused.status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "customers/6100000001.json", "read_customers"),
        ("GET", "orders/5200001001.json", "read_orders"),
        ("PUT", "orders/5200001004.json", "write_orders"),
        ("POST", "orders/5200001004/cancel.json", "write_orders"),
        ("GET", "products/7300000001.json", "read_products"),
    ],
)
async def test_a_missing_scope_is_shopifys_403(
    sandbox_http: httpx.AsyncClient, world: World, method: str, path: str, scope: str
) -> None:
    world.shopify.access_scopes = [s for s in ["read_orders", "read_products"] if s != scope]
    before = world.digest()
    response = await sandbox_http.request(
        method, f"/shopify/admin/api/2026-10/{path}", json={"order": {"note": "x"}}, headers=HEADERS
    )
    assert response.status_code == 403
    assert response.json() == {"errors": scope_refusal(scope)}
    assert world.digest() == before


async def test_without_read_all_orders_only_60_days_of_orders_show(
    sandbox_http: httpx.AsyncClient, world: World
) -> None:
    base = "/shopify/admin/api/2026-10"
    listed = (await sandbox_http.get(f"{base}/orders.json?status=any&limit=250", headers=HEADERS)).json()
    numbers = {o["order_number"] for o in listed["orders"]}
    assert 998 not in numbers and 1017 in numbers  # 95 days old: hidden; exactly 60: still shown
    assert (await sandbox_http.get(f"{base}/orders/{ORDER_998}.json", headers=HEADERS)).status_code == 404
    assert (await sandbox_http.get(f"{base}/orders.json?name=998&status=any", headers=HEADERS)).json() == {
        "orders": []
    }

    world.clock += timedelta(days=1)  # 1017 now 61 days old
    assert (await sandbox_http.get(f"{base}/orders/{ORDER_1017}.json", headers=HEADERS)).status_code == 404

    world.shopify.access_scopes.append("read_all_orders")
    assert (await sandbox_http.get(f"{base}/orders/{ORDER_998}.json", headers=HEADERS)).status_code == 200


async def test_since_id_lists_by_id_oldest_first(sandbox_http: httpx.AsyncClient, world: World) -> None:
    base = "/shopify/admin/api/2026-10"
    first = await sandbox_http.get(f"{base}/orders.json?status=any&since_id=1&limit=2", headers=HEADERS)
    assert [o["order_number"] for o in first.json()["orders"]] == [1001, 1002]
    later = first.links["next"]["url"]
    second = await sandbox_http.get(later, headers=HEADERS)
    assert [o["order_number"] for o in second.json()["orders"]] == [1003, 1004]
    world.shopify.access_scopes.append("read_all_orders")
    oldest = await sandbox_http.get(f"{base}/orders.json?status=any&since_id=1&limit=1", headers=HEADERS)
    assert [o["order_number"] for o in oldest.json()["orders"]] == [998]


# --------------------------------------------------------------------------- the client and the adapter


async def test_a_missing_scope_is_an_auth_error_naming_the_scope_and_the_token(
    sandbox_transport: httpx.ASGITransport,
) -> None:
    with pytest.raises(AuthError) as caught:
        await client_for(sandbox_transport).find_customer_by_email("ana.silva@example.com")
    assert caught.value.status == 403
    assert caught.value.setting == "SHOPIFY_ACCESS_TOKEN"
    assert "read_customers" in str(caught.value)


async def test_an_order_beyond_the_window_is_told_from_a_missing_one(
    sandbox_transport: httpx.ASGITransport, world: World
) -> None:
    commerce = graphql_commerce(sandbox_transport)
    assert await commerce.find_order("998") is None
    with pytest.raises(NotFound):
        await commerce.get_order(str(ORDER_998))
    assert await commerce.hidden_by_history_window("998") == 60
    assert await commerce.hidden_by_history_window("1099") is None  # above the window: no such order
    assert await commerce.hidden_by_history_window("abc") is None


async def test_with_read_all_orders_nothing_is_beyond_the_window(
    sandbox_transport: httpx.ASGITransport, world: World
) -> None:
    world.shopify.access_scopes.append("read_all_orders")
    commerce = graphql_commerce(sandbox_transport)
    assert await commerce.hidden_by_history_window("12") is None
    order = await commerce.find_order("998")
    assert order is not None and order.email == "chloe.martin@example.com"

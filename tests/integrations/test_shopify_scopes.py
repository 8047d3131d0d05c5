"""Shopify access scopes and the 60-day window: the emulator grants what the token holds (a field
needing a missing scope is `ACCESS_DENIED`, only the last 60 days of orders show without
read_all_orders), the client reads the scopes from `currentAppInstallation`, and the adapter tells
an order beyond the window from one that does not exist."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from integrations._http import AuthError, NotFound
from integrations.shopify import operations as ops
from integrations.shopify.models import OPTIONAL_SCOPES, REQUIRED_SCOPES, granted_scopes, missing_scopes
from sandbox.world import World
from tests.integrations.shopify_graphql import graphql_client, graphql_commerce
from tests.published import shopify_rest as published

GRAPHQL = "/shopify/admin/api/2026-10/graphql.json"
HEADERS = {"X-Shopify-Access-Token": "shpat_sandbox"}
ORDER_998 = 5200000998  # Chloe's, placed 95 days before the demo store's clock
ORDER_1017 = 5200001017  # Ana's, placed exactly 60 days before it


async def ask(http: httpx.AsyncClient, operation: str, **variables: Any) -> dict[str, Any]:
    response = await http.post(GRAPHQL, json={"query": operation, "variables": variables}, headers=HEADERS)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --------------------------------------------------------------------------- the scopes


async def test_the_published_scopes_are_read_from_the_app_installation() -> None:
    """Shopify's published scope list (shopify-api-ruby's access_scope_test), as GraphQL answers it."""
    handles = [{"handle": s["handle"]} for s in published.ACCESS_SCOPES["access_scopes"]]

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/admin/api/2026-10/graphql.json"
        return httpx.Response(200, json={"data": {"currentAppInstallation": {"accessScopes": handles}}})

    client = graphql_client(httpx.MockTransport(answer), api="https://test-shop.myshopify.io/admin/api")
    scopes = await client.access_scopes()
    assert scopes == ["read_products", "write_orders", "read_orders"]
    assert missing_scopes(scopes, REQUIRED_SCOPES) == []
    assert missing_scopes(scopes, OPTIONAL_SCOPES) == ["read_all_orders"]


def test_a_write_scope_holds_its_read_scope() -> None:
    assert granted_scopes(["write_orders"]) == {"write_orders", "read_orders"}
    assert missing_scopes(["write_orders"], REQUIRED_SCOPES) == ["read_products"]


async def test_the_emulator_lists_the_tokens_scopes(sandbox_http: httpx.AsyncClient, world: World) -> None:
    body = await ask(sandbox_http, ops.ACCESS_SCOPES_QUERY)
    answer = ops.AccessScopesAnswer.model_validate(body["data"])
    assert [s.handle for s in answer.current_app_installation.access_scopes] == world.shopify.access_scopes
    assert world.shopify.access_scopes == ["read_orders", "write_orders", "read_products"]  # the demo store's
    refused = await sandbox_http.post(
        GRAPHQL, json={"query": ops.ACCESS_SCOPES_QUERY}, headers={"X-Shopify-Access-Token": "x"}
    )
    assert refused.status_code == 401


@pytest.mark.parametrize(
    ("query", "variables", "scope"),
    [
        (ops.ORDER_QUERY, {"id": "gid://shopify/Order/5200001001"}, "read_orders"),
        (ops.ORDER_NOTE_UPDATE, {"input": {"id": "gid://shopify/Order/5200001004", "note": "x"}}, "write_orders"),
        (ops.ORDER_CANCEL, {"orderId": "gid://shopify/Order/5200001004", "reason": "CUSTOMER", "refund": True,
                            "restock": True}, "write_orders"),
        (ops.PRODUCT_TAGS_QUERY, {"id": "gid://shopify/Product/7300000001"}, "read_products"),
    ],
)  # fmt: skip
async def test_a_missing_scope_is_access_denied_and_changes_nothing(
    sandbox_http: httpx.AsyncClient, world: World, query: str, variables: dict[str, Any], scope: str
) -> None:
    world.shopify.access_scopes = [s for s in ["read_orders", "read_products"] if s != scope]
    before = world.digest()
    body = await ask(sandbox_http, query, **variables)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "ACCESS_DENIED"
    assert error["extensions"]["requiredAccess"] == f"`{scope}` access scope."
    assert world.digest() == before


async def test_without_read_all_orders_only_60_days_of_orders_show(
    sandbox_http: httpx.AsyncClient, world: World
) -> None:
    listed = await ask(sandbox_http, "{ orders(first: 250) { nodes { name } } }")
    names = {o["name"] for o in listed["data"]["orders"]["nodes"]}
    assert "#998" not in names and "#1017" in names  # 95 days old: hidden; exactly 60: still shown
    order = "query($id: ID!) { order(id: $id) { id } }"
    assert (await ask(sandbox_http, order, id=f"gid://shopify/Order/{ORDER_998}"))["data"] == {"order": None}
    searched = await ask(sandbox_http, ops.FIND_ORDERS_QUERY, query="name:#998", first=5)
    assert searched["data"]["orders"]["nodes"] == []

    world.clock += timedelta(days=1)  # 1017 now 61 days old
    assert (await ask(sandbox_http, order, id=f"gid://shopify/Order/{ORDER_1017}"))["data"] == {"order": None}

    world.shopify.access_scopes.append("read_all_orders")
    found = await ask(sandbox_http, order, id=f"gid://shopify/Order/{ORDER_998}")
    assert found["data"]["order"] is not None


async def test_the_oldest_visible_order_comes_first_by_creation(
    sandbox_http: httpx.AsyncClient, world: World
) -> None:
    oldest = await ask(sandbox_http, ops.OLDEST_ORDER_QUERY)
    assert [o["name"] for o in oldest["data"]["orders"]["nodes"]] == ["#1017"]  # the oldest within 60 days
    world.shopify.access_scopes.append("read_all_orders")
    oldest = await ask(sandbox_http, ops.OLDEST_ORDER_QUERY)
    assert [o["name"] for o in oldest["data"]["orders"]["nodes"]] == ["#998"]


# --------------------------------------------------------------------------- the client and the adapter


async def test_a_missing_scope_is_an_auth_error_naming_the_scope_and_the_token(
    sandbox_transport: httpx.ASGITransport, world: World
) -> None:
    world.shopify.access_scopes.remove("read_orders")
    world.shopify.access_scopes.remove("write_orders")
    with pytest.raises(AuthError) as caught:
        await graphql_client(sandbox_transport).get_order(5200001001)
    assert caught.value.status == 403
    assert caught.value.setting == "SHOPIFY_ACCESS_TOKEN"
    assert "read_orders" in str(caught.value)


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

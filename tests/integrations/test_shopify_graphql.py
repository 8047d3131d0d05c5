"""The GraphQL Admin client against the GraphQL emulator (in-process, demo store): what each call
returns AND what it changed in the world; errors, user errors, cost throttling, the note guard."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from integrations._http import AuthError, NotFound, RateLimited, retrying
from integrations.shopify import operations as ops
from integrations.shopify.client import (
    ShopifyGraphQLClient,
    ShopifyUserError,
    shopify_graphql_http_client,
)
from sandbox.vendors.shopify_graphql import configure_cost_bucket
from sandbox.world import World
from tests.integrations.shopify_graphql import SANDBOX_API, TOKEN, graphql_client

ORDER_1001, ORDER_1002, ORDER_1004, ORDER_1005 = 5200001001, 5200001002, 5200001004, 5200001005
GRAPHQL = "/shopify/admin/api/2026-10/graphql.json"
HEADERS = {"X-Shopify-Access-Token": "shpat_sandbox"}


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def client(sandbox_transport: httpx.ASGITransport, waits: list[float]) -> ShopifyGraphQLClient:
    return graphql_client(sandbox_transport, waits)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# --------------------------------------------------------------------------- reads


@pytest.mark.parametrize("number", ["#1001", "1001", 1001])
async def test_an_order_is_found_by_number_with_tracking_and_payments(
    client: ShopifyGraphQLClient, number: str | int
) -> None:
    order = await client.find_order_by_number(number)
    assert order is not None
    assert order.id == f"gid://shopify/Order/{ORDER_1001}" and order.legacy_id == ORDER_1001
    assert order.name == "#1001" and order.number == 1001
    assert order.email == "ana.silva@example.com"
    assert order.fulfillments[0].tracking_info[0].number == "1Z84F2A90312345678"
    assert [t.kind for t in order.transactions] == ["SALE"]
    assert order.line_items and all(i.current_quantity == i.quantity for i in order.line_items)


async def test_a_number_with_the_wrong_email_finds_nothing(client: ShopifyGraphQLClient) -> None:
    assert await client.find_order_by_number("1001", email="ana.silva@example.com") is not None
    assert await client.find_order_by_number("1001", email="someone.else@example.com") is None
    assert await client.find_order_by_number("99999") is None
    assert await client.find_order_by_number("12abc") is None


async def test_orders_by_email_are_exact_and_newest_first(client: ShopifyGraphQLClient) -> None:
    orders = await client.orders_by_email("ana.silva@example.com", limit=10)
    assert orders and all(o.email == "ana.silva@example.com" for o in orders)
    created = [o.created_at for o in orders]
    assert created == sorted(created, reverse=True)  # type: ignore[type-var]
    assert await client.orders_by_email("ana.silva@example", limit=10) == []


async def test_orders_are_searched_by_tag(client: ShopifyGraphQLClient, world: World) -> None:
    world.shopify.orders[ORDER_1004]["tags"] = "vip, support-agent-live-test"
    found = await client.search_orders('tag:"support-agent-live-test"')
    assert [o.id for o in found] == [f"gid://shopify/Order/{ORDER_1004}"]
    assert await client.search_orders("tag:nobody-has-this") == []


async def test_an_absent_order_is_not_found(client: ShopifyGraphQLClient) -> None:
    with pytest.raises(NotFound):
        await client.get_order(1)


async def test_split_payments_are_refunded_against_each_parent(
    client: ShopifyGraphQLClient, world: World
) -> None:
    """#1005 was paid with a gift card (80.00) and a card (400.00): each refund transaction names
    the payment it refunds, and none takes more than its payment has left."""
    order = await client.get_order(ORDER_1005)
    suggestion = await client.suggest_refund(
        ORDER_1005, line_items=sorted(order.refundable_quantities().items())
    )
    parents = [t.parent_transaction.id for t in suggestion.suggested_transactions if t.parent_transaction]
    assert parents == [
        "gid://shopify/OrderTransaction/52000010051",
        "gid://shopify/OrderTransaction/52000010052",
    ]
    refund = await client.create_refund(ORDER_1005, suggestion, note="whole order", idempotency_key="split-1")
    assert refund.amount == suggestion.amount
    made = [t for t in world.shopify.transactions[ORDER_1005] if t["kind"] == "refund"]
    assert [(t["parent_id"], t["gateway"]) for t in made] == [
        (52000010051, "gift_card"),
        (52000010052, "shopify_payments"),
    ]
    assert Decimal(made[0]["amount"]) == Decimal("80.00")
    assert world.shopify.orders[ORDER_1005]["financial_status"] == "refunded"
    again = await client.create_refund(ORDER_1005, suggestion, note="whole order", idempotency_key="split-1")
    assert again.id == refund.id  # the marker found the first refund: nothing refunded twice
    assert len(world.shopify.orders[ORDER_1005]["refunds"]) == 1


async def test_a_refund_beyond_what_is_left_is_a_user_error(
    client: ShopifyGraphQLClient, world: World
) -> None:
    suggestion = await client.suggest_refund(ORDER_1002, line_items=[(520000100201, 1)])
    inflated = suggestion.model_copy(
        update={
            "suggested_transactions": [
                t.model_copy(
                    update={"amount_set": ops.MoneyBag(shop_money=ops.MoneyV2(amount=Decimal("999.00")))}
                )
                for t in suggestion.suggested_transactions
            ]
        }
    )
    with pytest.raises(ShopifyUserError, match="exceeds") as caught:
        await client.create_refund(ORDER_1002, inflated, note="too much")
    assert caught.value.status == 422
    assert "transaction 52000010021" in str(caught.value)  # names the payment it would overdraw
    assert world.shopify.orders[ORDER_1002].get("refunds", []) == []


# --------------------------------------------------------------------------- writes


async def test_the_note_is_appended_not_replaced(client: ShopifyGraphQLClient, world: World) -> None:
    world.shopify.orders[ORDER_1001]["note"] = "Gift wrap please"
    await client.append_order_note(ORDER_1001, "Shopper asked where the parcel is")
    await client.append_order_note(ORDER_1001, "Shopper asked where the parcel is")  # a retry: not twice
    note = world.shopify.orders[ORDER_1001]["note"]
    assert note.startswith("Gift wrap please\n[")
    assert note.count("Shopper asked where the parcel is") == 1


async def test_a_note_replaced_by_another_writer_meanwhile_is_written_again(
    sandbox_transport: httpx.ASGITransport, world: World
) -> None:
    """Another app overwrites the note between our write and our read-back: our line is written
    again on top of theirs, instead of being silently lost."""

    class Interloper(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.struck = False

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await sandbox_transport.handle_async_request(request)
            if b"mutation OrderNoteUpdate" in request.content and not self.struck:
                self.struck = True
                world.shopify.orders[ORDER_1001]["note"] = "Staff: called the shopper"
            return response

    interloper = Interloper()
    await graphql_client(interloper).append_order_note(ORDER_1001, "Refund promised")
    note = world.shopify.orders[ORDER_1001]["note"]
    assert interloper.struck
    assert note.startswith("Staff: called the shopper\n[") and note.endswith("Refund promised")


async def test_the_address_of_an_unfulfilled_order_changes(
    client: ShopifyGraphQLClient, world: World
) -> None:
    address = {"firstName": "Dan", "lastName": "Reyes", "address1": "9 Elm St", "city": "Denver",
               "provinceCode": "CO", "zip": "80203", "countryCode": "US"}  # fmt: skip
    order = await client.update_shipping_address(ORDER_1004, address)
    assert order.shipping_address is not None and order.shipping_address.address1 == "9 Elm St"
    record = world.shopify.orders[ORDER_1004]["shipping_address"]
    assert (record["address1"], record["city"], record["zip"]) == ("9 Elm St", "Denver", "80203")


async def test_the_address_of_a_fulfilled_order_is_a_user_error_naming_the_field(
    client: ShopifyGraphQLClient, world: World
) -> None:
    before = dict(world.shopify.orders[ORDER_1002]["shipping_address"])
    with pytest.raises(ShopifyUserError, match="fulfilled") as caught:
        await client.update_shipping_address(
            ORDER_1002, {"address1": "1 New St", "city": "Austin", "zip": "78701"}
        )
    assert caught.value.fields == ["shippingAddress"]
    assert world.shopify.orders[ORDER_1002]["shipping_address"] == before


async def test_webhook_subscriptions_are_made_once_listed_and_deleted(
    client: ShopifyGraphQLClient, world: World
) -> None:
    first = await client.register_webhook("orders/updated", "https://agent.example/webhooks/shopify")
    again = await client.register_webhook("orders/updated", "https://agent.example/webhooks/shopify")
    assert again.id == first.id and first.topic == "ORDERS_UPDATED" and first.topic_path == "orders/updated"
    assert first.api_version is not None and first.api_version.handle == "2026-10"
    [stored] = world.shopify.webhooks.values()
    assert (stored["topic"], stored["address"]) == (
        "orders/updated",
        "https://agent.example/webhooks/shopify",
    )
    assert [h.id for h in await client.list_webhooks(topic="orders/updated")] == [first.id]
    await client.delete_webhook(first.id)
    assert world.shopify.webhooks == {}
    with pytest.raises(NotFound):
        await client.delete_webhook(first.id)


# --------------------------------------------------------------------------- errors and limits


async def test_a_missing_scope_is_an_auth_error_naming_the_scope(
    client: ShopifyGraphQLClient, world: World
) -> None:
    world.shopify.access_scopes.remove("read_products")
    with pytest.raises(AuthError) as caught:
        await client.get_product_tags(7300000001)
    assert "read_products" in str(caught.value)
    assert caught.value.setting == "SHOPIFY_ACCESS_TOKEN"


async def test_a_wrong_token_is_an_auth_error(sandbox_transport: httpx.ASGITransport) -> None:
    with pytest.raises(AuthError) as caught:
        await graphql_client(sandbox_transport, token="shpat_wrong").get_order(ORDER_1001)
    assert caught.value.status == 401


async def test_throttled_calls_wait_for_the_points_to_come_back(
    sandbox_app: FastAPI, sandbox_transport: httpx.ASGITransport
) -> None:
    clock = FakeClock()
    bucket = configure_cost_bucket(sandbox_app, clock=clock)
    bucket.available = 100.0  # another process of this app spent the rest
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # time passes only when the client waits
        waits.append(seconds)
        clock.now += seconds

    client = ShopifyGraphQLClient(
        shopify_graphql_http_client(SANDBOX_API, TOKEN, transport=sandbox_transport),
        retry_policy=lambda: retrying(sleep=sleep),
        sleep=sleep,
    )
    order = await client.get_order(ORDER_1001)
    assert order.legacy_id == ORDER_1001
    assert client.last_cost is not None
    requested = client.last_cost["requestedQueryCost"]
    assert waits == [pytest.approx((requested - 100) / 100.0, abs=0.011)]  # one wait, as long as needed
    assert client.last_cost["actualQueryCost"] < requested  # the difference came back


async def test_the_throttled_answer_says_how_long_to_wait() -> None:
    answer = {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": {"cost": {"requestedQueryCost": 202, "actualQueryCost": None,
                                "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 2, "restoreRate": 100.0}}},
    }  # fmt: skip

    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answer)

    client = graphql_client(httpx.MockTransport(handler), api="https://s.test/admin/api")
    with pytest.raises(RateLimited) as caught:
        await client.execute(ops.JOB_QUERY, {"id": "gid://shopify/Job/1"})
    assert caught.value.retry_after == 2.0  # (202 - 2) points at 100 a second


async def test_a_query_for_a_field_shopify_lacks_is_refused(sandbox_http: httpx.AsyncClient) -> None:
    query = '{ order(id: "gid://shopify/Order/5200001001") { id trackingNumber } }'
    response = await sandbox_http.post(GRAPHQL, json={"query": query}, headers=HEADERS)
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["message"] == "Field 'trackingNumber' doesn't exist on type 'Order'"
    assert error["extensions"]["code"] == "undefinedField"


async def test_answers_carry_their_cost(sandbox_http: httpx.AsyncClient) -> None:
    body = {"query": ops.ORDER_QUERY, "variables": {"id": f"gid://shopify/Order/{ORDER_1001}"}}
    response = await sandbox_http.post(GRAPHQL, json=body, headers=HEADERS)
    cost: dict[str, Any] = response.json()["extensions"]["cost"]
    assert 0 < cost["actualQueryCost"] < cost["requestedQueryCost"] < 1000
    assert cost["throttleStatus"]["maximumAvailable"] == 2000.0
    assert cost["throttleStatus"]["restoreRate"] == 100.0
    assert ops.OrderAnswer.model_validate(response.json()["data"]).order is not None


async def test_a_query_over_the_single_query_limit_is_refused(sandbox_http: httpx.AsyncClient) -> None:
    query = "{ orders(first: 250) { nodes { lineItems(first: 250) { nodes { id product { id } } } } } }"
    response = await sandbox_http.post(GRAPHQL, json={"query": query}, headers=HEADERS)
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert error["extensions"]["maxCost"] == 1000


async def test_a_refund_is_delivered_to_webhook_subscribers(
    sandbox_app: FastAPI, client: ShopifyGraphQLClient, world: World
) -> None:
    delivered: list[tuple[str, dict[str, str], bytes]] = []

    async def sender(url: str, headers: dict[str, str], body: bytes) -> int:
        delivered.append((url, headers, body))
        return 200

    sandbox_app.state.shopify_webhook_sender = sender
    await client.register_webhook("refunds/create", "https://agent.example/webhooks/shopify")
    suggestion = await client.suggest_refund(ORDER_1002, line_items=[(520000100201, 1)])
    refund = await client.create_refund(ORDER_1002, suggestion, note="mug chipped")
    [(_url, headers, body)] = delivered
    assert headers["X-Shopify-Topic"] == "refunds/create"
    assert json.loads(body)["id"] == ops.legacy_id(refund.id)
    assert world.shopify_deliveries[-1]["status"] == 200

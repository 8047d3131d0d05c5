"""Contract: Shopify's published GraphQL reference examples (tests/published/shopify_graphql) are
valid operations of the emulator's schema and do there what Shopify documents; every operation the
client sends is valid too, and the emulator's answers parse with the client's own models."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
from graphql import parse, validate

from integrations._http import RateLimited
from integrations.shopify import operations as ops
from sandbox.vendors.shopify_graphql import schema
from sandbox.world import World
from tests.integrations.shopify_graphql import graphql_client
from tests.published import shopify_graphql as published

GRAPHQL = "/shopify/admin/api/2026-10/graphql.json"
HEADERS = {"X-Shopify-Access-Token": "shpat_sandbox"}
ORDER_1002, ORDER_1004 = 5200001002, 5200001004

OUR_OPERATIONS = {
    name: value
    for name, value in vars(ops).items()
    if name.isupper() and isinstance(value, str) and ("query " in value or "mutation " in value)
}
PUBLISHED_OPERATIONS = {
    "refundCreate": published.REFUND_CREATE,
    "orderCancel": published.ORDER_CANCEL,
    "webhookSubscriptionCreate 2024-10": published.WEBHOOK_SUBSCRIPTION_CREATE_2024_10,
    "webhookSubscriptionCreate 2024-01": published.WEBHOOK_SUBSCRIPTION_CREATE_2024_01,
}


async def run(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await http.post(GRAPHQL, json={"query": query, "variables": variables}, headers=HEADERS)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


@pytest.mark.parametrize("name", sorted(PUBLISHED_OPERATIONS))
def test_the_published_operations_are_valid_here(name: str) -> None:
    assert validate(schema(), parse(PUBLISHED_OPERATIONS[name])) == []


@pytest.mark.parametrize("name", sorted(OUR_OPERATIONS))
def test_every_operation_we_send_is_valid(name: str) -> None:
    assert validate(schema(), parse(OUR_OPERATIONS[name])) == []


def test_the_suggested_refund_has_the_published_fields() -> None:
    suggested = schema().type_map["SuggestedRefund"]
    assert set(published.SUGGESTED_REFUND_FIELDS) <= set(suggested.fields)  # type: ignore[attr-defined]


async def test_the_published_refund_is_refused_for_the_wrong_gateway_then_made_with_the_right_one(
    sandbox_http: httpx.AsyncClient, world: World
) -> None:
    """The published refund, on the demo order #1002 (paid through shopify_payments): its gateway
    `foo` is not the payment's, a user error; with the payment's gateway, 10.00 comes back."""
    variables = copy.deepcopy(published.REFUND_CREATE_VARIABLES)
    order = f"gid://shopify/Order/{ORDER_1002}"
    variables["input"]["orderId"] = order
    variables["input"]["refundLineItems"] = [
        {"lineItemId": "gid://shopify/LineItem/520000100201", "quantity": 1}
    ]
    transaction = variables["input"]["transactions"][0]
    transaction.update(orderId=order, parentId="gid://shopify/OrderTransaction/52000010021")

    refused = await run(sandbox_http, published.REFUND_CREATE, variables)
    [error] = refused["data"]["refundCreate"]["userErrors"]
    assert "gateway" in error["message"] and refused["data"]["refundCreate"]["refund"] is None
    assert world.shopify.orders[ORDER_1002].get("refunds", []) == []

    transaction["gateway"] = "shopify_payments"
    made = await run(sandbox_http, published.REFUND_CREATE, variables)
    refund = made["data"]["refundCreate"]["refund"]
    assert refund["note"] == "Want to exchange for a different item"
    assert refund["totalRefundedSet"]["presentmentMoney"]["amount"] == "10.00"
    [record] = world.shopify.orders[ORDER_1002]["refunds"]
    assert [t["amount"] for t in record["transactions"]] == ["10.00"]


async def test_the_published_cancel_answers_with_a_job_that_cancels_the_order(
    sandbox_http: httpx.AsyncClient, world: World
) -> None:
    variables = {**published.ORDER_CANCEL_VARIABLES, "orderId": f"gid://shopify/Order/{ORDER_1004}"}
    body = await run(sandbox_http, published.ORDER_CANCEL, variables)
    payload = body["data"]["orderCancel"]
    assert payload["orderCancelUserErrors"] == []
    assert payload["job"]["done"] is False and payload["jobResult"]["id"] == payload["job"]["id"]
    polled = await run(sandbox_http, ops.JOB_QUERY, {"id": payload["job"]["id"]})
    assert ops.JobAnswer.model_validate(polled["data"]).job == ops.Job(id=payload["job"]["id"], done=True)
    record = world.shopify.orders[ORDER_1004]
    assert record["cancelled_at"] is not None and record["cancel_reason"] == "customer"
    assert record["cancel_staff_note"] == published.ORDER_CANCEL_VARIABLES["staffNote"]


@pytest.mark.parametrize(
    "query", [published.WEBHOOK_SUBSCRIPTION_CREATE_2024_10, published.WEBHOOK_SUBSCRIPTION_CREATE_2024_01]
)
async def test_the_published_subscription_is_made(
    sandbox_http: httpx.AsyncClient, world: World, query: str
) -> None:
    body = await run(sandbox_http, query, published.WEBHOOK_SUBSCRIPTION_VARIABLES)
    made = body["data"]["webhookSubscriptionCreate"]
    assert made["userErrors"] == []
    assert made["webhookSubscription"]["topic"] == "ORDERS_CREATE"
    if "endpoint" in made["webhookSubscription"]:
        assert made["webhookSubscription"]["endpoint"] == {
            "__typename": "WebhookHttpEndpoint",
            "callbackUrl": "https://example.org/endpoint",
        }
    [hook] = world.shopify.webhooks.values()
    assert (hook["topic"], hook["address"], hook["format"]) == (
        "orders/create",
        "https://example.org/endpoint",
        "json",
    )


async def test_the_published_throttled_answer_is_waited_out_for_as_long_as_it_says() -> None:
    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=published.THROTTLED)

    client = graphql_client(httpx.MockTransport(handler), api="https://s.test/admin/api")
    with pytest.raises(RateLimited) as caught:
        await client.execute(ops.JOB_QUERY, {"id": "gid://shopify/Job/1"})
    assert caught.value.retry_after == pytest.approx(1.68)  # (202 - 118) points at 50 a second

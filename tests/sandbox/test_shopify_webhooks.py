"""Shopify webhook deliveries from the emulated store: when an order is cancelled, refunded,
updated or fulfilled, every subscription to the topic gets the bare resource, signed over its raw
bytes, at the address it registered (subscriptions made with the GraphQL Admin API's
`webhookSubscriptionCreate`); unknown topics are refused at subscription."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from agent.settings import Settings
from integrations.shopify.webhooks import (
    HMAC_HEADER,
    SHOP_DOMAIN_HEADER,
    TOPIC_HEADER,
    WEBHOOK_ID_HEADER,
    verify_webhook,
)
from sandbox.world import World
from server.app import create_app
from tests.server.fake_service import FakeConversationService

GRAPHQL = "/shopify/admin/api/2026-10/graphql.json"
HEADERS = {"X-Shopify-Access-Token": "shpat_sandbox"}
ORDER_1004, ORDER_1005 = 5200001004, 5200001005
AGENT = "http://agent.test/webhooks/shopify"
SUBSCRIBE = """mutation($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id uri } userErrors { field message }
  }
}"""
CANCEL = """mutation($id: ID!) {
  orderCancel(orderId: $id, reason: CUSTOMER, refund: true, restock: true) {
    job { id } orderCancelUserErrors { message }
  }
}"""
JOB = "query($id: ID!) { job(id: $id) { done } }"
NOTE = """mutation($id: ID!, $note: String) {
  orderUpdate(input: {id: $id, note: $note}) { order { id } userErrors { message } }
}"""


async def gql(http: httpx.AsyncClient, operation: str, **variables: object) -> dict[str, Any]:
    response = await http.post(GRAPHQL, json={"query": operation, "variables": variables}, headers=HEADERS)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def cancel(http: httpx.AsyncClient, order_id: int) -> dict[str, Any]:
    """Cancel and let the job run (it runs before the next call is answered)."""
    payload: dict[str, Any] = (await gql(http, CANCEL, id=f"gid://shopify/Order/{order_id}"))["orderCancel"]
    if payload["job"]:
        await gql(http, JOB, id=payload["job"]["id"])
    return payload


@dataclass
class Inbox:
    """Stands in for the receiving server: what was posted where, raw."""

    posts: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    status: int = 200

    async def __call__(self, url: str, headers: dict[str, str], body: bytes) -> int:
        self.posts.append((url, headers, body))
        return self.status

    def topics(self) -> list[str]:
        return [headers[TOPIC_HEADER] for _, headers, _ in self.posts]


@pytest.fixture
def inbox(sandbox_app: FastAPI) -> Inbox:
    received = Inbox()
    sandbox_app.state.shopify_webhook_sender = received
    return received


async def subscribe(http: httpx.AsyncClient, topic: str, address: str | None = None) -> dict[str, Any]:
    """Subscribe through `webhookSubscriptionCreate`; the payload (subscription and user errors)."""
    enum = topic.replace("/", "_").upper()
    data = await gql(
        http, SUBSCRIBE, topic=enum, sub={"uri": address or f"{AGENT}/{topic}", "format": "JSON"}
    )
    payload: dict[str, Any] = data["webhookSubscriptionCreate"]
    return payload


# --------------------------------------------------------------------------- contract: subscriptions


@pytest.mark.parametrize(
    ("topic", "address"),
    [
        # Shopify/shopify-api-ruby @ 4eca719d, test/rest/2024_10/webhook_test.rb: addresses Shopify accepts.
        ("customers/update", "pubsub://projectName:topicName"),
        (
            "customers/update",
            "arn:aws:events:us-east-1::event-source/aws.partner/shopify.com/755357713/example-event-source",
        ),
        ("orders/create", "https://example.hostname.com/"),
        ("app/uninstalled", "https://example.org/app_uninstalled"),
    ],
)
async def test_the_published_subscriptions_are_accepted(
    sandbox_http: httpx.AsyncClient, world: World, topic: str, address: str
) -> None:
    world.shopify.access_scopes.append("read_customers")
    payload = await subscribe(sandbox_http, topic, address)
    assert payload["userErrors"] == []
    assert payload["webhookSubscription"]["uri"] == address
    [hook] = world.shopify.webhooks.values()
    assert (hook["topic"], hook["address"]) == (topic, address)


@pytest.mark.parametrize("topic", ["ORDERS_NOPE", "ORDER_UPDATED", "orders_updated", ""])
async def test_an_unknown_topic_is_refused(sandbox_http: httpx.AsyncClient, world: World, topic: str) -> None:
    response = await sandbox_http.post(
        GRAPHQL,
        json={"query": SUBSCRIBE, "variables": {"topic": topic, "sub": {"uri": "https://agent.test/hooks"}}},
        headers=HEADERS,
    )
    [error] = response.json()["errors"]  # not a value of the WebhookSubscriptionTopic enum
    assert "WebhookSubscriptionTopic" in error["message"]
    assert world.shopify.webhooks == {}


async def test_a_topic_needs_the_scope_of_its_resource(sandbox_http: httpx.AsyncClient, world: World) -> None:
    response = await sandbox_http.post(
        GRAPHQL,
        json={"query": SUBSCRIBE, "variables": {"topic": "CUSTOMERS_UPDATE", "sub": {"uri": f"{AGENT}/c"}}},
        headers=HEADERS,
    )  # the demo token has no read_customers
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "ACCESS_DENIED" and "read_customers" in error["message"]
    assert world.shopify.webhooks == {}


# --------------------------------------------------------------------------- deliveries


async def test_a_cancellation_is_delivered_signed_to_each_subscriber(
    sandbox_http: httpx.AsyncClient, world: World, inbox: Inbox
) -> None:
    for topic in ("orders/cancelled", "orders/updated", "refunds/create", "orders/fulfilled"):
        assert (await subscribe(sandbox_http, topic))["userErrors"] == []
    before = world.digest()
    assert (await cancel(sandbox_http, ORDER_1004))["orderCancelUserErrors"] == []
    assert inbox.topics() == ["refunds/create", "orders/cancelled", "orders/updated"]  # not orders/fulfilled
    secret = world.credentials.shopify_webhook_secret
    for url, headers, body in inbox.posts:
        topic = headers[TOPIC_HEADER]
        assert url == f"{AGENT}/{topic}"  # the address registered, whatever it is
        assert verify_webhook(body, headers[HMAC_HEADER], secret)  # the agent's own check passes
        assert headers[SHOP_DOMAIN_HEADER] == "harbor-and-pine.myshopify.com"
        assert headers["X-Shopify-API-Version"] == "2026-10"
        assert headers["Content-Type"] == "application/json"
    resources = {headers[TOPIC_HEADER]: json.loads(body) for _, headers, body in inbox.posts}
    assert resources["orders/cancelled"]["id"] == ORDER_1004  # the bare order, not {"order": ...}
    assert resources["orders/cancelled"]["cancelled_at"] == world.now_iso()  # as it is after the change
    assert resources["refunds/create"]["order_id"] == ORDER_1004
    ids = [headers[WEBHOOK_ID_HEADER] for _, headers, _ in inbox.posts]
    assert len(set(ids)) == 3
    assert [d["webhook_id"] for d in world.shopify_deliveries] == ids
    assert {d["status"] for d in world.shopify_deliveries} == {200}
    world.shopify_deliveries.clear()
    assert world.digest() != before  # the cancellation itself changed the store, the log does not count


async def test_a_refund_and_a_note_are_delivered(sandbox_http: httpx.AsyncClient, inbox: Inbox) -> None:
    await subscribe(sandbox_http, "refunds/create")
    await subscribe(sandbox_http, "orders/updated")
    order = f"gid://shopify/Order/{ORDER_1005}"
    line = "gid://shopify/LineItem/520000100502"
    suggested = await gql(
        sandbox_http,
        """query($id: ID!, $lines: [RefundLineItemInput!]) { order(id: $id) { suggestedRefund(refundLineItems: $lines) {
             suggestedTransactions { gateway amountSet { shopMoney { amount } } parentTransaction { id } } } } }""",
        id=order,
        lines=[{"lineItemId": line, "quantity": 1}],
    )
    assert inbox.posts == []  # a suggestion changes nothing, so nothing is delivered
    transactions = [
        {"orderId": order, "kind": "REFUND", "gateway": t["gateway"], "parentId": t["parentTransaction"]["id"],
         "amount": t["amountSet"]["shopMoney"]["amount"]}
        for t in suggested["order"]["suggestedRefund"]["suggestedTransactions"]
    ]  # fmt: skip
    made = await gql(
        sandbox_http,
        "mutation($input: RefundInput!) { refundCreate(input: $input) { refund { id } userErrors { message } } }",
        input={
            "orderId": order,
            "refundLineItems": [{"lineItemId": line, "quantity": 1}],
            "transactions": transactions,
        },
    )
    assert made["refundCreate"]["userErrors"] == []
    assert inbox.topics() == ["refunds/create", "orders/updated"]
    assert (
        f"gid://shopify/Refund/{json.loads(inbox.posts[0][2])['id']}" == made["refundCreate"]["refund"]["id"]
    )
    await gql(sandbox_http, NOTE, id=order, note="hi")
    assert inbox.topics()[-1] == "orders/updated"


async def test_a_refused_change_delivers_nothing(sandbox_http: httpx.AsyncClient, inbox: Inbox) -> None:
    await subscribe(sandbox_http, "orders/cancelled")
    refused = await cancel(sandbox_http, 5200001001)
    assert refused["orderCancelUserErrors"]  # #1001 has shipped
    assert inbox.posts == []


async def test_shipping_an_order_is_delivered(
    sandbox_http: httpx.AsyncClient, world: World, inbox: Inbox
) -> None:
    await subscribe(sandbox_http, "orders/fulfilled")
    await subscribe(sandbox_http, "orders/updated")
    shipped = await sandbox_http.post(
        "/_sandbox/orders/1004/fulfil", json={"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}
    )
    assert shipped.status_code == 200, shipped.text
    assert inbox.topics() == ["orders/fulfilled", "orders/updated"]
    order = json.loads(inbox.posts[0][2])
    assert order["fulfillment_status"] == "fulfilled"
    assert order["fulfillments"][-1]["tracking_number"] == "1Z999AA10123456784"
    assert [d["topic"] for d in shipped.json()["webhooks"]] == ["orders/fulfilled", "orders/updated"]
    listed = await sandbox_http.get("/_sandbox/shopify/webhook-deliveries")
    assert [d["topic"] for d in listed.json()] == ["orders/fulfilled", "orders/updated"]


async def test_a_failed_delivery_is_logged_with_its_status(
    sandbox_http: httpx.AsyncClient, world: World, inbox: Inbox
) -> None:
    inbox.status = 503
    await subscribe(sandbox_http, "orders/updated")
    await gql(sandbox_http, NOTE, id=f"gid://shopify/Order/{ORDER_1005}", note="x")
    assert [d["status"] for d in world.shopify_deliveries] == [503]


# --------------------------------------------------------------------------- into the agent's server


async def test_the_agents_server_accepts_what_the_store_delivers(
    sandbox_http: httpx.AsyncClient, sandbox_app: FastAPI, world: World
) -> None:
    """End to end: the sandbox delivers to the address registered (the route README documents), the
    agent's server verifies the signature with the app secret and hands the order to the service."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        sandbox_mode=False,
        shopify_webhook_secret=world.credentials.shopify_webhook_secret,
        store_secret="test-store-secret",
        gorgias_webhook_secret="test-gorgias-secret",
    )
    fake = FakeConversationService()
    agent = create_app(settings, service=fake)

    async def into_the_agent(url: str, headers: dict[str, str], body: bytes) -> int:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=agent), base_url="http://agent.test"
        ) as http:
            response = await http.post(httpx.URL(url).path, content=body, headers=headers)
        return response.status_code

    sandbox_app.state.shopify_webhook_sender = into_the_agent
    await subscribe(sandbox_http, "orders/cancelled")
    await cancel(sandbox_http, ORDER_1004)
    assert [(type(e).__name__, e.order_id) for e in fake.store_events] == [
        ("OrderCancelled", str(ORDER_1004))
    ]
    assert [d["status"] for d in world.shopify_deliveries] == [200]


async def test_the_adapter_forgets_an_order_a_fulfilment_delivery_is_about(
    sandbox_http: httpx.AsyncClient, sandbox_transport: httpx.ASGITransport, inbox: Inbox
) -> None:
    from integrations.shopify.webhooks import ShopifyWebhooks
    from tests.integrations.shopify_graphql import graphql_commerce

    commerce = graphql_commerce(sandbox_transport)
    before = await commerce.find_order("1004")
    assert before is not None and not before.is_fulfilled
    await sandbox_http.post(
        "/_sandbox/orders/1004/fulfil", json={"tracking_number": "9400100000000000001004"}
    )
    cached = await commerce.find_order("1004")
    assert cached is not None and not cached.is_fulfilled  # still the cached order
    fulfilment = {"id": 1, "order_id": ORDER_1004, "status": "success"}
    [event] = ShopifyWebhooks(secret="unused").parse_webhook(
        {"X-Shopify-Topic": "fulfillments/create"}, json.dumps(fulfilment).encode()
    )
    await commerce.on_store_event(event)
    after = await commerce.find_order("1004")
    assert after is not None and after.is_fulfilled

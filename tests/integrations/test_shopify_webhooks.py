"""The Shopify adapter's webhooks against the REAL recorded payloads (shopify_python_api fixtures):
a webhook body is the bare resource (the fixture's order, refund or fulfillment, unwrapped),
signed with the app secret; the topic and delivery id come in headers."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from integrations.events import (
    OrderCancelled,
    OrderFulfilled,
    OrderUpdated,
    RefundCreated,
    WebhookMalformed,
    WebhookRejected,
)
from integrations.shopify.adapter import ShopifyCommerce
from integrations.shopify.client import ShopifyGraphQLClient
from integrations.shopify.webhooks import ShopifyWebhooks, sign_webhook

SECRET = "shopify-app-secret-for-these-tests"


def resource(fixtures_dir: Path, name: str, key: str) -> bytes:
    """A fixture's resource as a webhook body: unwrapped, serialised once (these bytes are signed)."""
    data: dict[str, Any] = json.loads((fixtures_dir / "shopify" / name).read_text(encoding="utf-8"))
    return json.dumps(data[key]).encode()


def headers(
    body: bytes, topic: str = "orders/updated", webhook_id: str | None = "b54557e4-bdd9"
) -> dict[str, str]:
    sent = {
        "X-Shopify-Hmac-Sha256": sign_webhook(body, SECRET),
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": "apple.myshopify.com",
        "X-Shopify-API-Version": "2024-10",
    }
    if webhook_id is not None:
        sent["X-Shopify-Webhook-Id"] = webhook_id
    return sent


@pytest.fixture
def webhooks() -> ShopifyWebhooks:
    return ShopifyWebhooks(secret=SECRET)


@pytest.fixture
def order(fixtures_dir: Path) -> bytes:
    return resource(fixtures_dir, "order.json", "order")


def test_the_signature_covers_the_exact_bytes(webhooks: ShopifyWebhooks, order: bytes) -> None:
    webhooks.verify_webhook(headers(order), order)
    webhooks.verify_webhook({k.lower(): v for k, v in headers(order).items()}, order)
    reserialised = json.dumps(json.loads(order), indent=1).encode()  # same JSON, other bytes
    for body, sent in [
        (reserialised, headers(order)),
        (order, {**headers(order), "X-Shopify-Hmac-Sha256": sign_webhook(order, "another-secret")}),
        (order, {**headers(order), "X-Shopify-Hmac-Sha256": "not base64!"}),
        (order, {"X-Shopify-Topic": "orders/updated"}),
    ]:
        with pytest.raises(WebhookRejected) as refused:
            webhooks.verify_webhook(sent, body)
        assert (refused.value.status, refused.value.code) == (401, "invalid_signature")


def test_without_a_secret_every_delivery_is_refused(order: bytes) -> None:
    commerce = ShopifyCommerce(ShopifyGraphQLClient.__new__(ShopifyGraphQLClient))
    with pytest.raises(WebhookRejected):
        commerce.verify_webhook(headers(order), order)


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("orders/updated", OrderUpdated),
        ("orders/paid", OrderUpdated),
        ("orders/fulfilled", OrderFulfilled),
        ("orders/cancelled", OrderCancelled),
    ],
)
def test_order_topics(webhooks: ShopifyWebhooks, order: bytes, topic: str, expected: type) -> None:
    assert webhooks.parse_webhook(headers(order, topic), order) == [
        expected(order_id="450789469", order_number="1001")
    ]


def test_a_refund_and_a_fulfillment_name_their_order(webhooks: ShopifyWebhooks, fixtures_dir: Path) -> None:
    refund = resource(fixtures_dir, "refund.json", "refund")
    fulfillment = resource(fixtures_dir, "fulfillment.json", "fulfillment")

    assert webhooks.parse_webhook(headers(refund, "refunds/create"), refund) == [
        RefundCreated(order_id="450789469", refund_id="509562969")
    ]
    assert webhooks.parse_webhook(headers(fulfillment, "fulfillments/create"), fulfillment) == [
        OrderUpdated(order_id="450789469")
    ]


def test_topics_we_do_not_act_on_mean_nothing(webhooks: ShopifyWebhooks, order: bytes) -> None:
    assert webhooks.parse_webhook(headers(order, "customers/update"), order) == []


@pytest.mark.parametrize(
    ("body", "topic", "code"),
    [
        (b"{not json", "orders/updated", "malformed_body"),
        (b"[1, 2]", "orders/updated", "malformed_body"),
        (b"", "orders/updated", "malformed_body"),
        (b'{"order_number": 1001}', "orders/updated", "malformed_body"),  # which order?
        (b'{"id": 5}', "refunds/create", "malformed_body"),  # a refund names its order
        (b'{"id": 5}', "", "unknown_topic"),
        (b'{"id": 5}', "Orders/Updated; drop", "unknown_topic"),
    ],
)
def test_malformed_deliveries(webhooks: ShopifyWebhooks, body: bytes, topic: str, code: str) -> None:
    with pytest.raises(WebhookMalformed) as refused:
        webhooks.parse_webhook(headers(body, topic), body)
    assert (refused.value.status, refused.value.code) == (400, code)


def test_dedupe_keys_are_the_delivery_id_and_what_was_signed(webhooks: ShopifyWebhooks, order: bytes) -> None:
    keys = webhooks.dedupe_keys(headers(order), order)
    assert keys[1] == "id:b54557e4-bdd9"
    assert keys[0].startswith("body:")
    # The id is not signed: the same body under another id (or none) has the same body key...
    assert webhooks.dedupe_keys(headers(order, webhook_id="other"), order)[0] == keys[0]
    assert webhooks.dedupe_keys(headers(order, webhook_id=None), order) == keys[:1]
    # ...while the same body under another topic is another delivery.
    assert webhooks.dedupe_keys(headers(order, "orders/fulfilled"), order)[0] != keys[0]


async def test_a_store_event_drops_the_cached_order(webhooks: ShopifyWebhooks, order: bytes) -> None:
    commerce = ShopifyCommerce(ShopifyGraphQLClient.__new__(ShopifyGraphQLClient), webhooks=webhooks)
    commerce._orders["1001"] = (0.0, SimpleNamespace(id=450789469))
    commerce._orders["1002"] = (0.0, SimpleNamespace(id=450789470))

    [event] = commerce.parse_webhook(headers(order), order)
    await commerce.on_store_event(event)

    assert list(commerce._orders) == ["1002"]

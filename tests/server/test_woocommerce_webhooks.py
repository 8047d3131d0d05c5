"""`/webhooks/woocommerce` with STORE_PLATFORM=woocommerce: WooCommerce's signature over the raw
body (`X-WC-Webhook-Signature`), its topic header, deduplication on `X-WC-Webhook-Delivery-ID`
and on the signed body; the save-time ping; a store on Shopify does not take WooCommerce deliveries."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from integrations.events import OrderCancelled, OrderUpdated
from integrations.woocommerce.webhooks import WooCommerceWebhooks, sign_webhook
from server.app import create_app
from tests.published.woocommerce_rest import ORDER, WEBHOOK_HEADERS
from tests.server.conftest import make_settings
from tests.server.fake_service import FakeConversationService

SECRET = "test-woocommerce-webhook-secret"
BODY = json.dumps(ORDER).encode()


def headers(
    body: bytes, secret: str = SECRET, delivery: str = "d-1", topic: str = "order.updated"
) -> dict[str, str]:
    resource, _, event = topic.partition(".")
    return {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": "https://example.com/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": sign_webhook(body, secret),
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": delivery,
    }


def test_the_test_headers_are_the_published_ones() -> None:
    assert tuple(headers(BODY)) == ("Content-Type", *WEBHOOK_HEADERS)


@pytest.fixture
def fake() -> FakeConversationService:
    return FakeConversationService()


@pytest.fixture
async def woo(fake: FakeConversationService) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(
        make_settings(store_platform="woocommerce", woocommerce_webhook_secret=SECRET), service=fake
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def test_a_signed_delivery_reaches_the_service_once(
    woo: httpx.AsyncClient, fake: FakeConversationService
) -> None:
    first = await woo.post("/webhooks/woocommerce", content=BODY, headers=headers(BODY))
    assert first.status_code == 200 and first.json() == {"status": "ok"}
    assert fake.store_events == [OrderUpdated(order_id="727", order_number="727")]
    again = await woo.post("/webhooks/woocommerce", content=BODY, headers=headers(BODY))
    assert again.json() == {"status": "duplicate"}
    renamed = await woo.post("/webhooks/woocommerce", content=BODY, headers=headers(BODY, delivery="d-2"))
    assert renamed.json() == {"status": "duplicate"}  # the same signed body under a new delivery id
    assert len(fake.store_events) == 1


async def test_bad_signatures_are_401_and_reach_nothing(
    woo: httpx.AsyncClient, fake: FakeConversationService
) -> None:
    tampered = BODY.replace(b'"processing"', b'"cancelled"')
    for body, sent in (
        (BODY, headers(BODY, secret="wrong")),
        (tampered, headers(BODY)),
        (BODY, {k: v for k, v in headers(BODY).items() if k != "X-WC-Webhook-Signature"}),
    ):
        response = await woo.post("/webhooks/woocommerce", content=body, headers=sent)
        assert response.status_code == 401
    assert fake.store_events == []


async def test_cancellation_and_the_ping(woo: httpx.AsyncClient, fake: FakeConversationService) -> None:
    cancelled = json.dumps(dict(ORDER, status="cancelled")).encode()
    response = await woo.post(
        "/webhooks/woocommerce", content=cancelled, headers=headers(cancelled, delivery="d-9")
    )
    assert response.status_code == 200
    assert fake.store_events == [OrderCancelled(order_id="727", order_number="727")]
    ping = b"webhook_id=12"
    sent = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-WC-Webhook-Signature": sign_webhook(ping, SECRET),
    }
    answered = await woo.post("/webhooks/woocommerce", content=ping, headers=sent)
    assert answered.status_code == 202 and answered.json() == {"status": "ignored"}
    unsigned = await woo.post("/webhooks/woocommerce", content=b"webhook_id=13")
    assert unsigned.status_code == 202  # nothing to act on: the save-time ping may come unsigned
    not_a_ping = await woo.post("/webhooks/woocommerce", content=b"webhook_id=13&status=cancelled")
    assert not_a_ping.status_code == 401
    assert fake.store_events == [OrderCancelled(order_id="727", order_number="727")]


async def test_shopify_is_not_configured_on_a_woocommerce_store(woo: httpx.AsyncClient) -> None:
    response = await woo.post(
        "/webhooks/shopify", content=b"{}", headers={"X-Shopify-Topic": "orders/updated"}
    )
    assert response.status_code == 404


def test_malformed_topics_and_bodies() -> None:
    from integrations.events import WebhookMalformed

    hooks = WooCommerceWebhooks(secret=SECRET)
    with pytest.raises(WebhookMalformed):
        hooks.parse_webhook(headers(b"[]", topic="order.updated"), b"[]")
    with pytest.raises(WebhookMalformed):
        hooks.parse_webhook({"X-WC-Webhook-Topic": "orders/updated"}, BODY)
    assert hooks.parse_webhook(headers(BODY, topic="product.updated"), BODY) == []

"""`/webhooks/bigcommerce` with STORE_PLATFORM=bigcommerce: BigCommerce signs nothing, so a delivery
must carry the secret header registered on the hook (checked in constant time); the published
callback payloads become store events; redeliveries are recognised; a Shopify store refuses them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from integrations.bigcommerce.webhooks import BigCommerceWebhooks
from integrations.events import (
    OrderCancelled,
    OrderFulfilled,
    OrderUpdated,
    RefundCreated,
    WebhookMalformed,
    WebhookRejected,
)
from server.app import create_app
from tests.published.bigcommerce.reference import (
    ORDER_UPDATED,
    REFUND_CREATED,
    SHIPMENT_CREATED,
    STATUS_UPDATED,
)
from tests.server.conftest import make_settings
from tests.server.fake_service import FakeConversationService

SECRET = "test-bigcommerce-webhook-secret-0123456789"
HEADER = "X-Acme-Hook-Secret"


def body_of(payload: dict[str, object]) -> bytes:
    return json.dumps(payload).encode()


def sent(secret: str = SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json", HEADER: secret}


@pytest.fixture
def fake() -> FakeConversationService:
    return FakeConversationService()


@pytest.fixture
async def bc(fake: FakeConversationService) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        store_platform="bigcommerce", bigcommerce_webhook_secret=SECRET, bigcommerce_webhook_header=HEADER
    )
    app: FastAPI = create_app(settings, service=fake)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def test_a_delivery_with_the_secret_header_reaches_the_service_once(
    bc: httpx.AsyncClient, fake: FakeConversationService
) -> None:
    body = body_of(ORDER_UPDATED)
    first = await bc.post("/webhooks/bigcommerce", content=body, headers=sent())
    assert first.status_code == 200 and first.json() == {"status": "ok"}
    assert fake.store_events == [OrderUpdated(order_id="250", order_number="250")]
    again = await bc.post("/webhooks/bigcommerce", content=body, headers=sent())
    assert again.json() == {"status": "duplicate"}
    later = body_of(dict(ORDER_UPDATED, created_at=ORDER_UPDATED["created_at"] + 5))
    assert (await bc.post("/webhooks/bigcommerce", content=later, headers=sent())).json() == {"status": "ok"}
    assert len(fake.store_events) == 2


async def test_a_missing_or_wrong_secret_is_401_and_reaches_nothing(
    bc: httpx.AsyncClient, fake: FakeConversationService
) -> None:
    body = body_of(STATUS_UPDATED)
    for headers in (
        sent("wrong"),
        sent(SECRET + "x"),
        {"Content-Type": "application/json"},
        {"X-Other": SECRET},
    ):
        response = await bc.post("/webhooks/bigcommerce", content=body, headers=headers)
        assert response.status_code == 401
    assert fake.store_events == []


async def test_the_published_callbacks_become_store_events(
    bc: httpx.AsyncClient, fake: FakeConversationService
) -> None:
    cancelled = dict(
        STATUS_UPDATED,
        data={"type": "order", "id": 250, "status": {"previous_status_id": 11, "new_status_id": 5}},
    )
    for payload in (STATUS_UPDATED, cancelled, REFUND_CREATED, SHIPMENT_CREATED):
        response = await bc.post("/webhooks/bigcommerce", content=body_of(payload), headers=sent())
        assert response.status_code == 200
    assert fake.store_events == [
        OrderUpdated(order_id="250", order_number="250"),
        OrderCancelled(order_id="250", order_number="250"),
        RefundCreated(order_id="250", order_number="250", refund_id="3"),
        OrderFulfilled(order_id="251", order_number="251"),
    ]


async def test_shopify_is_not_configured_on_a_bigcommerce_store(bc: httpx.AsyncClient) -> None:
    response = await bc.post(
        "/webhooks/shopify", content=b"{}", headers={"X-Shopify-Topic": "orders/updated"}
    )
    assert response.status_code == 404


def test_the_header_is_what_the_hook_is_registered_with_and_bodies_are_checked() -> None:
    hooks = BigCommerceWebhooks(secret=SECRET, header_name=HEADER)
    assert hooks.registration_headers() == {HEADER: SECRET}
    hooks.verify_webhook({HEADER.lower(): SECRET}, b"{}")  # header names are case-insensitive
    with pytest.raises(WebhookRejected):
        BigCommerceWebhooks(secret="").verify_webhook({HEADER: ""}, b"{}")  # no secret set: nothing passes
    for raw in (
        b"[]",
        b"not json",
        b'{"scope": 5}',
        b'{"scope": "store/order/updated", "data": {"type": "order"}}',
    ):
        with pytest.raises(WebhookMalformed):
            hooks.parse_webhook(sent(), raw)
    assert hooks.parse_webhook(sent(), body_of(dict(ORDER_UPDATED, scope="store/product/updated"))) == []

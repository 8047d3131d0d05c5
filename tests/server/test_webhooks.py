"""Webhooks: Shopify (HMAC over the raw body, deduplicated) and Gorgias (shared-secret header).
In every refused case nothing reaches the service."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.settings import Settings
from integrations.shopify.webhooks import sign_webhook
from sandbox.webhooks import helpdesk_event
from tests.server.conftest import start_conversation
from tests.server.fake_service import FakeConversationService


@pytest.fixture
def order_body(fixtures_dir: Path) -> bytes:
    """A real recorded order, as Shopify's `orders/updated` webhook sends it (the bare resource)."""
    order = json.loads((fixtures_dir / "shopify" / "order.json").read_text())["order"]
    return json.dumps(order).encode()


def shopify_headers(
    body: bytes, secret: str, webhook_id: str = "wh-1", topic: str = "orders/updated"
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": sign_webhook(body, secret),
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": "harbor-and-pine.myshopify.com",
        "X-Shopify-Webhook-Id": webhook_id,
    }


async def test_signed_shopify_webhook_reaches_the_service(
    client: httpx.AsyncClient, fake: FakeConversationService, settings: Settings, order_body: bytes
) -> None:
    secret = settings.shopify_webhook_secret.get_secret_value()

    response = await client.post(
        "/webhooks/shopify/orders/updated", content=order_body, headers=shopify_headers(order_body, secret)
    )

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert fake.commerce_events == [("orders/updated", json.loads(order_body))]
    assert fake.commerce_events[0][1]["id"] == 450789469


async def test_replayed_shopify_webhook_is_processed_once(
    client: httpx.AsyncClient, fake: FakeConversationService, settings: Settings, order_body: bytes
) -> None:
    headers = shopify_headers(
        order_body, settings.shopify_webhook_secret.get_secret_value(), webhook_id="wh-42"
    )

    first = await client.post("/webhooks/shopify/orders/updated", content=order_body, headers=headers)
    replay = await client.post("/webhooks/shopify/orders/updated", content=order_body, headers=headers)

    assert first.json() == {"status": "ok"}
    assert replay.status_code == 200
    assert replay.json() == {"status": "duplicate"}
    assert len(fake.commerce_events) == 1


async def test_bad_shopify_signatures_are_401_and_change_nothing(
    client: httpx.AsyncClient, fake: FakeConversationService, settings: Settings, order_body: bytes
) -> None:
    secret = settings.shopify_webhook_secret.get_secret_value()
    tampered = order_body.replace(b"bob.norman", b"eve.attacker")
    cases: list[tuple[bytes, dict[str, str]]] = [
        (order_body, shopify_headers(order_body, "wrong-secret")),
        (tampered, shopify_headers(order_body, secret)),  # signature of another body
        (order_body, {**shopify_headers(order_body, secret), "X-Shopify-Hmac-Sha256": "not base64!"}),
        (order_body, {"Content-Type": "application/json", "X-Shopify-Webhook-Id": "wh-9"}),  # unsigned
    ]
    for body, headers in cases:
        response = await client.post("/webhooks/shopify/orders/updated", content=body, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_signature"
    assert fake.commerce_events == []
    # A refused delivery does not burn its id: the genuine one is still processed.
    genuine = await client.post(
        "/webhooks/shopify/orders/updated",
        content=order_body,
        headers=shopify_headers(order_body, secret, "wh-9"),
    )
    assert genuine.json() == {"status": "ok"}


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b""])
async def test_malformed_shopify_body_is_400(
    client: httpx.AsyncClient, fake: FakeConversationService, settings: Settings, body: bytes
) -> None:
    headers = shopify_headers(body, settings.shopify_webhook_secret.get_secret_value())

    response = await client.post("/webhooks/shopify/orders/updated", content=body, headers=headers)

    assert response.status_code == 400
    assert response.json()["error"] == "malformed_body"
    assert fake.commerce_events == []


async def test_failed_shopify_delivery_is_processed_on_redelivery(
    client: httpx.AsyncClient, fake: FakeConversationService, settings: Settings, order_body: bytes
) -> None:
    headers = shopify_headers(
        order_body, settings.shopify_webhook_secret.get_secret_value(), webhook_id="wh-7"
    )
    calls: list[str] = []

    async def flaky(topic: str, payload: dict[str, Any]) -> None:
        calls.append(topic)
        if len(calls) == 1:
            raise RuntimeError("database is down")

    fake.on_commerce_event = flaky  # type: ignore[method-assign]

    failed = await client.post("/webhooks/shopify/orders/updated", content=order_body, headers=headers)
    redelivered = await client.post("/webhooks/shopify/orders/updated", content=order_body, headers=headers)

    assert failed.status_code == 500
    assert failed.json() == {"error": "internal_error", "detail": "Something went wrong on our side."}
    assert redelivered.json() == {"status": "ok"}
    assert calls == ["orders/updated", "orders/updated"]


def ticket(
    conversation_id: str | None, status: str = "open", tags: list[str] | None = None
) -> dict[str, Any]:
    return {
        "id": 4242,
        "external_id": conversation_id,
        "status": status,
        "subject": "Chat",
        "tags": [{"id": 1, "name": name} for name in tags or []],
        "assignee_user": {"id": 1, "name": "Rosa Alvarez"},
        "updated_datetime": "2026-11-20T15:00:00Z",
    }


def agent_message(text: str) -> dict[str, Any]:
    return {
        "id": 99,
        "channel": "chat",
        "from_agent": True,
        "public": True,
        "body_text": text,
        "sender": {"id": 1, "name": "Rosa Alvarez", "email": "rosa@harborandpine.test"},
        "created_datetime": "2026-11-20T15:01:00Z",
    }


def gorgias_headers(settings: Settings, secret: str | None = None) -> dict[str, str]:
    return {settings.gorgias_webhook_header: secret or settings.gorgias_webhook_secret.get_secret_value()}


async def test_gorgias_human_reply_is_relayed(
    client: httpx.AsyncClient, fake: FakeConversationService, settings: Settings
) -> None:
    conversation_id = await start_conversation(client)
    body = helpdesk_event("ticket-message-created", ticket(conversation_id), agent_message("Hi, Rosa here!"))

    response = await client.post("/webhooks/gorgias", json=body, headers=gorgias_headers(settings))

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert fake.helpdesk_events == [body]
    view = (await client.get(f"/api/conversations/{conversation_id}")).json()
    assert view["status"] == "human_handling"
    assert [(m["role"], m["text"], m["author"]) for m in view["messages"]] == [
        ("agent", "Hi, Rosa here!", "Rosa Alvarez")
    ]


async def test_gorgias_close_resumes_the_bot(
    client: httpx.AsyncClient, fake: FakeConversationService, settings: Settings
) -> None:
    conversation_id = await start_conversation(client)
    await fake.push_agent_message(conversation_id, "Sorted!")

    response = await client.post(
        "/webhooks/gorgias",
        json=helpdesk_event("ticket-updated", ticket(conversation_id, status="closed"), None),
        headers=gorgias_headers(settings),
    )

    assert response.status_code == 200
    assert (await client.get(f"/api/conversations/{conversation_id}")).json()["status"] == "active"


async def test_gorgias_event_for_no_conversation_is_ignored(
    client: httpx.AsyncClient, fake: FakeConversationService, settings: Settings
) -> None:
    body = helpdesk_event("ticket-message-created", ticket(None), agent_message("Hello"))

    response = await client.post("/webhooks/gorgias", json=body, headers=gorgias_headers(settings))

    assert response.status_code == 202
    assert response.json() == {"status": "ignored"}


async def test_gorgias_bad_secret_is_401_and_changes_nothing(
    client: httpx.AsyncClient, fake: FakeConversationService, settings: Settings
) -> None:
    conversation_id = await start_conversation(client)
    body = helpdesk_event("ticket-message-created", ticket(conversation_id), agent_message("I am not Rosa"))

    wrong = await client.post("/webhooks/gorgias", json=body, headers=gorgias_headers(settings, "guess"))
    missing = await client.post("/webhooks/gorgias", json=body)
    other_header = await client.post(
        "/webhooks/gorgias",
        json=body,
        headers={"X-Other": settings.gorgias_webhook_secret.get_secret_value()},
    )

    for response in (wrong, missing, other_header):
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_secret"
    assert fake.helpdesk_events == []
    assert (await client.get(f"/api/conversations/{conversation_id}")).json()["messages"] == []


@pytest.mark.parametrize(
    "body",
    [b"{broken", b'"a string"', b'{"ticket": {"id": 1}}', b'{"event": "x", "ticket": {"status": "open"}}'],
)
async def test_gorgias_malformed_body_is_400(
    client: httpx.AsyncClient, fake: FakeConversationService, settings: Settings, body: bytes
) -> None:
    response = await client.post(
        "/webhooks/gorgias",
        content=body,
        headers={**gorgias_headers(settings), "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["error"] == "malformed_body"
    assert fake.helpdesk_events == []

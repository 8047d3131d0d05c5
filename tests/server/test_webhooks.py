"""Webhooks at `/webhooks/{vendor}`: dispatched to the configured adapter (Shopify: HMAC over the
raw body, deduplicated; Gorgias: shared-secret header), which parses them into domain events for
the service. Unknown or unconfigured vendors are 404s. In every refused case nothing reaches the
service."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from agent.settings import Settings
from agent.webhooks import WebhookReceivers
from integrations.events import HumanReplied, OrderUpdated, RefundCreated, StoreEvent, TicketClosed
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
    assert fake.store_events == [OrderUpdated(order_id="450789469", order_number="1001")]


async def test_one_address_takes_every_shopify_topic(
    client: httpx.AsyncClient, fake: FakeConversationService, settings: Settings, fixtures_dir: Path
) -> None:
    """The topic is read from `X-Shopify-Topic`: `/webhooks/shopify` serves every subscription."""
    refund = json.dumps(json.loads((fixtures_dir / "shopify" / "refund.json").read_text())["refund"]).encode()
    secret = settings.shopify_webhook_secret.get_secret_value()

    response = await client.post(
        "/webhooks/shopify", content=refund, headers=shopify_headers(refund, secret, "wh-r", "refunds/create")
    )

    assert response.json() == {"status": "ok"}
    assert fake.store_events == [RefundCreated(order_id="450789469", refund_id="509562969")]


async def test_a_topic_we_do_not_act_on_is_acknowledged(
    client: httpx.AsyncClient, fake: FakeConversationService, settings: Settings, order_body: bytes
) -> None:
    headers = shopify_headers(
        order_body, settings.shopify_webhook_secret.get_secret_value(), topic="orders/create"
    )

    response = await client.post("/webhooks/shopify", content=order_body, headers=headers)

    assert response.status_code == 202
    assert response.json() == {"status": "ignored"}
    assert fake.store_events == []


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
    assert len(fake.store_events) == 1
    # The same delivery at the topic-less address is the same delivery.
    again = await client.post("/webhooks/shopify", content=order_body, headers=headers)
    assert again.json() == {"status": "duplicate"}


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
    assert fake.store_events == []
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
    assert fake.store_events == []


async def test_a_shopify_delivery_without_a_topic_is_400(
    client: httpx.AsyncClient, fake: FakeConversationService, settings: Settings, order_body: bytes
) -> None:
    headers = shopify_headers(order_body, settings.shopify_webhook_secret.get_secret_value())
    del headers["X-Shopify-Topic"]

    response = await client.post("/webhooks/shopify/orders/updated", content=order_body, headers=headers)

    assert response.status_code == 400
    assert response.json()["error"] == "unknown_topic"
    assert fake.store_events == []


async def test_failed_shopify_delivery_is_processed_on_redelivery(
    client: httpx.AsyncClient, fake: FakeConversationService, settings: Settings, order_body: bytes
) -> None:
    headers = shopify_headers(
        order_body, settings.shopify_webhook_secret.get_secret_value(), webhook_id="wh-7"
    )
    calls: list[StoreEvent] = []

    async def flaky(event: StoreEvent) -> None:
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("database is down")

    fake.store_event = flaky  # type: ignore[method-assign]

    failed = await client.post("/webhooks/shopify/orders/updated", content=order_body, headers=headers)
    redelivered = await client.post("/webhooks/shopify/orders/updated", content=order_body, headers=headers)

    assert failed.status_code == 500
    assert failed.json() == {"error": "internal_error", "detail": "Something went wrong on our side."}
    assert redelivered.json() == {"status": "ok"}
    assert [event.kind for event in calls] == ["order_updated", "order_updated"]


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
    assert fake.helpdesk_events == [
        HumanReplied(
            ticket_id="4242",
            conversation_id=conversation_id,
            occurred_at=datetime(2026, 11, 20, 15, 1, tzinfo=UTC),
            text="Hi, Rosa here!",
            author="Rosa Alvarez",
            message_id="gorgias-99",
        )
    ]
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
    assert fake.helpdesk_events == [
        TicketClosed(
            ticket_id="4242",
            conversation_id=conversation_id,
            occurred_at=datetime(2026, 11, 20, 15, tzinfo=UTC),
        )
    ]
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


async def test_gorgias_update_meaning_nothing_is_acknowledged(
    client: httpx.AsyncClient, fake: FakeConversationService, settings: Settings
) -> None:
    conversation_id = await start_conversation(client)
    body = helpdesk_event("ticket-updated", ticket(conversation_id, tags=["vip"]), None)

    response = await client.post("/webhooks/gorgias", json=body, headers=gorgias_headers(settings))

    assert response.status_code == 202
    assert response.json() == {"status": "ignored"}
    assert fake.helpdesk_events == []


async def test_a_longer_gorgias_address_is_the_same_route(
    client: httpx.AsyncClient, fake: FakeConversationService, settings: Settings
) -> None:
    conversation_id = await start_conversation(client)
    body = helpdesk_event("ticket-message-created", ticket(conversation_id), agent_message("Rosa again"))

    response = await client.post(
        "/webhooks/gorgias/ticket-events", json=body, headers=gorgias_headers(settings)
    )

    assert response.json() == {"status": "ok"}
    assert [e.kind for e in fake.helpdesk_events] == ["human_replied"]


# --------------------------------------------------------------------------- dispatch


@pytest.mark.parametrize("path", ["/webhooks/freshdesk", "/webhooks/stripe/charges", "/webhooks/..%2Fapi"])
async def test_an_unknown_vendor_is_404(
    client: httpx.AsyncClient, fake: FakeConversationService, settings: Settings, path: str
) -> None:
    response = await client.post(path, json={"event": "x"}, headers=gorgias_headers(settings))

    assert response.status_code == 404
    assert response.json()["error"] == "unknown_vendor"
    assert fake.helpdesk_events == [] and fake.store_events == []


async def test_a_vendor_that_is_not_the_configured_one_is_404(
    app: FastAPI,
    client: httpx.AsyncClient,
    fake: FakeConversationService,
    settings: Settings,
    order_body: bytes,
) -> None:
    """A known adapter this server is not set up for (here: the store platform of another shop)
    answers nothing, whatever the delivery carries."""
    configured = WebhookReceivers.from_settings(settings)
    app.state.webhook_receivers = WebhookReceivers(helpdesks=configured.helpdesks, store_platforms={})
    headers = shopify_headers(order_body, settings.shopify_webhook_secret.get_secret_value())

    response = await client.post("/webhooks/shopify", content=order_body, headers=headers)

    assert response.status_code == 404
    assert response.json()["error"] == "vendor_not_configured"
    assert fake.store_events == []


async def test_a_vendor_name_that_is_the_other_sides_is_not_confused(
    client: httpx.AsyncClient, fake: FakeConversationService, settings: Settings, order_body: bytes
) -> None:
    """A Shopify delivery sent to the helpdesk's address is checked as a Gorgias one: refused."""
    headers = shopify_headers(order_body, settings.shopify_webhook_secret.get_secret_value())

    response = await client.post("/webhooks/gorgias", content=order_body, headers=headers)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_secret"
    assert fake.store_events == [] and fake.helpdesk_events == []

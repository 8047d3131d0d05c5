"""Shopify's webhook deliveries, emulated: when the emulated store changes (an order is updated,
cancelled, refunded or fulfilled), each subscription to that topic gets a POST, as Shopify sends it.

- to the `address` the subscription was made with, whatever it is (the sandbox knows no routes of
  the agent); `pubsub://` and `arn:aws:events:` addresses are accepted at subscription, as on
  Shopify, but have no HTTP endpoint to post to here;
- the body is the bare resource (an order, a refund, a fulfilment), JSON-encoded once, and
  `X-Shopify-Hmac-Sha256` is base64(HMAC-SHA256(app secret, those exact bytes));
- with `X-Shopify-Topic`, `X-Shopify-Shop-Domain`, `X-Shopify-Webhook-Id` (unique per delivery, the
  receiver's deduplication key), `X-Shopify-Event-Id`, `X-Shopify-Triggered-At` and
  `X-Shopify-API-Version` (the subscription's version);
- after the change is answered (Shopify delivers asynchronously), once: each delivery and the
  status it got are logged in `world.shopify_deliveries` (not business state, outside the world's
  digest). Shopify retries failures for hours; the log shows what a retry would resend.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from fastapi import Request

from sandbox.world import JSON, World

ShopifyWebhookSender = Callable[[str, dict[str, str], bytes], Awaitable[int]]
"""POST raw bytes with headers to an address; returns the status (0 when unreachable)."""

HTTP_ADDRESS = ("http://", "https://")


async def http_raw_sender(url: str, headers: dict[str, str], body: bytes) -> int:
    """POST the signed bytes as they are (re-encoding them would break the signature)."""
    try:
        async with httpx.AsyncClient(timeout=10.0) as client:
            response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError:
        return 0
    return response.status_code


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def emit(request: Request, topic: str, resource: JSON) -> None:
    """Queue a change for delivery once the call that made it has been answered."""
    events: list[tuple[str, JSON]] | None = getattr(request.state, "shopify_events", None)
    if events is None:
        events = []
        request.state.shopify_events = events
    events.append((topic, json.loads(json.dumps(resource))))  # as it is now, not as it becomes


def pending(request: Request) -> list[tuple[str, JSON]]:
    events: list[tuple[str, JSON]] = getattr(request.state, "shopify_events", None) or []
    return events


def sender_of(state: Any) -> ShopifyWebhookSender:
    sender: ShopifyWebhookSender | None = getattr(state, "shopify_webhook_sender", None)
    return sender or http_raw_sender


async def deliver(world: World, sender: ShopifyWebhookSender, events: list[tuple[str, JSON]]) -> list[JSON]:
    """Post each event to every subscription to its topic; returns (and logs) the deliveries."""
    made: list[JSON] = []
    for topic, resource in events:
        for hook in sorted(world.shopify.webhooks.values(), key=lambda h: int(h["id"])):
            if hook["topic"] != topic:
                continue
            made.append(await _deliver_one(world, sender, hook, topic, resource))
    return made


async def _deliver_one(
    world: World, sender: ShopifyWebhookSender, hook: JSON, topic: str, resource: JSON
) -> JSON:
    body = json.dumps(resource, separators=(",", ":")).encode()
    delivery_id = str(uuid.uuid4())
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(body, world.credentials.shopify_webhook_secret),
        "X-Shopify-Shop-Domain": world.shopify.shop_domain,
        "X-Shopify-Webhook-Id": delivery_id,
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": world.now_iso(),
        "X-Shopify-API-Version": str(hook.get("api_version") or ""),
    }
    address = str(hook["address"])
    status = await sender(address, headers, body) if address.startswith(HTTP_ADDRESS) else None
    record: JSON = {
        "webhook_id": delivery_id,
        "subscription": hook["id"],
        "topic": topic,
        "address": address,
        "resource_id": resource.get("id"),
        "status": status,
        "at": world.now_iso(),
    }
    world.shopify_deliveries.append(record)
    return record

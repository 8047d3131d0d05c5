"""Shopify webhooks: signatures, delivery ids and topics, turned into store events.

`X-Shopify-Hmac-Sha256` is base64(HMAC-SHA256(app secret, raw body)): verify against the raw
request bytes, before any JSON parsing (re-serialised JSON would not match). The topic is in
`X-Shopify-Topic`, the delivery id in `X-Shopify-Webhook-Id`; the body is the bare resource (an
order, a refund), not wrapped.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from integrations.events import (
    OrderCancelled,
    OrderFulfilled,
    OrderUpdated,
    RefundCreated,
    StoreEvent,
    WebhookMalformed,
    WebhookRejected,
    header,
)

HMAC_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"
SHOP_DOMAIN_HEADER = "X-Shopify-Shop-Domain"
WEBHOOK_ID_HEADER = "X-Shopify-Webhook-Id"


def _digest(raw_body: bytes, secret: str) -> bytes:
    return hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()


def sign_webhook(raw_body: bytes, secret: str) -> str:
    """The header value Shopify would send for this body (for tests and the sandbox)."""
    return base64.b64encode(_digest(raw_body, secret)).decode()


def verify_webhook(raw_body: bytes, hmac_header: str | None, secret: str) -> bool:
    """True only when the header is the body's signature; False when missing, malformed or wrong."""
    if not hmac_header or not secret:
        return False
    try:
        given = base64.b64decode(hmac_header.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(given, _digest(raw_body, secret))


# Topics look like `orders/updated`, `refunds/create`.
_TOPIC = re.compile(r"^[a-z0-9_]+(/[a-z0-9_]+)*$")


def _number(order: Mapping[str, Any]) -> str | None:
    number = order.get("order_number")  # not `number`: Shopify's internal sequence
    return str(number) if number is not None else None


def _order_id(body: Mapping[str, Any], field: str) -> str:
    value = body.get(field)
    if value is None or isinstance(value, bool) or not str(value).strip():
        raise WebhookMalformed(f"The body has no `{field}`.")
    return str(value)


def _updated(body: Mapping[str, Any]) -> StoreEvent:
    return OrderUpdated(order_id=_order_id(body, "id"), order_number=_number(body))


def _fulfilled(body: Mapping[str, Any]) -> StoreEvent:
    return OrderFulfilled(order_id=_order_id(body, "id"), order_number=_number(body))


def _cancelled(body: Mapping[str, Any]) -> StoreEvent:
    return OrderCancelled(order_id=_order_id(body, "id"), order_number=_number(body))


def _refund(body: Mapping[str, Any]) -> StoreEvent:
    return RefundCreated(order_id=_order_id(body, "order_id"), refund_id=_order_id(body, "id"))


def _fulfillment(body: Mapping[str, Any]) -> StoreEvent:
    return OrderUpdated(order_id=_order_id(body, "order_id"))


# What each topic we subscribe to (README) or may receive means; other topics are acknowledged.
TOPICS: dict[str, Callable[[Mapping[str, Any]], StoreEvent]] = {
    "orders/updated": _updated,
    "orders/edited": _updated,
    "orders/paid": _updated,
    "orders/partially_fulfilled": _updated,
    "orders/fulfilled": _fulfilled,
    "orders/cancelled": _cancelled,
    "refunds/create": _refund,
    "fulfillments/create": _fulfillment,
    "fulfillments/update": _fulfillment,
}
SUBSCRIBED_TOPICS = ("orders/updated", "orders/fulfilled", "orders/cancelled", "refunds/create")


class ShopifyWebhooks:
    """Verifies Shopify webhook deliveries with the app secret and parses them into store events."""

    def __init__(self, *, secret: str) -> None:
        self._secret = secret

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        if not verify_webhook(raw_body, header(headers, HMAC_HEADER), self._secret):
            raise WebhookRejected(f"{HMAC_HEADER} does not match the body.", code="invalid_signature")

    @staticmethod
    def topic(headers: Mapping[str, str]) -> str:
        topic = (header(headers, TOPIC_HEADER) or "").strip()
        if not _TOPIC.match(topic):
            raise WebhookMalformed(f"{TOPIC_HEADER} is not a webhook topic.", code="unknown_topic")
        return topic

    def dedupe_keys(self, headers: Mapping[str, str], raw_body: bytes) -> list[str]:
        # A replay is recognised by its delivery id and by what was signed: the id header is not
        # covered by the signature, so a replayed body under a dropped or new id is a duplicate too.
        keys = [signed_body_key(self.topic(headers), raw_body)]
        webhook_id = (header(headers, WEBHOOK_ID_HEADER) or "").strip()
        return keys + ([f"id:{webhook_id}"] if webhook_id else [])

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> list[StoreEvent]:
        topic = self.topic(headers)
        try:
            body = json.loads(raw_body)
        except (ValueError, UnicodeDecodeError):
            raise WebhookMalformed("The body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise WebhookMalformed("The body must be a JSON object.")
        parse = TOPICS.get(topic)
        return [] if parse is None else [parse(body)]


def signed_body_key(topic: str, raw: bytes) -> str:
    """Replay key of a verified delivery: SHA-256 of its topic and the exact signed bytes."""
    return "body:" + hashlib.sha256(topic.encode() + b"\n" + raw).hexdigest()

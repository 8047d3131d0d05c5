"""WooCommerce webhooks: signatures, topics and delivery ids, turned into store events.

WooCommerce signs each delivery with `X-WC-Webhook-Signature` = base64(HMAC-SHA256(the webhook's
secret, raw body)); the topic (`order.updated`, `order.created`, ...) is in `X-WC-Webhook-Topic`
and the delivery's id in `X-WC-Webhook-Delivery-ID`. The body is the resource as the REST API
shows it. When a webhook is saved WooCommerce pings it once with a form body `webhook_id=N` and
no topic: acknowledged, nothing happens.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

from integrations.events import (
    OrderCancelled,
    OrderUpdated,
    StoreEvent,
    WebhookMalformed,
    WebhookRejected,
    header,
)

SIGNATURE_HEADER = "X-WC-Webhook-Signature"
TOPIC_HEADER = "X-WC-Webhook-Topic"
DELIVERY_ID_HEADER = "X-WC-Webhook-Delivery-ID"
WEBHOOK_ID_HEADER = "X-WC-Webhook-ID"
SOURCE_HEADER = "X-WC-Webhook-Source"
SUBSCRIBED_TOPICS = ("order.updated", "order.deleted")
_TOPIC = re.compile(r"^[a-z_]+\.[a-z_]+$")


def _digest(raw_body: bytes, secret: str) -> bytes:
    return hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()


def sign_webhook(raw_body: bytes, secret: str) -> str:
    """The signature WooCommerce would send for this body (tests and the sandbox)."""
    return base64.b64encode(_digest(raw_body, secret)).decode()


def verify_signature(raw_body: bytes, signature: str | None, secret: str) -> bool:
    if not signature or not secret:
        return False
    try:
        given = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(given, _digest(raw_body, secret))


_PING = re.compile(rb"^webhook_id=[0-9]{1,18}$")


def is_ping(headers: Mapping[str, str], raw_body: bytes) -> bool:
    """WooCommerce's ping when a webhook is saved: no topic, a form body `webhook_id=N`. Answered 2xx
    so the webhook can be saved; it parses to no event, so accepting it unsigned changes nothing."""
    return not (header(headers, TOPIC_HEADER) or "").strip() and bool(_PING.match(raw_body.strip()))


def _event(topic: str, body: Mapping[str, Any]) -> StoreEvent | None:
    resource, _, action = topic.partition(".")
    if resource != "order":
        return None
    order_id = body.get("id")
    if order_id is None or isinstance(order_id, bool) or not str(order_id).strip():
        raise WebhookMalformed("The body has no `id`.")
    number = body.get("number")
    fields = {"order_id": str(order_id), "order_number": str(number) if number else None}
    if action == "updated" and body.get("status") == "cancelled":
        return OrderCancelled(**fields)
    # `completed` says nothing about what changed in this update: any change is an update.
    return OrderUpdated(**fields)


class WooCommerceWebhooks:
    """Verifies deliveries with the webhook's secret and parses them into store events."""

    def __init__(self, *, secret: str) -> None:
        self._secret = secret

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        if is_ping(headers, raw_body):
            return  # carries nothing to act on, and WooCommerce may send it unsigned
        if not verify_signature(raw_body, header(headers, SIGNATURE_HEADER), self._secret):
            raise WebhookRejected(f"{SIGNATURE_HEADER} does not match the body.", code="invalid_signature")

    @staticmethod
    def topic(headers: Mapping[str, str]) -> str | None:
        """The topic, or None for WooCommerce's ping when a webhook is saved."""
        topic = (header(headers, TOPIC_HEADER) or "").strip()
        if not topic:
            return None
        if not _TOPIC.match(topic):
            raise WebhookMalformed(f"{TOPIC_HEADER} is not a webhook topic.", code="unknown_topic")
        return topic

    def dedupe_keys(self, headers: Mapping[str, str], raw_body: bytes) -> list[str]:
        # The delivery id is not signed: a replayed body under a new id is a duplicate too.
        keys = ["body:" + hashlib.sha256((self.topic(headers) or "").encode() + b"\n" + raw_body).hexdigest()]
        delivery = (header(headers, DELIVERY_ID_HEADER) or "").strip()
        return keys + ([f"id:{delivery}"] if delivery else [])

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> list[StoreEvent]:
        topic = self.topic(headers)
        if topic is None:
            return []  # the ping
        try:
            body = json.loads(raw_body)
        except (ValueError, UnicodeDecodeError):
            raise WebhookMalformed("The body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise WebhookMalformed("The body must be a JSON object.")
        event = _event(topic, body)
        return [] if event is None else [event]

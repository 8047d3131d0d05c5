"""BigCommerce webhooks (`/v3/hooks`): a shared secret header, scopes and hashes, turned into store events.

BigCommerce does not sign deliveries. A hook is registered with custom `headers`, which BigCommerce
sends with every delivery: we register one secret header (`BIGCOMMERCE_WEBHOOK_HEADER`, default
`X-Support-Agent-Secret`) and refuse any delivery without its exact value (compared in constant
time). The body only names the resource (`{"scope": "store/order/updated", "data": {"type":
"order", "id": 250}, "hash": ...}`): the adapter fetches the order again. `hash` is the SHA-1 of
the payload data, BigCommerce's way to recognise a redelivery.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping

from pydantic import ValidationError

from integrations.bigcommerce.models import CANCELLED, BcWebhookPayload
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

DEFAULT_SECRET_HEADER = "X-Support-Agent-Secret"  # noqa: S105 (a header name)
ORDER_SCOPES = (
    "store/order/created",
    "store/order/updated",
    "store/order/statusUpdated",
    "store/order/archived",
    "store/order/refund/created",
    "store/shipment/created",
    "store/shipment/updated",
)
SUBSCRIBED_SCOPES = (
    "store/order/updated",
    "store/order/statusUpdated",
    "store/order/refund/created",
    "store/shipment/created",
)
_SCOPE = re.compile(r"^store/[a-zA-Z_/*]+$")


def _digits(value: object) -> str | None:
    text = str(value).strip() if value is not None and not isinstance(value, bool) else ""
    return text if text.isdigit() else None


def _event(payload: BcWebhookPayload) -> StoreEvent | None:
    scope, data = payload.scope, payload.data
    if scope.startswith("store/shipment/"):
        order_id = _digits(data.order_id)
        if order_id is None:
            raise WebhookMalformed("A shipment delivery without `data.orderId`.")
        return (
            OrderFulfilled(order_id=order_id, order_number=order_id)
            if scope.endswith("created")
            else (OrderUpdated(order_id=order_id, order_number=order_id))
        )
    if not scope.startswith("store/order/"):
        return None
    order_id = _digits(data.id)
    if order_id is None or data.type not in ("order", ""):
        raise WebhookMalformed("An order delivery without `data.id`.")
    fields = {"order_id": order_id, "order_number": order_id}  # the order number is its id
    if scope == "store/order/statusUpdated" and (data.status or {}).get("new_status_id") == CANCELLED:
        return OrderCancelled(**fields)
    if scope == "store/order/refund/created":
        refund_id = _digits((data.refund or {}).get("refund_id"))
        if refund_id is not None:
            return RefundCreated(**fields, refund_id=refund_id)
    return OrderUpdated(**fields)


class BigCommerceWebhooks:
    """Checks the secret header set on the hook at registration and parses deliveries into events."""

    def __init__(self, *, secret: str, header_name: str = DEFAULT_SECRET_HEADER) -> None:
        self._secret = secret
        self.header_name = header_name

    def registration_headers(self) -> dict[str, str]:
        """The `headers` of `POST /v3/hooks`: BigCommerce sends them with every delivery."""
        return {self.header_name: self._secret}

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        given = header(headers, self.header_name)
        if (
            not self._secret
            or given is None
            or not hmac.compare_digest(given.strip().encode(), self._secret.encode())
        ):
            raise WebhookRejected(f"{self.header_name} is missing or wrong.", code="invalid_secret")

    @staticmethod
    def payload(raw_body: bytes) -> BcWebhookPayload:
        try:
            body = json.loads(raw_body)
        except (ValueError, UnicodeDecodeError):
            raise WebhookMalformed("The body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise WebhookMalformed("The body must be a JSON object.")
        try:
            payload = BcWebhookPayload.model_validate(body)
        except ValidationError:
            raise WebhookMalformed("The body is not a BigCommerce webhook callback.") from None
        if not _SCOPE.match(payload.scope):
            raise WebhookMalformed("`scope` is not a webhook scope.", code="unknown_topic")
        return payload

    def dedupe_keys(self, headers: Mapping[str, str], raw_body: bytes) -> list[str]:
        # BigCommerce sends no delivery id: a redelivery repeats the callback (its scope, data, `hash`
        # of the data and `created_at`), so the callback itself, canonically encoded, is the key.
        self.payload(raw_body)
        canonical = json.dumps(json.loads(raw_body), sort_keys=True, separators=(",", ":"))
        return ["callback:" + hashlib.sha256(canonical.encode()).hexdigest()]

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> list[StoreEvent]:
        event = _event(self.payload(raw_body))
        return [] if event is None else [event]

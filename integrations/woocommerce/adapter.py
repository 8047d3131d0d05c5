"""WooCommerce as the project's `CommerceBackend`: maps REST API v3 payloads to our domain models.

- Order numbers are WooCommerce's `number` (the id, unless a plugin renumbers orders); the
  shopper's email is the order's billing email.
- Shipments come from the Shipment Tracking extension's `_wc_shipment_tracking_items` meta.
  WooCommerce itself never learns of a delivery, so when a `track` function is given (EasyPost,
  through the `Shipping` port) a parcel's delivery date is the carrier's.
- WooCommerce has no refund calculation: the quote is our arithmetic over the order's line
  totals and taxes (each line's share, as WooCommerce's own refund form fills it in), sent as
  `line_items` with `refund_total` and `refund_tax` to `POST /orders/{id}/refunds`, with
  `api_refund` so the payment gateway pays the money back. A gateway that cannot refund
  automatically makes WooCommerce refuse; we then say so (`GatewayCannotRefund`) rather than
  record a refund on which no money moved.
- Cancelling a paid order refunds it first (WooCommerce's status change alone returns nothing),
  then sets the status `cancelled`; only orders still `pending`, `processing` or `on-hold` with
  no tracking number may be cancelled or re-addressed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from integrations._http import VendorError
from integrations._store_cache import CachedStore, CarrierTracked, Track
from integrations.domain import (
    ZERO,
    Address,
    LineItem,
    Order,
    RefundLine,
    RefundQuote,
    RefundRecord,
    Shipment,
    TrackingStatus,
    share_of,
)
from integrations.woocommerce.client import VENDOR, WooCommerceClient
from integrations.woocommerce.models import UNFULFILLED_STATUSES, WooAddress, WooOrder, WooRefund
from integrations.woocommerce.webhooks import WooCommerceWebhooks

REFUND_MARKER_PREFIX = "support-agent:"
STRIPE_INTENT_META = "stripe_payment_intent"


class GatewayCannotRefund(VendorError):
    """The order's payment gateway cannot refund automatically: a person refunds it by hand."""


def _address(address: WooAddress) -> Address | None:
    if not address.address_1 or not address.city or not address.postcode:
        return None
    return Address(
        name=address.name or None,
        address1=address.address_1,
        address2=address.address_2 or None,
        city=address.city,
        province_code=address.state or None,
        zip=address.postcode,
        country_code=address.country or "US",
        phone=address.phone or None,
    )


def _refunded_quantities(refunds: Sequence[WooRefund]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for refund in refunds:
        for line in refund.line_items:
            item_id = line.refunded_item_id()
            if item_id is not None:
                counts[item_id] = counts.get(item_id, 0) + abs(line.quantity)
    return counts


def _financial_status(order: WooOrder) -> str:
    refunded = order.refunded_total
    if order.status == "refunded" or (refunded > 0 and refunded >= order.total):
        return "refunded"
    if refunded > 0:
        return "partially_refunded"
    if order.status in ("pending", "failed"):
        return "pending"
    return "paid"


class WooCommerceCommerce(CachedStore[WooOrder], CarrierTracked):
    """`CommerceBackend` over the WooCommerce REST API v3."""

    def __init__(
        self,
        client: WooCommerceClient,
        *,
        webhooks: WooCommerceWebhooks | None = None,
        track: Track | None = None,
        clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client: WooCommerceClient = client
        self.webhooks = webhooks or WooCommerceWebhooks(secret="")
        self._track = track
        self._clock = clock or (lambda: datetime.now(UTC))
        self._now = monotonic
        self._orders: dict[str, tuple[float, WooOrder]] = {}
        self._tags: dict[int, tuple[float, tuple[str, ...]]] = {}
        self._tracked: dict[str, tuple[float, TrackingStatus]] = {}

    # ------------------------------------------------------------------ cache

    def clear_cache(self) -> None:
        self._orders.clear()
        self._tags.clear()
        self._tracked.clear()

    async def _shipments(self, order: WooOrder) -> tuple[Shipment, ...]:
        shipments = []
        for index, item in enumerate(order.tracking_items()):
            word = await self._carrier_word(item.tracking_number, item.carrier, item.shipped_at)
            shipments.append(
                Shipment(
                    id=item.tracking_id or f"{order.id}-{index}",
                    carrier=item.carrier,
                    tracking_number=item.tracking_number,
                    tracking_url=item.custom_tracking_link or None,
                    status=word.status,
                    shipped_at=item.shipped_at,
                    delivered_at=word.delivered_at,
                    delivery_unconfirmed=word.unconfirmed,
                    line_item_ids=tuple(str(li.id) for li in order.line_items),
                )
            )
        return tuple(shipments)

    async def to_domain(self, order: WooOrder) -> Order:
        refunds = await self._client.list_refunds(order.id) if order.refunds else []
        refunded = _refunded_quantities(refunds)
        items = []
        for item in order.line_items:
            items.append(
                LineItem(
                    id=str(item.id),
                    title=item.name,
                    sku=item.sku or None,
                    quantity=item.quantity,
                    unit_price=(item.subtotal / item.quantity) if item.quantity else item.price,
                    discount=item.discount,
                    tax=item.total_tax,
                    product_id=str(item.product_id) if item.product_id else None,
                    tags=await self._product_tags(item.product_id),
                    refunded_quantity=refunded.get(item.id, 0),
                )
            )
        shipments = await self._shipments(order)
        shipping_refunded = sum(
            (abs(line.total) for r in refunds for line in r.shipping_lines),
            ZERO,
        )
        intent = order.meta(STRIPE_INTENT_META)
        external = isinstance(intent, str) and bool(intent)
        cancelled = order.status == "cancelled"
        return Order(
            id=str(order.id),
            number=order.number,
            email=order.billing.email or "",
            customer_id=str(order.customer_id) if order.customer_id else None,
            created_at=order.date_created_gmt or datetime.fromtimestamp(0, UTC),
            currency=order.currency,
            financial_status=_financial_status(order),
            fulfillment_status="fulfilled" if shipments or order.status == "completed" else None,
            cancelled_at=(order.date_modified_gmt or self._clock()) if cancelled else None,
            total=order.total,
            subtotal=sum((i.total for i in order.line_items), ZERO),
            tax=order.total_tax,
            shipping=order.shipping_total,
            shipping_tax=order.shipping_tax,
            shipping_refunded=shipping_refunded,
            refunded_total=order.refunded_total,
            items=tuple(items),
            shipments=shipments,
            shipping_address=_address(order.shipping),
            payment_processor="stripe" if external else "platform",
            payment_reference=str(intent) if external else None,
            note=None,
            tags=(order.status,),
        )

    # ------------------------------------------------------------------ CommerceBackend

    async def find_order(self, number: str) -> Order | None:
        digits = "".join(ch for ch in str(number) if ch.isdigit())
        if not digits:
            return None
        order = await self._by_number(digits)
        return await self.to_domain(order) if order is not None else None

    async def hidden_by_history_window(self, number: str) -> int | None:
        return None  # the REST API reads every order

    async def recent_orders(self, email: str, limit: int = 5) -> list[Order]:
        orders = await self._client.orders_by_email(email, limit=limit)
        return [await self.to_domain(o) for o in orders[:limit]]

    async def get_order(self, order_id: str) -> Order:
        return await self.to_domain(await self._client.get_order(int(order_id)))

    async def append_note(self, order_id: str, text: str) -> None:
        """A private order note (notes are a list in WooCommerce: nothing is overwritten)."""
        notes = await self._client.list_notes(int(order_id))
        if any(n.note == text for n in notes):
            return
        await self._client.add_note(int(order_id), text, customer_note=False)

    async def quote_refund(
        self, order_id: str, lines: Sequence[RefundLine] | None, *, include_shipping: bool = False
    ) -> RefundQuote:
        order = await self.get_order(order_id)
        if lines is None:
            lines = [
                RefundLine(line_item_id=i.id, quantity=i.quantity - i.refunded_quantity)
                for i in order.items
                if i.quantity > i.refunded_quantity
            ]
        amount = min(order.refund_amount(lines, include_shipping=include_shipping), order.refundable)
        return RefundQuote(
            order_id=order_id,
            amount=amount,
            currency=order.currency,
            lines=tuple(lines),
            include_shipping=include_shipping,
        )

    async def find_refund(self, order_id: str, idempotency_key: str) -> RefundRecord | None:
        marker = f"[{REFUND_MARKER_PREFIX}{idempotency_key}]"
        currency = (await self._client.get_order(int(order_id))).currency
        for existing in await self._client.list_refunds(int(order_id)):
            if marker in existing.reason:
                return self._record(existing, currency)
        return None

    def _refund_lines(
        self, raw: WooOrder, order: Order, lines: Sequence[RefundLine], include_shipping: bool
    ) -> list[dict[str, Any]]:
        """`line_items` of a refund: each unit's share of the line total and of each of its taxes."""
        by_id = {i.id: i for i in raw.line_items}
        domain = {i.id: i for i in order.items}
        payload: list[dict[str, Any]] = []
        for line in lines:
            item, seen = by_id[int(line.line_item_id)], domain[line.line_item_id]
            whole, done, more = (
                Decimal(item.quantity),
                Decimal(seen.refunded_quantity),
                Decimal(line.quantity),
            )
            payload.append(
                {
                    "id": item.id,
                    "quantity": line.quantity,
                    "refund_total": str(share_of(item.total, whole, done, more)),
                    "refund_tax": [
                        {"id": tax.id, "refund_total": str(share_of(tax.total, whole, done, more))}
                        for tax in item.taxes
                    ],
                }
            )
        if include_shipping:
            left = max(ZERO, order.shipping - order.shipping_refunded)
            for shipping in raw.shipping_lines:
                if left <= 0:
                    break
                part = min(left, shipping.total)
                payload.append(
                    {
                        "id": shipping.id,
                        "refund_total": str(part),
                        "refund_tax": [],
                    }
                )
                left -= part
        return payload

    async def refund(self, quote: RefundQuote, *, note: str, idempotency_key: str) -> RefundRecord:
        """Refund at most the quote, once per key (looked up first: a retry finds the first one)."""
        existing = await self.find_refund(quote.order_id, idempotency_key)
        if existing is not None:
            return existing
        try:
            raw = await self._client.get_order(int(quote.order_id))
            order = await self.to_domain(raw)
            amount = min(
                order.refund_amount(quote.lines, include_shipping=quote.include_shipping),
                order.refundable,
                quote.amount,
            )
            refund = await self._client.create_refund(
                int(quote.order_id),
                amount=amount,
                reason=f"{note} [{REFUND_MARKER_PREFIX}{idempotency_key}]",
                line_items=self._refund_lines(raw, order, quote.lines, quote.include_shipping),
                api_refund=True,
            )
        except VendorError as exc:
            # WooCommerce answers 500 `woocommerce_rest_cannot_create_order_refund` with the
            # gateway's words: "... does not support automatic refunds."
            if "automatic refunds" in str(exc).lower():
                raise GatewayCannotRefund(
                    VENDOR,
                    "the order's payment gateway cannot refund automatically; refund it by hand in "
                    "WooCommerce (Orders > Refund > Refund manually) and then with the payment provider",
                    status=422,  # refused, not an outage: the tools offer a person instead of "try later"
                ) from None
            raise
        finally:
            self._forget(quote.order_id)
        return self._record(refund, quote.currency)

    @staticmethod
    def _record(refund: WooRefund, currency: str) -> RefundRecord:
        return RefundRecord(
            id=str(refund.id),
            processor="woocommerce",
            amount=refund.amount,
            currency=currency,
            created_at=refund.date_created_gmt,
        )

    async def _unfulfilled(self, order_id: str) -> WooOrder:
        raw = await self._client.get_order(int(order_id))
        if raw.status not in UNFULFILLED_STATUSES or raw.tracking_items():
            raise VendorError(
                VENDOR, f"order {raw.number} is {raw.status} and can no longer be changed", status=400
            )
        return raw

    async def cancel(self, order_id: str, *, reason: str, idempotency_key: str) -> Order:
        try:
            raw = await self._client.get_order(int(order_id))
            if raw.status == "cancelled":
                return await self.to_domain(raw)
            resumed = (
                raw.status == "refunded" and await self.find_refund(order_id, idempotency_key) is not None
            )
            if not resumed:  # (a retry after our refund went through: only the status is left to set)
                raw = await self._unfulfilled(order_id)
            await self.append_note(
                order_id, f"Cancelled at the shopper's request: {reason} [ref {idempotency_key}]"
            )
            order = await self.to_domain(raw)
            if order.payment_processor == "platform" and raw.status != "pending" and order.refundable > 0:
                quote = await self.quote_refund(order_id, None, include_shipping=True)
                if quote.amount > 0:
                    await self.refund(quote, note="Order cancelled", idempotency_key=idempotency_key)
            updated = await self._client.update_order(int(order_id), {"status": "cancelled"})
        finally:
            self._forget(order_id)
        return await self.to_domain(updated)

    async def update_shipping_address(self, order_id: str, address: Address) -> Order:
        first, _, last = (address.name or "").partition(" ")
        shipping = {
            "first_name": first,
            "last_name": last,
            "address_1": address.address1,
            "address_2": address.address2 or "",
            "city": address.city,
            "state": address.province_code or "",
            "postcode": address.zip,
            "country": address.country_code,
        }
        try:
            await self._unfulfilled(order_id)
            updated = await self._client.update_order(int(order_id), {"shipping": shipping})
        finally:
            self._forget(order_id)
        return await self.to_domain(updated)

"""Shopify as the project's `CommerceBackend`: maps Shopify payloads to our domain models.

Reads of the same order repeat within a turn (verify, check, preview, act), while Shopify allows
about two calls a second, so orders and product tags are cached briefly. Every write we make
and every Shopify webhook drops the cached order, so a tool never acts on stale data it caused.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal

from integrations._http import IntegrationError
from integrations._store_cache import CachedStore
from integrations.domain import (
    Address,
    LineItem,
    Order,
    RefundLine,
    RefundQuote,
    RefundRecord,
    Shipment,
)
from integrations.shopify.client import REFUND_MARKER_PREFIX, ShopifyClient
from integrations.shopify.models import (
    ORDER_HISTORY_DAYS,
    READ_ALL_ORDERS,
    ShopifyAddress,
    ShopifyOrder,
    ShopifyRefund,
    granted_scopes,
)
from integrations.shopify.webhooks import ShopifyWebhooks

STRIPE_INTENT_ATTRIBUTE = "stripe_payment_intent"
EXTERNAL_PROCESSORS = {"stripe"}


def _address(address: ShopifyAddress | None) -> Address | None:
    if address is None or not address.address1 or not address.city or not address.zip:
        return None
    name = address.name or " ".join(p for p in (address.first_name, address.last_name) if p) or None
    return Address(
        name=name,
        address1=address.address1,
        address2=address.address2,
        city=address.city,
        province_code=address.province_code,
        zip=address.zip,
        country_code=address.country_code or "US",
        phone=address.phone,
    )


def _line_taxes(order: ShopifyOrder) -> dict[int, Decimal]:
    """Each line's tax: its `tax_lines`, or (payloads without them) its share of the order's tax."""
    if any(item.tax_lines for item in order.line_items):
        return {item.id: item.tax for item in order.line_items}
    nets = {item.id: item.price * item.quantity - item.discount for item in order.line_items}
    base = sum(nets.values(), Decimal("0"))
    total = order.total_tax or Decimal("0")
    if base <= 0 or total <= 0:
        return dict.fromkeys(nets, Decimal("0"))
    shares = {
        lid: (total * net / base).quantize(Decimal("0.01"), rounding=ROUND_DOWN) for lid, net in nets.items()
    }
    leftover = int((total - sum(shares.values(), Decimal("0"))) / Decimal("0.01"))
    for lid in sorted(nets, key=lambda i: -(total * nets[i] / base - shares[i]))[:leftover]:
        shares[lid] += Decimal("0.01")
    return shares


class ShopifyCommerce(CachedStore[ShopifyOrder]):
    """`CommerceBackend` over the Shopify Admin REST API."""

    HISTORY_TTL_SECONDS = 600.0  # the token's scopes and the oldest order it can see

    def __init__(
        self,
        client: ShopifyClient,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        webhooks: ShopifyWebhooks | None = None,
    ) -> None:
        self._client: ShopifyClient = client
        self._now = monotonic
        self.webhooks = webhooks or ShopifyWebhooks(secret="")  # without a secret, every delivery is refused
        self._orders: dict[str, tuple[float, ShopifyOrder]] = {}
        self._tags: dict[int, tuple[float, tuple[str, ...]]] = {}
        self._history: tuple[float, bool, int | None] | None = None

    # ------------------------------------------------------------------ cache

    def clear_cache(self) -> None:
        self._orders.clear()
        self._tags.clear()
        self._history = None

    # ------------------------------------------------------------------ mapping

    async def to_domain(self, order: ShopifyOrder) -> Order:
        refunded = order.refunded_quantities()
        taxes = _line_taxes(order)
        items = []
        for item in order.line_items:
            items.append(
                LineItem(
                    id=str(item.id),
                    title=item.name or item.title,
                    sku=item.sku,
                    quantity=item.quantity,
                    unit_price=item.price,
                    discount=item.discount,
                    tax=taxes[item.id],
                    product_id=str(item.product_id) if item.product_id else None,
                    tags=await self._product_tags(item.product_id),
                    refunded_quantity=refunded.get(item.id, 0),
                )
            )
        shipments = []
        for fulfilment in order.fulfillments:
            if fulfilment.status in ("cancelled", "error", "failure"):
                continue
            delivered = fulfilment.shipment_status == "delivered"
            shipments.append(
                Shipment(
                    id=str(fulfilment.id),
                    carrier=fulfilment.tracking_company,
                    tracking_number=fulfilment.tracking_number
                    or (fulfilment.tracking_numbers[0] if fulfilment.tracking_numbers else None),
                    tracking_url=fulfilment.tracking_url
                    or (fulfilment.tracking_urls[0] if fulfilment.tracking_urls else None),
                    status=fulfilment.shipment_status,
                    shipped_at=fulfilment.created_at,
                    # Shopify updates the fulfilment when the carrier reports delivery.
                    delivered_at=(fulfilment.updated_at or fulfilment.created_at) if delivered else None,
                    line_item_ids=tuple(str(li.id) for li in fulfilment.line_items),
                )
            )
        intent = order.note_attribute(STRIPE_INTENT_ATTRIBUTE)
        external = any(g in EXTERNAL_PROCESSORS for g in order.gateways) and intent is not None
        shipping = sum((line.charged for line in order.shipping_lines), Decimal("0"))
        customer_id = str(order.customer.id) if order.customer else None
        return Order(
            id=str(order.id),
            number=str(order.order_number),
            email=order.email or (order.customer.email if order.customer and order.customer.email else ""),
            customer_id=customer_id,
            created_at=order.created_at or order.processed_at or datetime.fromtimestamp(0, UTC),
            currency=order.currency,
            financial_status=order.financial_status,
            fulfillment_status=order.fulfillment_status,
            cancelled_at=order.cancelled_at,
            total=order.total_price,
            subtotal=order.subtotal_price or Decimal("0"),
            tax=order.total_tax or Decimal("0"),
            shipping=shipping,
            shipping_tax=sum((line.tax for line in order.shipping_lines), Decimal("0")),
            shipping_refunded=order.shipping_refunded,
            refunded_total=order.total_refunded,
            items=tuple(items),
            shipments=tuple(shipments),
            shipping_address=_address(order.shipping_address),
            payment_processor="stripe" if external else "platform",
            payment_reference=intent if external else None,
            note=order.note,
            tags=tuple(order.tag_list),
        )

    # ------------------------------------------------------------------ CommerceBackend

    async def find_order(self, number: str) -> Order | None:
        digits = "".join(ch for ch in str(number) if ch.isdigit())
        if not digits:
            return None
        order = await self._by_number(digits)
        return await self.to_domain(order) if order is not None else None

    async def hidden_by_history_window(self, number: str) -> int | None:
        """60 (days) when order `number` may exist but is older than this token may read.

        Without `read_all_orders` Shopify shows only the orders created in the last 60 days, and
        order numbers grow with time: a number below the oldest visible order's is such an order
        (or a mistyped one, which a person sorts out as well). None when the token reads every
        order, the number is not below the window, or Shopify cannot tell right now.
        """
        digits = "".join(ch for ch in str(number) if ch.isdigit())
        if not digits:
            return None
        try:
            reads_all, oldest = await self._history_window()
        except IntegrationError:
            return None
        if reads_all or (oldest is not None and int(digits) >= oldest):
            return None
        return ORDER_HISTORY_DAYS

    async def _history_window(self) -> tuple[bool, int | None]:
        """(the token reads every order, the number of the oldest order it sees), cached a while."""
        if self._history is not None and self._now() - self._history[0] < self.HISTORY_TTL_SECONDS:
            return self._history[1], self._history[2]
        reads_all = READ_ALL_ORDERS in granted_scopes(await self._client.access_scopes())
        oldest = None if reads_all else await self._client.oldest_visible_order()
        number = oldest.order_number if oldest is not None else None
        self._history = (self._now(), reads_all, number)
        return reads_all, number

    async def recent_orders(self, email: str, limit: int = 5) -> list[Order]:
        orders = await self._client.orders_by_email(email, limit=limit)
        return [await self.to_domain(o) for o in orders[:limit]]

    async def get_order(self, order_id: str) -> Order:
        return await self.to_domain(await self._client.get_order(int(order_id)))

    async def append_note(self, order_id: str, text: str) -> None:
        await self._client.append_order_note(int(order_id), text)
        self._forget(order_id)

    async def quote_refund(
        self, order_id: str, lines: Sequence[RefundLine] | None, *, include_shipping: bool = False
    ) -> RefundQuote:
        pairs = None if lines is None else [(int(line.line_item_id), line.quantity) for line in lines]
        calculation = await self._client.calculate_refund(
            int(order_id), line_items=pairs, shipping_full=include_shipping
        )
        return RefundQuote(
            order_id=order_id,
            amount=calculation.amount,
            currency=calculation.currency or "USD",
            lines=tuple(lines or ()),
            include_shipping=include_shipping,
        )

    async def find_refund(self, order_id: str, idempotency_key: str) -> RefundRecord | None:
        marker = f"[{REFUND_MARKER_PREFIX}{idempotency_key}]"
        order = await self.get_order(order_id)
        for existing in await self._client.list_refunds(int(order_id)):
            if marker in (existing.note or ""):
                return self._record(existing, order.currency)
        return None

    async def refund(self, quote: RefundQuote, *, note: str, idempotency_key: str) -> RefundRecord:
        """Recalculate (the order may have changed since the quote) and refund at most the quote.

        A refund this key already made (a retry after Shopify applied it, or a lost ledger) is
        returned as it is: looked up first, because the recalculation would find nothing left.
        """
        pairs = [(int(line.line_item_id), line.quantity) for line in quote.lines] or None
        marker = f"[{REFUND_MARKER_PREFIX}{idempotency_key}]"
        for existing in await self._client.list_refunds(int(quote.order_id)):
            if marker in (existing.note or ""):
                return self._record(existing, quote.currency)
        try:
            calculation = await self._client.calculate_refund(
                int(quote.order_id), line_items=pairs, shipping_full=quote.include_shipping
            )
            amount = min(calculation.amount, quote.amount)
            refund = await self._client.create_refund(
                int(quote.order_id),
                calculation,
                note=note,
                amount=amount if amount != calculation.amount else None,
                idempotency_key=idempotency_key,
            )
        finally:
            self._forget(quote.order_id)
        return self._record(refund, quote.currency)

    @staticmethod
    def _record(refund: ShopifyRefund, currency: str) -> RefundRecord:
        total = sum((t.amount for t in refund.transactions if t.kind == "refund"), Decimal("0"))
        return RefundRecord(
            id=str(refund.id),
            processor="shopify",
            amount=total,
            currency=currency,
            created_at=refund.created_at,
        )

    async def cancel(self, order_id: str, *, reason: str, idempotency_key: str) -> Order:
        # Shopify's cancel reasons are a fixed list; the shopper's words go into the note.
        try:
            await self.append_note(
                order_id, f"Cancelled at the shopper's request: {reason} [ref {idempotency_key}]"
            )
            cancellation = await self._client.cancel_order(int(order_id), reason="customer", refund=True)
        finally:
            self._forget(order_id)
        order = await self.to_domain(cancellation.order)
        if not order.is_cancelled:
            # Accepted: Shopify's background job has not marked the order yet (its answer may show
            # `cancelled_at: null`), which must not read as a cancellation that failed.
            order = order.model_copy(update={"cancelled_at": self._client.now()})
        return order

    async def update_shipping_address(self, order_id: str, address: Address) -> Order:
        first, _, last = (address.name or "").partition(" ")
        payload = {
            "first_name": first or None,
            "last_name": last or None,
            "name": address.name,
            "address1": address.address1,
            "address2": address.address2,
            "city": address.city,
            "province_code": address.province_code,
            "zip": address.zip,
            "country_code": address.country_code,
            "phone": address.phone,
        }
        try:
            updated = await self._client.update_shipping_address(int(order_id), payload)
        finally:
            self._forget(order_id)
        return await self.to_domain(updated)

"""Shopify as the project's `CommerceBackend`: maps GraphQL Admin answers to our domain models.

Reads of the same order repeat within a turn (verify, check, preview, act), and each costs points
of Shopify's query-cost bucket, so orders and product tags are cached briefly. Every write we make
and every Shopify webhook drops the cached order, so a tool never acts on stale data it caused.
Shopify's global ids (`gid://shopify/Order/123`) stop here: the domain carries the numbers.
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
from integrations.shopify import operations as ops
from integrations.shopify.client import REFUND_MARKER_PREFIX, ShopifyGraphQLClient
from integrations.shopify.models import ORDER_HISTORY_DAYS, READ_ALL_ORDERS, granted_scopes
from integrations.shopify.webhooks import ShopifyWebhooks

STRIPE_INTENT_ATTRIBUTE = "stripe_payment_intent"
EXTERNAL_PROCESSORS = {"stripe"}
NOT_SHIPPED = ("CANCELLED", "ERROR", "FAILURE")
# Fulfilment display statuses that say nothing about the parcel's journey (REST had no shipment status).
NO_SHIPMENT_STATUS = ("FULFILLED", "MARKED_AS_FULFILLED", "SUBMITTED", "CONFIRMED")
FINANCIAL_STATUS = {"PARTIALLY_PAID": "partially_paid", "PARTIALLY_REFUNDED": "partially_refunded"}
FULFILLMENT_STATUS = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}


def _address(address: ops.MailingAddress | None) -> Address | None:
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
        country_code=address.country_code_v2 or "US",
        phone=address.phone,
    )


def _line_taxes(order: ops.Order) -> dict[str, Decimal]:
    """Each line's tax: its tax lines, or (orders without them) its share of the order's tax."""
    if any(item.tax_lines for item in order.line_items):
        return {item.id: item.tax for item in order.line_items}
    nets = {item.id: item.unit_price * item.quantity - item.discount for item in order.line_items}
    base = sum(nets.values(), Decimal("0"))
    total = order.total_tax
    if base <= 0 or total <= 0:
        return dict.fromkeys(nets, Decimal("0"))
    shares = {
        lid: (total * net / base).quantize(Decimal("0.01"), rounding=ROUND_DOWN) for lid, net in nets.items()
    }
    leftover = int((total - sum(shares.values(), Decimal("0"))) / Decimal("0.01"))
    for lid in sorted(nets, key=lambda i: -(total * nets[i] / base - shares[i]))[:leftover]:
        shares[lid] += Decimal("0.01")
    return shares


def _shipment(fulfilment: ops.Fulfillment) -> Shipment:
    tracking = fulfilment.tracking_info[0] if fulfilment.tracking_info else ops.TrackingInfo()
    display = fulfilment.display_status
    status = None if display is None or display in NO_SHIPMENT_STATUS else display.lower()
    delivered = status == "delivered"
    return Shipment(
        id=str(ops.legacy_id(fulfilment.id)),
        carrier=tracking.company,
        tracking_number=tracking.number,
        tracking_url=tracking.url,
        status=status,
        shipped_at=fulfilment.created_at,
        delivered_at=(fulfilment.delivered_at or fulfilment.updated_at or fulfilment.created_at)
        if delivered
        else None,
        line_item_ids=tuple(str(ops.legacy_id(li.line_item.id)) for li in fulfilment.fulfillment_line_items),
    )


class ShopifyCommerce(CachedStore[ops.Order]):
    """`CommerceBackend` over the Shopify GraphQL Admin API."""

    HISTORY_TTL_SECONDS = 600.0  # the token's scopes and the oldest order it can see

    def __init__(
        self,
        client: ShopifyGraphQLClient,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        webhooks: ShopifyWebhooks | None = None,
    ) -> None:
        self._client: ShopifyGraphQLClient = client
        self._now = monotonic
        self.webhooks = webhooks or ShopifyWebhooks(secret="")  # without a secret, every delivery is refused
        self._orders: dict[str, tuple[float, ops.Order]] = {}
        self._tags: dict[int, tuple[float, tuple[str, ...]]] = {}
        self._history: tuple[float, bool, int | None] | None = None

    # ------------------------------------------------------------------ cache

    def clear_cache(self) -> None:
        self._orders.clear()
        self._tags.clear()
        self._history = None

    def _forget(self, order_id: str) -> None:
        wanted = ops.legacy_id(str(order_id))
        for key, (_, order) in list(self._orders.items()):
            if ops.legacy_id(str(order.id)) == wanted:
                del self._orders[key]

    async def _product_tags(self, product_id: int | None) -> tuple[str, ...]:
        if not product_id:
            return ()
        cached = self._tags.get(product_id)
        if cached and self._now() - cached[0] < self.PRODUCT_TTL_SECONDS:
            return cached[1]
        tags = tuple(await self._client.get_product_tags(product_id))
        self._tags[product_id] = (self._now(), tags)
        return tags

    # ------------------------------------------------------------------ mapping

    async def to_domain(self, order: ops.Order) -> Order:
        refunded = order.refunded_quantities()
        taxes = _line_taxes(order)
        items = []
        for item in order.line_items:
            line_id = ops.legacy_id(item.id)
            product_id = ops.legacy_id(item.product.id) if item.product else None
            items.append(
                LineItem(
                    id=str(line_id),
                    title=item.name or item.title,
                    sku=item.sku,
                    quantity=item.quantity,
                    unit_price=item.unit_price,
                    discount=item.discount,
                    tax=taxes[item.id],
                    product_id=str(product_id) if product_id else None,
                    tags=await self._product_tags(product_id),
                    refunded_quantity=refunded.get(line_id, 0),
                )
            )
        shipments = [_shipment(f) for f in order.fulfillments if f.status not in NOT_SHIPPED]
        intent = order.attribute(STRIPE_INTENT_ATTRIBUTE)
        external = any(g in EXTERNAL_PROCESSORS for g in order.payment_gateway_names) and intent is not None
        shipping = sum((line.discounted_price_set.amount for line in order.shipping_lines), Decimal("0"))
        customer = order.customer
        financial = order.display_financial_status
        return Order(
            id=str(order.legacy_id),
            number=str(order.number),
            email=order.email or (customer.email if customer and customer.email else ""),
            customer_id=str(ops.legacy_id(customer.id)) if customer else None,
            created_at=order.created_at or order.processed_at or datetime.fromtimestamp(0, UTC),
            currency=order.currency_code,
            financial_status=FINANCIAL_STATUS.get(financial, financial.lower()) if financial else None,
            fulfillment_status=FULFILLMENT_STATUS.get(order.display_fulfillment_status or ""),
            cancelled_at=order.cancelled_at,
            total=order.total,
            subtotal=order.subtotal,
            tax=order.total_tax,
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
            tags=tuple(order.tags),
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
        number = oldest.number if oldest is not None else None
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
        suggestion = await self._client.suggest_refund(
            int(order_id), line_items=pairs, shipping_full=include_shipping
        )
        return RefundQuote(
            order_id=order_id,
            amount=suggestion.amount,
            currency=suggestion.amount_set.shop_money.currency_code or "USD",
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
        """Ask again (the order may have changed since the quote) and refund at most the quote.

        A refund this key already made (a retry after Shopify applied it, or a lost ledger) is
        returned as it is: looked up first, because the new suggestion would find nothing left.
        """
        pairs = [(int(line.line_item_id), line.quantity) for line in quote.lines] or None
        marker = f"[{REFUND_MARKER_PREFIX}{idempotency_key}]"
        for existing in await self._client.list_refunds(int(quote.order_id)):
            if marker in (existing.note or ""):
                return self._record(existing, quote.currency)
        try:
            suggestion = await self._client.suggest_refund(
                int(quote.order_id), line_items=pairs, shipping_full=quote.include_shipping
            )
            amount = min(suggestion.amount, quote.amount)
            refund = await self._client.create_refund(
                int(quote.order_id),
                suggestion,
                note=note,
                amount=amount if amount != suggestion.amount else None,
                idempotency_key=idempotency_key,
            )
        finally:
            self._forget(quote.order_id)
        return self._record(refund, quote.currency)

    @staticmethod
    def _record(refund: ops.Refund, currency: str) -> RefundRecord:
        total = sum((t.amount for t in refund.transactions if t.kind == "REFUND"), Decimal("0"))
        return RefundRecord(
            id=str(ops.legacy_id(refund.id)),
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
            cancelled = await self._client.cancel_order(int(order_id), reason="CUSTOMER", refund=True)
        finally:
            self._forget(order_id)
        order = await self.to_domain(cancelled)
        if not order.is_cancelled:
            # The job is done but a read may trail it for a moment: that must not read as a
            # cancellation that failed.
            order = order.model_copy(update={"cancelled_at": self._client.now()})
        return order

    async def update_shipping_address(self, order_id: str, address: Address) -> Order:
        first, _, last = (address.name or "").partition(" ")
        payload = {
            "firstName": first or None,
            "lastName": last or None,
            "address1": address.address1,
            "address2": address.address2,
            "city": address.city,
            "provinceCode": address.province_code,
            "zip": address.zip,
            "countryCode": address.country_code,
            "phone": address.phone,
        }
        try:
            updated = await self._client.update_shipping_address(int(order_id), payload)
        finally:
            self._forget(order_id)
        return await self.to_domain(updated)

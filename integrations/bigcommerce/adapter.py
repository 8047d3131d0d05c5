"""BigCommerce as the project's `CommerceBackend`: maps V2 orders and V3 refunds to our domain models.

- Order numbers are BigCommerce order ids; the shopper's email is the billing address's.
- An order is read from four V2 resources (the order, its products, shipping addresses and
  shipments) and its V3 metafields (an order paid outside BigCommerce carries the Stripe payment
  intent in a metafield `stripe_payment_intent`). BigCommerce never learns of a delivery either:
  with a `track` function (EasyPost, through the `Shipping` port) a parcel's delivery is the carrier's.
- Refunds go through BigCommerce's own arithmetic: a V3 refund quote for the items (products by
  quantity, shipping by amount against the shipping address), then a refund paying the quoted amount
  back through one of the quote's refund methods. A method may combine several providers (a card
  and store credit): all of its providers are paid together. We prefer giving the money back the
  way it was paid (an online method that is not store credit alone, unless store credit paid for
  everything); when only offline methods remain (bank deposit, cash on delivery, a manual
  provider) nothing moves and we say so (`RefundNeedsAPerson`).
- Cancelling is a status change (`status_id` 5), which returns no money in BigCommerce: a paid
  order is refunded first. Only orders not shipped yet (Pending, Awaiting Payment / Shipment /
  Fulfillment, Manual Verification) and without a shipment may be cancelled or re-addressed.
- Staff notes are one text field: a line is appended to what is there, never overwritten.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from integrations._http import IntegrationError, NotFound, VendorError
from integrations._store_cache import CachedStore, CarrierTracked, Track
from integrations.bigcommerce.client import VENDOR, BigCommerceClient
from integrations.bigcommerce.models import (
    CANCELLED,
    REFUNDED,
    STATUS_NAMES,
    STRIPE_INTENT_KEY,
    UNPAID_STATUSES,
    UNSHIPPED_STATUSES,
    BcOrder,
    BcPaymentOption,
    BcRefund,
    BcRefundQuote,
    BcShippingAddress,
)
from integrations.bigcommerce.webhooks import BigCommerceWebhooks
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
)
from integrations.events import StoreEvent

REFUND_MARKER_PREFIX = "support-agent:"


class RefundNeedsAPerson(VendorError):
    """BigCommerce offers only offline refund methods for this order: a person refunds it by hand."""


def _address(address: BcShippingAddress | None) -> Address | None:
    if address is None or not address.street_1 or not address.city or not address.zip:
        return None
    return Address(
        name=address.name or None,
        address1=address.street_1,
        address2=address.street_2 or None,
        city=address.city,
        province_code=address.state or None,
        zip=address.zip,
        country_code=address.country_iso2 or "US",
        phone=address.phone or None,
    )


def _financial_status(order: BcOrder) -> str:
    if order.status_id == REFUNDED or (
        order.refunded_amount > 0 and order.refunded_amount >= order.total_inc_tax
    ):
        return "refunded"
    if order.refunded_amount > 0:
        return "partially_refunded"
    if order.status_id in UNPAID_STATUSES:
        return "pending"
    return "paid"


def _store_credit_only(order: BcOrder) -> bool:
    return order.store_credit_amount >= order.total_inc_tax > 0


def choose_refund_method(
    quote: BcRefundQuote, *, paid_with_store_credit_only: bool
) -> list[BcPaymentOption] | None:
    """The refund method paying the money back the way it was paid, or None when all are offline."""
    online = [m for m in quote.refund_methods if m and not any(o.offline for o in m)]
    if not paid_with_store_credit_only:
        online = [m for m in online if not all(o.provider_id == "storecredit" for o in m)]
    if not online:
        return None
    return max(online, key=len)  # a split payment is refunded split, as it was paid


class BigCommerceCommerce(CachedStore[BcOrder], CarrierTracked):
    """`CommerceBackend` over the BigCommerce V2 and V3 APIs."""

    def __init__(
        self,
        client: BigCommerceClient,
        *,
        webhooks: BigCommerceWebhooks | None = None,
        track: Track | None = None,
        clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client: BigCommerceClient = client
        self.webhooks = webhooks or BigCommerceWebhooks(secret="")
        self._track = track
        self._clock = clock or (lambda: datetime.now(UTC))
        self._now = monotonic
        self._orders: dict[str, tuple[float, BcOrder]] = {}
        self._tags: dict[int, tuple[float, tuple[str, ...]]] = {}
        self._tracked: dict[str, tuple[float, TrackingStatus]] = {}

    def clear_cache(self) -> None:
        self._orders.clear()
        self._tags.clear()
        self._tracked.clear()

    async def on_store_event(self, event: StoreEvent) -> None:
        """A delivery only names the order: drop what we hold and fetch it again."""
        self._forget(event.order_id)
        try:
            order = await self._client.get_order(int(event.order_id))
        except (IntegrationError, ValueError):
            return  # the next read fetches it
        if not order.is_deleted:
            self._orders[order.number] = (self._now(), order)

    # ------------------------------------------------------------------ reading

    async def _shipments(self, order: BcOrder) -> tuple[Shipment, ...]:
        if order.items_shipped == 0 and order.status_id in UNSHIPPED_STATUSES:
            return ()
        shipments = []
        for shipment in await self._client.shipments(order.id):
            if not shipment.tracking_number:
                continue
            word = await self._carrier_word(shipment.tracking_number, shipment.carrier, shipment.date_created)
            shipments.append(
                Shipment(
                    id=str(shipment.id),
                    carrier=shipment.carrier,
                    service=shipment.shipping_method or None,
                    tracking_number=shipment.tracking_number,
                    tracking_url=shipment.tracking_link or shipment.generated_tracking_link or None,
                    status=word.status,
                    shipped_at=shipment.date_created,
                    delivered_at=word.delivered_at,
                    delivery_unconfirmed=word.unconfirmed,
                    line_item_ids=tuple(str(i.order_product_id) for i in shipment.items),
                )
            )
        return tuple(shipments)

    async def _shipping_refunded(self, order: BcOrder) -> Decimal:
        if order.refunded_amount <= 0:
            return ZERO
        refunds = await self._client.list_refunds(order.id)
        return sum(
            (i.requested_amount or ZERO for r in refunds for i in r.items if i.item_type == "SHIPPING"), ZERO
        )

    async def _stripe_intent(self, order: BcOrder) -> str | None:
        for field in await self._client.order_metafields(order.id):
            if field.key == STRIPE_INTENT_KEY and field.value:
                return field.value
        return None

    async def to_domain(self, order: BcOrder) -> Order:
        products = await self._client.order_products(order.id)
        addresses = await self._client.shipping_addresses(order.id)
        items = [
            LineItem(
                id=str(p.id),
                title=p.name,
                sku=p.sku or None,
                quantity=p.quantity,
                unit_price=p.price_ex_tax,
                discount=p.discount,
                tax=p.total_tax,
                product_id=str(p.product_id) if p.product_id else None,
                tags=await self._product_tags(p.product_id),
                refunded_quantity=p.quantity_refunded,
            )
            for p in products
        ]
        shipments = await self._shipments(order)
        intent = await self._stripe_intent(order)
        fulfilled = bool(shipments) or (order.items_total > 0 and order.items_shipped >= order.items_total)
        return Order(
            id=str(order.id),
            number=order.number,
            email=order.email,
            customer_id=str(order.customer_id) if order.customer_id else None,
            created_at=order.date_created or datetime.fromtimestamp(0, UTC),
            currency=order.currency_code,
            financial_status=_financial_status(order),
            fulfillment_status="fulfilled" if fulfilled else ("partial" if order.items_shipped else None),
            cancelled_at=(order.date_modified or self._clock()) if order.status_id == CANCELLED else None,
            total=order.total_inc_tax,
            subtotal=sum((i.net for i in items), ZERO),
            tax=order.total_tax,
            shipping=order.shipping_cost_ex_tax,
            shipping_tax=order.shipping_cost_tax,
            shipping_refunded=await self._shipping_refunded(order),
            refunded_total=order.refunded_amount,
            items=tuple(items),
            shipments=shipments,
            shipping_address=_address(addresses[0] if addresses else None),
            payment_processor="stripe" if intent else "platform",
            payment_reference=intent,
            note=order.staff_notes or None,
            tags=(STATUS_NAMES.get(order.status_id, order.status),),
        )

    async def find_order(self, number: str) -> Order | None:
        digits = "".join(ch for ch in str(number) if ch.isdigit())
        if not digits:
            return None
        order = await self._by_number(digits)
        return await self.to_domain(order) if order is not None else None

    async def hidden_by_history_window(self, number: str) -> int | None:
        return None  # the API reads every order

    async def recent_orders(self, email: str, limit: int = 5) -> list[Order]:
        orders = await self._client.orders_by_email(email, limit=limit)
        return [await self.to_domain(o) for o in orders[:limit]]

    async def get_order(self, order_id: str) -> Order:
        return await self.to_domain(await self._client.get_order(int(order_id)))

    async def append_note(self, order_id: str, text: str) -> None:
        """A line added to the order's staff notes (read first: nothing is overwritten or repeated)."""
        order = await self._client.get_order(int(order_id))
        lines = order.staff_notes.splitlines()
        if text in lines:
            return
        await self._client.update_order(
            int(order_id), {"staff_notes": "\n".join([*lines, text]) if lines else text}
        )
        self._forget(order_id)

    # ------------------------------------------------------------------ refunds

    async def _quote_items(
        self, order_id: str, lines: Sequence[RefundLine], include_shipping: bool, reason: str | None = None
    ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = [
            {"item_type": "PRODUCT", "item_id": int(line.line_item_id), "quantity": line.quantity}
            for line in lines
        ]
        if include_shipping:
            order = await self._client.get_order(int(order_id))
            left = max(ZERO, order.shipping_cost_inc_tax - await self._shipping_refunded(order))
            for address in await self._client.shipping_addresses(int(order_id)):
                if left <= 0:
                    break
                part = min(left, address.cost_inc_tax)
                if part > 0:
                    items.append({"item_type": "SHIPPING", "item_id": address.id, "amount": float(part)})
                left -= part
        if reason is not None:
            for item in items:
                item["reason"] = reason
        return items

    async def quote_refund(
        self, order_id: str, lines: Sequence[RefundLine] | None, *, include_shipping: bool = False
    ) -> RefundQuote:
        """BigCommerce's own refund quote for these lines (all remaining when None)."""
        raw = await self._client.get_order(int(order_id))
        order = await self.to_domain(raw)
        if lines is None:
            lines = [
                RefundLine(line_item_id=i.id, quantity=i.quantity - i.refunded_quantity)
                for i in order.items
                if i.quantity > i.refunded_quantity
            ]
        items = await self._quote_items(order_id, lines, include_shipping)
        plan: tuple[dict[str, str], ...] = ()
        if not items:
            amount = ZERO
        else:
            quote = await self._client.refund_quote(int(order_id), items)
            amount = quote.total_refund_amount
            method = choose_refund_method(quote, paid_with_store_credit_only=_store_credit_only(raw))
            plan = tuple(
                {"provider_id": o.provider_id, "amount": str(o.amount), "offline": str(o.offline).lower()}
                for o in method or ()
            )
        return RefundQuote(
            order_id=order_id,
            amount=min(amount, order.refundable),
            currency=order.currency,
            lines=tuple(lines),
            include_shipping=include_shipping,
            plan=plan,
        )

    async def find_refund(self, order_id: str, idempotency_key: str) -> RefundRecord | None:
        marker = f"[{REFUND_MARKER_PREFIX}{idempotency_key}]"
        currency = (await self._client.get_order(int(order_id))).currency_code
        for existing in await self._client.list_refunds(int(order_id)):
            if existing.mentions(marker):
                return self._record(existing, currency)
        return None

    async def refund(self, quote: RefundQuote, *, note: str, idempotency_key: str) -> RefundRecord:
        """Refund the quoted items once per key (looked up first), through the quote's refund method,
        re-quoted now so the amounts BigCommerce checks are today's."""
        existing = await self.find_refund(quote.order_id, idempotency_key)
        if existing is not None:
            return existing
        try:
            raw = await self._client.get_order(int(quote.order_id))
            reason = f"{note} [{REFUND_MARKER_PREFIX}{idempotency_key}]"
            items = await self._quote_items(quote.order_id, quote.lines, quote.include_shipping, reason)
            if not items:
                raise VendorError(VENDOR, f"nothing left to refund on order {raw.number}", status=422)
            fresh = await self._client.refund_quote(int(quote.order_id), items)
            method = choose_refund_method(fresh, paid_with_store_credit_only=_store_credit_only(raw))
            if method is None:
                offline = sorted(
                    {o.provider_description or o.provider_id for m in fresh.refund_methods for o in m}
                )
                raise RefundNeedsAPerson(
                    VENDOR,
                    f"BigCommerce can refund order {raw.number} only offline ({', '.join(offline) or 'no method'}); "
                    "a person refunds it by hand in the control panel (Orders > Refund) and with the payment provider",
                    status=422,  # refused, not an outage: the tools offer a person instead of "try later"
                )
            if fresh.total_refund_amount > quote.amount:
                raise VendorError(
                    VENDOR,
                    f"the refund of order {raw.number} now comes to {fresh.total_refund_amount}, more than the "
                    f"{quote.amount} agreed",
                    status=409,
                )
            payments = [
                {"provider_id": o.provider_id, "amount": float(o.amount), "offline": o.offline}
                for o in method
            ]
            refund = await self._client.create_refund(int(quote.order_id), items, payments)
        finally:
            self._forget(quote.order_id)
        return self._record(refund, quote.currency)

    @staticmethod
    def _record(refund: BcRefund, currency: str) -> RefundRecord:
        declined = any(p.is_declined for p in refund.payments)
        return RefundRecord(
            id=str(refund.id),
            processor="bigcommerce",
            amount=refund.total_amount,
            currency=currency,
            created_at=refund.created,
            status="failed" if declined else "succeeded",
        )

    # ------------------------------------------------------------------ changes before shipping

    async def _unshipped(self, order_id: str) -> BcOrder:
        raw = await self._client.get_order(int(order_id))
        if (
            raw.status_id not in UNSHIPPED_STATUSES
            or raw.items_shipped > 0
            or await self._client.shipments(raw.id)
        ):
            raise VendorError(
                VENDOR,
                f"order {raw.number} is {STATUS_NAMES.get(raw.status_id, raw.status)} and can no longer be changed",
                status=400,
            )
        return raw

    async def cancel(self, order_id: str, *, reason: str, idempotency_key: str) -> Order:
        try:
            raw = await self._client.get_order(int(order_id))
            if raw.status_id == CANCELLED:
                return await self.to_domain(raw)
            resumed = (
                raw.status_id == REFUNDED and await self.find_refund(order_id, idempotency_key) is not None
            )
            if not resumed:  # (a retry after our refund went through: only the status is left to set)
                raw = await self._unshipped(order_id)
            await self.append_note(
                order_id, f"Cancelled at the shopper's request: {reason} [ref {idempotency_key}]"
            )
            order = await self.to_domain(raw)
            if (
                order.payment_processor == "platform"
                and raw.status_id not in UNPAID_STATUSES
                and order.refundable > 0
            ):
                quote = await self.quote_refund(order_id, None, include_shipping=True)
                if quote.amount > 0:
                    await self.refund(quote, note="Order cancelled", idempotency_key=idempotency_key)
            updated = await self._client.update_order(int(order_id), {"status_id": CANCELLED})
        finally:
            self._forget(order_id)
        return await self.to_domain(updated)

    async def update_shipping_address(self, order_id: str, address: Address) -> Order:
        first, _, last = (address.name or "").partition(" ")
        changes = {
            "first_name": first,
            "last_name": last,
            "street_1": address.address1,
            "street_2": address.address2 or "",
            "city": address.city,
            "state": address.province_code or "",
            "zip": address.zip,
            "country_iso2": address.country_code,
        }
        try:
            raw = await self._unshipped(order_id)
            addresses = await self._client.shipping_addresses(raw.id)
            if not addresses:
                raise NotFound(VENDOR, f"order {raw.number} has no shipping address to change", status=404)
            await self._client.update_shipping_address(raw.id, addresses[0].id, changes)
        finally:
            self._forget(order_id)
        return await self.get_order(order_id)

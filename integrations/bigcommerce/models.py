"""Pydantic models of the BigCommerce payloads we read (`/stores/{store_hash}/v2` and `/v3`).

Only the fields the adapter uses; everything else is ignored. V2 (orders, order products,
shipping addresses, shipments) writes money as decimal strings (`"29.3500"`) and dates in RFC 2822
(`"Tue, 05 Nov 2026 14:02:11 +0000"`); V3 (refund quotes and refunds, catalog, hooks) writes money
as numbers, dates in ISO 8601 or Unix seconds, and wraps every body in `{"data": ..., "meta": ...}`.
Shapes follow the published API reference (bigcommerce/docs, `reference/orders.v2.oas2.yml`,
`reference/orders.v3.yml`, `reference/webhooks.v3.yml`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

# BigCommerce's order status ids (GET /v2/order_statuses).
STATUS_NAMES: dict[int, str] = {
    0: "Incomplete",
    1: "Pending",
    2: "Shipped",
    3: "Partially Shipped",
    4: "Refunded",
    5: "Cancelled",
    6: "Declined",
    7: "Awaiting Payment",
    8: "Awaiting Pickup",
    9: "Awaiting Shipment",
    10: "Completed",
    11: "Awaiting Fulfillment",
    12: "Manual Verification Required",
    13: "Disputed",
    14: "Partially Refunded",
}
PENDING, SHIPPED, PARTIALLY_SHIPPED, REFUNDED, CANCELLED = 1, 2, 3, 4, 5
AWAITING_PAYMENT, AWAITING_SHIPMENT, COMPLETED, AWAITING_FULFILLMENT = 7, 9, 10, 11
MANUAL_VERIFICATION, PARTIALLY_REFUNDED = 12, 14
# Orders nobody has shipped yet: these may still be cancelled or re-addressed.
UNSHIPPED_STATUSES = frozenset(
    {PENDING, AWAITING_PAYMENT, AWAITING_SHIPMENT, AWAITING_FULFILLMENT, MANUAL_VERIFICATION}
)
# Orders not paid yet: cancelling them moves no money.
UNPAID_STATUSES = frozenset({0, PENDING, AWAITING_PAYMENT, 6})
MAX_V2_LIMIT = 250
# Shipment `shipping_provider` values as carriers name themselves (EasyPost too).
PROVIDER_NAMES = {
    "usps": "USPS",
    "endicia": "USPS",
    "ups": "UPS",
    "upsready": "UPS",
    "fedex": "FedEx",
    "dhl": "DHL",
}
STRIPE_INTENT_KEY = "stripe_payment_intent"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _rfc2822(value: Any) -> Any:
    """V2 dates are RFC 2822; an empty string means none."""
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return value  # an ISO 8601 date: pydantic reads it
    return value


def _money(value: Any) -> Any:
    return "0" if value in (None, "") else value


def _cents(value: Any) -> Any:
    """V3 money is a JSON number (`480.0`): as cents, the way it is paid."""
    if isinstance(value, int | float | str) and not isinstance(value, bool) and str(value).strip():
        try:
            return Decimal(str(value)).quantize(Decimal("0.01"))
        except ArithmeticError:
            return value
    return value


V2Date = Annotated[datetime | None, BeforeValidator(_rfc2822)]
Money = Annotated[Decimal, BeforeValidator(_money)]
Cents = Annotated[Decimal, BeforeValidator(_cents)]


def rfc2822(moment: datetime) -> str:
    """A date as V2 writes it: `Tue, 05 Nov 2026 14:02:11 +0000`."""
    return moment.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


# --------------------------------------------------------------------------- V2 orders


class BcBillingAddress(_Model):
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    street_1: str = ""
    street_2: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""
    country_iso2: str = ""
    phone: str = ""
    email: str = ""


class BcShippingAddress(BcBillingAddress):
    """`GET /v2/orders/{id}/shipping_addresses`: one per destination; its id is a refund's SHIPPING item."""

    id: int
    order_id: int | None = None
    items_total: int = 0
    items_shipped: int = 0
    shipping_method: str = ""
    cost_ex_tax: Money = Decimal("0")
    cost_inc_tax: Money = Decimal("0")
    cost_tax: Money = Decimal("0")

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


class BcAppliedDiscount(_Model):
    id: str | int | None = None
    amount: Money = Decimal("0")
    name: str = ""
    code: str | None = None


class BcOrderProduct(_Model):
    """A line of `GET /v2/orders/{id}/products`."""

    id: int
    order_id: int | None = None
    product_id: int = 0
    variant_id: int | None = None
    order_address_id: int | None = None
    name: str
    sku: str = ""
    quantity: int
    price_ex_tax: Money = Field(description="One unit, before discounts and tax.")
    total_ex_tax: Money = Decimal("0")
    total_tax: Money = Field(Decimal("0"), description="The line's tax, on its discounted amount.")
    applied_discounts: list[BcAppliedDiscount] = Field(default_factory=list)
    quantity_shipped: int = 0
    quantity_refunded: int = 0
    refund_amount: Money = Decimal("0")

    @property
    def discount(self) -> Decimal:
        return sum((d.amount for d in self.applied_discounts), Decimal("0"))


class BcOrder(_Model):
    """`GET /v2/orders/{id}`: the order number shoppers see is its id."""

    id: int
    customer_id: int = 0
    date_created: V2Date = None
    date_modified: V2Date = None
    date_shipped: V2Date = None
    status_id: int
    status: str = ""
    subtotal_ex_tax: Money = Decimal("0")
    subtotal_inc_tax: Money = Decimal("0")
    subtotal_tax: Money = Decimal("0")
    shipping_cost_ex_tax: Money = Decimal("0")
    shipping_cost_inc_tax: Money = Decimal("0")
    shipping_cost_tax: Money = Decimal("0")
    total_ex_tax: Money = Decimal("0")
    total_inc_tax: Money
    total_tax: Money = Decimal("0")
    discount_amount: Money = Decimal("0")
    coupon_discount: Money = Decimal("0")
    items_total: int = 0
    items_shipped: int = 0
    payment_method: str = ""
    payment_provider_id: str | int | None = None
    payment_status: str = ""
    refunded_amount: Money = Decimal("0")
    store_credit_amount: Money = Decimal("0")
    currency_code: str = "USD"
    staff_notes: str = ""
    customer_message: str = ""
    is_deleted: bool = False
    billing_address: BcBillingAddress = Field(default_factory=BcBillingAddress)

    @property
    def number(self) -> str:
        return str(self.id)

    @property
    def email(self) -> str:
        return self.billing_address.email


class BcShipmentItem(_Model):
    order_product_id: int
    product_id: int | None = None
    quantity: int = 0


class BcShipment(_Model):
    """A line of `GET /v2/orders/{id}/shipments`."""

    id: int
    order_id: int | None = None
    order_address_id: int | None = None
    date_created: V2Date = None
    tracking_number: str = ""
    shipping_method: str = ""
    shipping_provider: str = ""
    tracking_carrier: str = ""
    tracking_link: str = ""
    generated_tracking_link: str = ""
    items: list[BcShipmentItem] = Field(default_factory=list)

    @property
    def carrier(self) -> str | None:
        slug = (self.shipping_provider or self.tracking_carrier).strip().lower()
        if not slug:
            return None
        return PROVIDER_NAMES.get(slug, slug)


# --------------------------------------------------------------------------- V3 payment actions


class BcPaymentOption(_Model):
    """One provider of a refund method: how much of the refund goes back through it."""

    provider_id: str
    provider_description: str = ""
    amount: Cents
    offline: bool = False
    offline_provider: bool = False
    offline_reason: str = ""


class BcRefundQuote(_Model):
    """`POST /v3/orders/{id}/payment_actions/refund_quotes` (`data`)."""

    order_id: int
    total_refund_amount: Cents
    total_refund_tax_amount: Cents = Decimal("0")
    rounding: Decimal = Decimal("0")
    adjustment: Decimal = Decimal("0")
    tax_inclusive: bool = False
    refund_methods: list[list[BcPaymentOption]] = Field(
        default_factory=list, description="Each method is a list of providers that together pay it back."
    )


class BcRefundItem(_Model):
    item_type: str
    item_id: int
    quantity: int | None = None
    requested_amount: Cents | None = None
    reason: str | None = None


class BcRefundPayment(_Model):
    id: int | None = None
    provider_id: str
    amount: Cents
    offline: bool = False
    is_declined: bool = False
    declined_message: str = ""


class BcRefund(_Model):
    """A refund of `/v3/orders/{id}/payment_actions/refunds` (`data`)."""

    id: int
    order_id: int
    created: datetime | None = None
    reason: str = ""
    total_amount: Cents
    total_tax: Cents = Decimal("0")
    items: list[BcRefundItem] = Field(default_factory=list)
    payments: list[BcRefundPayment] = Field(default_factory=list)

    def mentions(self, text: str) -> bool:
        return text in self.reason or any(text in (item.reason or "") for item in self.items)


class BcMetafield(_Model):
    id: int | None = None
    namespace: str = ""
    key: str
    value: str = ""


# --------------------------------------------------------------------------- V3 catalog


class BcCustomField(_Model):
    id: int | None = None
    name: str
    value: str = ""


class BcProduct(_Model):
    """`GET /v3/catalog/products/{id}?include=custom_fields` (`data`). BigCommerce products have no
    tags: a custom field named `tags` (comma-separated, e.g. `final-sale`) plays their part."""

    id: int
    name: str = ""
    sku: str = ""
    custom_fields: list[BcCustomField] = Field(default_factory=list)

    @property
    def tag_list(self) -> list[str]:
        tags: list[str] = []
        for field in self.custom_fields:
            if field.name.strip().lower() in ("tags", "tag"):
                tags += [t.strip() for t in field.value.split(",") if t.strip()]
        return tags


# --------------------------------------------------------------------------- V3 hooks


class BcHook(_Model):
    """A webhook subscription (`/v3/hooks`): BigCommerce sends its `headers` with every delivery."""

    id: int
    scope: str
    destination: str
    is_active: bool = True
    headers: dict[str, str] | None = None
    created_at: int | None = None
    updated_at: int | None = None


class BcWebhookData(_Model):
    type: str = ""
    id: int | str | None = None
    order_id: int | str | None = Field(None, alias="orderId")
    status: dict[str, Any] | None = None
    refund: dict[str, Any] | None = None


class BcWebhookPayload(_Model):
    """A delivery's body: it names the resource (`data.type`, `data.id`); the resource is fetched."""

    scope: str
    store_id: str | int | None = None
    producer: str = ""
    hash: str = ""
    created_at: int | None = None
    data: BcWebhookData = Field(default_factory=BcWebhookData)

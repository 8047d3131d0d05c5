"""Shopify facts shared by the client, the webhooks and the sandbox: API versions, access scopes,
webhook topics, and pydantic models of Shopify's resource JSON (an order with its lines,
fulfilments, refunds and transactions, as webhooks deliver it and as the sandbox keeps its store).

The agent reads orders through the GraphQL Admin API (`operations.py` holds those models); these
resource models parse the real recorded payloads (older API versions: `order_number` may be
missing, refund line item amounts may be numbers rather than strings, most fields may be absent or
null) and the sandbox's records, so every field is optional that need not be there.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# --------------------------------------------------------------------------- API versions
# Shopify's rule (shopify.dev, "About Shopify API versioning"): a stable version is released every
# quarter (January, April, July, October, at 17:00 UTC on the 1st) and supported for at least 12
# months, so four stable versions are supported at any time. The next quarter's version is
# available early as a release candidate, `unstable` always. A request naming any other version
# (retired, or never released) is not refused: Shopify "falls forward" and serves it with the
# oldest supported stable version, saying which in the `X-Shopify-API-Version` response header.

API_VERSION_HEADER = "X-Shopify-API-Version"
RELEASE_MONTHS = (1, 4, 7, 10)
RELEASE_HOUR_UTC = 17
SUPPORTED_STABLE_VERSIONS = 4
_VERSION = re.compile(r"^(\d{4})-(\d{2})$")


def _releases_up_to(now: datetime) -> list[str]:
    """Stable versions released by `now`, oldest first (the last few years are enough)."""
    now = now.astimezone(UTC)
    released = []
    for year in range(now.year - 2, now.year + 1):
        for month in RELEASE_MONTHS:
            if datetime(year, month, 1, RELEASE_HOUR_UTC, tzinfo=UTC) <= now:
                released.append(f"{year}-{month:02d}")
    return released


def supported_api_versions(now: datetime) -> tuple[str, ...]:
    """The stable versions Shopify supports at `now`, oldest first."""
    return tuple(_releases_up_to(now)[-SUPPORTED_STABLE_VERSIONS:])


def release_candidate(now: datetime) -> str:
    """The next quarter's version, which Shopify serves early as its release candidate."""
    year, month = (int(part) for part in supported_api_versions(now)[-1].split("-"))
    month += 3
    return f"{year + (month > 12)}-{(month - 1) % 12 + 1:02d}"


def is_api_version(text: str) -> bool:
    """`YYYY-MM` or `unstable`: the shape of a version path segment."""
    match = _VERSION.match(text)
    return text == "unstable" or (match is not None and 1 <= int(match.group(2)) <= 12)


def served_api_version(requested: str, now: datetime) -> str | None:
    """The version Shopify answers a request for `requested` with at `now` (None: not a version)."""
    if not is_api_version(requested):
        return None
    supported = supported_api_versions(now)
    if requested == "unstable" or requested in supported or requested == release_candidate(now):
        return requested
    return supported[0]


# --------------------------------------------------------------------------- access scopes
# What the agent asks of a store's Admin API token, and why (README, "Connecting a real store").
# Shopify grants a write scope's read access with it; without `read_all_orders` a token sees only
# the orders created in the last 60 days (older ones are absent from lists and 404 by id), and a
# call needing a scope the token lacks is a 403.

READ_ALL_ORDERS = "read_all_orders"
ORDER_HISTORY_DAYS = 60
REQUIRED_SCOPES: dict[str, str] = {
    "read_orders": "find a shopper's order by number or email, with its fulfilments, refunds and transactions",
    "write_orders": "append to an order's note, change its shipping address, cancel it, refund it",
    "read_products": "read product tags (a final-sale tag makes an item non-returnable)",
}
OPTIONAL_SCOPES: dict[str, str] = {
    READ_ALL_ORDERS: f"see orders older than {ORDER_HISTORY_DAYS} days; without it a shopper asking about "
    "an older order is offered a person",
}


def granted_scopes(handles: list[str] | tuple[str, ...] | set[str]) -> set[str]:
    """The scopes a token holds, a write scope counting as its read scope too."""
    granted = set(handles)
    return granted | {"read_" + h.removeprefix("write_") for h in granted if h.startswith("write_")}


def missing_scopes(handles: list[str] | tuple[str, ...] | set[str], wanted: dict[str, str]) -> list[str]:
    """The scopes of `wanted` the token lacks, in `wanted`'s order."""
    granted = granted_scopes(handles)
    return [scope for scope in wanted if scope not in granted]


# --------------------------------------------------------------------------- webhook topics
# The webhook topics Shopify accepts, as deliveries name them in `X-Shopify-Topic` (GraphQL's enum
# is the same upper-cased: orders/updated is ORDERS_UPDATED; a subset of Shopify's list: the store,
# orders, refunds, fulfilments, customers, products, carts and checkouts), each with the scope a
# subscription needs. Any other topic is refused.

WEBHOOK_TOPICS: dict[str, str | None] = {
    "app/uninstalled": None,
    "app/scopes_update": None,
    "shop/update": None,
    "carts/create": "read_orders",
    "carts/update": "read_orders",
    "checkouts/create": "read_orders",
    "checkouts/update": "read_orders",
    "checkouts/delete": "read_orders",
    "orders/create": "read_orders",
    "orders/updated": "read_orders",
    "orders/paid": "read_orders",
    "orders/cancelled": "read_orders",
    "orders/fulfilled": "read_orders",
    "orders/partially_fulfilled": "read_orders",
    "orders/edited": "read_orders",
    "orders/delete": "read_orders",
    "order_transactions/create": "read_orders",
    "refunds/create": "read_orders",
    "fulfillments/create": "read_fulfillments",
    "fulfillments/update": "read_fulfillments",
    "customers/create": "read_customers",
    "customers/update": "read_customers",
    "customers/delete": "read_customers",
    "customers/enable": "read_customers",
    "customers/disable": "read_customers",
    "products/create": "read_products",
    "products/update": "read_products",
    "products/delete": "read_products",
    "collections/create": "read_products",
    "collections/update": "read_products",
    "collections/delete": "read_products",
}


class ShopifyModel(BaseModel):
    """Base: unknown fields are ignored, so new API versions do not break parsing."""

    model_config = ConfigDict(extra="ignore")


def split_tags(tags: str | None) -> list[str]:
    """Shopify sends tags as one comma-separated string."""
    return [tag.strip() for tag in (tags or "").split(",") if tag.strip()]


class ShopifyAddress(ShopifyModel):
    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province: str | None = None
    province_code: str | None = None
    zip: str | None = None
    country: str | None = None
    country_code: str | None = None
    phone: str | None = None


class ShopifyTaxLine(ShopifyModel):
    title: str | None = None
    price: Decimal = Decimal("0")
    rate: float | None = None


class ShopifyDiscountAllocation(ShopifyModel):
    """What one discount (`discount_applications[index]`) took off a line or a shipping line."""

    amount: Decimal = Decimal("0")
    discount_application_index: int | None = None


class ShopifyDiscountApplication(ShopifyModel):
    """A discount on the order: `target_selection: all` for an order-wide (cart) discount,
    `entitled` / `explicit` for one on some products; `target_type: shipping_line` for shipping."""

    type: str | None = Field(None, description="discount_code, automatic, manual, script")
    code: str | None = None
    title: str | None = None
    value: Decimal | None = None
    value_type: str | None = None
    allocation_method: str | None = None
    target_selection: str | None = None
    target_type: str | None = None


def _list_or_empty(value: Any) -> Any:
    return [] if value is None else value


class ShopifyLineItem(ShopifyModel):
    id: int
    product_id: int | None = None
    variant_id: int | None = None
    title: str = ""
    variant_title: str | None = None
    name: str | None = None
    sku: str | None = None
    quantity: int = 0
    current_quantity: int | None = Field(None, description="Quantity after refunds/removals (newer APIs).")
    price: Decimal = Decimal("0")
    total_discount: Decimal = Decimal("0")
    fulfillable_quantity: int | None = None
    fulfillment_status: str | None = None
    requires_shipping: bool = True
    gift_card: bool = False
    tax_lines: list[ShopifyTaxLine] = Field(default_factory=list)
    discount_allocations: list[ShopifyDiscountAllocation] = Field(default_factory=list)

    @field_validator("tax_lines", "discount_allocations", mode="before")
    @classmethod
    def _no_null_lists(cls, value: Any) -> Any:
        return _list_or_empty(value)

    @field_validator("total_discount", mode="before")
    @classmethod
    def _no_null_discount(cls, value: Any) -> Any:
        return "0" if value is None else value

    @property
    def discount(self) -> Decimal:
        """Everything discounted off the line: its `discount_allocations` (Shopify 2024-10 keeps
        `total_discount` at "0.00"), or `total_discount` in payloads from before allocations."""
        if self.discount_allocations:
            return sum((a.amount for a in self.discount_allocations), Decimal("0"))
        return self.total_discount

    @property
    def tax(self) -> Decimal:
        return sum((t.price for t in self.tax_lines), Decimal("0"))

    @property
    def display_name(self) -> str:
        return self.name or (f"{self.title} - {self.variant_title}" if self.variant_title else self.title)


class ShopifyFulfillment(ShopifyModel):
    id: int
    order_id: int | None = None
    status: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    tracking_company: str | None = None
    tracking_number: str | None = None
    tracking_numbers: list[str] = Field(default_factory=list)
    tracking_url: str | None = None
    tracking_urls: list[str] = Field(default_factory=list)
    shipment_status: str | None = Field(
        None, description="label_printed, in_transit, delivered, failure, ..."
    )
    line_items: list[ShopifyLineItem] = Field(default_factory=list)

    @property
    def all_tracking_numbers(self) -> list[str]:
        numbers = list(self.tracking_numbers)
        if self.tracking_number and self.tracking_number not in numbers:
            numbers.insert(0, self.tracking_number)
        return numbers


class ShopifyTransaction(ShopifyModel):
    """A payment transaction; also a `suggested_refund` from refund calculation (which has no id)."""

    id: int | None = None
    order_id: int | None = None
    kind: str = Field(description="sale, capture, authorization, refund, void, suggested_refund")
    gateway: str | None = None
    status: str | None = None
    amount: Decimal = Decimal("0")
    currency: str | None = None
    parent_id: int | None = None
    created_at: datetime | None = None
    authorization: str | None = None
    message: str | None = None
    error_code: str | None = None
    maximum_refundable: Decimal | None = None


class ShopifyRefundLineItem(ShopifyModel):
    id: int | None = None
    line_item_id: int
    quantity: int
    restock_type: str | None = None
    location_id: int | None = None
    subtotal: Decimal | None = None
    total_tax: Decimal | None = None
    line_item: ShopifyLineItem | None = None


class ShopifyOrderAdjustment(ShopifyModel):
    kind: str | None = None
    amount: Decimal = Decimal("0")
    tax_amount: Decimal = Decimal("0")


class ShopifyRefund(ShopifyModel):
    id: int
    order_id: int | None = None
    created_at: datetime | None = None
    processed_at: datetime | None = None
    note: str | None = None
    restock: bool | None = None
    refund_line_items: list[ShopifyRefundLineItem] = Field(default_factory=list)
    transactions: list[ShopifyTransaction] = Field(default_factory=list)
    order_adjustments: list[ShopifyOrderAdjustment] = Field(default_factory=list)

    @property
    def amount(self) -> Decimal:
        """Money actually returned: the successful refund transactions."""
        return sum(
            (t.amount for t in self.transactions if t.kind == "refund" and t.status in (None, "success")),
            Decimal("0"),
        )


class ShopifyNoteAttribute(ShopifyModel):
    name: str
    value: str | None = None


class ShopifyShippingLine(ShopifyModel):
    title: str | None = None
    code: str | None = None
    price: Decimal = Decimal("0")
    discounted_price: Decimal | None = None
    discount_allocations: list[ShopifyDiscountAllocation] = Field(default_factory=list)
    tax_lines: list[ShopifyTaxLine] = Field(default_factory=list)

    @field_validator("tax_lines", "discount_allocations", mode="before")
    @classmethod
    def _no_null_lists(cls, value: Any) -> Any:
        return _list_or_empty(value)

    @property
    def charged(self) -> Decimal:
        """What the shopper paid for this shipping, after shipping discounts."""
        if self.discounted_price is not None:
            return self.discounted_price
        return self.price - sum((a.amount for a in self.discount_allocations), Decimal("0"))

    @property
    def tax(self) -> Decimal:
        return sum((t.price for t in self.tax_lines), Decimal("0"))


class ShopifyCustomer(ShopifyModel):
    id: int
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    state: str | None = None
    verified_email: bool | None = None
    orders_count: int | None = None
    total_spent: Decimal | None = None
    last_order_id: int | None = None
    last_order_name: str | None = None
    tags: str | None = None
    note: str | None = None
    created_at: datetime | None = None
    default_address: ShopifyAddress | None = None
    addresses: list[ShopifyAddress] = Field(default_factory=list)

    @property
    def tag_list(self) -> list[str]:
        return split_tags(self.tags)

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


class ShopifyOrder(ShopifyModel):
    id: int
    name: str = ""
    order_number: int = Field(
        0, description="The number shoppers see (#1001 -> 1001); derived from `name` when absent."
    )
    email: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    processed_at: datetime | None = None
    financial_status: str | None = None
    fulfillment_status: str | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    closed_at: datetime | None = None
    currency: str = "USD"
    total_price: Decimal = Decimal("0")
    subtotal_price: Decimal | None = None
    total_tax: Decimal | None = None
    total_discounts: Decimal | None = None
    total_line_items_price: Decimal | None = None
    current_total_price: Decimal | None = None
    discount_applications: list[ShopifyDiscountApplication] = Field(default_factory=list)
    line_items: list[ShopifyLineItem] = Field(default_factory=list)
    shipping_lines: list[ShopifyShippingLine] = Field(default_factory=list)
    fulfillments: list[ShopifyFulfillment] = Field(default_factory=list)
    refunds: list[ShopifyRefund] = Field(default_factory=list)
    note: str | None = None
    tags: str | None = None
    note_attributes: list[ShopifyNoteAttribute] = Field(default_factory=list)
    shipping_address: ShopifyAddress | None = None
    billing_address: ShopifyAddress | None = None
    customer: ShopifyCustomer | None = None
    gateway: str | None = None
    payment_gateway_names: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _order_number_from_name(cls, data: Any) -> Any:
        # Old payloads may lack `order_number`; the name "#1001" (or `number` + 1000) says it.
        if isinstance(data, dict) and not data.get("order_number"):
            match = re.search(r"(\d+)", str(data.get("name") or ""))
            if match:
                data = {**data, "order_number": int(match.group(1))}
            elif isinstance(data.get("number"), int):
                data = {**data, "order_number": data["number"] + 1000}
        return data

    @property
    def tag_list(self) -> list[str]:
        return split_tags(self.tags)

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def gateways(self) -> list[str]:
        return self.payment_gateway_names or ([self.gateway] if self.gateway else [])

    def note_attribute(self, name: str) -> str | None:
        for attribute in self.note_attributes:
            if attribute.name == name:
                return attribute.value
        return None

    def refunded_quantities(self) -> dict[int, int]:
        """Units already refunded, by line item id."""
        refunded: dict[int, int] = {}
        for refund in self.refunds:
            for item in refund.refund_line_items:
                refunded[item.line_item_id] = refunded.get(item.line_item_id, 0) + item.quantity
        return refunded

    def refundable_quantities(self) -> dict[int, int]:
        """Units still refundable, by line item id (only those with any left)."""
        refunded = self.refunded_quantities()
        remaining = {item.id: item.quantity - refunded.get(item.id, 0) for item in self.line_items}
        return {line_id: quantity for line_id, quantity in remaining.items() if quantity > 0}

    @property
    def total_refunded(self) -> Decimal:
        return sum((refund.amount for refund in self.refunds), Decimal("0"))

    @property
    def shipping_refunded(self) -> Decimal:
        """Shipping already refunded (the refunds' `shipping_refund` order adjustments, negative)."""
        return sum(
            (
                -adjustment.amount
                for refund in self.refunds
                for adjustment in refund.order_adjustments
                if adjustment.kind == "shipping_refund"
            ),
            Decimal("0"),
        )


class ShopifyVariant(ShopifyModel):
    id: int
    product_id: int | None = None
    title: str | None = None
    sku: str | None = None
    price: Decimal | None = None


class ShopifyProduct(ShopifyModel):
    id: int
    title: str = ""
    handle: str | None = None
    product_type: str | None = None
    vendor: str | None = None
    status: str | None = None
    tags: str | None = None
    variants: list[ShopifyVariant] = Field(default_factory=list)

    @property
    def tag_list(self) -> list[str]:
        return split_tags(self.tags)

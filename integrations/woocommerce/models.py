"""Pydantic models of the WooCommerce REST API v3 payloads we read (`/wp-json/wc/v3/`).

Only the fields the adapter uses; everything else is ignored. Money is a decimal string in
WooCommerce (`"29.35"`); a line's `price` is a number. Shapes follow the published reference
(woocommerce/woocommerce-rest-api-docs, `source/includes/wp-api-v3/`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

ORDER_STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed")
# Orders the shop has not shipped yet: these may still be cancelled or re-addressed.
UNFULFILLED_STATUSES = ("pending", "processing", "on-hold")
TRACKING_META_KEY = "_wc_shipment_tracking_items"
MAX_PER_PAGE = 100
# The Shipment Tracking extension's provider slugs, as carriers name themselves (EasyPost too).
PROVIDER_NAMES = {"usps": "USPS", "ups": "UPS", "fedex": "FedEx", "dhl": "DHL", "dhl-us": "DHL"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _gmt(value: Any) -> Any:
    """WooCommerce's `*_gmt` dates carry no offset: they are UTC."""
    if isinstance(value, str) and value and not value.endswith("Z") and "+" not in value[10:]:
        return value + "+00:00"
    return value or None


GmtDatetime = Annotated[datetime | None, BeforeValidator(_gmt)]


class WooAddress(_Model):
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    address_1: str = ""
    address_2: str = ""
    city: str = ""
    state: str = ""
    postcode: str = ""
    country: str = ""
    email: str | None = None
    phone: str | None = None

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


class WooMeta(_Model):
    id: int | None = None
    key: str
    value: Any = None


class WooTax(_Model):
    id: int
    total: Decimal = Decimal("0")
    subtotal: Decimal | None = None

    @field_validator("total", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return value or "0"


class WooLineItem(_Model):
    id: int
    name: str
    product_id: int | None = None
    variation_id: int | None = None
    quantity: int
    subtotal: Decimal = Field(description="The line before discounts (all units), without tax.")
    total: Decimal = Field(description="The line after discounts (all units), without tax.")
    total_tax: Decimal = Decimal("0")
    taxes: list[WooTax] = Field(default_factory=list)
    sku: str | None = None
    price: Decimal = Decimal("0")

    @property
    def discount(self) -> Decimal:
        return max(Decimal("0"), self.subtotal - self.total)


class WooShippingLine(_Model):
    id: int
    method_title: str = ""
    total: Decimal = Decimal("0")
    total_tax: Decimal = Decimal("0")


class WooRefundSummary(_Model):
    """An entry of the order's `refunds`: the total is negative, as WooCommerce lists it."""

    id: int
    reason: str = ""
    total: Decimal


class WooRefundLine(_Model):
    id: int
    quantity: int = Field(0, description="Negative: units given back.")
    total: Decimal = Decimal("0")
    meta_data: list[WooMeta] = Field(default_factory=list)

    def refunded_item_id(self) -> int | None:
        for meta in self.meta_data:
            if meta.key == "_refunded_item_id":
                return int(meta.value)
        return None


class WooRefund(_Model):
    id: int
    date_created_gmt: GmtDatetime = None
    amount: Decimal
    reason: str = ""
    refunded_payment: bool = False
    line_items: list[WooRefundLine] = Field(default_factory=list)
    shipping_lines: list[WooRefundLine] = Field(default_factory=list)


class WooTrackingItem(_Model):
    """One parcel of the Shipment Tracking extension (`_wc_shipment_tracking_items` order meta)."""

    tracking_provider: str = ""
    custom_tracking_provider: str = ""
    custom_tracking_link: str = ""
    tracking_number: str
    date_shipped: int | None = Field(None, description="Unix time, as a string in the meta.")
    tracking_id: str | None = None

    @field_validator("date_shipped", mode="before")
    @classmethod
    def _timestamp(cls, value: Any) -> Any:
        return int(value) if value not in (None, "") else None

    @property
    def carrier(self) -> str | None:
        if self.custom_tracking_provider:
            return self.custom_tracking_provider
        slug = self.tracking_provider.strip().lower()
        return PROVIDER_NAMES.get(slug, self.tracking_provider) or None

    @property
    def shipped_at(self) -> datetime | None:
        return datetime.fromtimestamp(self.date_shipped, UTC) if self.date_shipped else None


class WooOrder(_Model):
    id: int
    parent_id: int = 0
    number: str
    status: str
    currency: str = "USD"
    date_created_gmt: GmtDatetime = None
    date_modified_gmt: GmtDatetime = None
    date_completed_gmt: GmtDatetime = None
    discount_total: Decimal = Decimal("0")
    shipping_total: Decimal = Decimal("0")
    shipping_tax: Decimal = Decimal("0")
    total: Decimal
    total_tax: Decimal = Decimal("0")
    customer_id: int = 0
    customer_note: str = ""
    billing: WooAddress = Field(default_factory=WooAddress)
    shipping: WooAddress = Field(default_factory=WooAddress)
    payment_method: str = ""
    payment_method_title: str = ""
    transaction_id: str = ""
    meta_data: list[WooMeta] = Field(default_factory=list)
    line_items: list[WooLineItem] = Field(default_factory=list)
    shipping_lines: list[WooShippingLine] = Field(default_factory=list)
    refunds: list[WooRefundSummary] = Field(default_factory=list)

    def meta(self, key: str) -> Any:
        return next((m.value for m in self.meta_data if m.key == key), None)

    def tracking_items(self) -> list[WooTrackingItem]:
        value = self.meta(TRACKING_META_KEY)
        if isinstance(value, str):  # some stores return the serialized value
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                return []
        if not isinstance(value, list):
            return []
        return [
            WooTrackingItem.model_validate(v)
            for v in value
            if isinstance(v, dict) and v.get("tracking_number")
        ]

    @property
    def refunded_total(self) -> Decimal:
        return -sum((r.total for r in self.refunds), Decimal("0"))


class WooNote(_Model):
    id: int
    note: str
    customer_note: bool = False
    date_created_gmt: GmtDatetime = None


class WooProductTag(_Model):
    id: int
    name: str
    slug: str = ""


class WooProduct(_Model):
    id: int
    name: str = ""
    tags: list[WooProductTag] = Field(default_factory=list)

    @property
    def tag_list(self) -> list[str]:
        return [t.slug or t.name for t in self.tags]


class WooWebhookOrder(_Model):
    """The body of an `order.*` webhook: the order as the REST API shows it (we need its id)."""

    id: int
    number: str | None = None

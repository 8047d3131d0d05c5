"""Our own domain models: what the tools reason about, whichever vendor holds the data.

Vendor adapters (`integrations/<vendor>/adapter.py`) map payloads to these, so a second
commerce platform or helpdesk plugs in without touching a tool.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def share_of(total: Decimal, whole: Decimal, done: Decimal, more: Decimal) -> Decimal:
    """The part of `total` (spread over `whole` units) owed for `more` units after `done`.

    A difference of rounded cumulative shares, as store platforms compute partial refunds: taking
    every unit in any number of steps returns exactly `total`, never a cent more or less.
    """
    if whole <= 0:
        return ZERO
    return _cents(total * (done + more) / whole) - _cents(total * done / whole)


class Domain(BaseModel):
    model_config = ConfigDict(frozen=True)


class Address(Domain):
    name: str | None = None
    address1: str
    address2: str | None = None
    city: str
    province_code: str | None = None
    zip: str
    country_code: str = "US"
    phone: str | None = None

    def one_line(self) -> str:
        parts = [
            self.address1,
            self.address2,
            self.city,
            f"{self.province_code or ''} {self.zip}".strip(),
            self.country_code,
        ]
        return ", ".join(p for p in parts if p)


class Customer(Domain):
    id: str
    email: str
    first_name: str | None = None
    last_name: str | None = None

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or "there"


class LineItem(Domain):
    id: str
    title: str
    sku: str | None = None
    quantity: int
    unit_price: Decimal
    discount: Decimal = Field(ZERO, description="Everything discounted off the whole line (all its units).")
    tax: Decimal = Field(ZERO, description="The tax charged on the whole line, after its discounts.")
    product_id: str | None = None
    tags: tuple[str, ...] = ()
    refunded_quantity: int = 0

    @property
    def net(self) -> Decimal:
        """What the shopper paid for the line before tax: price times quantity, less its discounts."""
        return self.unit_price * self.quantity - self.discount

    def refund_amount(self, quantity: int) -> Decimal:
        """What refunding `quantity` more units pays back: their share of the discounted line and of
        its tax, after the units already refunded."""
        whole, done, more = Decimal(self.quantity), Decimal(self.refunded_quantity), Decimal(quantity)
        return share_of(self.net, whole, done, more) + share_of(self.tax, whole, done, more)


class Shipment(Domain):
    id: str
    carrier: str | None = None
    service: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    status: str | None = Field(None, description="Platform's shipment status, e.g. in_transit, delivered.")
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    delivery_unconfirmed: bool = Field(
        False,
        description="The carrier could not be asked (it did not answer): whether the parcel arrived is not "
        "known, which is not the same as not delivered.",
    )
    line_item_ids: tuple[str, ...] = ()


OrderPaymentProcessor = Literal["platform", "stripe"]


class Order(Domain):
    id: str
    number: str
    email: str
    customer_id: str | None = None
    created_at: datetime
    currency: str
    financial_status: str | None = None
    fulfillment_status: str | None = None
    cancelled_at: datetime | None = None
    total: Decimal
    subtotal: Decimal = ZERO
    tax: Decimal = ZERO
    shipping: Decimal = Field(ZERO, description="Shipping the shopper paid, after shipping discounts.")
    shipping_tax: Decimal = ZERO
    shipping_refunded: Decimal = ZERO
    refunded_total: Decimal = ZERO
    items: tuple[LineItem, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    shipping_address: Address | None = None
    payment_processor: OrderPaymentProcessor = "platform"
    payment_reference: str | None = Field(None, description="Processor id, e.g. a Stripe payment intent.")
    note: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def is_fulfilled(self) -> bool:
        return bool(self.shipments) or self.fulfillment_status in ("fulfilled", "partial")

    @property
    def refundable(self) -> Decimal:
        return max(ZERO, self.total - self.refunded_total)

    def refund_amount(self, lines: Sequence[RefundLine], *, include_shipping: bool) -> Decimal:
        """What refunding these units (and the shipping still refundable) pays back: each line's
        share of its discounted total and tax, as the store platform itself computes a refund."""
        by_id = {item.id: item for item in self.items}
        amount = sum((by_id[line.line_item_id].refund_amount(line.quantity) for line in lines), ZERO)
        if include_shipping:
            left = max(ZERO, self.shipping - self.shipping_refunded)
            amount += left + share_of(self.shipping_tax, self.shipping, self.shipping_refunded, left)
        return amount


class RefundLine(Domain):
    line_item_id: str
    quantity: int = Field(ge=1)


class RefundQuote(Domain):
    """What a refund would do, computed by the platform before anything moves."""

    order_id: str
    amount: Decimal
    currency: str
    lines: tuple[RefundLine, ...] = ()
    include_shipping: bool = False
    plan: tuple[dict[str, str], ...] = Field((), description="Platform-specific transactions to submit.")


class RefundRecord(Domain):
    id: str
    processor: str
    amount: Decimal
    currency: str
    created_at: datetime | None = None
    status: str = "succeeded"


class TrackingEvent(Domain):
    at: datetime
    status: str
    message: str
    location: str | None = None


TrackingState = Literal[
    "pre_transit", "in_transit", "out_for_delivery", "delivered", "return_to_sender", "failure", "unknown"
]


class TrackingStatus(Domain):
    tracking_number: str
    carrier: str | None = None
    status: str
    status_detail: str | None = None
    estimated_delivery: datetime | None = None
    public_url: str | None = None
    events: tuple[TrackingEvent, ...] = ()

    @property
    def last_event_at(self) -> datetime | None:
        return max((e.at for e in self.events), default=None)


class Parcel(Domain):
    weight_oz: float = 16.0
    length_in: float = 12.0
    width_in: float = 9.0
    height_in: float = 4.0


class ReturnLabel(Domain):
    tracking_number: str
    label_url: str
    carrier: str
    service: str
    cost: Decimal
    currency: str = "USD"
    shipment_id: str | None = None


class Ticket(Domain):
    id: str
    status: str
    tags: tuple[str, ...] = ()
    external_id: str | None = None
    assignee: str | None = None
    url: str | None = None


class SentEmail(Domain):
    message_id: str | None
    to: str


# --------------------------------------------------------------------------- asking the helpdesk


class HandoffRequested(Domain):
    """Mark the ticket as handed to a person (the team picks it up from there)."""

    kind: Literal["handoff"] = "handoff"
    intent: str = Field(description="What the shopper wanted, e.g. refunds or escalation.")


class ApprovalRequested(Domain):
    """Ask the team to approve or deny something (an over-limit refund). `text` says what and why;
    the helpdesk's adapter adds how its team answers (a tag, a macro, a button...)."""

    kind: Literal["approval_requested"] = "approval_requested"
    text: str
    external_id: str = Field(description="Posted once per id, like a mirrored message.")


class HandbackConsumed(Domain):
    """The hand-back was acted on: clear whatever marks it, so the next takeover is not handed back at once."""

    kind: Literal["handback_consumed"] = "handback_consumed"


HelpdeskRequest = HandoffRequested | ApprovalRequested | HandbackConsumed


class TicketChange(Domain):
    """What a request means on one vendor's ticket: notes to post and tags to change. The outbox
    worker merges the changes of a conversation's pending work into as few calls as it can."""

    notes: tuple[tuple[str, str], ...] = Field((), description="(text, external_id) internal notes.")
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()

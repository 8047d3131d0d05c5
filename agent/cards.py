"""The widget's cards: the typed contract between the agent and `server/static/widget.js`.

Every card a message carries is one of these models (a union discriminated by `type`); the
server publishes their JSON Schema at `GET /api/cards.schema.json`, and a test validates every card
the eval suite's conversations produce against it. Cards are built from the tools' result models
(`card_for_result`) or by the graph's nodes (confirm, handoff, refund after approval).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from tools.order_changes import OrderCancelled
from tools.orders import OrderDetails
from tools.refunds import RefundIssued, RefundPendingApproval
from tools.results import ToolResult
from tools.returns import ReturnLabelCreated
from tools.tracking import TrackingResult

logger = logging.getLogger(__name__)


class _Card(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrderItem(_Card):
    title: str
    quantity: int
    unit_price: str


class OrderShipment(_Card):
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    status: str | None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None


class OrderCard(_Card):
    """One order: its status, items, total and shipments."""

    type: Literal["order"] = "order"
    order_number: str
    status: str
    items: list[OrderItem]
    total: str
    currency: str
    shipments: list[OrderShipment]


class TrackingEvent(_Card):
    at: datetime
    message: str
    location: str | None
    status: str | None = None


class Parcel(_Card):
    carrier: str | None
    tracking_number: str
    status: str = Field(description="The carrier's status word (EasyPost: in_transit, delivered, failure …).")
    status_detail: str | None
    estimated_delivery: datetime | None
    tracking_url: str | None
    last_event: TrackingEvent | None
    exception: str | None = Field(description="Set when the parcel needs a person.")


class TrackingCard(_Card):
    """Live carrier tracking, one entry per parcel."""

    type: Literal["tracking"] = "tracking"
    order_number: str
    parcels: list[Parcel]


class ConfirmCard(_Card):
    """What a change will do; the widget shows Yes / No buttons that send "yes" / "no"."""

    type: Literal["confirm"] = "confirm"
    summary: str
    items: list[str] = []
    amount: str | None = None
    address: str | None = None
    excluded: list[str] = []
    """Items the change leaves out and why (e.g. final sale), shown before the yes."""


class LabelCard(_Card):
    """A return label bought (or an unused one emailed again)."""

    type: Literal["label"] = "label"
    order_number: str
    carrier: str
    tracking_number: str
    label_url: str
    emailed_to: str
    items: list[str]


class RefundCard(_Card):
    """Money going back: a refund made, waiting for approval, or a cancellation's refund."""

    type: Literal["refund"] = "refund"
    order_number: str
    amount: str
    currency: str
    status: Literal["refunded", "pending_approval", "cancelled"]


class HandoffCard(_Card):
    """The conversation is with the support team now."""

    type: Literal["handoff"] = "handoff"
    ticket_id: str | None = None


Card = Annotated[
    OrderCard | TrackingCard | ConfirmCard | LabelCard | RefundCard | HandoffCard, Field(discriminator="type")
]
CARD: TypeAdapter[Card] = TypeAdapter(Card)


def card_schema() -> dict[str, Any]:
    """The JSON Schema of a card (served to the widget and its developers)."""
    schema = CARD.json_schema()
    schema["title"] = "Card"
    schema["description"] = __doc__.split("\n\n")[0] if __doc__ else "A widget card."
    return schema


def card_for_result(result: ToolResult) -> Card | None:
    """The card worth showing for a tool's result, if any."""
    if isinstance(result, OrderDetails):
        order = result.order
        return OrderCard(
            order_number=order.order_number,
            status=order.status,
            items=[
                OrderItem(title=i.title, quantity=i.quantity, unit_price=i.unit_price) for i in order.items
            ],
            total=order.total,
            currency=order.currency,
            shipments=[OrderShipment.model_validate(s.model_dump()) for s in order.shipments],
        )
    if isinstance(result, TrackingResult):
        if not result.shipped:
            return None
        return TrackingCard(
            order_number=result.order_number,
            parcels=[
                Parcel(
                    carrier=p.carrier,
                    tracking_number=p.tracking_number,
                    status=p.status,
                    status_detail=p.status_detail,
                    estimated_delivery=p.estimated_delivery,
                    tracking_url=p.tracking_url,
                    last_event=TrackingEvent.model_validate(p.last_events[0].model_dump())
                    if p.last_events
                    else None,
                    exception=p.exception,
                )
                for p in result.parcels
            ],
        )
    if isinstance(result, ReturnLabelCreated):
        return LabelCard(
            order_number=result.order_number,
            carrier=result.carrier,
            tracking_number=result.tracking_number,
            label_url=result.label_url,
            emailed_to=result.emailed_to,
            items=result.items,
        )
    if isinstance(result, RefundIssued | RefundPendingApproval):
        return RefundCard(
            order_number=result.order_number,
            amount=result.amount,
            currency=result.currency,
            status=result.status,
        )
    if isinstance(result, OrderCancelled):
        return RefundCard(
            order_number=result.order_number,
            amount=result.refunded_amount,
            currency=result.currency,
            status="cancelled",
        )
    return None


_CARDED_RESULTS: dict[str, type[ToolResult]] = {
    cls.__name__: cls
    for cls in (
        OrderDetails,
        TrackingResult,
        ReturnLabelCreated,
        RefundIssued,
        RefundPendingApproval,
        OrderCancelled,
    )
}


def card_for_artifact(artifact: object) -> Card | None:
    """The card for a tool message's artifact (`{"type": <result class name>, ...fields}`)."""
    if not isinstance(artifact, dict) or artifact.get("ok") is not True:
        return None
    cls = _CARDED_RESULTS.get(str(artifact.get("type")))
    if cls is None:
        return None
    try:
        result = cls.model_validate({k: v for k, v in artifact.items() if k != "type"})
    except ValidationError:
        logger.warning("a %s tool result did not parse; no card shown", cls.__name__)
        return None
    return card_for_result(result)


def as_json(card: Card) -> dict[str, Any]:
    """A card as stored on a message and sent to the widget."""
    return card.model_dump(mode="json")

"""get_tracking_status: where the parcel is, and whether something is wrong with it."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from integrations.domain import TrackingStatus
from tools.common import OrderNumber, owned_order
from tools.context import ToolContext
from tools.results import Refusal, ToolResult
from tools.spec import tool


class GetTrackingStatusArgs(BaseModel):
    order_number: OrderNumber


class EventView(BaseModel):
    at: datetime
    status: str
    message: str
    location: str | None = None


class ParcelStatus(BaseModel):
    carrier: str | None = None
    tracking_number: str
    status: str
    status_detail: str | None = None
    estimated_delivery: datetime | None = None
    tracking_url: str | None = None
    last_events: list[EventView] = Field(description="Newest first, at most three.")
    exception: str | None = Field(
        None,
        description="Set when the parcel needs a person: failure, return_to_sender or no movement for days.",
    )


class TrackingResult(ToolResult):
    order_number: str
    shipped: bool
    parcels: list[ParcelStatus]
    note: str | None = None
    cancelled: bool = Field(False, description="The order was cancelled: nothing will ship.")


def tracking_exception(status: TrackingStatus, now: datetime, stuck_after_days: int) -> str | None:
    """Why this parcel needs attention, or None when it is moving normally."""
    if status.status == "failure":
        return "The carrier reports a delivery failure" + (
            f" ({status.status_detail})." if status.status_detail else "."
        )
    if status.status == "return_to_sender":
        return "The carrier is returning the parcel to the store."
    if status.status != "delivered":
        last = status.last_event_at
        if last is not None and now - last >= timedelta(days=stuck_after_days):
            return f"No tracking update for {(now - last).days} days: the parcel looks stuck."
    return None


@tool(lookup=True, progress="Checking the carrier's tracking…")
async def get_tracking_status(ctx: ToolContext, args: GetTrackingStatusArgs) -> TrackingResult | Refusal:
    """Live carrier tracking for one of the verified shopper's orders: status, estimated delivery and
    the latest scan events for each parcel. Flags parcels that need a person (delivery failure, return
    to sender, or no movement for several days)."""
    order = await owned_order(ctx, args.order_number)
    if isinstance(order, Refusal):
        return order
    tracked = [s for s in order.shipments if s.tracking_number]
    if not tracked:
        note = "The order has been cancelled." if order.is_cancelled else "The order has not shipped yet."
        return TrackingResult(
            order_number=order.number, shipped=False, parcels=[], note=note, cancelled=order.is_cancelled
        )
    now = ctx.deps.clock()
    parcels = []
    for shipment in tracked:
        assert shipment.tracking_number is not None
        status = await ctx.deps.shipping.track(shipment.tracking_number, shipment.carrier)
        events = sorted(status.events, key=lambda e: e.at, reverse=True)[:3]
        parcels.append(
            ParcelStatus(
                carrier=status.carrier or shipment.carrier,
                tracking_number=shipment.tracking_number,
                status=status.status,
                status_detail=status.status_detail,
                estimated_delivery=status.estimated_delivery,
                tracking_url=shipment.tracking_url or status.public_url,
                last_events=[
                    EventView(at=e.at, status=e.status, message=e.message, location=e.location)
                    for e in events
                ],
                exception=tracking_exception(status, now, ctx.deps.policy.stuck_after_days),
            )
        )
    return TrackingResult(order_number=order.number, shipped=True, parcels=parcels)

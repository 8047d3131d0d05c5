"""lookup_order: the verified shopper's order, or their recent orders."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from integrations.domain import Order
from tools.common import NOT_VERIFIED, OrderNumber, owned_order
from tools.context import ToolContext
from tools.results import Refusal, ToolResult, refuse
from tools.spec import tool


class LookupOrderArgs(BaseModel):
    order_number: OrderNumber | None = Field(
        description="The order to look up; null to list the shopper's recent orders."
    )


class ItemView(BaseModel):
    line_item_id: str
    title: str
    quantity: int
    unit_price: str


class ShipmentView(BaseModel):
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    status: str | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None


class OrderView(BaseModel):
    order_number: str
    placed_at: datetime
    status: str = Field(description="One of: cancelled, unfulfilled, shipped, delivered, refunded.")
    financial_status: str | None = None
    currency: str
    total: str
    refunded: str
    items: list[ItemView]
    shipments: list[ShipmentView]
    shipping_address: str | None = None


class OrderDetails(ToolResult):
    order: OrderView


class RecentOrders(ToolResult):
    orders: list[OrderView]


def order_status(order: Order) -> str:
    if order.is_cancelled:
        return "cancelled"
    if order.refunded_total >= order.total > Decimal(0):
        return "refunded"
    if not order.is_fulfilled:
        return "unfulfilled"
    if order.shipments and all(s.delivered_at or s.status == "delivered" for s in order.shipments):
        return "delivered"
    return "shipped"


def view(order: Order) -> OrderView:
    return OrderView(
        order_number=order.number,
        placed_at=order.created_at,
        status=order_status(order),
        financial_status=order.financial_status,
        currency=order.currency,
        total=str(order.total),
        refunded=str(order.refunded_total),
        items=[
            ItemView(line_item_id=i.id, title=i.title, quantity=i.quantity, unit_price=str(i.unit_price))
            for i in order.items
        ],
        shipments=[
            ShipmentView(
                carrier=s.carrier,
                tracking_number=s.tracking_number,
                tracking_url=s.tracking_url,
                status=s.status,
                shipped_at=s.shipped_at,
                delivered_at=s.delivered_at,
            )
            for s in order.shipments
        ],
        shipping_address=order.shipping_address.one_line() if order.shipping_address else None,
    )


@tool(lookup=True, progress="Looking up your order…")
async def lookup_order(ctx: ToolContext, args: LookupOrderArgs) -> OrderDetails | RecentOrders | Refusal:
    """Look up one of the verified shopper's orders: status, items, totals, shipments with tracking
    numbers. With no order number, list their most recent orders. Only works for a verified shopper
    and only for their own orders."""
    if args.order_number is None:
        if ctx.customer is None:
            return refuse("not_verified", NOT_VERIFIED)
        orders = await ctx.deps.commerce.recent_orders(ctx.customer.email, limit=5)
        return RecentOrders(orders=[view(o) for o in orders])
    order = await owned_order(ctx, args.order_number)
    if isinstance(order, Refusal):
        return order
    return OrderDetails(order=view(order))

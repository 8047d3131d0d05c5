"""Changes before the order ships: cancel it, or change where it goes."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from integrations.domain import Address, Order
from prompts.templates import say
from tools.common import OrderNumber, money, owned_order
from tools.context import ToolContext
from tools.results import Refusal, ToolResult, refuse
from tools.spec import Preview, tool
from tools.step_up import require_step_up


def _still_changeable(order: Order) -> Refusal | None:
    if order.is_cancelled:
        return refuse("already_cancelled", f"Order #{order.number} is already cancelled.")
    if order.is_fulfilled:
        return refuse(
            "already_fulfilled",
            f"Order #{order.number} has already shipped, so it can no longer be changed or cancelled. "
            "Once it arrives, the shopper can return it.",
        )
    return None


async def changeable_order(ctx: ToolContext, number: str, action: str) -> Order | Refusal:
    """The shopper's order, if it can still be changed (not shipped, not cancelled) and the shopper
    has confirmed a one-time code when the policy wants one for `action`."""
    order = await owned_order(ctx, number)
    if isinstance(order, Refusal):
        return order
    return _still_changeable(order) or require_step_up(ctx, action, order.number) or order


class CancelOrderArgs(BaseModel):
    order_number: OrderNumber
    reason: str = Field(description="Why the shopper wants to cancel, in a few words.", max_length=300)


class OrderCancelled(ToolResult):
    order_number: str
    refunded_amount: str
    currency: str


async def preview_cancel(ctx: ToolContext, args: CancelOrderArgs) -> Preview | Refusal:
    order = await changeable_order(ctx, args.order_number, "cancel_order")
    if isinstance(order, Refusal):
        return order
    return Preview(
        summary=say(
            "confirm.cancel", ctx.language, order=order.number, amount=money(order.refundable, order.currency)
        ),
        items=[f"{i.quantity} × {i.title}" for i in order.items],
        amount=str(order.refundable),
    )


@tool(mutates=True, needs_confirmation=True, preview=preview_cancel, progress="Cancelling your order…")
async def cancel_order(ctx: ToolContext, args: CancelOrderArgs) -> OrderCancelled | Refusal:
    """Cancel the verified shopper's order and refund its payment. Only possible before it ships. The
    shopper must have confirmed."""
    done = await ctx.completed("cancel")
    # Cancelled by this very call before the process died: finish (the refund) instead of refusing
    # an order that is no longer changeable.
    order = await (
        owned_order(ctx, args.order_number)
        if done
        else changeable_order(ctx, args.order_number, "cancel_order")
    )
    if isinstance(order, Refusal):
        return order
    refunded = Decimal(str(done["refund"])) if done and "refund" in done else order.refundable
    deps = ctx.deps

    async def cancel() -> dict[str, str]:
        await deps.commerce.cancel(order.id, reason=args.reason, idempotency_key=ctx.idempotency_key)
        return {"cancelled": order.id, "refund": str(refunded)}

    await ctx.once("cancel_order", "cancel", cancel)
    if order.payment_processor == "stripe" and order.payment_reference:
        reference = order.payment_reference

        async def refund() -> dict[str, str]:
            record = await deps.payments.refund(
                reference,
                refunded,
                currency=order.currency,
                idempotency_key=ctx.idempotency_key,
                metadata={"order_number": order.number, "reason": "cancelled"},
            )
            return {"id": record.id}

        await ctx.once("cancel_order", "stripe_refund", refund)
    return OrderCancelled(order_number=order.number, refunded_amount=str(refunded), currency=order.currency)


class NewAddress(BaseModel):
    name: str | None = Field(description="Recipient name; null to keep the current one.", max_length=120)
    address1: str = Field(description="Street and number.", max_length=200)
    address2: str | None = Field(description="Apartment, suite, unit; null if none.", max_length=200)
    city: str = Field(max_length=100, description="City.")
    province_code: str | None = Field(description="State or province code, e.g. CA.", max_length=10)
    zip: str = Field(max_length=20, description="ZIP or postal code.")
    country_code: str = Field(description="Two-letter country code, e.g. US.", min_length=2, max_length=2)


class UpdateShippingAddressArgs(BaseModel):
    order_number: OrderNumber
    address: NewAddress = Field(description="The complete new shipping address.")


class AddressUpdated(ToolResult):
    order_number: str
    address: str


def _address(ctx_order: Order, new: NewAddress) -> Address:
    name = new.name or (ctx_order.shipping_address.name if ctx_order.shipping_address else None)
    return Address(
        name=name,
        address1=new.address1,
        address2=new.address2,
        city=new.city,
        province_code=new.province_code,
        zip=new.zip,
        country_code=new.country_code.upper(),
        phone=ctx_order.shipping_address.phone if ctx_order.shipping_address else None,
    )


async def preview_address(ctx: ToolContext, args: UpdateShippingAddressArgs) -> Preview | Refusal:
    order = await changeable_order(ctx, args.order_number, "update_shipping_address")
    if isinstance(order, Refusal):
        return order
    new = _address(order, args.address)
    return Preview(summary=say("confirm.address", ctx.language, order=order.number), address=new.one_line())


@tool(
    mutates=True, needs_confirmation=True, preview=preview_address, progress="Updating the shipping address…"
)
async def update_shipping_address(
    ctx: ToolContext, args: UpdateShippingAddressArgs
) -> AddressUpdated | Refusal:
    """Change where the verified shopper's order will be shipped. Only possible before it ships. The
    shopper must have confirmed the complete new address."""
    order = await changeable_order(ctx, args.order_number, "update_shipping_address")
    if isinstance(order, Refusal):
        return order
    new = _address(order, args.address)

    async def update() -> dict[str, str]:
        await ctx.deps.commerce.update_shipping_address(order.id, new)
        return {"address": new.one_line()}

    done = await ctx.once("update_shipping_address", "update", update)
    return AddressUpdated(order_number=order.number, address=done["address"])

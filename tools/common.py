"""Helpers every order tool shares: argument types, identity and ownership checks."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, Field

from integrations.domain import Order
from tools.context import ToolContext
from tools.results import Refusal, refuse


def _normalise_order_number(value: object) -> object:
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        digits = re.sub(
            r"^\s*(?:order\s*)?(?:no\.?\s*|number\s*)?#?\s*", "", value, flags=re.IGNORECASE
        ).strip()
        return digits
    return value


OrderNumber = Annotated[
    str,
    BeforeValidator(_normalise_order_number),
    Field(
        pattern=r"^\d{1,12}$", description="The order number as the shopper gave it, digits only, e.g. 1001."
    ),
]

NOT_VERIFIED = (
    "The shopper is not verified yet. Ask for the email address used for the order and the order number, "
    "then call verify_customer."
)
ORDER_NOT_FOUND = (
    "No order with that number was found for this shopper. Ask them to check the number in their order "
    "confirmation email. Do not guess other numbers."
)


def order_too_old(number: str, days: int) -> Refusal:
    """The order may exist, beyond the days of history the store lets this assistant read."""
    return refuse(
        "order_too_old",
        f"Order #{number} may be older than the last {days} days of orders this assistant can look up, so it "
        "cannot be checked or changed here. Do not say it does not exist. Tell the shopper a person on the "
        "team can look up older orders, and offer to hand the conversation over (escalate_to_human).",
        order_number=number,
        days=str(days),
    )


async def too_old(ctx: ToolContext, number: str) -> Refusal | None:
    """The refusal for a number not found because it lies beyond the store's readable history."""
    days = await ctx.deps.commerce.hidden_by_history_window(number)
    return order_too_old(number, days) if days else None


def owns(ctx: ToolContext, order: Order) -> bool:
    """The verified shopper owns the order (same email, or same customer id)."""
    customer = ctx.customer
    if customer is None:
        return False
    if customer.customer_id and order.customer_id and customer.customer_id == order.customer_id:
        return True
    return order.email.strip().lower() == customer.email.strip().lower()


async def owned_order(ctx: ToolContext, number: str) -> Order | Refusal:
    """The verified shopper's order with this number, or a refusal.

    A missing order and another customer's order get the same answer, so a made-up or injected
    number reveals nothing about other shoppers.
    """
    if ctx.customer is None:
        return refuse("not_verified", NOT_VERIFIED)
    order = await ctx.deps.commerce.find_order(number)
    if order is None:
        return await too_old(ctx, number) or refuse("order_not_found", ORDER_NOT_FOUND, order_number=number)
    if not owns(ctx, order):
        return refuse("order_not_found", ORDER_NOT_FOUND, order_number=number)
    return order


def money(amount: object, currency: str) -> str:
    symbol = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$"}.get(currency.upper())
    return f"{symbol}{amount}" if symbol else f"{amount} {currency.upper()}"

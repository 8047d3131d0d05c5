"""verify_customer: who the shopper is, proven by an email and an order number."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tools.common import OrderNumber
from tools.context import ToolContext, VerifiedCustomer
from tools.results import Refusal, ToolResult, refuse
from tools.spec import tool

MISMATCH = (
    "That email and order number do not match our records. Ask the shopper to check both (the order "
    "confirmation email has them). Do not say which one is wrong."
)


class VerifyCustomerArgs(BaseModel):
    email: str = Field(description="The email address the shopper used for their order.", max_length=254)
    order_number: OrderNumber


class CustomerVerified(ToolResult):
    email: str
    first_name: str | None
    order_number: str


@tool()
async def verify_customer(ctx: ToolContext, args: VerifyCustomerArgs) -> CustomerVerified | Refusal:
    """Verify the shopper with the email address and one order number of theirs. Call this before any
    order tool when the shopper is not yet verified. Both must match the same order; the answer never
    says which one was wrong. After too many failed attempts the conversation goes to a person."""
    limit = ctx.deps.policy.max_verification_attempts
    if ctx.verification_attempts >= limit:
        ctx.escalate_reason = "verification attempts exhausted"
        return refuse(
            "verification_locked",
            "Too many unsuccessful verification attempts. The conversation is being handed to a person, "
            "who will check the shopper's identity.",
        )
    order = await ctx.deps.commerce.find_order(args.order_number)
    # Counted once the store has answered: an outage is not a wrong guess.
    ctx.verification_attempts += 1
    email = args.email.strip().lower()
    if order is None or order.email.strip().lower() != email:
        left = limit - ctx.verification_attempts
        if left <= 0:
            ctx.escalate_reason = "verification attempts exhausted"
        return refuse("verification_failed", MISMATCH, attempts_left=str(max(left, 0)))
    first_name = None
    if order.shipping_address and order.shipping_address.name:
        first_name = order.shipping_address.name.split()[0]
    ctx.set_customer = VerifiedCustomer(
        email=order.email, customer_id=order.customer_id, name=first_name, verified_by="order"
    )
    ctx.customer = ctx.set_customer
    return CustomerVerified(email=order.email, first_name=first_name, order_number=order.number)

"""verify_customer: who the shopper is, proven by an email and an order number."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from tools.common import OrderNumber, too_old
from tools.context import ToolContext, VerifiedCustomer
from tools.guards import StoreGuards, ThrottleRule
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
    first_name: str | None = None
    order_number: str | None = Field(
        None, description="The order the shopper verified with; none for a signed widget identity."
    )


@tool(lookup=True, progress="Checking your details…")
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
    email = args.email.strip().lower()
    targets = [f"email:{email}", f"order:{args.order_number}"]
    clients = [f"client:{ctx.client}"] if ctx.client else []
    guards = ctx.deps.guards
    now = ctx.deps.clock().timestamp()
    if guards is not None and await guards.locked_until([*targets, *clients], now) is not None:
        # Locked store-wide: the same words as a wrong guess, without asking the store, so a correct
        # guess cannot get through and the reply tells nothing (a lock-out names no real customer).
        ctx.verification_attempts += 1
        return _mismatch(ctx, limit)
    order = await ctx.deps.commerce.find_order(args.order_number)
    if order is None:
        # Beyond the history the store lets us read: neither a match nor a wrong guess. The answer
        # depends on the number alone (never on the email), so it tells nothing about a customer.
        beyond = await too_old(ctx, args.order_number)
        if beyond is not None:
            return beyond
    # Counted once the store has answered: an outage is not a wrong guess.
    ctx.verification_attempts += 1
    if order is None or order.email.strip().lower() != email:
        if guards is not None:
            await _count_failure(ctx, guards, targets, clients, now)
        return _mismatch(ctx, limit)
    first_name = None
    if order.shipping_address and order.shipping_address.name:
        first_name = order.shipping_address.name.split()[0]
    ctx.set_customer = VerifiedCustomer(
        email=order.email, customer_id=order.customer_id, name=first_name, verified_by="order"
    )
    ctx.customer = ctx.set_customer
    return CustomerVerified(email=order.email, first_name=first_name, order_number=order.number)


def _mismatch(ctx: ToolContext, limit: int) -> Refusal:
    """The one reply for a wrong email, a wrong order number and a locked target alike."""
    left = limit - ctx.verification_attempts
    if left <= 0:
        ctx.escalate_reason = "verification attempts exhausted"
    return refuse("verification_failed", MISMATCH, attempts_left=str(max(left, 0)))


async def _count_failure(
    ctx: ToolContext, guards: StoreGuards, targets: list[str], clients: list[str], now: float
) -> None:
    """Count a failed attempt store-wide; a target locked by it is reported to the team once."""
    policy = ctx.deps.policy
    lock, longest, quiet = (
        policy.verification_lockout_minutes * 60,
        policy.verification_max_lockout_hours * 3600,
        policy.verification_quiet_hours * 3600,
    )
    per_target = ThrottleRule(policy.verification_lockout_failures, lock, longest, quiet)
    per_client = ThrottleRule(policy.verification_client_lockout_failures, lock, longest, quiet)
    outcomes = [await guards.record_failure(key, now, per_target) for key in targets]
    for key in clients:
        await guards.record_failure(key, now, per_client)
    locked = [o for o in outcomes if o.newly_locked and o.locked_until is not None]
    if not locked:
        return
    # Only the attempt that started a lock-out sees `newly_locked`, whichever process made it:
    # the team hears once per target and lock-out period, through the outbox (never waited on here).
    until = max(o.locked_until or now for o in locked)
    ctx.helpdesk_requests[f"security-alert:{ctx.tool_call_id}"] = {
        "kind": "team_alert",
        "reason": "repeated failed identity verification",
        "targets": [o.key.replace(":", " ", 1) for o in locked],
        "lockouts": max(o.lockouts for o in locked),
        "locked_until": datetime.fromtimestamp(until, UTC).isoformat(timespec="minutes"),
        "failures": policy.verification_lockout_failures,
        "priority": "urgent",
    }

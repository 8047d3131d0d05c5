"""Returns: which items can go back, and a prepaid return label for them."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from integrations.domain import Order, Parcel
from prompts.templates import say
from tools.common import OrderNumber, owned_order
from tools.context import ToolContext
from tools.guards import StoreGuards
from tools.results import Refusal, RefusalCode, ToolResult, refuse
from tools.spec import Preview, tool
from tools.step_up import require_step_up

# How a date is written in an explanation the shopper may read (a preview in their language).
_DATE_FORMATS = {"en": "%B %d, %Y", "es": "%d/%m/%Y", "fr": "%d/%m/%Y", "de": "%d.%m.%Y"}


class CheckReturnEligibilityArgs(BaseModel):
    order_number: OrderNumber


class ItemEligibility(BaseModel):
    line_item_id: str
    title: str
    quantity: int
    returnable: bool
    reason: str | None = Field(
        None, description="Why not: outside_return_window, final_sale, not_delivered, already_returned."
    )
    explanation: str | None = None


class ReturnEligibility(ToolResult):
    order_number: str
    delivered_at: datetime | None = None
    return_window_ends: datetime | None = None
    items: list[ItemEligibility]

    @property
    def eligible(self) -> list[ItemEligibility]:
        return [i for i in self.items if i.returnable]


INELIGIBILITY_CODES: dict[str, RefusalCode] = {
    "final_sale": "final_sale",
    "outside_return_window": "outside_return_window",
    "not_delivered": "not_delivered",
    "already_returned": "already_returned",
}


def ineligibility_code(reason: str | None, default: RefusalCode) -> RefusalCode:
    """The refusal code for an item's ineligibility reason."""
    return INELIGIBILITY_CODES.get(reason or "", default)


def delivered_at(order: Order) -> datetime | None:
    """When the last parcel arrived, or None while anything is undelivered."""
    if not order.shipments:
        return None
    moments = [s.delivered_at for s in order.shipments]
    if any(m is None for m in moments):
        return None
    return max(m for m in moments if m is not None)


def unconfirmed_delivery(order: Order) -> Refusal | None:
    """A refusal while the carrier cannot say whether an undelivered-looking order arrived.

    Returns and refunds start from the delivery date; answering "not delivered yet" when the
    carrier simply did not answer would be untrue, so the shopper hears what actually happened."""
    if order.is_cancelled or delivered_at(order) is not None:
        return None
    if not any(s.delivery_unconfirmed and s.delivered_at is None for s in order.shipments):
        return None
    return refuse(
        "vendor_unavailable",
        f"The carrier can't be reached right now to confirm whether order #{order.number} was delivered, "
        "so nothing was changed. Please try again in a few minutes, or a person on our team can check.",
        order_number=order.number,
    )


def assess_returns(ctx: ToolContext, order: Order) -> ReturnEligibility:
    """Per line item, returnable or the reason not, by the store policy."""
    policy = ctx.deps.policy
    arrived = delivered_at(order)
    window_ends = arrived + timedelta(days=policy.return_window_days) if arrived else None
    now = ctx.deps.clock()
    items = []
    for item in order.items:
        reason: str | None = None
        explanation: str | None = None
        if item.refunded_quantity >= item.quantity:
            reason = "already_returned"
        elif policy.is_final_sale(item.tags):
            reason = "final_sale"
        elif order.is_cancelled or arrived is None:
            reason = "not_delivered"
        elif window_ends is not None and now > window_ends:
            reason = "outside_return_window"
        if reason is not None:
            ended = (
                f"{window_ends:{_DATE_FORMATS.get(ctx.language, _DATE_FORMATS['en'])}}" if window_ends else ""
            )
            explanation = say(f"confirm.{reason}", ctx.language, days=policy.return_window_days, date=ended)
        items.append(
            ItemEligibility(
                line_item_id=item.id,
                title=item.title,
                quantity=item.quantity - item.refunded_quantity,
                returnable=reason is None,
                reason=reason,
                explanation=explanation,
            )
        )
    return ReturnEligibility(
        order_number=order.number, delivered_at=arrived, return_window_ends=window_ends, items=items
    )


@tool(lookup=True, progress="Checking what can be returned…")
async def check_return_eligibility(
    ctx: ToolContext, args: CheckReturnEligibilityArgs
) -> ReturnEligibility | Refusal:
    """Check, item by item, whether the verified shopper's order can be returned: returnable, or the
    reason not (outside the return window, final sale, not delivered yet, already returned)."""
    order = await owned_order(ctx, args.order_number)
    if isinstance(order, Refusal):
        return order
    return unconfirmed_delivery(order) or assess_returns(ctx, order)


class CreateReturnLabelArgs(BaseModel):
    order_number: OrderNumber
    line_item_ids: list[str] | None = Field(
        description="The line_item_id of each item to return (from check_return_eligibility); null for all eligible items."
    )
    reason: str = Field(description="The shopper's reason for the return, in a few words.", max_length=300)


class ReturnLabelCreated(ToolResult):
    order_number: str
    items: list[str]
    carrier: str
    service: str
    tracking_number: str
    label_url: str
    emailed_to: str
    reused_existing_label: bool = Field(
        False,
        description="True: an unused label for these items already existed and was emailed again, not bought.",
    )


# A label whose tracker has no carrier scan yet has not been used: it can simply be sent again.
UNUSED_LABEL_STATUSES = frozenset({"pre_transit", "unknown"})


def items_key(items: list[ItemEligibility]) -> str:
    return ",".join(sorted(f"{i.line_item_id}x{i.quantity}" for i in items))


async def unused_label(
    ctx: ToolContext, guards: StoreGuards, order: Order, key: str
) -> dict[str, str] | None:
    """An unused label already bought for exactly these items, by any conversation."""
    for record in reversed(await guards.labels(order.number)):
        if record.items_key != key or record.tracking_number is None or record.label_url is None:
            continue
        status = await ctx.deps.shipping.track(record.tracking_number, record.carrier)
        if status.status in UNUSED_LABEL_STATUSES:
            fields = {
                "tracking_number": record.tracking_number,
                "label_url": record.label_url,
                "carrier": record.carrier,
                "service": record.service,
                "cost": record.cost,
                "currency": record.currency,
                "shipment_id": record.shipment_id,
            }
            return {k: v for k, v in fields.items() if v is not None}
    return None


def label_limit(order: Order, cap: int) -> Refusal:
    return refuse(
        "label_limit_reached",
        f"Order {order.number} already has {cap} return label{'s' if cap != 1 else ''}, the most we create for "
        "one order; they were emailed when made. Our support team can help with anything more.",
        order_number=order.number,
    )


async def _selected_items(
    ctx: ToolContext, args: CreateReturnLabelArgs
) -> tuple[Order, list[ItemEligibility]] | Refusal:
    order = await owned_order(ctx, args.order_number)
    if isinstance(order, Refusal):
        return order
    unknown_delivery = unconfirmed_delivery(order)
    if unknown_delivery is not None:
        return unknown_delivery
    eligibility = assess_returns(ctx, order)
    by_id = {i.line_item_id: i for i in eligibility.items}
    if args.line_item_ids:
        unknown = [i for i in args.line_item_ids if i not in by_id]
        if unknown:
            return refuse(
                "invalid_arguments", f"These items are not on order {order.number}: {', '.join(unknown)}."
            )
        chosen = [by_id[i] for i in dict.fromkeys(args.line_item_ids)]
        blocked = [i for i in chosen if not i.returnable]
        if blocked:
            first = blocked[0]
            reasons = [f"{i.title}: {i.explanation}" for i in blocked]
            return refuse(
                ineligibility_code(first.reason, "no_eligible_items"),
                "; ".join(reasons),
                excluded=reasons,
                order_number=order.number,
            )
    else:
        chosen = eligibility.eligible
    if not chosen:
        reasons = [f"{i.title}: {i.explanation}" for i in eligibility.items if i.explanation]
        return refuse(
            "no_eligible_items",
            f"Nothing on order {order.number} can be returned. {'; '.join(reasons)}".strip(),
            excluded=reasons,
        )
    return require_step_up(ctx, "create_return_label", order.number) or (order, chosen)


async def preview_return_label(ctx: ToolContext, args: CreateReturnLabelArgs) -> Preview | Refusal:
    selected = await _selected_items(ctx, args)
    if isinstance(selected, Refusal):
        return selected
    order, items = selected
    assert ctx.customer is not None
    guards = ctx.deps.guards
    situation = "confirm.label"
    if guards is not None:
        if await unused_label(ctx, guards, order, items_key(items)) is not None:
            situation = "confirm.label_again"
        elif len(await guards.labels(order.number)) >= ctx.deps.policy.max_labels_per_order:
            return label_limit(order, ctx.deps.policy.max_labels_per_order)
    return Preview(
        summary=say(situation, ctx.language, order=order.number, email=ctx.customer.email),
        items=[f"{i.quantity} × {i.title}" for i in items],
    )


@tool(
    mutates=True,
    needs_confirmation=True,
    preview=preview_return_label,
    progress="Creating your return label…",
)
async def create_return_label(ctx: ToolContext, args: CreateReturnLabelArgs) -> ReturnLabelCreated | Refusal:
    """Buy a prepaid return label for eligible items of the verified shopper's order, email it to
    them, and note the return on the order. Only eligible items (check_return_eligibility first). The
    shopper must have confirmed."""
    selected = await _selected_items(ctx, args)
    if isinstance(selected, Refusal):
        return selected
    order, items = selected
    assert ctx.customer is not None
    if order.shipping_address is None:
        return refuse("vendor_rejected", "The order has no shipping address to send a return label from.")
    shopper_address = order.shipping_address
    deps = ctx.deps
    titles = [f"{i.quantity} × {i.title}" for i in items]

    reference = f"return-{order.number}-{ctx.idempotency_key}"
    guards = deps.guards

    async def buy() -> dict[str, str]:
        try:
            label = await deps.shipping.buy_return_label(
                shopper=shopper_address,
                parcel=Parcel(weight_oz=16.0 * sum(i.quantity for i in items)),
                reference=reference,
                preferred_carrier=None,
            )
        except BaseException:
            if guards is not None:
                await guards.release_label(reference)
            raise
        bought = {k: str(v) for k, v in label.model_dump().items() if v is not None}
        if guards is not None:
            await guards.label_bought(reference, bought)
        return bought

    action = buy
    if guards is not None and ctx.step_key("label") not in ctx.ledger:
        # Labels are facts of the store: another conversation may have bought these very items one.
        existing = await unused_label(ctx, guards, order, items_key(items))
        if existing is not None:

            async def resend() -> dict[str, str]:
                return {**existing, "reused": "yes"}

            action = resend
        else:
            cap = deps.policy.max_labels_per_order
            now = deps.clock().timestamp()
            if not await guards.reserve_label(order.number, items_key(items), reference, cap, now):
                return label_limit(order, cap)

    label = await ctx.once("create_return_label", "label", action)
    reused = label.get("reused") == "yes"

    async def email() -> dict[str, str]:
        from integrations.domain import ReturnLabel

        sent = await deps.notifier.send_return_label(
            to_email=order.email,
            customer_name=(shopper_address.name or ctx.customer.name or "") if ctx.customer else "",
            order_number=order.number,
            label=ReturnLabel.model_validate({k: v for k, v in label.items() if k != "reused"}),
            items=titles,
        )
        return {"message_id": sent.message_id or "", "to": sent.to}

    sent = await ctx.once("create_return_label", "email", email)

    async def note() -> dict[str, str]:
        await deps.commerce.append_note(
            order.id,
            f"Return label {label['carrier']} {label['tracking_number']} for {', '.join(titles)} "
            f"(reason: {args.reason}) [ref {ctx.idempotency_key}]",
        )
        return {"noted": "yes"}

    if not reused:  # the note was added when the label was bought
        await ctx.once("create_return_label", "note", note)
    ctx.helpdesk_requests[f"{ctx.idempotency_key}:tag"] = {"kind": "tags", "add": ["return-label"]}
    return ReturnLabelCreated(
        order_number=order.number,
        items=titles,
        carrier=label["carrier"],
        service=label["service"],
        tracking_number=label["tracking_number"],
        label_url=label["label_url"],
        emailed_to=sent["to"],
        reused_existing_label=reused,
    )

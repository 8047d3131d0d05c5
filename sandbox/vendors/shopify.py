"""The emulated Shopify store's rules, on the World's records (kept in Shopify's resource shape, as
its webhooks deliver them): which orders a token may see (60 days without `read_all_orders`), reads
that trail a cancellation, what a refund is worth (each line's share of its discounted total and
tax, shipping and its tax, by cumulative rounded shares so every unit refunded in any number of
steps adds up exactly), how a suggested refund is split over the payments (in payment order, never
more than one has left), how a refund is validated and recorded, and when an order may be cancelled
or re-addressed. `sandbox.vendors.shopify_graphql` serves them through the GraphQL Admin API.

A refusal is a `ShopifyError` (a field and Shopify's words), which the API turns into user errors.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from integrations.shopify.models import (
    ORDER_HISTORY_DAYS,
    READ_ALL_ORDERS,
)
from sandbox.seed import money
from sandbox.world import JSON, World

ZERO = Decimal("0")
CENT = Decimal("0.01")
CANCEL_REASONS = {"customer", "inventory", "fraud", "declined", "staff", "other"}
ADDRESS_FIELDS = (
    "first_name", "last_name", "name", "company", "address1", "address2", "city", "province",
    "province_code", "zip", "country", "country_code", "phone",
)  # fmt: skip


# --------------------------------------------------------------------------- errors


class ShopifyError(Exception):
    """A Shopify-shaped failure: rendered as `{"errors": ...}` with the call-limit header."""

    def __init__(self, status: int, errors: Any, *, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.errors = errors
        self.headers = headers
        super().__init__(str(errors))


def unprocessable(message: str, field_name: str = "base") -> ShopifyError:
    return ShopifyError(422, {field_name: [message]})


# --------------------------------------------------------------------------- helpers


def dec(value: Any) -> Decimal:
    if value is None or value == "":
        return ZERO
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ShopifyError(422, {"base": [f"{value!r} is not a valid amount"]}) from None


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def within_history(world: World, order: JSON) -> bool:
    """Without `read_all_orders` a token sees only the orders created in the last 60 days."""
    if READ_ALL_ORDERS in world.shopify.access_scopes:
        return True
    created = datetime.fromisoformat(str(order.get("created_at")).replace("Z", "+00:00"))
    return created >= world.now() - timedelta(days=ORDER_HISTORY_DAYS)


def _is_fulfilled(order: JSON) -> bool:
    return order.get("fulfillment_status") in ("fulfilled", "partial") or any(
        f.get("status") == "success" for f in order.get("fulfillments", [])
    )


# --------------------------------------------------------------------------- pagination


# --------------------------------------------------------------------------- orders


def current_view(world: World, order: JSON) -> JSON:
    """The order as a read shows it: right after a cancellation, perhaps still as it was."""
    stale = world.shopify_consistency.stale_orders.get(order["id"])
    if stale is None:
        return order
    stale["reads_left"] -= 1
    if stale["reads_left"] <= 0:
        del world.shopify_consistency.stale_orders[order["id"]]
    view: JSON = stale["order"]
    return view


def new_shipping_address(order: JSON, given: Any) -> JSON:
    if not isinstance(given, dict):
        raise unprocessable("must be an address object", "shipping_address")
    if order.get("cancelled_at") is not None:
        raise unprocessable("cannot be changed on a cancelled order", "shipping_address")
    if _is_fulfilled(order):
        raise unprocessable("cannot be changed after the order has been fulfilled", "shipping_address")
    address = dict(order.get("shipping_address") or {})
    address.update({k: given[k] for k in ADDRESS_FIELDS if k in given})
    if "name" not in given and ("first_name" in given or "last_name" in given):
        address["name"] = " ".join(p for p in (address.get("first_name"), address.get("last_name")) if p)
    missing = [k for k in ("address1", "city", "zip") if not str(address.get(k) or "").strip()]
    if missing:
        raise unprocessable(f"{', '.join(missing)} can't be blank", "shipping_address")
    return address


def check_cancellable(order: JSON) -> None:
    """Shopify's refusals of a cancellation (user errors of `orderCancel`)."""
    if order.get("cancelled_at") is not None:
        raise unprocessable("Order has already been cancelled")
    if _is_fulfilled(order):
        raise unprocessable("Cannot cancel an order that has been fulfilled; cancel its fulfillments first")


def cancel(world: World, order: JSON, *, reason: str, refund: Any) -> JSON | None:
    """Cancel `order` in the world (what GraphQL `orderCancel`'s background job does);
    `refund` true refunds everything still refundable, a dict is a refund request. Returns the
    refund made, if any. Reads may trail for `world.shopify_consistency.cancel_lag_reads` calls."""
    check_cancellable(order)
    if reason not in CANCEL_REASONS:
        raise unprocessable("is not included in the list", "reason")
    before = copy.deepcopy(order)
    refunded = None
    if refund is True or refund == "true":
        refunded = apply_refund(world, order, full_refund_request(world, order, note="Order cancelled"))
    elif isinstance(refund, dict):
        refunded = apply_refund(world, order, refund)
    now = world.now_iso()
    order.update(cancelled_at=now, cancel_reason=reason, closed_at=now, updated_at=now)
    for item in order["line_items"]:
        item["fulfillable_quantity"] = 0
    if not _payments(world, order) and order.get("financial_status") in ("pending", "authorized"):
        order["financial_status"] = "voided"
    lag = world.shopify_consistency.cancel_lag_reads
    if lag > 0:
        world.shopify_consistency.stale_orders[order["id"]] = {"order": before, "reads_left": lag}
    return refunded


# --------------------------------------------------------------------------- refunds


def _payments(world: World, order: JSON) -> list[JSON]:
    """Transactions that took money and can be refunded against (sales and captures)."""
    return [
        t
        for t in world.shopify.transactions.get(order["id"], [])
        if t.get("kind") in ("sale", "capture") and t.get("status") == "success"
    ]


def _refundable_by_payment(world: World, order: JSON) -> list[tuple[JSON, Decimal]]:
    """Each payment with what is left on it after its successful refunds, in payment order."""
    refunded: dict[int, Decimal] = {}
    for t in world.shopify.transactions.get(order["id"], []):
        if t.get("kind") == "refund" and t.get("status") == "success" and t.get("parent_id") is not None:
            refunded[t["parent_id"]] = refunded.get(t["parent_id"], ZERO) + dec(t.get("amount"))
    return [
        (p, max(ZERO, dec(p.get("amount")) - refunded.get(p["id"], ZERO))) for p in _payments(world, order)
    ]


def units_refunded(order: JSON) -> dict[int, int]:
    units: dict[int, int] = {}
    for refund in order.get("refunds", []):
        for item in refund.get("refund_line_items", []):
            units[item["line_item_id"]] = units.get(item["line_item_id"], 0) + int(item.get("quantity", 0))
    return units


def _line_taxes(order: JSON) -> dict[int, Decimal]:
    """Each line's tax: its own tax lines, else its share of the order's tax (cents add up exactly)."""
    lines = order["line_items"]
    if any(line.get("tax_lines") for line in lines):
        return {
            line["id"]: sum((dec(t.get("price")) for t in line.get("tax_lines", [])), ZERO) for line in lines
        }
    total_tax = dec(order.get("total_tax"))
    totals = {line["id"]: _line_net(line) for line in lines}
    base = sum(totals.values(), ZERO)
    if base <= 0 or total_tax <= 0:
        return dict.fromkeys(totals, ZERO)
    shares = {
        lid: (total_tax * amount / base).quantize(CENT, rounding="ROUND_DOWN")
        for lid, amount in totals.items()
    }
    leftover = int((total_tax - sum(shares.values(), ZERO)) / CENT)
    for lid in sorted(totals, key=lambda i: -(total_tax * totals[i] / base - shares[i]))[:leftover]:
        shares[lid] += CENT
    return shares


def line_discount(line: JSON) -> Decimal:
    """Everything discounted off the line: its `discount_allocations` (Shopify 2024-10 keeps
    `total_discount` at zero), or `total_discount` in payloads from before allocations existed."""
    allocations = line.get("discount_allocations")
    if allocations:
        return sum((dec(a.get("amount")) for a in allocations), ZERO)
    return dec(line.get("total_discount"))


def _cart_discount(order: JSON, line: JSON) -> Decimal:
    """The part of the line's discount that comes from order-wide discounts (a cart discount)."""
    applications = order.get("discount_applications") or []
    order_wide = {
        index
        for index, application in enumerate(applications)
        if application.get("target_selection") == "all" and application.get("target_type") == "line_item"
    }
    return sum(
        (
            dec(a.get("amount"))
            for a in line.get("discount_allocations") or []
            if a.get("discount_application_index") in order_wide
        ),
        ZERO,
    )


def _line_net(line: JSON) -> Decimal:
    """What the line cost the shopper before tax: price times quantity, less its discounts."""
    return dec(line.get("price")) * int(line.get("quantity", 0)) - line_discount(line)


def _units_amount(total: Decimal, quantity: int, done: int, more: int) -> Decimal:
    """The part of `total` (for `quantity` units) owed for `more` units after `done` were refunded.

    Computed as a difference of rounded cumulative shares, so refunding every unit in any number
    of steps returns exactly `total`.
    """
    if quantity <= 0:
        return ZERO
    return _round(total * (done + more) / quantity) - _round(total * done / quantity)


def shipping_charged(order: JSON) -> Decimal:
    """Shipping the shopper paid: each shipping line's discounted price."""
    return sum(
        (
            dec(line["discounted_price"])
            if line.get("discounted_price") is not None
            else shipping_price(line)
            for line in order.get("shipping_lines", [])
        ),
        ZERO,
    )


def shipping_price(line: JSON) -> Decimal:
    return dec(line.get("price")) - sum(
        (dec(a.get("amount")) for a in line.get("discount_allocations") or []), ZERO
    )


def _shipping_tax(order: JSON, done: Decimal, more: Decimal) -> Decimal:
    """The shipping tax owed with `more` of the shipping after `done` was refunded (cumulative shares)."""
    charged = shipping_charged(order)
    tax = sum(
        (
            dec(t.get("price"))
            for line in order.get("shipping_lines", [])
            for t in line.get("tax_lines") or []
        ),
        ZERO,
    )
    if charged <= 0 or tax <= 0:
        return ZERO
    return _round(tax * (done + more) / charged) - _round(tax * done / charged)


def _shipping_left(order: JSON) -> Decimal:
    charged = shipping_charged(order)
    refunded = sum(
        (
            -dec(adjustment.get("amount"))
            for refund in order.get("refunds", [])
            for adjustment in refund.get("order_adjustments", [])
            if adjustment.get("kind") == "shipping_refund"
        ),
        ZERO,
    )
    return max(ZERO, charged - refunded)


@dataclass
class RefundPlan:
    """A validated refund request: line amounts, shipping, and money per payment."""

    lines: list[JSON]
    shipping: Decimal
    shipping_tax: Decimal
    requested: Decimal


def _plan(order: JSON, refund: JSON) -> RefundPlan:
    """Validate refund_line_items and shipping of a calculate/create request and price them."""
    by_id = {line["id"]: line for line in order["line_items"]}
    taxes = _line_taxes(order)
    refunded = units_refunded(order)
    requested_units: dict[int, int] = {}
    items = refund.get("refund_line_items") or []
    if not isinstance(items, list):
        raise unprocessable("must be a list", "refund_line_items")
    lines: list[JSON] = []
    for item in items:
        if not isinstance(item, dict):
            raise unprocessable("must be a list of {line_item_id, quantity}", "refund_line_items")
        try:
            line_id, quantity = int(item.get("line_item_id")), int(item.get("quantity"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise unprocessable("line_item_id and quantity must be integers", "refund_line_items") from None
        line = by_id.get(line_id)
        if line is None:
            raise unprocessable(f"Line item {line_id} does not belong to this order", "refund_line_items")
        if quantity <= 0:
            continue
        done = refunded.get(line_id, 0) + requested_units.get(line_id, 0)
        left = int(line.get("quantity", 0)) - done
        if quantity > left:
            raise unprocessable(
                f"cannot refund {quantity} of line item {line_id}: only {left} left to refund",
                "refund_line_items",
            )
        requested_units[line_id] = requested_units.get(line_id, 0) + quantity
        units = int(line["quantity"])
        cart = _cart_discount(order, line)
        # Before cart discounts: what the line costs after its own (product) discounts only.
        own = dec(line.get("price")) * units - (line_discount(line) - cart)
        lines.append(
            {
                "line_item_id": line_id,
                "quantity": quantity,
                "restock_type": str(item.get("restock_type") or "no_restock"),
                "location_id": item.get("location_id"),
                "price": line.get("price"),
                "subtotal": _units_amount(_line_net(line), units, done, quantity),
                "total_tax": _units_amount(taxes.get(line_id, ZERO), units, done, quantity),
                "discounted_price": _round(own / units),
                "discounted_total_price": _units_amount(own, units, done, quantity),
                "total_cart_discount_amount": _units_amount(cart, units, done, quantity),
                "line": line,
            }
        )
    shipping_request = refund.get("shipping") or {}
    if not isinstance(shipping_request, dict):
        raise unprocessable("must be an object", "shipping")
    shipping_left = _shipping_left(order)
    if shipping_request.get("full_refund") in (True, "true"):
        shipping = shipping_left
    else:
        shipping = _round(dec(shipping_request.get("amount")))
        if shipping < 0 or shipping > shipping_left:
            raise unprocessable(
                f"Shipping refund {money(shipping)} exceeds the {money(shipping_left)} refundable"
            )
    shipping_tax = _shipping_tax(order, shipping_charged(order) - shipping_left, shipping)
    requested = sum((line["subtotal"] + line["total_tax"] for line in lines), ZERO) + shipping + shipping_tax
    return RefundPlan(lines=lines, shipping=shipping, shipping_tax=shipping_tax, requested=requested)


def suggest_refund(world: World, order: JSON, request: JSON) -> JSON:
    """The refund Shopify suggests for a request (GraphQL `suggestedRefund`; REST's
    `refunds/calculate` before it): the items' and shipping's amounts, split over the payments in order."""
    plan = _plan(order, request)
    to_refund = plan.requested
    payments = _refundable_by_payment(world, order)
    money_left = sum((left for _, left in payments), ZERO)
    transactions = []
    for payment, left in payments:
        if left <= 0:
            continue
        take = min(left, to_refund)
        to_refund -= take
        transactions.append(
            {
                "order_id": order["id"],
                "kind": "suggested_refund",
                "gateway": payment.get("gateway"),
                "parent_id": payment["id"],
                "amount": money(take),
                "currency": payment.get("currency", order.get("currency")),
                "maximum_refundable": money(left),
            }
        )
    return {
        "currency": order.get("currency"),
        "shipping": {
            "amount": money(plan.shipping),
            "tax": money(plan.shipping_tax),
            "maximum_refundable": money(min(_shipping_left(order), money_left)),
        },
        "duties": [],
        "additional_fees": [],
        "refund_line_items": [
            {
                "quantity": line["quantity"],
                "line_item_id": line["line_item_id"],
                "location_id": line["location_id"],
                "restock_type": line["restock_type"],
                "price": line["price"],
                "subtotal": money(line["subtotal"]),
                "total_tax": money(line["total_tax"]),
                "discounted_price": money(line["discounted_price"]),
                "discounted_total_price": money(line["discounted_total_price"]),
                "total_cart_discount_amount": money(line["total_cart_discount_amount"]),
            }
            for line in plan.lines
        ],
        "transactions": transactions,
    }


def full_refund_request(world: World, order: JSON, *, note: str) -> JSON:
    """A refund request for everything still refundable (cancel with `refund: true`)."""
    refunded = units_refunded(order)
    return {
        "note": note,
        "shipping": {"full_refund": True},
        "refund_line_items": [
            {
                "line_item_id": line["id"],
                "quantity": line["quantity"] - refunded.get(line["id"], 0),
                "restock_type": "cancel",
            }
            for line in order["line_items"]
            if line["quantity"] - refunded.get(line["id"], 0) > 0
        ],
        "transactions": [
            {
                "parent_id": payment["id"],
                "amount": money(left),
                "kind": "refund",
                "gateway": payment.get("gateway"),
            }
            for payment, left in _refundable_by_payment(world, order)
            if left > 0
        ],
    }


def _validated_transactions(world: World, order: JSON, refund: JSON) -> list[tuple[JSON, Decimal]]:
    given = refund.get("transactions") or []
    if not isinstance(given, list):
        raise unprocessable("must be a list", "transactions")
    left = {payment["id"]: (payment, amount) for payment, amount in _refundable_by_payment(world, order)}
    chosen: list[tuple[JSON, Decimal]] = []
    for transaction in given:
        if not isinstance(transaction, dict):
            raise unprocessable("must be a list of transactions", "transactions")
        kind = transaction.get("kind", "refund")
        if kind != "refund":
            raise unprocessable(f"Transaction kind must be 'refund', not {kind!r}")
        try:
            parent_id = int(transaction.get("parent_id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise unprocessable(
                "A refund transaction needs the parent_id of the payment it refunds"
            ) from None
        if parent_id not in left:
            raise unprocessable(f"Parent transaction {parent_id} is not a payment of this order")
        payment, remaining = left[parent_id]
        gateway = transaction.get("gateway")
        if gateway and gateway != payment.get("gateway"):
            raise unprocessable(
                f"Refund gateway {gateway!r} differs from the payment's gateway {payment.get('gateway')!r}"
            )
        amount = _round(dec(transaction.get("amount")))
        if amount <= 0:
            raise unprocessable("Refund amount must be greater than 0")
        if amount > remaining:
            raise unprocessable(
                f"Refund amount {money(amount)} exceeds the {money(remaining)} refundable on "
                f"transaction {parent_id} ({payment.get('gateway')})"
            )
        left[parent_id] = (payment, remaining - amount)
        chosen.append((payment, amount))
    return chosen


def apply_refund(world: World, order: JSON, refund: JSON) -> JSON:
    """Validate a refund request completely, then record it on the order and the transactions."""
    plan = _plan(order, refund)
    money_back = _validated_transactions(world, order, refund)
    if not plan.lines and not money_back and plan.shipping <= 0:
        raise unprocessable("A refund needs line items, shipping or transactions")
    now = world.now_iso()
    refund_id = world.new_int_id()
    records = []
    for payment, amount in money_back:
        record = {
            "id": world.new_int_id(),
            "order_id": order["id"],
            "kind": "refund",
            "gateway": payment.get("gateway"),
            "status": "success",
            "message": "Refund processed (sandbox)",
            "amount": money(amount),
            "currency": payment.get("currency", order.get("currency")),
            "parent_id": payment["id"],
            "created_at": now,
            "processed_at": now,
            "test": False,
            "authorization": payment.get("authorization"),
            "error_code": None,
        }
        records.append(record)
        world.shopify.transactions.setdefault(order["id"], []).append(record)
    refund_line_items = [
        {
            "id": world.new_int_id(),
            "line_item_id": line["line_item_id"],
            "quantity": line["quantity"],
            "restock_type": line["restock_type"],
            "location_id": line["location_id"],
            # Shopify sends these two as JSON numbers in refund records.
            "subtotal": float(line["subtotal"]),
            "total_tax": float(line["total_tax"]),
            "line_item": copy.deepcopy(line["line"]),
        }
        for line in plan.lines
    ]
    adjustments = []
    if plan.shipping > 0:
        adjustments.append(
            {
                "id": world.new_int_id(),
                "order_id": order["id"],
                "refund_id": refund_id,
                "kind": "shipping_refund",
                "reason": "Shipping refund",
                "amount": money(-plan.shipping),
                "tax_amount": money(-plan.shipping_tax) if plan.shipping_tax else "0.00",
            }
        )
    record = {
        "id": refund_id,
        "order_id": order["id"],
        "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}",
        "created_at": now,
        "processed_at": now,
        "note": refund.get("note"),
        "restock": any(line["restock_type"] != "no_restock" for line in plan.lines),
        "user_id": None,
        "refund_line_items": refund_line_items,
        "transactions": records,
        "order_adjustments": adjustments,
    }
    order.setdefault("refunds", []).append(record)
    _after_refund(world, order, plan)
    return record


def _after_refund(world: World, order: JSON, plan: RefundPlan) -> None:
    refunded_units = units_refunded(order)
    for line in order["line_items"]:
        line["current_quantity"] = line["quantity"] - refunded_units.get(line["id"], 0)
    for planned in plan.lines:
        line = planned["line"]
        line["fulfillable_quantity"] = max(
            0, int(line.get("fulfillable_quantity") or 0) - planned["quantity"]
        )
    refunded_money = sum(
        (
            dec(t.get("amount"))
            for t in world.shopify.transactions.get(order["id"], [])
            if t.get("kind") == "refund" and t.get("status") == "success"
        ),
        ZERO,
    )
    if refunded_money > 0:
        left = sum((amount for _, amount in _refundable_by_payment(world, order)), ZERO)
        order["financial_status"] = "refunded" if left <= 0 else "partially_refunded"
    order["current_total_price"] = money(max(ZERO, dec(order.get("total_price")) - refunded_money))
    order["updated_at"] = world.now_iso()


# --------------------------------------------------------------------------- customers, products, shop


# --------------------------------------------------------------------------- webhooks

# Where Shopify delivers: an HTTPS endpoint (plain HTTP accepted here, for loopback), a Google
# Pub/Sub topic or an Amazon EventBridge source.
WEBHOOK_ADDRESS = re.compile(r"^(https?://[^\s/]+|pubsub://\S+:\S+|arn:aws:events:\S+)")


# Registered last: any other path under the base is Shopify's 404, not FastAPI's.

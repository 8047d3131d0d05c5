"""How a seeded order is priced, the way Shopify's REST API (2024-10 and later) shows it.

Discounts never touch a line's `price` nor its `total_discount` (Shopify keeps that at "0.00");
each discount is an entry of the order's `discount_applications`, and what it takes from each
line (or shipping line) is one of that line's `discount_allocations`, pointing back at it by
`discount_application_index`. Product discounts (`target_selection: entitled`) apply first, then
order-wide ones (`target_selection: all`) to what is left, then shipping discounts. A fixed amount
spread `across` several lines is split in proportion to them, the leftover cents going first to
the lines that lost most to rounding, then in line order (as Shopify's TENOFF example splits 10.00
over three 199.00 lines as 3.34 + 3.33 + 3.33).

Tax is charged on what each line costs after its discounts: the order's tax is rounded once, then
shared over the lines in proportion to their discounted totals (so the lines' `tax_lines` add up to
the order's `total_tax` to the cent).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Literal, Protocol

from sandbox.world import JSON

CENT = Decimal("0.01")
ZERO = Decimal("0")


class Discount(Protocol):
    """What a seed says about one discount (see `sandbox.seed.SeedDiscount`)."""

    type: Literal["discount_code", "automatic", "manual"]
    code: str | None
    title: str | None
    value: Decimal
    value_type: Literal["percentage", "fixed_amount"]
    target: Literal["order", "items", "shipping"]
    skus: list[str]
    max_units: int | None


def money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def money_set(value: Decimal, currency: str) -> JSON:
    amount = {"amount": money(value), "currency_code": currency}
    return {"shop_money": amount, "presentment_money": dict(amount)}


def allocated(line: JSON) -> Decimal:
    return sum((Decimal(a["amount"]) for a in line.get("discount_allocations", [])), ZERO)


def line_net(line: JSON) -> Decimal:
    """What a line costs after every discount allocated to it."""
    return Decimal(line["price"]) * int(line["quantity"]) - allocated(line)


def split(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """`total` in cents over `weights`, proportionally; leftover cents to the largest remainders."""
    base = sum(weights, ZERO)
    if base <= 0 or total <= 0:
        return [ZERO for _ in weights]
    exact = [total * weight / base for weight in weights]
    shares = [value.quantize(CENT, rounding=ROUND_DOWN) for value in exact]
    leftover = int((total - sum(shares, ZERO)) / CENT)
    by_remainder = sorted(range(len(weights)), key=lambda i: -(exact[i] - shares[i]))
    for index in by_remainder[:leftover]:
        shares[index] += CENT
    return shares


def _application(discount: Discount) -> JSON:
    target_type = "shipping_line" if discount.target == "shipping" else "line_item"
    application: JSON = {
        "target_type": target_type,
        "type": discount.type,
        "value": str(discount.value.normalize()) if discount.value % 1 else f"{discount.value:.1f}",
        "value_type": discount.value_type,
        "allocation_method": "each" if discount.target == "shipping" else "across",
        "target_selection": "entitled" if discount.target == "items" else "all",
    }
    if discount.type == "discount_code":
        application["code"] = discount.code
    else:
        application["title"] = discount.title
        application["description"] = discount.title
    return application


def _eligible(discount: Discount, line: JSON) -> Decimal:
    """What of `line` the discount may take from (0 when the line is not entitled to it)."""
    if discount.target == "items":
        if line.get("sku") not in discount.skus:
            return ZERO
        units = int(line["quantity"])
        if discount.max_units is not None:
            units = min(units, discount.max_units)
        return Decimal(line["price"]) * units
    return line_net(line)


def _amounts(discount: Discount, eligible: list[Decimal]) -> list[Decimal]:
    if discount.value_type == "percentage":
        rate = min(discount.value, Decimal(100)) / 100
        return [(amount * rate).quantize(CENT, rounding=ROUND_HALF_UP) for amount in eligible]
    return split(min(discount.value, sum(eligible, ZERO)), eligible)


def apply_discounts(
    discounts: Sequence[Discount], lines: list[JSON], shipping_lines: list[JSON], currency: str
) -> tuple[list[JSON], list[JSON]]:
    """Allocate `discounts` onto the lines in place: (discount_applications, discount_codes)."""
    order = {"items": 0, "order": 1, "shipping": 2}
    applications: list[JSON] = []
    codes: list[JSON] = []
    for index, discount in enumerate(sorted(discounts, key=lambda d: order[d.target])):
        targets = shipping_lines if discount.target == "shipping" else lines
        if discount.target == "shipping":
            eligible = [Decimal(s["price"]) - allocated(s) for s in targets]
        else:
            eligible = [_eligible(discount, line) for line in targets]
        amounts = _amounts(discount, eligible)
        for target, amount in zip(targets, amounts, strict=True):
            if amount > 0:
                target.setdefault("discount_allocations", []).append(
                    {
                        "amount": money(amount),
                        "amount_set": money_set(amount, currency),
                        "discount_application_index": index,
                    }
                )
        applications.append(_application(discount))
        if discount.type == "discount_code":
            kind = "shipping" if discount.target == "shipping" else discount.value_type
            codes.append({"code": discount.code, "amount": money(sum(amounts, ZERO)), "type": kind})
    for shipping in shipping_lines:
        discounted = Decimal(shipping["price"]) - allocated(shipping)
        shipping["discounted_price"] = money(discounted)
        shipping["discounted_price_set"] = money_set(discounted, currency)
    return applications, codes


def add_tax_lines(lines: list[JSON], rate: Decimal, currency: str, title: str = "Sales tax") -> Decimal:
    """Tax on the discounted lines: the order's tax, rounded once, shared over the lines' `tax_lines`."""
    nets = [line_net(line) for line in lines]
    total = (sum(nets, ZERO) * rate).quantize(CENT, rounding=ROUND_HALF_UP)
    for line, share in zip(lines, split(total, nets), strict=True):
        line["tax_lines"] = (
            [
                {
                    "title": title,
                    "rate": float(rate),
                    "price": money(share),
                    "price_set": money_set(share, currency),
                    "channel_liable": False,
                }
            ]
            if rate > 0
            else []
        )
    return total

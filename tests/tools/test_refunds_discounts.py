"""Refunds of discounted orders, through the tools, on both paths: Shopify-paid orders refunded by
Shopify, Stripe-paid ones by a Stripe refund whose amount is our own arithmetic. Every quote and
every refund (full, one item, the last items with the shipping) equals the emulator's own
refund calculation, which follows Shopify's: the discounted lines, their tax, the shipping left."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from tests.integrations.shopify_graphql import suggested_total
from tests.tools.conftest import Harness
from tools.refunds import RefundEligibility, RefundIssued, check_refund_eligibility, issue_refund

EMAIL = {
    "1031": "isabel.romero@example.com",  # WELCOME10: 10% off the order, paid on Shopify
    "1032": "noah.kim@example.com",  # FALL15: 15.00 off the order, paid through Stripe
    "1033": "maya.cohen@example.com",  # automatic: second beanie half price, paid on Shopify
    "1034": "hiro.tanaka@example.com",  # automatic: 25% off two of three mugs, free shipping, Stripe
}
LINES = {number: [int(f"520000{number}0{i}") for i in (1, 2)] for number in EMAIL}


async def calculated(harness: Harness, number: str, line_ids: list[int], shipping: bool) -> Decimal:
    """What the emulator's suggested refund gives for these whole lines (and the shipping left)."""
    order = harness.order(int(number))
    lines = [(lid, next(li["quantity"] for li in order["line_items"] if li["id"] == lid)) for lid in line_ids]
    async with httpx.AsyncClient(base_url=harness.sandbox.url) as http:
        return await suggested_total(http, order["id"], lines, shipping)


def args(number: str, line_ids: list[int] | None) -> dict[str, object]:
    return {"order_number": number, "line_item_ids": [str(i) for i in line_ids] if line_ids else None}


@pytest.mark.parametrize("number", list(EMAIL))
@pytest.mark.parametrize("which", ["full", "first item", "second item"])
async def test_every_quote_is_the_emulators_calculation(harness: Harness, number: str, which: str) -> None:
    line_ids = {"full": None, "first item": LINES[number][:1], "second item": LINES[number][1:]}[which]
    result = await harness.call(
        check_refund_eligibility, harness.ctx(EMAIL[number]), **args(number, line_ids)
    )
    assert isinstance(result, RefundEligibility), result
    expected = await calculated(harness, number, line_ids or LINES[number], shipping=line_ids is None)
    assert Decimal(result.refundable_amount) == expected
    assert result.processor == ("stripe" if number in ("1032", "1034") else "platform")


@pytest.mark.parametrize("number", list(EMAIL))
async def test_a_full_refund_pays_back_exactly_what_was_paid(harness: Harness, number: str) -> None:
    expected = await calculated(harness, number, LINES[number], shipping=True)
    assert expected == Decimal(harness.order(int(number))["total_price"])
    result = await harness.call(
        issue_refund, harness.ctx(EMAIL[number]), **args(number, None), reason="changed my mind"
    )
    assert isinstance(result, RefundIssued), result
    assert Decimal(result.amount) == expected
    if number in ("1032", "1034"):
        (refund,) = harness.world.stripe.refunds.values()
        assert refund["amount"] == int(expected * 100)
    else:
        assert (
            sum((Decimal(t["amount"]) for t in harness.refund_transactions(int(number))), Decimal(0))
            == expected
        )


@pytest.mark.parametrize("number", ["1031", "1033"])
async def test_one_item_then_the_rest_with_the_shipping(harness: Harness, number: str) -> None:
    first, second = LINES[number]
    one = await calculated(harness, number, [first], shipping=False)
    result = await harness.call(
        issue_refund, harness.ctx(EMAIL[number], call="c1"), **args(number, [first]), reason="too small"
    )
    assert isinstance(result, RefundIssued), result
    assert Decimal(result.amount) == one

    rest = await calculated(harness, number, [second], shipping=True)
    quote = await harness.call(
        check_refund_eligibility, harness.ctx(EMAIL[number], call="c2"), **args(number, [second])
    )
    assert isinstance(quote, RefundEligibility)
    assert Decimal(quote.refundable_amount) == rest  # the last item takes the shipping with it
    result = await harness.call(
        issue_refund, harness.ctx(EMAIL[number], call="c3"), **args(number, [second]), reason="too small"
    )
    assert isinstance(result, RefundIssued), result
    assert Decimal(result.amount) == rest
    assert one + rest == Decimal(harness.order(int(number))["total_price"])
    assert harness.order(int(number))["financial_status"] == "refunded"


async def test_a_stripe_paid_item_refund_is_the_discounted_amount(harness: Harness) -> None:
    mugs = LINES["1034"][:1]
    expected = await calculated(harness, "1034", mugs, shipping=False)
    assert expected == Decimal("41.80")  # 3 x 16.00 - 8.00 off two of them + 1.80 tax
    result = await harness.call(
        issue_refund, harness.ctx(EMAIL["1034"]), **args("1034", mugs), reason="chipped"
    )
    assert isinstance(result, RefundIssued), result
    assert Decimal(result.amount) == expected
    (refund,) = harness.world.stripe.refunds.values()
    assert refund["amount"] == 4180

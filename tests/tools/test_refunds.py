"""check_refund_eligibility and issue_refund: Shopify refunds over every payment, Stripe refunds for
orders paid outside Shopify, the approval limit, and never more than is refundable."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.tools.conftest import EMAILS, Harness
from tools.refunds import (
    IssueRefundArgs,
    RefundEligibility,
    RefundIssued,
    RefundPendingApproval,
    check_refund_eligibility,
    issue_refund,
    preview_refund,
    refund_after_approval,
)
from tools.results import Refusal
from tools.spec import Preview

MUG, BEANIE = "520000100201", "520000100202"
SUNGLASSES, BOTTLE = "520000100601", "520000100602"
JACKET, BACKPACK = "520000100501", "520000100502"
INTENT = "pi_3SandboxGrace1009"


def refund_args(number: str, line_item_ids: list[str] | None = None) -> dict[str, Any]:
    return {"order_number": number, "line_item_ids": line_item_ids, "reason": "arrived broken"}


def refunded_total(harness: Harness, number: int) -> Decimal:
    return sum((Decimal(t["amount"]) for t in harness.refund_transactions(number)), Decimal(0))


# ---------------------------------------------------------------------- eligibility


@pytest.mark.parametrize(
    ("number", "line_item_ids", "amount", "within", "processor"),
    [
        ("1002", None, "78.48", True, "platform"),
        ("1005", None, "480.00", False, "platform"),
        ("1005", [BACKPACK], None, False, "platform"),
        ("1006", None, None, True, "platform"),
        ("1009", None, "80.97", True, "stripe"),
    ],
)
async def test_refund_eligibility(
    harness: Harness,
    number: str,
    line_item_ids: list[str] | None,
    amount: str | None,
    within: bool,
    processor: str,
) -> None:
    before = harness.world.digest()
    result = await harness.call(
        check_refund_eligibility,
        harness.ctx(EMAILS[number]),
        order_number=number,
        line_item_ids=line_item_ids,
    )
    assert isinstance(result, RefundEligibility)
    if amount is not None:
        assert result.refundable_amount == amount
    assert (
        Decimal(0) < Decimal(result.refundable_amount) <= Decimal(harness.order(int(number))["total_price"])
    )
    assert result.within_auto_approval_limit is within
    assert result.needs_human_approval is not within
    assert result.processor == processor
    assert harness.world.digest() == before


async def test_refund_eligibility_excludes_the_final_sale_item(harness: Harness) -> None:
    result = await harness.call(
        check_refund_eligibility, harness.ctx(EMAILS["1006"]), order_number="1006", line_item_ids=None
    )
    assert isinstance(result, RefundEligibility)
    assert result.items == ["1 × Insulated Bottle 750 ml - Forest Green"]
    assert len(result.excluded) == 1
    assert "Polarized Sunglasses" in result.excluded[0]
    # The bottle (34.00 plus its tax), not the whole 139.56.
    assert Decimal("34.00") <= Decimal(result.refundable_amount) < Decimal("40.00")


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("1001", "not_delivered"),
        ("1003", "outside_return_window"),
        ("1004", "not_delivered"),
        ("1007", "not_delivered"),
        ("1008", "already_refunded"),
    ],
)
async def test_refund_eligibility_refusals(harness: Harness, number: str, code: str) -> None:
    result = await harness.call(
        check_refund_eligibility, harness.ctx(EMAILS[number]), order_number=number, line_item_ids=None
    )
    assert isinstance(result, Refusal)
    assert result.code == code


# ---------------------------------------------------------------------- issue_refund


async def test_refund_a_shopify_order(harness: Harness) -> None:
    ctx = harness.ctx(EMAILS["1002"])
    result = await harness.call(issue_refund, ctx, **refund_args("1002"))
    assert isinstance(result, RefundIssued)
    assert (result.amount, result.currency, result.processor) == ("78.48", "USD", "shopify")
    assert result.items == ["1 × Stoneware Mug Set - Set of 4 / Sand", "1 × Merino Wool Beanie - Navy"]
    (refund,) = harness.shopify_refunds(1002)
    assert str(refund["id"]) == result.refund_id
    assert sorted(str(li["line_item_id"]) for li in refund["refund_line_items"]) == [MUG, BEANIE]
    (transaction,) = harness.refund_transactions(1002)
    assert transaction["amount"] == "78.48"
    assert transaction["parent_id"] == 52000010021
    assert harness.order(1002)["financial_status"] == "refunded"
    note = harness.order(1002)["note"]
    assert result.refund_id in note
    assert "$78.48" in note
    assert harness.world.stripe.refunds == {}
    assert ctx.approval_request is None


async def test_refund_only_the_returnable_item_of_a_mixed_order(harness: Harness) -> None:
    result = await harness.call(issue_refund, harness.ctx(EMAILS["1006"]), **refund_args("1006"))
    assert isinstance(result, RefundIssued)
    assert result.items == ["1 × Insulated Bottle 750 ml - Forest Green"]
    (refund,) = harness.shopify_refunds(1006)
    assert [str(li["line_item_id"]) for li in refund["refund_line_items"]] == [BOTTLE]
    assert refunded_total(harness, 1006) == Decimal(result.amount) < Decimal("40.00")
    assert harness.order(1006)["financial_status"] == "partially_refunded"


async def test_refunding_a_final_sale_item_is_refused(harness: Harness) -> None:
    before = harness.world.digest()
    result = await harness.call(
        issue_refund, harness.ctx(EMAILS["1006"]), **refund_args("1006", [SUNGLASSES])
    )
    assert isinstance(result, Refusal)
    assert result.code == "final_sale"
    assert harness.world.digest() == before


async def test_refund_a_stripe_payment(harness: Harness) -> None:
    shopify_before = harness.transactions(1009)
    result = await harness.call(issue_refund, harness.ctx(EMAILS["1009"]), **refund_args("1009"))
    assert isinstance(result, RefundIssued)
    assert (result.amount, result.processor) == ("80.97", "stripe")
    (refund,) = harness.world.stripe.refunds.values()
    assert refund["id"] == result.refund_id
    assert refund["amount"] == 8097
    assert refund["currency"] == "usd"
    assert refund["payment_intent"] == INTENT
    assert refund["metadata"]["order_number"] == "1009"
    assert harness.world.stripe.charges["ch_3SandboxGrace1009"]["amount_refunded"] == 8097
    # Shopify keeps its payment records; the refund is noted on the order.
    assert harness.shopify_refunds(1009) == []
    assert harness.transactions(1009) == shopify_before
    note = harness.order(1009)["note"]
    assert result.refund_id in note
    assert "$80.97" in note


async def test_an_over_limit_refund_asks_for_approval_and_refunds_nothing(harness: Harness) -> None:
    before = harness.world.digest()
    ctx = harness.ctx(EMAILS["1005"])
    result = await harness.call(issue_refund, ctx, **refund_args("1005"))
    assert isinstance(result, RefundPendingApproval)
    assert result.status == "pending_approval"
    assert result.amount == "480.00"
    assert "$100.00" in result.message
    assert "nothing has been refunded" in result.message
    assert ctx.approval_request is not None
    assert ctx.approval_request.amount == "480.00"
    assert ctx.approval_request.idempotency_key == ctx.idempotency_key
    assert sorted(ctx.approval_request.line_item_ids or []) == [JACKET, BACKPACK]
    assert harness.shopify_refunds(1005) == []
    assert harness.refund_transactions(1005) == []
    assert harness.world.digest() == before
    assert not any(entry["step"] == "refund" for entry in ctx.ledger.values())


async def test_one_over_limit_item_also_needs_approval(harness: Harness) -> None:
    ctx = harness.ctx(EMAILS["1005"])
    result = await harness.call(issue_refund, ctx, **refund_args("1005", [BACKPACK]))
    assert isinstance(result, RefundPendingApproval)
    assert Decimal(result.amount) > Decimal("100.00")
    assert harness.shopify_refunds(1005) == []


async def test_an_approved_refund_is_split_over_the_gift_card_and_the_card(harness: Harness) -> None:
    ctx = harness.ctx(EMAILS["1005"], call="call-ask")
    pending = await harness.call(issue_refund, ctx, **refund_args("1005"))
    assert isinstance(pending, RefundPendingApproval)
    assert ctx.approval_request is not None
    result = await refund_after_approval(harness.ctx(EMAILS["1005"], call="call-ask"), ctx.approval_request)
    assert isinstance(result, RefundIssued)
    assert result.amount == "480.00"
    by_parent = {t["parent_id"]: t["amount"] for t in harness.refund_transactions(1005)}
    assert by_parent == {52000010051: "80.00", 52000010052: "400.00"}
    assert len(harness.shopify_refunds(1005)) == 1


async def test_an_already_refunded_order_is_refused(harness: Harness) -> None:
    before = harness.world.digest()
    result = await harness.call(issue_refund, harness.ctx(EMAILS["1008"]), **refund_args("1008"))
    assert isinstance(result, Refusal)
    assert result.code == "already_refunded"
    assert len(harness.refund_transactions(1008)) == 1
    assert harness.world.digest() == before


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("1003", "outside_return_window"),
        ("1001", "not_delivered"),
        ("1004", "not_delivered"),
        ("1007", "not_delivered"),
    ],
)
async def test_refunds_the_policy_does_not_allow_are_refused(
    harness: Harness, number: str, code: str
) -> None:
    before = harness.world.digest()
    result = await harness.call(issue_refund, harness.ctx(EMAILS[number]), **refund_args(number))
    assert isinstance(result, Refusal)
    assert result.code == code
    # Item by item, as data: the model never has to take the message apart.
    assert result.excluded and all(": " in reason for reason in result.excluded)
    assert harness.world.digest() == before


async def test_a_second_refund_request_for_the_same_order_is_refused(harness: Harness) -> None:
    """A new tool call (not a retry) asking again: the order is already refunded."""
    first = await harness.call(
        issue_refund, harness.ctx(EMAILS["1002"], call="call-1"), **refund_args("1002")
    )
    assert isinstance(first, RefundIssued)
    second = await harness.call(
        issue_refund, harness.ctx(EMAILS["1002"], call="call-2"), **refund_args("1002")
    )
    assert isinstance(second, Refusal)
    assert second.code == "already_refunded"
    assert len(harness.shopify_refunds(1002)) == 1
    assert refunded_total(harness, 1002) == Decimal("78.48")


async def test_a_second_refund_request_for_a_stripe_order_is_refused(harness: Harness) -> None:
    """The Stripe payment is fully refunded; Shopify's records do not show it, Stripe's do."""
    first = await harness.call(
        issue_refund, harness.ctx(EMAILS["1009"], call="call-1"), **refund_args("1009")
    )
    assert isinstance(first, RefundIssued)
    second = await harness.call(
        issue_refund, harness.ctx(EMAILS["1009"], call="call-2"), **refund_args("1009")
    )
    assert isinstance(second, Refusal)
    assert second.code == "already_refunded"
    assert len(harness.world.stripe.refunds) == 1


async def test_never_more_than_what_is_left(harness: Harness) -> None:
    """After the mug is refunded, refunding 'the whole order' refunds exactly what is left, shipping too."""
    mug = await harness.call(
        issue_refund, harness.ctx(EMAILS["1002"], call="call-1"), **refund_args("1002", [MUG])
    )
    assert isinstance(mug, RefundIssued)
    again = await harness.call(
        issue_refund, harness.ctx(EMAILS["1002"], call="call-2"), **refund_args("1002", [MUG])
    )
    assert isinstance(again, Refusal)
    assert again.code == "already_refunded"
    rest = await harness.call(issue_refund, harness.ctx(EMAILS["1002"], call="call-3"), **refund_args("1002"))
    assert isinstance(rest, RefundIssued)
    assert rest.items == ["1 × Merino Wool Beanie - Navy"]
    assert len(harness.shopify_refunds(1002)) == 2
    assert refunded_total(harness, 1002) == Decimal(mug.amount) + Decimal(rest.amount) == Decimal("78.48")
    last = await harness.call(issue_refund, harness.ctx(EMAILS["1002"], call="call-4"), **refund_args("1002"))
    assert isinstance(last, Refusal)
    assert last.code == "already_refunded"
    assert len(harness.shopify_refunds(1002)) == 2


async def test_preview_says_what_will_happen_and_changes_nothing(harness: Harness) -> None:
    before = harness.world.digest()
    small = await preview_refund(harness.ctx(EMAILS["1002"]), IssueRefundArgs(**refund_args("1002")))
    assert isinstance(small, Preview)
    assert small.amount == "78.48"
    assert "$78.48" in small.summary
    assert "approved by a person" not in small.summary
    big = await preview_refund(harness.ctx(EMAILS["1005"]), IssueRefundArgs(**refund_args("1005")))
    assert isinstance(big, Preview)
    assert big.amount == "480.00"
    assert "approved by a person" in big.summary
    refused = await preview_refund(harness.ctx(EMAILS["1008"]), IssueRefundArgs(**refund_args("1008")))
    assert isinstance(refused, Refusal)
    assert refused.code == "already_refunded"
    assert small.excluded == []
    assert harness.world.digest() == before


async def test_preview_of_a_whole_order_names_the_final_sale_items_it_leaves_out(harness: Harness) -> None:
    # Order 1006: polarized sunglasses (final sale) and an insulated bottle.
    preview = await preview_refund(harness.ctx(EMAILS["1006"]), IssueRefundArgs(**refund_args("1006")))
    assert isinstance(preview, Preview)
    assert [i for i in preview.items if "Sunglasses" in i] == []
    assert len(preview.excluded) == 1
    assert "Sunglasses" in preview.excluded[0]
    assert "final-sale" in preview.excluded[0].lower()

"""A vendor failing mid-way: a clear "try again later / hand to a person" result, no exception, no
partial double effects, and a retry with the same ledger finishing without repeating done steps.

Faults are injected through the sandbox's control API; retries wait on a recorder, not the clock.
"""

from __future__ import annotations

import json
from typing import Any

from tests.tools.conftest import EMAILS, Harness
from tools.identity import CustomerVerified, verify_customer
from tools.order_changes import cancel_order
from tools.orders import OrderDetails, lookup_order
from tools.refunds import RefundIssued, issue_refund
from tools.results import Refusal
from tools.returns import ReturnLabelCreated, create_return_label
from tools.spec import VENDOR_DOWN_MESSAGE

REFUND_1009 = {"order_number": "1009", "line_item_ids": None, "reason": "arrived broken"}
REFUND_1002 = {"order_number": "1002", "line_item_ids": None, "reason": "arrived broken"}
LABEL_1002 = {"order_number": "1002", "line_item_ids": None, "reason": "too small"}


def assert_vendor_down(result: object, vendor: str) -> None:
    assert isinstance(result, Refusal)
    assert result.code == "vendor_unavailable"
    assert result.message == VENDOR_DOWN_MESSAGE
    assert "try again" in result.message
    assert "person" in result.message
    assert result.details == {"vendor": vendor}


def steps(ledger: dict[str, Any]) -> list[str]:
    return sorted(entry["step"] for entry in ledger.values())


async def test_stripe_down_refunds_nothing_and_a_retry_refunds_once(harness: Harness) -> None:
    await harness.add_fault(vendor="stripe", kind="error", status=500, remaining=10)
    note_before = harness.order(1009).get("note")
    ctx = harness.ctx(EMAILS["1009"])

    result = await harness.call(issue_refund, ctx, **REFUND_1009)

    assert_vendor_down(result, "stripe")
    assert harness.sleeps.waits, "the read should have been retried before giving up"
    assert harness.world.stripe.refunds == {}
    assert harness.order(1009).get("note") == note_before
    assert ctx.ledger == {}

    await harness.clear_faults()
    retried = await harness.call(issue_refund, ctx, **REFUND_1009)
    assert isinstance(retried, RefundIssued)
    (refund,) = harness.world.stripe.refunds.values()
    assert refund["amount"] == 8097


async def test_a_failing_stripe_refund_is_retried_with_the_same_idempotency_key(harness: Harness) -> None:
    await harness.add_fault(
        vendor="stripe", route="/refunds", method="POST", kind="error", status=500, remaining=2
    )
    result = await harness.call(issue_refund, harness.ctx(EMAILS["1009"]), **REFUND_1009)
    assert isinstance(result, RefundIssued)
    assert len(harness.sleeps.waits) == 2
    assert len(harness.world.stripe.refunds) == 1


async def test_a_failing_shopify_refund_is_retried_after_reading_the_order_again(harness: Harness) -> None:
    await harness.add_fault(
        vendor="shopify", route="#RefundCreate", method="POST", kind="error", status=500, remaining=1
    )
    result = await harness.call(issue_refund, harness.ctx(EMAILS["1002"]), **REFUND_1002)
    assert isinstance(result, RefundIssued)
    assert len(harness.sleeps.waits) == 1
    assert len(harness.shopify_refunds(1002)) == 1
    assert len(harness.refund_transactions(1002)) == 1


async def test_email_failing_after_the_label_was_bought_resumes_without_buying_again(
    harness: Harness,
) -> None:
    await harness.add_fault(vendor="sendgrid", kind="error", status=500, remaining=1)
    ctx = harness.ctx(EMAILS["1002"])

    result = await harness.call(create_return_label, ctx, **LABEL_1002)

    assert_vendor_down(result, "sendgrid")
    assert len(harness.labels()) == 1
    assert harness.world.sendgrid.outbox == []
    assert "Return label" not in (harness.order(1002).get("note") or "")
    assert steps(ctx.ledger) == ["label"], "only the finished step is recorded"
    bought = harness.labels()[0]["tracking_code"]

    # The graph retries later from its checkpoint: same call, the saved ledger.
    resumed = harness.ctx(EMAILS["1002"], ledger=json.loads(json.dumps(ctx.ledger)))
    retried = await harness.call(create_return_label, resumed, **LABEL_1002)

    assert isinstance(retried, ReturnLabelCreated)
    assert retried.tracking_number == bought
    assert len(harness.world.easypost.shipments) == 1
    assert len(harness.labels()) == 1
    (email,) = harness.world.sendgrid.outbox
    assert bought in email["text"]
    assert sum(bought in line for line in harness.order(1002)["note"].splitlines()) == 1
    assert steps(resumed.ledger) == ["email", "label", "note", "result"]


async def test_a_failed_label_purchase_is_completed_by_the_retry(harness: Harness) -> None:
    await harness.add_fault(
        vendor="easypost", route="/buy", method="POST", kind="error", status=500, remaining=1
    )
    ctx = harness.ctx(EMAILS["1002"])

    result = await harness.call(create_return_label, ctx, **LABEL_1002)

    assert_vendor_down(result, "easypost")
    assert harness.labels() == []
    assert harness.world.sendgrid.outbox == []
    assert ctx.ledger == {}

    retried = await harness.call(create_return_label, ctx, **LABEL_1002)
    assert isinstance(retried, ReturnLabelCreated)
    assert len(harness.world.easypost.shipments) == 1, "the shipment created before the failure is reused"
    assert len(harness.labels()) == 1
    assert len(harness.world.sendgrid.outbox) == 1


async def test_shopify_down_gives_a_clear_result_not_an_exception(harness: Harness) -> None:
    await harness.add_fault(vendor="shopify", kind="error", status=503, remaining=50)
    result = await harness.call(lookup_order, harness.ctx(EMAILS["1001"]), order_number="1001")
    assert_vendor_down(result, "shopify")
    assert len(harness.sleeps.waits) >= 2


async def test_a_shopify_outage_does_not_use_up_verification_attempts(harness: Harness) -> None:
    await harness.add_fault(vendor="shopify", kind="error", status=503, remaining=50)
    ctx = harness.ctx()
    result = await harness.call(verify_customer, ctx, email=EMAILS["1001"], order_number="1001")
    assert_vendor_down(result, "shopify")
    assert ctx.verification_attempts == 0
    assert ctx.escalate_reason is None


async def test_rate_limits_are_waited_out_as_the_vendor_asks(harness: Harness) -> None:
    await harness.add_fault(vendor="shopify", kind="rate_limit", retry_after=2.0, remaining=1)
    ctx = harness.ctx()
    result = await harness.call(verify_customer, ctx, email=EMAILS["1001"], order_number="1001")
    assert isinstance(result, CustomerVerified)
    assert harness.sleeps.waits == [2.0]
    looked_up = await harness.call(lookup_order, ctx, order_number="1001")
    assert isinstance(looked_up, OrderDetails)


async def test_a_vendor_rejection_is_not_reported_as_an_outage(harness: Harness) -> None:
    """A 4xx from the vendor means 'no', not 'down': the shopper is not told to try again later."""
    from tools.spec import run_tool, spec_of

    await harness.add_fault(vendor="shopify", route="#OrderCancel", kind="error", status=422, remaining=1)
    result = await run_tool(
        spec_of(cancel_order),
        harness.ctx(EMAILS["1004"], call="reject-1"),
        {"order_number": "1004", "reason": "x"},
    )
    assert isinstance(result, Refusal)
    assert result.code == "vendor_rejected"
    assert harness.order(1004)["cancelled_at"] is None

"""One side effect per (conversation, tool call): through the ledger (a repeated call, a crash and
resume) and, without the ledger, through the vendors (Stripe's Idempotency-Key, the Shopify refund
marker read before writing, the EasyPost shipment reference)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from tests.tools.conftest import EMAILS, Harness
from tools.context import ToolContext
from tools.refunds import RefundIssued, issue_refund
from tools.results import Refusal, ToolResult
from tools.returns import ReturnLabelCreated, create_return_label

REFUND_1002 = {"order_number": "1002", "line_item_ids": None, "reason": "arrived broken"}
REFUND_1009 = {"order_number": "1009", "line_item_ids": None, "reason": "arrived broken"}
LABEL_1002 = {"order_number": "1002", "line_item_ids": None, "reason": "too small"}


def checkpointed(ledger: dict[str, Any]) -> dict[str, Any]:
    """The ledger as a checkpointer stores and restores it: plain JSON."""
    restored: dict[str, Any] = json.loads(json.dumps(ledger))
    return restored


def assert_replayed_or_refused(second: ToolResult | Refusal, first: RefundIssued) -> None:
    """Without the ledger a repeat of the same call finds the vendor's refund made with its key and
    reports it (the item list is not kept at the vendor), or sees it is already refunded."""
    if isinstance(second, Refusal):
        assert second.code == "already_refunded"
    else:
        assert isinstance(second, RefundIssued)
        assert second.model_dump(exclude={"items"}) == first.model_dump(exclude={"items"})


def note_lines(harness: Harness, number: int, marker: str) -> int:
    return sum(marker in line for line in (harness.order(number).get("note") or "").splitlines())


# ---------------------------------------------------------------------- the ledger


async def test_issue_refund_twice_in_the_same_call_refunds_once(harness: Harness) -> None:
    ctx = harness.ctx(EMAILS["1002"])
    first = await harness.call(issue_refund, ctx, **REFUND_1002)
    second = await harness.call(issue_refund, ctx, **REFUND_1002)
    assert isinstance(first, RefundIssued)
    assert second == first
    assert len(harness.shopify_refunds(1002)) == 1
    assert len(harness.refund_transactions(1002)) == 1
    assert note_lines(harness, 1002, f"Refund shopify {first.refund_id}") == 1


async def test_create_return_label_twice_in_the_same_call_buys_and_emails_once(harness: Harness) -> None:
    ctx = harness.ctx(EMAILS["1002"])
    first = await harness.call(create_return_label, ctx, **LABEL_1002)
    second = await harness.call(create_return_label, ctx, **LABEL_1002)
    assert isinstance(first, ReturnLabelCreated)
    assert second == first
    assert len(harness.labels()) == 1
    assert len(harness.world.easypost.shipments) == 1
    assert len(harness.world.sendgrid.outbox) == 1
    assert note_lines(harness, 1002, first.tracking_number) == 1


async def test_after_a_crash_and_resume_the_saved_ledger_replays_the_refund(harness: Harness) -> None:
    ctx = harness.ctx(EMAILS["1002"], conversation="conv-crash", call="call-7")
    first = await harness.call(issue_refund, ctx, **REFUND_1002)
    assert isinstance(first, RefundIssued)
    after_first = harness.world.digest()
    # The process dies; the graph resumes from its checkpoint with a new context and new clients.
    resumed = harness.ctx(
        EMAILS["1002"], conversation="conv-crash", call="call-7", ledger=checkpointed(ctx.ledger)
    )
    harness.commerce.clear_cache()
    second = await harness.call(issue_refund, resumed, **REFUND_1002)
    assert second == first
    assert harness.world.digest() == after_first
    assert len(harness.refund_transactions(1002)) == 1


async def test_after_a_crash_and_resume_the_saved_ledger_replays_the_label(harness: Harness) -> None:
    ctx = harness.ctx(EMAILS["1002"], conversation="conv-crash", call="call-8")
    first = await harness.call(create_return_label, ctx, **LABEL_1002)
    assert isinstance(first, ReturnLabelCreated)
    after_first = harness.world.digest()
    resumed = harness.ctx(
        EMAILS["1002"], conversation="conv-crash", call="call-8", ledger=checkpointed(ctx.ledger)
    )
    second = await harness.call(create_return_label, resumed, **LABEL_1002)
    assert second == first
    assert harness.world.digest() == after_first
    assert len(harness.labels()) == 1
    assert len(harness.world.sendgrid.outbox) == 1


async def test_a_crash_after_the_label_was_bought_resumes_with_the_remaining_steps(harness: Harness) -> None:
    """Only the purchase made it into the checkpoint: the resume emails and notes, buying nothing."""
    ctx = harness.ctx(EMAILS["1002"], call="call-9")
    first = await harness.call(create_return_label, ctx, **LABEL_1002)
    assert isinstance(first, ReturnLabelCreated)
    label_step = {k: v for k, v in ctx.ledger.items() if v["step"] == "label"}
    assert len(label_step) == 1
    # Roll the world's email and note back to "crashed right after buying".
    harness.world.sendgrid.outbox.clear()
    order = harness.order(1002)
    order["note"] = "\n".join(
        line for line in order["note"].splitlines() if first.tracking_number not in line
    )
    harness.commerce.clear_cache()

    resumed = harness.ctx(EMAILS["1002"], call="call-9", ledger=checkpointed(label_step))
    second = await harness.call(create_return_label, resumed, **LABEL_1002)
    assert second == first
    assert len(harness.labels()) == 1
    assert len(harness.world.easypost.shipments) == 1
    assert len(harness.world.sendgrid.outbox) == 1
    assert note_lines(harness, 1002, first.tracking_number) == 1


async def test_a_crash_after_the_email_was_sent_does_not_email_again(harness: Harness) -> None:
    """SendGrid has no idempotency key: only the ledger's `email` step keeps the shopper's inbox clean."""
    ctx = harness.ctx(EMAILS["1002"], call="call-10")
    first = await harness.call(create_return_label, ctx, **LABEL_1002)
    assert isinstance(first, ReturnLabelCreated)
    done = {k: v for k, v in ctx.ledger.items() if v["step"] in ("label", "email")}
    assert len(done) == 2
    order = harness.order(1002)
    order["note"] = "\n".join(
        line for line in order["note"].splitlines() if first.tracking_number not in line
    )
    harness.commerce.clear_cache()

    resumed = harness.ctx(EMAILS["1002"], call="call-10", ledger=checkpointed(done))
    second = await harness.call(create_return_label, resumed, **LABEL_1002)
    assert second == first
    assert len(harness.world.sendgrid.outbox) == 1
    assert note_lines(harness, 1002, first.tracking_number) == 1


async def test_different_tool_calls_get_different_keys(harness: Harness) -> None:
    a = harness.ctx(conversation="conv-1", call="call-1")
    assert a.idempotency_key == harness.ctx(conversation="conv-1", call="call-1").idempotency_key
    assert a.idempotency_key != harness.ctx(conversation="conv-1", call="call-2").idempotency_key
    assert a.idempotency_key != harness.ctx(conversation="conv-2", call="call-1").idempotency_key
    # The separator keeps ("a", "bc") and ("ab", "c") apart.
    assert (
        harness.ctx(conversation="a", call="bc").idempotency_key
        != harness.ctx(conversation="ab", call="c").idempotency_key
    )


# ---------------------------------------------------------------------- without the ledger: the vendors


def fresh(harness: Harness, number: str, call: str) -> ToolContext:
    """Same conversation and tool call, but the ledger was lost (and so was every cache)."""
    harness.commerce.clear_cache()
    return harness.ctx(EMAILS[number], conversation="conv-lost", call=call)


async def test_a_lost_ledger_does_not_refund_a_shopify_order_twice(harness: Harness) -> None:
    first = await harness.call(issue_refund, fresh(harness, "1002", "call-1"), **REFUND_1002)
    assert isinstance(first, RefundIssued)
    second = await harness.call(issue_refund, fresh(harness, "1002", "call-1"), **REFUND_1002)
    assert_replayed_or_refused(second, first)
    assert len(harness.shopify_refunds(1002)) == 1
    assert len(harness.refund_transactions(1002)) == 1


async def test_the_shopify_refund_is_read_before_it_is_written(harness: Harness) -> None:
    """The adapter below the tool: the same key finds the refund already made and returns it."""
    commerce = harness.commerce
    order_id = str(harness.order(1002)["id"])
    quote = await commerce.quote_refund(order_id, None, include_shipping=True)
    assert quote.amount == Decimal("78.48")
    first = await commerce.refund(quote, note="broken", idempotency_key="sa-test-key")
    second = await commerce.refund(quote, note="broken", idempotency_key="sa-test-key")
    assert second.id == first.id
    assert len(harness.shopify_refunds(1002)) == 1
    assert "sa-test-key" in harness.shopify_refunds(1002)[0]["note"]


async def test_a_lost_ledger_does_not_refund_a_stripe_payment_twice(harness: Harness) -> None:
    first = await harness.call(issue_refund, fresh(harness, "1009", "call-1"), **REFUND_1009)
    assert isinstance(first, RefundIssued)
    second = await harness.call(issue_refund, fresh(harness, "1009", "call-1"), **REFUND_1009)
    assert_replayed_or_refused(second, first)
    (refund,) = harness.world.stripe.refunds.values()
    assert refund["amount"] == 8097
    assert note_lines(harness, 1009, first.refund_id) == 1


async def test_stripe_gets_the_idempotency_key(harness: Harness) -> None:
    """The processor below the tool: the same key returns the same refund, never a second one."""
    payments = harness.deps.payments
    args: dict[str, Any] = {"currency": "USD", "metadata": {"order_number": "1009"}}
    first = await payments.refund("pi_3SandboxGrace1009", Decimal("80.97"), idempotency_key="sa-k1", **args)
    second = await payments.refund("pi_3SandboxGrace1009", Decimal("80.97"), idempotency_key="sa-k1", **args)
    assert second.id == first.id
    assert len(harness.world.stripe.refunds) == 1


async def test_a_lost_ledger_does_not_buy_a_second_label(harness: Harness) -> None:
    first = await harness.call(create_return_label, fresh(harness, "1002", "call-1"), **LABEL_1002)
    assert isinstance(first, ReturnLabelCreated)
    second = await harness.call(create_return_label, fresh(harness, "1002", "call-1"), **LABEL_1002)
    assert isinstance(second, ReturnLabelCreated)
    assert second.tracking_number == first.tracking_number
    assert second.label_url == first.label_url
    assert len(harness.world.easypost.shipments) == 1
    assert len(harness.labels()) == 1

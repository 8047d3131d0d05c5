"""cancel_order and update_shipping_address: only before fulfilment; escalate_to_human."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tools.conftest import EMAILS, Harness
from tools.escalation import Escalated, escalate_to_human
from tools.order_changes import (
    AddressUpdated,
    CancelOrderArgs,
    NewAddress,
    OrderCancelled,
    UpdateShippingAddressArgs,
    cancel_order,
    preview_address,
    preview_cancel,
    update_shipping_address,
)
from tools.results import Refusal
from tools.spec import Preview

FULFILLED = ["1001", "1002", "1003", "1005", "1006", "1007", "1008", "1009"]

NEW_ADDRESS: dict[str, Any] = {
    "name": None,
    "address1": "88 Harbor Way",
    "address2": "Apt 4",
    "city": "Portland",
    "province_code": "OR",
    "zip": "97209",
    "country_code": "us",
}


# ---------------------------------------------------------------------- cancel_order


async def test_cancel_an_unfulfilled_order_and_refund_it(harness: Harness) -> None:
    ctx = harness.ctx(EMAILS["1004"])
    result = await harness.call(cancel_order, ctx, order_number="1004", reason="ordered the wrong size")
    assert isinstance(result, OrderCancelled)
    assert (result.order_number, result.refunded_amount, result.currency) == ("1004", "354.00", "USD")
    order = harness.order(1004)
    assert order["cancelled_at"] == harness.world.now_iso()
    assert order["financial_status"] == "refunded"
    (refund,) = order["refunds"]
    (transaction,) = refund["transactions"]
    assert (transaction["kind"], transaction["amount"], transaction["parent_id"]) == (
        "refund",
        "354.00",
        52000010041,
    )
    assert "ordered the wrong size" in order["note"]
    assert harness.world.stripe.refunds == {}


@pytest.mark.parametrize("number", FULFILLED)
async def test_a_fulfilled_order_cannot_be_cancelled(harness: Harness, number: str) -> None:
    before = harness.world.digest()
    ctx = harness.ctx(EMAILS[number])
    result = await harness.call(cancel_order, ctx, order_number=number, reason="too slow")
    assert isinstance(result, Refusal)
    assert result.code == "already_fulfilled"
    assert harness.world.digest() == before
    assert harness.order(int(number))["cancelled_at"] is None
    assert ctx.ledger == {}


async def test_a_cancelled_order_cannot_be_cancelled_again(harness: Harness) -> None:
    first = await harness.call(
        cancel_order, harness.ctx(EMAILS["1004"], call="c1"), order_number="1004", reason="x"
    )
    assert isinstance(first, OrderCancelled)
    after_first = harness.world.digest()
    second = await harness.call(
        cancel_order, harness.ctx(EMAILS["1004"], call="c2"), order_number="1004", reason="x"
    )
    assert isinstance(second, Refusal)
    assert second.code == "already_cancelled"
    assert len(harness.shopify_refunds(1004)) == 1
    assert harness.world.digest() == after_first


async def test_cancelling_an_order_paid_through_stripe_refunds_the_payment_intent(harness: Harness) -> None:
    order = harness.order(1009)
    order["fulfillments"] = []
    order["fulfillment_status"] = None
    result = await harness.call(cancel_order, harness.ctx(EMAILS["1009"]), order_number="1009", reason="x")
    assert isinstance(result, OrderCancelled)
    assert result.refunded_amount == "80.97"
    assert harness.order(1009)["cancelled_at"] is not None
    (refund,) = harness.world.stripe.refunds.values()
    assert (refund["payment_intent"], refund["amount"]) == ("pi_3SandboxGrace1009", 8097)


async def test_a_cancellation_cut_short_after_cancelling_refunds_on_retry(harness: Harness) -> None:
    """The process dies between cancelling a Stripe-paid order and refunding it: the retry of the same
    call (same key, its ledger lost with the process, the journal kept) refunds instead of refusing
    an order that is no longer changeable."""
    from langgraph.store.memory import InMemoryStore

    order = harness.order(1009)
    order["fulfillments"] = []
    order["fulfillment_status"] = None
    harness.deps.journal = InMemoryStore()
    refund = harness.deps.payments.refund

    async def dies(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the process died")

    harness.deps.payments.refund = dies  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        await cancel_order(harness.ctx(EMAILS["1009"]), CancelOrderArgs(order_number="1009", reason="x"))
    assert harness.order(1009)["cancelled_at"] is not None
    assert harness.world.stripe.refunds == {}
    harness.deps.payments.refund = refund  # type: ignore[method-assign]

    result = await harness.call(cancel_order, harness.ctx(EMAILS["1009"]), order_number="1009", reason="x")

    assert isinstance(result, OrderCancelled) and result.refunded_amount == "80.97"
    (made,) = harness.world.stripe.refunds.values()
    assert made["amount"] == 8097


async def test_cancel_preview_changes_nothing(harness: Harness) -> None:
    before = harness.world.digest()
    preview = await preview_cancel(
        harness.ctx(EMAILS["1004"]), CancelOrderArgs(order_number="1004", reason="x")
    )
    assert isinstance(preview, Preview)
    assert preview.amount == "354.00"
    assert "#1004" in preview.summary
    refused = await preview_cancel(
        harness.ctx(EMAILS["1001"]), CancelOrderArgs(order_number="1001", reason="x")
    )
    assert isinstance(refused, Refusal)
    assert refused.code == "already_fulfilled"
    assert harness.world.digest() == before


# ---------------------------------------------------------------------- update_shipping_address


async def test_change_the_address_before_fulfilment(harness: Harness) -> None:
    old = dict(harness.order(1004)["shipping_address"])
    result = await harness.call(
        update_shipping_address, harness.ctx(EMAILS["1004"]), order_number="1004", address=NEW_ADDRESS
    )
    assert isinstance(result, AddressUpdated)
    assert "88 Harbor Way" in result.address
    assert "Portland" in result.address
    stored = harness.order(1004)["shipping_address"]
    assert (
        stored["address1"],
        stored["address2"],
        stored["city"],
        stored["province_code"],
        stored["zip"],
    ) == (
        "88 Harbor Way",
        "Apt 4",
        "Portland",
        "OR",
        "97209",
    )
    assert stored["country_code"] == "US"
    assert stored["name"] == old["name"], "a null name keeps the recipient"
    assert stored["phone"] == old["phone"]
    assert harness.order(1004)["cancelled_at"] is None
    assert harness.shopify_refunds(1004) == []


@pytest.mark.parametrize("number", FULFILLED)
async def test_the_address_of_a_fulfilled_order_cannot_change(harness: Harness, number: str) -> None:
    before = harness.world.digest()
    result = await harness.call(
        update_shipping_address, harness.ctx(EMAILS[number]), order_number=number, address=NEW_ADDRESS
    )
    assert isinstance(result, Refusal)
    assert result.code == "already_fulfilled"
    assert harness.world.digest() == before


async def test_the_address_of_a_cancelled_order_cannot_change(harness: Harness) -> None:
    await harness.call(cancel_order, harness.ctx(EMAILS["1004"], call="c1"), order_number="1004", reason="x")
    before = harness.world.digest()
    result = await harness.call(
        update_shipping_address,
        harness.ctx(EMAILS["1004"], call="c2"),
        order_number="1004",
        address=NEW_ADDRESS,
    )
    assert isinstance(result, Refusal)
    assert result.code == "already_cancelled"
    assert harness.world.digest() == before


async def test_an_incomplete_address_is_invalid(harness: Harness) -> None:
    before = harness.world.digest()
    partial = {k: v for k, v in NEW_ADDRESS.items() if k != "zip"}
    result = await harness.call(
        update_shipping_address, harness.ctx(EMAILS["1004"]), order_number="1004", address=partial
    )
    assert isinstance(result, Refusal)
    assert result.code == "invalid_arguments"
    assert harness.world.digest() == before


async def test_address_preview_changes_nothing(harness: Harness) -> None:
    before = harness.world.digest()
    args = UpdateShippingAddressArgs(order_number="1004", address=NewAddress(**NEW_ADDRESS))
    preview = await preview_address(harness.ctx(EMAILS["1004"]), args)
    assert isinstance(preview, Preview)
    assert preview.address is not None
    assert "88 Harbor Way" in preview.address
    assert harness.world.digest() == before


# ---------------------------------------------------------------------- escalate_to_human


async def test_escalate_to_human_asks_the_graph_for_a_handoff(harness: Harness) -> None:
    before = harness.world.digest()
    ctx = harness.ctx()
    result = await harness.call(
        escalate_to_human, ctx, reason="chargeback threat", summary="Shopper threatens a chargeback on #1007."
    )
    assert isinstance(result, Escalated)
    assert result.reason == "chargeback threat"
    assert ctx.escalate_reason == "chargeback threat: Shopper threatens a chargeback on #1007."
    # The handoff itself (ticket, email) is the graph's job; the tool changes nothing.
    assert harness.world.digest() == before
    assert harness.world.sendgrid.outbox == []

"""The Stripe client, through the official SDK against the sandbox over HTTP: refunds that are
idempotent by key, refusals, refundable amounts, faults and typed errors."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from tenacity import AsyncRetrying

from integrations._http import AuthError, NotFound, RateLimited, VendorError, retrying
from integrations.stripe import StripePayments, StripeRefund, from_minor, to_minor
from sandbox.world import Fault
from tests.conftest import LiveSandbox

INTENT = "pi_3SandboxGrace1009"  # order #1009, paid 80.97 USD through Stripe
CHARGE = "ch_3SandboxGrace1009"
METADATA = {"order_number": "1009", "conversation": "conv-7"}


def client_for(
    live: LiveSandbox,
    policy: Callable[[], AsyncRetrying] | None = None,
    *,
    key: str = "sk_test_sandbox",
    timeout: float = 5,
) -> StripePayments:
    return StripePayments(key, f"{live.url}/stripe", timeout=timeout, retry_policy=policy)


async def refund(client: StripePayments, amount: str | None, key: str) -> StripeRefund:
    return await client.refund_payment_intent(
        INTENT,
        amount=Decimal(amount) if amount is not None else None,
        currency="USD",
        metadata=METADATA,
        idempotency_key=key,
    )


def test_money_conversions_are_exact() -> None:
    assert to_minor(Decimal("80.97"), "usd") == 8097
    assert to_minor(Decimal("12.3"), "USD") == 1230
    assert to_minor(Decimal("1500"), "jpy") == 1500
    assert from_minor(8097, "usd") == Decimal("80.97")
    assert from_minor(1500, "JPY") == Decimal(1500)
    with pytest.raises(ValueError, match="decimal places"):
        to_minor(Decimal("1.005"), "usd")
    with pytest.raises(ValueError, match="positive"):
        to_minor(Decimal(0), "usd")


async def test_reads_the_payment_intent_and_what_is_refundable(live_sandbox: LiveSandbox) -> None:
    client = client_for(live_sandbox)
    intent = await client.get_payment_intent(INTENT)
    assert (intent.amount_received, intent.currency, intent.status) == (8097, "usd", "succeeded")
    assert intent.latest_charge == CHARGE
    assert intent.metadata["order_number"] == "1009"
    assert await client.refundable_amount(INTENT) == Decimal("80.97")


async def test_partial_refund_is_recorded_and_reduces_the_refundable_amount(
    live_sandbox: LiveSandbox,
) -> None:
    client = client_for(live_sandbox)
    made = await client.refund_payment_intent(
        INTENT, amount=Decimal("25.50"), currency="USD", metadata=METADATA, idempotency_key="conv-7:call-1"
    )
    world = live_sandbox.world
    assert made.id.startswith("re_")
    assert (made.amount, made.amount_decimal, made.status) == (2550, Decimal("25.50"), "succeeded")
    assert (made.payment_intent, made.charge, made.reason) == (INTENT, CHARGE, "requested_by_customer")
    assert made.metadata == METADATA
    assert made.created == int(world.clock.timestamp())
    assert world.stripe.refunds[made.id]["metadata"] == METADATA
    assert world.stripe.charges[CHARGE]["amount_refunded"] == 2550
    assert world.stripe.idempotency["conv-7:call-1"]["body"]["id"] == made.id
    assert await client.refundable_amount(INTENT) == Decimal("55.47")
    assert [r.id for r in await client.list_refunds(INTENT)] == [made.id]


async def test_same_idempotency_key_gives_one_refund(live_sandbox: LiveSandbox) -> None:
    client = client_for(live_sandbox)
    first = await refund(client, "10.00", "conv-7:call-2")
    second = await refund(client, "10.00", "conv-7:call-2")
    assert second == first
    assert list(live_sandbox.world.stripe.refunds) == [first.id]
    assert live_sandbox.world.stripe.charges[CHARGE]["amount_refunded"] == 1000


async def test_a_new_key_is_a_new_refund(live_sandbox: LiveSandbox) -> None:
    client = client_for(live_sandbox)
    await refund(client, "10.00", "k-1")
    await refund(client, "10.00", "k-2")
    assert len(live_sandbox.world.stripe.refunds) == 2
    assert await client.refundable_amount(INTENT) == Decimal("60.97")


async def test_reusing_a_key_with_other_parameters_is_refused(live_sandbox: LiveSandbox) -> None:
    client = client_for(live_sandbox)
    await refund(client, "10.00", "k-1")
    with pytest.raises(VendorError, match="idempotency_error"):
        await refund(client, "12.00", "k-1")
    assert len(live_sandbox.world.stripe.refunds) == 1


async def test_refund_above_what_is_left_is_refused_and_records_nothing(
    live_sandbox: LiveSandbox, policy: Callable[[], AsyncRetrying], waits: list[float]
) -> None:
    with pytest.raises(VendorError) as caught:
        await refund(client_for(live_sandbox, policy), "90.00", "k-1")
    assert caught.value.status == 400
    assert "amount_too_large" in str(caught.value)
    assert "($90.00) is greater than unrefunded amount on charge ($80.97)" in str(caught.value)
    assert not caught.value.retryable
    assert waits == []
    world = live_sandbox.world
    assert world.stripe.refunds == {}
    assert world.stripe.idempotency == {}
    assert world.stripe.charges[CHARGE]["amount_refunded"] == 0


async def test_full_refund_then_nothing_is_left(live_sandbox: LiveSandbox) -> None:
    client = client_for(live_sandbox)
    whole = await refund(client, None, "k-all")
    assert whole.amount == 8097
    assert live_sandbox.world.stripe.charges[CHARGE]["refunded"] is True
    assert await client.refundable_amount(INTENT) == Decimal("0.00")
    with pytest.raises(VendorError, match="charge_already_refunded"):
        await refund(client, "1.00", "k-more")
    assert len(live_sandbox.world.stripe.refunds) == 1


async def test_amount_in_another_currency_or_with_sub_cents_is_refused_before_sending(
    live_sandbox: LiveSandbox,
) -> None:
    client = client_for(live_sandbox)
    with pytest.raises(VendorError, match="payment is in USD"):
        await client.refund_payment_intent(
            INTENT, amount=Decimal(100), currency="JPY", metadata={}, idempotency_key="k-jpy"
        )
    with pytest.raises(VendorError, match="decimal places"):
        await refund(client, "1.005", "k-sub")
    with pytest.raises(VendorError, match="idempotency key"):
        await refund(client, "1.00", "")
    assert live_sandbox.world.stripe.refunds == {}


async def test_rate_limited_refund_is_retried_after_retry_after(
    live_sandbox: LiveSandbox, policy: Callable[[], AsyncRetrying], waits: list[float]
) -> None:
    live_sandbox.world.faults.append(
        Fault(vendor="stripe", route="/refunds", method="POST", kind="rate_limit", retry_after=3)
    )
    made = await refund(client_for(live_sandbox, policy), "5.00", "k-1")
    assert waits == [3]
    assert list(live_sandbox.world.stripe.refunds) == [made.id]


async def test_server_error_on_refund_is_retried_with_the_same_key(
    live_sandbox: LiveSandbox, policy: Callable[[], AsyncRetrying], waits: list[float]
) -> None:
    live_sandbox.world.faults.append(Fault(vendor="stripe", route="/refunds", method="POST", kind="error"))
    made = await refund(client_for(live_sandbox, policy), "5.00", "k-1")
    assert len(waits) == 1
    assert list(live_sandbox.world.stripe.refunds) == [made.id]
    assert list(live_sandbox.world.stripe.idempotency) == ["k-1"]


async def test_server_error_on_a_read_is_retried(
    live_sandbox: LiveSandbox, policy: Callable[[], AsyncRetrying], waits: list[float]
) -> None:
    live_sandbox.world.faults.append(
        Fault(vendor="stripe", route="/payment_intents", kind="error", remaining=2)
    )
    intent = await client_for(live_sandbox, policy).get_payment_intent(INTENT)
    assert intent.id == INTENT
    assert len(waits) == 2


async def test_persistent_rate_limit_surfaces(
    live_sandbox: LiveSandbox, policy: Callable[[], AsyncRetrying], waits: list[float]
) -> None:
    live_sandbox.world.faults.append(
        Fault(vendor="stripe", route="/charges", kind="rate_limit", retry_after=1, remaining=10)
    )
    with pytest.raises(RateLimited):
        await client_for(live_sandbox, policy).get_charge(CHARGE)
    assert waits == [1, 1, 1]


async def test_malformed_body_is_a_vendor_error(live_sandbox: LiveSandbox) -> None:
    live_sandbox.world.faults.append(Fault(vendor="stripe", route="/payment_intents", kind="malformed"))
    with pytest.raises(VendorError, match="malformed"):
        await client_for(live_sandbox).get_payment_intent(INTENT)


async def test_wrong_key_names_the_setting(live_sandbox: LiveSandbox) -> None:
    with pytest.raises(AuthError) as caught:
        await client_for(live_sandbox, key="sk_test_wrong").get_payment_intent(INTENT)
    assert caught.value.setting == "STRIPE_API_KEY"
    assert "sk_test_wrong" not in str(caught.value)


async def test_unknown_payment_intent_is_not_found(live_sandbox: LiveSandbox) -> None:
    client = client_for(live_sandbox)
    with pytest.raises(NotFound):
        await client.get_payment_intent("pi_missing")
    with pytest.raises(NotFound):
        await client.refund_payment_intent(
            "pi_missing", amount=None, currency="USD", metadata={}, idempotency_key="k-missing"
        )


async def test_slower_than_the_timeout_is_a_vendor_error(
    live_sandbox: LiveSandbox, waits: list[float]
) -> None:
    async def record(seconds: float) -> None:
        waits.append(seconds)

    live_sandbox.world.faults.append(
        Fault(vendor="stripe", route="/payment_intents", kind="delay", delay_seconds=0.5, remaining=2)
    )
    client = client_for(live_sandbox, lambda: retrying(sleep=record, attempts=2), timeout=0.2)
    with pytest.raises(VendorError, match="timed out"):
        await client.get_payment_intent(INTENT)
    assert len(waits) == 1

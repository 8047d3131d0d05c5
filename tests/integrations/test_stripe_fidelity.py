"""Stripe as Stripe publishes it: the client parses the published objects (nullable metadata
included), and the emulator carries every field the spec requires and refuses metadata beyond
Stripe's limits, as the real API does."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from integrations.stripe import StripePayments, StripeRefund
from integrations.stripe.models import StripeCharge, StripePaymentIntent, within_metadata_limits
from sandbox.world import World
from tests.conftest import LiveSandbox
from tests.published import stripe_openapi as published

STRIPE = "/stripe/v1"
AUTH = {"Authorization": "Bearer sk_test_sandbox"}
INTENT = "pi_3SandboxGrace1009"
CHARGE = "ch_3SandboxGrace1009"


# --------------------------------------------------------------------------- contract: published objects


def test_the_published_refund_parses() -> None:
    refund = StripeRefund.model_validate(published.REFUND)
    assert (refund.id, refund.amount, refund.status, refund.metadata) == (
        "re_1Pgc72B7WZ01zgkWqPvrRrPE",
        100,
        "succeeded",
        {},
    )


def test_a_refund_with_null_metadata_parses() -> None:
    # The spec marks metadata nullable; Stripe's fixtures send `"metadata": null` on nested objects.
    assert published.CHARGE_SOURCE["metadata"] is None
    refund = StripeRefund.model_validate({**published.REFUND, "metadata": None})
    assert refund.metadata == {}


def test_the_published_field_sets_are_what_our_models_read() -> None:
    # Every field the client reads is one the spec requires, so a real object always carries it.
    assert set(StripeRefund.model_fields) <= published.REFUND_FIELDS
    assert set(StripeCharge.model_fields) <= published.CHARGE_FIELDS
    assert set(StripePaymentIntent.model_fields) <= published.PAYMENT_INTENT_FIELDS


# --------------------------------------------------------------------------- the emulator


def test_seeded_payment_intents_and_charges_carry_every_required_field(world: World) -> None:
    assert world.stripe.payment_intents and world.stripe.charges
    for intent in world.stripe.payment_intents.values():
        assert set(intent) >= published.PAYMENT_INTENT_FIELDS, published.PAYMENT_INTENT_FIELDS - set(intent)
        StripePaymentIntent.model_validate(intent)
    for charge in world.stripe.charges.values():
        assert set(charge) >= published.CHARGE_FIELDS, published.CHARGE_FIELDS - set(charge)
        StripeCharge.model_validate(charge)


async def test_a_created_refund_carries_every_required_field(
    sandbox_http: httpx.AsyncClient, world: World
) -> None:
    response = await sandbox_http.post(
        f"{STRIPE}/refunds", data={"payment_intent": INTENT, "amount": "500"}, headers=AUTH
    )
    assert response.status_code == 200, response.text
    refund = response.json()
    assert set(refund) >= published.REFUND_FIELDS, published.REFUND_FIELDS - set(refund)
    assert world.stripe.charges[CHARGE]["refunds"]["data"][0]["id"] == refund["id"]


@pytest.mark.parametrize(
    ("form", "param", "words"),
    [
        ({"metadata[reason]": "x" * 501}, "metadata[reason]", "up to 500 characters"),
        ({"metadata[" + "k" * 41 + "]": "v"}, "metadata[" + "k" * 41 + "]", "up to 40 characters"),
        ({f"metadata[k{i}]": "v" for i in range(51)}, "metadata", "up to 50 metadata keys"),
    ],
)
async def test_metadata_beyond_stripes_limits_is_refused_and_records_nothing(
    sandbox_http: httpx.AsyncClient, world: World, form: dict[str, str], param: str, words: str
) -> None:
    response = await sandbox_http.post(
        f"{STRIPE}/refunds",
        data={"payment_intent": INTENT, "amount": "500", **form},
        headers={**AUTH, "Idempotency-Key": "k-meta"},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", param)
    assert words in error["message"]
    assert world.stripe.refunds == {}
    assert world.stripe.idempotency == {}
    assert world.stripe.charges[CHARGE]["amount_refunded"] == 0


async def test_metadata_of_exactly_500_characters_is_accepted(sandbox_http: httpx.AsyncClient) -> None:
    response = await sandbox_http.post(
        f"{STRIPE}/refunds",
        data={"payment_intent": INTENT, "amount": "500", "metadata[reason]": "x" * 500},
        headers=AUTH,
    )
    assert response.status_code == 200
    assert len(response.json()["metadata"]["reason"]) == 500


# --------------------------------------------------------------------------- the client


def test_metadata_is_cut_to_stripes_limits() -> None:
    long = {f"key-{i}-" + "k" * 50: "v" * 900 for i in range(60)}
    bounded = within_metadata_limits(long)
    assert len(bounded) == 50
    assert all(len(k) <= 40 and len(v) == 500 for k, v in bounded.items())


async def test_a_long_note_never_makes_a_refund_fail(live_sandbox: LiveSandbox) -> None:
    client = StripePayments("sk_test_sandbox", f"{live_sandbox.url}/stripe", timeout=5)
    made = await client.refund_payment_intent(
        INTENT,
        amount=Decimal("10.00"),
        currency="USD",
        metadata={"reason": "The parcel arrived crushed. " * 40, "order_number": "1009"},
        idempotency_key="k-long-note",
    )
    assert made.amount == 1000
    assert len(live_sandbox.world.stripe.refunds[made.id]["metadata"]["reason"]) == 500
    assert made.metadata["order_number"] == "1009"

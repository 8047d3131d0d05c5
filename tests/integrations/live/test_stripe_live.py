"""The Stripe client against a REAL Stripe account (marked `live`; skipped on the sandbox).

Configure a TEST secret key in STRIPE_API_KEY (`sk_test_...`; leave STRIPE_API_BASE empty for
Stripe itself), then run `pytest -m live tests/integrations/live/test_stripe_live.py`. Cassettes
are written, filtered, to tests/cassettes/live/stripe/.

The test pays a small test-mode payment intent with Stripe's test card (`pm_card_visa`) and
refunds it: it refuses to run with a live key.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import stripe
import yaml

from agent.settings import Settings
from integrations._http import AuthError, NotFound, VendorError
from integrations.stripe import StripePayments
from tests.conftest import LiveSandbox
from tests.integrations.live.vcr_config import FILTERED, live_vcr, require_real_account

VCR = live_vcr("stripe")


@pytest.fixture
def settings() -> Settings:
    settings = Settings()
    require_real_account(settings, secret_field="stripe_api_key", url_field="stripe_api_base")
    if not settings.stripe_api_key.get_secret_value().startswith(("sk_test_", "rk_test_")):
        pytest.skip("the Stripe live test refunds real payments only in test mode: use an sk_test_ key")
    return settings


@pytest.fixture
def client(settings: Settings) -> StripePayments:
    return StripePayments(
        settings.stripe_api_key.get_secret_value(), settings.stripe_api_base or None, timeout=30
    )


def paid_test_intent(settings: Settings, cents: int) -> str:
    """A succeeded test-mode payment intent, paid with Stripe's test Visa (the SDK, directly)."""
    sdk = stripe.StripeClient(
        settings.stripe_api_key.get_secret_value(),
        base_addresses={"api": settings.stripe_api_base} if settings.stripe_api_base else None,
    )
    intent = sdk.v1.payment_intents.create(
        {
            "amount": cents,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "metadata": {"purpose": "support-agent live test"},
        }
    )
    assert intent.status == "succeeded"
    return intent.id


@pytest.mark.live
async def test_refunds_once_per_key_and_refuses_too_much(settings: Settings, client: StripePayments) -> None:
    key = f"live-test-{uuid.uuid4().hex}"
    with VCR.use_cassette("refunds.yaml"):
        intent_id = paid_test_intent(settings, 1234)
        assert await client.refundable_amount(intent_id) == Decimal("12.34")
        first = await client.refund_payment_intent(
            intent_id, amount=Decimal("5.00"), currency="USD", metadata={"case": "live"}, idempotency_key=key
        )
        second = await client.refund_payment_intent(
            intent_id, amount=Decimal("5.00"), currency="USD", metadata={"case": "live"}, idempotency_key=key
        )
        with pytest.raises(VendorError, match="amount_too_large"):
            await client.refund_payment_intent(
                intent_id, amount=Decimal("10.00"), currency="USD", metadata={}, idempotency_key=key + "-2"
            )
        left = await client.refundable_amount(intent_id)
        refunds = await client.list_refunds(intent_id)
    assert second.id == first.id
    assert first.amount_decimal == Decimal("5.00")
    assert left == Decimal("7.34")
    assert [r.id for r in refunds] == [first.id]


@pytest.mark.live
async def test_unknown_intent_and_wrong_key(settings: Settings, client: StripePayments) -> None:
    with VCR.use_cassette("errors.yaml"):
        with pytest.raises(NotFound):
            await client.get_payment_intent("pi_does_not_exist")
        with pytest.raises(AuthError) as caught:
            await StripePayments("sk_test_not_a_key", settings.stripe_api_base or None).get_payment_intent(
                "pi_x"
            )
    assert caught.value.setting == "STRIPE_API_KEY"


# ------------------------------------------------------------- the filters, on the SDK's traffic (offline)


async def test_recorded_stripe_traffic_holds_no_secrets(live_sandbox: LiveSandbox, tmp_path: Path) -> None:
    """Record the SDK (requests, form-encoded) talking to the loopback sandbox through the shared VCR."""
    client = StripePayments("sk_test_sandbox", f"{live_sandbox.url}/stripe", timeout=5)
    with live_vcr("stripe", cassette_library_dir=tmp_path).use_cassette("filters.yaml"):
        await client.refund_payment_intent(
            "pi_3SandboxGrace1009",
            amount=Decimal("1.00"),
            currency="USD",
            metadata={"order_number": "1009", "email": "grace.lee@example.com"},
            idempotency_key="filters",
        )
    text = (tmp_path / "filters.yaml").read_text()
    for leaked in ("sk_test_sandbox", "grace.lee@example.com"):
        assert leaked not in text
    for interaction in yaml.safe_load(text)["interactions"]:
        headers = {name.lower(): value for name, value in interaction["request"]["headers"].items()}
        assert headers["authorization"] == [FILTERED]
    assert "metadata%5Border_number%5D=1009" in text  # non-personal values are kept

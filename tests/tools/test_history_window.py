"""An order older than the store lets the agent read (Shopify without read_all_orders: 60 days) is
not "not found": the tools refuse with `order_too_old`, which tells the shopper a person can look
it up, and the answer depends on the number alone, never on who asks."""

from __future__ import annotations

from tests.tools.conftest import EMAILS, Harness
from tools.identity import CustomerVerified, verify_customer
from tools.orders import lookup_order
from tools.results import Refusal
from tools.tracking import get_tracking_status

CHLOE = "chloe.martin@example.com"  # her #998 was placed 95 days before the demo store's clock


async def test_verifying_with_an_order_beyond_the_window_says_so_and_counts_no_failure(
    harness: Harness,
) -> None:
    ctx = harness.ctx()
    result = await harness.call(verify_customer, ctx, email=CHLOE, order_number="998")
    assert isinstance(result, Refusal)
    assert result.code == "order_too_old"
    assert result.details == {"order_number": "998", "days": "60"}
    assert "60 days" in result.message and "person" in result.message
    assert "not exist" in result.message  # told not to claim it does not exist
    assert ctx.customer is None
    assert ctx.verification_attempts == 0  # neither a match nor a wrong guess


async def test_the_answer_does_not_depend_on_who_asks(harness: Harness) -> None:
    """The same refusal for the owner's email and a stranger's: nothing is learnt about a customer."""
    owner = await harness.call(verify_customer, harness.ctx(), email=CHLOE, order_number="998")
    stranger = await harness.call(
        verify_customer, harness.ctx(), email="nobody@example.com", order_number="998"
    )
    assert owner == stranger


async def test_a_number_above_the_window_is_still_not_found(harness: Harness) -> None:
    result = await harness.call(verify_customer, harness.ctx(), email=CHLOE, order_number="1099")
    assert isinstance(result, Refusal)
    assert result.code == "verification_failed"


async def test_a_verified_shopper_asking_about_an_older_order(harness: Harness) -> None:
    ctx = harness.ctx()
    verified = await harness.call(verify_customer, ctx, email=CHLOE, order_number="1003")
    assert isinstance(verified, CustomerVerified)
    for tool in (lookup_order, get_tracking_status):
        result = await harness.call(tool, ctx, order_number="998")
        assert isinstance(result, Refusal)
        assert result.code == "order_too_old"


async def test_with_read_all_orders_the_older_order_is_simply_there(harness: Harness) -> None:
    harness.world.shopify.access_scopes.append("read_all_orders")
    harness.commerce.clear_cache()
    ctx = harness.ctx()
    verified = await harness.call(verify_customer, ctx, email=CHLOE, order_number="998")
    assert isinstance(verified, CustomerVerified)
    assert EMAILS["1003"] == CHLOE

"""Identity: verification without enumeration and with an attempt limit, and every order tool
refusing an unverified caller, another customer's order and a made-up number alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.tools.conftest import EMAILS, Harness
from tools.common import ORDER_NOT_FOUND
from tools.identity import MISMATCH, CustomerVerified, verify_customer
from tools.order_changes import cancel_order, update_shipping_address
from tools.orders import lookup_order
from tools.refunds import check_refund_eligibility, issue_refund
from tools.results import Refusal
from tools.returns import check_return_eligibility, create_return_label
from tools.tracking import get_tracking_status

FIRST_NAMES = {
    "1001": "Ana",
    "1002": "Ben",
    "1003": "Chloe",
    "1004": "Dev",
    "1005": "Emma",
    "1006": "Ana",
    "1007": "Farid",
    "1008": "Ben",
    "1009": "Grace",
}

NEW_ADDRESS = {
    "name": None,
    "address1": "1 Main St",
    "address2": None,
    "city": "Reno",
    "province_code": "NV",
    "zip": "89501",
    "country_code": "US",
}

# Every tool that touches an order, with arguments that would succeed for the order's owner.
ORDER_TOOLS: list[tuple[Callable[..., Any], Callable[[str], dict[str, Any]]]] = [
    (lookup_order, lambda n: {"order_number": n}),
    (get_tracking_status, lambda n: {"order_number": n}),
    (check_return_eligibility, lambda n: {"order_number": n}),
    (create_return_label, lambda n: {"order_number": n, "line_item_ids": None, "reason": "too small"}),
    (check_refund_eligibility, lambda n: {"order_number": n, "line_item_ids": None}),
    (issue_refund, lambda n: {"order_number": n, "line_item_ids": None, "reason": "broken"}),
    (cancel_order, lambda n: {"order_number": n, "reason": "changed my mind"}),
    (update_shipping_address, lambda n: {"order_number": n, "address": NEW_ADDRESS}),
]
TOOL_IDS = [f.__name__ for f, _ in ORDER_TOOLS]

# The order each tool would act on for its owner (ben's #1002 is returnable and refundable; dev's
# #1004 is unfulfilled, so cancellable) -- asked for by ana, who owns neither.
VICTIM_ORDER = {
    "cancel_order": "1004",
    "update_shipping_address": "1004",
}


# ---------------------------------------------------------------------- verify_customer


@pytest.mark.parametrize("number", sorted(EMAILS))
async def test_verify_customer_for_every_demo_order(harness: Harness, number: str) -> None:
    ctx = harness.ctx()
    before = harness.world.digest()
    result = await harness.call(verify_customer, ctx, email=EMAILS[number], order_number=number)
    assert isinstance(result, CustomerVerified)
    assert (result.email, result.order_number, result.first_name) == (
        EMAILS[number],
        number,
        FIRST_NAMES[number],
    )
    assert ctx.set_customer is not None
    assert ctx.set_customer.email == EMAILS[number]
    assert ctx.set_customer.customer_id == str(harness.order(int(number))["customer"]["id"])
    assert ctx.customer == ctx.set_customer
    assert ctx.verification_attempts == 1
    assert ctx.escalate_reason is None
    assert harness.world.digest() == before


async def test_verify_customer_tolerates_case_spaces_and_hash(harness: Harness) -> None:
    ctx = harness.ctx()
    result = await harness.call(verify_customer, ctx, email="  Grace.Lee@Example.COM ", order_number="#1009")
    assert isinstance(result, CustomerVerified)
    assert result.email == "grace.lee@example.com"


async def test_verification_gives_the_same_answer_whichever_part_is_wrong(harness: Harness) -> None:
    """No enumeration: a wrong email, someone else's order and a non-existent order look the same."""
    attempts = [
        ("nobody@example.com", "1002"),  # real order, wrong email
        ("ana.silva@example.com", "1002"),  # a real customer, someone else's order
        ("ben.okafor@example.com", "987654"),  # a real customer, no such order
        ("nobody@example.com", "987654"),  # nothing right
    ]
    ctx = harness.ctx()
    results = []
    for email, number in attempts:
        result = await harness.call(verify_customer, ctx, email=email, order_number=number)
        assert isinstance(result, Refusal)
        results.append(result)
    assert {(r.code, r.message) for r in results} == {("verification_failed", MISMATCH)}
    assert [r.details for r in results] == [{"attempts_left": str(n)} for n in (4, 3, 2, 1)]
    for result in results:
        text = result.model_dump_json().lower()
        for leak in ("ben", "okafor", "stoneware", "78.48", "austin", "6100000002"):
            assert leak not in text
    assert ctx.customer is None
    assert ctx.set_customer is None
    assert ctx.verification_attempts == 4


async def test_five_failed_attempts_lock_verification_and_ask_for_a_person(harness: Harness) -> None:
    ctx = harness.ctx()
    for attempt in range(1, 6):
        result = await harness.call(verify_customer, ctx, email="guess@example.com", order_number="1001")
        assert isinstance(result, Refusal)
        assert result.code == "verification_failed"
        assert ctx.verification_attempts == attempt
        assert ctx.escalate_reason == ("verification attempts exhausted" if attempt == 5 else None)
    # The right email and order now: still refused, no identity set, a person is asked for.
    result = await harness.call(verify_customer, ctx, email="ana.silva@example.com", order_number="1001")
    assert isinstance(result, Refusal)
    assert result.code == "verification_locked"
    assert ctx.customer is None
    assert ctx.set_customer is None
    assert ctx.escalate_reason == "verification attempts exhausted"
    assert ctx.verification_attempts == 5


async def test_attempts_carry_over_between_calls_through_state(harness: Harness) -> None:
    """The count lives in state: a new context resumed with 5 attempts is locked at once."""
    ctx = harness.ctx()
    ctx.verification_attempts = 5
    result = await harness.call(verify_customer, ctx, email="ana.silva@example.com", order_number="1001")
    assert isinstance(result, Refusal)
    assert result.code == "verification_locked"
    ctx = harness.ctx()
    ctx.verification_attempts = 4
    result = await harness.call(verify_customer, ctx, email="ana.silva@example.com", order_number="1001")
    assert isinstance(result, CustomerVerified)


async def test_the_attempt_limit_comes_from_the_policy(harness: Harness) -> None:
    ctx = harness.ctx(deps=harness.with_policy(max_verification_attempts=2))
    for _ in range(2):
        await harness.call(verify_customer, ctx, email="guess@example.com", order_number="1001")
    assert ctx.escalate_reason == "verification attempts exhausted"
    result = await harness.call(verify_customer, ctx, email="ana.silva@example.com", order_number="1001")
    assert isinstance(result, Refusal)
    assert result.code == "verification_locked"


# ---------------------------------------------------------------------- ownership, for every order tool


@pytest.mark.parametrize(("func", "args"), ORDER_TOOLS, ids=TOOL_IDS)
async def test_an_unverified_caller_is_refused(
    harness: Harness, func: Callable[..., Any], args: Callable[[str], dict[str, Any]]
) -> None:
    number = VICTIM_ORDER.get(func.__name__, "1002")
    ctx = harness.ctx()
    before = harness.world.digest()
    result = await harness.call(func, ctx, **args(number))
    assert isinstance(result, Refusal)
    assert result.code == "not_verified"
    assert "verify_customer" in result.message
    assert harness.world.digest() == before
    assert ctx.ledger == {}


@pytest.mark.parametrize(("func", "args"), ORDER_TOOLS, ids=TOOL_IDS)
async def test_another_customers_order_is_refused_without_revealing_it(
    harness: Harness, func: Callable[..., Any], args: Callable[[str], dict[str, Any]]
) -> None:
    number = VICTIM_ORDER.get(func.__name__, "1002")
    victim = harness.order(int(number))
    ctx = harness.ctx("ana.silva@example.com")
    before = harness.world.digest()
    result = await harness.call(func, ctx, **args(number))
    assert isinstance(result, Refusal)
    assert result.code == "order_not_found"
    assert result.message == ORDER_NOT_FOUND
    assert result.details == {"order_number": number}
    text = result.model_dump_json().lower()
    leaks = [
        victim["email"],
        victim["email"].split("@")[0].split(".")[1],  # surname
        victim["total_price"],
        victim["shipping_address"]["address1"].lower(),
        *(li["name"].split(" - ")[0].lower() for li in victim["line_items"]),
        *(f.get("tracking_number") or "-" for f in victim.get("fulfillments", [])),
    ]
    for leak in leaks:
        assert leak.lower() not in text, f"{func.__name__} leaked {leak!r}"
    assert harness.world.digest() == before
    assert ctx.ledger == {}

    # Same answer as for a number that does not exist at all.
    made_up = await harness.call(func, ctx, **args("987654"))
    assert isinstance(made_up, Refusal)
    assert (made_up.code, made_up.message) == (result.code, result.message)
    assert harness.world.digest() == before


@pytest.mark.parametrize(("func", "args"), ORDER_TOOLS, ids=TOOL_IDS)
async def test_ownership_by_customer_id_from_a_signed_identity(
    harness: Harness, func: Callable[..., Any], args: Callable[[str], dict[str, Any]]
) -> None:
    """A shopper whose signed identity carries another customer's id is still refused."""
    from tools.context import VerifiedCustomer

    number = VICTIM_ORDER.get(func.__name__, "1002")
    ctx = harness.ctx()
    ctx.customer = VerifiedCustomer(
        email="ana.silva@example.com", customer_id="6100000001", verified_by="signed_identity"
    )
    result = await harness.call(func, ctx, **args(number))
    assert isinstance(result, Refusal)
    assert result.code == "order_not_found"

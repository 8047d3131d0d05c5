"""check_return_eligibility and create_return_label: the policy per item, and a label bought,
emailed, noted and tagged only for eligible items."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.tools.conftest import EMAILS, Harness
from tools.results import Refusal
from tools.returns import (
    CreateReturnLabelArgs,
    ReturnEligibility,
    ReturnLabelCreated,
    check_return_eligibility,
    create_return_label,
    preview_return_label,
)
from tools.spec import Preview

SUNGLASSES, BOTTLE = "520000100601", "520000100602"
WAREHOUSE_STREET = "2750 Mill St"

# Per demo order: (line item id, returnable, reason) for every item.
ELIGIBILITY: dict[str, list[tuple[str, bool, str | None]]] = {
    "1001": [("520000100101", False, "not_delivered"), ("520000100102", False, "not_delivered")],
    "1002": [("520000100201", True, None), ("520000100202", True, None)],
    "1003": [("520000100301", False, "outside_return_window")],
    "1004": [("520000100401", False, "not_delivered"), ("520000100402", False, "not_delivered")],
    "1005": [("520000100501", True, None), ("520000100502", True, None)],
    "1006": [(SUNGLASSES, False, "final_sale"), (BOTTLE, True, None)],
    "1007": [("520000100701", False, "not_delivered"), ("520000100702", False, "not_delivered")],
    "1008": [("520000100801", False, "already_returned")],
    "1009": [("520000100901", True, None)],
}

# Orders a label can be made for, and the titles of the items it covers.
LABEL_ITEMS = {
    "1002": ["Stoneware Mug Set - Set of 4 / Sand", "Merino Wool Beanie - Navy"],
    "1005": ["Alpine Down Jacket - Black / M", "Ridgeline 40L Backpack - Slate"],
    "1006": ["Insulated Bottle 750 ml - Forest Green"],
    "1009": ["Linen Camp Shirt - White / M"],
}


def label_args(number: str, line_item_ids: list[str] | None = None) -> dict[str, Any]:
    return {"order_number": number, "line_item_ids": line_item_ids, "reason": "does not fit"}


def assert_nothing_created(harness: Harness, before: str) -> None:
    assert harness.labels() == []
    assert harness.world.sendgrid.outbox == []
    assert harness.world.digest() == before


@pytest.mark.parametrize("number", sorted(ELIGIBILITY))
async def test_return_eligibility_for_every_demo_order(harness: Harness, number: str) -> None:
    before = harness.world.digest()
    result = await harness.call(check_return_eligibility, harness.ctx(EMAILS[number]), order_number=number)
    assert isinstance(result, ReturnEligibility)
    assert [(i.line_item_id, i.returnable, i.reason) for i in result.items] == ELIGIBILITY[number]
    for item in result.items:
        assert (item.explanation is None) == item.returnable
    if result.delivered_at is not None:
        assert result.return_window_ends == result.delivered_at + timedelta(days=30)
    assert harness.world.digest() == before


async def test_the_window_is_thirty_days_from_delivery(harness: Harness) -> None:
    result = await harness.call(check_return_eligibility, harness.ctx(EMAILS["1003"]), order_number="1003")
    assert isinstance(result, ReturnEligibility)
    assert result.delivered_at is not None
    assert result.return_window_ends is not None
    assert harness.world.now() - result.delivered_at == timedelta(days=45)
    assert result.items[0].explanation is not None
    assert "30-day" in result.items[0].explanation


@pytest.mark.parametrize("number", sorted(LABEL_ITEMS))
async def test_create_return_label_for_every_returnable_order(harness: Harness, number: str) -> None:
    email = EMAILS[number]
    ticket = await harness.helpdesk.ensure_ticket(
        conversation_id="conv-1", customer_email=email, subject="Return", tags=["ai-handled"]
    )
    ctx = harness.ctx(email)
    ctx.ticket_id = ticket.id
    note_before = harness.order(int(number)).get("note") or ""

    result = await harness.call(create_return_label, ctx, **label_args(number))

    assert isinstance(result, ReturnLabelCreated)
    assert result.order_number == number
    assert result.items == [f"1 × {title}" for title in LABEL_ITEMS[number]]
    assert result.emailed_to == email
    # One label bought, from the shopper back to the warehouse.
    (shipment,) = harness.labels()
    assert shipment["is_return"] is True
    assert shipment["tracking_code"] == result.tracking_number
    assert shipment["postage_label"]["label_url"] == result.label_url
    assert shipment["selected_rate"]["carrier"] == result.carrier
    streets = {shipment["from_address"]["street1"], shipment["to_address"]["street1"]}
    assert streets == {WAREHOUSE_STREET, harness.order(int(number))["shipping_address"]["address1"]}
    # One email to the shopper with the label.
    (email_sent,) = harness.world.sendgrid.outbox
    assert email_sent["to"] == [email]
    assert result.label_url in email_sent["text"]
    assert result.tracking_number in email_sent["text"]
    for title in LABEL_ITEMS[number]:
        assert title in email_sent["text"]
    # The order note gained a line (the old note kept); the ticket's tag is asked of the outbox,
    # not added while the shopper waits.
    note = harness.order(int(number))["note"]
    assert note.startswith(note_before)
    assert result.tracking_number in note
    assert "does not fit" in note
    assert ctx.helpdesk_requests == {f"{ctx.idempotency_key}:tag": {"kind": "tags", "add": ["return-label"]}}
    tags = {t["name"] for t in harness.world.gorgias.tickets[int(ticket.id)]["tags"]}
    assert tags == {"ai-handled"}
    # No money moved.
    assert harness.shopify_refunds(int(number)) == []
    assert harness.world.stripe.refunds == {}


async def test_final_sale_items_are_left_out_while_the_rest_is_returned(harness: Harness) -> None:
    ctx = harness.ctx(EMAILS["1006"])
    result = await harness.call(create_return_label, ctx, **label_args("1006", [BOTTLE]))
    assert isinstance(result, ReturnLabelCreated)
    assert result.items == ["1 × Insulated Bottle 750 ml - Forest Green"]
    assert "Sunglasses" not in harness.world.sendgrid.outbox[0]["text"]


@pytest.mark.parametrize(
    "line_item_ids", [[SUNGLASSES], [SUNGLASSES, BOTTLE]], ids=["sunglasses", "sunglasses-and-bottle"]
)
async def test_a_final_sale_item_is_refused(harness: Harness, line_item_ids: list[str]) -> None:
    before = harness.world.digest()
    result = await harness.call(
        create_return_label, harness.ctx(EMAILS["1006"]), **label_args("1006", line_item_ids)
    )
    assert isinstance(result, Refusal)
    assert result.code == "final_sale"
    assert "Polarized Sunglasses" in result.message
    assert result.excluded == ["Polarized Sunglasses - Tortoise: Final-sale items cannot be returned."]
    assert_nothing_created(harness, before)


@pytest.mark.parametrize(
    ("number", "line_item_ids", "code", "words"),
    [
        ("1003", ["520000100301"], "outside_return_window", "return window"),
        ("1003", None, "no_eligible_items", "return window"),
        ("1001", ["520000100101"], "not_delivered", "not been delivered"),
        ("1001", None, "no_eligible_items", "not been delivered"),
        ("1004", None, "no_eligible_items", "not been delivered"),
        ("1004", ["520000100402"], "not_delivered", "not been delivered"),
        ("1007", None, "no_eligible_items", "not been delivered"),
        ("1008", ["520000100801"], "already_returned", "already been returned"),
        ("1002", ["520000999999"], "invalid_arguments", "not on order 1002"),
    ],
)
async def test_ineligible_returns_are_refused(
    harness: Harness, number: str, line_item_ids: list[str] | None, code: str, words: str
) -> None:
    before = harness.world.digest()
    ctx = harness.ctx(EMAILS[number])
    result = await harness.call(create_return_label, ctx, **label_args(number, line_item_ids))
    assert isinstance(result, Refusal)
    assert result.code == code
    assert words in result.message
    assert_nothing_created(harness, before)
    assert ctx.ledger == {}


async def test_preview_shows_only_the_eligible_items_and_changes_nothing(harness: Harness) -> None:
    before = harness.world.digest()
    ctx = harness.ctx(EMAILS["1006"])
    preview = await preview_return_label(
        ctx, CreateReturnLabelArgs(order_number="1006", line_item_ids=None, reason="x")
    )
    assert isinstance(preview, Preview)
    assert preview.items == ["1 × Insulated Bottle 750 ml - Forest Green"]
    assert "#1006" in preview.summary
    assert EMAILS["1006"] in preview.summary
    refused = await preview_return_label(
        ctx, CreateReturnLabelArgs(order_number="1006", line_item_ids=[SUNGLASSES], reason="x")
    )
    assert isinstance(refused, Refusal)
    assert refused.code == "final_sale"
    assert_nothing_created(harness, before)

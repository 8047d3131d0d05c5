"""lookup_order and get_tracking_status against the demo store."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from tests.tools.conftest import EMAILS, Harness
from tools.orders import OrderDetails, RecentOrders, lookup_order
from tools.results import Refusal
from tools.tracking import TrackingResult, get_tracking_status

STATUSES = {
    "1001": "shipped",
    "1002": "delivered",
    "1003": "delivered",
    "1004": "unfulfilled",
    "1005": "delivered",
    "1006": "delivered",
    "1007": "shipped",
    "1008": "refunded",
    "1009": "delivered",
}


@pytest.mark.parametrize("number", sorted(EMAILS))
async def test_lookup_order_for_every_demo_order(harness: Harness, number: str) -> None:
    stored = harness.order(int(number))
    before = harness.world.digest()
    result = await harness.call(lookup_order, harness.ctx(EMAILS[number]), order_number=number)
    assert isinstance(result, OrderDetails)
    order = result.order
    assert order.order_number == number
    assert order.status == STATUSES[number]
    assert Decimal(order.total) == Decimal(stored["total_price"])
    assert order.currency == stored["currency"]
    assert [(i.line_item_id, i.title, i.quantity, Decimal(i.unit_price)) for i in order.items] == [
        (str(li["id"]), li["name"], li["quantity"], Decimal(li["price"])) for li in stored["line_items"]
    ]
    assert [s.tracking_number for s in order.shipments] == [
        f["tracking_number"] for f in stored.get("fulfillments", [])
    ]
    assert order.shipping_address is not None
    assert stored["shipping_address"]["address1"] in order.shipping_address
    expected_refunded = sum(
        (Decimal(t["amount"]) for t in harness.refund_transactions(int(number))), Decimal(0)
    )
    assert Decimal(order.refunded) == expected_refunded
    assert harness.world.digest() == before


async def test_lookup_order_without_a_number_lists_only_the_shoppers_recent_orders(harness: Harness) -> None:
    email = "ana.silva@example.com"
    theirs = [o for o in harness.world.shopify.orders.values() if o["email"] == email]
    assert len(theirs) >= 2
    result = await harness.call(lookup_order, harness.ctx(email), order_number=None)
    assert isinstance(result, RecentOrders)
    numbers = [o.order_number for o in result.orders]
    assert sorted(numbers) == sorted(str(o["order_number"]) for o in theirs)
    assert {"1001", "1006"} <= set(numbers)
    placed = [o.placed_at for o in result.orders]
    assert placed == sorted(placed, reverse=True), "newest first"
    mine = {str(o["order_number"]) for o in theirs}
    assert all(n in mine for n in numbers), "another shopper's order leaked into the list"


async def test_lookup_order_without_a_number_needs_a_verified_shopper(harness: Harness) -> None:
    result = await harness.call(lookup_order, harness.ctx(), order_number=None)
    assert isinstance(result, Refusal)
    assert result.code == "not_verified"


# ---------------------------------------------------------------------- tracking


async def test_tracking_an_order_in_transit(harness: Harness) -> None:
    result = await harness.call(get_tracking_status, harness.ctx(EMAILS["1001"]), order_number="1001")
    assert isinstance(result, TrackingResult)
    assert result.shipped is True
    (parcel,) = result.parcels
    assert parcel.carrier == "UPS"
    assert parcel.tracking_number == "1Z84F2A90312345678"
    assert parcel.status == "in_transit"
    assert parcel.estimated_delivery == harness.world.now() + timedelta(days=2)
    assert parcel.exception is None
    assert len(parcel.last_events) == 3
    moments = [e.at for e in parcel.last_events]
    assert moments == sorted(moments, reverse=True), "newest event first"
    assert parcel.last_events[0].message == "Departed from facility"


async def test_tracking_flags_a_delivery_failure(harness: Harness) -> None:
    result = await harness.call(get_tracking_status, harness.ctx(EMAILS["1007"]), order_number="1007")
    assert isinstance(result, TrackingResult)
    (parcel,) = result.parcels
    assert parcel.status == "failure"
    assert parcel.exception is not None
    assert "failure" in parcel.exception


@pytest.mark.parametrize("number", ["1002", "1003", "1005", "1006", "1008", "1009"])
async def test_tracking_delivered_orders_raises_no_flag(harness: Harness, number: str) -> None:
    result = await harness.call(get_tracking_status, harness.ctx(EMAILS[number]), order_number=number)
    assert isinstance(result, TrackingResult)
    assert result.shipped is True
    assert [p.status for p in result.parcels] == ["delivered"]
    assert [p.exception for p in result.parcels] == [None]
    stored = harness.order(int(number))
    assert [p.tracking_number for p in result.parcels] == [
        f["tracking_number"] for f in stored["fulfillments"]
    ]


async def test_tracking_an_unshipped_order(harness: Harness) -> None:
    result = await harness.call(get_tracking_status, harness.ctx(EMAILS["1004"]), order_number="1004")
    assert isinstance(result, TrackingResult)
    assert result.shipped is False
    assert result.parcels == []
    assert result.note is not None
    assert "not shipped" in result.note
    assert result.cancelled is False


async def test_tracking_a_cancelled_order_says_so_as_a_field(harness: Harness) -> None:
    result = await harness.call(
        get_tracking_status, harness.ctx("farid.haddad@example.com"), order_number="1021"
    )
    assert isinstance(result, TrackingResult)
    assert (result.shipped, result.parcels, result.cancelled) == (False, [], True)


def _tracker(harness: Harness, code: str) -> dict[str, object]:
    for tracker in harness.world.easypost.trackers.values():
        if tracker["tracking_code"] == code:
            return tracker
    raise AssertionError(f"no tracker {code}")


@pytest.mark.parametrize(("days_later", "stuck"), [(4, False), (6, True)])
async def test_tracking_flags_a_parcel_without_movement_for_five_days(
    harness: Harness, days_later: int, stuck: bool
) -> None:
    last_event = datetime.fromisoformat("2026-11-19T22:12:00+00:00")  # #1001's newest scan
    harness.world.clock = last_event + timedelta(days=days_later)
    result = await harness.call(get_tracking_status, harness.ctx(EMAILS["1001"]), order_number="1001")
    assert isinstance(result, TrackingResult)
    (parcel,) = result.parcels
    assert parcel.status == "in_transit"
    if stuck:
        assert parcel.exception is not None
        assert f"{days_later} days" in parcel.exception
    else:
        assert parcel.exception is None


async def test_the_stuck_threshold_comes_from_the_policy(harness: Harness) -> None:
    harness.world.clock = datetime.fromisoformat("2026-11-25T23:00:00+00:00")  # 6 days after the scan
    ctx = harness.ctx(EMAILS["1001"], deps=harness.with_policy(stuck_after_days=10))
    result = await harness.call(get_tracking_status, ctx, order_number="1001")
    assert isinstance(result, TrackingResult)
    assert result.parcels[0].exception is None


async def test_tracking_flags_a_return_to_sender(harness: Harness) -> None:
    tracker = _tracker(harness, "1Z84F2A90312345678")
    tracker["status"] = "return_to_sender"
    tracker["status_detail"] = "return"
    result = await harness.call(get_tracking_status, harness.ctx(EMAILS["1001"]), order_number="1001")
    assert isinstance(result, TrackingResult)
    (parcel,) = result.parcels
    assert parcel.status == "return_to_sender"
    assert parcel.exception is not None
    assert "return" in parcel.exception.lower()

"""Shopify's resource models against the REAL recorded payloads (shopify_python_api fixtures): they
are the shape webhooks deliver and the emulated store keeps; the recorded order read through the
GraphQL emulator into our domain; webhook signatures. (The recordings are REST answers: the
client's GraphQL operations are checked against Shopify's published GraphQL examples instead,
tests/published/shopify_graphql.)"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrations.shopify import (
    ShopifyFulfillment,
    ShopifyOrder,
    ShopifyRefund,
    sign_webhook,
    verify_webhook,
)
from sandbox.world import World
from tests.integrations.shopify_graphql import graphql_commerce


def load(fixtures_dir: Path, name: str) -> Any:
    return json.loads((fixtures_dir / "shopify" / name).read_text(encoding="utf-8"))


# ------------------------------------------------------------------ models parse reality


def test_order_fixture_parses(fixtures_dir: Path) -> None:
    order = ShopifyOrder.model_validate(load(fixtures_dir, "order.json")["order"])
    assert order.order_number == 1001
    assert order.name == "#1001"
    assert order.total_price == Decimal("409.94")
    assert order.total_tax == Decimal("11.94")
    assert [item.sku for item in order.line_items] == ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]
    assert order.line_items[0].price == Decimal("199.00")
    assert order.fulfillments[0].tracking_number == "1Z2345"
    assert order.fulfillments[0].tracking_company is None
    assert order.note_attribute("colour") == "green"
    assert order.shipping_address is not None
    assert order.shipping_address.city == "Louisville"
    assert order.customer is not None
    assert order.customer.id == 207119551
    assert order.gateways == ["authorize_net"]
    assert order.refundable_quantities() == {466157049: 1, 518995019: 1, 703073504: 1}


def test_order_number_is_derived_when_an_old_payload_lacks_it(fixtures_dir: Path) -> None:
    data = load(fixtures_dir, "order.json")["order"]
    del data["order_number"]
    assert ShopifyOrder.model_validate(data).order_number == 1001
    del data["name"]
    assert ShopifyOrder.model_validate(data).order_number == 1001  # from "number": 1


def test_fulfillment_fixture_parses(fixtures_dir: Path) -> None:
    fulfillment = ShopifyFulfillment.model_validate(load(fixtures_dir, "fulfillment.json")["fulfillment"])
    assert fulfillment.status == "pending"
    assert fulfillment.all_tracking_numbers == ["1Z2345"]
    assert fulfillment.tracking_urls == ["http://www.google.com/search?q=1Z2345"]
    assert fulfillment.shipment_status is None


def test_refund_fixture_parses(fixtures_dir: Path) -> None:
    refund = ShopifyRefund.model_validate(load(fixtures_dir, "refund.json")["refund"])
    assert refund.amount == Decimal("209.00")
    assert [item.line_item_id for item in refund.refund_line_items] == [703073504, 466157049]
    assert refund.refund_line_items[0].line_item is not None
    assert refund.refund_line_items[0].line_item.tax_lines[0].price == Decimal("3.98")


def test_refund_line_item_amounts_may_be_json_numbers() -> None:
    # Newer API versions send refund line item subtotal/total_tax as numbers, not strings.
    refund = ShopifyRefund.model_validate(
        {
            "id": 1,
            "refund_line_items": [{"line_item_id": 2, "quantity": 1, "subtotal": 195.67, "total_tax": 3.98}],
        }
    )
    assert refund.refund_line_items[0].subtotal == Decimal("195.67")


def test_tags_are_a_comma_string() -> None:
    order = ShopifyOrder.model_validate({"id": 1, "name": "#7", "tags": "vip, final-sale ,,gift"})
    assert order.tag_list == ["vip", "final-sale", "gift"]


# ------------------------------------------------------------------ through the GraphQL emulator


async def test_the_recorded_order_reads_through_graphql_into_our_terms(
    fixtures_dir: Path, sandbox_transport: httpx.ASGITransport, world: World
) -> None:
    """The recorded order, kept by the emulated store as Shopify recorded it, read through the
    GraphQL Admin API and mapped to our domain: numbers, money, tracking and refundable units."""
    record = load(fixtures_dir, "order.json")["order"]
    world.shopify.access_scopes.append("read_all_orders")  # the recording is from 2008
    world.shopify.orders[record["id"]] = record
    order = await graphql_commerce(sandbox_transport).get_order(str(record["id"]))
    assert order.id == str(record["id"]) and order.number == "1001"
    assert order.total == Decimal("409.94") and order.tax == Decimal("11.94")
    assert [item.sku for item in order.items] == ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]
    assert order.shipments == ()  # its one fulfilment (tracking 1Z2345) has status `failure`: nothing shipped
    assert order.shipping_address is not None and order.shipping_address.city == "Louisville"
    assert order.customer_id == "207119551"
    assert [item.refunded_quantity for item in order.items] == [0, 0, 0]


# ------------------------------------------------------------------ webhook signatures

SECRET = "hush"
BODY = b'{"id":450789469,"name":"#1001","email":"bob.norman@hostmail.com"}'


def test_webhook_signature_verifies() -> None:
    assert verify_webhook(BODY, sign_webhook(BODY, SECRET), SECRET)


def test_tampered_body_fails() -> None:
    assert not verify_webhook(BODY.replace(b"1001", b"1002"), sign_webhook(BODY, SECRET), SECRET)


def test_wrong_secret_fails() -> None:
    assert not verify_webhook(BODY, sign_webhook(BODY, "other"), SECRET)


@pytest.mark.parametrize("header", [None, "", "not base64 !!", "c2hvcnQ="])
def test_missing_or_garbage_header_fails(header: str | None) -> None:
    assert not verify_webhook(BODY, header, SECRET)


def test_empty_secret_never_verifies() -> None:
    assert not verify_webhook(BODY, sign_webhook(BODY, ""), "")

"""Discounts as Shopify 2024-10 returns them: lines keep `total_discount: "0.00"` and carry their
discounts in `discount_allocations` (order-wide ones indexed in `discount_applications`). The
emulator's refund calculation and our own arithmetic (the Stripe path) both start from the
discounted amounts, and agree with Shopify's published calculation."""

from __future__ import annotations

import copy
from decimal import Decimal

import httpx
import pytest

from integrations.domain import RefundLine
from integrations.shopify import ShopifyOrder
from integrations.shopify.adapter import ShopifyCommerce
from sandbox.world import World
from tests.integrations.shopify_graphql import graphql_client, graphql_commerce, suggested_total
from tests.published import shopify_rest as published

HEADERS = {"X-Shopify-Access-Token": "shpat_sandbox"}
GRAPHQL = "/shopify/admin/api/2026-10/graphql.json"
PUBLISHED_ID = 450789469
RED_IPOD = 518995019  # the line still unrefunded in Shopify's example, with 3.33 of the TENOFF code


# --------------------------------------------------------------------------- contract: Shopify's example


def test_the_published_order_keeps_total_discount_at_zero_and_allocates_the_code() -> None:
    order = ShopifyOrder.model_validate(published.ORDER)
    assert [line.total_discount for line in order.line_items] == [Decimal("0.00")] * 3
    assert [line.discount for line in order.line_items] == [Decimal("3.34"), Decimal("3.33"), Decimal("3.33")]
    assert order.discount_applications[0].code == "TENOFF"
    assert order.discount_applications[0].target_selection == "all"


async def test_our_refund_arithmetic_gives_shopifys_199_65_not_202_98(
    sandbox_transport: httpx.ASGITransport, world: World
) -> None:
    """Shopify's example: the red iPod (199.00, 3.33 of a 10.00 code, 3.98 tax) is worth 199.65
    to refund (its calculation: subtotal 195.67 + tax 3.98), where price plus a share of the order's
    tax would pay back 202.98. The published order is read through the GraphQL emulator."""
    published_world(world)
    order = await graphql_commerce(sandbox_transport).get_order(str(PUBLISHED_ID))
    line = RefundLine(line_item_id=str(RED_IPOD), quantity=1)
    assert order.refund_amount([line], include_shipping=False) == Decimal("199.65")
    calculated = published.REFUND_CALCULATION["refund"]["refund_line_items"][0]
    assert Decimal(calculated["subtotal"]) + Decimal(calculated["total_tax"]) == Decimal("199.65")
    naive = (Decimal("199.00") + Decimal("11.94") * Decimal("199") / Decimal("597")).quantize(Decimal("0.01"))
    assert naive == Decimal("202.98")  # what the quote used to be


def published_world(world: World) -> World:
    world.shopify.access_scopes.append("read_all_orders")  # the example order is from 2008
    world.shopify.orders[PUBLISHED_ID] = copy.deepcopy(published.ORDER)
    sale = {
        "id": 801038806,
        "order_id": PUBLISHED_ID,
        "kind": "sale",
        "status": "success",
        "gateway": "bogus",
    }
    refund = {**sale, "id": 179259969, "kind": "refund", "parent_id": 801038806, "amount": "209.00"}
    world.shopify.transactions[PUBLISHED_ID] = [{**sale, "amount": "598.94", "currency": "USD"}, refund]
    return world


async def test_the_emulator_suggests_the_published_refund_line(
    sandbox_http: httpx.AsyncClient, world: World
) -> None:
    """Shopify's published calculation of the red iPod (subtotal 195.67, tax 3.98), as the
    emulator's `suggestedRefund` gives it."""
    published_world(world)
    query = """query($id: ID!, $lines: [RefundLineItemInput!]) { order(id: $id) {
      suggestedRefund(refundLineItems: $lines) { refundLineItems {
        quantity subtotalSet { shopMoney { amount } } totalTaxSet { shopMoney { amount } } priceSet { shopMoney { amount } }
      } } } }"""
    variables = {
        "id": f"gid://shopify/Order/{PUBLISHED_ID}",
        "lines": [{"lineItemId": f"gid://shopify/LineItem/{RED_IPOD}", "quantity": 1}],
    }
    response = await sandbox_http.post(
        GRAPHQL, json={"query": query, "variables": variables}, headers=HEADERS
    )
    assert response.status_code == 200, response.text
    (ours,) = response.json()["data"]["order"]["suggestedRefund"]["refundLineItems"]
    (shopifys,) = published.REFUND_CALCULATION["refund"]["refund_line_items"]
    assert ours["subtotalSet"]["shopMoney"]["amount"] == money(shopifys["subtotal"])
    assert ours["totalTaxSet"]["shopMoney"]["amount"] == money(shopifys["total_tax"])
    assert ours["priceSet"]["shopMoney"]["amount"] == money(shopifys["price"])


def money(value: object) -> str:
    return f"{Decimal(str(value)):.2f}"


# --------------------------------------------------------------------------- the emulator's demo orders


def test_demo_orders_carry_shopifys_discount_shape(world: World) -> None:
    code = world.order_by_number(1031)
    assert code is not None
    assert code["discount_codes"] == [{"code": "WELCOME10", "amount": "9.20", "type": "percentage"}]
    assert [li["total_discount"] for li in code["line_items"]] == ["0.00", "0.00"]
    assert [li["discount_allocations"][0]["amount"] for li in code["line_items"]] == ["6.80", "2.40"]
    assert (code["subtotal_price"], code["total_tax"], code["total_price"]) == ("82.80", "5.80", "94.55")
    automatic = world.order_by_number(1033)
    assert automatic is not None
    assert automatic["discount_applications"][0]["type"] == "automatic"
    beanies = automatic["line_items"][0]
    assert (beanies["quantity"], beanies["discount_allocations"][0]["amount"]) == (2, "14.50")  # one of two
    free_shipping = world.order_by_number(1034)
    assert free_shipping is not None
    assert free_shipping["shipping_lines"][0]["discounted_price"] == "0.00"


@pytest.mark.parametrize(
    ("number", "lines", "shipping"),
    [
        (1031, [(520000103101, 1), (520000103102, 1)], True),  # the whole order (discount code)
        (1031, [(520000103101, 1)], False),  # one item
        (1032, [(520000103202, 1)], False),  # paid through Stripe, a fixed-amount code
        (1033, [(520000103301, 1)], False),  # one of the two beanies (the line is half discounted)
        (1033, [(520000103301, 2)], False),
        (1034, [(520000103401, 2), (520000103402, 1)], True),  # partial quantity, free shipping
    ],
)
async def test_our_arithmetic_agrees_with_the_emulators_calculation(
    sandbox_http: httpx.AsyncClient,
    sandbox_transport: httpx.ASGITransport,
    number: int,
    lines: list[tuple[int, int]],
    shipping: bool,
) -> None:
    commerce = graphql_commerce(sandbox_transport)
    order = await commerce.find_order(str(number))
    assert order is not None
    ours = order.refund_amount(
        [RefundLine(line_item_id=str(lid), quantity=q) for lid, q in lines], include_shipping=shipping
    )
    assert ours == await suggested_total(sandbox_http, 5_200_000_000 + number, lines, shipping)


async def test_refunding_a_partly_discounted_line_unit_by_unit_adds_up_to_the_line(
    sandbox_transport: httpx.ASGITransport, world: World
) -> None:
    client = graphql_client(sandbox_transport)
    commerce = ShopifyCommerce(client)
    order_id, beanies = 5200001033, 520000103301
    paid = []
    for key in ("unit-1", "unit-2"):
        order = await commerce.get_order(str(order_id))
        expected = order.refund_amount(
            [RefundLine(line_item_id=str(beanies), quantity=1)], include_shipping=False
        )
        suggestion = await client.suggest_refund(order_id, line_items=[(beanies, 1)])
        refund = await client.create_refund(order_id, suggestion, note="one beanie", idempotency_key=key)
        assert refund.amount == expected
        paid.append(refund.amount)
    line = world.shopify.orders[order_id]["line_items"][0]
    assert sum(paid, Decimal(0)) == Decimal("58.00") - Decimal("14.50") + Decimal(
        line["tax_lines"][0]["price"]
    )

"""The same Shopify client against the sandbox (in-process ASGI, demo store): return values AND
the resulting world state; retries against injected faults."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI

from integrations._http import AuthError, NotFound, VendorError, retrying
from integrations.shopify import RefundCalculation, ShopifyClient, shopify_http_client
from sandbox.vendors.shopify import configure_call_limit
from sandbox.world import World

API = "http://sandbox/shopify/admin/api/2026-10"
TOKEN = "shpat_sandbox"
ORDER_1001, ORDER_1004, ORDER_1005, ORDER_1008 = 5200001001, 5200001004, 5200001005, 5200001008


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture(autouse=True)
def customer_scope(world: World) -> None:
    """These tests read customers too, which the agent itself has no need for (nor scope)."""
    world.shopify.access_scopes.append("read_customers")


def client_for(transport: httpx.AsyncBaseTransport, waits: list[float], token: str = TOKEN) -> ShopifyClient:
    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    return ShopifyClient(
        shopify_http_client(API, token, transport=transport), retry_policy=lambda: retrying(sleep=fake_sleep)
    )


@pytest.fixture
def client(sandbox_transport: httpx.ASGITransport, waits: list[float]) -> ShopifyClient:
    return client_for(sandbox_transport, waits)


async def inject(sandbox_http: httpx.AsyncClient, **fault: object) -> None:
    response = await sandbox_http.post("/_sandbox/faults", json={"vendor": "shopify", **fault})
    assert response.status_code == 201


# ------------------------------------------------------------------ reads


@pytest.mark.parametrize("number", ["#1001", "1001", 1001])
async def test_find_order_by_number_with_tracking(client: ShopifyClient, number: str | int) -> None:
    order = await client.find_order_by_number(number)
    assert order is not None
    assert order.id == ORDER_1001
    assert order.email == "ana.silva@example.com"
    assert order.fulfillment_status == "fulfilled"
    fulfillment = order.fulfillments[0]
    assert fulfillment.tracking_company == "UPS"
    assert fulfillment.tracking_number == "1Z84F2A90312345678"
    assert fulfillment.tracking_url
    assert "1Z84F2A90312345678" in fulfillment.tracking_url


async def test_find_order_by_number_ignores_loose_name_matches(client: ShopifyClient) -> None:
    assert await client.find_order_by_number("100") is None  # matches #1001..#1009 by prefix only
    assert await client.find_order_by_number("9999") is None


async def test_find_order_by_number_finds_cancelled_orders(client: ShopifyClient) -> None:
    order = await client.find_order_by_number("#1021")
    assert order is not None
    assert order.is_cancelled


async def test_orders_by_email_newest_first(client: ShopifyClient) -> None:
    orders = await client.orders_by_email("ANA.SILVA@example.com")
    assert [o.order_number for o in orders] == [1001, 1006, 1017]  # placed 3, 15 and 60 days ago
    assert [o.order_number for o in await client.orders_by_email("ana.silva@example.com", limit=2)] == [
        1001,
        1006,
    ]
    assert await client.orders_by_email("nobody@example.com") == []


async def test_orders_by_email_follows_the_sandbox_link_header(
    world: World, sandbox_app: FastAPI, client: ShopifyClient
) -> None:
    configure_call_limit(sandbox_app, enabled=False)
    world.shopify.access_scopes.append("read_all_orders")  # the copies below are from 2025
    template = world.shopify.orders[ORDER_1001]
    for index in range(300):
        order = copy.deepcopy(template)
        order.update(id=9_100_000 + index, name=f"#{5000 + index}", order_number=5000 + index)
        order["created_at"] = f"2025-01-01T00:{index // 60:02d}:{index % 60:02d}Z"
        world.shopify.orders[order["id"]] = order
    orders = await client.orders_by_email("ana.silva@example.com", limit=280)
    assert len(orders) == 280  # 250 on the first page, the rest through page_info
    assert [o.order_number for o in orders[:4]] == [
        1001,
        1006,
        1017,
        5299,
    ]  # then the 2025 copies, newest first
    assert len({o.id for o in orders}) == 280


async def test_customer_and_product(client: ShopifyClient) -> None:
    customer = await client.find_customer_by_email("Emma.Jones@example.com")
    assert customer is not None
    assert customer.full_name == "Emma Jones"
    assert (await client.get_customer(customer.id)).email == "emma.jones@example.com"
    assert await client.find_customer_by_email("stranger@example.com") is None
    candle = await client.get_product(7300000013)
    assert "final-sale" in candle.tag_list


async def test_transactions_of_a_split_payment(client: ShopifyClient) -> None:
    transactions = await client.list_transactions(ORDER_1005)
    assert [(t.kind, t.gateway, t.amount) for t in transactions] == [
        ("sale", "gift_card", Decimal("80.00")),
        ("sale", "shopify_payments", Decimal("400.00")),
    ]


# ------------------------------------------------------------------ notes


async def test_append_note_keeps_the_old_note(client: ShopifyClient, world: World) -> None:
    before = world.shopify.orders[ORDER_1008]["note"]
    order = await client.append_order_note(ORDER_1008, "Shopper asked about the refund timing")
    assert order.note is not None
    assert order.note.startswith(before + "\n[")
    assert order.note.endswith("] Shopper asked about the refund timing")
    assert world.shopify.orders[ORDER_1008]["note"] == order.note
    assert world.shopify.orders[ORDER_1008]["updated_at"] == world.now_iso()
    again = await client.append_order_note(ORDER_1008, "Shopper asked about the refund timing")
    assert again.note == order.note


async def test_append_note_to_an_order_without_a_note(client: ShopifyClient, world: World) -> None:
    order = await client.append_order_note(ORDER_1001, "Label sent")
    assert order.note is not None
    assert "\n" not in order.note
    assert order.note.endswith("] Label sent")
    assert world.shopify.orders[ORDER_1001]["note"] == order.note


# ------------------------------------------------------------------ refunds


async def test_split_payment_gives_two_suggestions_and_a_refund_of_both(
    client: ShopifyClient, world: World
) -> None:
    calculation = await client.calculate_refund(ORDER_1005)
    assert [(t.kind, t.gateway, t.parent_id, t.amount) for t in calculation.transactions] == [
        ("suggested_refund", "gift_card", 52000010051, Decimal("80.00")),
        ("suggested_refund", "shopify_payments", 52000010052, Decimal("400.00")),
    ]
    assert {(i.line_item_id, i.quantity) for i in calculation.refund_line_items} == {
        (520000100501, 1),
        (520000100502, 1),
    }
    refund = await client.create_refund(ORDER_1005, calculation, note="Jacket and pack returned")
    assert refund.amount == Decimal("480.00")
    assert sorted((t.parent_id, t.amount) for t in refund.transactions) == [
        (52000010051, Decimal("80.00")),
        (52000010052, Decimal("400.00")),
    ]
    order = world.shopify.orders[ORDER_1005]
    assert order["financial_status"] == "refunded"
    assert len(order["refunds"]) == 1
    assert order["refunds"][0]["id"] == refund.id
    assert order["refunds"][0]["note"].startswith("Jacket and pack returned [support-agent:")
    assert [t["kind"] for t in world.shopify.transactions[ORDER_1005]] == ["sale", "sale", "refund", "refund"]
    assert all(item["current_quantity"] == 0 for item in order["line_items"])


async def test_partial_refund_by_amount_is_split_in_payment_order(
    client: ShopifyClient, world: World
) -> None:
    calculation = await client.calculate_refund(ORDER_1005, line_items=[])
    assert calculation.amount == Decimal("0.00")
    assert calculation.maximum_refundable == Decimal("480.00")
    refund = await client.create_refund(ORDER_1005, calculation, note="Goodwill", amount=Decimal("100.00"))
    assert [(t.gateway, t.amount) for t in refund.transactions] == [
        ("gift_card", Decimal("80.00")),
        ("shopify_payments", Decimal("20.00")),
    ]
    assert world.shopify.orders[ORDER_1005]["financial_status"] == "partially_refunded"
    # What is left is what the next calculation offers.
    rest = await client.calculate_refund(ORDER_1005)
    assert [(t.gateway, t.amount) for t in rest.transactions] == [("shopify_payments", Decimal("380.00"))]


async def test_line_item_refund_includes_its_tax_and_shipping_on_request(
    client: ShopifyClient, world: World
) -> None:
    # #1015: two candles at 22.00, tax 4.51, shipping 5.95.
    order_id = 5200001015
    first = await client.calculate_refund(order_id, line_items=[(520000101501, 1)])
    assert (first.refund_line_items[0].subtotal, first.refund_line_items[0].total_tax) == (
        Decimal("22.00"),
        Decimal("2.26"),
    )
    await client.create_refund(order_id, first, note="One candle cracked")
    second = await client.calculate_refund(order_id, line_items=None, shipping_full=True)
    assert second.refund_line_items[0].total_tax == Decimal("2.25")  # the cents add up to the order's tax
    assert second.shipping.amount == Decimal("5.95")
    await client.create_refund(order_id, second, note="Second candle cracked too")
    order = world.shopify.orders[order_id]
    refunded = sum(
        Decimal(t["amount"]) for t in world.shopify.transactions[order_id] if t["kind"] == "refund"
    )
    assert refunded == Decimal(order["total_price"])
    assert order["financial_status"] == "refunded"


async def test_refunding_1008_again_is_rejected(client: ShopifyClient, world: World) -> None:
    before = copy.deepcopy(world.shopify.orders[ORDER_1008])
    calculation = await client.calculate_refund(ORDER_1008, shipping_full=True)
    assert calculation.transactions == []
    assert calculation.refund_line_items == []
    with pytest.raises(VendorError, match="nothing left to refund"):
        await client.create_refund(ORDER_1008, calculation, note="again")
    # Replaying the original payment's refund is rejected by the store itself.
    stale = RefundCalculation.model_validate(
        {
            "transactions": [
                {
                    "kind": "suggested_refund",
                    "parent_id": 52000010081,
                    "gateway": "shopify_payments",
                    "amount": "54.66",
                }
            ]
        }
    )
    with pytest.raises(VendorError) as caught:
        await client.create_refund(ORDER_1008, stale, note="again")
    assert caught.value.status == 422
    assert "exceeds the 0.00 refundable" in str(caught.value)
    assert world.shopify.orders[ORDER_1008] == before


async def test_refund_above_refundable_is_rejected(client: ShopifyClient, world: World) -> None:
    calculation = await client.calculate_refund(ORDER_1005)
    inflated = calculation.model_copy(
        update={
            "transactions": [t.model_copy(update={"amount": t.amount + 1}) for t in calculation.transactions]
        }
    )
    with pytest.raises(VendorError, match=r"Refund amount 81\.00 exceeds the 80\.00 refundable"):
        await client.create_refund(ORDER_1005, inflated, note="too much")
    assert world.shopify.orders[ORDER_1005]["refunds"] == []
    assert len(world.shopify.transactions[ORDER_1005]) == 2


class LoseFirstResponse(httpx.AsyncBaseTransport):
    """Forwards to the sandbox, but drops the answer to the first matching write (applied, unseen)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, method: str, path_suffix: str) -> None:
        self.inner, self.method, self.path_suffix = inner, method, path_suffix
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == self.method and request.url.path.endswith(self.path_suffix) and not self.lost:
            self.lost += 1
            await response.aread()
            raise httpx.ReadTimeout("connection dropped", request=request)
        return response


async def test_refund_is_not_made_twice_when_the_response_is_lost(
    sandbox_transport: httpx.ASGITransport, waits: list[float], world: World
) -> None:
    """The store applied the refund but the answer never came: the retry finds it by its marker."""

    transport = LoseFirstResponse(sandbox_transport, "POST", "/refunds.json")
    client = client_for(transport, waits)
    calculation = await client.calculate_refund(ORDER_1005)
    refund = await client.create_refund(ORDER_1005, calculation, note="Lost answer")
    assert len(world.shopify.orders[ORDER_1005]["refunds"]) == 1
    assert world.shopify.orders[ORDER_1005]["refunds"][0]["id"] == refund.id
    assert transport.lost == 1
    assert len(waits) == 1


async def test_cancel_is_not_repeated_when_the_response_is_lost(
    sandbox_transport: httpx.ASGITransport, waits: list[float], world: World
) -> None:
    transport = LoseFirstResponse(sandbox_transport, "POST", "/cancel.json")
    cancellation = await client_for(transport, waits).cancel_order(ORDER_1004, refund=True)
    assert transport.lost == 1
    assert cancellation.by_earlier_attempt
    assert cancellation.order.is_cancelled
    assert len(world.shopify.orders[ORDER_1004]["refunds"]) == 1  # one refund, not a 422 on a second cancel


async def test_webhook_is_not_registered_twice_when_the_response_is_lost(
    sandbox_transport: httpx.ASGITransport, waits: list[float], world: World
) -> None:
    transport = LoseFirstResponse(sandbox_transport, "POST", "/webhooks.json")
    hook = await client_for(transport, waits).register_webhook("orders/create", "https://agent.example/hooks")
    assert transport.lost == 1
    assert list(world.shopify.webhooks) == [hook.id]


async def test_refund_rejected_by_a_500_is_retried_once_and_made_once(
    client: ShopifyClient, sandbox_http: httpx.AsyncClient, world: World, waits: list[float]
) -> None:
    calculation = await client.calculate_refund(ORDER_1005)
    await inject(sandbox_http, kind="error", status=503, route="/refunds.json", method="POST")
    refund = await client.create_refund(ORDER_1005, calculation, note="After a 503")
    assert [r["id"] for r in world.shopify.orders[ORDER_1005]["refunds"]] == [refund.id]
    assert len(waits) == 1


async def test_same_idempotency_key_refunds_once(client: ShopifyClient, world: World) -> None:
    calculation = await client.calculate_refund(ORDER_1005, line_items=[(520000100502, 1)])
    first = await client.create_refund(ORDER_1005, calculation, note="Pack", idempotency_key="conv-9:call-2")
    second = await client.create_refund(ORDER_1005, calculation, note="Pack", idempotency_key="conv-9:call-2")
    assert first.id == second.id
    assert len(world.shopify.orders[ORDER_1005]["refunds"]) == 1


# ------------------------------------------------------------------ cancel and address


async def test_cancel_unfulfilled_order_with_refund(client: ShopifyClient, world: World) -> None:
    cancellation = await client.cancel_order(ORDER_1004, reason="customer", refund=True)
    assert cancellation.notice == "Order has been canceled"
    order = await client.get_order(ORDER_1004)
    assert order.is_cancelled
    assert order.cancel_reason == "customer"
    assert order.financial_status == "refunded"
    record = world.shopify.orders[ORDER_1004]
    assert record["cancelled_at"] == world.now_iso()
    assert sum(Decimal(t["amount"]) for t in record["refunds"][0]["transactions"]) == Decimal(
        record["total_price"]
    )


async def test_cancel_without_refund_keeps_the_payment(client: ShopifyClient, world: World) -> None:
    await client.cancel_order(ORDER_1004, refund=False)
    order = await client.get_order(ORDER_1004)
    assert order.is_cancelled
    assert order.financial_status == "paid"
    assert world.shopify.orders[ORDER_1004]["refunds"] == []


@pytest.mark.parametrize(
    ("order_id", "message"),
    [(ORDER_1001, "has been fulfilled"), (5200001021, "already been cancelled")],
)
async def test_cancel_is_refused_once_fulfilled_or_cancelled(
    client: ShopifyClient, world: World, order_id: int, message: str
) -> None:
    before = copy.deepcopy(world.shopify.orders[order_id])
    with pytest.raises(VendorError, match=message) as caught:
        await client.cancel_order(order_id, refund=True)
    assert caught.value.status == 422
    assert world.shopify.orders[order_id] == before


async def test_update_shipping_address(client: ShopifyClient, world: World) -> None:
    order = await client.update_shipping_address(ORDER_1004, {"address1": "12 New Street", "zip": "94110"})
    assert order.shipping_address is not None
    assert order.shipping_address.address1 == "12 New Street"
    stored = world.shopify.orders[ORDER_1004]["shipping_address"]
    assert (stored["address1"], stored["zip"]) == ("12 New Street", "94110")
    assert stored["city"]  # untouched fields are kept
    with pytest.raises(VendorError, match="fulfilled"):
        await client.update_shipping_address(ORDER_1001, {"address1": "12 New Street"})


# ------------------------------------------------------------------ webhooks


async def test_register_webhook_twice_is_a_no_op(client: ShopifyClient, world: World) -> None:
    first = await client.register_webhook(
        "orders/updated", "https://agent.example/webhooks/shopify/orders-updated"
    )
    second = await client.register_webhook(
        "orders/updated", "https://agent.example/webhooks/shopify/orders-updated"
    )
    assert first.id == second.id
    assert list(world.shopify.webhooks) == [first.id]
    assert world.shopify.webhooks[first.id]["topic"] == "orders/updated"


# ------------------------------------------------------------------ failures and retries


async def test_rate_limit_fault_waits_retry_after_then_succeeds(
    client: ShopifyClient, sandbox_http: httpx.AsyncClient, waits: list[float]
) -> None:
    await inject(sandbox_http, kind="rate_limit", retry_after=1.5, remaining=2)
    order = await client.get_order(ORDER_1001)
    assert order.order_number == 1001
    assert waits == [1.5, 1.5]


async def test_server_error_is_retried_then_succeeds(
    client: ShopifyClient, sandbox_http: httpx.AsyncClient, waits: list[float]
) -> None:
    await inject(sandbox_http, kind="error", status=500, remaining=1)
    assert (await client.get_customer(6100000001)).email == "ana.silva@example.com"
    assert len(waits) == 1


async def test_server_error_forever_gives_up_after_bounded_attempts(
    client: ShopifyClient, sandbox_http: httpx.AsyncClient, world: World, waits: list[float]
) -> None:
    await inject(sandbox_http, kind="error", status=500, remaining=100)
    with pytest.raises(VendorError) as caught:
        await client.get_order(ORDER_1001)
    assert caught.value.status == 500
    assert world.faults[0].remaining == 100 - 4
    assert len(waits) == 3


async def test_malformed_body_is_a_vendor_error(
    client: ShopifyClient, sandbox_http: httpx.AsyncClient
) -> None:
    await inject(sandbox_http, kind="malformed")
    with pytest.raises(VendorError, match="malformed JSON"):
        await client.get_order(ORDER_1001)


async def test_wrong_token_is_an_auth_error(
    sandbox_transport: httpx.ASGITransport, waits: list[float]
) -> None:
    client = client_for(sandbox_transport, waits, token="shpat_wrong")
    with pytest.raises(AuthError) as caught:
        await client.find_order_by_number("#1001")
    assert caught.value.setting == "SHOPIFY_ACCESS_TOKEN"
    assert "shpat_wrong" not in str(caught.value)
    assert waits == []  # credentials are not retried


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_order(4242),
        lambda c: c.get_customer(4242),
        lambda c: c.get_product(4242),
        lambda c: c.list_transactions(4242),
        lambda c: c.append_order_note(4242, "x"),
    ],
)
async def test_unknown_ids_are_not_found(
    client: ShopifyClient, call: Callable[[ShopifyClient], Awaitable[object]], waits: list[float]
) -> None:
    with pytest.raises(NotFound):
        await call(client)
    assert waits == []

"""The BigCommerce client and adapter against the emulator (in-process, demo store): what they
return AND what the store then holds."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI

from integrations._http import AuthError, NotFound, VendorError, retrying
from integrations.bigcommerce.adapter import BigCommerceCommerce, RefundNeedsAPerson
from integrations.bigcommerce.client import BigCommerceClient, bigcommerce_http_client
from integrations.domain import Address, RefundLine, TrackingEvent, TrackingStatus
from sandbox.vendors.bigcommerce import Quota
from sandbox.world import World

API = "http://sandbox/bigcommerce"
V2 = "/bigcommerce/stores/sandbox/v2"
TOKEN = {"X-Auth-Token": "bc_sandbox_token"}


def client_for(
    transport: httpx.AsyncBaseTransport,
    token: str = "bc_sandbox_token",  # noqa: S107
    sleeps: list[float] | None = None,
    store_hash: str = "sandbox",
) -> BigCommerceClient:
    async def record(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)

    http = bigcommerce_http_client(API, store_hash, token, transport=transport)
    return BigCommerceClient(http, retry_policy=lambda: retrying(sleep=record), sleep=record)


@pytest.fixture
def client(sandbox_transport: httpx.ASGITransport) -> BigCommerceClient:
    return client_for(sandbox_transport)


@pytest.fixture
def commerce(client: BigCommerceClient) -> BigCommerceCommerce:
    return BigCommerceCommerce(client)


async def test_a_wrong_token_or_store_is_an_auth_error_naming_the_setting(
    sandbox_transport: httpx.ASGITransport, sandbox_http: httpx.AsyncClient
) -> None:
    for client in (
        client_for(sandbox_transport, token="wrong"),
        client_for(sandbox_transport, store_hash="other"),
    ):
        with pytest.raises(AuthError) as caught:
            await client.get_order(1001)
        assert caught.value.setting == "BIGCOMMERCE_ACCESS_TOKEN" and "wrong" not in str(caught.value)
    answer = await sandbox_http.get(f"{V2}/orders/1001", headers={"X-Auth-Token": "nope"})
    assert answer.status_code == 401
    assert answer.json() == [{"status": 401, "message": "You are not authorized to access this resource."}]


async def test_unknown_order_is_not_found_in_the_v2_shape(
    client: BigCommerceClient, commerce: BigCommerceCommerce, sandbox_http: httpx.AsyncClient
) -> None:
    with pytest.raises(NotFound):
        await client.get_order(424242)
    assert await commerce.find_order("424242") is None
    answer = await sandbox_http.get(f"{V2}/orders/424242", headers=TOKEN)
    assert answer.json() == [{"status": 404, "message": "The requested resource was not found."}]


async def test_find_order_maps_items_taxes_shipments_and_owner(commerce: BigCommerceCommerce) -> None:
    order = await commerce.find_order("#1001")
    assert order is not None
    assert (order.number, order.email) == ("1001", "ana.silva@example.com")
    assert order.shipments and order.shipments[0].tracking_number == "1Z84F2A90312345678"
    assert order.shipments[0].carrier == "UPS"
    assert order.is_fulfilled and not order.is_cancelled
    assert (
        sum((i.net + i.tax for i in order.items), Decimal(0)) + order.shipping + order.shipping_tax
        == order.total
    )


async def test_orders_by_email_newest_first_and_204_for_none(
    commerce: BigCommerceCommerce, world: World, sandbox_http: httpx.AsyncClient
) -> None:
    orders = await commerce.recent_orders("ANA.SILVA@example.com", limit=10)
    assert orders and all(o.email == "ana.silva@example.com" for o in orders)
    assert [o.created_at for o in orders] == sorted((o.created_at for o in orders), reverse=True)
    assert len(orders) == sum(
        1
        for o in world.bigcommerce.orders.values()
        if o["billing_address"]["email"] == "ana.silva@example.com"
    )
    assert await commerce.recent_orders("nobody@example.com") == []
    none = await sandbox_http.get(f"{V2}/orders", params={"email": "nobody@example.com"}, headers=TOKEN)
    assert none.status_code == 204 and none.content == b""


async def test_v2_pages_by_limit(
    sandbox_http: httpx.AsyncClient, client: BigCommerceClient, world: World
) -> None:
    first = await sandbox_http.get(f"{V2}/orders", params={"limit": 5}, headers=TOKEN)
    assert first.status_code == 200 and len(first.json()) == 5
    too_many = await sandbox_http.get(f"{V2}/orders", params={"limit": 251}, headers=TOKEN)
    assert too_many.status_code == 400 and too_many.json()[0]["status"] == 400
    assert len(await client._v2_list("/v2/orders")) == len(world.bigcommerce.orders)


async def test_every_answer_carries_the_rate_limit_headers_and_the_quota_is_enforced(
    sandbox_app: FastAPI, sandbox_transport: httpx.ASGITransport, sandbox_http: httpx.AsyncClient
) -> None:
    answer = await sandbox_http.get(f"{V2}/orders/1001", headers=TOKEN)
    assert answer.headers["X-Rate-Limit-Requests-Quota"] == "150"
    assert answer.headers["X-Rate-Limit-Time-Window-Ms"] == "30000"
    assert int(answer.headers["X-Rate-Limit-Requests-Left"]) == 149
    assert 0 < int(answer.headers["X-Rate-Limit-Time-Reset-Ms"]) <= 30000
    now = [0.0]
    sandbox_app.state.bigcommerce_quota = Quota(quota=2, window_ms=30000, clock=lambda: now[0])
    sleeps: list[float] = []
    client = client_for(sandbox_transport, sleeps=sleeps)
    await client.get_order(1001)
    await client.get_order(1001)  # the last one of the window: the answer says 0 left
    over = await sandbox_http.get(f"{V2}/orders/1001", headers=TOKEN)
    assert over.status_code == 429 and over.headers["X-Rate-Limit-Requests-Left"] == "0"
    assert over.json() == [{"status": 429, "message": "You have exceeded the request quota."}]
    now[0] = 31.0  # the window has reset by the time the client retries
    assert (await client.get_order(1001)).id == 1001
    assert sleeps and sleeps[0] > 0  # it waited for the reset instead of sending into a 429
    assert sandbox_app.state.bigcommerce_quota.rejected == 1  # only the raw call above was refused


async def test_final_sale_tag_comes_from_the_product_custom_field(commerce: BigCommerceCommerce) -> None:
    tagged = []
    for number in ("1001", "1002", "1003", "1004", "1005", "1006", "1007", "1008", "1009"):
        order = await commerce.find_order(number)
        assert order is not None
        tagged += [t for i in order.items for t in i.tags]
    assert "final-sale" in tagged


async def test_partial_refund_through_the_quote(commerce: BigCommerceCommerce, world: World) -> None:
    order = await commerce.find_order("1002")
    assert order is not None
    item = order.items[0]
    quote = await commerce.quote_refund(order.id, [RefundLine(line_item_id=item.id, quantity=1)])
    assert quote.amount == item.refund_amount(1)
    assert [p["provider_id"] for p in quote.plan] == ["braintree"]
    record = await commerce.refund(quote, note="Damaged", idempotency_key="k1")
    assert (record.amount, record.processor) == (quote.amount, "bigcommerce")
    again = await commerce.refund(quote, note="Damaged", idempotency_key="k1")
    assert again.id == record.id
    refunds = world.bigcommerce.refunds[1002]
    ours = [r for r in refunds if "[support-agent:k1]" in r["reason"]]
    assert len(ours) == 1 and ours[0]["payments"][0]["provider_id"] == "braintree"
    assert ours[0]["items"] == [
        {"item_type": "PRODUCT", "item_id": int(item.id), "quantity": 1, "requested_amount": None,
         "reason": "Damaged [support-agent:k1]"}
    ]  # fmt: skip
    stored = world.bigcommerce.orders[1002]
    assert Decimal(stored["refunded_amount"]) == quote.amount and stored["status_id"] == 14
    after = await commerce.get_order(order.id)
    assert after.refunded_total == quote.amount and after.items[0].refunded_quantity == 1
    assert after.is_fulfilled  # Partially Refunded, still shipped


async def test_a_split_payment_is_refunded_through_both_providers(
    commerce: BigCommerceCommerce, world: World
) -> None:
    total = Decimal(world.bigcommerce.orders[1002]["total_inc_tax"])
    world.bigcommerce.payments[1002] = [
        {"provider_id": "giftcertificate", "provider_description": "Gift Certificate", "amount": "20.00",
         "offline_provider": False},
        {"provider_id": "braintree", "provider_description": "Braintree", "amount": str(total - 20),
         "offline_provider": False},
    ]  # fmt: skip
    quote = await commerce.quote_refund("1002", None, include_shipping=True)
    assert quote.amount == total
    assert {p["provider_id"] for p in quote.plan} == {"braintree", "giftcertificate"}
    await commerce.refund(quote, note="Everything", idempotency_key="k-split")
    paid = {
        p["provider_id"]: Decimal(str(p["amount"])) for p in world.bigcommerce.refunds[1002][-1]["payments"]
    }
    assert paid == {"braintree": total - 20, "giftcertificate": Decimal("20.00")}
    assert world.bigcommerce.orders[1002]["status_id"] == 4  # Refunded


async def test_an_offline_only_payment_is_said_plainly_and_nothing_moves(
    commerce: BigCommerceCommerce, world: World
) -> None:
    world.bigcommerce.payments[1002][0].update(provider_id="bankdeposit", offline_provider=True)
    quote = await commerce.quote_refund("1002", None)
    assert quote.plan == ()
    with pytest.raises(RefundNeedsAPerson, match="only offline") as caught:
        await commerce.refund(quote, note="x", idempotency_key="k2")
    assert caught.value.status == 422 and not caught.value.retryable
    assert not [r for r in world.bigcommerce.refunds[1002] if "k2" in r["reason"]]


async def test_the_emulator_refuses_what_bigcommerce_refuses(
    sandbox_http: httpx.AsyncClient, world: World
) -> None:
    base = "/bigcommerce/stores/sandbox/v3/orders/1002/payment_actions"
    item = world.bigcommerce.order_products[1002][0]
    items = [{"item_type": "PRODUCT", "item_id": item["id"], "quantity": item["quantity"] + 1}]
    too_many = await sandbox_http.post(f"{base}/refund_quotes", json={"items": items}, headers=TOKEN)
    assert too_many.status_code == 422 and "exceeds" in too_many.json()["title"]
    items = [{"item_type": "PRODUCT", "item_id": item["id"], "quantity": 1}]
    quote = (await sandbox_http.post(f"{base}/refund_quotes", json={"items": items}, headers=TOKEN)).json()[
        "data"
    ]
    amount = quote["total_refund_amount"]
    wrong = await sandbox_http.post(
        f"{base}/refunds", json={"items": items, "payments": [{"provider_id": "braintree", "amount": amount + 1}]},
        headers=TOKEN,
    )  # fmt: skip
    assert wrong.status_code == 422
    world.bigcommerce.orders[1002]["customer_id"] = 0  # a guest
    guest = await sandbox_http.post(
        f"{base}/refunds", json={"items": items, "payments": [{"provider_id": "storecredit", "amount": amount}]},
        headers=TOKEN,
    )  # fmt: skip
    assert (
        guest.status_code == 422
        and guest.json()["title"] == "Unable to provide store credit for a guest customer."
    )
    assert world.bigcommerce.refunds[1002] == []


async def test_cancel_before_shipping_refunds_then_sets_cancelled(
    commerce: BigCommerceCommerce, world: World
) -> None:
    order = await commerce.find_order("1004")
    assert order is not None and not order.is_fulfilled
    cancelled = await commerce.cancel(order.id, reason="wrong size", idempotency_key="c1")
    assert cancelled.is_cancelled
    stored = world.bigcommerce.orders[1004]
    assert stored["status_id"] == 5 and stored["status"] == "Cancelled"
    assert sum(Decimal(str(r["total_amount"])) for r in world.bigcommerce.refunds[1004]) == Decimal(
        stored["total_inc_tax"]
    )
    assert "wrong size" in stored["staff_notes"]
    again = await commerce.cancel(order.id, reason="wrong size", idempotency_key="c1")
    assert again.is_cancelled and len(world.bigcommerce.refunds[1004]) == 1


async def test_a_cancel_retried_after_its_refund_only_sets_the_status(
    commerce: BigCommerceCommerce, world: World
) -> None:
    quote = await commerce.quote_refund("1004", None, include_shipping=True)
    await commerce.refund(quote, note="Order cancelled", idempotency_key="c3")
    assert world.bigcommerce.orders[1004]["status_id"] == 4
    cancelled = await commerce.cancel("1004", reason="wrong size", idempotency_key="c3")
    assert cancelled.is_cancelled and len(world.bigcommerce.refunds[1004]) == 1


async def test_shipped_orders_cannot_be_cancelled_or_readdressed(
    commerce: BigCommerceCommerce, world: World
) -> None:
    address = Address(name="Ana Silva", address1="1 Main St", city="Reno", province_code="NV", zip="89501")
    with pytest.raises(VendorError, match="Shipped"):
        await commerce.cancel("1001", reason="x", idempotency_key="c2")
    with pytest.raises(VendorError):
        await commerce.update_shipping_address("1001", address)
    assert world.bigcommerce.orders[1001]["status_id"] == 2 and world.bigcommerce.refunds[1001] == []


async def test_shipping_address_update(commerce: BigCommerceCommerce, world: World) -> None:
    address = Address(
        name="Dev Patel",
        address1="500 Oak Ave",
        address2="Apt 2",
        city="Denver",
        province_code="CO",
        zip="80203",
    )
    order = await commerce.update_shipping_address("1004", address)
    assert order.shipping_address is not None and order.shipping_address.one_line() == address.one_line()
    stored = world.bigcommerce.shipping_addresses[1004][0]
    assert (stored["street_1"], stored["street_2"], stored["zip"]) == ("500 Oak Ave", "Apt 2", "80203")


async def test_staff_notes_are_appended_once(commerce: BigCommerceCommerce, world: World) -> None:
    world.bigcommerce.orders[1001]["staff_notes"] = "VIP customer"
    await commerce.append_note("1001", "Shopper asked about delivery")
    await commerce.append_note("1001", "Shopper asked about delivery")
    assert world.bigcommerce.orders[1001]["staff_notes"] == "VIP customer\nShopper asked about delivery"


async def test_delivery_comes_from_the_tracker(client: BigCommerceClient) -> None:
    moment = datetime(2026, 11, 18, tzinfo=UTC)
    asked: list[str] = []

    async def track(number: str, carrier: str | None) -> TrackingStatus:
        asked.append(number)
        event = TrackingEvent(at=moment, status="delivered", message="Delivered")
        return TrackingStatus(tracking_number=number, carrier=carrier, status="delivered", events=(event,))

    commerce = BigCommerceCommerce(client, track=track)
    order = await commerce.find_order("1002")
    assert order is not None and order.shipments and order.shipments[0].delivered_at == moment
    await commerce.get_order(order.id)
    assert len(asked) == len(order.shipments)  # a delivered parcel is asked about once


async def test_the_stripe_paid_order_names_its_payment_intent(
    commerce: BigCommerceCommerce, world: World
) -> None:
    order = await commerce.find_order("1009")
    assert order is not None and order.payment_processor == "stripe"
    assert order.payment_reference in world.stripe.payment_intents


async def test_injected_faults_are_retried_for_reads(
    client: BigCommerceClient, sandbox_http: httpx.AsyncClient
) -> None:
    for kind in ({"kind": "rate_limit", "retry_after": 1.0}, {"kind": "error", "status": 503}):
        fault = {"vendor": "bigcommerce", "route": "/v2/orders/1001", "method": "GET", **kind}
        assert (await sandbox_http.post("/_sandbox/faults", json=fault)).status_code in (200, 201)
        assert (await client.get_order(1001)).id == 1001
    fault = {
        "vendor": "bigcommerce",
        "route": "/v2/orders/1001",
        "kind": "error",
        "status": 503,
        "remaining": 10,
    }
    await sandbox_http.post("/_sandbox/faults", json=fault)
    with pytest.raises(VendorError) as caught:
        await client.get_order(1001)
    assert caught.value.retryable and "Internal server error" in str(caught.value)


async def test_a_webhook_naming_the_order_fetches_it_again(
    commerce: BigCommerceCommerce, world: World
) -> None:
    from integrations.events import OrderCancelled

    before = await commerce.find_order("1004")
    assert before is not None and not before.is_cancelled
    world.bigcommerce.orders[1004].update(status_id=5, status="Cancelled")  # a person, in the control panel
    stale = await commerce.find_order("1004")
    assert stale is not None and not stale.is_cancelled  # still the cached order
    await commerce.on_store_event(OrderCancelled(order_id="1004", order_number="1004"))
    assert commerce._orders["1004"][1].status_id == 5  # fetched when the delivery came
    after = await commerce.find_order("1004")
    assert after is not None and after.is_cancelled


async def test_a_carrier_that_does_not_answer_leaves_the_delivery_unconfirmed(
    client: BigCommerceClient,
) -> None:
    from tools.returns import unconfirmed_delivery

    async def carrier_down(number: str, carrier: str | None) -> TrackingStatus:
        raise VendorError("easypost", "unavailable", status=503)

    order = await BigCommerceCommerce(client, track=carrier_down).find_order("1002")
    assert order is not None and order.shipments[0].delivery_unconfirmed
    assert order.shipments[0].delivered_at is None
    refusal = unconfirmed_delivery(order)
    assert refusal is not None and "not been delivered" not in refusal.message

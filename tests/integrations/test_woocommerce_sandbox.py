"""The WooCommerce client and adapter against the emulator (in-process, demo store): what they
return AND what the store then holds."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from integrations._http import AuthError, NotFound, VendorError, retrying
from integrations.domain import Address, RefundLine, TrackingStatus
from integrations.woocommerce.adapter import GatewayCannotRefund, WooCommerceCommerce
from integrations.woocommerce.client import InsecureStoreURL, WooCommerceClient, woocommerce_http_client
from sandbox.world import World

STORE = "http://sandbox/woocommerce"


def client_for(
    transport: httpx.AsyncBaseTransport,
    key: str = "ck_sandbox",
    secret: str = "cs_sandbox",  # noqa: S107
) -> WooCommerceClient:
    async def no_sleep(_: float) -> None:
        return None

    http = woocommerce_http_client(STORE, key, secret, allow_http=True, transport=transport)
    return WooCommerceClient(http, retry_policy=lambda: retrying(sleep=no_sleep))


@pytest.fixture
def client(sandbox_transport: httpx.ASGITransport) -> WooCommerceClient:
    return client_for(sandbox_transport)


@pytest.fixture
def commerce(client: WooCommerceClient) -> WooCommerceCommerce:
    return WooCommerceCommerce(client)


def test_a_real_store_must_use_https() -> None:
    with pytest.raises(InsecureStoreURL):
        woocommerce_http_client("http://shop.example", "ck", "cs")
    http = woocommerce_http_client("https://shop.example/", "ck", "cs")
    assert str(http.base_url) == "https://shop.example/wp-json/wc/v3/"


async def test_wrong_keys_are_an_auth_error_naming_the_setting(
    sandbox_transport: httpx.ASGITransport,
) -> None:
    with pytest.raises(AuthError) as caught:
        await client_for(sandbox_transport, secret="cs_wrong").get_order(1001)
    assert caught.value.setting == "WOOCOMMERCE_CONSUMER_KEY"
    assert "woocommerce_rest_authentication_error" in str(caught.value)
    assert "cs_wrong" not in str(caught.value)


async def test_unknown_order_is_not_found(client: WooCommerceClient, commerce: WooCommerceCommerce) -> None:
    with pytest.raises(NotFound):
        await client.get_order(424242)
    assert await commerce.find_order("424242") is None


async def test_find_order_maps_items_taxes_tracking_and_owner(commerce: WooCommerceCommerce) -> None:
    order = await commerce.find_order("#1001")
    assert order is not None
    assert (order.number, order.email) == ("1001", "ana.silva@example.com")
    assert order.items and all(i.quantity >= 1 for i in order.items)
    assert order.shipments and order.shipments[0].tracking_number
    assert order.is_fulfilled and not order.is_cancelled
    assert (
        sum((i.net + i.tax for i in order.items), Decimal(0)) + order.shipping + order.shipping_tax
        == order.total
    )


async def test_orders_by_billing_email_newest_first(commerce: WooCommerceCommerce, world: World) -> None:
    orders = await commerce.recent_orders("ANA.SILVA@example.com", limit=10)
    assert orders and all(o.email == "ana.silva@example.com" for o in orders)
    dates = [o.created_at for o in orders]
    assert dates == sorted(dates, reverse=True)
    assert len(orders) == sum(
        1 for o in world.woocommerce.orders.values() if o["billing"]["email"] == "ana.silva@example.com"
    )


async def test_pagination_headers_and_limit(sandbox_http: httpx.AsyncClient) -> None:
    auth = ("ck_sandbox", "cs_sandbox")
    first = await sandbox_http.get("/woocommerce/wp-json/wc/v3/orders", params={"per_page": 5}, auth=auth)
    assert first.status_code == 200 and len(first.json()) == 5
    total = int(first.headers["X-WP-Total"])
    assert int(first.headers["X-WP-TotalPages"]) == -(-total // 5)
    assert 'rel="next"' in first.headers["Link"]
    too_many = await sandbox_http.get(
        "/woocommerce/wp-json/wc/v3/orders", params={"per_page": 101}, auth=auth
    )
    assert too_many.status_code == 400
    assert too_many.json() == {
        "code": "rest_invalid_param",
        "message": "Invalid parameter(s): per_page",
        "data": {"status": 400},
    }


async def test_client_reads_every_page(client: WooCommerceClient, world: World) -> None:
    everything = await client._list("/orders", {})
    assert len(everything) == len(world.woocommerce.orders)


async def test_final_sale_tag_comes_from_the_product(commerce: WooCommerceCommerce) -> None:
    tagged = []
    for number in ("1001", "1002", "1003", "1004", "1005", "1006", "1007", "1008", "1009"):
        order = await commerce.find_order(number)
        assert order is not None
        tagged += [t for i in order.items for t in i.tags]
    assert "final-sale" in tagged


async def test_partial_refund_with_line_items(commerce: WooCommerceCommerce, world: World) -> None:
    order = await commerce.find_order("1002")
    assert order is not None
    item = order.items[0]
    quote = await commerce.quote_refund(order.id, [RefundLine(line_item_id=item.id, quantity=1)])
    assert quote.amount == item.refund_amount(1)
    record = await commerce.refund(quote, note="Damaged", idempotency_key="k1")
    assert (record.amount, record.processor) == (quote.amount, "woocommerce")
    again = await commerce.refund(quote, note="Damaged", idempotency_key="k1")
    assert again.id == record.id
    refunds = world.woocommerce.refunds[int(order.id)]
    assert len([r for r in refunds if "[support-agent:k1]" in r["reason"]]) == 1
    assert refunds[-1]["line_items"][0]["quantity"] == -1
    after = await commerce.get_order(order.id)
    assert after.refunded_total == quote.amount
    assert after.items[0].refunded_quantity == 1
    assert (await commerce.find_refund(order.id, "k1")) is not None


async def test_a_gateway_without_refunds_is_said_plainly(commerce: WooCommerceCommerce, world: World) -> None:
    world.woocommerce.orders[1002]["payment_method"] = "bacs"
    quote = await commerce.quote_refund("1002", None)
    with pytest.raises(GatewayCannotRefund, match="cannot refund automatically"):
        await commerce.refund(quote, note="x", idempotency_key="k2")
    assert not [r for r in world.woocommerce.refunds[1002] if "k2" in r["reason"]]


async def test_refund_above_what_is_left_is_refused(client: WooCommerceClient) -> None:
    with pytest.raises(VendorError, match="Invalid refund amount"):
        await client.create_refund(1008, amount=Decimal("1.00"), reason="x", line_items=[])


async def test_cancel_before_fulfilment_refunds_and_cancels(
    commerce: WooCommerceCommerce, world: World
) -> None:
    order = await commerce.find_order("1004")
    assert order is not None and not order.is_fulfilled
    cancelled = await commerce.cancel(order.id, reason="wrong size", idempotency_key="c1")
    assert cancelled.is_cancelled
    stored = world.woocommerce.orders[1004]
    assert stored["status"] == "cancelled"
    assert sum(Decimal(r["amount"]) for r in world.woocommerce.refunds[1004]) == Decimal(stored["total"])
    assert any("wrong size" in n["note"] and not n["customer_note"] for n in world.woocommerce.notes[1004])
    again = await commerce.cancel(order.id, reason="wrong size", idempotency_key="c1")
    assert again.is_cancelled and len(world.woocommerce.refunds[1004]) == 1


async def test_shipped_orders_cannot_be_cancelled_or_readdressed(commerce: WooCommerceCommerce) -> None:
    address = Address(name="Ana Silva", address1="1 Main St", city="Reno", province_code="NV", zip="89501")
    with pytest.raises(VendorError):
        await commerce.cancel("1001", reason="x", idempotency_key="c2")
    with pytest.raises(VendorError):
        await commerce.update_shipping_address("1001", address)


async def test_shipping_address_update(commerce: WooCommerceCommerce, world: World) -> None:
    address = Address(
        name="Dev Patel",
        address1="500 Oak Ave",
        address2="Apt 2",
        city="Denver",
        province_code="CO",
        zip="80203",
    )
    order = await commerce.update_shipping_address("1004", address)
    assert order.shipping_address is not None
    assert order.shipping_address.one_line() == address.one_line()
    assert world.woocommerce.orders[1004]["shipping"]["address_1"] == "500 Oak Ave"


async def test_notes_are_appended_once(commerce: WooCommerceCommerce, world: World) -> None:
    before = len(world.woocommerce.notes.get(1001, []))
    await commerce.append_note("1001", "Shopper asked about delivery")
    await commerce.append_note("1001", "Shopper asked about delivery")
    assert len(world.woocommerce.notes[1001]) == before + 1


async def test_delivery_comes_from_the_tracker(client: WooCommerceClient) -> None:
    from datetime import UTC, datetime

    from integrations.domain import TrackingEvent

    moment = datetime(2026, 11, 18, tzinfo=UTC)

    asked: list[str] = []

    async def track(number: str, carrier: str | None) -> TrackingStatus:
        asked.append(number)
        return TrackingStatus(
            tracking_number=number,
            carrier=carrier,
            status="delivered",
            events=(TrackingEvent(at=moment, status="delivered", message="Delivered"),),
        )

    commerce = WooCommerceCommerce(client, track=track)
    order = await commerce.find_order("1002")
    assert order is not None and order.shipments
    assert order.shipments[0].delivered_at == moment
    await commerce.get_order(order.id)
    assert len(asked) == len(order.shipments)  # a delivered parcel is asked about once
    assert order.shipments[0].carrier in ("usps", "ups", "fedex", "dhl", "USPS", "UPS", "FedEx", "DHL")


async def test_the_gateway_refusal_reaches_the_shopper_as_a_refusal_not_an_outage() -> None:
    error = GatewayCannotRefund("woocommerce", "cannot refund automatically", status=422)
    assert error.status == 422 and not error.retryable


async def test_a_cancel_retried_after_its_refund_only_sets_the_status(
    commerce: WooCommerceCommerce, client: WooCommerceClient, world: World
) -> None:
    quote = await commerce.quote_refund("1004", None, include_shipping=True)
    await commerce.refund(quote, note="Order cancelled", idempotency_key="c3")  # the first try got this far
    assert world.woocommerce.orders[1004]["status"] == "refunded"
    cancelled = await commerce.cancel("1004", reason="wrong size", idempotency_key="c3")
    assert cancelled.is_cancelled and len(world.woocommerce.refunds[1004]) == 1


async def test_injected_faults_are_retried_for_reads(
    client: WooCommerceClient, sandbox_http: httpx.AsyncClient
) -> None:
    for kind in ({"kind": "rate_limit", "retry_after": 1.0}, {"kind": "error", "status": 503}):
        fault = {"vendor": "woocommerce", "route": "/orders/1001", "method": "GET", **kind}
        assert (await sandbox_http.post("/_sandbox/faults", json=fault)).status_code in (200, 201)
        assert (await client.get_order(1001)).number == "1001"
    fault = {
        "vendor": "woocommerce",
        "route": "/orders/1001",
        "kind": "error",
        "status": 503,
        "remaining": 10,
    }
    await sandbox_http.post("/_sandbox/faults", json=fault)
    with pytest.raises(VendorError) as caught:
        await client.get_order(1001)
    assert caught.value.retryable and "internal_server_error" in str(caught.value)

"""The WooCommerce client and adapter on WooCommerce's published payloads (tests/published/
woocommerce_rest.py), served by `httpx.MockTransport`: parsing, auth, errors, pagination."""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from integrations._http import AuthError, NotFound, RateLimited, VendorError, retrying
from integrations.domain import TrackingEvent, TrackingStatus
from integrations.woocommerce.adapter import WooCommerceCommerce
from integrations.woocommerce.client import WooCommerceClient, woocommerce_http_client
from integrations.woocommerce.models import WooNote, WooOrder, WooRefund
from tests.published.woocommerce_rest import NOTE, ORDER, REFUND, WC_ERROR, WP_ERROR
from tools.returns import unconfirmed_delivery

STORE = "https://example.com"


def make_client(handler: Any) -> WooCommerceClient:
    async def no_sleep(_: float) -> None:
        return None

    http = woocommerce_http_client(STORE, "ck_live", "cs_live", transport=httpx.MockTransport(handler))
    return WooCommerceClient(http, retry_policy=lambda: retrying(sleep=no_sleep))


def test_the_published_order_parses() -> None:
    order = WooOrder.model_validate(ORDER)
    assert (order.id, order.number, order.status) == (727, "727", "processing")
    assert order.total == Decimal("29.35") and order.billing.email == "john.doe@example.com"
    assert order.date_created_gmt == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)
    assert [i.total_tax for i in order.line_items] == [Decimal("0.45"), Decimal("0.90")]
    assert order.line_items[1].taxes[0].total == Decimal("0.9")
    tracking = order.tracking_items()
    assert [(t.tracking_number, t.carrier) for t in tracking] == [("9400111899223100000000", "USPS")]
    assert tracking[0].shipped_at == datetime(2017, 3, 23, tzinfo=UTC)


def test_the_published_refund_and_note_parse() -> None:
    refund = WooRefund.model_validate(REFUND)
    assert (refund.id, refund.amount, refund.refunded_payment) == (726, Decimal("10.00"), False)
    note = WooNote.model_validate(NOTE)
    assert (note.id, note.customer_note) == (281, False)


async def test_basic_auth_and_the_v3_root() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=ORDER)

    order = await make_client(handler).get_order(727)
    assert order.id == 727
    assert str(seen[0].url) == "https://example.com/wp-json/wc/v3/orders/727"
    assert seen[0].headers["authorization"] == "Basic " + base64.b64encode(b"ck_live:cs_live").decode()


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (404, WP_ERROR, NotFound),
        (404, WC_ERROR, NotFound),
        (
            401,
            {
                "code": "woocommerce_rest_cannot_view",
                "message": "Sorry, you cannot view this resource.",
                "data": {"status": 401},
            },
            AuthError,
        ),
        (
            400,
            {
                "code": "rest_invalid_param",
                "message": "Invalid parameter(s): per_page",
                "data": {"status": 400},
            },
            VendorError,
        ),
    ],
)
async def test_wordpress_errors_map_to_typed_errors(
    status: int, body: dict[str, Any], error: type[Exception]
) -> None:
    client = make_client(lambda _: httpx.Response(status, json=body))
    with pytest.raises(error) as caught:
        await client.get_order(1)
    assert str(body["code"]) in str(caught.value)


async def test_server_errors_and_throttling_are_retried_for_reads() -> None:
    answers = [httpx.Response(429, headers={"Retry-After": "1"}, json={"code": "x", "message": "slow"}),
               httpx.Response(502, text="Bad gateway"), httpx.Response(200, json=ORDER)]  # fmt: skip
    client = make_client(lambda _: answers.pop(0))
    assert (await client.get_order(727)).id == 727
    assert not answers
    client = make_client(lambda _: httpx.Response(429, json={"code": "x", "message": "slow"}))
    with pytest.raises(RateLimited):
        await client.get_order(727)


async def test_refund_writes_are_sent_once() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(
            500, json={"code": "internal_server_error", "message": "x", "data": {"status": 500}}
        )

    with pytest.raises(VendorError):
        await make_client(handler).create_refund(727, amount=Decimal("10.00"), reason="r", line_items=[])
    assert len(calls) == 1


async def test_lists_follow_x_wp_totalpages() -> None:
    orders = [dict(copy.deepcopy(ORDER), id=700 + i, number=str(700 + i)) for i in range(250)]
    pages: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        page, per_page = int(request.url.params["page"]), int(request.url.params["per_page"])
        assert per_page <= 100
        pages.append(page)
        chunk = orders[(page - 1) * per_page : page * per_page]
        return httpx.Response(200, json=chunk, headers={"X-WP-Total": "250", "X-WP-TotalPages": "3"})

    found = await make_client(handler).orders_by_email("JOHN.DOE@example.com", limit=300)
    assert len(found) == 250 and pages == [1, 2, 3]


async def test_the_adapter_maps_the_published_order() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/products/93") or request.url.path.endswith("/products/22"):
            return httpx.Response(
                200,
                json={"id": 93, "name": "p", "tags": [{"id": 1, "name": "Final sale", "slug": "final-sale"}]},
            )
        return httpx.Response(200, json=ORDER)

    order = await WooCommerceCommerce(make_client(handler)).find_order("727")
    assert order is not None
    assert (order.number, order.email, order.financial_status) == ("727", "john.doe@example.com", "paid")
    assert order.items[0].unit_price == Decimal("3.00") and order.items[0].tags == ("final-sale",)
    assert order.shipments[0].tracking_number == "9400111899223100000000"
    assert order.shipping_address is not None and order.shipping_address.zip == "94103"
    net = sum((i.net + i.tax for i in order.items), Decimal(0))
    assert net + order.shipping + order.shipping_tax == order.total


async def test_a_carrier_that_does_not_answer_leaves_the_delivery_unconfirmed_not_undelivered() -> None:
    # WooCommerce records no deliveries; when EasyPost is down the agent must not say "not delivered yet".
    def handler(request: httpx.Request) -> httpx.Response:
        if "/products/" in request.url.path:
            return httpx.Response(200, json={"id": 93, "name": "p", "tags": []})
        return httpx.Response(200, json=ORDER)

    async def carrier_down(number: str, carrier: str | None) -> TrackingStatus:
        raise VendorError("easypost", "unavailable", status=503)

    async def carrier_delivered(number: str, carrier: str | None) -> TrackingStatus:
        at = datetime(2017, 3, 25, tzinfo=UTC)
        return TrackingStatus(
            tracking_number=number,
            status="delivered",
            events=(TrackingEvent(at=at, status="delivered", message="Delivered"),),
        )

    down = await WooCommerceCommerce(make_client(handler), track=carrier_down).find_order("727")
    assert down is not None and down.shipments[0].delivery_unconfirmed
    assert down.shipments[0].delivered_at is None
    refusal = unconfirmed_delivery(down)
    assert refusal is not None and refusal.code == "vendor_unavailable"
    assert "not been delivered" not in refusal.message and "carrier" in refusal.message

    up = await WooCommerceCommerce(make_client(handler), track=carrier_delivered).find_order("727")
    assert up is not None and not up.shipments[0].delivery_unconfirmed
    assert up.shipments[0].delivered_at == datetime(2017, 3, 25, tzinfo=UTC)
    assert unconfirmed_delivery(up) is None

"""The BigCommerce client and adapter on BigCommerce's published payloads (tests/published/bigcommerce/),
served by `httpx.MockTransport`: parsing, X-Auth-Token, V2 and V3 errors, 204 lists, pagination, the
rate-limit headers honoured, refund methods chosen, writes sent once."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from integrations._http import AuthError, NotFound, RateLimited, VendorError, retrying
from integrations.bigcommerce.adapter import BigCommerceCommerce, choose_refund_method
from integrations.bigcommerce.client import BigCommerceClient, bigcommerce_http_client
from integrations.bigcommerce.models import (
    BcOrder,
    BcOrderProduct,
    BcRefund,
    BcRefundQuote,
    BcShipment,
    BcShippingAddress,
)
from tests.published.bigcommerce.reference import (
    GUEST_STORE_CREDIT_422,
    ORDER,
    ORDER_PRODUCT,
    RATE_LIMIT_HEADERS,
    REFUND,
    REFUND_QUOTE,
    REFUND_REQUEST_ITEMS,
    SHIPMENT,
    SHIPPING_ADDRESS,
    V2_NOT_FOUND,
    V3_422,
)

API = "https://api.bigcommerce.com"


def make_client(handler: Any, sleeps: list[float] | None = None) -> BigCommerceClient:
    async def record(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)

    http = bigcommerce_http_client(API, "abc123", "live-token", transport=httpx.MockTransport(handler))
    return BigCommerceClient(http, retry_policy=lambda: retrying(sleep=record), sleep=record)


def test_the_published_v2_payloads_parse() -> None:
    order = BcOrder.model_validate(ORDER)
    assert (order.number, order.status_id, order.email) == ("218", 7, "janedoe@example.com")
    assert order.total_inc_tax == Decimal("69.84") and order.shipping_cost_tax == Decimal("0.91")
    assert order.date_created == datetime(2019, 3, 5, 21, 40, 11, tzinfo=UTC)
    assert order.date_shipped is None  # "" in V2
    product = BcOrderProduct.model_validate(ORDER_PRODUCT)
    assert (product.price_ex_tax, product.total_tax, product.discount) == (
        Decimal("55.99"),
        Decimal("9.24"),
        Decimal("1.59"),
    )
    address = BcShippingAddress.model_validate(SHIPPING_ADDRESS)
    assert (address.id, address.name, address.cost_inc_tax) == (132, "Trishy Smith", Decimal("12.99"))
    shipment = BcShipment.model_validate(SHIPMENT)
    assert (shipment.tracking_number, shipment.carrier) == ("EJ958083578US", "USPS")
    assert shipment.items[0].order_product_id == 188


def test_the_published_v3_refund_payloads_parse() -> None:
    quote = BcRefundQuote.model_validate(REFUND_QUOTE["data"])
    assert quote.total_refund_amount == Decimal("119.35")
    assert [[o.provider_id for o in m] for m in quote.refund_methods] == [
        ["storecredit"],
        ["custom"],
        ["bankdeposit", "storecredit"],
    ]
    refund = BcRefund.model_validate(REFUND["data"])
    assert (refund.id, refund.total_amount, refund.payments[0].provider_id) == (
        12,
        Decimal("50.00"),
        "storecredit",
    )
    assert refund.mentions("requires a refund")


def test_no_online_method_but_store_credit_means_a_person_refunds() -> None:
    """The published methods: store credit, a custom (offline) one, and bank deposit + store credit.
    Store credit is not the shopper's money back; everything else is offline: nothing to choose."""
    quote = BcRefundQuote.model_validate(REFUND_QUOTE["data"])
    assert choose_refund_method(quote, paid_with_store_credit_only=False) is None
    chosen = choose_refund_method(quote, paid_with_store_credit_only=True)
    assert chosen is not None and [o.provider_id for o in chosen] == ["storecredit"]
    split = copy.deepcopy(REFUND_QUOTE["data"])
    for option in split["refund_methods"][2]:
        option["offline"] = False  # a card (online) and store credit paid the order together
    chosen = choose_refund_method(BcRefundQuote.model_validate(split), paid_with_store_credit_only=False)
    assert chosen is not None and [o.provider_id for o in chosen] == ["bankdeposit", "storecredit"]


async def test_the_auth_header_and_the_store_path() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=ORDER)

    assert (await make_client(handler).get_order(218)).id == 218
    assert str(seen[0].url) == "https://api.bigcommerce.com/stores/abc123/v2/orders/218"
    assert seen[0].headers["x-auth-token"] == "live-token"
    assert seen[0].headers["accept"] == "application/json"


@pytest.mark.parametrize(
    ("status", "body", "error", "text"),
    [
        (404, V2_NOT_FOUND, NotFound, "The requested resource was not found."),
        (401, [{"status": 401, "message": "You are not authorized."}], AuthError, "not authorized"),
        (422, V3_422, VendorError, "primary_contact.district"),
        (422, GUEST_STORE_CREDIT_422, VendorError, "store credit for a guest"),
    ],
)
async def test_v2_and_v3_errors_map_to_typed_errors(
    status: int, body: Any, error: type[Exception], text: str
) -> None:
    client = make_client(lambda _: httpx.Response(status, json=body))
    with pytest.raises(error) as caught:
        await client.get_order(1)
    assert text in str(caught.value)
    assert "live-token" not in str(caught.value)
    if isinstance(caught.value, AuthError):
        assert caught.value.setting == "BIGCOMMERCE_ACCESS_TOKEN"


async def test_a_429_waits_for_the_window_reset_and_is_retried() -> None:
    sleeps: list[float] = []
    answers = [
        httpx.Response(429, headers={**RATE_LIMIT_HEADERS, "X-Rate-Limit-Requests-Left": "0"}, json=[]),
        httpx.Response(200, json=ORDER, headers=RATE_LIMIT_HEADERS),
    ]
    client = make_client(lambda _: answers.pop(0), sleeps)
    assert (await client.get_order(218)).id == 218
    assert sleeps[0] == 10.0  # 15 000 ms, capped by the shared policy's longest wait
    client = make_client(lambda _: httpx.Response(429, json=[{"status": 429, "message": "slow"}]))
    with pytest.raises(RateLimited):
        await client.get_order(218)


async def test_with_no_request_left_the_next_call_waits_instead_of_spending_a_429() -> None:
    sleeps: list[float] = []
    headers = {**RATE_LIMIT_HEADERS, "X-Rate-Limit-Requests-Left": "0", "X-Rate-Limit-Time-Reset-Ms": "2500"}
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(200, json=ORDER, headers=headers if len(calls) == 1 else RATE_LIMIT_HEADERS)

    client = make_client(handler, sleeps)
    await client.get_order(218)
    assert sleeps == []
    await client.get_order(218)
    assert len(sleeps) == 1 and 2.0 < sleeps[0] <= 2.5
    await client.get_order(218)
    assert len(sleeps) == 1  # 35 left: no wait


async def test_an_empty_v2_list_is_204_and_lists_page_by_limit() -> None:
    assert await make_client(lambda _: httpx.Response(204)).orders_by_email("nobody@example.com") == []
    orders = [dict(copy.deepcopy(ORDER), id=300 + i) for i in range(260)]
    pages: list[tuple[int, int]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        page, limit = int(request.url.params["page"]), int(request.url.params["limit"])
        assert request.url.params["email"] == "janedoe@example.com"
        assert request.url.params["sort"] == "date_created:desc"
        pages.append((page, limit))
        chunk = orders[(page - 1) * limit : page * limit]
        return httpx.Response(200, json=chunk) if chunk else httpx.Response(204)

    found = await make_client(handler).orders_by_email("JaneDoe@example.com", limit=300)
    assert len(found) == 260 and pages == [(1, 250), (2, 250)]


async def test_refund_writes_are_sent_once_and_quotes_retried() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, json={"status": 503, "title": "Service Unavailable", "type": "x"})

    client = make_client(handler)
    with pytest.raises(VendorError):
        await client.create_refund(180, REFUND_REQUEST_ITEMS, [{"provider_id": "storecredit", "amount": 10}])
    assert len(calls) == 1
    assert json.loads(calls[0].content) == {
        "items": REFUND_REQUEST_ITEMS,
        "payments": [{"provider_id": "storecredit", "amount": 10}],
    }
    calls.clear()
    with pytest.raises(VendorError) as caught:
        await client.refund_quote(180, REFUND_REQUEST_ITEMS)
    assert len(calls) > 1 and caught.value.retryable  # a quote changes nothing: retried


async def test_the_adapter_maps_the_published_order() -> None:
    order = dict(ORDER, status_id=2, status="Shipped", items_shipped=4)

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/stores/abc123")
        answers: dict[str, Any] = {
            "/v2/orders/218": order,
            "/v2/orders/218/products": [ORDER_PRODUCT],
            "/v2/orders/218/shipping_addresses": [SHIPPING_ADDRESS],
            "/v2/orders/218/shipments": [SHIPMENT],
            "/v3/orders/218/metafields": {"data": [], "meta": {}},
            "/v3/catalog/products/77": {
                "data": {
                    "id": 77,
                    "name": "Towel",
                    "custom_fields": [{"name": "tags", "value": "final-sale, linen"}],
                },
                "meta": {},
            },
        }
        if path not in answers:
            return httpx.Response(404, json=V2_NOT_FOUND)
        if request.url.params.get("page", "1") != "1":
            return httpx.Response(204)
        return httpx.Response(200, json=answers[path])

    mapped = await BigCommerceCommerce(make_client(handler)).find_order("#218")
    assert mapped is not None
    assert (mapped.number, mapped.email, mapped.total, mapped.currency) == (
        "218",
        "janedoe@example.com",
        Decimal("69.84"),
        "USD",
    )
    assert mapped.items[0].tags == ("final-sale", "linen")
    assert mapped.items[0].net == Decimal("54.40")  # 55.99 less the 1.59 discount
    assert mapped.shipments[0].tracking_number == "EJ958083578US" and mapped.is_fulfilled
    assert mapped.shipping_address is not None and mapped.shipping_address.city == "San Antonio"
    assert mapped.payment_processor == "platform" and mapped.tags == ("Shipped",)

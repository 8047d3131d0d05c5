"""The Shopify client and models against the REAL recorded payloads (shopify_python_api fixtures),
served through `httpx.MockTransport`; error mapping, pagination and webhook signatures."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrations._http import AuthError, NotFound, RateLimited, VendorError, retrying
from integrations.shopify import (
    RefundCalculation,
    ShopifyClient,
    ShopifyFulfillment,
    ShopifyOrder,
    ShopifyRefund,
    shopify_http_client,
    sign_webhook,
    verify_webhook,
)
from integrations.shopify.client import order_number_digits

ADMIN_API = "https://apple.myshopify.com/admin/api"
API = f"{ADMIN_API}/2026-10"
TOKEN = "shpat_fixture_token_123"
Handler = Callable[[httpx.Request], httpx.Response]


def load(fixtures_dir: Path, name: str) -> Any:
    return json.loads((fixtures_dir / "shopify" / name).read_text(encoding="utf-8"))


class Recorder:
    """Serves canned responses by (method, path suffix) and records every request."""

    def __init__(self, routes: dict[tuple[str, str], Handler | Any]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for (method, suffix), answer in self.routes.items():
            if request.method == method and request.url.path.endswith(suffix):
                if callable(answer):
                    response: httpx.Response = answer(request)
                    return response
                return httpx.Response(200, json=answer)
        return httpx.Response(404, json={"errors": "Not Found"})

    def bodies(self, method: str) -> list[Any]:
        return [json.loads(r.content) for r in self.requests if r.method == method]


def make_client(handler: Handler, waits: list[float] | None = None) -> ShopifyClient:
    async def fake_sleep(seconds: float) -> None:
        if waits is not None:
            waits.append(seconds)

    http = shopify_http_client(ADMIN_API, TOKEN, transport=httpx.MockTransport(handler))
    return ShopifyClient(http, retry_policy=lambda: retrying(sleep=fake_sleep))


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


# ------------------------------------------------------------------ client against the fixtures


async def test_get_order(fixtures_dir: Path) -> None:
    recorder = Recorder({("GET", "/orders/450789469.json"): load(fixtures_dir, "order.json")})
    order = await make_client(recorder).get_order(450789469)
    assert order.id == 450789469
    assert recorder.requests[0].headers["X-Shopify-Access-Token"] == TOKEN
    assert str(recorder.requests[0].url) == f"{API}/orders/450789469.json"


@pytest.mark.parametrize("number", ["#1001", "1001", 1001, " #1001 "])
async def test_find_order_by_number(fixtures_dir: Path, number: str | int) -> None:
    recorder = Recorder({("GET", "/orders.json"): load(fixtures_dir, "orders.json")})
    order = await make_client(recorder).find_order_by_number(number)
    assert order is not None
    assert order.order_number == 1001
    assert order.financial_status == "partially_refunded"
    params = recorder.requests[0].url.params
    assert params["name"] == "1001"
    assert params["status"] == "any"


async def test_find_order_by_number_keeps_only_the_exact_number(fixtures_dir: Path) -> None:
    # The name filter is loose: asking for 100 may return #1001. That is not order 100.
    recorder = Recorder({("GET", "/orders.json"): load(fixtures_dir, "orders.json")})
    assert await make_client(recorder).find_order_by_number("100") is None


@pytest.mark.parametrize("bad", ["abc", "", "#", "12a", "-5", "1001; DROP"])
async def test_find_order_by_number_rejects_non_numbers_without_calling(bad: str) -> None:
    recorder = Recorder({})
    assert await make_client(recorder).find_order_by_number(bad) is None
    assert recorder.requests == []
    assert order_number_digits(True) is None


async def test_orders_by_email(fixtures_dir: Path) -> None:
    recorder = Recorder({("GET", "/orders.json"): load(fixtures_dir, "orders.json")})
    orders = await make_client(recorder).orders_by_email("Bob.Norman@hostmail.com")
    assert [o.id for o in orders] == [450789469]
    params = recorder.requests[0].url.params
    assert params["email"] == "Bob.Norman@hostmail.com"
    assert params["status"] == "any"


async def test_get_customer_and_search_by_email(fixtures_dir: Path) -> None:
    recorder = Recorder(
        {
            ("GET", "/customers/207119551.json"): load(fixtures_dir, "customer.json"),
            ("GET", "/customers/search.json"): load(fixtures_dir, "customers_search.json"),
        }
    )
    client = make_client(recorder)
    customer = await client.get_customer(207119551)
    assert customer.full_name == "Bob Norman"
    assert customer.total_spent == Decimal("41.94")
    assert customer.default_address is not None
    assert customer.default_address.province_code == "KY"
    found = await client.find_customer_by_email("bob.norman@hostmail.com")
    assert found is not None
    assert found.id == 207119551
    assert recorder.requests[-1].url.params["query"] == "email:bob.norman@hostmail.com"
    # A search hit with another address is not the customer asked for.
    assert await client.find_customer_by_email("someone.else@hostmail.com") is None


async def test_list_transactions_accepts_the_old_bare_list(fixtures_dir: Path) -> None:
    transactions = load(fixtures_dir, "transactions.json")
    for payload in (transactions, {"transactions": transactions}):
        recorder = Recorder({("GET", "/orders/450789469/transactions.json"): payload})
        listed = await make_client(recorder).list_transactions(450789469)
        assert [(t.kind, t.amount, t.gateway) for t in listed] == [
            ("authorization", Decimal("409.94"), "bogus")
        ]


async def test_calculate_then_create_refund_resubmits_suggested_transactions(fixtures_dir: Path) -> None:
    recorder = Recorder(
        {
            ("POST", "/refunds/calculate.json"): load(fixtures_dir, "refund_calculate.json"),
            ("POST", "/orders/450789469/refunds.json"): lambda _: httpx.Response(
                201, json=load(fixtures_dir, "refund.json")
            ),
        }
    )
    client = make_client(recorder)
    calculation = await client.calculate_refund(450789469, line_items=[(518995019, 1)], shipping_full=True)
    assert calculation.order_id == 450789469
    assert calculation.amount == Decimal("41.94")
    assert calculation.shipping.amount == Decimal("5.00")
    assert calculation.transactions[0].kind == "suggested_refund"
    assert recorder.bodies("POST")[0] == {
        "refund": {
            "refund_line_items": [{"line_item_id": 518995019, "quantity": 1, "restock_type": "no_restock"}],
            "shipping": {"full_refund": True},
        }
    }

    refund = await client.create_refund(450789469, calculation, note="it broke during shipping", notify=True)
    assert refund.id == 509562969
    sent = recorder.bodies("POST")[1]["refund"]
    assert sent["transactions"] == [
        {"parent_id": 801038806, "amount": "41.94", "kind": "refund", "gateway": "bogus"}
    ]
    assert sent["refund_line_items"] == [
        {"line_item_id": 518995019, "quantity": 1, "restock_type": "no_restock"}
    ]
    assert sent["shipping"] == {"amount": "5.00"}
    assert sent["notify"] is True
    assert sent["note"].startswith("it broke during shipping [support-agent:")


async def test_create_refund_splits_a_custom_amount_over_payments_in_order() -> None:
    calculation = RefundCalculation.model_validate(
        {
            "transactions": [
                {
                    "kind": "suggested_refund",
                    "parent_id": 1,
                    "gateway": "gift_card",
                    "amount": "0.00",
                    "maximum_refundable": "30.00",
                },
                {
                    "kind": "suggested_refund",
                    "parent_id": 2,
                    "gateway": "shopify_payments",
                    "amount": "0.00",
                    "maximum_refundable": "70.00",
                },
            ]
        }
    )
    recorder = Recorder(
        {("POST", "/refunds.json"): lambda _: httpx.Response(201, json={"refund": {"id": 9}})}
    )
    client = make_client(recorder)
    await client.create_refund(5, calculation, note="goodwill", amount=Decimal("45.00"))
    assert [(t["parent_id"], t["amount"]) for t in recorder.bodies("POST")[0]["refund"]["transactions"]] == [
        (1, "30.00"),
        (2, "15.00"),
    ]
    with pytest.raises(VendorError, match=r"exceeds the 100\.00 still refundable"):
        await client.create_refund(5, calculation, note="too much", amount=Decimal("100.01"))
    assert len(recorder.requests) == 1  # the impossible refund was never sent


async def test_create_refund_with_a_key_returns_the_refund_already_made() -> None:
    # A retried tool call passes the same idempotency key: the first refund is found, not repeated.
    existing = {"refunds": [{"id": 77, "note": "damaged [support-agent:conv1-call3]", "transactions": []}]}
    recorder = Recorder({("GET", "/orders/5/refunds.json"): existing})
    calculation = RefundCalculation.model_validate(
        {
            "transactions": [
                {"kind": "suggested_refund", "parent_id": 1, "amount": "10.00", "gateway": "bogus"}
            ]
        }
    )
    refund = await make_client(recorder).create_refund(
        5, calculation, note="damaged", idempotency_key="conv1-call3"
    )
    assert refund.id == 77
    assert [r.method for r in recorder.requests] == ["GET"]


async def test_append_order_note_keeps_the_existing_note(fixtures_dir: Path) -> None:
    order = load(fixtures_dir, "order.json")
    order["order"]["note"] = "Gift wrap please"

    def put(request: httpx.Request) -> httpx.Response:
        order["order"]["note"] = json.loads(request.content)["order"]["note"]
        return httpx.Response(200, json=order)

    recorder = Recorder({("GET", "/orders/450789469.json"): order, ("PUT", "/orders/450789469.json"): put})
    client = make_client(recorder)
    updated = await client.append_order_note(450789469, "Shopper asked for tracking")
    assert updated.note is not None
    first, second = updated.note.split("\n")
    assert first == "Gift wrap please"
    assert second.endswith("] Shopper asked for tracking")
    assert recorder.bodies("PUT") == [{"order": {"id": 450789469, "note": updated.note}}]
    # The same text again (a retried tool call) writes nothing.
    again = await client.append_order_note(450789469, "Shopper asked for tracking")
    assert again.note == updated.note
    assert len(recorder.bodies("PUT")) == 1


# ------------------------------------------------------------------ errors and retries


async def test_unknown_order_is_not_found() -> None:
    with pytest.raises(NotFound):
        await make_client(Recorder({})).get_order(1)


async def test_rejected_token_is_an_auth_error_naming_the_setting() -> None:
    body = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
    client = make_client(Recorder({("GET", ".json"): lambda _: httpx.Response(401, json=body)}))
    with pytest.raises(AuthError) as caught:
        await client.get_order(1)
    assert caught.value.setting == "SHOPIFY_ACCESS_TOKEN"
    assert "SHOPIFY_ACCESS_TOKEN" in str(caught.value)
    assert TOKEN not in str(caught.value)


async def test_malformed_json_is_a_vendor_error() -> None:
    client = make_client(Recorder({("GET", ".json"): lambda _: httpx.Response(200, content=b'{"order": {')}))
    with pytest.raises(VendorError, match="malformed JSON"):
        await client.get_order(1)


async def test_html_login_page_instead_of_json_is_a_vendor_error() -> None:
    html = b"<html><body>Log in</body></html>"
    client = make_client(Recorder({("GET", ".json"): lambda _: httpx.Response(200, content=html)}))
    with pytest.raises(VendorError):
        await client.get_order(1)


async def test_unexpected_shape_is_a_vendor_error() -> None:
    client = make_client(Recorder({("GET", ".json"): {"order": {"name": "no id"}}}))
    with pytest.raises(VendorError, match="unexpected order payload"):
        await client.get_order(1)


async def test_rate_limit_honours_retry_after_then_succeeds(fixtures_dir: Path) -> None:
    answers = iter(
        [
            httpx.Response(
                429, headers={"Retry-After": "2.0"}, json={"errors": "Exceeded 2 calls per second"}
            ),
            httpx.Response(200, json=load(fixtures_dir, "order.json")),
        ]
    )
    waits: list[float] = []
    client = make_client(Recorder({("GET", ".json"): lambda _: next(answers)}), waits)
    assert (await client.get_order(450789469)).id == 450789469
    assert waits == [2.0]


async def test_rate_limit_forever_raises_rate_limited_after_bounded_attempts() -> None:
    recorder = Recorder(
        {
            ("GET", ".json"): lambda _: httpx.Response(
                429, headers={"Retry-After": "1"}, json={"errors": "slow"}
            )
        }
    )
    waits: list[float] = []
    with pytest.raises(RateLimited) as caught:
        await make_client(recorder, waits).get_order(1)
    assert caught.value.retry_after == 1.0
    assert len(recorder.requests) == 4
    assert waits == [1.0, 1.0, 1.0]


async def test_timeout_is_retried() -> None:
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, json={"product": {"id": 3, "title": "Mug", "tags": "final-sale, mugs"}})

    product = await make_client(Recorder({("GET", ".json"): flaky}), []).get_product(3)
    assert product.tag_list == ["final-sale", "mugs"]
    assert calls["n"] == 2


async def test_unprocessable_errors_are_flattened_into_a_clear_message() -> None:
    body = {"errors": {"base": ["Cannot cancel an order that has been fulfilled"]}}
    recorder = Recorder({("POST", "/cancel.json"): lambda _: httpx.Response(422, json=body)})
    with pytest.raises(VendorError) as caught:
        await make_client(recorder).cancel_order(1, refund=False)
    assert caught.value.status == 422
    assert "Cannot cancel an order that has been fulfilled" in str(caught.value)
    assert "{" not in str(caught.value)
    assert len(recorder.requests) == 1  # a rejection is not retried


# ------------------------------------------------------------------ pagination


async def test_orders_by_email_follows_link_pagination(fixtures_dir: Path) -> None:
    template = load(fixtures_dir, "orders.json")["orders"][0]
    pages = {
        None: ([1, 2], "cursor-b"),
        "cursor-b": ([3, 4], "cursor-c"),
        "cursor-c": ([5], None),
    }

    def orders_page(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("page_info")
        if cursor is not None:
            # Shopify forbids filters beside page_info: the cursor carries them.
            assert set(request.url.params) == {"limit", "page_info"}
        ids, next_cursor = pages[cursor]
        orders = [
            dict(
                template,
                id=i,
                name=f"#{1000 + i}",
                order_number=1000 + i,
                created_at=f"2024-01-0{i}T10:00:00Z",
            )
            for i in ids
        ]
        headers = {}
        if next_cursor:
            headers["Link"] = f'<{API}/orders.json?limit=2&page_info={next_cursor}>; rel="next"'
        return httpx.Response(200, json={"orders": orders}, headers=headers)

    recorder = Recorder({("GET", "/orders.json"): orders_page})
    orders = await make_client(recorder).orders_by_email("bob.norman@hostmail.com", limit=4)
    assert [o.id for o in orders] == [4, 3, 2, 1]  # newest first, at most 4
    assert len(recorder.requests) == 2
    everything = await make_client(Recorder({("GET", "/orders.json"): orders_page})).orders_by_email(
        "bob.norman@hostmail.com", limit=10
    )
    assert [o.id for o in everything] == [5, 4, 3, 2, 1]


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

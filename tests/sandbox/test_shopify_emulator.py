"""The Shopify emulator over raw HTTP: auth, call-limit bucket, error bodies, pagination, filters,
refund rules, cancellation, address changes and webhook registration."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from sandbox.vendors.shopify import configure_call_limit
from sandbox.world import World

BASE = "/shopify/admin/api/2026-10"
AUTH = {"X-Shopify-Access-Token": "shpat_sandbox"}
ORDER_1001, ORDER_1004, ORDER_1005, ORDER_1008 = 5200001001, 5200001004, 5200001005, 5200001008


@pytest.fixture(autouse=True)
def customer_scope(world: World) -> None:
    """These tests read customers too, which the agent itself has no need for (nor scope)."""
    world.shopify.access_scopes.append("read_customers")


async def get(http: httpx.AsyncClient, path: str, **params: Any) -> httpx.Response:
    return await http.get(f"{BASE}/{path}", params=params, headers=AUTH)


async def post(http: httpx.AsyncClient, path: str, body: Any) -> httpx.Response:
    return await http.post(f"{BASE}/{path}", json=body, headers=AUTH)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ------------------------------------------------------------------ auth, limits, errors


@pytest.mark.parametrize("headers", [{}, {"X-Shopify-Access-Token": "shpat_wrong"}])
async def test_missing_or_wrong_token_is_401(
    sandbox_http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await sandbox_http.get(f"{BASE}/orders/{ORDER_1001}.json", headers=headers)
    assert response.status_code == 401
    assert response.json() == {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }


async def test_every_call_carries_the_call_limit(
    sandbox_http: httpx.AsyncClient, sandbox_app: FastAPI
) -> None:
    configure_call_limit(sandbox_app, clock=FakeClock())
    first = await get(sandbox_http, f"orders/{ORDER_1001}.json")
    second = await get(sandbox_http, "orders/4242.json")
    assert first.headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"
    assert second.headers["X-Shopify-Shop-Api-Call-Limit"] == "2/40"
    assert second.status_code == 404


async def test_bucket_overflows_into_429_and_leaks_two_per_second(
    sandbox_http: httpx.AsyncClient, sandbox_app: FastAPI
) -> None:
    clock = FakeClock()
    configure_call_limit(sandbox_app, clock=clock)
    for n in range(1, 41):
        response = await get(sandbox_http, "shop.json")
        assert response.status_code == 200
        assert response.headers["X-Shopify-Shop-Api-Call-Limit"] == f"{n}/40"
    throttled = await get(sandbox_http, "shop.json")
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "2.0"
    assert throttled.headers["X-Shopify-Shop-Api-Call-Limit"] == "40/40"
    assert throttled.json()["errors"].startswith("Exceeded 2 calls per second for api client.")
    clock.now += 1.0  # two calls leak away
    assert [(await get(sandbox_http, "shop.json")).status_code for _ in range(3)] == [200, 200, 429]


async def test_bucket_survives_a_world_reset(sandbox_http: httpx.AsyncClient, sandbox_app: FastAPI) -> None:
    configure_call_limit(sandbox_app, clock=FakeClock())
    await get(sandbox_http, "shop.json")
    await sandbox_http.post("/_sandbox/reset")
    assert (await get(sandbox_http, "shop.json")).headers["X-Shopify-Shop-Api-Call-Limit"] == "2/40"


@pytest.mark.parametrize(
    "path",
    [
        "orders/4242.json",
        "customers/4242.json",
        "products/4242.json",
        "orders/4242/refunds.json",
        "nope.json",
    ],
)
async def test_unknown_is_shopifys_404(sandbox_http: httpx.AsyncClient, path: str) -> None:
    response = await get(sandbox_http, path)
    assert response.status_code == 404
    assert response.json() == {"errors": "Not Found"}


async def test_bad_parameters_are_400_in_shopifys_shape(sandbox_http: httpx.AsyncClient) -> None:
    assert (await get(sandbox_http, "orders.json", status="bogus")).json() == {
        "errors": {"status": "Invalid value."}
    }
    response = await post(sandbox_http, f"orders/{ORDER_1001}/refunds.json", {"not_refund": {}})
    assert response.status_code == 400
    assert response.json() == {"errors": {"refund": "Required parameter missing or invalid"}}


# ------------------------------------------------------------------ listing


async def test_status_defaults_to_open(sandbox_http: httpx.AsyncClient) -> None:
    open_numbers = {o["order_number"] for o in (await get(sandbox_http, "orders.json")).json()["orders"]}
    all_numbers = {
        o["order_number"] for o in (await get(sandbox_http, "orders.json", status="any")).json()["orders"]
    }
    cancelled = (await get(sandbox_http, "orders.json", status="cancelled")).json()["orders"]
    assert 1021 not in open_numbers
    assert 1021 in all_numbers
    assert [o["order_number"] for o in cancelled] == [1021]
    assert len(all_numbers) == 34  # #998 is older than the 60 days the token may read


async def test_name_filter_is_loose_and_email_filter_exact(sandbox_http: httpx.AsyncClient) -> None:
    by_name = (await get(sandbox_http, "orders.json", name="#100", status="any")).json()["orders"]
    assert sorted(o["order_number"] for o in by_name) == list(range(1001, 1010))
    exact = (await get(sandbox_http, "orders.json", name="1001", status="any")).json()["orders"]
    assert [o["order_number"] for o in exact] == [1001]
    by_email = (await get(sandbox_http, "orders.json", email="BEN.OKAFOR@example.com", status="any")).json()
    assert sorted(o["order_number"] for o in by_email["orders"]) == [1002, 1008, 1030]


async def test_link_pagination_forward_and_back(sandbox_http: httpx.AsyncClient) -> None:
    first = await get(sandbox_http, "orders.json", status="any", limit=12)
    assert len(first.json()["orders"]) == 12
    assert 'rel="previous"' not in first.headers["Link"]
    next_url = first.links["next"]["url"]
    assert "page_info=" in next_url
    assert "status" not in next_url
    second = await sandbox_http.get(next_url, headers=AUTH)
    third = await sandbox_http.get(second.links["next"]["url"], headers=AUTH)
    assert "next" not in third.links
    pages = [r.json()["orders"] for r in (first, second, third)]
    assert [len(p) for p in pages] == [12, 12, 10]
    ids = [o["id"] for page in pages for o in page]
    assert len(set(ids)) == 34
    created = [o["created_at"] for page in pages for o in page]
    assert created == sorted(created, reverse=True)  # newest first across pages
    back = await sandbox_http.get(third.links["previous"]["url"], headers=AUTH)
    assert [o["id"] for o in back.json()["orders"]] == [o["id"] for o in pages[1]]


async def test_page_info_rejects_other_filters_and_garbage(sandbox_http: httpx.AsyncClient) -> None:
    first = await get(sandbox_http, "orders.json", status="any", limit=5)
    token = httpx.URL(first.links["next"]["url"]).params["page_info"]
    mixed = await get(sandbox_http, "orders.json", page_info=token, status="any")
    assert mixed.status_code == 400
    assert "page_info" in mixed.json()["errors"]
    garbage = await get(sandbox_http, "orders.json", page_info="%%%not-a-cursor")
    assert garbage.status_code == 400
    assert garbage.json() == {"errors": {"page_info": "Invalid value."}}


async def test_limit_is_capped_at_250(sandbox_http: httpx.AsyncClient, world: World) -> None:
    template = world.shopify.orders[ORDER_1001]
    for index in range(260):
        order = copy.deepcopy(template)
        order.update(id=9_200_000 + index, name=f"#{6000 + index}", order_number=6000 + index)
        world.shopify.orders[order["id"]] = order
    response = await get(sandbox_http, "orders.json", limit=1000)
    assert len(response.json()["orders"]) == 250
    assert "next" in response.links
    default = await get(sandbox_http, "orders.json")
    assert len(default.json()["orders"]) == 50


async def test_customer_search_by_email(sandbox_http: httpx.AsyncClient) -> None:
    found = (await get(sandbox_http, "customers/search.json", query="email:chloe.martin@example.com")).json()
    assert [c["email"] for c in found["customers"]] == ["chloe.martin@example.com"]
    quoted = (
        await get(sandbox_http, "customers/search.json", query='email:"chloe.martin@example.com"')
    ).json()
    assert len(quoted["customers"]) == 1
    assert (await get(sandbox_http, "customers/search.json", query="email:chloe@example.com")).json() == {
        "customers": []
    }


# ------------------------------------------------------------------ refunds


async def test_calculate_shares_tax_and_adds_shipping(sandbox_http: httpx.AsyncClient) -> None:
    body = {
        "refund": {
            "shipping": {"full_refund": True},
            "refund_line_items": [
                {"line_item_id": 520000100101, "quantity": 1},
                {"line_item_id": 520000100102, "quantity": 1},
            ],
        }
    }
    refund = (await post(sandbox_http, f"orders/{ORDER_1001}/refunds/calculate.json", body)).json()["refund"]
    # #1001: 135.00 + 24.00, tax 13.72 shared by line value, shipping 7.95: exactly the order total.
    assert [(i["subtotal"], i["total_tax"]) for i in refund["refund_line_items"]] == [
        ("135.00", "11.65"),
        ("24.00", "2.07"),
    ]
    assert refund["shipping"] == {"amount": "7.95", "tax": "0.00", "maximum_refundable": "7.95"}
    assert refund["transactions"] == [
        {
            "order_id": ORDER_1001,
            "kind": "suggested_refund",
            "gateway": "shopify_payments",
            "parent_id": 52000010011,
            "amount": "180.67",
            "currency": "USD",
            "maximum_refundable": "180.67",
        }
    ]


async def test_calculate_does_not_change_the_world(sandbox_http: httpx.AsyncClient, world: World) -> None:
    before = world.digest()
    body = {"refund": {"refund_line_items": [{"line_item_id": 520000100501, "quantity": 1}]}}
    response = await post(sandbox_http, f"orders/{ORDER_1005}/refunds/calculate.json", body)
    assert [t["amount"] for t in response.json()["refund"]["transactions"]] == ["80.00", "220.00"]
    assert world.digest() == before


@pytest.mark.parametrize(
    ("transaction", "message"),
    [
        ({"parent_id": 52000010011, "amount": "10.00", "kind": "refund"}, "is not a payment of this order"),
        ({"parent_id": 52000010052, "amount": "400.01", "kind": "refund"}, "exceeds the 400.00 refundable"),
        ({"parent_id": 52000010052, "amount": "0", "kind": "refund"}, "greater than 0"),
        ({"parent_id": 52000010052, "amount": "10.00", "kind": "refund", "gateway": "paypal"}, "gateway"),
        ({"parent_id": 52000010052, "amount": "10.00", "kind": "capture"}, "kind must be 'refund'"),
        ({"amount": "10.00", "kind": "refund"}, "parent_id"),
    ],
)
async def test_refund_transactions_are_validated(
    sandbox_http: httpx.AsyncClient, world: World, transaction: dict[str, Any], message: str
) -> None:
    before = world.digest()
    response = await post(
        sandbox_http, f"orders/{ORDER_1005}/refunds.json", {"refund": {"transactions": [transaction]}}
    )
    assert response.status_code == 422
    assert message in response.json()["errors"]["base"][0]
    assert world.digest() == before


async def test_two_transactions_on_one_payment_cannot_exceed_it_together(
    sandbox_http: httpx.AsyncClient, world: World
) -> None:
    half = {"parent_id": 52000010052, "amount": "250.00", "kind": "refund"}
    response = await post(
        sandbox_http, f"orders/{ORDER_1005}/refunds.json", {"refund": {"transactions": [half, half]}}
    )
    assert response.status_code == 422
    assert "exceeds the 150.00 refundable" in response.json()["errors"]["base"][0]
    assert world.shopify.orders[ORDER_1005]["refunds"] == []


async def test_refund_line_item_quantity_is_validated(sandbox_http: httpx.AsyncClient) -> None:
    again = {"refund": {"refund_line_items": [{"line_item_id": 520000100801, "quantity": 1}]}}
    response = await post(sandbox_http, f"orders/{ORDER_1008}/refunds.json", again)
    assert response.status_code == 422
    assert "only 0 left to refund" in response.json()["errors"]["refund_line_items"][0]
    foreign = {"refund": {"refund_line_items": [{"line_item_id": 520000100101, "quantity": 1}]}}
    response = await post(sandbox_http, f"orders/{ORDER_1008}/refunds/calculate.json", foreign)
    assert "does not belong to this order" in response.json()["errors"]["refund_line_items"][0]


async def test_refund_create_records_everything(sandbox_http: httpx.AsyncClient, world: World) -> None:
    body = {
        "refund": {
            "note": "Beanie too small",
            "shipping": {"amount": "5.95"},
            "refund_line_items": [{"line_item_id": 520000100202, "quantity": 1, "restock_type": "return"}],
            "transactions": [
                {"parent_id": 52000010021, "amount": "33.34", "kind": "refund", "gateway": "shopify_payments"}
            ],
        }
    }
    response = await post(sandbox_http, "orders/5200001002/refunds.json", body)
    assert response.status_code == 201
    refund = response.json()["refund"]
    assert refund["id"] > 9_000_000
    assert refund["created_at"] == world.now_iso()
    assert refund["restock"] is True
    assert refund["order_adjustments"][0]["amount"] == "-5.95"
    order = world.shopify.orders[5200001002]
    assert order["financial_status"] == "partially_refunded"
    assert order["refunds"][-1]["id"] == refund["id"]
    assert order["current_total_price"] == str(Decimal(order["total_price"]) - Decimal("33.34"))
    assert [li["current_quantity"] for li in order["line_items"]] == [1, 0]
    assert world.shopify.transactions[5200001002][-1]["parent_id"] == 52000010021
    listed = (await get(sandbox_http, "orders/5200001002/refunds.json")).json()["refunds"]
    assert [r["id"] for r in listed] == [refund["id"]]
    shipping_left = await post(
        sandbox_http,
        "orders/5200001002/refunds/calculate.json",
        {"refund": {"shipping": {"full_refund": True}}},
    )
    assert shipping_left.json()["refund"]["shipping"]["amount"] == "0.00"


# ------------------------------------------------------------------ cancel, address, webhooks


async def test_cancel_with_refund_true(sandbox_http: httpx.AsyncClient, world: World) -> None:
    response = await post(
        sandbox_http, f"orders/{ORDER_1004}/cancel.json", {"reason": "customer", "refund": True}
    )
    assert response.status_code == 200
    assert response.json()["notice"] == "Order has been canceled"
    assert response.json()["order"]["cancelled_at"] is None  # the answer shows the order as it was
    order = world.shopify.orders[ORDER_1004]
    assert (order["cancel_reason"], order["financial_status"]) == ("customer", "refunded")
    assert order["cancelled_at"] == world.now_iso()
    assert all(li["fulfillable_quantity"] == 0 for li in order["line_items"])
    refunded = [t for t in world.shopify.transactions[ORDER_1004] if t["kind"] == "refund"]
    assert [t["amount"] for t in refunded] == [order["total_price"]]
    again = await post(sandbox_http, f"orders/{ORDER_1004}/cancel.json", {"reason": "customer"})
    assert again.status_code == 422
    assert again.json() == {"errors": {"base": ["Order has already been cancelled"]}}


async def test_cancel_reason_is_validated(sandbox_http: httpx.AsyncClient, world: World) -> None:
    response = await post(sandbox_http, f"orders/{ORDER_1004}/cancel.json", {"reason": "whim"})
    assert response.status_code == 422
    assert world.shopify.orders[ORDER_1004]["cancelled_at"] is None


async def test_note_put_replaces_and_address_put_merges(
    sandbox_http: httpx.AsyncClient, world: World
) -> None:
    response = await sandbox_http.put(
        f"{BASE}/orders/{ORDER_1004}.json",
        json={"order": {"id": ORDER_1004, "note": "replaced", "shipping_address": {"first_name": "Devin"}}},
        headers=AUTH,
    )
    assert response.status_code == 200
    order = world.shopify.orders[ORDER_1004]
    assert order["note"] == "replaced"
    assert order["shipping_address"]["first_name"] == "Devin"
    assert order["shipping_address"]["name"].startswith("Devin ")
    blank = await sandbox_http.put(
        f"{BASE}/orders/{ORDER_1004}.json",
        json={"order": {"shipping_address": {"address1": ""}}},
        headers=AUTH,
    )
    assert blank.status_code == 422
    assert "address1 can't be blank" in blank.json()["errors"]["shipping_address"][0]


async def test_webhook_registration(sandbox_http: httpx.AsyncClient, world: World) -> None:
    hook = {
        "webhook": {"topic": "orders/updated", "address": "https://agent.example/hooks", "format": "json"}
    }
    created = await post(sandbox_http, "webhooks.json", hook)
    assert created.status_code == 201
    webhook_id = created.json()["webhook"]["id"]
    assert world.shopify.webhooks[webhook_id]["address"] == "https://agent.example/hooks"
    duplicate = await post(sandbox_http, "webhooks.json", hook)
    assert duplicate.status_code == 422
    assert duplicate.json() == {"errors": {"address": ["for this topic has already been taken"]}}
    bad_topic = await post(
        sandbox_http, "webhooks.json", {"webhook": {"topic": "nope", "address": "https://a.b"}}
    )
    assert "topic" in bad_topic.json()["errors"]
    listed = (await get(sandbox_http, "webhooks.json", topic="orders/updated")).json()["webhooks"]
    assert [w["id"] for w in listed] == [webhook_id]
    assert (await sandbox_http.delete(f"{BASE}/webhooks/{webhook_id}.json", headers=AUTH)).status_code == 200
    assert world.shopify.webhooks == {}

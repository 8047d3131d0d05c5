"""The WooCommerce emulator answers like WooCommerce: Basic or query-string keys, WordPress error
bodies, `page`/`per_page` with `X-WP-Total`/`X-WP-TotalPages`/`Link`, the refund rules; the demo
store holds the same orders as the Shopify one; the control API inspects whichever platform is
configured."""

from __future__ import annotations

from decimal import Decimal

import httpx
from fastapi import FastAPI

from integrations.events import OrderCancelled, OrderUpdated
from integrations.woocommerce.webhooks import WooCommerceWebhooks
from sandbox.world import World

API = "/woocommerce/wp-json/wc/v3"
AUTH = ("ck_sandbox", "cs_sandbox")


async def test_the_same_orders_as_the_shopify_store(world: World) -> None:
    shopify = {o["order_number"]: o for o in world.shopify.orders.values()}
    assert set(shopify) == set(world.woocommerce.orders)
    for number, order in world.woocommerce.orders.items():
        assert order["number"] == str(number)
        assert order["total"] == shopify[number]["total_price"]
        assert order["billing"]["email"] == shopify[number]["email"]
    assert world.woocommerce.orders[1008]["status"] == "refunded"
    assert world.woocommerce.orders[1004]["status"] == "processing"
    assert world.woocommerce.orders[1001]["status"] == "completed"


async def test_keys_as_basic_auth_or_query_parameters(sandbox_http: httpx.AsyncClient) -> None:
    assert (await sandbox_http.get(f"{API}/orders/1001", auth=AUTH)).status_code == 200
    query = {"consumer_key": AUTH[0], "consumer_secret": AUTH[1]}
    assert (await sandbox_http.get(f"{API}/orders/1001", params=query)).status_code == 200
    refused = await sandbox_http.get(f"{API}/orders/1001", auth=("ck_sandbox", "nope"))
    assert refused.status_code == 401
    assert refused.json() == {
        "code": "woocommerce_rest_authentication_error",
        "message": "Consumer key is invalid.",
        "data": {"status": 401},
    }


async def test_unknown_order_and_bad_parameters(sandbox_http: httpx.AsyncClient) -> None:
    missing = await sandbox_http.get(f"{API}/orders/99", auth=AUTH)
    assert missing.status_code == 404
    assert missing.json()["code"] == "woocommerce_rest_shop_order_invalid_id"
    bad = await sandbox_http.get(f"{API}/orders", params={"status": "shipped"}, auth=AUTH)
    assert bad.status_code == 400 and bad.json()["data"] == {"status": 400}
    beyond = await sandbox_http.get(f"{API}/orders", params={"page": 99}, auth=AUTH)
    assert beyond.status_code == 400 and beyond.json()["code"] == "rest_post_invalid_page_number"


async def test_pages_and_search(sandbox_http: httpx.AsyncClient, world: World) -> None:
    seen: list[int] = []
    page = 1
    while True:
        response = await sandbox_http.get(f"{API}/orders", params={"page": page, "per_page": 7}, auth=AUTH)
        seen += [o["id"] for o in response.json()]
        if page >= int(response.headers["X-WP-TotalPages"]):
            break
        assert 'rel="last"' in response.headers["Link"]
        page += 1
    assert sorted(seen) == sorted(world.woocommerce.orders)
    found = await sandbox_http.get(f"{API}/orders", params={"search": "dev.patel@example.com"}, auth=AUTH)
    assert found.json() and all(o["billing"]["email"] == "dev.patel@example.com" for o in found.json())


async def test_refund_rules(sandbox_http: httpx.AsyncClient, world: World) -> None:
    url = f"{API}/orders/1004/refunds"
    zero = await sandbox_http.post(url, json={"amount": "0"}, auth=AUTH)
    assert zero.status_code == 400 and zero.json()["code"] == "woocommerce_rest_invalid_order_refund"
    total = Decimal(world.woocommerce.orders[1004]["total"])
    too_much = await sandbox_http.post(url, json={"amount": str(total + 1)}, auth=AUTH)
    assert too_much.status_code == 500 and too_much.json()["message"] == "Invalid refund amount."
    first = await sandbox_http.post(url, json={"amount": "5.00", "reason": "part"}, auth=AUTH)
    assert first.status_code == 201 and first.json()["refunded_payment"] is True
    assert world.woocommerce.orders[1004]["refunds"][0]["total"] == "-5.00"
    rest = await sandbox_http.post(url, json={"amount": str(total - Decimal("5.00"))}, auth=AUTH)
    assert rest.status_code == 201 and world.woocommerce.orders[1004]["status"] == "refunded"
    world.woocommerce.orders[1002]["payment_method"] = "cod"
    manual = await sandbox_http.post(f"{API}/orders/1002/refunds", json={"amount": "1.00"}, auth=AUTH)
    assert manual.status_code == 500 and "does not support automatic refunds" in manual.json()["message"]
    by_hand = await sandbox_http.post(
        f"{API}/orders/1002/refunds", json={"amount": "1.00", "api_refund": False}, auth=AUTH
    )
    assert by_hand.status_code == 201 and by_hand.json()["refunded_payment"] is False


async def test_private_and_customer_notes(sandbox_http: httpx.AsyncClient) -> None:
    url = f"{API}/orders/1001/notes"
    await sandbox_http.post(url, json={"note": "internal"}, auth=AUTH)
    await sandbox_http.post(url, json={"note": "for the shopper", "customer_note": True}, auth=AUTH)
    customer = (await sandbox_http.get(url, params={"type": "customer"}, auth=AUTH)).json()
    assert [n["note"] for n in customer] == ["for the shopper"]
    missing = await sandbox_http.post(url, json={}, auth=AUTH)
    assert missing.status_code == 400


async def test_control_api_reads_the_configured_platform(
    sandbox_http: httpx.AsyncClient, world: World
) -> None:
    world.store_platform = "woocommerce"
    order = (await sandbox_http.get("/_sandbox/orders/1004")).json()
    assert order["platform"] == "woocommerce" and order["status"] == "processing"
    shipped = await sandbox_http.post(
        "/_sandbox/orders/1004/fulfil", json={"tracking_number": "9400100000000000000001"}
    )
    assert shipped.status_code == 200
    assert world.woocommerce.orders[1004]["status"] == "completed"
    assert shipped.json()["order"]["tracking"][0]["tracking_number"] == "9400100000000000000001"
    await sandbox_http.post(f"{API}/orders/1002/refunds", json={"amount": "1.00"}, auth=AUTH)
    refunds = (await sandbox_http.get("/_sandbox/refunds")).json()
    assert {"woocommerce"} <= {r["vendor"] for r in refunds} and "shopify" not in {
        r["vendor"] for r in refunds
    }
    reset = await sandbox_http.post("/_sandbox/reset")
    assert reset.status_code == 200
    assert (await sandbox_http.get("/_sandbox/orders/1004")).json()["status"] == "processing"


async def test_webhooks_are_signed_and_parse_into_store_events(
    sandbox_http: httpx.AsyncClient, sandbox_app: FastAPI, world: World
) -> None:
    received: list[tuple[str, dict[str, str], bytes]] = []

    async def receive(url: str, headers: dict[str, str], body: bytes) -> int:
        received.append((url, headers, body))
        return 200

    sandbox_app.state.shopify_webhook_sender = receive
    hook = await sandbox_http.post(
        f"{API}/webhooks",
        json={"topic": "order.updated", "delivery_url": "https://agent.example/webhooks/woocommerce"},
        auth=AUTH,
    )
    assert hook.status_code == 201 and "secret" not in hook.json()
    bad = await sandbox_http.post(
        f"{API}/webhooks", json={"topic": "order.shipped", "delivery_url": "x"}, auth=AUTH
    )
    assert bad.status_code == 400
    await sandbox_http.put(f"{API}/orders/1004", json={"status": "cancelled"}, auth=AUTH)
    await sandbox_http.post(f"{API}/orders/1002/refunds", json={"amount": "1.00"}, auth=AUTH)
    assert [url for url, _, _ in received] == ["https://agent.example/webhooks/woocommerce"] * 2
    hooks = WooCommerceWebhooks(secret=world.credentials.woocommerce_webhook_secret)
    events = []
    for _, headers, body in received:
        hooks.verify_webhook(headers, body)
        events += hooks.parse_webhook(headers, body)
    assert events == [
        OrderCancelled(order_id="1004", order_number="1004"),
        OrderUpdated(order_id="1002", order_number="1002"),
    ]
    ids = {headers["X-WC-Webhook-Delivery-ID"] for _, headers, _ in received}
    assert len(ids) == 2 and len(world.woocommerce_deliveries) == 2

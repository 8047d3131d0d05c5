"""The BigCommerce emulator answers like BigCommerce: X-Auth-Token and the store hash, V2 error lists
and V3 envelopes, 204 for empty lists, the refund arithmetic; the demo store holds the same orders
as the Shopify one; hooks deliver the callback with their custom headers; the control API inspects
whichever platform is configured."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
from fastapi import FastAPI

from integrations.bigcommerce.webhooks import BigCommerceWebhooks
from integrations.events import OrderCancelled, OrderFulfilled, OrderUpdated, RefundCreated
from sandbox.world import World

STORE = "/bigcommerce/stores/sandbox"
TOKEN = {"X-Auth-Token": "bc_sandbox_token"}


async def test_the_same_orders_as_the_shopify_store(world: World) -> None:
    shopify = {o["order_number"]: o for o in world.shopify.orders.values()}
    assert set(shopify) == set(world.bigcommerce.orders)
    for number, order in world.bigcommerce.orders.items():
        assert order["id"] == number
        assert Decimal(order["total_inc_tax"]) == Decimal(shopify[number]["total_price"])
        assert order["billing_address"]["email"] == shopify[number]["email"]
        products = world.bigcommerce.order_products[number]
        assert sum(p["quantity"] for p in products) == order["items_total"]
    statuses = {n: world.bigcommerce.orders[n]["status"] for n in (1001, 1004, 1008)}
    assert statuses == {1001: "Shipped", 1004: "Awaiting Fulfillment", 1008: "Refunded"}


async def test_v2_and_v3_shapes(sandbox_http: httpx.AsyncClient) -> None:
    missing = await sandbox_http.get(f"{STORE}/v2/orders/99", headers=TOKEN)
    assert missing.status_code == 404 and missing.json() == [
        {"status": 404, "message": "The requested resource was not found."}
    ]
    unshipped = await sandbox_http.get(f"{STORE}/v2/orders/1004/shipments", headers=TOKEN)
    assert unshipped.status_code == 204
    refunds = await sandbox_http.get(f"{STORE}/v3/orders/1004/payment_actions/refunds", headers=TOKEN)
    assert refunds.json()["data"] == [] and "pagination" in refunds.json()["meta"]
    no_order = await sandbox_http.get(f"{STORE}/v3/orders/99/payment_actions/refunds", headers=TOKEN)
    assert no_order.status_code == 404 and set(no_order.json()) == {"status", "title", "type", "errors"}
    refused = await sandbox_http.get(f"{STORE}/v3/hooks", headers={"X-Auth-Token": "x"})
    assert refused.status_code == 401 and refused.json()["title"] == "Unauthorized"
    plain = (await sandbox_http.get(f"{STORE}/v3/catalog/products/7300000005", headers=TOKEN)).json()["data"]
    assert "custom_fields" not in plain
    bad = await sandbox_http.put(f"{STORE}/v2/orders/1004", json={"status_id": 99}, headers=TOKEN)
    assert bad.status_code == 400 and bad.json()[0]["message"] == "The field 'status_id' is invalid."


async def test_the_refund_quote_arithmetic(sandbox_http: httpx.AsyncClient, world: World) -> None:
    """Refunding every unit one by one gives back exactly the line (discounted, with its tax); shipping
    is refunded by amount, at most once; the methods follow how the order was paid (#1005: a gift
    certificate and a card, the card refunded first)."""
    order = world.bigcommerce.orders[1005]
    base = f"{STORE}/v3/orders/1005/payment_actions"
    total = Decimal(0)
    for product in world.bigcommerce.order_products[1005]:
        for _ in range(product["quantity"]):
            items = [{"item_type": "PRODUCT", "item_id": product["id"], "quantity": 1}]
            quote = (
                await sandbox_http.post(f"{base}/refund_quotes", json={"items": items}, headers=TOKEN)
            ).json()
            data = quote["data"]
            methods = [[o["provider_id"] for o in m] for m in data["refund_methods"]]
            assert methods[0] in (["braintree"], ["braintree", "giftcertificate"], ["giftcertificate"])
            assert methods[1:] == [["storecredit"], ["custom"]]
            payments = [
                {"provider_id": o["provider_id"], "amount": o["amount"]} for o in data["refund_methods"][0]
            ]
            made = await sandbox_http.post(
                f"{base}/refunds", json={"items": items, "payments": payments}, headers=TOKEN
            )
            assert made.status_code == 201
            total += Decimal(str(data["total_refund_amount"]))
    shipping = Decimal(order["shipping_cost_inc_tax"])
    address = world.bigcommerce.shipping_addresses[1005][0]["id"]
    items = [{"item_type": "SHIPPING", "item_id": address, "amount": float(shipping)}]
    if shipping > 0:
        quote = (
            await sandbox_http.post(f"{base}/refund_quotes", json={"items": items}, headers=TOKEN)
        ).json()
        payments = [
            {"provider_id": o["provider_id"], "amount": o["amount"]}
            for o in quote["data"]["refund_methods"][0]
        ]
        await sandbox_http.post(f"{base}/refunds", json={"items": items, "payments": payments}, headers=TOKEN)
        total += shipping
        again = await sandbox_http.post(f"{base}/refund_quotes", json={"items": items}, headers=TOKEN)
        assert again.status_code == 422
    assert total == Decimal(order["total_inc_tax"])
    paid = {p["provider_id"]: Decimal(p["amount"]) for p in world.bigcommerce.payments[1005]}
    back: dict[str, Decimal] = {}
    for refund in world.bigcommerce.refunds[1005]:
        for payment in refund["payments"]:
            back[payment["provider_id"]] = back.get(payment["provider_id"], Decimal(0)) + Decimal(
                str(payment["amount"])
            )
    assert back == paid  # each provider got back what it paid
    assert order["status_id"] == 4 and Decimal(order["refunded_amount"]) == total


async def test_hooks_deliver_the_callback_with_their_headers(
    sandbox_http: httpx.AsyncClient, sandbox_app: FastAPI, world: World
) -> None:
    received: list[tuple[str, dict[str, str], bytes]] = []

    async def receive(url: str, headers: dict[str, str], body: bytes) -> int:
        received.append((url, headers, body))
        return 200

    sandbox_app.state.shopify_webhook_sender = receive
    hooks = BigCommerceWebhooks(secret="s3cret-value", header_name="X-Support-Agent-Secret")
    for scope in ("store/order/statusUpdated", "store/order/refund/created", "store/shipment/created"):
        made = await sandbox_http.post(
            f"{STORE}/v3/hooks",
            json={"scope": scope, "destination": "https://agent.example/webhooks/bigcommerce",
                  "is_active": True, "headers": hooks.registration_headers()},
            headers=TOKEN,
        )  # fmt: skip
        assert made.status_code == 200 and made.json()["data"]["headers"] == hooks.registration_headers()
    bad = await sandbox_http.post(
        f"{STORE}/v3/hooks", json={"scope": "store/nothing", "destination": "x"}, headers=TOKEN
    )
    assert bad.status_code == 422
    await sandbox_http.put(f"{STORE}/v2/orders/1004", json={"status_id": 5}, headers=TOKEN)
    product = world.bigcommerce.order_products[1002][0]
    items = [{"item_type": "PRODUCT", "item_id": product["id"], "quantity": 1}]
    quote = (
        await sandbox_http.post(
            f"{STORE}/v3/orders/1002/payment_actions/refund_quotes", json={"items": items}, headers=TOKEN
        )
    ).json()["data"]
    payment = {"provider_id": "braintree", "amount": quote["total_refund_amount"]}
    await sandbox_http.post(
        f"{STORE}/v3/orders/1002/payment_actions/refunds",
        json={"items": items, "payments": [payment]},
        headers=TOKEN,
    )
    world.store_platform = "bigcommerce"
    shipped = await sandbox_http.post(
        "/_sandbox/orders/1012/fulfil", json={"tracking_number": "9400100000000000000007"}
    )
    assert shipped.status_code == 200 and len(shipped.json()["webhooks"]) == 2
    events = []
    for url, headers, body in received:
        assert url == "https://agent.example/webhooks/bigcommerce"
        hooks.verify_webhook(headers, body)
        payload = json.loads(body)
        assert set(payload) == {"scope", "store_id", "data", "hash", "created_at", "producer"}
        events += hooks.parse_webhook(headers, body)
    refund_id = str(world.bigcommerce.refunds[1002][-1]["id"])
    assert events == [
        OrderCancelled(order_id="1004", order_number="1004"),
        RefundCreated(order_id="1002", order_number="1002", refund_id=refund_id),
        OrderUpdated(order_id="1002", order_number="1002"),  # Shipped -> Partially Refunded
        OrderFulfilled(order_id="1012", order_number="1012"),
        OrderUpdated(order_id="1012", order_number="1012"),  # -> Shipped
    ]
    assert len(world.bigcommerce_deliveries) == 5


async def test_control_api_reads_the_configured_platform(
    sandbox_http: httpx.AsyncClient, world: World
) -> None:
    world.store_platform = "bigcommerce"
    order = (await sandbox_http.get("/_sandbox/orders/1004")).json()
    assert order["platform"] == "bigcommerce" and order["status"] == "Awaiting Fulfillment"
    shipped = await sandbox_http.post(
        "/_sandbox/orders/1004/fulfil", json={"tracking_number": "9400100000000000000001"}
    )
    assert shipped.status_code == 200
    assert world.bigcommerce.orders[1004]["status_id"] == 2
    assert world.bigcommerce.shipments[1004][0]["tracking_number"] == "9400100000000000000001"
    assert shipped.json()["order"]["shipments"][0]["tracker_status"] == "pre_transit"
    again = await sandbox_http.post(
        "/_sandbox/orders/1004/fulfil", json={"tracking_number": "9400100000000000000002"}
    )
    assert again.status_code == 409
    refunds = (await sandbox_http.get("/_sandbox/refunds")).json()
    assert {r["vendor"] for r in refunds} <= {"bigcommerce", "stripe"} and any(
        r["order_number"] == 1008 for r in refunds
    )
    listed = (await sandbox_http.get("/_sandbox/orders")).json()
    assert {o["platform"] for o in listed} == {"bigcommerce"}
    assert (await sandbox_http.post("/_sandbox/reset")).status_code == 200
    assert (await sandbox_http.get("/_sandbox/orders/1004")).json()["status"] == "Awaiting Fulfillment"

"""The Shopify client against a store's REAL Admin API (marked `live`; skipped on the sandbox).

Configure SHOPIFY_API_BASE (https://<shop>.myshopify.com/admin/api), SHOPIFY_API_VERSION and
SHOPIFY_ACCESS_TOKEN, then run `pytest -m live tests/integrations/live/test_shopify_live.py`.
Cassettes are written, filtered, to tests/cassettes/live/shopify/.

Only reads run against whatever the store holds. The one write (appending to an order note) runs
only on an order tagged `support-agent-live-test`, which you create for the purpose; refunds,
cancellations and webhook subscriptions are left to the sandbox tests.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import yaml

from agent.settings import Settings
from integrations._http import AuthError, NotFound
from integrations.shopify import ShopifyClient, ShopifyOrder, shopify_http_client
from tests.integrations.live.vcr_config import FILTERED, live_vcr, require_real_account

TEST_ORDER_TAG = "support-agent-live-test"
VCR = live_vcr("shopify")


@pytest.fixture
def settings() -> Settings:
    settings = Settings()
    require_real_account(settings, secret_field="shopify_access_token", url_field="shopify_api_base")
    return settings


@pytest.fixture
async def http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with shopify_http_client(
        settings.shopify_api_base,
        settings.shopify_access_token.get_secret_value(),
        api_version=settings.shopify_api_version,
    ) as client:
        yield client


@pytest.fixture
def client(http: httpx.AsyncClient) -> ShopifyClient:
    return ShopifyClient(http)


async def recent_orders(http: httpx.AsyncClient, limit: int) -> list[ShopifyOrder]:
    response = await http.get("orders.json", params={"status": "any", "limit": limit})
    response.raise_for_status()
    assert "X-Shopify-Shop-Api-Call-Limit" in response.headers
    return [ShopifyOrder.model_validate(o) for o in response.json()["orders"]]


@pytest.mark.live
async def test_absent_things_are_absent(client: ShopifyClient) -> None:
    with VCR.use_cassette("absent.yaml"):
        with pytest.raises(NotFound):
            await client.get_order(1)
        assert await client.find_order_by_number("#999999999") is None
        assert await client.find_order_by_number("not-a-number") is None
        assert await client.find_customer_by_email(f"nobody-{uuid.uuid4().hex[:8]}@example.invalid") is None


@pytest.mark.live
async def test_rejected_token_names_the_setting(settings: Settings) -> None:
    with VCR.use_cassette("auth.yaml"):
        async with shopify_http_client(
            settings.shopify_api_base, "shpat_not_a_real_token", api_version=settings.shopify_api_version
        ) as http:
            with pytest.raises(AuthError) as caught:
                await ShopifyClient(http).get_order(1)
    assert caught.value.setting == "SHOPIFY_ACCESS_TOKEN"


@pytest.mark.live
async def test_a_recent_order_round_trips(http: httpx.AsyncClient, client: ShopifyClient) -> None:
    with VCR.use_cassette("reads.yaml"):
        orders = await recent_orders(http, 1)
        if not orders:
            pytest.skip("the store has no orders")
        listed = orders[0]
        order = await client.get_order(listed.id)
        assert order.order_number == listed.order_number
        found = await client.find_order_by_number(f"#{order.order_number}")
        assert found is not None
        assert found.id == order.id
        if order.email:
            assert order.id in {o.id for o in await client.orders_by_email(order.email, limit=5)}
            customer = await client.find_customer_by_email(order.email)
            if customer is not None:
                assert (await client.get_customer(customer.id)).id == customer.id
        transactions = await client.list_transactions(order.id)
        assert all(t.kind for t in transactions)
        calculation = await client.calculate_refund(order.id, line_items=[])  # read-only on Shopify's side
        assert all(t.kind == "suggested_refund" for t in calculation.transactions)
        product_ids = [item.product_id for item in order.line_items if item.product_id]
        if product_ids:
            product = await client.get_product(product_ids[0])
            assert product.id == product_ids[0]


@pytest.mark.live
async def test_note_is_appended_on_the_test_order(http: httpx.AsyncClient, client: ShopifyClient) -> None:
    with VCR.use_cassette("note.yaml"):
        tagged = [o for o in await recent_orders(http, 50) if TEST_ORDER_TAG in o.tag_list]
        if not tagged:
            pytest.skip(f"no order tagged {TEST_ORDER_TAG!r} among the 50 most recent")
        before = await client.get_order(tagged[0].id)
        text = f"live test {uuid.uuid4().hex[:10]}"
        after = await client.append_order_note(before.id, text)
        assert after.note is not None
        assert after.note.endswith(text)
        assert after.note.startswith((before.note or "").rstrip())
        again = await client.append_order_note(before.id, text)
        assert again.note == after.note


# ------------------------------------------------------------------ the filters themselves (offline)


async def test_cassettes_hold_no_secrets_or_personal_data(tmp_path: Path) -> None:
    """Record one mocked exchange through the shared VCR and read back what would be committed."""
    order = {
        "order": {
            "id": 1,
            "name": "#1001",
            "email": "bob.norman@hostmail.com",
            "note": "call bob.norman@hostmail.com",
            "shipping_address": {
                "name": "Bob Norman",
                "address1": "Chestnut Street 92",
                "city": "Louisville",
            },
            "line_items": [{"name": "IPod Nano", "price": "199.00"}],
        }
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=order, headers={"Set-Cookie": "session=abc123"})

    recorder = live_vcr("shopify", cassette_library_dir=tmp_path)
    with recorder.use_cassette("filters.yaml"):
        async with shopify_http_client(
            "https://apple.myshopify.com/admin/api", "shpat_live_secret_token",
            transport=httpx.MockTransport(handler),
        ) as http:  # fmt: skip
            await http.put(
                "orders/1.json",
                params={"email": "bob.norman@hostmail.com"},
                json={"order": {"id": 1, "shipping_address": {"first_name": "Bob", "zip": "40202"}}},
            )
    text = (tmp_path / "filters.yaml").read_text()
    for leaked in (
        "shpat_live_secret_token",
        "bob.norman@hostmail.com",
        "Bob Norman",
        "Chestnut",
        "40202",
        "Louisville",
        "abc123",
    ):
        assert leaked not in text
    interaction = yaml.safe_load(text)["interactions"][0]
    headers = {name.lower(): value for name, value in interaction["request"]["headers"].items()}
    assert headers["x-shopify-access-token"] == [FILTERED]
    assert "email=%5Bfiltered%5D" in interaction["request"]["uri"]
    assert "IPod Nano" in interaction["response"]["body"]["string"]  # product names are kept
    assert '"name": "#1001"' in interaction["response"]["body"]["string"]

"""The Shopify GraphQL client against a store's REAL Admin API (marked `live`; skipped on the sandbox).

Configure SHOPIFY_API_BASE (https://<shop>.myshopify.com/admin/api), SHOPIFY_API_VERSION and
SHOPIFY_ACCESS_TOKEN, then run `pytest -m live tests/integrations/live/test_shopify_live.py`.
Cassettes are written, filtered, to tests/cassettes/live/shopify/.

Reads run against whatever the store holds; a webhook subscription to an unreachable address is
made and deleted again. The other writes run only on orders you tag for the purpose:
`support-agent-live-test` (a line appended to its note), `support-agent-live-refund` (one unit of
its first line refunded, back to the payment it was paid with) and `support-agent-live-cancel`
(an unfulfilled order cancelled without a refund). Untagged orders are never written to.
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
from integrations.shopify import operations as ops
from integrations.shopify.client import ShopifyGraphQLClient, shopify_graphql_http_client
from integrations.shopify.models import REQUIRED_SCOPES, missing_scopes
from tests.integrations.live.vcr_config import FILTERED, live_vcr, require_real_account

TEST_ORDER_TAG = "support-agent-live-test"
REFUND_ORDER_TAG = "support-agent-live-refund"
CANCEL_ORDER_TAG = "support-agent-live-cancel"
VCR = live_vcr("shopify")


@pytest.fixture
def settings() -> Settings:
    settings = Settings()
    require_real_account(settings, secret_field="shopify_access_token", url_field="shopify_api_base")
    return settings


@pytest.fixture
async def http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with shopify_graphql_http_client(
        settings.shopify_api_base,
        settings.shopify_access_token.get_secret_value(),
        api_version=settings.shopify_api_version,
    ) as client:
        yield client


@pytest.fixture
def client(http: httpx.AsyncClient) -> ShopifyGraphQLClient:
    return ShopifyGraphQLClient(http)


async def tagged_order(client: ShopifyGraphQLClient, tag: str) -> ops.Order:
    found = await client.search_orders(f"tag:{ops.search_value(tag)}", first=1)
    if not found:
        pytest.skip(f"no order tagged {tag!r}")
    return await client.get_order(found[0].id)


@pytest.mark.live
async def test_absent_things_are_absent(client: ShopifyGraphQLClient) -> None:
    with VCR.use_cassette("absent.yaml"):
        with pytest.raises(NotFound):
            await client.get_order(1)
        assert await client.find_order_by_number("#999999999") is None
        assert await client.find_order_by_number("not-a-number") is None


@pytest.mark.live
async def test_rejected_token_names_the_setting(settings: Settings) -> None:
    with VCR.use_cassette("auth.yaml"):
        async with shopify_graphql_http_client(
            settings.shopify_api_base, "shpat_not_a_real_token", api_version=settings.shopify_api_version
        ) as http:
            with pytest.raises(AuthError) as caught:
                await ShopifyGraphQLClient(http).get_order(1)
    assert caught.value.setting == "SHOPIFY_ACCESS_TOKEN"


@pytest.mark.live
async def test_the_token_holds_the_scopes_the_agent_needs(client: ShopifyGraphQLClient) -> None:
    with VCR.use_cassette("scopes.yaml"):
        scopes = await client.access_scopes()
    assert missing_scopes(scopes, REQUIRED_SCOPES) == []


@pytest.mark.live
async def test_a_recent_order_round_trips(client: ShopifyGraphQLClient) -> None:
    with VCR.use_cassette("reads.yaml"):
        recent = await client.search_orders("", first=1)
        if not recent:
            pytest.skip("the store has no orders")
        order = await client.get_order(recent[0].id)
        assert order.name == recent[0].name
        assert client.last_cost is not None and client.last_cost["actualQueryCost"] is not None
        found = await client.find_order_by_number(order.name, email=order.email)
        assert found is not None and found.id == order.id
        if order.email:
            assert order.id in {o.id for o in await client.orders_by_email(order.email, limit=5)}
        assert all(t.kind for t in order.transactions)
        suggestion = await client.suggest_refund(order.id, line_items=[])  # read-only on Shopify's side
        assert all(t.kind == "SUGGESTED_REFUND" for t in suggestion.suggested_transactions)
        products = [item.product.id for item in order.line_items if item.product]
        if products:
            assert isinstance(await client.get_product_tags(products[0]), list)
        assert await client.oldest_visible_order() is not None


@pytest.mark.live
async def test_a_webhook_subscription_is_made_listed_and_deleted(client: ShopifyGraphQLClient) -> None:
    address = f"https://example.com/support-agent-live-test/{uuid.uuid4().hex[:10]}"
    with VCR.use_cassette("webhooks.yaml"):
        made = await client.register_webhook("orders/updated", address)
        try:
            assert made.topic_path == "orders/updated" and made.uri == address
            assert made.id in {h.id for h in await client.list_webhooks(topic="orders/updated")}
            assert (await client.register_webhook("orders/updated", address)).id == made.id
        finally:
            await client.delete_webhook(made.id)
        assert made.id not in {h.id for h in await client.list_webhooks(topic="orders/updated")}


@pytest.mark.live
async def test_note_is_appended_on_the_test_order(client: ShopifyGraphQLClient) -> None:
    with VCR.use_cassette("note.yaml"):
        before = await tagged_order(client, TEST_ORDER_TAG)
        text = f"live test {uuid.uuid4().hex[:10]}"
        after = await client.append_order_note(before.id, text)
        assert after.note is not None
        assert after.note.endswith(text)
        assert after.note.startswith((before.note or "").rstrip())
        again = await client.append_order_note(before.id, text)
        assert again.note == after.note


@pytest.mark.live
async def test_one_unit_is_refunded_on_the_refund_test_order(client: ShopifyGraphQLClient) -> None:
    with VCR.use_cassette("refund.yaml"):
        order = await tagged_order(client, REFUND_ORDER_TAG)
        left = order.refundable_quantities()
        if not left:
            pytest.skip(f"nothing left to refund on the order tagged {REFUND_ORDER_TAG!r}")
        line = sorted(left)[0]
        suggestion = await client.suggest_refund(order.id, line_items=[(line, 1)])
        key = uuid.uuid4().hex[:12]
        refund = await client.create_refund(order.id, suggestion, note="live test", idempotency_key=key)
        assert refund.amount == suggestion.amount
        parents = {t.parent_transaction.id for t in refund.transactions if t.parent_transaction}
        assert parents <= {t.id for t in order.transactions}
        again = await client.create_refund(order.id, suggestion, note="live test", idempotency_key=key)
        assert again.id == refund.id  # found by its marker, not refunded twice


@pytest.mark.live
async def test_the_cancel_test_order_is_cancelled_by_a_job(client: ShopifyGraphQLClient) -> None:
    with VCR.use_cassette("cancel.yaml"):
        order = await tagged_order(client, CANCEL_ORDER_TAG)
        if order.is_cancelled:
            pytest.skip(f"the order tagged {CANCEL_ORDER_TAG!r} is already cancelled")
        cancelled = await client.cancel_order(order.id, reason="OTHER", refund=False, restock=True)
        assert cancelled.id == order.id


# ------------------------------------------------------------------ the filters themselves (offline)


async def test_cassettes_hold_no_secrets_or_personal_data(tmp_path: Path) -> None:
    """Record one mocked exchange through the shared VCR and read back what would be committed."""
    order = {
        "data": {
            "order": {
                "id": "gid://shopify/Order/1",
                "name": "#1001",
                "email": "bob.norman@hostmail.com",
                "note": "call bob.norman@hostmail.com",
                "shippingAddress": {"name": "Bob Norman", "address1": "Chestnut Street 92", "city": "Louisville"},
                "lineItems": {"nodes": [{"name": "IPod Nano", "originalUnitPriceSet": {"shopMoney": {"amount": "199.00"}}}]},
            }
        }
    }  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=order, headers={"Set-Cookie": "session=abc123"})

    recorder = live_vcr("shopify", cassette_library_dir=tmp_path)
    with recorder.use_cassette("filters.yaml"):
        async with shopify_graphql_http_client(
            "https://apple.myshopify.com/admin/api", "shpat_live_secret_token",
            transport=httpx.MockTransport(handler),
        ) as http:  # fmt: skip
            await http.post(
                "graphql.json",
                params={"email": "bob.norman@hostmail.com"},
                json={"query": ops.ORDER_ADDRESS_UPDATE, "variables": {"input": {"id": "gid://shopify/Order/1",
                      "shippingAddress": {"firstName": "Bob", "zip": "40202"}}}},
            )  # fmt: skip
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

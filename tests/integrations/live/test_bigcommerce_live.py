"""The BigCommerce client against a store's REAL API (marked `live`; skipped on the sandbox).

Configure BIGCOMMERCE_STORE_HASH and BIGCOMMERCE_ACCESS_TOKEN (a store-level API account with
Orders: modify, Order Transactions: read-only, Products: read-only, Information & Settings:
read-only), then run `pytest -m live tests/integrations/live/test_bigcommerce_live.py`.
Cassettes are written, filtered (`X-Auth-Token` and the email query are filtered), to
tests/cassettes/live/bigcommerce/. Reads only: refunds, cancellations and notes are left to the
sandbox tests. The store's hooks are listed outside any cassette (their headers hold the secret).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from agent.settings import Settings
from integrations._http import AuthError, NotFound
from integrations.bigcommerce.client import DEFAULT_API_BASE, BigCommerceClient, bigcommerce_http_client
from integrations.bigcommerce.webhooks import SUBSCRIBED_SCOPES
from tests.integrations.live.vcr_config import live_vcr, points_at_sandbox, require_real_account

VCR = live_vcr("bigcommerce")


@pytest.fixture
def settings() -> Settings:
    settings = Settings()
    require_real_account(settings, secret_field="bigcommerce_access_token")
    if settings.bigcommerce_store_hash == Settings.model_fields["bigcommerce_store_hash"].default:
        pytest.skip("BIGCOMMERCE_STORE_HASH still holds the sandbox default")
    return settings


def api_base(settings: Settings) -> str:
    base = settings.bigcommerce_api_base
    return DEFAULT_API_BASE if points_at_sandbox(base) else base


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[BigCommerceClient]:
    async with bigcommerce_http_client(
        api_base(settings),
        settings.bigcommerce_store_hash,
        settings.bigcommerce_access_token.get_secret_value(),
    ) as http:
        yield BigCommerceClient(http)


@pytest.mark.live
async def test_a_recent_order_round_trips(client: BigCommerceClient) -> None:
    with VCR.use_cassette("reads.yaml"):
        latest = await client._v2_list("/v2/orders", {"sort": "date_created:desc"}, limit=1)
        if not latest:
            pytest.skip("the store has no orders")
        found = await client.find_order_by_number(str(latest[0]["id"]))
        assert found is not None and found.id == latest[0]["id"]
        if found.email:
            assert found.id in {o.id for o in await client.orders_by_email(found.email, limit=50)}
        products = await client.order_products(found.id)
        assert all(p.quantity >= p.quantity_refunded for p in products)
        assert all(a.id for a in await client.shipping_addresses(found.id))
        assert all(s.order_id in (None, found.id) for s in await client.shipments(found.id))
        assert all(r.total_amount >= 0 for r in await client.list_refunds(found.id))
        if products and products[0].product_id:
            assert (await client.get_product(products[0].product_id)).id == products[0].product_id
    assert client.budget.left is not None  # every answer said how much of the quota is left


@pytest.mark.live
async def test_absent_orders_and_a_rejected_token(settings: Settings, client: BigCommerceClient) -> None:
    with VCR.use_cassette("absent.yaml"), pytest.raises(NotFound):
        await client.get_order(999_999_999)
    with VCR.use_cassette("auth.yaml"):
        async with bigcommerce_http_client(
            api_base(settings), settings.bigcommerce_store_hash, "not-a-token"
        ) as http:
            with pytest.raises(AuthError) as caught:
                await BigCommerceClient(http).get_order(1)
    assert caught.value.setting == "BIGCOMMERCE_ACCESS_TOKEN"


@pytest.mark.live
async def test_the_hooks_carry_the_secret_header(settings: Settings, client: BigCommerceClient) -> None:
    hooks = [h for h in await client.list_hooks() if h.scope in SUBSCRIBED_SCOPES and h.is_active]
    if not hooks:
        pytest.skip("no order hooks registered yet (README: Connecting a real store, BigCommerce)")
    header = settings.bigcommerce_webhook_header.lower()
    assert all(header in {k.lower() for k in (h.headers or {})} for h in hooks)

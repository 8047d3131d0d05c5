"""The WooCommerce client against a store's REAL REST API (marked `live`; skipped on the sandbox).

Configure WOOCOMMERCE_URL (https://<your shop>), WOOCOMMERCE_CONSUMER_KEY and
WOOCOMMERCE_CONSUMER_SECRET, then run `pytest -m live tests/integrations/live/test_woocommerce_live.py`.
Cassettes are written, filtered (the Basic credentials are in the filtered Authorization header),
to tests/cassettes/live/woocommerce/. Reads only: refunds, cancellations and notes are left to the
sandbox tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from agent.settings import Settings
from integrations._http import AuthError, NotFound
from integrations.woocommerce.client import WooCommerceClient, woocommerce_http_client
from tests.integrations.live.vcr_config import live_vcr, require_real_account

VCR = live_vcr("woocommerce")


@pytest.fixture
def settings() -> Settings:
    settings = Settings()
    require_real_account(settings, secret_field="woocommerce_consumer_secret", url_field="woocommerce_url")
    return settings


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[WooCommerceClient]:
    async with woocommerce_http_client(
        settings.woocommerce_url,
        settings.woocommerce_consumer_key.get_secret_value(),
        settings.woocommerce_consumer_secret.get_secret_value(),
    ) as http:
        yield WooCommerceClient(http)


@pytest.mark.live
async def test_a_recent_order_round_trips(client: WooCommerceClient) -> None:
    with VCR.use_cassette("reads.yaml"):
        orders = await client._list("/orders", {"orderby": "date", "order": "desc"}, limit=1)
        if not orders:
            pytest.skip("the store has no orders")
        number = str(orders[0]["number"])
        found = await client.find_order_by_number(number)
        assert found is not None and found.number == number
        assert (await client.get_order(found.id)).id == found.id
        if found.billing.email:
            assert found.id in {o.id for o in await client.orders_by_email(found.billing.email, limit=20)}
        assert all(r.amount >= 0 for r in await client.list_refunds(found.id))
        assert isinstance(found.tracking_items(), list)


@pytest.mark.live
async def test_absent_orders_and_rejected_keys(settings: Settings, client: WooCommerceClient) -> None:
    with VCR.use_cassette("absent.yaml"), pytest.raises(NotFound):
        await client.get_order(999_999_999)
    with VCR.use_cassette("auth.yaml"):
        async with woocommerce_http_client(settings.woocommerce_url, "ck_not_a_real_key", "cs_nope") as http:
            with pytest.raises(AuthError) as caught:
                await WooCommerceClient(http).get_order(1)
    assert caught.value.setting == "WOOCOMMERCE_CONSUMER_KEY"

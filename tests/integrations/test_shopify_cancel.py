"""Cancelling as Shopify does it: the answer is a notice and the order as it was (`cancelled_at`
still null, the cancellation runs in a background job). A cancellation Shopify accepted is never
reported as failed, and never posted again after it succeeded."""

from __future__ import annotations

import httpx
import pytest

from integrations._http import VendorError, retrying
from integrations.shopify import ShopifyClient, shopify_http_client
from integrations.shopify.adapter import ShopifyCommerce
from sandbox.world import Fault, World
from tests.published import shopify_rest as published

API = "http://sandbox/shopify/admin/api"
ORDER_1004 = 5200001004


def client_for(transport: httpx.AsyncBaseTransport, waits: list[float] | None = None) -> ShopifyClient:
    async def no_sleep(seconds: float) -> None:
        if waits is not None:
            waits.append(seconds)

    return ShopifyClient(
        shopify_http_client(API, "shpat_sandbox", transport=transport),
        retry_policy=lambda: retrying(sleep=no_sleep),
    )


class CountingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.cancels = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/cancel.json"):
            self.cancels += 1
        return await self.inner.handle_async_request(request)


# --------------------------------------------------------------------------- contract: Shopify's published answer


async def test_the_published_cancel_answer_is_a_success_though_cancelled_at_is_null() -> None:
    assert published.CANCEL_RESPONSE["order"]["cancelled_at"] is None
    posts: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/cancel.json"):
            posts.append(path)
            return httpx.Response(200, json=published.CANCEL_RESPONSE)
        if path.endswith("/refunds/calculate.json"):
            return httpx.Response(200, json=published.REFUND_CALCULATION)
        if "/products/" in path:
            return httpx.Response(
                200, json={"product": {"id": 632910392, "title": "IPod Nano - 8gb", "tags": ""}}
            )
        return httpx.Response(200, json={"order": published.ORDER})  # GET / PUT (the note) of the order

    commerce = ShopifyCommerce(client_for(httpx.MockTransport(answer)))
    order = await commerce.cancel("450789469", reason="changed my mind", idempotency_key="conv-1:call-1")
    assert order.is_cancelled  # accepted by Shopify, whatever its answer's order still shows
    assert posts == ["/shopify/admin/api/2026-10/orders/450789469/cancel.json"]  # posted once


async def test_the_client_returns_shopifys_notice() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=published.CANCEL_RESPONSE)

    cancellation = await client_for(httpx.MockTransport(answer)).cancel_order(450789469, refund=False)
    assert cancellation.notice == "Order has been canceled"
    assert cancellation.order.id == 450789469
    assert not cancellation.by_earlier_attempt


# --------------------------------------------------------------------------- the emulator


async def test_the_emulator_answers_as_shopify_and_reads_may_trail(
    sandbox_http: httpx.AsyncClient, world: World
) -> None:
    world.shopify_consistency.cancel_lag_reads = 1
    headers = {"X-Shopify-Access-Token": "shpat_sandbox"}
    base = "/shopify/admin/api/2026-10/orders"
    answer = await sandbox_http.post(
        f"{base}/{ORDER_1004}/cancel.json", json={"reason": "customer"}, headers=headers
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["notice"] == "Order has been canceled"
    assert body["order"]["cancelled_at"] is None  # as in Shopify's published example
    assert world.shopify.orders[ORDER_1004]["cancelled_at"] == world.now_iso()  # done in the store
    first = await sandbox_http.get(f"{base}/{ORDER_1004}.json", headers=headers)
    assert first.json()["order"]["cancelled_at"] is None  # the background job has not shown yet
    second = await sandbox_http.get(f"{base}/{ORDER_1004}.json", headers=headers)
    assert second.json()["order"]["cancelled_at"] == world.now_iso()


async def test_after_a_lost_answer_the_repeat_is_not_reported_as_failed(
    sandbox_transport: httpx.ASGITransport, world: World
) -> None:
    """The cancel went through, its answer was lost, the re-read still shows the order uncancelled,
    so the cancel is posted again: Shopify's 'already cancelled' is then the success it is."""
    world.shopify_consistency.cancel_lag_reads = 3
    world.faults.append(
        Fault(
            vendor="shopify",
            route="/cancel.json",
            method="POST",
            kind="error",
            status=502,
            after_applying=True,
        )
    )
    transport = CountingTransport(sandbox_transport)
    waits: list[float] = []
    cancellation = await client_for(transport, waits).cancel_order(ORDER_1004, refund=True)
    assert cancellation.by_earlier_attempt
    assert transport.cancels == 2
    assert len(waits) == 1
    record = world.shopify.orders[ORDER_1004]
    assert record["cancelled_at"] is not None
    assert len(record["refunds"]) == 1  # refunded once


async def test_a_succeeded_cancel_is_reported_cancelled_and_never_reposted(
    sandbox_transport: httpx.ASGITransport, world: World
) -> None:
    world.shopify_consistency.cancel_lag_reads = 5  # every read for a while still shows it open
    transport = CountingTransport(sandbox_transport)
    commerce = ShopifyCommerce(client_for(transport))
    order = await commerce.cancel(str(ORDER_1004), reason="ordered twice", idempotency_key="conv-2:call-1")
    assert order.is_cancelled
    assert transport.cancels == 1
    assert len(world.shopify.orders[ORDER_1004]["refunds"]) == 1


async def test_a_first_attempt_refused_as_already_cancelled_is_still_a_refusal(
    sandbox_transport: httpx.ASGITransport,
) -> None:
    # Only a repeat may read "already cancelled" as its own success; a first attempt may not.
    with pytest.raises(VendorError, match="already been cancelled") as caught:
        await client_for(sandbox_transport).cancel_order(5200001021, refund=True)
    assert caught.value.status == 422

"""Cancelling as Shopify's GraphQL Admin API does it: `orderCancel` answers with a background `Job`,
the order is cancelled once the job has run (`job(id:) { done }`), and reads may trail it a moment.
A cancellation Shopify accepted is never reported as failed, and never sent again after it
succeeded."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from integrations._http import NotFound
from integrations.shopify.client import ShopifyUserError
from sandbox.world import Fault, World
from tests.integrations.shopify_graphql import graphql_client, graphql_commerce

ORDER_1004 = 5200001004
GID_1004 = f"gid://shopify/Order/{ORDER_1004}"
GRAPHQL = "/shopify/admin/api/2026-10/graphql.json"
HEADERS = {"X-Shopify-Access-Token": "shpat_sandbox"}


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts the `orderCancel` mutations that go out."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.cancels = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if b"mutation OrderCancel" in request.content:
            self.cancels += 1
        return await self.inner.handle_async_request(request)


async def graphql(http: httpx.AsyncClient, query: str, **variables: object) -> dict[str, object]:
    response = await http.post(GRAPHQL, json={"query": query, "variables": variables}, headers=HEADERS)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


CANCEL = """mutation($id: ID!) {
  orderCancel(orderId: $id, reason: CUSTOMER, refundMethod: {originalPaymentMethodsRefund: true}, restock: true) {
    job { id done } orderCancelUserErrors { field message code } userErrors { field message }
  }
}"""
READ = "query($id: ID!) { order(id: $id) { id cancelledAt displayFinancialStatus } }"
JOB = "query($id: ID!) { job(id: $id) { id done } }"


# --------------------------------------------------------------------------- the emulator


async def test_the_emulator_cancels_in_a_background_job(
    sandbox_http: httpx.AsyncClient, world: World
) -> None:
    body = await graphql(sandbox_http, CANCEL, id=GID_1004)
    payload = body["data"]["orderCancel"]  # type: ignore[index]
    assert payload["job"]["done"] is False
    assert payload["orderCancelUserErrors"] == [] and payload["userErrors"] == []
    assert world.shopify.orders[ORDER_1004]["cancelled_at"] is None  # not yet: the job is queued

    polled = await graphql(sandbox_http, JOB, id=payload["job"]["id"])
    assert polled["data"] == {"job": {"id": payload["job"]["id"], "done": True}}
    record = world.shopify.orders[ORDER_1004]
    assert record["cancelled_at"] == world.now_iso()
    assert record["financial_status"] == "refunded" and len(record["refunds"]) == 1


async def test_reads_may_trail_the_job(sandbox_http: httpx.AsyncClient, world: World) -> None:
    world.shopify_consistency.cancel_lag_reads = 1
    await graphql(sandbox_http, CANCEL, id=GID_1004)
    first = await graphql(sandbox_http, READ, id=GID_1004)  # the job runs before this is answered
    assert world.shopify.orders[ORDER_1004]["cancelled_at"] is not None
    assert first["data"]["order"]["cancelledAt"] is None  # type: ignore[index]
    second = await graphql(sandbox_http, READ, id=GID_1004)
    assert second["data"]["order"]["cancelledAt"] == world.now_iso()  # type: ignore[index]


async def test_a_cancelled_or_fulfilled_order_is_refused_as_a_user_error(
    sandbox_http: httpx.AsyncClient, world: World
) -> None:
    cancelled = await graphql(sandbox_http, CANCEL, id="gid://shopify/Order/5200001021")
    shipped = await graphql(sandbox_http, CANCEL, id="gid://shopify/Order/5200001002")
    for body in (cancelled, shipped):
        payload = body["data"]["orderCancel"]  # type: ignore[index]
        assert payload["job"] is None
        assert payload["orderCancelUserErrors"][0]["code"] == "INVALID"
    assert "already been cancelled" in cancelled["data"]["orderCancel"]["userErrors"][0]["message"]  # type: ignore[index]
    assert world.shopify_consistency.jobs == {}


# --------------------------------------------------------------------------- the client and the adapter


async def test_the_client_waits_for_the_job_and_reports_the_cancelled_order(
    sandbox_transport: httpx.ASGITransport, world: World
) -> None:
    waits: list[float] = []
    order = await graphql_client(sandbox_transport, waits).cancel_order(ORDER_1004, refund=True)
    assert order.is_cancelled
    assert order.display_financial_status == "REFUNDED"
    assert waits == []  # the first poll found the job done
    assert [job["done"] for job in world.shopify_consistency.jobs.values()] == [True]


async def test_a_job_still_running_is_polled_until_done() -> None:
    polls = {"n": 0}

    def answer(request: httpx.Request) -> httpx.Response:
        query = json.loads(request.content)["query"]
        data: dict[str, Any]
        if "mutation OrderCancel" in query:
            data = {"orderCancel": {"job": {"id": "gid://shopify/Job/1", "done": False}, "orderCancelUserErrors": [], "userErrors": []}}  # fmt: skip
        elif "query Job" in query:
            polls["n"] += 1
            data = {"job": {"id": "gid://shopify/Job/1", "done": polls["n"] >= 3}}
        else:
            data = {"order": None}
        return httpx.Response(200, json={"data": data})

    waits: list[float] = []
    client = graphql_client(httpx.MockTransport(answer), waits, api="https://s.test/admin/api")
    with pytest.raises(NotFound):  # the order read after the job: absent from this mock
        await client.cancel_order(1, refund=False)
    assert polls["n"] == 3
    assert waits == [1.0, 1.0]  # between polls, never before the first


async def test_after_a_lost_answer_the_repeat_is_not_reported_as_failed(
    sandbox_transport: httpx.ASGITransport, world: World
) -> None:
    """The cancel went through, its answer was lost, the re-read still shows the order open, so
    the cancel is sent again: Shopify's 'already cancelled' is then the success it is."""
    world.shopify_consistency.cancel_lag_reads = 3
    world.faults.append(
        Fault(
            vendor="shopify",
            route="#OrderCancel",
            method="POST",
            kind="error",
            status=502,
            after_applying=True,
        )
    )
    transport = CountingTransport(sandbox_transport)
    waits: list[float] = []
    await graphql_client(transport, waits).cancel_order(ORDER_1004, refund=True)
    assert transport.cancels == 2
    assert len(waits) == 1
    record = world.shopify.orders[ORDER_1004]
    assert record["cancelled_at"] is not None
    assert len(record["refunds"]) == 1  # refunded once


async def test_a_succeeded_cancel_is_reported_cancelled_and_never_resent(
    sandbox_transport: httpx.ASGITransport, world: World
) -> None:
    world.shopify_consistency.cancel_lag_reads = 5  # every read for a while still shows it open
    transport = CountingTransport(sandbox_transport)
    commerce = graphql_commerce(transport)
    order = await commerce.cancel(str(ORDER_1004), reason="ordered twice", idempotency_key="conv-2:call-1")
    assert order.is_cancelled
    assert transport.cancels == 1
    record = world.shopify.orders[ORDER_1004]
    assert len(record["refunds"]) == 1
    assert "ordered twice" in record["note"]


async def test_a_first_attempt_refused_as_already_cancelled_is_still_a_refusal(
    sandbox_transport: httpx.ASGITransport,
) -> None:
    # Only a repeat may read "already cancelled" as its own success; a first attempt may not.
    with pytest.raises(ShopifyUserError, match="already been cancelled") as caught:
        await graphql_client(sandbox_transport).cancel_order(5200001021, refund=True)
    assert caught.value.status == 422
    assert caught.value.codes == ["INVALID"]

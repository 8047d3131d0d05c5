"""The inspection and control API of the sandbox."""

from __future__ import annotations

import httpx

from sandbox.world import World
from tests.conftest import LiveSandbox


async def test_order_view_shows_fulfilment_tracking_and_refunds(sandbox_http: httpx.AsyncClient) -> None:
    order = (await sandbox_http.get("/_sandbox/orders/1008")).json()
    assert order["email"] == "ben.okafor@example.com"
    assert order["financial_status"] == "refunded"
    assert order["fulfillments"][0]["tracking_company"] == "USPS"
    assert len(order["refunds"]) == 1


async def test_unknown_order_is_404(sandbox_http: httpx.AsyncClient) -> None:
    response = await sandbox_http.get("/_sandbox/orders/4242")
    assert response.status_code == 404


async def test_reset_restores_the_seed(sandbox_http: httpx.AsyncClient, sandbox_app: object) -> None:
    before = (await sandbox_http.get("/_sandbox/world")).json()["digest"]
    await sandbox_http.post("/_sandbox/clock", json={"now": "2027-01-01T00:00:00Z"})
    changed = (await sandbox_http.get("/_sandbox/world")).json()
    assert changed["digest"] != before
    assert changed["clock"] == "2027-01-01T00:00:00Z"
    assert (await sandbox_http.post("/_sandbox/reset")).json()["digest"] == before


async def test_clock_without_timezone_is_rejected(sandbox_http: httpx.AsyncClient) -> None:
    response = await sandbox_http.post("/_sandbox/clock", json={"now": "2027-01-01T00:00:00"})
    assert response.status_code == 422


async def test_fault_fails_the_next_n_calls_then_clears(sandbox_http: httpx.AsyncClient) -> None:
    await sandbox_http.post(
        "/_sandbox/faults",
        json={"vendor": "shopify", "kind": "rate_limit", "retry_after": 1.5, "remaining": 2},
    )
    headers = {"X-Shopify-Access-Token": "shpat_sandbox"}
    for _ in range(2):
        response = await sandbox_http.post(
            "/shopify/admin/api/2026-10/graphql.json",
            json={"query": '{ job(id: "x") { id } }'},
            headers=headers,
        )
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "1.5"
        assert response.json()["errors"] == "Throttled"
    assert (await sandbox_http.get("/_sandbox/faults")).json() == []


def test_live_sandbox_serves_over_http(live_sandbox: LiveSandbox, world: World) -> None:
    response = httpx.get(f"{live_sandbox.url}/_sandbox/orders/1001")
    assert response.json()["email"] == "ana.silva@example.com"
    assert live_sandbox.world is world

"""BigCommerce REST client (`https://api.bigcommerce.com/stores/{store_hash}/v2` and `/v3`), over httpx.

Why httpx and not the `bigcommerce` package on PyPI: that package is synchronous (`requests`), so
every call would have to run in a worker thread; it models V2 resources only (refund quotes and
refunds, hooks and the catalog are V3); and it neither retries nor honours the rate-limit headers.
The store's other clients are async httpx with the shared retry policy and typed errors; this one
is the same.

- Authentication: the API account's access token in `X-Auth-Token` (store-level API accounts,
  Settings > API > Store-level API accounts).
- Errors: V2 answers a list `[{"status": 404, "message": "..."}]`, V3 an object `{"status",
  "title", "type", "errors"}`; both are mapped to the shared typed errors (`integrations._http`).
- Rate limits: every answer carries `X-Rate-Limit-Requests-Left`, `X-Rate-Limit-Requests-Quota`,
  `X-Rate-Limit-Time-Window-Ms` and `X-Rate-Limit-Time-Reset-Ms`. With no request left in the
  window the next call waits for the reset instead of spending one on a 429; a 429 is retried
  after `X-Rate-Limit-Time-Reset-Ms` (reads only, as every retry).
- Lists: V2 pages with `page` / `limit` (at most 250) and answers `204 No Content` when nothing
  matches; V3 wraps lists in `{"data": [...], "meta": {"pagination": {...}}}`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx

from integrations._http import (
    AuthError,
    NotFound,
    RateLimited,
    RetryPolicyFactory,
    VendorError,
    build_async_client,
    json_body,
    retrying,
    transport_error,
    with_retries,
)
from integrations.bigcommerce.models import (
    MAX_V2_LIMIT,
    BcHook,
    BcMetafield,
    BcOrder,
    BcOrderProduct,
    BcProduct,
    BcRefund,
    BcRefundQuote,
    BcShipment,
    BcShippingAddress,
)

VENDOR = "bigcommerce"
AUTH_SETTING = "BIGCOMMERCE_ACCESS_TOKEN"
DEFAULT_API_BASE = "https://api.bigcommerce.com"
REQUESTS_LEFT = "X-Rate-Limit-Requests-Left"
RESET_MS = "X-Rate-Limit-Time-Reset-Ms"
MAX_BUDGET_WAIT_SECONDS = 30.0  # BigCommerce's window is 30 s: never wait longer than one


def store_url(api_base: str, store_hash: str) -> str:
    """`https://api.bigcommerce.com` + `abc123` -> `https://api.bigcommerce.com/stores/abc123`."""
    base = api_base.rstrip("/")
    marker = f"/stores/{store_hash}"
    return base if base.endswith(marker) else base + marker


def bigcommerce_http_client(
    api_base: str,
    store_hash: str,
    access_token: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The HTTP client for one store (paths below are `/v2/...` and `/v3/...`)."""
    return build_async_client(
        store_url(api_base, store_hash),
        headers={"X-Auth-Token": access_token, "Accept": "application/json"},
        transport=transport,
    )


def _reset_seconds(response: httpx.Response) -> float | None:
    raw = response.headers.get(RESET_MS)
    if raw is None:
        raw_after = response.headers.get("Retry-After")
        try:
            return max(0.0, float(raw_after)) if raw_after else None
        except ValueError:
            return None
    try:
        return max(0.0, float(raw) / 1000.0)
    except ValueError:
        return None


def error_text(response: httpx.Response) -> str:
    """What a V2 (`[{"status", "message"}]`) or V3 (`{"title", "errors"}`) error body says."""
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("data"), list):  # refunds' 422: {"data": [errors]}
        body = body["data"]
    if isinstance(body, list):
        return "; ".join(
            str(e.get("message") or e.get("title") or e.get("error") or e)
            for e in body
            if isinstance(e, dict)
        )[:300]
    if isinstance(body, dict):
        parts = [str(body.get("title") or body.get("message") or "")]
        errors = body.get("errors")
        if isinstance(errors, dict) and errors:
            parts.append(", ".join(f"{k}: {v}" for k, v in errors.items()))
        elif isinstance(errors, list) and errors:
            parts.append(", ".join(str(e) for e in errors))
        return " - ".join(p for p in parts if p)[:300] or response.reason_phrase
    return str(body)[:300]


def raise_for_bc_error(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    text = f"HTTP {status} on {response.request.method} {response.request.url.path}: {error_text(response)}"
    if status in (401, 403):
        raise AuthError(VENDOR, text, setting=AUTH_SETTING, status=status)
    if status == 404:
        raise NotFound(VENDOR, text, status=status)
    if status == 429:
        raise RateLimited(VENDOR, text, retry_after=_reset_seconds(response))
    raise VendorError(VENDOR, text, status=status, retryable=status >= 500)


class RateBudget:
    """What the last answer said of the store's quota: with nothing left, wait for the window's reset."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._now = monotonic
        self.left: int | None = None
        self.reset_at = 0.0

    def observe(self, response: httpx.Response) -> None:
        raw = response.headers.get(REQUESTS_LEFT)
        if raw is None:
            return
        try:
            self.left = int(raw)
        except ValueError:
            return
        reset = _reset_seconds(response)
        self.reset_at = self._now() + (reset or 0.0)

    def wait_needed(self) -> float:
        if self.left is None or self.left > 0:
            return 0.0
        return min(MAX_BUDGET_WAIT_SECONDS, max(0.0, self.reset_at - self._now()))


class BigCommerceClient:
    """The calls the adapter needs, typed. Reads are retried; writes are made safe by the adapter
    (read-before-write) and sent once."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        retry_policy: RetryPolicyFactory | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._policy_factory: RetryPolicyFactory = retry_policy or retrying
        self._sleep = sleep
        self.budget = RateBudget(monotonic)

    async def _call(
        self, method: str, path: str, *, idempotent: bool, **kwargs: Any
    ) -> tuple[Any, httpx.Response]:
        async def once() -> tuple[Any, httpx.Response]:
            wait = self.budget.wait_needed()
            if wait > 0:
                await self._sleep(wait)
                self.budget.left = None  # a new window
            try:
                response = await self._http.request(method, path, **kwargs)
            except httpx.HTTPError as exc:
                raise transport_error(VENDOR, exc) from None
            self.budget.observe(response)
            raise_for_bc_error(response)
            if response.status_code == 204 or not response.content:
                return None, response
            return json_body(VENDOR, response), response

        return await with_retries(once, idempotent=idempotent, policy=self._policy_factory())

    async def _data(self, method: str, path: str, *, idempotent: bool, **kwargs: Any) -> Any:
        """A V3 call's `data`."""
        body, _ = await self._call(method, path, idempotent=idempotent, **kwargs)
        if not isinstance(body, dict) or "data" not in body:
            raise VendorError(VENDOR, f"expected a V3 envelope from {path}")
        return body["data"]

    async def _v2_list(
        self, path: str, params: dict[str, Any] | None = None, *, limit: int | None = None
    ) -> list[Any]:
        """Every page of a V2 list (up to `limit` items); 204 is an empty list."""
        per_page = min(MAX_V2_LIMIT, limit or MAX_V2_LIMIT)
        items: list[Any] = []
        page = 1
        while True:
            body, _ = await self._call(
                "GET", path, idempotent=True, params={**(params or {}), "page": page, "limit": per_page}
            )
            if body is None:
                return items[:limit] if limit else items
            if not isinstance(body, list):
                raise VendorError(VENDOR, f"expected a list from {path}")
            items.extend(body)
            if (limit is not None and len(items) >= limit) or len(body) < per_page:
                return items[:limit] if limit else items
            page += 1

    # ------------------------------------------------------------------ orders (V2)

    async def get_order(self, order_id: int) -> BcOrder:
        body, _ = await self._call("GET", f"/v2/orders/{order_id}", idempotent=True)
        return BcOrder.model_validate(body)

    async def find_order_by_number(self, number: str | int) -> BcOrder | None:
        """BigCommerce's order number is the order's id; an archived (deleted) order is not found."""
        text = str(number).strip().removeprefix("#").strip()
        if not text.isdigit() or len(text) > 18:
            return None
        try:
            order = await self.get_order(int(text))
        except NotFound:
            return None
        return None if order.is_deleted else order

    async def orders_by_email(self, email: str, *, limit: int = 5) -> list[BcOrder]:
        """The orders of a customer email, newest first (`/v2/orders?email=`)."""
        wanted = email.strip().lower()
        raw = await self._v2_list("/v2/orders", {"email": wanted, "sort": "date_created:desc"}, limit=limit)
        orders = [BcOrder.model_validate(o) for o in raw]
        return [o for o in orders if o.email.lower() == wanted and not o.is_deleted][:limit]

    async def order_products(self, order_id: int) -> list[BcOrderProduct]:
        return [
            BcOrderProduct.model_validate(p) for p in await self._v2_list(f"/v2/orders/{order_id}/products")
        ]

    async def shipping_addresses(self, order_id: int) -> list[BcShippingAddress]:
        raw = await self._v2_list(f"/v2/orders/{order_id}/shipping_addresses")
        return [BcShippingAddress.model_validate(a) for a in raw]

    async def shipments(self, order_id: int) -> list[BcShipment]:
        return [BcShipment.model_validate(s) for s in await self._v2_list(f"/v2/orders/{order_id}/shipments")]

    async def update_order(self, order_id: int, changes: dict[str, Any]) -> BcOrder:
        """`PUT /v2/orders/{id}` (`status_id`, `staff_notes`, ...): setting a value is repeatable."""
        body, _ = await self._call("PUT", f"/v2/orders/{order_id}", idempotent=True, json=changes)
        return BcOrder.model_validate(body)

    async def update_shipping_address(
        self, order_id: int, address_id: int, changes: dict[str, Any]
    ) -> BcShippingAddress:
        body, _ = await self._call(
            "PUT", f"/v2/orders/{order_id}/shipping_addresses/{address_id}", idempotent=True, json=changes
        )
        return BcShippingAddress.model_validate(body)

    async def order_metafields(self, order_id: int) -> list[BcMetafield]:
        data = await self._data("GET", f"/v3/orders/{order_id}/metafields", idempotent=True)
        return [BcMetafield.model_validate(m) for m in data or []]

    # ------------------------------------------------------------------ refunds (V3 payment actions)

    async def refund_quote(self, order_id: int, items: Sequence[dict[str, Any]]) -> BcRefundQuote:
        """What refunding these items pays back, and through which refund methods (nothing moves)."""
        data = await self._data(
            "POST",
            f"/v3/orders/{order_id}/payment_actions/refund_quotes",
            idempotent=True,  # a quote changes nothing
            json={"items": list(items)},
        )
        return BcRefundQuote.model_validate(data)

    async def create_refund(
        self, order_id: int, items: Sequence[dict[str, Any]], payments: Sequence[dict[str, Any]]
    ) -> BcRefund:
        data = await self._data(
            "POST",
            f"/v3/orders/{order_id}/payment_actions/refunds",
            idempotent=False,
            json={"items": list(items), "payments": list(payments)},
        )
        return BcRefund.model_validate(data)

    async def list_refunds(self, order_id: int) -> list[BcRefund]:
        data = await self._data("GET", f"/v3/orders/{order_id}/payment_actions/refunds", idempotent=True)
        return [BcRefund.model_validate(r) for r in data or []]

    # ------------------------------------------------------------------ catalog and hooks (V3)

    async def get_product(self, product_id: int) -> BcProduct:
        data = await self._data(
            "GET", f"/v3/catalog/products/{product_id}", idempotent=True, params={"include": "custom_fields"}
        )
        return BcProduct.model_validate(data)

    async def list_hooks(self) -> list[BcHook]:
        return [BcHook.model_validate(h) for h in await self._data("GET", "/v3/hooks", idempotent=True) or []]

    async def create_hook(
        self, scope: str, destination: str, *, headers: dict[str, str], is_active: bool = True
    ) -> BcHook:
        """Subscribe `destination` to `scope`; BigCommerce sends `headers` with every delivery (the
        shared secret the receiver checks: deliveries are not signed)."""
        data = await self._data(
            "POST",
            "/v3/hooks",
            idempotent=False,
            json={"scope": scope, "destination": destination, "is_active": is_active, "headers": headers},
        )
        return BcHook.model_validate(data)

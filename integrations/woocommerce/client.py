"""WooCommerce REST API v3 client (`https://STORE/wp-json/wc/v3/`), over httpx.

Authentication is the store's consumer key and secret as HTTP Basic, which WooCommerce accepts
only over HTTPS: `woocommerce_http_client` refuses a plain `http://` store unless the caller says
it is the sandbox. Errors arrive in the WordPress REST shape `{"code", "message", "data":
{"status"}}` and are mapped to the shared typed errors (`integrations._http`). Lists are paged
with `page` / `per_page` (at most 100) and the `X-WP-Total` / `X-WP-TotalPages` headers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from decimal import Decimal
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
    parse_retry_after,
    retrying,
    transport_error,
    with_retries,
)
from integrations.woocommerce.models import (
    MAX_PER_PAGE,
    WooNote,
    WooOrder,
    WooProduct,
    WooRefund,
)

VENDOR = "woocommerce"
AUTH_SETTING = "WOOCOMMERCE_CONSUMER_KEY"
API_PATH = "/wp-json/wc/v3"
TOTAL_HEADER = "X-WP-Total"
TOTAL_PAGES_HEADER = "X-WP-TotalPages"
# WordPress answers a rejected consumer key with 401 and one of these codes.
AUTH_CODES = {"woocommerce_rest_authentication_error", "woocommerce_rest_cannot_view", "rest_forbidden"}


class InsecureStoreURL(ValueError):
    """A real store's URL is plain http: the consumer secret would travel in clear text."""


def api_url(store_url: str) -> str:
    """`https://shop.example` (or one already ending in /wp-json/wc/v3) -> the v3 API root."""
    base = store_url.rstrip("/")
    return base if base.endswith(API_PATH) else base + API_PATH


def woocommerce_http_client(
    store_url: str,
    consumer_key: str,
    consumer_secret: str,
    *,
    allow_http: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The HTTP client for one store. `allow_http` only for the sandbox (SANDBOX_MODE=true)."""
    url = api_url(store_url)
    if not url.startswith("https://") and not allow_http:
        raise InsecureStoreURL(
            "WOOCOMMERCE_URL must start with https:// for a real store: WooCommerce's consumer key and "
            "secret are sent as HTTP Basic credentials"
        )
    return build_async_client(
        url,
        headers={"Accept": "application/json"},
        auth=httpx.BasicAuth(consumer_key, consumer_secret),
        transport=transport,
    )


def order_number_digits(number: str | int) -> str | None:
    text = str(number).strip().removeprefix("#").strip()
    return text if re.fullmatch(r"[0-9]{1,18}", text) else None


def raise_for_wp_error(response: httpx.Response) -> None:
    """Map a WordPress REST error (`code`, `message`, `data.status`) to the typed errors."""
    status = response.status_code
    if status < 400:
        return
    code, message = "", response.reason_phrase
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        body = None
    if isinstance(body, dict):
        code = str(body.get("code") or "")
        message = str(body.get("message") or message)[:300]
    text = f"HTTP {status} {code or '-'} on {response.request.method} {response.request.url.path}: {message}"
    if status in (401, 403) or code in AUTH_CODES:
        raise AuthError(VENDOR, text, setting=AUTH_SETTING, status=status)
    if status == 404:
        raise NotFound(VENDOR, text, status=status)
    if status == 429:
        raise RateLimited(VENDOR, text, retry_after=parse_retry_after(response.headers.get("Retry-After")))
    raise VendorError(VENDOR, text, status=status, retryable=status >= 500)


class WooCommerceClient:
    """The calls the adapter needs, typed. Reads are retried; writes are made safe by the adapter
    (read-before-write) and sent once."""

    def __init__(self, http: httpx.AsyncClient, *, retry_policy: RetryPolicyFactory | None = None) -> None:
        self._http = http
        self._policy_factory: RetryPolicyFactory = retry_policy or retrying

    async def _call(
        self, method: str, path: str, *, idempotent: bool, **kwargs: Any
    ) -> tuple[Any, httpx.Response]:
        async def once() -> tuple[Any, httpx.Response]:
            try:
                response = await self._http.request(method, path, **kwargs)
            except httpx.HTTPError as exc:
                raise transport_error(VENDOR, exc) from None
            raise_for_wp_error(response)
            return (json_body(VENDOR, response) if response.content else None), response

        return await with_retries(once, idempotent=idempotent, policy=self._policy_factory())

    async def _list(self, path: str, params: dict[str, Any], *, limit: int | None = None) -> list[Any]:
        """Every page of a list (up to `limit` items), following `X-WP-TotalPages`."""
        per_page = min(MAX_PER_PAGE, limit or MAX_PER_PAGE)
        items: list[Any] = []
        page = 1
        while True:
            body, response = await self._call(
                "GET", path, idempotent=True, params={**params, "page": page, "per_page": per_page}
            )
            if not isinstance(body, list):
                raise VendorError(VENDOR, f"expected a list from {path}")
            items.extend(body)
            if limit is not None and len(items) >= limit:
                return items[:limit]
            try:
                pages = int(response.headers.get(TOTAL_PAGES_HEADER, "1"))
            except ValueError:
                pages = 1
            if page >= pages or not body:
                return items
            page += 1

    # ------------------------------------------------------------------ orders

    async def get_order(self, order_id: int) -> WooOrder:
        body, _ = await self._call("GET", f"/orders/{order_id}", idempotent=True)
        return WooOrder.model_validate(body)

    async def find_order_by_number(self, number: str | int) -> WooOrder | None:
        """The order whose `number` is exactly this. WooCommerce numbers orders by id unless a
        plugin renumbers them, so the id is tried first, then a search."""
        digits = order_number_digits(number)
        if digits is None:
            return None
        try:
            order = await self.get_order(int(digits))
        except NotFound:
            order = None
        if order is not None and order.number == digits and order.parent_id == 0:
            return order
        found = await self._list("/orders", {"search": digits}, limit=MAX_PER_PAGE)
        for raw in found:
            candidate = WooOrder.model_validate(raw)
            if candidate.number == digits:
                return candidate
        return None

    async def orders_by_email(self, email: str, *, limit: int = 5) -> list[WooOrder]:
        """The orders billed to `email`, newest first (WooCommerce's search matches billing email;
        the match is then made exact)."""
        wanted = email.strip().lower()
        raw = await self._list("/orders", {"search": wanted, "orderby": "date", "order": "desc"})
        orders = [WooOrder.model_validate(o) for o in raw]
        return [o for o in orders if (o.billing.email or "").lower() == wanted][:limit]

    async def update_order(self, order_id: int, changes: dict[str, Any]) -> WooOrder:
        body, _ = await self._call("PUT", f"/orders/{order_id}", idempotent=True, json=changes)
        return WooOrder.model_validate(body)

    # ------------------------------------------------------------------ notes

    async def list_notes(self, order_id: int) -> list[WooNote]:
        body, _ = await self._call(
            "GET", f"/orders/{order_id}/notes", idempotent=True, params={"type": "any"}
        )
        return [WooNote.model_validate(n) for n in body or []]

    async def add_note(self, order_id: int, note: str, *, customer_note: bool = False) -> WooNote:
        body, _ = await self._call(
            "POST",
            f"/orders/{order_id}/notes",
            idempotent=False,
            json={"note": note, "customer_note": customer_note},
        )
        return WooNote.model_validate(body)

    # ------------------------------------------------------------------ refunds

    async def list_refunds(self, order_id: int) -> list[WooRefund]:
        raw = await self._list(f"/orders/{order_id}/refunds", {})
        return [WooRefund.model_validate(r) for r in raw]

    async def create_refund(
        self,
        order_id: int,
        *,
        amount: Decimal,
        reason: str,
        line_items: Sequence[dict[str, Any]],
        api_refund: bool = True,
    ) -> WooRefund:
        """`POST /orders/{id}/refunds`. With `api_refund` the gateway pays the money back; a gateway
        that cannot is refused by WooCommerce (a `VendorError` saying so), nothing is recorded."""
        body, _ = await self._call(
            "POST",
            f"/orders/{order_id}/refunds",
            idempotent=False,
            json={
                "amount": str(amount),
                "reason": reason,
                "line_items": list(line_items),
                "api_refund": api_refund,
            },
        )
        return WooRefund.model_validate(body)

    # ------------------------------------------------------------------ products

    async def get_product(self, product_id: int) -> WooProduct:
        body, _ = await self._call("GET", f"/products/{product_id}", idempotent=True)
        return WooProduct.model_validate(body)

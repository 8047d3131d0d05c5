"""Shopify Admin REST client: orders, customers, products, refunds, notes, webhooks, access scopes.

The client is handed an `httpx.AsyncClient` built by `shopify_http_client` (base URL with the API
version, token header, timeout, optional transport), so production, the in-process sandbox, mocks
and cassettes all go through the same code. The API version is a setting (`SHOPIFY_API_VERSION`);
when Shopify answers with another one (it serves a retired version with its oldest supported
one, see `models.served_api_version`) the client says so in the log, once.

Retries: reads go through the shared policy. Writes are never blindly repeated; each is a unit
of read-before-write that the policy may repeat as a whole: a note is appended only if its text
is not already there, a refund carries a unique marker in its note and is looked up before it is
sent again, a cancellation re-reads the order, a webhook is looked up before it is created.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying

from integrations._http import (
    RetryPolicyFactory,
    VendorError,
    build_async_client,
    json_body,
    raise_for_status,
    retrying,
    transport_error,
    with_retries,
)
from integrations.shopify.models import (
    API_VERSION_HEADER,
    RefundCalculation,
    ShopifyAccessScope,
    ShopifyCancellation,
    ShopifyCustomer,
    ShopifyOrder,
    ShopifyProduct,
    ShopifyRefund,
    ShopifyTransaction,
    ShopifyWebhook,
)

VENDOR = "shopify"
AUTH_SETTING = "SHOPIFY_ACCESS_TOKEN"
# The newest stable version on 2026-12-03 (supported until at least 2027-10); a setting overrides it.
DEFAULT_API_VERSION = "2026-10"
ACCESS_TOKEN_HEADER = "X-Shopify-Access-Token"  # noqa: S105 (a header name)
CALL_LIMIT_HEADER = "X-Shopify-Shop-Api-Call-Limit"
REFUND_MARKER_PREFIX = "support-agent:"
MAX_PAGE_SIZE = 250
MAX_PAGES = 20

M = TypeVar("M", bound=BaseModel)

logger = logging.getLogger("integrations.shopify")

_TRAILING_VERSION = re.compile(r"/(?:\d{4}-\d{2}|unstable)/?$")


def admin_api_root(api_base: str) -> str:
    """`https://shop.myshopify.com/admin/api`, also from a base that still names a version."""
    return _TRAILING_VERSION.sub("", api_base.rstrip("/"))


def admin_api_url(api_base: str, api_version: str) -> str:
    """The versioned REST base: `https://shop.myshopify.com/admin/api/2026-10/`."""
    return f"{admin_api_root(api_base)}/{api_version}/"


def shopify_http_client(
    api_base: str,
    access_token: str,
    *,
    api_version: str = DEFAULT_API_VERSION,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The HTTP client for one store: api_base=https://shop.myshopify.com/admin/api (a version at
    its end, as older settings wrote it, gives way to `api_version`)."""
    return build_async_client(
        admin_api_url(api_base, api_version),
        headers={ACCESS_TOKEN_HEADER: access_token, "Accept": "application/json"},
        transport=transport,
    )


def order_number_digits(number: str | int) -> str | None:
    """'#1234', '1234', 1234 -> '1234'; anything else (letters, empty, negative) -> None."""
    if isinstance(number, bool):
        return None
    text = str(number).strip().removeprefix("#").strip()
    return text if re.fullmatch(r"[0-9]{1,18}", text) else None


def _flatten_errors(errors: Any) -> str:
    """Shopify's `{"errors": {"base": ["..."], "field": ["..."]}}` as one readable sentence."""
    if isinstance(errors, dict):
        parts = []
        for field, value in errors.items():
            text = "; ".join(str(v) for v in value) if isinstance(value, list) else str(value)
            parts.append(text if field == "base" else f"{field}: {text}")
        return "; ".join(parts)
    if isinstance(errors, list):
        return "; ".join(str(e) for e in errors)
    return str(errors)


def _says_already_cancelled(message: str) -> bool:
    text = message.lower()
    return "already" in text and ("cancelled" in text or "canceled" in text)


class ShopifyClient:
    """Async Shopify Admin REST client. Raises only the typed errors of `integrations._http`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        retry_policy: RetryPolicyFactory | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._http = http
        self._policy_factory: RetryPolicyFactory = retry_policy or retrying
        self._clock = clock or (lambda: datetime.now(UTC))
        self.served_api_version: str | None = None
        """The version Shopify last answered with (`X-Shopify-API-Version`)."""

    def now(self) -> datetime:
        """The client's clock (the world's in the sandbox)."""
        return self._clock()

    @property
    def api_version(self) -> str:
        """The version this client asks for (the last segment of its base URL)."""
        return self._http.base_url.path.rstrip("/").rsplit("/", 1)[-1]

    def _note_version(self, response: httpx.Response) -> None:
        served = response.headers.get(API_VERSION_HEADER)
        if not served or served == self.served_api_version:
            return
        self.served_api_version = served
        if served != self.api_version:
            logger.warning(
                "Shopify answered with API version %s, not the %s asked for: Shopify no longer supports "
                "%s and serves it with its oldest supported version. Set SHOPIFY_API_VERSION to a "
                "supported version.",
                served,
                self.api_version,
                self.api_version,
            )

    # ------------------------------------------------------------------ plumbing

    def _policy(self) -> AsyncRetrying:
        return self._policy_factory()

    async def _send(
        self, method: str, url: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> tuple[Any, httpx.Response]:
        """One request, no retries: typed errors, decoded JSON body (None when empty)."""
        try:
            response = await self._http.request(method, url, params=params, json=json)
        except httpx.HTTPError as exc:
            raise transport_error(VENDOR, exc) from None
        self._note_version(response)
        if response.status_code in (400, 422):
            # Shopify explains rejections in a field -> messages dict; say it plainly.
            try:
                detail = _flatten_errors(response.json().get("errors"))
            except (ValueError, AttributeError):
                detail = response.text[:200]
            raise VendorError(
                VENDOR,
                f"HTTP {response.status_code} on {method} {response.request.url.path}: {detail}",
                status=response.status_code,
            )
        raise_for_status(VENDOR, response, auth_setting=AUTH_SETTING)
        if not response.content:
            return None, response
        return json_body(VENDOR, response), response

    async def _read(self, url: str, params: dict[str, Any] | None = None) -> tuple[Any, httpx.Response]:
        """A GET (or other safe call) under the retry policy."""
        return await with_retries(
            lambda: self._send("GET", url, params=params), idempotent=True, policy=self._policy()
        )

    async def _retried_unit(self, unit: Callable[[bool], Awaitable[M]]) -> M:
        """Run a read-before-write unit under the retry policy; `unit(retry)` knows if it is a retry."""
        attempts = 0

        async def once() -> M:
            nonlocal attempts
            attempts += 1
            return await unit(attempts > 1)

        return await with_retries(once, idempotent=True, policy=self._policy())

    @staticmethod
    def _field(body: Any, key: str, url: str) -> Any:
        if not isinstance(body, dict) or key not in body:
            raise VendorError(VENDOR, f"unexpected response to {url}: no '{key}' in the body")
        return body[key]

    @staticmethod
    def _parse(model: type[M], data: Any, what: str) -> M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in error["loc"]) for error in exc.errors()[:3])
            raise VendorError(VENDOR, f"unexpected {what} payload (fields: {fields})") from None

    def _parse_list(self, model: type[M], data: Any, what: str) -> list[M]:
        if not isinstance(data, list):
            raise VendorError(VENDOR, f"unexpected {what} payload: not a list")
        return [self._parse(model, item, what) for item in data]

    async def _iter_pages(self, url: str, params: dict[str, Any], key: str) -> AsyncIterator[list[Any]]:
        """Each page of a list, following `Link: <...page_info=...>; rel="next"` (at most MAX_PAGES)."""
        next_url: str | None = url
        next_params: dict[str, Any] | None = params
        for _ in range(MAX_PAGES):
            if next_url is None:
                return
            body, response = await self._read(next_url, next_params)
            page = self._field(body, key, url)
            if not isinstance(page, list):
                raise VendorError(VENDOR, f"unexpected response to {url}: '{key}' is not a list")
            yield page
            # The next link carries the filters inside its opaque cursor: follow it as given.
            next_url = response.links.get("next", {}).get("url")
            next_params = None

    async def _pages(self, url: str, params: dict[str, Any], key: str, *, max_items: int) -> list[Any]:
        """Records of a paginated list, up to `max_items`."""
        items: list[Any] = []
        async for page in self._iter_pages(url, params, key):
            items.extend(page)
            if len(items) >= max_items:
                break
        return items[:max_items]

    # ------------------------------------------------------------------ orders

    async def get_order(self, order_id: int) -> ShopifyOrder:
        """The order by id (`NotFound` when the store has no such order)."""
        url = f"orders/{int(order_id)}.json"
        body, _ = await self._read(url)
        return self._parse(ShopifyOrder, self._field(body, "order", url), "order")

    async def find_order_by_number(self, number: str | int) -> ShopifyOrder | None:
        """The order shoppers call '#1234' (also '1234' or 1234); None when absent or not a number.

        Shopify's `name` filter matches loosely (prefixes), so only an exact `order_number` counts.
        """
        digits = order_number_digits(number)
        if digits is None:
            return None
        wanted = int(digits)
        params = {"name": digits, "status": "any", "limit": MAX_PAGE_SIZE}
        async for page in self._iter_pages("orders.json", params, "orders"):
            for order in self._parse_list(ShopifyOrder, page, "order"):
                if order.order_number == wanted:
                    return order
        return None

    async def orders_by_email(self, email: str, limit: int = 10) -> list[ShopifyOrder]:
        """The customer's orders (any status), newest first, at most `limit`."""
        email = email.strip()
        if not email or limit <= 0:
            return []
        params = {"email": email, "status": "any", "limit": min(limit, MAX_PAGE_SIZE)}
        data = await self._pages("orders.json", params, "orders", max_items=limit)
        orders = self._parse_list(ShopifyOrder, data, "order")
        # Keep only exact matches: never show one shopper another's orders.
        orders = [o for o in orders if (o.email or "").lower() == email.lower()]
        orders.sort(
            key=lambda o: (o.created_at is not None, o.created_at or datetime.min.replace(tzinfo=UTC), o.id)
        )
        return list(reversed(orders))[:limit]

    async def oldest_visible_order(self) -> ShopifyOrder | None:
        """The oldest order this token can see (`since_id` lists by id, oldest first), or None.

        Without `read_all_orders` that is the oldest of the last 60 days; order numbers grow with
        time, so a number below its number belongs to an order older than the token may read.
        """
        params = {"status": "any", "since_id": 1, "limit": 1, "fields": "id,name,order_number,created_at"}
        body, _ = await self._read("orders.json", params)
        orders = self._parse_list(ShopifyOrder, self._field(body, "orders", "orders.json"), "order")
        return orders[0] if orders else None

    async def list_transactions(self, order_id: int) -> list[ShopifyTransaction]:
        url = f"orders/{int(order_id)}/transactions.json"
        body, _ = await self._read(url)
        # Old API versions answered with a bare list.
        data = body if isinstance(body, list) else self._field(body, "transactions", url)
        return self._parse_list(ShopifyTransaction, data, "transaction")

    async def list_refunds(self, order_id: int) -> list[ShopifyRefund]:
        url = f"orders/{int(order_id)}/refunds.json"
        body, _ = await self._read(url)
        return self._parse_list(ShopifyRefund, self._field(body, "refunds", url), "refund")

    async def append_order_note(self, order_id: int, text: str) -> ShopifyOrder:
        """Add a timestamped line to the order note, keeping what is there (the API replaces it).

        Safe to retry: when `text` is already in the note, nothing is written again.
        """
        text = text.strip()
        line = f"[{self._clock().strftime('%Y-%m-%d %H:%M UTC')}] {text}"
        url = f"orders/{int(order_id)}.json"

        async def unit(_: bool) -> ShopifyOrder:
            body, _response = await self._send("GET", url)
            order = self._parse(ShopifyOrder, self._field(body, "order", url), "order")
            current = order.note or ""
            if not text or text in current:
                return order
            note = f"{current.rstrip()}\n{line}" if current.strip() else line
            body, _response = await self._send(
                "PUT", url, json={"order": {"id": int(order_id), "note": note}}
            )
            return self._parse(ShopifyOrder, self._field(body, "order", url), "order")

        return await self._retried_unit(unit)

    async def update_shipping_address(self, order_id: int, address: dict[str, Any]) -> ShopifyOrder:
        """Change where an unfulfilled order ships (`VendorError` 422 once fulfilled).

        Retried: the PUT sets absolute values, so repeating it changes nothing more.
        """
        url = f"orders/{int(order_id)}.json"
        payload = {"order": {"id": int(order_id), "shipping_address": address}}
        body, _ = await with_retries(
            lambda: self._send("PUT", url, json=payload), idempotent=True, policy=self._policy()
        )
        return self._parse(ShopifyOrder, self._field(body, "order", url), "order")

    async def cancel_order(
        self, order_id: int, *, reason: str = "customer", refund: bool, notify: bool = False
    ) -> ShopifyCancellation:
        """Cancel an unfulfilled order, refunding everything still refundable when `refund`.

        Shopify accepts a cancellation and carries it out in a background job: its answer (a notice
        and the order) is the success, even when the order still shows `cancelled_at: null`. A
        fulfilled or already cancelled order is a `VendorError` (422) saying so. After an ambiguous
        failure (timeout, 5xx) the order is re-read; if it does not show the cancellation yet, the
        cancel is posted again, and Shopify's "already cancelled" answer to that repeat means the
        lost attempt went through: a success, never a failure.
        """
        url = f"orders/{int(order_id)}/cancel.json"
        payload: dict[str, Any] = {"reason": reason, "email": notify, "restock": True}
        calculation = (
            await self.calculate_refund(order_id, line_items=None, shipping_full=True) if refund else None
        )
        if calculation is not None and (calculation.transactions or calculation.refund_line_items):
            payload["refund"] = {
                "note": "Order cancelled",
                "notify": notify,
                "shipping": {"full_refund": True},
                "refund_line_items": [
                    {"line_item_id": item.line_item_id, "quantity": item.quantity, "restock_type": "cancel"}
                    for item in calculation.refund_line_items
                ],
                "transactions": self._refund_transactions(calculation, None),
            }

        async def unit(retry: bool) -> ShopifyCancellation:
            if retry:
                order = await self.get_order_once(order_id)
                if order.is_cancelled:
                    return ShopifyCancellation(order=order, by_earlier_attempt=True)
            try:
                body, _ = await self._send("POST", url, json=payload)
            except VendorError as exc:
                if retry and exc.status == 422 and _says_already_cancelled(str(exc)):
                    order = await self.get_order_once(order_id)
                    return ShopifyCancellation(order=order, by_earlier_attempt=True)
                raise
            self._field(body, "order", url)
            return self._parse(ShopifyCancellation, body, "cancellation")

        return await self._retried_unit(unit)

    async def get_order_once(self, order_id: int) -> ShopifyOrder:
        """`get_order` without its own retries (for use inside a retried unit)."""
        url = f"orders/{int(order_id)}.json"
        body, _ = await self._send("GET", url)
        return self._parse(ShopifyOrder, self._field(body, "order", url), "order")

    # ------------------------------------------------------------------ refunds

    async def calculate_refund(
        self,
        order_id: int,
        *,
        line_items: Sequence[tuple[int, int]] | None = None,
        shipping_full: bool = False,
    ) -> RefundCalculation:
        """Ask Shopify what to refund, and from which payments (several for split payments).

        `line_items` is `(line_item_id, quantity)` pairs; None means every unit still refundable,
        `[]` means no items (a refund by amount). `shipping_full` adds the remaining shipping.
        Read-only on Shopify's side, so it is retried like a read.
        """
        if line_items is None:
            order = await self.get_order(order_id)
            line_items = sorted(order.refundable_quantities().items())
        refund: dict[str, Any] = {
            "refund_line_items": [
                {"line_item_id": int(line_id), "quantity": int(quantity), "restock_type": "no_restock"}
                for line_id, quantity in line_items
            ]
        }
        if shipping_full:
            refund["shipping"] = {"full_refund": True}
        url = f"orders/{int(order_id)}/refunds/calculate.json"
        body, _ = await with_retries(
            lambda: self._send("POST", url, json={"refund": refund}), idempotent=True, policy=self._policy()
        )
        calculation = self._parse(RefundCalculation, self._field(body, "refund", url), "refund calculation")
        return calculation.model_copy(update={"order_id": int(order_id)})

    @staticmethod
    def _refund_transactions(calculation: RefundCalculation, amount: Decimal | None) -> list[dict[str, Any]]:
        """Suggested transactions as `kind: refund`; a custom `amount` is split over them in order."""
        chosen: list[tuple[ShopifyTransaction, Decimal]] = []
        if amount is None:
            chosen = [(t, t.amount) for t in calculation.transactions if t.amount > 0]
        else:
            left = amount
            for suggestion in calculation.transactions:
                cap = (
                    suggestion.maximum_refundable
                    if suggestion.maximum_refundable is not None
                    else suggestion.amount
                )
                take = min(cap, left)
                if take > 0:
                    chosen.append((suggestion, take))
                    left -= take
            if left > 0:
                raise VendorError(
                    VENDOR,
                    f"refund of {amount} exceeds the {calculation.maximum_refundable} still refundable "
                    f"on order {calculation.order_id}",
                    status=422,
                )
        return [
            {"parent_id": t.parent_id, "amount": f"{value:.2f}", "kind": "refund", "gateway": t.gateway}
            for t, value in chosen
        ]

    async def _find_refund(self, order_id: int, marker: str) -> ShopifyRefund | None:
        url = f"orders/{int(order_id)}/refunds.json"
        body, _ = await self._send("GET", url)
        for refund in self._parse_list(ShopifyRefund, self._field(body, "refunds", url), "refund"):
            if marker in (refund.note or ""):
                return refund
        return None

    async def create_refund(
        self,
        order_id: int,
        calculation: RefundCalculation,
        *,
        note: str,
        notify: bool = False,
        amount: Decimal | None = None,
        idempotency_key: str | None = None,
    ) -> ShopifyRefund:
        """Refund what `calculation` suggested, over every payment it named (or a custom `amount`).

        The note carries a unique marker (`[support-agent:<key>]`, the caller's idempotency key
        when given): before any retry, and before the first try when a key is given, the order's
        refunds are read and one already carrying the marker is returned instead of refunding twice.
        """
        if amount is not None and amount <= 0:
            raise VendorError(VENDOR, f"refund amount must be positive, got {amount}", status=422)
        transactions = self._refund_transactions(calculation, amount)
        shipping = calculation.shipping.amount if amount is None else Decimal("0")
        if not transactions and not calculation.refund_line_items:
            raise VendorError(VENDOR, f"nothing left to refund on order {order_id}", status=422)
        marker = f"[{REFUND_MARKER_PREFIX}{idempotency_key or uuid.uuid4().hex[:16]}]"
        refund: dict[str, Any] = {
            "notify": notify,
            "note": f"{note.strip()} {marker}".strip(),
            "refund_line_items": [
                {
                    "line_item_id": item.line_item_id,
                    "quantity": item.quantity,
                    "restock_type": item.restock_type or "no_restock",
                    **({"location_id": item.location_id} if item.location_id else {}),
                }
                for item in calculation.refund_line_items
            ],
            "transactions": transactions,
        }
        if calculation.currency:
            refund["currency"] = calculation.currency
        if shipping > 0:
            refund["shipping"] = {"amount": f"{shipping:.2f}"}
        url = f"orders/{int(order_id)}/refunds.json"

        async def unit(retry: bool) -> ShopifyRefund:
            if retry or idempotency_key:
                existing = await self._find_refund(order_id, marker)
                if existing is not None:
                    return existing
            body, _ = await self._send("POST", url, json={"refund": refund})
            return self._parse(ShopifyRefund, self._field(body, "refund", url), "refund")

        return await self._retried_unit(unit)

    # ------------------------------------------------------------------ customers and products

    async def get_customer(self, customer_id: int) -> ShopifyCustomer:
        url = f"customers/{int(customer_id)}.json"
        body, _ = await self._read(url)
        return self._parse(ShopifyCustomer, self._field(body, "customer", url), "customer")

    async def find_customer_by_email(self, email: str) -> ShopifyCustomer | None:
        """The customer whose email is exactly `email` (case-insensitive), or None."""
        email = email.strip()
        if not email:
            return None
        url = "customers/search.json"
        body, _ = await self._read(url, {"query": f"email:{email}", "limit": 10})
        for customer in self._parse_list(ShopifyCustomer, self._field(body, "customers", url), "customer"):
            if (customer.email or "").lower() == email.lower():
                return customer
        return None

    async def get_product(self, product_id: int) -> ShopifyProduct:
        url = f"products/{int(product_id)}.json"
        body, _ = await self._read(url)
        return self._parse(ShopifyProduct, self._field(body, "product", url), "product")

    # ------------------------------------------------------------------ access scopes

    def _admin_url(self, path: str) -> str:
        """An unversioned Admin URL (`/admin/oauth/...`) beside the versioned base `/admin/api/{v}/`."""
        base = str(self._http.base_url)
        root = base[: base.rindex("/api/")] if "/api/" in base else base.rstrip("/")
        return f"{root}/{path}"

    async def access_scopes(self) -> list[str]:
        """The scopes granted to the token (`GET /admin/oauth/access_scopes.json`, not versioned)."""
        url = self._admin_url("oauth/access_scopes.json")
        body, _ = await self._read(url)
        scopes = self._parse_list(ShopifyAccessScope, self._field(body, "access_scopes", url), "access scope")
        return [scope.handle for scope in scopes]

    # ------------------------------------------------------------------ webhooks

    async def list_webhooks(self, *, topic: str | None = None) -> list[ShopifyWebhook]:
        params: dict[str, Any] = {"limit": MAX_PAGE_SIZE}
        if topic:
            params["topic"] = topic
        data = await self._pages("webhooks.json", params, "webhooks", max_items=1000)
        return self._parse_list(ShopifyWebhook, data, "webhook")

    async def register_webhook(self, topic: str, address: str) -> ShopifyWebhook:
        """Subscribe `address` to `topic` (e.g. orders/updated); a no-op when already subscribed."""
        url = "webhooks.json"

        async def existing() -> ShopifyWebhook | None:
            body, _ = await self._send("GET", url, params={"topic": topic, "limit": MAX_PAGE_SIZE})
            for hook in self._parse_list(ShopifyWebhook, self._field(body, "webhooks", url), "webhook"):
                if hook.topic == topic and hook.address == address:
                    return hook
            return None

        async def unit(_: bool) -> ShopifyWebhook:
            found = await existing()
            if found is not None:
                return found
            payload = {"webhook": {"topic": topic, "address": address, "format": "json"}}
            body, _response = await self._send("POST", url, json=payload)
            return self._parse(ShopifyWebhook, self._field(body, "webhook", url), "webhook")

        return await self._retried_unit(unit)

"""Emulator of the Shopify Admin REST API (routes relative to `/shopify/admin/api/{version}`).

It answers as Shopify does: resources wrapped in their name (`{"order": ...}`, `{"orders": [...]}`),
`{"errors": "Not Found"}` on 404, `{"errors": {"base": [...]}}` on 422, a
`X-Shopify-Shop-Api-Call-Limit: n/40` header from a leaky bucket (40 calls, leaking 2 per second
of real time; over the limit a 429 with `Retry-After: 2.0`), cursor pagination through the `Link`
header with an opaque `page_info`, and the refund rules: a calculation suggests one refund
transaction per payment with money left on it, a refund may not exceed what a payment has left.

API versions follow Shopify's rule at the world's clock (`integrations.shopify.models`): the four
supported stable versions, the release candidate and `unstable` are served as asked; any other
version is served by the oldest supported one, as Shopify "falls forward" rather than refusing;
every response names the version that served it in `X-Shopify-API-Version`. A path segment that
is not a version at all is a 404.

The bucket lives on the app (`app.state`), not in the World: it is traffic, not store state, and
a world reset must not refill it. Tests can swap it with `configure_call_limit`.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import math
import re
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.background import BackgroundTask

from integrations.shopify.models import (
    API_VERSION_HEADER,
    ORDER_HISTORY_DAYS,
    READ_ALL_ORDERS,
    WEBHOOK_TOPICS,
    granted_scopes,
    scope_refusal,
    served_api_version,
)
from sandbox import shopify_webhooks as webhooks
from sandbox.http import WorldDep, require_shopify
from sandbox.seed import money
from sandbox.world import JSON, World

CALL_LIMIT_HEADER = "X-Shopify-Shop-Api-Call-Limit"
THROTTLED = (
    "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
)
DEFAULT_LIMIT = 50
MAX_LIMIT = 250
ZERO = Decimal("0")
CENT = Decimal("0.01")
CANCEL_REASONS = {"customer", "inventory", "fraud", "declined", "staff", "other"}
ADDRESS_FIELDS = (
    "first_name", "last_name", "name", "company", "address1", "address2", "city", "province",
    "province_code", "zip", "country", "country_code", "phone",
)  # fmt: skip


# --------------------------------------------------------------------------- errors


class ShopifyError(Exception):
    """A Shopify-shaped failure: rendered as `{"errors": ...}` with the call-limit header."""

    def __init__(self, status: int, errors: Any, *, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.errors = errors
        self.headers = headers
        super().__init__(str(errors))


def not_found() -> ShopifyError:
    return ShopifyError(404, "Not Found")


def unprocessable(message: str, field_name: str = "base") -> ShopifyError:
    return ShopifyError(422, {field_name: [message]})


def bad_request(field_name: str, message: str = "Required parameter missing or invalid") -> ShopifyError:
    return ShopifyError(400, {field_name: message})


# --------------------------------------------------------------------------- call limit


@dataclass
class CallLimitBucket:
    """Shopify's leaky bucket: each call adds one, `leak_per_second` drain away, full means 429."""

    capacity: int = 40
    leak_per_second: float = 2.0
    clock: Callable[[], float] = time.monotonic
    enabled: bool = True
    level: float = 0.0
    updated: float | None = field(default=None)

    def take(self) -> tuple[bool, int]:
        """(allowed, calls in the bucket after this one) — the `n` of `n/40`."""
        if not self.enabled:
            return True, 1
        now = self.clock()
        if self.updated is not None:
            self.level = max(0.0, self.level - (now - self.updated) * self.leak_per_second)
        self.updated = now
        if self.level + 1 > self.capacity:
            return False, self.capacity
        self.level += 1
        return True, math.ceil(self.level - 1e-9)


def configure_call_limit(
    app: FastAPI,
    *,
    capacity: int = 40,
    leak_per_second: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
    enabled: bool = True,
) -> CallLimitBucket:
    """Replace the app's Shopify bucket (a fake clock for tests; `enabled=False` for bulk evals)."""
    bucket = CallLimitBucket(capacity=capacity, leak_per_second=leak_per_second, clock=clock, enabled=enabled)
    app.state.shopify_call_limit = bucket
    return bucket


def _bucket(request: Request) -> CallLimitBucket:
    bucket = getattr(request.app.state, "shopify_call_limit", None)
    if not isinstance(bucket, CallLimitBucket):
        bucket = configure_call_limit(request.app)
    return bucket


async def charge_call_limit(request: Request) -> None:
    """Count this call against the bucket (after authentication, as Shopify counts per app)."""
    bucket = _bucket(request)
    allowed, level = bucket.take()
    request.state.shopify_call_limit = f"{level}/{bucket.capacity}"
    if not allowed:
        raise ShopifyError(429, THROTTLED, headers={"Retry-After": "2.0"})


async def resolve_api_version(request: Request, api_version: str, world: WorldDep) -> None:
    """The version serving this call (Shopify's fall-forward rule); 404 when the segment is no version."""
    served = served_api_version(api_version, world.now())
    if served is None:
        raise not_found()
    request.state.shopify_api_version = served


class ShopifyRoute(APIRoute):
    """Renders `ShopifyError` and parameter errors Shopify's way; stamps the call-limit and
    API-version headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except ShopifyError as exc:
                response = JSONResponse({"errors": exc.errors}, status_code=exc.status, headers=exc.headers)
            except RequestValidationError as exc:
                errors = {".".join(str(p) for p in e["loc"][1:]) or "request": e["msg"] for e in exc.errors()}
                response = JSONResponse({"errors": errors}, status_code=400)
            level = getattr(request.state, "shopify_call_limit", None)
            if level is not None:
                response.headers[CALL_LIMIT_HEADER] = level
            version = getattr(request.state, "shopify_api_version", None)
            if version is not None:
                response.headers[API_VERSION_HEADER] = version
            events = webhooks.pending(request)
            if events and response.status_code < 400:
                # As on Shopify, subscribers hear of the change after the call is answered.
                world = request.app.state.world
                sender = webhooks.sender_of(request.app.state)
                response.background = BackgroundTask(webhooks.deliver, world, sender, events)
            return response

        return handle


router = APIRouter(
    route_class=ShopifyRoute,
    dependencies=[Depends(resolve_api_version), Depends(require_shopify), Depends(charge_call_limit)],
)
# Not versioned: `/admin/oauth/access_scopes.json` (Shopify's "unversioned" AccessScope resource).
oauth_router = APIRouter(
    route_class=ShopifyRoute, dependencies=[Depends(require_shopify), Depends(charge_call_limit)]
)


def needs(scope: str) -> Any:
    """A route dependency: the token must hold `scope` (a write scope holds its read scope), else
    Shopify's 403."""

    def check(world: WorldDep) -> None:
        if scope not in granted_scopes(world.shopify.access_scopes):
            raise ShopifyError(403, scope_refusal(scope))

    return Depends(check)


READ_ORDERS, WRITE_ORDERS = needs("read_orders"), needs("write_orders")
READ_PRODUCTS, READ_CUSTOMERS = needs("read_products"), needs("read_customers")


@oauth_router.get("/access_scopes.json")
async def list_access_scopes(world: WorldDep) -> JSON:
    """The scopes granted to the token, as Shopify lists them."""
    return {"access_scopes": [{"handle": handle} for handle in world.shopify.access_scopes]}


# --------------------------------------------------------------------------- helpers


def _dec(value: Any) -> Decimal:
    if value is None or value == "":
        return ZERO
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ShopifyError(422, {"base": [f"{value!r} is not a valid amount"]}) from None


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


async def _body(request: Request, key: str) -> JSON:
    """The `{key: {...}}` request body's inner object (400 as Shopify when missing or unparsable)."""
    try:
        data = json.loads(await request.body() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ShopifyError(400, "Invalid JSON in request body") from None
    if not isinstance(data, dict) or not isinstance(data.get(key), dict):
        raise bad_request(key)
    inner: JSON = data[key]
    return inner


def _order(world: World, order_id: int) -> JSON:
    order = world.shopify.orders.get(order_id)
    if order is None or not _within_history(world, order):
        raise not_found()
    return order


def _within_history(world: World, order: JSON) -> bool:
    """Without `read_all_orders` a token sees only the orders created in the last 60 days."""
    if READ_ALL_ORDERS in world.shopify.access_scopes:
        return True
    created = datetime.fromisoformat(str(order.get("created_at")).replace("Z", "+00:00"))
    return created >= world.now() - timedelta(days=ORDER_HISTORY_DAYS)


def _is_fulfilled(order: JSON) -> bool:
    return order.get("fulfillment_status") in ("fulfilled", "partial") or any(
        f.get("status") == "success" for f in order.get("fulfillments", [])
    )


# --------------------------------------------------------------------------- pagination


@dataclass
class Page:
    items: list[JSON]
    link: str | None


def _encode_cursor(payload: JSON) -> str:
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(token: str) -> JSON:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ShopifyError(400, {"page_info": "Invalid value."}) from None
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("f"), dict)
        or payload.get("d")
        not in (
            "next",
            "previous",
        )
    ):
        raise ShopifyError(400, {"page_info": "Invalid value."})
    return payload


def _list_request(request: Request, filter_names: tuple[str, ...]) -> tuple[dict[str, str], int, JSON | None]:
    """(filters, limit, cursor). With `page_info` the filters come from the cursor, as on Shopify."""
    query = request.query_params
    raw_limit = query.get("limit", str(DEFAULT_LIMIT))
    try:
        limit = min(max(int(raw_limit), 1), MAX_LIMIT)
    except ValueError:
        raise ShopifyError(400, {"limit": "Invalid value."}) from None
    token = query.get("page_info")
    if token is None:
        return {name: query[name] for name in filter_names if query.get(name)}, limit, None
    extra = sorted(name for name in query if name not in ("limit", "page_info", "fields"))
    if extra:
        raise ShopifyError(
            400, {"page_info": f"Only limit and fields may be given with page_info (got {', '.join(extra)})."}
        )
    cursor = _decode_cursor(token)
    return {str(k): str(v) for k, v in cursor["f"].items()}, limit, cursor


def _paginate(
    request: Request,
    records: list[JSON],
    key: Callable[[JSON], list[Any]],
    filters: dict[str, str],
    limit: int,
    cursor: JSON | None,
    *,
    newest_first: bool = True,
) -> Page:
    """Keyset pagination over `records` sorted by `key`, descending (newest first) unless told."""
    ordered = sorted(records, key=key, reverse=newest_first)

    def beyond(record: JSON, boundary: list[Any]) -> bool:
        return key(record) < boundary if newest_first else key(record) > boundary

    if cursor is None:
        start, page = 0, ordered[:limit]
    else:
        boundary = list(cursor.get("k") or [])
        if cursor["d"] == "next":
            after = [r for r in ordered if beyond(r, boundary)]
            page = after[:limit]
        else:
            before = [r for r in ordered if key(r) != boundary and not beyond(r, boundary)]
            page = before[-limit:]
        start = ordered.index(page[0]) if page else len(ordered)
    links = []
    base = request.url
    if page and start > 0:
        token = _encode_cursor({"f": filters, "d": "previous", "k": key(page[0])})
        links.append(f'<{base.replace_query_params(limit=limit, page_info=token)}>; rel="previous"')
    if page and start + len(page) < len(ordered):
        token = _encode_cursor({"f": filters, "d": "next", "k": key(page[-1])})
        links.append(f'<{base.replace_query_params(limit=limit, page_info=token)}>; rel="next"')
    return Page(items=page, link=", ".join(links) or None)


def _page_response(key: str, page: Page) -> JSONResponse:
    headers = {"Link": page.link} if page.link else None
    return JSONResponse({key: page.items}, headers=headers)


# --------------------------------------------------------------------------- orders

ORDER_FILTERS = ("status", "name", "email", "ids", "since_id", "financial_status", "fulfillment_status")


def _order_matches(order: JSON, filters: dict[str, str]) -> bool:
    status = filters.get("status", "open")
    cancelled = order.get("cancelled_at") is not None
    closed = order.get("closed_at") is not None
    if status == "open" and (cancelled or closed):
        return False
    if status == "closed" and not closed:
        return False
    if status == "cancelled" and not cancelled:
        return False
    if "name" in filters:
        # Shopify matches the name loosely: "100" finds #1001, #1002, ... and #100.
        wanted = filters["name"].strip().lstrip("#")
        if not str(order.get("name", "")).lstrip("#").startswith(wanted):
            return False
    if "email" in filters and str(order.get("email") or "").lower() != filters["email"].strip().lower():
        return False
    if "ids" in filters:
        ids = {part.strip() for part in filters["ids"].split(",")}
        if str(order["id"]) not in ids:
            return False
    if "since_id" in filters and int(order["id"]) <= _int_param(filters["since_id"], "since_id"):
        return False
    financial = filters.get("financial_status", "any")
    if financial not in ("any", order.get("financial_status")) and not (
        financial == "unpaid" and order.get("financial_status") in ("pending", "authorized", "partially_paid")
    ):
        return False
    fulfillment = filters.get("fulfillment_status", "any")
    state = order.get("fulfillment_status")
    return {
        "any": True,
        "shipped": state == "fulfilled",
        "partial": state == "partial",
        "unshipped": state is None,
        "unfulfilled": state in (None, "partial"),
    }.get(fulfillment, False)


def _order_key(order: JSON) -> list[Any]:
    return [str(order.get("created_at") or ""), int(order["id"])]


def _int_param(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ShopifyError(400, {name: "Invalid value."}) from None


@router.get("/orders.json", dependencies=[READ_ORDERS])
async def list_orders(request: Request, world: WorldDep) -> Response:
    """Orders newest first; `status` defaults to open (not cancelled, not closed)."""
    filters, limit, cursor = _list_request(request, ORDER_FILTERS)
    if filters.get("status", "open") not in ("open", "closed", "cancelled", "any"):
        raise ShopifyError(400, {"status": "Invalid value."})
    matching = [
        o for o in world.shopify.orders.values() if _order_matches(o, filters) and _within_history(world, o)
    ]
    if "since_id" in filters:  # Shopify sorts by id, oldest first, when `since_id` is given
        page = _paginate(
            request, matching, lambda o: [int(o["id"])], filters, limit, cursor, newest_first=False
        )
    else:
        page = _paginate(request, matching, _order_key, filters, limit, cursor)
    return _page_response("orders", Page(items=[_view(world, o) for o in page.items], link=page.link))


def _view(world: World, order: JSON) -> JSON:
    """The order as a read shows it: right after a cancellation, perhaps still as it was."""
    stale = world.shopify_consistency.stale_orders.get(order["id"])
    if stale is None:
        return order
    stale["reads_left"] -= 1
    if stale["reads_left"] <= 0:
        del world.shopify_consistency.stale_orders[order["id"]]
    view: JSON = stale["order"]
    return view


@router.get("/orders/{order_id:int}.json", dependencies=[READ_ORDERS])
async def get_order(order_id: int, world: WorldDep) -> JSON:
    return {"order": _view(world, _order(world, order_id))}


@router.put("/orders/{order_id:int}.json", dependencies=[WRITE_ORDERS])
async def update_order(order_id: int, request: Request, world: WorldDep) -> JSON:
    """Update note, tags, note attributes, email or shipping address (the note is REPLACED)."""
    order = _order(world, order_id)
    changes = await _body(request, "order")
    if "shipping_address" in changes:
        order["shipping_address"] = _new_shipping_address(order, changes["shipping_address"])
    if "note" in changes:
        note = changes["note"]
        order["note"] = None if note is None else str(note)
    if "tags" in changes:
        tags = changes["tags"]
        order["tags"] = ", ".join(tags) if isinstance(tags, list) else str(tags or "")
    if "note_attributes" in changes:
        attributes = changes["note_attributes"]
        if not isinstance(attributes, list) or not all(
            isinstance(a, dict) and "name" in a for a in attributes
        ):
            raise unprocessable("must be a list of {name, value}", "note_attributes")
        order["note_attributes"] = [{"name": str(a["name"]), "value": a.get("value")} for a in attributes]
    if "email" in changes:
        order["email"] = str(changes["email"])
    order["updated_at"] = world.now_iso()
    webhooks.emit(request, "orders/updated", order)
    return {"order": order}


def _new_shipping_address(order: JSON, given: Any) -> JSON:
    if not isinstance(given, dict):
        raise unprocessable("must be an address object", "shipping_address")
    if order.get("cancelled_at") is not None:
        raise unprocessable("cannot be changed on a cancelled order", "shipping_address")
    if _is_fulfilled(order):
        raise unprocessable("cannot be changed after the order has been fulfilled", "shipping_address")
    address = dict(order.get("shipping_address") or {})
    address.update({k: given[k] for k in ADDRESS_FIELDS if k in given})
    if "name" not in given and ("first_name" in given or "last_name" in given):
        address["name"] = " ".join(p for p in (address.get("first_name"), address.get("last_name")) if p)
    missing = [k for k in ("address1", "city", "zip") if not str(address.get(k) or "").strip()]
    if missing:
        raise unprocessable(f"{', '.join(missing)} can't be blank", "shipping_address")
    return address


@router.post("/orders/{order_id:int}/cancel.json", dependencies=[WRITE_ORDERS])
async def cancel_order(order_id: int, request: Request, world: WorldDep) -> JSON:
    """Cancel an order not yet fulfilled; `refund` (true, or a refund object) returns the money.

    Answered as Shopify does: `{"notice": "Order has been canceled", "order": ...}` with the order
    as it was before its background job ran (`cancelled_at` still null, as in Shopify's published
    example); reads may trail for `world.shopify_consistency.cancel_lag_reads` more calls.
    """
    order = _order(world, order_id)
    before = copy.deepcopy(order)
    try:
        params: Any = json.loads(await request.body() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ShopifyError(400, "Invalid JSON in request body") from None
    if not isinstance(params, dict):
        raise bad_request("order")
    params = {**dict(request.query_params), **params}
    refunded = cancel(world, order, reason=str(params.get("reason") or "other"), refund=params.get("refund"))
    if refunded is not None:
        webhooks.emit(request, "refunds/create", refunded)
    webhooks.emit(request, "orders/cancelled", order)
    webhooks.emit(request, "orders/updated", order)
    return {"notice": "Order has been canceled", "order": before}


def check_cancellable(order: JSON) -> None:
    """Shopify's refusals of a cancellation (422 on REST, user errors on GraphQL)."""
    if order.get("cancelled_at") is not None:
        raise unprocessable("Order has already been cancelled")
    if _is_fulfilled(order):
        raise unprocessable("Cannot cancel an order that has been fulfilled; cancel its fulfillments first")


def cancel(world: World, order: JSON, *, reason: str, refund: Any) -> JSON | None:
    """Cancel `order` in the world (REST `cancel.json` and GraphQL `orderCancel`'s job alike);
    `refund` true refunds everything still refundable, a dict is a refund request. Returns the
    refund made, if any. Reads may trail for `world.shopify_consistency.cancel_lag_reads` calls."""
    check_cancellable(order)
    if reason not in CANCEL_REASONS:
        raise unprocessable("is not included in the list", "reason")
    before = copy.deepcopy(order)
    refunded = None
    if refund is True or refund == "true":
        refunded = _apply_refund(world, order, _full_refund_request(world, order, note="Order cancelled"))
    elif isinstance(refund, dict):
        refunded = _apply_refund(world, order, refund)
    now = world.now_iso()
    order.update(cancelled_at=now, cancel_reason=reason, closed_at=now, updated_at=now)
    for item in order["line_items"]:
        item["fulfillable_quantity"] = 0
    if not _payments(world, order) and order.get("financial_status") in ("pending", "authorized"):
        order["financial_status"] = "voided"
    lag = world.shopify_consistency.cancel_lag_reads
    if lag > 0:
        world.shopify_consistency.stale_orders[order["id"]] = {"order": before, "reads_left": lag}
    return refunded


@router.get("/orders/{order_id:int}/transactions.json", dependencies=[READ_ORDERS])
async def list_transactions(order_id: int, world: WorldDep) -> JSON:
    _order(world, order_id)
    return {"transactions": world.shopify.transactions.get(order_id, [])}


# --------------------------------------------------------------------------- refunds


def _payments(world: World, order: JSON) -> list[JSON]:
    """Transactions that took money and can be refunded against (sales and captures)."""
    return [
        t
        for t in world.shopify.transactions.get(order["id"], [])
        if t.get("kind") in ("sale", "capture") and t.get("status") == "success"
    ]


def _refundable_by_payment(world: World, order: JSON) -> list[tuple[JSON, Decimal]]:
    """Each payment with what is left on it after its successful refunds, in payment order."""
    refunded: dict[int, Decimal] = {}
    for t in world.shopify.transactions.get(order["id"], []):
        if t.get("kind") == "refund" and t.get("status") == "success" and t.get("parent_id") is not None:
            refunded[t["parent_id"]] = refunded.get(t["parent_id"], ZERO) + _dec(t.get("amount"))
    return [
        (p, max(ZERO, _dec(p.get("amount")) - refunded.get(p["id"], ZERO))) for p in _payments(world, order)
    ]


def _refunded_units(order: JSON) -> dict[int, int]:
    units: dict[int, int] = {}
    for refund in order.get("refunds", []):
        for item in refund.get("refund_line_items", []):
            units[item["line_item_id"]] = units.get(item["line_item_id"], 0) + int(item.get("quantity", 0))
    return units


def _line_taxes(order: JSON) -> dict[int, Decimal]:
    """Each line's tax: its own tax lines, else its share of the order's tax (cents add up exactly)."""
    lines = order["line_items"]
    if any(line.get("tax_lines") for line in lines):
        return {
            line["id"]: sum((_dec(t.get("price")) for t in line.get("tax_lines", [])), ZERO) for line in lines
        }
    total_tax = _dec(order.get("total_tax"))
    totals = {line["id"]: _line_net(line) for line in lines}
    base = sum(totals.values(), ZERO)
    if base <= 0 or total_tax <= 0:
        return dict.fromkeys(totals, ZERO)
    shares = {
        lid: (total_tax * amount / base).quantize(CENT, rounding="ROUND_DOWN")
        for lid, amount in totals.items()
    }
    leftover = int((total_tax - sum(shares.values(), ZERO)) / CENT)
    for lid in sorted(totals, key=lambda i: -(total_tax * totals[i] / base - shares[i]))[:leftover]:
        shares[lid] += CENT
    return shares


def _line_discount(line: JSON) -> Decimal:
    """Everything discounted off the line: its `discount_allocations` (Shopify 2024-10 keeps
    `total_discount` at zero), or `total_discount` in payloads from before allocations existed."""
    allocations = line.get("discount_allocations")
    if allocations:
        return sum((_dec(a.get("amount")) for a in allocations), ZERO)
    return _dec(line.get("total_discount"))


def _cart_discount(order: JSON, line: JSON) -> Decimal:
    """The part of the line's discount that comes from order-wide discounts (a cart discount)."""
    applications = order.get("discount_applications") or []
    order_wide = {
        index
        for index, application in enumerate(applications)
        if application.get("target_selection") == "all" and application.get("target_type") == "line_item"
    }
    return sum(
        (
            _dec(a.get("amount"))
            for a in line.get("discount_allocations") or []
            if a.get("discount_application_index") in order_wide
        ),
        ZERO,
    )


def _line_net(line: JSON) -> Decimal:
    """What the line cost the shopper before tax: price times quantity, less its discounts."""
    return _dec(line.get("price")) * int(line.get("quantity", 0)) - _line_discount(line)


def _units_amount(total: Decimal, quantity: int, done: int, more: int) -> Decimal:
    """The part of `total` (for `quantity` units) owed for `more` units after `done` were refunded.

    Computed as a difference of rounded cumulative shares, so refunding every unit in any number
    of steps returns exactly `total`.
    """
    if quantity <= 0:
        return ZERO
    return _round(total * (done + more) / quantity) - _round(total * done / quantity)


def _shipping_charged(order: JSON) -> Decimal:
    """Shipping the shopper paid: each shipping line's discounted price."""
    return sum(
        (
            _dec(line["discounted_price"])
            if line.get("discounted_price") is not None
            else _shipping_price(line)
            for line in order.get("shipping_lines", [])
        ),
        ZERO,
    )


def _shipping_price(line: JSON) -> Decimal:
    return _dec(line.get("price")) - sum(
        (_dec(a.get("amount")) for a in line.get("discount_allocations") or []), ZERO
    )


def _shipping_tax(order: JSON, done: Decimal, more: Decimal) -> Decimal:
    """The shipping tax owed with `more` of the shipping after `done` was refunded (cumulative shares)."""
    charged = _shipping_charged(order)
    tax = sum(
        (
            _dec(t.get("price"))
            for line in order.get("shipping_lines", [])
            for t in line.get("tax_lines") or []
        ),
        ZERO,
    )
    if charged <= 0 or tax <= 0:
        return ZERO
    return _round(tax * (done + more) / charged) - _round(tax * done / charged)


def _shipping_left(order: JSON) -> Decimal:
    charged = _shipping_charged(order)
    refunded = sum(
        (
            -_dec(adjustment.get("amount"))
            for refund in order.get("refunds", [])
            for adjustment in refund.get("order_adjustments", [])
            if adjustment.get("kind") == "shipping_refund"
        ),
        ZERO,
    )
    return max(ZERO, charged - refunded)


@dataclass
class RefundPlan:
    """A validated refund request: line amounts, shipping, and money per payment."""

    lines: list[JSON]
    shipping: Decimal
    shipping_tax: Decimal
    requested: Decimal


def _plan(order: JSON, refund: JSON) -> RefundPlan:
    """Validate refund_line_items and shipping of a calculate/create request and price them."""
    by_id = {line["id"]: line for line in order["line_items"]}
    taxes = _line_taxes(order)
    refunded = _refunded_units(order)
    requested_units: dict[int, int] = {}
    items = refund.get("refund_line_items") or []
    if not isinstance(items, list):
        raise unprocessable("must be a list", "refund_line_items")
    lines: list[JSON] = []
    for item in items:
        if not isinstance(item, dict):
            raise unprocessable("must be a list of {line_item_id, quantity}", "refund_line_items")
        try:
            line_id, quantity = int(item.get("line_item_id")), int(item.get("quantity"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise unprocessable("line_item_id and quantity must be integers", "refund_line_items") from None
        line = by_id.get(line_id)
        if line is None:
            raise unprocessable(f"Line item {line_id} does not belong to this order", "refund_line_items")
        if quantity <= 0:
            continue
        done = refunded.get(line_id, 0) + requested_units.get(line_id, 0)
        left = int(line.get("quantity", 0)) - done
        if quantity > left:
            raise unprocessable(
                f"cannot refund {quantity} of line item {line_id}: only {left} left to refund",
                "refund_line_items",
            )
        requested_units[line_id] = requested_units.get(line_id, 0) + quantity
        units = int(line["quantity"])
        cart = _cart_discount(order, line)
        # Before cart discounts: what the line costs after its own (product) discounts only.
        own = _dec(line.get("price")) * units - (_line_discount(line) - cart)
        lines.append(
            {
                "line_item_id": line_id,
                "quantity": quantity,
                "restock_type": str(item.get("restock_type") or "no_restock"),
                "location_id": item.get("location_id"),
                "price": line.get("price"),
                "subtotal": _units_amount(_line_net(line), units, done, quantity),
                "total_tax": _units_amount(taxes.get(line_id, ZERO), units, done, quantity),
                "discounted_price": _round(own / units),
                "discounted_total_price": _units_amount(own, units, done, quantity),
                "total_cart_discount_amount": _units_amount(cart, units, done, quantity),
                "line": line,
            }
        )
    shipping_request = refund.get("shipping") or {}
    if not isinstance(shipping_request, dict):
        raise unprocessable("must be an object", "shipping")
    shipping_left = _shipping_left(order)
    if shipping_request.get("full_refund") in (True, "true"):
        shipping = shipping_left
    else:
        shipping = _round(_dec(shipping_request.get("amount")))
        if shipping < 0 or shipping > shipping_left:
            raise unprocessable(
                f"Shipping refund {money(shipping)} exceeds the {money(shipping_left)} refundable"
            )
    shipping_tax = _shipping_tax(order, _shipping_charged(order) - shipping_left, shipping)
    requested = sum((line["subtotal"] + line["total_tax"] for line in lines), ZERO) + shipping + shipping_tax
    return RefundPlan(lines=lines, shipping=shipping, shipping_tax=shipping_tax, requested=requested)


@router.post("/orders/{order_id:int}/refunds/calculate.json", dependencies=[READ_ORDERS])
async def calculate_refund(order_id: int, request: Request, world: WorldDep) -> JSON:
    """Suggest the refund of the requested items/shipping, split over the payments in order."""
    order = _order(world, order_id)
    return {"refund": suggest_refund(world, order, await _body(request, "refund"))}


def suggest_refund(world: World, order: JSON, request: JSON) -> JSON:
    """The refund Shopify suggests for a request (REST `refunds/calculate` and GraphQL
    `suggestedRefund` alike): the items' and shipping's amounts, split over the payments in order."""
    plan = _plan(order, request)
    to_refund = plan.requested
    payments = _refundable_by_payment(world, order)
    money_left = sum((left for _, left in payments), ZERO)
    transactions = []
    for payment, left in payments:
        if left <= 0:
            continue
        take = min(left, to_refund)
        to_refund -= take
        transactions.append(
            {
                "order_id": order["id"],
                "kind": "suggested_refund",
                "gateway": payment.get("gateway"),
                "parent_id": payment["id"],
                "amount": money(take),
                "currency": payment.get("currency", order.get("currency")),
                "maximum_refundable": money(left),
            }
        )
    return {
        "currency": order.get("currency"),
        "shipping": {
            "amount": money(plan.shipping),
            "tax": money(plan.shipping_tax),
            "maximum_refundable": money(min(_shipping_left(order), money_left)),
        },
        "duties": [],
        "additional_fees": [],
        "refund_line_items": [
            {
                "quantity": line["quantity"],
                "line_item_id": line["line_item_id"],
                "location_id": line["location_id"],
                "restock_type": line["restock_type"],
                "price": line["price"],
                "subtotal": money(line["subtotal"]),
                "total_tax": money(line["total_tax"]),
                "discounted_price": money(line["discounted_price"]),
                "discounted_total_price": money(line["discounted_total_price"]),
                "total_cart_discount_amount": money(line["total_cart_discount_amount"]),
            }
            for line in plan.lines
        ],
        "transactions": transactions,
    }


def _full_refund_request(world: World, order: JSON, *, note: str) -> JSON:
    """A refund request for everything still refundable (cancel with `refund: true`)."""
    refunded = _refunded_units(order)
    return {
        "note": note,
        "shipping": {"full_refund": True},
        "refund_line_items": [
            {
                "line_item_id": line["id"],
                "quantity": line["quantity"] - refunded.get(line["id"], 0),
                "restock_type": "cancel",
            }
            for line in order["line_items"]
            if line["quantity"] - refunded.get(line["id"], 0) > 0
        ],
        "transactions": [
            {
                "parent_id": payment["id"],
                "amount": money(left),
                "kind": "refund",
                "gateway": payment.get("gateway"),
            }
            for payment, left in _refundable_by_payment(world, order)
            if left > 0
        ],
    }


def _validated_transactions(world: World, order: JSON, refund: JSON) -> list[tuple[JSON, Decimal]]:
    given = refund.get("transactions") or []
    if not isinstance(given, list):
        raise unprocessable("must be a list", "transactions")
    left = {payment["id"]: (payment, amount) for payment, amount in _refundable_by_payment(world, order)}
    chosen: list[tuple[JSON, Decimal]] = []
    for transaction in given:
        if not isinstance(transaction, dict):
            raise unprocessable("must be a list of transactions", "transactions")
        kind = transaction.get("kind", "refund")
        if kind != "refund":
            raise unprocessable(f"Transaction kind must be 'refund', not {kind!r}")
        try:
            parent_id = int(transaction.get("parent_id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise unprocessable(
                "A refund transaction needs the parent_id of the payment it refunds"
            ) from None
        if parent_id not in left:
            raise unprocessable(f"Parent transaction {parent_id} is not a payment of this order")
        payment, remaining = left[parent_id]
        gateway = transaction.get("gateway")
        if gateway and gateway != payment.get("gateway"):
            raise unprocessable(
                f"Refund gateway {gateway!r} differs from the payment's gateway {payment.get('gateway')!r}"
            )
        amount = _round(_dec(transaction.get("amount")))
        if amount <= 0:
            raise unprocessable("Refund amount must be greater than 0")
        if amount > remaining:
            raise unprocessable(
                f"Refund amount {money(amount)} exceeds the {money(remaining)} refundable on "
                f"transaction {parent_id} ({payment.get('gateway')})"
            )
        left[parent_id] = (payment, remaining - amount)
        chosen.append((payment, amount))
    return chosen


def _apply_refund(world: World, order: JSON, refund: JSON) -> JSON:
    """Validate a refund request completely, then record it on the order and the transactions."""
    plan = _plan(order, refund)
    money_back = _validated_transactions(world, order, refund)
    if not plan.lines and not money_back and plan.shipping <= 0:
        raise unprocessable("A refund needs line items, shipping or transactions")
    now = world.now_iso()
    refund_id = world.new_int_id()
    records = []
    for payment, amount in money_back:
        record = {
            "id": world.new_int_id(),
            "order_id": order["id"],
            "kind": "refund",
            "gateway": payment.get("gateway"),
            "status": "success",
            "message": "Refund processed (sandbox)",
            "amount": money(amount),
            "currency": payment.get("currency", order.get("currency")),
            "parent_id": payment["id"],
            "created_at": now,
            "processed_at": now,
            "test": False,
            "authorization": payment.get("authorization"),
            "error_code": None,
        }
        records.append(record)
        world.shopify.transactions.setdefault(order["id"], []).append(record)
    refund_line_items = [
        {
            "id": world.new_int_id(),
            "line_item_id": line["line_item_id"],
            "quantity": line["quantity"],
            "restock_type": line["restock_type"],
            "location_id": line["location_id"],
            # Shopify sends these two as JSON numbers in refund records.
            "subtotal": float(line["subtotal"]),
            "total_tax": float(line["total_tax"]),
            "line_item": copy.deepcopy(line["line"]),
        }
        for line in plan.lines
    ]
    adjustments = []
    if plan.shipping > 0:
        adjustments.append(
            {
                "id": world.new_int_id(),
                "order_id": order["id"],
                "refund_id": refund_id,
                "kind": "shipping_refund",
                "reason": "Shipping refund",
                "amount": money(-plan.shipping),
                "tax_amount": money(-plan.shipping_tax) if plan.shipping_tax else "0.00",
            }
        )
    record = {
        "id": refund_id,
        "order_id": order["id"],
        "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}",
        "created_at": now,
        "processed_at": now,
        "note": refund.get("note"),
        "restock": any(line["restock_type"] != "no_restock" for line in plan.lines),
        "user_id": None,
        "refund_line_items": refund_line_items,
        "transactions": records,
        "order_adjustments": adjustments,
    }
    order.setdefault("refunds", []).append(record)
    _after_refund(world, order, plan)
    return record


def _after_refund(world: World, order: JSON, plan: RefundPlan) -> None:
    refunded_units = _refunded_units(order)
    for line in order["line_items"]:
        line["current_quantity"] = line["quantity"] - refunded_units.get(line["id"], 0)
    for planned in plan.lines:
        line = planned["line"]
        line["fulfillable_quantity"] = max(
            0, int(line.get("fulfillable_quantity") or 0) - planned["quantity"]
        )
    refunded_money = sum(
        (
            _dec(t.get("amount"))
            for t in world.shopify.transactions.get(order["id"], [])
            if t.get("kind") == "refund" and t.get("status") == "success"
        ),
        ZERO,
    )
    if refunded_money > 0:
        left = sum((amount for _, amount in _refundable_by_payment(world, order)), ZERO)
        order["financial_status"] = "refunded" if left <= 0 else "partially_refunded"
    order["current_total_price"] = money(max(ZERO, _dec(order.get("total_price")) - refunded_money))
    order["updated_at"] = world.now_iso()


@router.post("/orders/{order_id:int}/refunds.json", status_code=201, dependencies=[WRITE_ORDERS])
async def create_refund(order_id: int, request: Request, world: WorldDep) -> JSON:
    """Record a refund: each transaction must name a payment of the order and fit what it has left."""
    order = _order(world, order_id)
    refund = _apply_refund(world, order, await _body(request, "refund"))
    webhooks.emit(request, "refunds/create", refund)
    webhooks.emit(request, "orders/updated", order)
    return {"refund": refund}


@router.get("/orders/{order_id:int}/refunds.json", dependencies=[READ_ORDERS])
async def list_refunds(order_id: int, world: WorldDep) -> JSON:
    return {"refunds": _order(world, order_id).get("refunds", [])}


@router.get("/orders/{order_id:int}/refunds/{refund_id:int}.json", dependencies=[READ_ORDERS])
async def get_refund(order_id: int, refund_id: int, world: WorldDep) -> JSON:
    for refund in _order(world, order_id).get("refunds", []):
        if refund["id"] == refund_id:
            return {"refund": refund}
    raise not_found()


# --------------------------------------------------------------------------- customers, products, shop


@router.get("/customers/search.json", dependencies=[READ_CUSTOMERS])
async def search_customers(request: Request, world: WorldDep) -> Response:
    """`query=email:someone@example.com` matches the email exactly; other words match loosely."""
    filters, limit, cursor = _list_request(request, ("query",))
    query = filters.get("query", "").strip()
    matching = [c for c in world.shopify.customers.values() if _customer_matches(c, query)]
    page = _paginate(request, matching, lambda c: [int(c["id"])], filters, limit, cursor)
    return _page_response("customers", page)


def _customer_matches(customer: JSON, query: str) -> bool:
    for term in query.split():
        field_name, _, value = term.partition(":") if ":" in term else ("", "", term)
        value = value.strip('"').lower()
        if field_name == "email":
            if str(customer.get("email") or "").lower() != value:
                return False
        elif field_name:
            if str(customer.get(field_name) or "").lower() != value:
                return False
        else:
            text = " ".join(str(customer.get(k) or "") for k in ("email", "first_name", "last_name")).lower()
            if value not in text:
                return False
    return True


@router.get("/customers/{customer_id:int}.json", dependencies=[READ_CUSTOMERS])
async def get_customer(customer_id: int, world: WorldDep) -> JSON:
    customer = world.shopify.customers.get(customer_id)
    if customer is None:
        raise not_found()
    return {"customer": customer}


@router.get("/products/{product_id:int}.json", dependencies=[READ_PRODUCTS])
async def get_product(product_id: int, world: WorldDep) -> JSON:
    product = world.shopify.products.get(product_id)
    if product is None:
        raise not_found()
    return {"product": product}


@router.get("/shop.json")
async def get_shop(world: WorldDep) -> JSON:
    shop = world.shopify
    return {
        "shop": {
            "id": 1,
            "name": shop.shop_name,
            "domain": shop.shop_domain,
            "myshopify_domain": shop.shop_domain,
            "currency": shop.currency,
        }
    }


# --------------------------------------------------------------------------- webhooks

# Where Shopify delivers: an HTTPS endpoint (plain HTTP accepted here, for loopback), a Google
# Pub/Sub topic or an Amazon EventBridge source.
_ADDRESS = re.compile(r"^(https?://[^\s/]+|pubsub://\S+:\S+|arn:aws:events:\S+)")


@router.get("/webhooks.json")
async def list_webhooks(request: Request, world: WorldDep) -> Response:
    filters, limit, cursor = _list_request(request, ("topic", "address"))
    matching = [
        hook
        for hook in world.shopify.webhooks.values()
        if all(str(hook.get(name)) == value for name, value in filters.items())
    ]
    page = _paginate(request, matching, lambda h: [int(h["id"])], filters, limit, cursor)
    return _page_response("webhooks", page)


@router.post("/webhooks.json", status_code=201)
async def create_webhook(request: Request, world: WorldDep) -> JSON:
    """Subscribe an address; its deliveries use the version the subscription was made with."""
    given = await _body(request, "webhook")
    topic, address = str(given.get("topic") or ""), str(given.get("address") or "")
    if topic not in WEBHOOK_TOPICS:
        raise unprocessable(
            f"Invalid topic specified: {topic}. Topics allowed: {', '.join(sorted(WEBHOOK_TOPICS))}", "topic"
        )
    scope = WEBHOOK_TOPICS[topic]
    if scope is not None and scope not in granted_scopes(world.shopify.access_scopes):
        raise ShopifyError(403, scope_refusal(scope))
    if not _ADDRESS.match(address):
        raise unprocessable("is invalid", "address")
    if any(h["topic"] == topic and h["address"] == address for h in world.shopify.webhooks.values()):
        raise unprocessable("for this topic has already been taken", "address")
    now = world.now_iso()
    hook_id = world.new_int_id()
    hook: JSON = {
        "id": hook_id,
        "address": address,
        "topic": topic,
        "format": str(given.get("format") or "json"),
        "fields": [],
        "metafield_namespaces": [],
        "api_version": request.state.shopify_api_version,
        "created_at": now,
        "updated_at": now,
    }
    world.shopify.webhooks[hook_id] = hook
    return {"webhook": hook}


@router.get("/webhooks/{webhook_id:int}.json")
async def get_webhook(webhook_id: int, world: WorldDep) -> JSON:
    hook = world.shopify.webhooks.get(webhook_id)
    if hook is None:
        raise not_found()
    return {"webhook": hook}


@router.delete("/webhooks/{webhook_id:int}.json")
async def delete_webhook(webhook_id: int, world: WorldDep) -> JSON:
    if world.shopify.webhooks.pop(webhook_id, None) is None:
        raise not_found()
    return {}


# Registered last: any other path under the base is Shopify's 404, not FastAPI's.
@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"], include_in_schema=False)
async def unknown_route(path: str) -> JSON:
    raise not_found()

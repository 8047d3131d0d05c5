"""Emulator of the BigCommerce REST API (routes relative to `/bigcommerce/stores/{store_hash}`).

It answers as BigCommerce does:
- `X-Auth-Token` (and the store hash in the path) or a 401; V2 errors as a list
  `[{"status", "message"}]`, V3 errors as `{"status", "title", "type", "errors"}`;
- V2 lists paged with `page` / `limit` (1-250, default 50) and `204 No Content` when nothing matches
  (`/v2/orders?email=` included); V3 bodies wrapped in `{"data", "meta"}`;
- the store's API quota: every answer carries `X-Rate-Limit-Requests-Quota`,
  `X-Rate-Limit-Requests-Left`, `X-Rate-Limit-Time-Window-Ms` and `X-Rate-Limit-Time-Reset-Ms`
  (Plus & Standard plans: 150 requests per 30 s), and a call over it is a 429 with them;
- refund arithmetic: a quote prices PRODUCT items by quantity (each unit's share of the discounted
  line and of its tax, rounded so that refunding every unit gives back exactly the line) and
  SHIPPING items by amount (at most the shipping not refunded yet), caps the total at what is left
  on the order (`adjustment`), and offers refund methods from how the order was paid (each online
  provider, several together for a split payment, store credit for a registered customer, and an
  offline "custom" refund); a refund must pay exactly the quoted total through one offered method,
  updates the products' `quantity_refunded`, the order's `refunded_amount` and its status
  (Refunded / Partially Refunded);
- a status change (`PUT /v2/orders/{id}` with `status_id`) moves no money; shipping addresses are
  changed with `PUT /v2/orders/{id}/shipping_addresses/{id}`;
- webhooks (`/v3/hooks`): after a change is answered, each active hook of the change's scope gets a
  POST of `{"scope", "store_id", "data": {"type", "id"}, "hash", "created_at", "producer"}` with the
  custom `headers` it was registered with (BigCommerce signs nothing); logged in
  `world.bigcommerce_deliveries`.
"""

from __future__ import annotations

import hashlib
import json
import time
import weakref
from collections import deque
from collections.abc import Callable, Coroutine
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from integrations.bigcommerce.models import (
    CANCELLED,
    PARTIALLY_REFUNDED,
    REFUNDED,
    STATUS_NAMES,
    rfc2822,
)
from sandbox.bigcommerce_seed import money
from sandbox.http import VendorHTTPError, WorldDep, bigcommerce_error_body, vendor_error
from sandbox.shopify_webhooks import HTTP_ADDRESS, sender_of
from sandbox.world import JSON, World

VENDOR = "bigcommerce"
QUOTA, WINDOW_MS = 150, 30_000  # Plus & Standard plans: 20k per hour, 150 per 30 seconds
MAX_LIMIT, DEFAULT_LIMIT = 250, 50
ZERO = Decimal("0")
CENT = Decimal("0.01")
HOOK_SCOPES = {
    "store/order/*",
    "store/order/created",
    "store/order/updated",
    "store/order/archived",
    "store/order/statusUpdated",
    "store/order/message/created",
    "store/order/refund/created",
    "store/shipment/*",
    "store/shipment/created",
    "store/shipment/updated",
    "store/shipment/deleted",
}
ADDRESS_FIELDS = (
    "first_name", "last_name", "company", "street_1", "street_2", "city", "state", "zip", "country",
    "country_iso2", "phone", "email",
)  # fmt: skip


# --------------------------------------------------------------------------- errors


def v2_error(status: int, message: str, headers: dict[str, str] | None = None) -> VendorHTTPError:
    """V2's error: a list of `{"status", "message"}` (the `code` carries the shape to the renderer)."""
    return VendorHTTPError(VENDOR, status, message, code="v2", headers=headers)


def v3_error(status: int, title: str, errors: dict[str, str] | None = None) -> VendorHTTPError:
    return VendorHTTPError(VENDOR, status, title, code=json.dumps(errors or {}))


# --------------------------------------------------------------------------- auth and the API quota


class Quota:
    """The store's API quota over a fixed window on the real monotonic clock (not the world's): wall
    time, not business state, so it lives in the app. Another World object is another store. Replace
    `app.state.bigcommerce_quota` to change it (a test wanting a small one)."""

    def __init__(
        self, quota: int = QUOTA, window_ms: int = WINDOW_MS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.quota = quota
        self.window_ms = window_ms
        self._clock = clock
        self._calls: deque[float] = deque()
        self._world: weakref.ref[World] | None = None
        self.rejected = 0

    def hit(self, world: World) -> tuple[int, int, bool]:
        """Count a call: (requests left, ms until the window resets, whether it is over the quota)."""
        if self._world is None or self._world() is not world:
            self._world = weakref.ref(world)
            self._calls.clear()
        now = self._clock()
        window = self.window_ms / 1000
        while self._calls and self._calls[0] <= now - window:
            self._calls.popleft()
        reset_ms = int(((self._calls[0] + window - now) if self._calls else window) * 1000)
        if len(self._calls) >= self.quota:
            self.rejected += 1
            return 0, max(1, reset_ms), True
        self._calls.append(now)
        return self.quota - len(self._calls), max(1, reset_ms), False


def quota_of(state: Any) -> Quota:
    quota: Quota | None = getattr(state, "bigcommerce_quota", None)
    if quota is None:
        quota = Quota()
        state.bigcommerce_quota = quota
    return quota


def _authorized(request: Request, world: World) -> bool:
    store_hash = request.path_params.get("store_hash")
    return (
        request.headers.get("x-auth-token") == world.credentials.bigcommerce_access_token
        and store_hash == world.credentials.bigcommerce_store_hash
    )


class _QuotaRoute(APIRoute):
    """Checks the token, spends one request of the quota and puts the rate-limit headers on every
    answer, errors included, as BigCommerce does."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_quota(request: Request) -> Response:
            world: World = request.app.state.world
            v2 = "/v2/" in request.url.path
            if not _authorized(request, world):
                message = "You are not authorized to access this resource." if v2 else "Unauthorized"
                exc = v2_error(401, message) if v2 else v3_error(401, message)
                return vendor_error(VENDOR, exc.status, exc.message, code=exc.code)
            quota = quota_of(request.app.state)
            left, reset_ms, over = quota.hit(world)
            headers = {
                "X-Rate-Limit-Requests-Quota": str(quota.quota),
                "X-Rate-Limit-Requests-Left": str(left),
                "X-Rate-Limit-Time-Window-Ms": str(quota.window_ms),
                "X-Rate-Limit-Time-Reset-Ms": str(reset_ms),
            }
            if over:
                body = (
                    [{"status": 429, "message": "You have exceeded the request quota."}]
                    if v2
                    else bigcommerce_error_body(429, "Too Many Requests", None)
                )
                return JSONResponse(body, status_code=429, headers=headers)
            try:
                response = await handler(request)
            except VendorHTTPError as exc:
                response = vendor_error(
                    exc.vendor, exc.status, exc.message, code=exc.code, headers=exc.headers
                )
            response.headers.update(headers)
            return response

        return with_quota


router = APIRouter(route_class=_QuotaRoute)


# --------------------------------------------------------------------------- helpers


def _order(world: World, order_id: int) -> JSON:
    order = world.bigcommerce.orders.get(order_id)
    if order is None or order.get("is_deleted"):
        raise v2_error(404, "The requested resource was not found.")
    return order


def _v3_order(world: World, order_id: int) -> JSON:
    order = world.bigcommerce.orders.get(order_id)
    if order is None or order.get("is_deleted"):
        raise v3_error(404, f"Order {order_id} not found.")
    return order


async def _json(request: Request, *, v2: bool) -> Any:
    try:
        return json.loads(await request.body() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        if v2:
            raise v2_error(400, "The request body is not valid JSON.") from None
        raise v3_error(422, "JSON data is missing or invalid") from None


def _page(request: Request, items: list[Any]) -> Any:
    """A V2 page (`page`, `limit` 1-250); None when it is empty (the route answers 204)."""
    try:
        page = int(request.query_params.get("page", "1"))
        limit = int(request.query_params.get("limit", str(DEFAULT_LIMIT)))
    except ValueError:
        raise v2_error(400, "The field 'page' or 'limit' is invalid.") from None
    if page < 1 or not 1 <= limit <= MAX_LIMIT:
        raise v2_error(400, f"The field 'limit' must be between 1 and {MAX_LIMIT}.")
    chunk = items[(page - 1) * limit : page * limit]
    return chunk or None


def _listed(request: Request, items: list[Any]) -> Response | list[Any]:
    chunk = _page(request, items)
    return Response(status_code=204) if chunk is None else chunk


def _envelope(data: Any) -> JSON:
    if isinstance(data, list):
        count = len(data)
        return {
            "data": data,
            "meta": {
                "pagination": {
                    "total": count,
                    "count": count,
                    "per_page": max(count, DEFAULT_LIMIT),
                    "current_page": 1,
                    "total_pages": 1,
                    "links": {"current": "?page=1&limit=50"},
                }
            },
        }
    return {"data": data, "meta": {}}


def _dec(value: Any, field: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise v3_error(422, "JSON data is missing or invalid", {field: "error.expected.jsnumber"}) from None


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def share_of(total: Decimal, whole: Decimal, done: Decimal, more: Decimal) -> Decimal:
    """BigCommerce's share of a line for `more` units after `done` of `whole`: the difference of
    rounded cumulative shares, so refunding every unit, in any steps, gives back exactly `total`."""
    if whole <= 0:
        return ZERO
    return _cents(total * (done + more) / whole) - _cents(total * done / whole)


def _touch(world: World, order: JSON) -> None:
    order["date_modified"] = rfc2822(world.now())


# --------------------------------------------------------------------------- V2 orders


@router.get("/v2/orders")
async def list_orders(request: Request, world: WorldDep) -> Any:
    orders = [o for o in world.bigcommerce.orders.values() if not o.get("is_deleted")]
    email = request.query_params.get("email")
    if email is not None:
        orders = [o for o in orders if o["billing_address"]["email"].lower() == email.strip().lower()]
    status_id = request.query_params.get("status_id")
    if status_id is not None:
        orders = [o for o in orders if str(o["status_id"]) == status_id]
    sort = request.query_params.get("sort", "id:asc")
    field, _, direction = sort.partition(":")
    if field not in ("id", "date_created", "date_modified", "status_id", "customer_id"):
        raise v2_error(400, "The field 'sort' is invalid.")

    def key(order: JSON) -> Any:
        if field.startswith("date_"):
            from email.utils import parsedate_to_datetime

            return (parsedate_to_datetime(order[field]).timestamp() if order[field] else 0, order["id"])
        return (order[field], order["id"])

    orders.sort(key=key, reverse=direction == "desc")
    return _listed(request, orders)


@router.get("/v2/orders/{order_id}")
async def get_order(order_id: int, world: WorldDep) -> JSON:
    return _order(world, order_id)


@router.put("/v2/orders/{order_id}")
async def update_order(order_id: int, request: Request, background: BackgroundTasks, world: WorldDep) -> JSON:
    order = _order(world, order_id)
    body = await _json(request, v2=True)
    if not isinstance(body, dict):
        raise v2_error(400, "The request body is not valid JSON.")
    previous = order["status_id"]
    if "status_id" in body:
        status = body["status_id"]
        if not isinstance(status, int) or status not in STATUS_NAMES:
            raise v2_error(400, "The field 'status_id' is invalid.")
        order["status_id"] = status
        order["status"] = order["custom_status"] = STATUS_NAMES[status]
    for field in ("staff_notes", "customer_message"):
        if field in body:
            if not isinstance(body[field], str):
                raise v2_error(400, f"The field '{field}' is invalid.")
            order[field] = body[field]
    if "billing_address" in body:
        changes = body["billing_address"]
        if not isinstance(changes, dict):
            raise v2_error(400, "The field 'billing_address' is invalid.")
        order["billing_address"].update({k: str(v or "") for k, v in changes.items() if k in ADDRESS_FIELDS})
    _touch(world, order)
    emit(request, background, "store/order/updated", {"type": "order", "id": order_id})
    if order["status_id"] != previous:
        emit(
            request,
            background,
            "store/order/statusUpdated",
            {
                "type": "order",
                "id": order_id,
                "status": {"previous_status_id": previous, "new_status_id": order["status_id"]},
            },
        )
    return order


@router.get("/v2/orders/{order_id}/products")
async def list_products(order_id: int, request: Request, world: WorldDep) -> Any:
    _order(world, order_id)
    return _listed(request, world.bigcommerce.order_products.get(order_id, []))


@router.get("/v2/orders/{order_id}/shipping_addresses")
async def list_shipping_addresses(order_id: int, request: Request, world: WorldDep) -> Any:
    _order(world, order_id)
    return _listed(request, world.bigcommerce.shipping_addresses.get(order_id, []))


@router.put("/v2/orders/{order_id}/shipping_addresses/{address_id}")
async def update_shipping_address(
    order_id: int, address_id: int, request: Request, background: BackgroundTasks, world: WorldDep
) -> JSON:
    order = _order(world, order_id)
    address = next(
        (a for a in world.bigcommerce.shipping_addresses.get(order_id, []) if a["id"] == address_id), None
    )
    if address is None:
        raise v2_error(404, "The requested resource was not found.")
    body = await _json(request, v2=True)
    if not isinstance(body, dict):
        raise v2_error(400, "The request body is not valid JSON.")
    unknown = [k for k in body if k not in ADDRESS_FIELDS and k not in ("shipping_method",)]
    if unknown:
        raise v2_error(400, f"The field '{unknown[0]}' is invalid.")
    address.update({k: str(v or "") for k, v in body.items()})
    if "country_iso2" in body and "country" not in body:
        address["country"] = "United States" if body["country_iso2"] == "US" else str(body["country_iso2"])
    _touch(world, order)
    emit(request, background, "store/order/updated", {"type": "order", "id": order_id})
    return address


@router.get("/v2/orders/{order_id}/shipments")
async def list_shipments(order_id: int, request: Request, world: WorldDep) -> Any:
    _order(world, order_id)
    return _listed(request, world.bigcommerce.shipments.get(order_id, []))


# --------------------------------------------------------------------------- V3 order metafields


@router.get("/v3/orders/{order_id}/metafields")
async def list_metafields(order_id: int, world: WorldDep) -> JSON:
    _v3_order(world, order_id)
    return _envelope(list(world.bigcommerce.metafields.get(order_id, [])))


# --------------------------------------------------------------------------- V3 refunds


def _paid_back(world: World, order_id: int) -> dict[str, Decimal]:
    back: dict[str, Decimal] = {}
    for refund in world.bigcommerce.refunds.get(order_id, []):
        for payment in refund["payments"]:
            if not payment.get("is_declined"):
                back[payment["provider_id"]] = back.get(payment["provider_id"], ZERO) + _dec(
                    payment["amount"], "amount"
                )
    return back


def _shipping_refunded(world: World, order_id: int) -> Decimal:
    return sum(
        (
            _dec(item.get("requested_amount") or 0, "amount")
            for refund in world.bigcommerce.refunds.get(order_id, [])
            for item in refund["items"]
            if item["item_type"] == "SHIPPING"
        ),
        ZERO,
    )


def quote(world: World, order_id: int, items: Any) -> tuple[JSON, list[JSON]]:
    """BigCommerce's refund arithmetic: (the quote, the items as they would be recorded)."""
    order = _v3_order(world, order_id)
    if not isinstance(items, list) or not items:
        raise v3_error(422, "JSON data is missing or invalid", {"items": "error.path.missing"})
    products = {p["id"]: p for p in world.bigcommerce.order_products.get(order_id, [])}
    addresses = {a["id"]: a for a in world.bigcommerce.shipping_addresses.get(order_id, [])}
    amount, tax = ZERO, ZERO
    shipping_left = _dec(order["shipping_cost_inc_tax"], "shipping") - _shipping_refunded(world, order_id)
    recorded: list[JSON] = []
    for raw in items:
        if not isinstance(raw, dict):
            raise v3_error(422, "JSON data is missing or invalid", {"items": "error.expected.jsobject"})
        kind, item_id = raw.get("item_type"), raw.get("item_id")
        reason = str(raw.get("reason") or "")
        if len(reason) > 1000:
            raise v3_error(422, "JSON data is missing or invalid", {"items.reason": "error.maxLength"})
        if kind == "PRODUCT":
            product = products.get(item_id) if isinstance(item_id, int) else None
            quantity = raw.get("quantity")
            if product is None:
                raise v3_error(422, f"Order product {item_id} does not exist on order {order_id}.")
            if not isinstance(quantity, int) or quantity < 1:
                raise v3_error(422, "JSON data is missing or invalid", {"items.quantity": "error.min"})
            done = int(product["quantity_refunded"])
            if quantity > product["quantity"] - done:
                raise v3_error(
                    422,
                    f"The quantity to refund for order product {item_id} exceeds the quantity refundable.",
                )
            whole, before, more = Decimal(product["quantity"]), Decimal(done), Decimal(quantity)
            discount = sum((_dec(d["amount"], "amount") for d in product["applied_discounts"]), ZERO)
            net = _dec(product["total_ex_tax"], "total") - discount
            line_tax = _dec(product["total_tax"], "tax")
            part_tax = share_of(line_tax, whole, before, more)
            amount += share_of(net, whole, before, more) + part_tax
            tax += part_tax
            recorded.append(
                {
                    "item_type": "PRODUCT",
                    "item_id": item_id,
                    "quantity": quantity,
                    "requested_amount": None,
                    "reason": reason,
                }
            )
        elif kind == "SHIPPING":
            if item_id not in addresses:
                raise v3_error(422, f"Order address {item_id} does not exist on order {order_id}.")
            requested = _dec(raw.get("amount"), "amount")
            if requested <= 0 or requested > shipping_left:
                raise v3_error(
                    422,
                    f"The shipping amount to refund for order address {item_id} exceeds the amount refundable.",
                )
            shipping_left -= requested
            amount += requested
            recorded.append(
                {
                    "item_type": "SHIPPING",
                    "item_id": item_id,
                    "quantity": None,
                    "requested_amount": float(requested),
                    "reason": reason,
                }
            )
        elif kind == "ORDER":
            requested = _dec(raw.get("amount"), "amount")
            if requested <= 0:
                raise v3_error(422, "JSON data is missing or invalid", {"items.amount": "error.min"})
            amount += requested
            recorded.append(
                {
                    "item_type": "ORDER",
                    "item_id": order_id,
                    "quantity": None,
                    "requested_amount": float(requested),
                    "reason": reason,
                }
            )
        else:
            raise v3_error(422, "JSON data is missing or invalid", {"items.item_type": "error.invalid"})
    remaining = _dec(order["total_inc_tax"], "total") - _dec(order["refunded_amount"], "refunded")
    total = min(_cents(amount), remaining)
    return {
        "order_id": order_id,
        "total_refund_amount": float(total),
        "total_refund_tax_amount": float(_cents(tax)),
        "order_level_refund_amount": 0,
        "rounding": 0,
        "adjustment": float(total - _cents(amount)),
        "tax_inclusive": True,
        "refund_methods": _methods(world, order, total),
    }, recorded


def _methods(world: World, order: JSON, total: Decimal) -> list[list[JSON]]:
    """The ways BigCommerce offers to pay `total` back, from how the order was paid."""
    if total <= 0:
        return []
    back = _paid_back(world, order["id"])
    payments = world.bigcommerce.payments.get(order["id"], [])
    options: list[JSON] = []
    left = total
    for payment in reversed(payments):  # the gateway first, then what else paid (a gift certificate)
        if left <= 0:
            break
        refundable = _dec(payment["amount"], "amount") - back.get(payment["provider_id"], ZERO)
        part = min(left, refundable)
        if part <= 0:
            continue
        offline = bool(payment["offline_provider"])
        options.append(
            {
                "provider_id": payment["provider_id"],
                "provider_description": payment["provider_description"],
                "amount": float(part),
                "offline": offline,
                "offline_provider": offline,
                "offline_reason": "This is an offline payment provider." if offline else "",
            }
        )
        left -= part
    methods: list[list[JSON]] = []
    if options and left <= 0:
        if len(options) == 1:
            methods.append(options)
        else:
            methods.append(options)  # a split payment is refunded split
    if order["customer_id"]:
        methods.append(
            [{"provider_id": "storecredit", "provider_description": "Store Credit", "amount": float(total),
              "offline": False, "offline_provider": False, "offline_reason": ""}]
        )  # fmt: skip
    methods.append(
        [{"provider_id": "custom", "provider_description": "Custom", "amount": float(total), "offline": True,
          "offline_provider": True, "offline_reason": "This is an offline payment provider."}]
    )  # fmt: skip
    return methods


@router.post("/v3/orders/{order_id}/payment_actions/refund_quotes", status_code=201)
async def create_refund_quote(order_id: int, request: Request, world: WorldDep) -> JSON:
    body = await _json(request, v2=False)
    if not isinstance(body, dict):
        raise v3_error(422, "JSON data is missing or invalid")
    data, _ = quote(world, order_id, body.get("items"))
    return _envelope(data)


@router.post("/v3/orders/{order_id}/payment_actions/refunds", status_code=201)
async def create_refund(
    order_id: int, request: Request, background: BackgroundTasks, world: WorldDep
) -> JSON:
    body = await _json(request, v2=False)
    if not isinstance(body, dict):
        raise v3_error(422, "JSON data is missing or invalid")
    order = _v3_order(world, order_id)
    data, recorded = quote(world, order_id, body.get("items"))
    payments = body.get("payments")
    if not isinstance(payments, list) or not payments:
        raise v3_error(422, "JSON data is missing or invalid", {"payments": "error.path.missing"})
    given: list[JSON] = []
    for raw in payments:
        if not isinstance(raw, dict) or not isinstance(raw.get("provider_id"), str):
            raise v3_error(
                422, "JSON data is missing or invalid", {"payments.provider_id": "error.path.missing"}
            )
        given.append(
            {
                "provider_id": raw["provider_id"],
                "amount": _dec(raw.get("amount"), "payments.amount"),
                "offline": bool(raw.get("offline")),
            }
        )
    if any(p["provider_id"] == "storecredit" for p in given) and not order["customer_id"]:
        raise VendorHTTPError(VENDOR, 422, "Unable to provide store credit for a guest customer.", code="{}")
    total = _dec(data["total_refund_amount"], "total")
    if sum((p["amount"] for p in given), ZERO) != total:
        raise v3_error(422, "The sum of the refund payments does not equal the refund amount.")
    offered = {
        (o["provider_id"], _dec(o["amount"], "amount")): bool(o["offline"])
        for method in data["refund_methods"]
        for o in method
    }
    for payment in given:
        key = (payment["provider_id"], payment["amount"])
        if key not in offered:
            raise v3_error(
                422, f"Refund payment provider {payment['provider_id']} is not available for this amount."
            )
        if offered[key] and not payment["offline"]:
            raise v3_error(
                422, f"Refund payment provider {payment['provider_id']} can only be refunded offline."
            )
    refund_id = world.new_int_id()
    reasons = [str(i["reason"]) for i in recorded if i.get("reason")]
    refund: JSON = {
        "id": refund_id,
        "order_id": order_id,
        "user_id": 0,
        "created": world.now().isoformat(),
        "reason": reasons[0] if reasons else "",
        "total_amount": float(total),
        "total_tax": data["total_refund_tax_amount"],
        "uses_merchant_override_values": False,
        "items": recorded,
        "payments": [
            {"id": world.new_int_id(), "provider_id": p["provider_id"], "amount": float(p["amount"]),
             "offline": p["offline"], "is_declined": False, "declined_message": ""}
            for p in given
        ],
    }  # fmt: skip
    world.bigcommerce.refunds.setdefault(order_id, []).append(refund)
    products = {p["id"]: p for p in world.bigcommerce.order_products.get(order_id, [])}
    for item in recorded:
        if item["item_type"] == "PRODUCT":
            product = products[item["item_id"]]
            product["quantity_refunded"] += item["quantity"]
            product["is_refunded"] = product["quantity_refunded"] >= product["quantity"]
    refunded = _dec(order["refunded_amount"], "refunded") + total
    order["refunded_amount"] = money(refunded)
    previous = order["status_id"]
    full = refunded >= _dec(order["total_inc_tax"], "total")
    if previous != CANCELLED:
        order["status_id"] = REFUNDED if full else PARTIALLY_REFUNDED
        order["status"] = order["custom_status"] = STATUS_NAMES[order["status_id"]]
    order["payment_status"] = "refunded" if full else "partially refunded"
    _touch(world, order)
    emit(
        request,
        background,
        "store/order/refund/created",
        {"type": "order", "id": order_id, "refund": {"refund_id": refund_id}},
    )
    if order["status_id"] != previous:
        emit(
            request,
            background,
            "store/order/statusUpdated",
            {
                "type": "order",
                "id": order_id,
                "status": {"previous_status_id": previous, "new_status_id": order["status_id"]},
            },
        )
    return _envelope(refund)


@router.get("/v3/orders/{order_id}/payment_actions/refunds")
async def list_refunds(order_id: int, world: WorldDep) -> JSON:
    _v3_order(world, order_id)
    return _envelope(sorted(world.bigcommerce.refunds.get(order_id, []), key=lambda r: r["id"]))


# --------------------------------------------------------------------------- V3 catalog


@router.get("/v3/catalog/products/{product_id}")
async def get_product(product_id: int, request: Request, world: WorldDep) -> JSON:
    product = world.bigcommerce.products.get(product_id)
    if product is None:
        raise v3_error(404, "The requested product was not found.")
    includes = request.query_params.get("include", "").split(",")
    shown = (
        product if "custom_fields" in includes else {k: v for k, v in product.items() if k != "custom_fields"}
    )
    return _envelope(shown)


# --------------------------------------------------------------------------- V3 hooks


def _hook_view(world: World, hook: JSON) -> JSON:
    return {**hook, "store_hash": world.credentials.bigcommerce_store_hash}


@router.get("/v3/hooks")
async def list_hooks(world: WorldDep) -> JSON:
    return _envelope([_hook_view(world, h) for _, h in sorted(world.bigcommerce.hooks.items())])


@router.post("/v3/hooks")
async def create_hook(request: Request, world: WorldDep) -> JSON:
    body = await _json(request, v2=False)
    if not isinstance(body, dict):
        raise v3_error(422, "JSON data is missing or invalid")
    scope, destination, headers = body.get("scope"), body.get("destination"), body.get("headers") or {}
    if scope not in HOOK_SCOPES:
        raise v3_error(422, "JSON data is missing or invalid", {"scope": "error.invalid"})
    if not isinstance(destination, str) or not destination.startswith(HTTP_ADDRESS):
        raise v3_error(422, "JSON data is missing or invalid", {"destination": "error.invalid"})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise v3_error(422, "JSON data is missing or invalid", {"headers": "error.expected.jsobject"})
    hook_id = world.new_int_id()
    now = int(world.now().timestamp())
    hook = {
        "id": hook_id,
        "client_id": "sandbox-client",
        "scope": scope,
        "destination": destination,
        "headers": dict(headers),
        "is_active": bool(body.get("is_active", True)),
        "created_at": now,
        "updated_at": now,
    }
    world.bigcommerce.hooks[hook_id] = hook
    return _envelope(_hook_view(world, hook))


@router.delete("/v3/hooks/{hook_id}")
async def delete_hook(hook_id: int, world: WorldDep) -> JSON:
    hook = world.bigcommerce.hooks.pop(hook_id, None)
    if hook is None:
        raise v3_error(404, "Webhook not found.")
    return _envelope(_hook_view(world, hook))


def _matches(hook_scope: str, scope: str) -> bool:
    return hook_scope == scope or (hook_scope.endswith("/*") and scope.startswith(hook_scope[:-1]))


def emit(request: Request, background: BackgroundTasks, scope: str, data: JSON) -> None:
    """Deliver `scope` to its active hooks once the call has been answered."""
    world: World = request.app.state.world
    for hook in sorted(world.bigcommerce.hooks.values(), key=lambda h: int(h["id"])):
        if hook["is_active"] and _matches(hook["scope"], scope):
            background.add_task(_deliver, request.app.state, world, hook, scope, data)


async def _deliver(state: Any, world: World, hook: JSON, scope: str, data: JSON) -> None:
    store_hash = world.credentials.bigcommerce_store_hash
    payload = {
        "scope": scope,
        "store_id": "1001",
        "data": data,
        "hash": hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest(),  # noqa: S324 (BigCommerce's)
        "created_at": int(world.now().timestamp()),
        "producer": f"stores/{store_hash}",
    }
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", **hook["headers"]}
    status = await sender_of(state)(hook["destination"], headers, body)
    world.bigcommerce_deliveries.append(
        {
            "hook": hook["id"],
            "scope": scope,
            "data": data,
            "address": hook["destination"],
            "status": status,
            "at": world.now_iso(),
        }
    )


# --------------------------------------------------------------------------- inspection and the warehouse


def inspection_view(world: World, order: JSON) -> JSON:
    """A BigCommerce order for the control API, in the same outline as a Shopify one."""
    oid = order["id"]
    trackers = {t["tracking_code"]: t for t in world.easypost.trackers.values()}
    addresses = world.bigcommerce.shipping_addresses.get(oid, [])
    return {
        "platform": "bigcommerce",
        "id": oid,
        "number": oid,
        "email": order["billing_address"].get("email"),
        "status_id": order["status_id"],
        "status": order["status"],
        "cancelled": order["status_id"] == CANCELLED,
        "total": order["total_inc_tax"],
        "refunded": order["refunded_amount"],
        "currency": order["currency_code"],
        "payment_method": order["payment_method"],
        "staff_notes": order["staff_notes"],
        "shipping_address": addresses[0] if addresses else None,
        "line_items": [
            {
                "id": p["id"],
                "title": p["name"],
                "sku": p.get("sku"),
                "quantity": p["quantity"],
                "quantity_refunded": p["quantity_refunded"],
                "total": p["total_inc_tax"],
            }
            for p in world.bigcommerce.order_products.get(oid, [])
        ],
        "shipments": [
            dict(s, tracker_status=trackers.get(s["tracking_number"], {}).get("status"))
            for s in world.bigcommerce.shipments.get(oid, [])
        ],
        "refunds": world.bigcommerce.refunds.get(oid, []),
        "payments": world.bigcommerce.payments.get(oid, []),
    }


def refund_rows(world: World) -> list[JSON]:
    rows: list[JSON] = []
    for oid, refunds in world.bigcommerce.refunds.items():
        order = world.bigcommerce.orders[oid]
        for refund in refunds:
            rows.append(
                {
                    "vendor": "bigcommerce",
                    "id": refund["id"],
                    "order_number": oid,
                    "amount": money(Decimal(str(refund["total_amount"]))),
                    "currency": order["currency_code"],
                    "created_at": refund["created"],
                    "note": refund.get("reason"),
                    "payments": refund["payments"],
                }
            )
    return rows


def shippable(world: World, number: int) -> bool:
    from integrations.bigcommerce.models import UNSHIPPED_STATUSES

    order = world.bigcommerce.orders.get(number)
    return (
        order is not None
        and order["status_id"] in UNSHIPPED_STATUSES
        and not world.bigcommerce.shipments.get(number)
    )


async def ship(state: Any, world: World, number: int, shopify_order: JSON) -> list[JSON]:
    """The warehouse ships a BigCommerce order (after `sandbox.seed.fulfil` made the tracker and the
    Shopify fulfilment): a V2 shipment with its tracking number, the order Shipped, and the hooks of
    `store/shipment/created` and `store/order/statusUpdated` delivered. Returns the deliveries made."""
    from sandbox.bigcommerce_seed import bigcommerce_order

    order = world.bigcommerce.orders[number]
    restated = bigcommerce_order(shopify_order, world.shopify.transactions.get(shopify_order["id"], []))
    shipment = dict(restated["shipments"][-1], id=world.new_int_id())
    world.bigcommerce.shipments.setdefault(number, []).append(shipment)
    for product in world.bigcommerce.order_products.get(number, []):
        product["quantity_shipped"] = product["quantity"]
    for address in world.bigcommerce.shipping_addresses.get(number, []):
        address["items_shipped"] = address["items_total"]
    previous = order["status_id"]
    order["items_shipped"] = order["items_total"]
    order["status_id"], order["status"] = 2, STATUS_NAMES[2]
    order["custom_status"] = order["status"]
    order["date_shipped"] = rfc2822(world.now())
    _touch(world, order)
    before = len(world.bigcommerce_deliveries)
    changes = [
        ("store/shipment/created", {"type": "shipment", "id": shipment["id"], "orderId": number}),
        ("store/order/statusUpdated", {"type": "order", "id": number, "status": {"previous_status_id": previous, "new_status_id": 2}}),
    ]  # fmt: skip
    for scope, data in changes:
        for hook in sorted(world.bigcommerce.hooks.values(), key=lambda h: int(h["id"])):
            if hook["is_active"] and _matches(hook["scope"], scope):
                await _deliver(state, world, hook, scope, data)
    return world.bigcommerce_deliveries[before:]

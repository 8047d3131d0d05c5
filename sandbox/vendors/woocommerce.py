"""Emulator of the WooCommerce REST API v3 (routes relative to `/woocommerce/wp-json/wc/v3`).

It answers as WooCommerce does: bare resources and bare lists; errors in the WordPress shape
`{"code", "message", "data": {"status"}}` (`woocommerce_rest_shop_order_invalid_id` for an
unknown order, `rest_invalid_param` for a bad parameter, `woocommerce_rest_authentication_error`
for a wrong consumer key); `page` / `per_page` (1-100) pagination with `X-WP-Total`,
`X-WP-TotalPages` and a `Link` header; order `search` matching the number and the billing
email and names. Refunds follow `wc_create_refund`: the amount must be positive and at most what
is left (`Invalid refund amount.`), and with `api_refund` the order's gateway must support
refunds, else nothing is recorded; a refund of everything left marks the order `refunded`.

Webhooks (`POST /webhooks` with a `topic` and `delivery_url`) are delivered after the change is
answered, as WooCommerce does from its queue: `order.updated` when an order is changed or
refunded, the body the order as the API shows it, signed in `X-WC-Webhook-Signature` (base64
HMAC-SHA256 of the exact bytes with the webhook's secret), with `X-WC-Webhook-Topic`,
`-Resource`, `-Event`, `-Source`, `-ID` and a unique `-Delivery-ID`; each delivery is logged in
`world.woocommerce_deliveries`.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response

from sandbox.http import VendorHTTPError, WorldDep, require_woocommerce
from sandbox.seed import money
from sandbox.shopify_webhooks import HTTP_ADDRESS, sender_of, sign
from sandbox.woocommerce_seed import wc_date
from sandbox.world import JSON, World

router = APIRouter(dependencies=[Depends(require_woocommerce)])

MAX_PER_PAGE = 100
ZERO = Decimal("0")
# Gateways whose plugin implements `process_refund` (WooCommerce's `supports('refunds')`).
REFUNDING_GATEWAYS = {"woocommerce_payments", "stripe", "ppcp-gateway", "paypal"}
STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "trash")
ADDRESS_FIELDS = (
    "first_name", "last_name", "company", "address_1", "address_2", "city", "state", "postcode", "country",
    "phone",
)  # fmt: skip


def error(status: int, code: str, message: str) -> VendorHTTPError:
    return VendorHTTPError("woocommerce", status, message, code=code)


def invalid_order() -> VendorHTTPError:
    return error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")


def _order(world: World, order_id: int) -> JSON:
    order = world.woocommerce.orders.get(order_id)
    if order is None:
        raise invalid_order()
    return order


def _dec(value: Any, name: str) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else ZERO
    except InvalidOperation:
        raise error(400, "rest_invalid_param", f"Invalid parameter(s): {name}") from None


async def _json(request: Request) -> JSON:
    try:
        data = json.loads(await request.body() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise error(400, "rest_invalid_json", "Invalid JSON body passed.") from None
    if not isinstance(data, dict):
        raise error(400, "rest_invalid_json", "Invalid JSON body passed.")
    return data


def _paging(request: Request) -> tuple[int, int]:
    try:
        page = int(request.query_params.get("page", "1"))
        per_page = int(request.query_params.get("per_page", "10"))
    except ValueError:
        raise error(400, "rest_invalid_param", "Invalid parameter(s): page, per_page") from None
    if page < 1:
        raise error(400, "rest_invalid_param", "Invalid parameter(s): page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise error(400, "rest_invalid_param", "Invalid parameter(s): per_page")
    return page, per_page


def _paged(request: Request, response: Response, items: list[JSON]) -> list[JSON]:
    page, per_page = _paging(request)
    total = len(items)
    pages = math.ceil(total / per_page) if total else 0
    if page > max(pages, 1):
        raise error(
            400,
            "rest_post_invalid_page_number",
            "The page number requested is larger than the number of pages available.",
        )
    response.headers["X-WP-Total"] = str(total)
    response.headers["X-WP-TotalPages"] = str(pages)
    links = []
    base = str(request.url.remove_query_params(["page"]))
    joiner = "&" if "?" in base else "?"
    if page > 1:
        links.append(f'<{base}{joiner}page={page - 1}>; rel="prev"')
    if page < pages:
        links.append(f'<{base}{joiner}page={page + 1}>; rel="next"')
    if pages > 1:
        links += [f'<{base}{joiner}page=1>; rel="first"', f'<{base}{joiner}page={pages}>; rel="last"']
    if links:
        response.headers["Link"] = ", ".join(links)
    return items[(page - 1) * per_page : page * per_page]


def _matches(order: JSON, term: str) -> bool:
    term = term.strip().lower()
    billing = order.get("billing") or {}
    haystack = [
        str(order.get("number", "")),
        str(order.get("id", "")),
        str(billing.get("email", "")),
        str(billing.get("first_name", "")),
        str(billing.get("last_name", "")),
    ]
    return any(term and term in value.lower() for value in haystack)


# --------------------------------------------------------------------------- orders


@router.get("/orders")
async def list_orders(request: Request, response: Response, world: WorldDep) -> list[JSON]:
    orders = list(world.woocommerce.orders.values())
    search = request.query_params.get("search")
    if search:
        orders = [o for o in orders if _matches(o, search)]
    statuses = [s for s in request.query_params.get("status", "any").split(",") if s]
    if statuses and "any" not in statuses:
        unknown = [s for s in statuses if s not in STATUSES]
        if unknown:
            raise error(400, "rest_invalid_param", "Invalid parameter(s): status")
        orders = [o for o in orders if o["status"] in statuses]
    orderby = request.query_params.get("orderby", "date")
    key = {"date": "date_created_gmt", "id": "id", "modified": "date_modified_gmt"}.get(orderby)
    if key is None:
        raise error(400, "rest_invalid_param", "Invalid parameter(s): orderby")
    descending = request.query_params.get("order", "desc") != "asc"
    orders.sort(key=lambda o: (o.get(key) or "", o["id"]), reverse=descending)
    return _paged(request, response, orders)


@router.get("/orders/{order_id}")
async def get_order(order_id: int, world: WorldDep) -> JSON:
    return _order(world, order_id)


@router.put("/orders/{order_id}")
async def update_order(order_id: int, request: Request, background: BackgroundTasks, world: WorldDep) -> JSON:
    order = _order(world, order_id)
    body = await _json(request)
    status = body.get("status")
    if status is not None:
        if status not in STATUSES:
            raise error(400, "rest_invalid_param", "Invalid parameter(s): status")
        order["status"] = status
    for part in ("shipping", "billing"):
        if part in body:
            changes = body[part]
            if not isinstance(changes, dict):
                raise error(400, "rest_invalid_param", f"Invalid parameter(s): {part}")
            allowed = ADDRESS_FIELDS + (("email",) if part == "billing" else ())
            order[part] = {**order[part], **{k: str(v or "") for k, v in changes.items() if k in allowed}}
    if "customer_note" in body:
        order["customer_note"] = str(body["customer_note"] or "")
    order["date_modified"] = order["date_modified_gmt"] = wc_date(world.now())
    emit(request, background, "order.updated", order)
    return order


# --------------------------------------------------------------------------- notes


@router.get("/orders/{order_id}/notes")
async def list_notes(order_id: int, request: Request, world: WorldDep) -> list[JSON]:
    _order(world, order_id)
    kind = request.query_params.get("type", "any")
    notes = list(reversed(world.woocommerce.notes.get(order_id, [])))
    if kind == "customer":
        return [n for n in notes if n["customer_note"]]
    if kind == "internal":
        return [n for n in notes if not n["customer_note"]]
    return notes


@router.post("/orders/{order_id}/notes", status_code=201)
async def create_note(order_id: int, request: Request, world: WorldDep) -> JSON:
    _order(world, order_id)
    body = await _json(request)
    text = body.get("note")
    if not isinstance(text, str) or not text.strip():
        raise error(400, "rest_missing_callback_param", "Missing parameter(s): note")
    note = {
        "id": world.new_int_id(),
        "author": "WooCommerce",
        "date_created": wc_date(world.now()),
        "date_created_gmt": wc_date(world.now()),
        "note": text,
        "customer_note": bool(body.get("customer_note", False)),
    }
    world.woocommerce.notes.setdefault(order_id, []).append(note)
    return note


# --------------------------------------------------------------------------- refunds


@router.get("/orders/{order_id}/refunds")
async def list_refunds(order_id: int, request: Request, response: Response, world: WorldDep) -> list[JSON]:
    _order(world, order_id)
    refunds = list(reversed(world.woocommerce.refunds.get(order_id, [])))
    return _paged(request, response, refunds)


@router.get("/orders/{order_id}/refunds/{refund_id}")
async def get_refund(order_id: int, refund_id: int, world: WorldDep) -> JSON:
    _order(world, order_id)
    for refund in world.woocommerce.refunds.get(order_id, []):
        if refund["id"] == refund_id:
            return refund
    raise error(404, "woocommerce_rest_invalid_id", "Invalid ID.")


def _refunded_units(world: World, order_id: int) -> dict[int, int]:
    units: dict[int, int] = {}
    for refund in world.woocommerce.refunds.get(order_id, []):
        for line in refund["line_items"]:
            for meta in line.get("meta_data", []):
                if meta["key"] == "_refunded_item_id":
                    item = int(meta["value"])
                    units[item] = units.get(item, 0) + abs(int(line["quantity"]))
    return units


@router.post("/orders/{order_id}/refunds", status_code=201)
async def create_refund(
    order_id: int, request: Request, background: BackgroundTasks, world: WorldDep
) -> JSON:
    order = _order(world, order_id)
    body = await _json(request)
    items = {li["id"]: li for li in order["line_items"]}
    shipping = {sl["id"]: sl for sl in order["shipping_lines"]}
    done = _refunded_units(world, order_id)
    refund_id = world.new_int_id()
    lines: list[JSON] = []
    shipping_lines: list[JSON] = []
    line_total = ZERO
    raw_lines = body.get("line_items") or []
    if not isinstance(raw_lines, list):
        raise error(400, "rest_invalid_param", "Invalid parameter(s): line_items")
    for index, raw in enumerate(raw_lines, start=1):
        try:
            item_id = int(raw["id"])
        except (KeyError, TypeError, ValueError):
            raise error(400, "rest_invalid_param", "Invalid parameter(s): line_items") from None
        total = _dec(raw.get("refund_total"), "line_items")
        taxes = sum((_dec(t.get("refund_total"), "line_items") for t in raw.get("refund_tax") or []), ZERO)
        quantity = int(raw.get("quantity") or 0)
        meta = [{"key": "_refunded_item_id", "value": str(item_id)}]
        if item_id in items:
            item = items[item_id]
            if quantity > item["quantity"] - done.get(item_id, 0):
                raise error(500, "woocommerce_rest_cannot_create_order_refund", "Invalid refund quantity.")
            lines.append(
                {
                    "id": refund_id * 100 + index,
                    "name": item["name"],
                    "product_id": item["product_id"],
                    "quantity": -quantity,
                    "total": money(-total),
                    "total_tax": money(-taxes),
                    "meta_data": meta,
                }
            )
        elif item_id in shipping:
            shipping_lines.append(
                {
                    "id": refund_id * 100 + index,
                    "method_title": shipping[item_id]["method_title"],
                    "total": money(-total),
                    "total_tax": money(-taxes),
                    "meta_data": meta,
                }
            )
        else:
            raise error(500, "woocommerce_rest_cannot_create_order_refund", "Invalid line item.")
        line_total += total + taxes
    amount = _dec(body["amount"], "amount") if body.get("amount") not in (None, "") else line_total
    if amount <= 0:
        raise error(400, "woocommerce_rest_invalid_order_refund", "Refund amount must be greater than zero.")
    refunded = sum((Decimal(r["amount"]) for r in world.woocommerce.refunds.get(order_id, [])), ZERO)
    remaining = Decimal(order["total"]) - refunded
    if amount > remaining:
        raise error(500, "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.")
    api_refund = body.get("api_refund", True) not in (False, "false", 0, "0")
    if api_refund and order["payment_method"] not in REFUNDING_GATEWAYS:
        raise error(
            500,
            "woocommerce_rest_cannot_create_order_refund",
            "The payment gateway for this order does not support automatic refunds.",
        )
    refund: JSON = {
        "id": refund_id,
        "date_created": wc_date(world.now()),
        "date_created_gmt": wc_date(world.now()),
        "amount": money(amount),
        "reason": str(body.get("reason") or ""),
        "refunded_by": 1,
        "refunded_payment": api_refund,
        "meta_data": [],
        "line_items": lines,
        "shipping_lines": shipping_lines,
    }
    world.woocommerce.refunds.setdefault(order_id, []).append(refund)
    order["refunds"].insert(0, {"id": refund_id, "reason": refund["reason"], "total": "-" + refund["amount"]})
    if amount == remaining:
        order["status"] = "refunded"
    order["date_modified"] = order["date_modified_gmt"] = wc_date(world.now())
    emit(request, background, "order.updated", order)
    return refund


# --------------------------------------------------------------------------- products


@router.get("/products/{product_id}")
async def get_product(product_id: int, world: WorldDep) -> JSON:
    product = world.woocommerce.products.get(product_id)
    if product is None:
        raise error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
    return product


# --------------------------------------------------------------------------- webhooks

WEBHOOK_TOPICS = {"order.created", "order.updated", "order.deleted", "order.restored"}


@router.get("/webhooks")
async def list_webhooks(request: Request, response: Response, world: WorldDep) -> list[JSON]:
    hooks = [_public(h) for _, h in sorted(world.woocommerce.webhooks.items())]
    return _paged(request, response, hooks)


@router.post("/webhooks", status_code=201)
async def create_webhook(request: Request, world: WorldDep) -> JSON:
    body = await _json(request)
    topic, url = body.get("topic"), body.get("delivery_url")
    if topic not in WEBHOOK_TOPICS:
        raise error(400, "rest_invalid_param", "Invalid parameter(s): topic")
    if not isinstance(url, str) or not url.startswith(HTTP_ADDRESS):
        raise error(400, "rest_invalid_param", "Invalid parameter(s): delivery_url")
    hook_id = world.new_int_id()
    hook = {
        "id": hook_id,
        "name": str(body.get("name") or f"Webhook {hook_id}"),
        "status": str(body.get("status") or "active"),
        "topic": topic,
        "resource": topic.split(".")[0],
        "event": topic.split(".")[1],
        "delivery_url": url,
        "secret": str(body.get("secret") or world.credentials.woocommerce_webhook_secret),
        "date_created_gmt": wc_date(world.now()),
    }
    world.woocommerce.webhooks[hook_id] = hook
    return _public(hook)


@router.delete("/webhooks/{webhook_id}")
async def delete_webhook(webhook_id: int, request: Request, world: WorldDep) -> JSON:
    hook = world.woocommerce.webhooks.get(webhook_id)
    if hook is None:
        raise error(404, "woocommerce_rest_webhook_invalid_id", "Invalid ID.")
    if request.query_params.get("force") not in ("true", "1"):
        raise error(501, "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.")
    del world.woocommerce.webhooks[webhook_id]
    return _public(hook)


def _public(hook: JSON) -> JSON:
    return {k: v for k, v in hook.items() if k != "secret"}  # the secret is write-only


def emit(request: Request, background: BackgroundTasks, topic: str, order: JSON) -> None:
    """Deliver `topic` for this order to its subscribers once the call has been answered."""
    world: World = request.app.state.world
    body = json.dumps(order, separators=(",", ":")).encode()
    for hook in sorted(world.woocommerce.webhooks.values(), key=lambda h: int(h["id"])):
        if hook["topic"] == topic and hook["status"] == "active":
            background.add_task(_deliver, request.app.state, world, hook, topic, body, int(order["id"]))


async def _deliver(state: Any, world: World, hook: JSON, topic: str, body: bytes, order_id: int) -> None:
    resource, _, event = topic.partition(".")
    delivery_id = world.new_int_id()
    headers = {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": world.woocommerce.site_url.rstrip("/") + "/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": sign(body, hook["secret"]),  # base64 HMAC-SHA256, as Shopify's
        "X-WC-Webhook-ID": str(hook["id"]),
        "X-WC-Webhook-Delivery-ID": str(delivery_id),
    }
    status = await sender_of(state)(hook["delivery_url"], headers, body)
    world.woocommerce_deliveries.append(
        {
            "delivery_id": delivery_id,
            "webhook": hook["id"],
            "topic": topic,
            "address": hook["delivery_url"],
            "resource_id": order_id,
            "status": status,
            "at": world.now_iso(),
        }
    )

"""The inspection and control API under `/_sandbox/`: look at the world and act on it.

For tests, evals and a person trying the demo: read what the agent did (refunds, labels,
tickets, emails), break vendors on purpose, move the clock, reset, and play the human agent in
the helpdesk (which sends the webhook a real helpdesk would).

Open by default (a loopback demo, tests, evals). With a control token set on the app
(`SANDBOX_CONTROL_TOKEN`, required to serve the demo beyond loopback) every route needs
`Authorization: Bearer <token>`: whoever reaches the control API can reset the store, approve
refunds and read every customer's orders and emails.
"""

from __future__ import annotations

import copy
import hmac
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from integrations.woocommerce.models import TRACKING_META_KEY, UNFULFILLED_STATUSES
from sandbox import easypost_webhooks, shopify_webhooks
from sandbox.helpdesks import DESKS, Desk, DeskError, Outgoing, desk_of, ticket_views
from sandbox.http import WorldDep
from sandbox.seed import SeedEvent, SeedFulfillment, SeedTracker, build_world, fulfil
from sandbox.vendors import bigcommerce
from sandbox.vendors import twilio as twilio_emulator
from sandbox.vendors.gorgias import call_limiter
from sandbox.webhooks import WebhookSender, encode_body
from sandbox.woocommerce_seed import woocommerce_order
from sandbox.world import JSON, Fault, HelpdeskWebhook, World

CONTROL_TOKEN_HELP = "The sandbox control API needs `Authorization: Bearer <SANDBOX_CONTROL_TOKEN>`."


async def require_control_token(request: Request) -> None:
    """Refuse the call unless it carries the app's control token (when one is set)."""
    expected: str | None = getattr(request.app.state, "control_token", None)
    if not expected:
        return
    scheme, _, given = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise HTTPException(401, CONTROL_TOKEN_HELP, headers={"WWW-Authenticate": "Bearer"})


router = APIRouter(dependencies=[Depends(require_control_token)])


def _order_view(world: World, order: JSON) -> JSON:
    trackers = {t["tracking_code"]: t for t in world.easypost.trackers.values()}
    return {
        "id": order["id"],
        "number": order["order_number"],
        "name": order["name"],
        "email": order["email"],
        "created_at": order["created_at"],
        "financial_status": order["financial_status"],
        "fulfillment_status": order["fulfillment_status"],
        "cancelled_at": order.get("cancelled_at"),
        "total_price": order["total_price"],
        "currency": order["currency"],
        "note": order.get("note"),
        "tags": order.get("tags", ""),
        "shipping_address": order.get("shipping_address"),
        "line_items": [
            {
                "id": li["id"],
                "title": li["name"],
                "sku": li.get("sku"),
                "quantity": li["quantity"],
                "price": li["price"],
            }
            for li in order["line_items"]
        ],
        "fulfillments": [
            {
                "id": f["id"],
                "created_at": f["created_at"],
                "tracking_company": f.get("tracking_company"),
                "tracking_number": f.get("tracking_number"),
                "shipment_status": f.get("shipment_status"),
                "tracker_status": trackers.get(f.get("tracking_number") or "", {}).get("status"),
            }
            for f in order.get("fulfillments", [])
        ],
        "refunds": order.get("refunds", []),
        "transactions": world.shopify.transactions.get(order["id"], []),
    }


def _woocommerce_view(world: World, order: JSON) -> JSON:
    """A WooCommerce order for inspection, in the same outline as a Shopify one."""
    trackers = {t["tracking_code"]: t for t in world.easypost.trackers.values()}
    tracking: list[JSON] = next(
        (m["value"] for m in order.get("meta_data", []) if m["key"] == TRACKING_META_KEY), []
    )
    refunds = world.woocommerce.refunds.get(order["id"], [])
    return {
        "platform": "woocommerce",
        "id": order["id"],
        "number": int(order["number"]),
        "email": order["billing"].get("email"),
        "status": order["status"],
        "cancelled": order["status"] == "cancelled",
        "total": order["total"],
        "refunded": str(sum((Decimal(r["amount"]) for r in refunds), Decimal(0))),
        "currency": order["currency"],
        "payment_method": order["payment_method"],
        "shipping": order["shipping"],
        "line_items": [
            {
                "id": li["id"],
                "title": li["name"],
                "sku": li.get("sku"),
                "quantity": li["quantity"],
                "total": li["total"],
            }
            for li in order["line_items"]
        ],
        "tracking": [
            dict(item, tracker_status=trackers.get(item["tracking_number"], {}).get("status"))
            for item in tracking
        ],
        "refunds": refunds,
        "notes": world.woocommerce.notes.get(order["id"], []),
    }


@router.get("/orders/{number}")
async def get_order(number: int, world: WorldDep) -> JSON:
    """The order as the store holds it (on the configured platform): tracking, refunds, notes."""
    if world.store_platform == "woocommerce":
        woo = world.woocommerce.orders.get(number)
        if woo is None:
            raise HTTPException(404, f"No order #{number} in the sandbox store.")
        return _woocommerce_view(world, woo)
    if world.store_platform == "bigcommerce":
        bc = world.bigcommerce.orders.get(number)
        if bc is None:
            raise HTTPException(404, f"No order #{number} in the sandbox store.")
        return bigcommerce.inspection_view(world, bc)
    order = world.order_by_number(number)
    if order is None:
        raise HTTPException(404, f"No order #{number} in the sandbox store.")
    return _order_view(world, order)


class FulfilBody(BaseModel):
    carrier: Literal["UPS", "USPS", "FedEx", "DHL"] = "USPS"
    tracking_number: str = Field(min_length=4, max_length=40)
    service: str = "Ground"


@router.post("/orders/{number}/fulfil")
async def fulfil_order(number: int, body: FulfilBody, request: Request, world: WorldDep) -> JSON:
    """Ship an order, as the warehouse would in Shopify's admin: a fulfilment with tracking, then
    Shopify's webhooks (fulfillments/create, orders/fulfilled, orders/updated) to their subscribers."""
    order = world.order_by_number(number)
    if order is None:
        raise HTTPException(404, f"No order #{number} in the sandbox store.")
    if order.get("cancelled_at") is not None or order.get("fulfillment_status") == "fulfilled":
        raise HTTPException(409, f"Order #{number} is cancelled or already fulfilled.")
    tracker = SeedTracker(
        status="pre_transit",
        events=[SeedEvent(days_ago=0, status="pre_transit", message="Shipping label created")],
    )
    shipment = SeedFulfillment(
        days_ago=0,
        carrier=body.carrier,
        service=body.service,
        tracking_number=body.tracking_number,
        tracker=tracker,
    )
    woo = world.woocommerce.orders.get(number) if world.store_platform == "woocommerce" else None
    if world.store_platform == "woocommerce" and (woo is None or woo["status"] not in UNFULFILLED_STATUSES):
        raise HTTPException(409, f"Order #{number} is cancelled or already fulfilled.")
    if world.store_platform == "bigcommerce" and not bigcommerce.shippable(world, number):
        raise HTTPException(409, f"Order #{number} is cancelled or already fulfilled.")
    fulfil(world, world.now(), order, shipment)
    if world.store_platform == "bigcommerce":  # the warehouse ships it in BigCommerce: a V2 shipment
        made = await bigcommerce.ship(request.app.state, world, number, order)
        return {
            "order": bigcommerce.inspection_view(world, world.bigcommerce.orders[number]),
            "webhooks": made,
        }
    if woo is not None:
        # The warehouse ships it in WooCommerce: a Shipment Tracking item, the order `completed`.
        restated, _, _ = woocommerce_order(order)
        woo["meta_data"] = [m for m in woo["meta_data"] if m["key"] != TRACKING_META_KEY] + [
            m for m in restated["meta_data"] if m["key"] == TRACKING_META_KEY
        ]
        woo["status"] = "completed"
        return {"order": _woocommerce_view(world, woo), "webhooks": []}
    events = [
        ("fulfillments/create", order["fulfillments"][-1]),
        ("orders/fulfilled", order),
        ("orders/updated", order),
    ]
    deliveries = await shopify_webhooks.deliver(
        world, shopify_webhooks.sender_of(request.app.state), [(t, copy.deepcopy(r)) for t, r in events]
    )
    return {"order": _order_view(world, order), "webhooks": deliveries}


@router.get("/shopify/webhook-deliveries")
async def list_shopify_deliveries(world: WorldDep) -> list[JSON]:
    """Every Shopify webhook the store delivered: topic, address, delivery id and the status it got."""
    return world.shopify_deliveries


@router.get("/orders")
async def list_orders(world: WorldDep) -> list[JSON]:
    if world.store_platform == "woocommerce":
        return [_woocommerce_view(world, o) for _, o in sorted(world.woocommerce.orders.items())]
    if world.store_platform == "bigcommerce":
        return [bigcommerce.inspection_view(world, o) for _, o in sorted(world.bigcommerce.orders.items())]
    return [
        _order_view(world, o) for o in sorted(world.shopify.orders.values(), key=lambda o: o["order_number"])
    ]


def _woocommerce_refunds(world: World) -> list[JSON]:
    rows: list[JSON] = []
    for order_id, refunds in world.woocommerce.refunds.items():
        order = world.woocommerce.orders[order_id]
        for refund in refunds:
            rows.append(
                {
                    "vendor": "woocommerce",
                    "id": refund["id"],
                    "order_number": int(order["number"]),
                    "amount": refund["amount"],
                    "currency": order["currency"],
                    "created_at": refund["date_created_gmt"],
                    "note": refund.get("reason"),
                    "refunded_payment": refund.get("refunded_payment"),
                }
            )
    return rows


@router.get("/refunds")
async def list_refunds(world: WorldDep) -> list[JSON]:
    """Every refund: Shopify refunds (per order, with their transactions) and Stripe refunds."""
    rows: list[JSON] = []
    for order in world.shopify.orders.values():
        for refund in order.get("refunds", []):
            amount = sum(
                (Decimal(t["amount"]) for t in refund.get("transactions", []) if t.get("kind") == "refund"),
                Decimal(0),
            )
            rows.append(
                {
                    "vendor": "shopify",
                    "id": refund["id"],
                    "order_number": order["order_number"],
                    "amount": str(amount),
                    "currency": order["currency"],
                    "created_at": refund["created_at"],
                    "note": refund.get("note"),
                    "transactions": refund.get("transactions", []),
                }
            )
    if world.store_platform == "woocommerce":
        rows = _woocommerce_refunds(world)  # the agent's store is WooCommerce
    if world.store_platform == "bigcommerce":
        rows = bigcommerce.refund_rows(world)
    for refund in world.stripe.refunds.values():
        rows.append(
            {
                "vendor": "stripe",
                "id": refund["id"],
                "payment_intent": refund.get("payment_intent"),
                "order_number": (refund.get("metadata") or {}).get("order_number"),
                "amount": str(Decimal(refund["amount"]) / 100),
                "currency": refund.get("currency", "usd").upper(),
                "status": refund.get("status"),
                "created": refund.get("created"),
                "metadata": refund.get("metadata", {}),
            }
        )
    return rows


@router.get("/labels")
async def list_labels(world: WorldDep) -> list[JSON]:
    """Shipments that bought a label (return labels have `is_return`)."""
    rows: list[JSON] = []
    for shipment in world.easypost.shipments.values():
        label = shipment.get("postage_label")
        if not label:
            continue
        rate = shipment.get("selected_rate") or {}
        rows.append(
            {
                "id": shipment["id"],
                "is_return": shipment.get("is_return", False),
                "tracking_code": shipment.get("tracking_code"),
                "label_url": label.get("label_url"),
                "carrier": rate.get("carrier"),
                "service": rate.get("service"),
                "rate": rate.get("rate"),
                "reference": shipment.get("reference"),
                "options": shipment.get("options", {}),
                "created_at": shipment.get("created_at"),
            }
        )
    return rows


@router.get("/tickets")
async def list_tickets(world: WorldDep) -> list[JSON]:
    """The configured helpdesk's tickets with their messages and tags, in one vendor-neutral view."""
    _desk(world)
    return ticket_views(world)


@router.get("/tickets/{ticket_id}")
async def get_ticket(ticket_id: int, world: WorldDep) -> JSON:
    ticket = _desk(world).view(world, ticket_id)
    if ticket is None:
        raise HTTPException(404, f"No ticket {ticket_id}.")
    return ticket


@router.get("/gorgias/rate-limit")
async def gorgias_rate_limit(request: Request, world: WorldDep) -> JSON:
    """The helpdesk account's API budget: its limit, calls in the current window, and how many
    requests were refused with 429 since the sandbox started (a client that honours `Retry-After`
    and the call-limit header sees at most one per burst)."""
    limiter = call_limiter(request.app.state)
    return {
        "limit": limiter.limit,
        "window_seconds": limiter.window,
        "calls_in_window": limiter.usage(world, world.credentials.gorgias_api_key),
        "rejected_429": limiter.rejected,
    }


@router.get("/outbox")
async def list_outbox(world: WorldDep) -> list[JSON]:
    """Emails accepted by the SendGrid emulator, newest last."""
    return world.sendgrid.outbox


@router.get("/world")
async def get_world_state(world: WorldDep) -> JSON:
    """The whole business state and its hash."""
    return {"digest": world.digest(), "clock": world.now_iso(), "state": world.snapshot()}


@router.get("/faults")
async def list_faults(world: WorldDep) -> list[Fault]:
    return world.faults


@router.post("/faults", status_code=201)
async def add_fault(fault: Fault, world: WorldDep) -> list[Fault]:
    """Make the next `remaining` matching calls fail (429 with Retry-After, 500, delay, malformed)."""
    world.faults.append(fault)
    return world.faults


@router.delete("/faults")
async def clear_faults(world: WorldDep) -> list[Fault]:
    world.faults.clear()
    return world.faults


class ClockBody(BaseModel):
    now: datetime = Field(description="The new world time (ISO 8601 with a timezone).")


@router.post("/clock")
async def set_clock(body: ClockBody, request: Request, world: WorldDep) -> JSON:
    """Move the world's clock. Scheduled tracker scans now due happen (EasyPost's `tracker.updated`
    webhooks go out), and in the demo the agent checks its shipped parcels at once."""
    if body.now.tzinfo is None:
        raise HTTPException(422, "The time needs a timezone, e.g. 2026-11-21T09:00:00Z.")
    before = world.clock
    world.clock = body.now
    sender = twilio_emulator.raw_sender_of(request.app.state)
    trackers = await easypost_webhooks.run_clock(world, sender, before)
    answer: JSON = {"clock": world.now_iso(), "tracker_webhooks": trackers}
    hook = getattr(request.app.state, "on_clock_moved", None)
    if hook is not None:
        answer["sweep"] = await hook()
    return answer


class ScanBody(BaseModel):
    status: Literal[
        "pre_transit",
        "in_transit",
        "out_for_delivery",
        "delivered",
        "return_to_sender",
        "failure",
        "error",
        "unknown",
    ]
    message: str = Field("Carrier update", max_length=200)
    status_detail: str | None = Field(None, description="EasyPost's status_detail, e.g. address_not_found.")
    city: str | None = None
    state: str | None = None
    at: datetime | None = Field(
        None, description="When the scan happens (default: now; later: when the clock gets there)."
    )


@router.post("/trackers/{tracking_code}/advance")
async def advance_tracker(tracking_code: str, body: ScanBody, request: Request, world: WorldDep) -> JSON:
    """A carrier scan on a parcel, as the carrier would report it: the tracker's status follows and
    EasyPost's `tracker.updated` webhook goes out (or, with a later `at`, when the clock reaches it)."""
    tracker = next((t for t in world.easypost.trackers.values() if t["tracking_code"] == tracking_code), None)
    if tracker is None:
        raise HTTPException(404, f"No tracker for {tracking_code}.")
    at = body.at or world.now()
    if at.tzinfo is None:
        raise HTTPException(422, "`at` needs a timezone.")
    detail = {
        "object": "TrackingDetail",
        "message": body.message,
        "description": body.message,
        "status": body.status,
        "status_detail": body.status_detail or "status_update",
        "datetime": at.isoformat().replace("+00:00", "Z"),
        "source": tracker.get("carrier"),
        "carrier_code": None,
        "tracking_location": {
            "object": "TrackingLocation",
            "city": body.city,
            "state": body.state,
            "country": "US",
            "zip": None,
        },
    }
    if at > world.now():
        world.easypost.scheduled.append({"tracker_id": tracker["id"], "detail": detail})
        return {"tracker": tracker, "scheduled": True, "webhook": None}
    previous = easypost_webhooks.apply_scan(world, tracker, detail)
    status = await easypost_webhooks.deliver(
        world, twilio_emulator.raw_sender_of(request.app.state), tracker, previous
    )
    return {
        "tracker": tracker,
        "scheduled": False,
        "webhook": {"url": world.vendor_webhooks.easypost_url, "status": status},
    }


@router.get("/vendor-webhooks")
async def vendor_webhook_deliveries(world: WorldDep) -> list[JSON]:
    """Twilio and EasyPost webhooks the sandbox delivered (address and the status it got)."""
    return world.vendor_deliveries


@router.post("/reset")
async def reset(request: Request) -> JSON:
    """Back to the seed. Webhook configuration is kept: it is wiring, not store state."""
    old: World = request.app.state.world
    fresh = build_world(request.app.state.seed)
    fresh.helpdesk_webhook = old.helpdesk_webhook
    fresh.credentials = old.credentials
    fresh.store_platform = old.store_platform
    fresh.helpdesk = old.helpdesk
    fresh.vendor_webhooks = old.vendor_webhooks
    request.app.state.world = fresh
    return {"digest": fresh.digest(), "seed": fresh.seed_name}


@router.put("/helpdesk-webhook")
async def configure_helpdesk_webhook(body: HelpdeskWebhook, world: WorldDep) -> HelpdeskWebhook:
    """Where the emulated helpdesk posts its webhooks (the agent server's /webhooks/gorgias)."""
    world.helpdesk_webhook = body
    return body


@router.get("/helpdesk-webhook")
async def get_helpdesk_webhook(world: WorldDep) -> HelpdeskWebhook:
    return world.helpdesk_webhook


class ReplyBody(BaseModel):
    text: str = Field(min_length=1, max_length=5000)
    agent_email: str | None = Field(
        None, description="Which helpdesk agent replies (the first one by default)."
    )


def _desk(world: World) -> Desk:
    try:
        return desk_of(world)
    except DeskError as exc:
        raise HTTPException(exc.status, exc.message) from None


async def _act(request: Request, world: World, action: Callable[[Desk], Outgoing]) -> JSON:
    """Carry out a person's action on the configured helpdesk and send the webhook it sends."""
    desk = _desk(world)
    try:
        outgoing = action(desk)
    except DeskError as exc:
        raise HTTPException(exc.status, exc.message) from None
    hook = world.helpdesk_webhook
    status = None
    if hook.url:
        sender: WebhookSender = request.app.state.webhook_sender
        headers = desk.headers(hook, encode_body(outgoing.body), world)
        status = await sender(hook.url, headers, outgoing.body)
    world.webhook_deliveries.append(
        {"url": hook.url, "event": outgoing.event, "ticket_id": outgoing.ticket_id, "status": status}
    )
    return {"ticket": desk.view(world, outgoing.ticket_id), "webhook": {"url": hook.url, "status": status}}


@router.post("/tickets/{ticket_id}/reply")
async def human_reply(ticket_id: int, body: ReplyBody, request: Request, world: WorldDep) -> JSON:
    """A human agent answers the shopper on the ticket (takes the conversation over)."""
    return await _act(request, world, lambda desk: desk.reply(world, ticket_id, body.text, body.agent_email))


@router.post("/tickets/{ticket_id}/close")
async def close_ticket(ticket_id: int, request: Request, world: WorldDep) -> JSON:
    """The human agent closes (solves) the ticket: the bot may answer again."""
    return await _act(request, world, lambda desk: desk.close(world, ticket_id))


@router.post("/tickets/{ticket_id}/handback")
async def hand_back(ticket_id: int, request: Request, world: WorldDep) -> JSON:
    """The human agent hands the conversation back to the bot (Gorgias: tag `ai_handback`; the ticket stays open)."""
    return await _act(request, world, lambda desk: desk.handback(world, ticket_id))


@router.post("/tickets/{ticket_id}/approve")
async def approve_refund(ticket_id: int, request: Request, world: WorldDep) -> JSON:
    """The human agent approves the refund the ticket asks about (Gorgias: tag `refund-approved`)."""
    return await _act(request, world, lambda desk: desk.approve(world, ticket_id))


@router.post("/tickets/{ticket_id}/deny")
async def deny_refund(ticket_id: int, request: Request, world: WorldDep) -> JSON:
    """The human agent denies the refund the ticket asks about (Gorgias: tag `refund-denied`)."""
    return await _act(request, world, lambda desk: desk.deny(world, ticket_id))


class InboundSmsBody(BaseModel):
    from_: str = Field(alias="from", description="The shopper's number, E.164 (e.g. +14155550101).")
    body: str = Field(min_length=1, max_length=1600)


@router.post("/sms/inbound")
async def inbound_sms(body: InboundSmsBody, request: Request, world: WorldDep) -> JSON:
    """A shopper texts the store's Twilio number: Twilio's opt-out list is applied (STOP, START) and
    the number's webhook gets the message, form-encoded and signed with X-Twilio-Signature."""
    if twilio_emulator.e164(body.from_) != body.from_:
        raise HTTPException(422, "`from` must be a valid phone number in E.164, e.g. +14155550101.")
    return await twilio_emulator.deliver_inbound(
        world, twilio_emulator.raw_sender_of(request.app.state), body.from_, body.body
    )


@router.get("/sms")
async def list_sms(world: WorldDep) -> list[JSON]:
    """Every text through the store's Twilio number, in and out, oldest first (with status callbacks)."""
    return world.twilio.messages


@router.get("/sms/opted-out")
async def list_opted_out(world: WorldDep) -> list[str]:
    """Numbers Twilio will not text (they texted STOP to the store's number)."""
    return world.twilio.opted_out


def summary(world: World) -> dict[str, Any]:
    """Counts for a quick look (used by the CLI banner)."""
    return {
        "shop": world.shopify.shop_name,
        "orders": len(world.shopify.orders),
        "customers": len(world.shopify.customers),
        "tickets": len(ticket_views(world)) if world.helpdesk in DESKS else 0,
        "emails": len(world.sendgrid.outbox),
        "clock": world.now_iso(),
    }

"""Webhooks: `POST /webhooks/{vendor}`, verified and parsed by that vendor's adapter.

The vendor must be the configured store platform (`STORE_PLATFORM`) or helpdesk (`HELPDESK`);
any other name is a 404. A delivery is authenticated before anything is parsed, and a refused
or malformed one reaches nothing: 401 for a bad signature or secret, 400 for a body that is not
what the vendor sends. A redelivery (same dedupe key, as the adapter computes it) is answered
`duplicate` and changes nothing. `POST /webhooks/{vendor}/{anything}` is the same route: addresses
registered per topic (`/webhooks/shopify/orders/updated`) keep working, as the adapter reads the
topic from the delivery itself.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from agent.conversation import ConversationService
from agent.webhooks import WebhookReceivers, deliver_helpdesk_events, deliver_store_events
from integrations.events import WebhookError
from server.security import ApiError, RecentIds

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

E = TypeVar("E")


class _Receiver(Protocol[E]):
    """What the route needs of an adapter's webhook side (`HelpdeskWebhooks`, `StoreWebhooks`)."""

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> None: ...

    def dedupe_keys(self, headers: Mapping[str, str], raw_body: bytes) -> list[str]: ...

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> list[E]: ...


@router.post("/{vendor}")
async def vendor_webhook(vendor: str, request: Request) -> Response:
    """A delivery from the store platform (an order changed) or the helpdesk (a person replied,
    closed, handed back, approved or denied)."""
    receivers: WebhookReceivers = request.app.state.webhook_receivers
    service: ConversationService = request.app.state.service
    if vendor in CHANNEL_VENDORS:
        return await _channel_webhook(vendor, request)
    helpdesk = receivers.helpdesks.get(vendor)
    if helpdesk is not None:
        return await _receive(vendor, helpdesk, functools.partial(deliver_helpdesk_events, service), request)
    store = receivers.store_platforms.get(vendor)
    if store is not None:
        return await _receive(vendor, store, functools.partial(deliver_store_events, service), request)
    if receivers.is_known(vendor):
        raise ApiError(404, "vendor_not_configured", f"This server is not set up for {vendor} webhooks.")
    raise ApiError(404, "unknown_vendor", "No webhooks for this vendor.")


@router.post("/{vendor}/{path:path}", include_in_schema=False)
async def vendor_webhook_at_path(vendor: str, path: str, request: Request) -> Response:
    """The same route under a longer address (one registered per topic)."""
    return await vendor_webhook(vendor, request)


# Vendors whose webhooks the service's own channels take (texts in, parcels moving), verified by them.
CHANNEL_VENDORS = {"twilio": "sms_channel", "easypost": "parcel_watch"}


async def _channel_webhook(vendor: str, request: Request) -> Response:
    """Twilio (an incoming text, a status callback) or EasyPost (a tracker changed). Twilio signs the
    full URL it called: ours as PUBLIC_URL says, whatever a proxy in front made of it."""
    handler = getattr(request.app.state.service, CHANNEL_VENDORS[vendor], None)
    if handler is None:
        raise ApiError(404, "vendor_not_configured", f"This server is not set up for {vendor} webhooks.")
    public_url: str = request.app.state.settings.public_url
    url = public_url.rstrip("/") + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    raw = await request.body()
    try:
        answer: str = await handler.receive(url, dict(request.headers), raw)
    except WebhookError as exc:
        raise ApiError(exc.status, exc.code, str(exc)) from None
    if vendor == "twilio":
        return Response(answer, media_type="application/xml")
    return JSONResponse({"status": answer})


async def _receive(
    vendor: str,
    receiver: _Receiver[E],
    deliver: Callable[[list[E]], Awaitable[bool]],
    request: Request,
) -> JSONResponse:
    seen: RecentIds = request.app.state.webhook_ids
    raw = await request.body()
    headers = request.headers
    try:
        receiver.verify_webhook(headers, raw)
        keys = [f"{vendor}:{key}" for key in receiver.dedupe_keys(headers, raw)]
        events = receiver.parse_webhook(headers, raw)
    except WebhookError as exc:
        raise ApiError(exc.status, exc.code, str(exc)) from None
    if any(key in seen for key in keys):
        return JSONResponse({"status": "duplicate"})
    for key in keys:
        seen.add(key)  # before the await: a concurrent redelivery is a duplicate too
    try:
        handled = await deliver(events)
    except BaseException:
        for key in keys:
            seen.discard(key)  # failed: the vendor's redelivery must be processed
        raise
    if not handled:
        return JSONResponse({"status": "ignored"}, status_code=202)
    return JSONResponse({"status": "ok"})

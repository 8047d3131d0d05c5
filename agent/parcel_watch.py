"""Telling shoppers about a problem with their parcel before they ask.

Parcels are watched from the moment the store ships them (its fulfilment webhooks; the demo store's
shipped orders at start-up). Two things look at them: the shipping provider's tracking webhooks
(EasyPost `tracker.updated`) as soon as a tracker changes, and a periodic sweep that also notices
what no webhook announces: no scan for `StorePolicy.stuck_after_days`, a delivery date gone by.

Each exception of each parcel is acted on once, store-wide (`MessagingFacts.claim` on
`parcel:{tracking number}:{kind}`: a redelivered webhook, the next sweep, a restart or a second
process all find it claimed): a conversation opens with our message saying what went wrong and
what happens next, the shopper gets it by email (with a link to answer in the chat) and by SMS
when their order has a phone that has not opted out (a reply by text lands in that conversation),
and the helpdesk ticket opens with the tracking details as an internal note. A claim whose work
was cut short (a crash) is finished by the next sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from agent.messaging_db import MessagingFacts
from agent.service import GraphConversationService
from agent.sms import SmsChannel, order_phone
from integrations._http import IntegrationError
from integrations.domain import Order, TrackingStatus
from integrations.events import OrderFulfilled, OrderUpdated, StoreEvent
from integrations.ports import CommerceBackend, Notifier, Shipping, TrackingWebhooks
from tools.context import VerifiedCustomer
from tools.policy import StorePolicy

logger = logging.getLogger(__name__)

ExceptionKind = Literal["failure", "return_to_sender", "error", "stuck", "late"]
PARCEL_TAG = "parcel-exception"
# A claim older than this whose work never finished is taken up again by the sweep.
UNFINISHED_AFTER_SECONDS = 300.0
DONE_STATUSES = frozenset({"delivered"})


@dataclass(frozen=True)
class ParcelException:
    kind: ExceptionKind
    what: str
    next_steps: str


def parcel_exception(status: TrackingStatus, now: datetime, stuck_after_days: int) -> ParcelException | None:
    """What is wrong with a parcel, or None while it moves normally (or has arrived)."""
    if status.status in DONE_STATUSES:
        return None
    detail = f" ({status.status_detail.replace('_', ' ')})" if status.status_detail else ""
    if status.status == "failure":
        return ParcelException(
            "failure",
            f"The carrier could not deliver your parcel{detail}.",
            "Our team has been told and will arrange a new delivery or a replacement; we will be in "
            "touch within one business day.",
        )
    if status.status == "return_to_sender":
        return ParcelException(
            "return_to_sender",
            "The carrier is sending your parcel back to us.",
            "As soon as it reaches us we will send it again or refund you, whichever you prefer: "
            "just tell us here.",
        )
    if status.status == "error":
        return ParcelException(
            "error",
            f"The carrier's tracking shows an error for your parcel{detail}.",
            "Our team is checking with the carrier and will update you within one business day.",
        )
    last = status.last_event_at
    if last is not None and now - last >= timedelta(days=stuck_after_days):
        return ParcelException(
            "stuck",
            f"Your parcel has had no tracking update for {(now - last).days} days.",
            "We have asked the carrier to look for it. If it does not move within a few days we will "
            "send a replacement or refund you.",
        )
    due = status.estimated_delivery
    if due is not None and now >= due + timedelta(days=1):
        return ParcelException(
            "late",
            f"Your parcel was due on {due:%A, %B %d} and has not arrived yet.",
            "Our team is checking with the carrier and will update you within one business day.",
        )
    return None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class ParcelWatch:
    facts: MessagingFacts
    service: GraphConversationService
    commerce: CommerceBackend
    shipping: Shipping
    notifier: Notifier
    webhooks: TrackingWebhooks
    policy: Callable[[], StorePolicy]
    clock: Callable[[], datetime]
    public_url: str
    sms: SmsChannel | None = None
    region: str = "US"
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _task: asyncio.Task[None] | None = None

    def _now(self) -> float:
        return self.clock().timestamp()

    # ------------------------------------------------------------------ which parcels

    async def watch_order(self, order: Order) -> int:
        """Watch every tracked parcel of a shipped order; returns how many it has."""
        count = 0
        for shipment in order.shipments:
            if shipment.tracking_number and shipment.delivered_at is None:
                await self.facts.watch_parcel(
                    shipment.tracking_number, order.number, shipment.carrier, self._now()
                )
                count += 1
        return count

    async def on_store_event(self, event: StoreEvent) -> None:
        if not isinstance(event, OrderFulfilled | OrderUpdated):
            return
        try:
            order = await self.commerce.get_order(event.order_id)
        except IntegrationError as exc:
            logger.warning("could not read a shipped order to watch its parcels: %s", exc)
            return
        await self.watch_order(order)

    # ------------------------------------------------------------------ webhooks and the sweep

    async def receive(self, url: str, headers: Mapping[str, str], raw_body: bytes) -> str:
        """A tracking webhook (`WebhookRejected` unless signed): checked at once; the answer's status."""
        self.webhooks.verify(headers, raw_body)
        status = self.webhooks.parse(raw_body)
        if status is None:
            return "ignored"
        watched = await self.facts.parcel_order(status.tracking_number)
        if watched is None:
            return "ignored"  # not one of the store's outgoing parcels (a return label, another shop)
        await self.check(status.tracking_number, watched[0], status)
        return "ok"

    async def sweep(self) -> int:
        """Check every watched parcel now (and finish work a crash cut short); returns notices sent."""
        sent = 0
        async with self._lock:
            for key in await self.facts.unfinished("parcel:", self._now() - UNFINISHED_AFTER_SECONDS):
                sent += await self._resume(key)
            for tracking, order_number, carrier in await self.facts.watched():
                try:
                    status = await self.shipping.track(tracking, carrier)
                except IntegrationError as exc:
                    logger.warning("could not track a parcel in the sweep: %s", exc)
                    continue
                sent += await self.check(tracking, order_number, status)
        return sent

    async def check(self, tracking: str, order_number: str, status: TrackingStatus) -> int:
        if status.status in DONE_STATUSES:
            await self.facts.close_parcel(tracking, self._now())
            return 0
        found = parcel_exception(status, self.clock(), self.policy().stuck_after_days)
        if found is None:
            return 0
        key = f"parcel:{tracking}:{found.kind}"
        payload = {"tracking": tracking, "order_number": order_number, "kind": found.kind}
        if not await self.facts.claim(key, payload, self._now()):
            return 0
        await self._notify(key, payload, found, status)
        return 1

    async def _resume(self, key: str) -> int:
        payload = await self.facts.notice(key)
        if payload is None or payload.get("done"):
            return 0
        tracking = str(payload["tracking"])
        carrier = (await self.facts.parcel_order(tracking) or ("", None))[1]
        try:
            status = await self.shipping.track(tracking, carrier)
        except IntegrationError:
            return 0
        found = parcel_exception(status, self.clock(), self.policy().stuck_after_days)
        if found is None or found.kind != payload.get("kind"):
            await self.facts.update_notice(key, payload, done_at=self._now())  # resolved meanwhile
            return 0
        await self._notify(key, payload, found, status)
        return 1

    # ------------------------------------------------------------------ telling the shopper

    async def _notify(
        self, key: str, payload: dict[str, Any], found: ParcelException, status: TrackingStatus
    ) -> None:
        order = await self.commerce.find_order(str(payload["order_number"]))
        if order is None:
            await self.facts.update_notice(key, payload, done_at=self._now())
            return
        conversation_id = payload.get("conversation_id")
        token = secrets.token_urlsafe(24)
        if conversation_id is None:
            conversation_id = await self.service.start(access_digest=_digest(token))
            payload["conversation_id"] = conversation_id
            await self.facts.update_notice(key, payload, done_at=None)
        phone = order_phone(order, self.region)
        texting = self.sms is not None and phone is not None and not await self.facts.opted_out(phone)
        if texting and phone is not None:
            await self.service.annotate(conversation_id, channel="sms", phone=phone)
            await self.facts.bind_thread(phone, conversation_id, self._now())
        name = (
            order.shipping_address.name.split()[0]
            if order.shipping_address and order.shipping_address.name
            else None
        )
        headline = f"An update on order #{order.number}: {found.what}"
        message = f"{headline} {found.next_steps}"
        if texting:
            message += " You can answer here or by text."
        tracking_url = next(
            (
                s.tracking_url
                for s in order.shipments
                if s.tracking_number == status.tracking_number and s.tracking_url
            ),
            status.public_url,
        )
        await self.service.post_notice(
            conversation_id,
            message,
            message_id=f"notice-{hashlib.sha256(key.encode()).hexdigest()[:24]}",
            customer=VerifiedCustomer(
                email=order.email, customer_id=order.customer_id, name=name, verified_by="order"
            ),
            intent="wismo",
            helpdesk={
                f"{key}:note": {
                    "kind": "note",
                    "text": _tracking_note(order, status, found),
                    "external_id": f"{key}:note",
                    "priority": "urgent",
                },
                f"{key}:tags": {
                    "kind": "tags",
                    "add": [PARCEL_TAG, found.kind.replace("_", "-")],
                    "priority": "urgent",
                },
            },
        )
        if not payload.get("emailed"):
            chat_url = f"{self.public_url.rstrip('/')}/?conversation={conversation_id}#token={token}"
            try:
                await self.notifier.send_parcel_update(
                    to_email=order.email,
                    customer_name=name,
                    order_number=order.number,
                    headline=found.what,
                    body=found.next_steps,
                    tracking_url=tracking_url,
                    chat_url=chat_url,
                )
            except IntegrationError as exc:
                logger.warning("could not email a parcel update (the sweep tries again): %s", exc)
                return
            payload["emailed"] = True
            await self.facts.update_notice(key, payload, done_at=None)
        if texting and self.sms is not None and phone is not None:
            text = f"{headline} {found.next_steps} Reply here with any questions. Reply STOP to opt out."
            await self.sms.text(phone, text, key=key)
        await self.facts.update_notice(key, payload, done_at=self._now())

    # ------------------------------------------------------------------ the periodic sweep

    def start(self, every_seconds: float) -> None:
        if every_seconds <= 0 or self._task is not None:
            return

        async def loop() -> None:
            while True:
                await asyncio.sleep(every_seconds)
                try:
                    await self.sweep()
                except Exception:  # the next round tries again
                    logger.exception("parcel sweep failed")

        self._task = asyncio.create_task(loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def _tracking_note(order: Order, status: TrackingStatus, found: ParcelException) -> str:
    lines = [
        f"Parcel exception ({found.kind.replace('_', ' ')}) on order #{order.number}, found before the shopper asked.",
        f"Carrier: {status.carrier or 'unknown'}, tracking {status.tracking_number}, status {status.status}"
        + (f" ({status.status_detail})" if status.status_detail else ""),
    ]
    if status.estimated_delivery is not None:
        lines.append(f"Estimated delivery: {status.estimated_delivery:%Y-%m-%d}")
    for event in sorted(status.events, key=lambda e: e.at, reverse=True)[:3]:
        where = f" ({event.location})" if event.location else ""
        lines.append(f"- {event.at:%Y-%m-%d %H:%M} {event.message}{where}")
    lines.append(f"The shopper was told: {found.what} {found.next_steps}")
    return "\n".join(lines)

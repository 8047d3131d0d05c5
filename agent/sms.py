"""Shoppers by SMS: texts in through Twilio's webhook, answers out through the Messages API.

A shopper's texts are one conversation per phone number, through the same conversation service,
graph, tools and policy as the chat. The phone proves who they are only as far as the store knows
it: a text from the phone on an order verifies the shopper for read-only answers; an action still
needs the step-up code (emailed to the order's address). STOP / START / HELP are honoured before
anything else and recorded store-wide; an opted-out number is never texted, whatever asks.

Every text we send is claimed once per key first (`MessagingFacts.claim`), so a redelivered webhook,
a replayed turn or a second process never texts the same thing twice.
"""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from agent.conversation import ChatMessage
from agent.messaging_db import MessagingFacts
from agent.service import GraphConversationService
from agent.sms_text import sms_text, split_sms
from integrations._http import IntegrationError
from integrations.domain import Order
from integrations.phones import to_e164
from integrations.ports import CommerceBackend
from integrations.texting import (
    HELP_KEYWORDS,
    START_KEYWORDS,
    STOP_KEYWORDS,
    TextMessaging,
    TextReceived,
    TextRefused,
    TextStatusChanged,
    TextWebhooks,
)
from tools.context import VerifiedCustomer

logger = logging.getLogger(__name__)

# An empty TwiML answer: we reply through the API, not in the webhook's response.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
_ORDER_NUMBER = re.compile(r"(?<![\d@.])#?(\d{3,10})(?![\d@])")
# The phone of the SMS conversation a turn runs in (a code texted to it would prove nothing new).
current_sms_phone: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_sms_phone", default=None
)


def order_phone(order: Order, region: str) -> str | None:
    address = order.shipping_address
    return to_e164(address.phone, region) if address is not None else None


@dataclass
class SmsChannel:
    messaging: TextMessaging
    webhooks: TextWebhooks
    facts: MessagingFacts
    service: GraphConversationService
    commerce: CommerceBackend
    clock: Callable[[], datetime]
    store_name: str
    contact_email: str
    public_url: str
    region: str = "US"

    @property
    def webhook_url(self) -> str:
        return f"{self.public_url.rstrip('/')}/webhooks/twilio"

    @property
    def status_callback_url(self) -> str:
        return f"{self.webhook_url}/status"

    def _now(self) -> float:
        return self.clock().timestamp()

    # ------------------------------------------------------------------ webhooks in

    async def receive(self, url: str, headers: dict[str, str], raw_body: bytes) -> str:
        """Verify (raises `WebhookRejected`), parse and act on one Twilio webhook; the TwiML answer."""
        self.webhooks.verify(url, headers, raw_body)
        event = self.webhooks.parse(raw_body)
        if isinstance(event, TextReceived):
            await self.handle_inbound(event)
        else:
            await self.handle_status(event)
        return EMPTY_TWIML

    async def handle_status(self, update: TextStatusChanged) -> None:
        if update.refused == "opted_out" and update.to_number:
            phone = to_e164(update.to_number, self.region)
            if phone:
                await self.facts.set_consent(phone, opted_out=True, keyword="carrier", now=self._now())
        logger.info("SMS %s is %s", update.message_id, update.status)

    async def handle_inbound(self, sms: TextReceived) -> None:
        phone = to_e164(sms.from_number, self.region)
        if phone is None:
            logger.warning("ignored a text from a number that is not a phone number")
            return
        keyword = sms.body.strip().upper()
        if keyword in STOP_KEYWORDS:
            # Twilio confirms the opt-out itself; we only remember it (store-wide).
            await self.facts.set_consent(phone, opted_out=True, keyword=keyword, now=self._now())
            return
        if keyword in START_KEYWORDS:
            if await self.facts.opted_out(phone):
                await self.facts.set_consent(phone, opted_out=False, keyword=keyword, now=self._now())
                return
            if keyword != "YES":
                return
            # A "yes" from a number that never opted out answers our question (a confirmation).
        if keyword in HELP_KEYWORDS:
            await self.text(
                phone,
                f"{self.store_name} support: text your question and order number here. Email "
                f"{self.contact_email}. Reply STOP to opt out.",
                key=f"help:{sms.message_id}",
            )
            return
        conversation_id = await self.facts.thread(phone)
        if conversation_id is None:
            conversation_id = await self.service.start()
            await self.service.annotate(conversation_id, channel="sms", phone=phone)
            await self.facts.bind_thread(phone, conversation_id, self._now())
        identity = await self._identity(conversation_id, phone, sms.body)
        token = current_sms_phone.set(phone)
        try:
            replies = [
                ChatMessage.model_validate(event.data)
                async for event in self.service.send(
                    conversation_id,
                    sms.body,
                    client_message_id=f"sms-{sms.message_id}",
                    stream_tokens=False,
                    client=f"sms:{phone}",
                    identity=identity,
                )
                if event.type == "message" and event.data.get("role") in ("assistant", "agent")
            ]
        finally:
            current_sms_phone.reset(token)
        for reply in replies:
            await self.text(phone, sms_text(reply), key=f"msg:{conversation_id}:{reply.id}")

    async def _identity(self, conversation_id: str, phone: str, text: str) -> VerifiedCustomer | None:
        """The order's customer when the text names an order whose phone is this phone."""
        view = await self.service.get(conversation_id)
        if view.customer_email:
            return None
        for number in dict.fromkeys(_ORDER_NUMBER.findall(text)):
            try:
                order = await self.commerce.find_order(number)
            except IntegrationError:
                return None  # the turn's own tools will meet the outage and say so
            if order is not None and order_phone(order, self.region) == phone:
                name = order.shipping_address.name if order.shipping_address else None
                return VerifiedCustomer(
                    email=order.email,
                    customer_id=order.customer_id,
                    name=name.split()[0] if name else None,
                    verified_by="phone",
                )
        return None

    # ------------------------------------------------------------------ texts out

    async def text(self, phone: str, body: str, *, key: str) -> bool:
        """Text `body` (cut to SMS length) to `phone` once per `key`; False when not sent (opted out,
        already sent, refused)."""
        if await self.facts.opted_out(phone):
            logger.info("not texting a number that opted out")
            return False
        if not await self.facts.claim(f"sms:{key}", {"kind": "sms"}, self._now()):
            return False
        sent_parts: list[str] = []
        try:
            for part in split_sms(body):
                sent = await self.messaging.send(phone, part, status_callback=self.status_callback_url)
                sent_parts.append(sent.message_id)
        except TextRefused as exc:
            if exc.reason == "opted_out":
                await self.facts.set_consent(phone, opted_out=True, keyword="twilio-21610", now=self._now())
            logger.warning("Twilio refused a text: %s", exc)
            return False
        except IntegrationError as exc:
            # Not retried: Twilio may have accepted it before the answer was lost (no idempotency key).
            logger.warning("could not text (%d of its parts sent): %s", len(sent_parts), exc)
            return False
        finally:
            await self.facts.update_notice(
                f"sms:{key}", {"kind": "sms", "sids": sent_parts}, done_at=self._now()
            )
        return True

    async def text_order(self, order: Order, body: str, *, key: str) -> bool:
        """Text the phone on `order` (when it has one that is a phone number)."""
        phone = order_phone(order, self.region)
        if phone is None:
            return False
        return await self.text(phone, body, key=key)

    async def pushed_messages(self, conversation_id: str, messages: list[ChatMessage]) -> None:
        """A person acted on the helpdesk: an SMS conversation gets what it brought by SMS (the
        person's words, and the bot's: a refund approved or denied); a chat whose shopper has left
        gets a person's reply by SMS on the phone of their order (when it has one that allows texts)."""
        record = await self.service.record(conversation_id)
        if record.get("channel") == "sms" and record.get("phone"):
            for reply in (m for m in messages if m.role in ("agent", "assistant")):
                await self.text(
                    str(record["phone"]), sms_text(reply), key=f"msg:{conversation_id}:{reply.id}"
                )
            return
        replies = [m for m in messages if m.role == "agent"]
        if not replies:
            return
        if self.service.shopper_listening(conversation_id):
            return
        view = await self.service.get(conversation_id)
        if not view.customer_email:
            return
        try:
            orders = await self.commerce.recent_orders(view.customer_email, limit=1)
        except IntegrationError:
            return
        if not orders:
            return
        for reply in replies:
            who = reply.author or f"{self.store_name} support"
            body = f"{who} replied to your chat: {reply.text.strip()}\nContinue at {self.public_url}"
            await self.text_order(orders[0], body, key=f"msg:{conversation_id}:{reply.id}")

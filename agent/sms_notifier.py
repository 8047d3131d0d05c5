"""The notifier with texts beside the emails: the return label's link and the one-time code also go by
SMS to the phone on the order, when there is one and it has not opted out.

Neither goes to the phone the conversation itself is on: the conversation already shows the link,
and a code texted there would prove nothing that phone had not already proven (the email is the
second factor then).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from agent.sms import SmsChannel, current_sms_phone, order_phone
from integrations._http import IntegrationError
from integrations.domain import ReturnLabel, SentEmail, Ticket
from integrations.ports import CommerceBackend, Notifier

logger = logging.getLogger(__name__)


class SmsAlsoNotifier:
    """`Notifier`: the email notifier's work, plus a text where it helps the shopper."""

    def __init__(self, email: Notifier, commerce: CommerceBackend) -> None:
        self.email = email
        self._commerce = commerce
        self.channel: SmsChannel | None = None  # set once the SMS channel exists

    async def _text_order(self, order_number: str, body: str, *, key: str, skip_current: bool) -> None:
        channel = self.channel
        if channel is None:
            return
        try:
            order = await self._commerce.find_order(order_number)
            if order is None:
                return
            phone = order_phone(order, channel.region)
            if phone is None or (skip_current and phone == current_sms_phone.get()):
                return
            await channel.text(phone, body, key=key)
        except IntegrationError as exc:  # the email went; a text is a courtesy
            logger.warning("could not text order #%s: %s", order_number, exc)

    async def send_escalation(
        self,
        *,
        ticket: Ticket,
        customer_email: str | None,
        order_number: str | None,
        reason: str,
        summary: str,
        transcript: Sequence[tuple[str, str]],
    ) -> SentEmail:
        return await self.email.send_escalation(
            ticket=ticket,
            customer_email=customer_email,
            order_number=order_number,
            reason=reason,
            summary=summary,
            transcript=transcript,
        )

    async def send_return_label(
        self,
        *,
        to_email: str,
        customer_name: str,
        order_number: str,
        label: ReturnLabel,
        items: Sequence[str],
    ) -> SentEmail:
        sent = await self.email.send_return_label(
            to_email=to_email,
            customer_name=customer_name,
            order_number=order_number,
            label=label,
            items=items,
        )
        await self._text_order(
            order_number,
            f"Your return label for order #{order_number} ({label.carrier} {label.tracking_number}): "
            f"{label.label_url}",
            key=f"label:{label.tracking_number}",
            skip_current=True,  # a conversation by text already shows the link
        )
        return sent

    async def send_security_alert(
        self, *, ticket: Ticket | None, reason: str, targets: Sequence[str], details: Sequence[str]
    ) -> SentEmail:
        return await self.email.send_security_alert(
            ticket=ticket, reason=reason, targets=targets, details=details
        )

    async def send_verification_code(
        self, *, to_email: str, code: str, order_number: str, valid_minutes: int
    ) -> SentEmail:
        sent = await self.email.send_verification_code(
            to_email=to_email, code=code, order_number=order_number, valid_minutes=valid_minutes
        )
        await self._text_order(
            order_number,
            f"Your code for order #{order_number}: {code}. It expires in {valid_minutes} minutes. "
            "Never share it with anyone.",
            key=f"code:{sent.message_id or code}",
            skip_current=True,
        )
        return sent

    async def send_parcel_update(
        self,
        *,
        to_email: str,
        customer_name: str | None,
        order_number: str,
        headline: str,
        body: str,
        tracking_url: str | None,
        chat_url: str | None,
    ) -> SentEmail:
        return await self.email.send_parcel_update(
            to_email=to_email,
            customer_name=customer_name,
            order_number=order_number,
            headline=headline,
            body=body,
            tracking_url=tracking_url,
            chat_url=chat_url,
        )

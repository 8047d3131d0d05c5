"""SendGrid as the project's `Notifier`."""

from __future__ import annotations

from collections.abc import Sequence

from integrations.domain import ReturnLabel, SentEmail, Ticket
from integrations.sendgrid.client import SendGridMailer


class SendGridNotifier:
    """`Notifier` over SendGrid: escalations to the team; return labels and step-up codes to shoppers."""

    def __init__(self, mailer: SendGridMailer, *, team_email: str) -> None:
        self._mailer = mailer
        self._team = team_email

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
        sent = await self._mailer.send_escalation(
            ticket_id=ticket.id,
            ticket_url=ticket.url or "",
            customer_email=customer_email or "unverified shopper",
            order_number=order_number,
            reason=reason,
            summary=summary,
            transcript=transcript,
        )
        return SentEmail(message_id=sent.message_id, to=self._team)

    async def send_return_label(
        self,
        *,
        to_email: str,
        customer_name: str,
        order_number: str,
        label: ReturnLabel,
        items: Sequence[str],
    ) -> SentEmail:
        sent = await self._mailer.send_return_label(
            to_email=to_email,
            customer_name=customer_name or None,
            order_number=order_number,
            label_url=label.label_url,
            tracking_number=label.tracking_number,
            carrier=label.carrier,
            items=items,
        )
        return SentEmail(message_id=sent.message_id, to=to_email)

    async def send_security_alert(
        self, *, ticket: Ticket | None, reason: str, targets: Sequence[str], details: Sequence[str]
    ) -> SentEmail:
        sent = await self._mailer.send_security_alert(
            ticket_id=ticket.id if ticket else None,
            ticket_url=(ticket.url or "") if ticket else "",
            reason=reason,
            targets=targets,
            details=details,
        )
        return SentEmail(message_id=sent.message_id, to=self._team)

    async def send_verification_code(
        self, *, to_email: str, code: str, order_number: str, valid_minutes: int
    ) -> SentEmail:
        sent = await self._mailer.send_verification_code(
            to_email=to_email, code=code, order_number=order_number, valid_minutes=valid_minutes
        )
        return SentEmail(message_id=sent.message_id, to=to_email)

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
        sent = await self._mailer.send_parcel_update(
            to_email=to_email,
            customer_name=customer_name,
            order_number=order_number,
            headline=headline,
            body=body,
            tracking_url=tracking_url,
            chat_url=chat_url,
        )
        return SentEmail(message_id=sent.message_id, to=to_email)

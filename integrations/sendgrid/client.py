"""SendGrid through its official SDK: the escalation email to the team and the return-label
email to the shopper.

Every part of the HTML built from customer-supplied text (names, summary, transcript, items,
reason, order number) is HTML-escaped, and links are only ever http(s) URLs: an email body must
never carry markup a shopper typed.

Sending is not idempotent at SendGrid (there is no idempotency key), so a send is never retried
when it may have gone through: a timeout or a 5xx fails at once. It is retried only when SendGrid
certainly did not take it: a 429 (honouring Retry-After) or a refused connection. The tool layer
dedupes sends through its idempotency ledger.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from python_http_client.exceptions import HTTPError as SendGridHTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Category, Content, CustomArg, From, Mail, MimeType, To

from integrations._http import (
    AuthError,
    IntegrationError,
    RetryPolicyFactory,
    VendorError,
    parse_retry_after,
)
from integrations._sdk import call_sdk, could_not_connect, error_for_status, network_error
from integrations.sendgrid.models import SendGridDomain, SendGridErrorBody, SendGridSender, SentEmail

# The SDK's HTTP layer logs every request body at DEBUG: whole emails, with shoppers' addresses,
# return labels and step-up codes. Never let it, whatever level the application logs at.
logging.getLogger("python_http_client").setLevel(logging.WARNING)

VENDOR = "sendgrid"
AUTH_SETTING = "SENDGRID_API_KEY"
SENDER_SETTING = "MAIL_FROM"
DEFAULT_HOST = "https://api.sendgrid.com"


@dataclass(frozen=True)
class SenderStatus:
    """Whether the configured sender may send: True, False, or None when SendGrid could not say."""

    verified: bool | None
    detail: str


class SendGridMailer:
    """Sends the agent's two emails through the SendGrid SDK, with typed errors."""

    def __init__(
        self,
        api_key: str,
        host: str | None = None,
        *,
        from_email: str,
        team_email: str,
        timeout: float = 15.0,
        retry_policy: RetryPolicyFactory | None = None,
        from_name: str | None = None,
    ) -> None:
        # An empty key would make the SDK read SENDGRID_API_KEY from the environment itself;
        # settings are the only reader of the environment, so send a key SendGrid will refuse.
        self._client = SendGridAPIClient(api_key=api_key or "unset", host=host or DEFAULT_HOST)
        self._from = (from_email, from_name)
        self._team_email = team_email
        self._timeout = timeout
        self._retry_policy = retry_policy

    async def send_escalation(
        self,
        *,
        ticket_id: str | int,
        ticket_url: str,
        customer_email: str,
        order_number: str | int | None,
        reason: str,
        summary: str,
        transcript: Sequence[tuple[str, str]],
    ) -> SentEmail:
        """Tell the team a conversation needs a human: ticket link, customer, reason, summary, transcript."""
        order = f"order {order_number}" if order_number else "no order"
        subject = _subject(f"Escalation: ticket #{ticket_id} ({order}) - {reason}")
        details = EscalationDetails(
            ticket_id=ticket_id,
            ticket_url=ticket_url,
            customer_email=customer_email,
            order_number=order_number,
            reason=reason,
            summary=summary,
            transcript=tuple(transcript),
        )
        return await self._send(
            to_email=self._team_email,
            subject=subject,
            text=escalation_text(details),
            html_body=escalation_html(details),
            category="escalation",
            custom_args={"ticket_id": str(ticket_id), "kind": "escalation"},
        )

    async def send_return_label(
        self,
        *,
        to_email: str,
        customer_name: str | None,
        order_number: str | int,
        label_url: str,
        tracking_number: str,
        carrier: str,
        items: Sequence[str],
    ) -> SentEmail:
        """Send the shopper their prepaid return label (link), tracking number and what to pack."""
        subject = _subject(f"Your return label for order {order_number}")
        details = ReturnLabelDetails(
            customer_name=customer_name,
            order_number=order_number,
            label_url=label_url,
            tracking_number=tracking_number,
            carrier=carrier,
            items=tuple(items),
        )
        return await self._send(
            to_email=to_email,
            subject=subject,
            text=return_label_text(details),
            html_body=return_label_html(details),
            category="return_label",
            custom_args={"order_number": str(order_number), "kind": "return_label"},
        )

    async def send_verification_code(
        self, *, to_email: str, code: str, order_number: str | int, valid_minutes: int
    ) -> SentEmail:
        """Send the shopper a one-time code that confirms a change to their order (step-up).

        The code is in the body only: not in the subject (shown in notification previews and
        mailbox lists) and not in a custom arg (SendGrid's event webhooks and logs carry those).
        """
        details = VerificationCodeDetails(code=code, order_number=order_number, valid_minutes=valid_minutes)
        return await self._send(
            to_email=to_email,
            subject=_subject(f"Your verification code for order {order_number}"),
            text=verification_code_text(details),
            html_body=verification_code_html(details),
            category="verification_code",
            custom_args={"order_number": str(order_number), "kind": "verification_code"},
        )

    async def send_parcel_update(
        self,
        *,
        to_email: str,
        customer_name: str | None,
        order_number: str | int,
        headline: str,
        body: str,
        tracking_url: str | None,
        chat_url: str | None,
    ) -> SentEmail:
        """Tell the shopper, before they ask, that something is wrong with their parcel and what
        happens next (every customer-visible value escaped; links only when http(s))."""
        greeting = f"Hi {customer_name}," if customer_name else "Hello,"
        lines = [greeting, "", headline, "", body]
        html_parts = [
            f"<p>{_e(greeting)}</p>",
            f"<p><strong>{_e(headline)}</strong></p>",
            f"<p>{_paragraphs(body)}</p>",
        ]
        if tracking_url:
            lines += ["", f"Carrier tracking: {tracking_url}"]
            html_parts.append(f"<p>{_link(tracking_url, 'Carrier tracking')}</p>")
        if chat_url:
            lines += ["", f"Questions? Answer in the chat: {chat_url}"]
            html_parts.append(f"<p>{_link(chat_url, 'Answer us in the chat')}</p>")
        return await self._send(
            to_email=to_email,
            subject=_subject(f"An update on your order {order_number}"),
            text="\n".join(lines),
            html_body=_page(f"Order {order_number}", html_parts),
            category="parcel_update",
            custom_args={"order_number": str(order_number), "kind": "parcel_update"},
        )

    async def send_security_alert(
        self,
        *,
        ticket_id: str | int | None,
        ticket_url: str,
        reason: str,
        targets: Sequence[str],
        details: Sequence[str],
    ) -> SentEmail:
        """Alert the team to an attack on customers (targets, what was done, the ticket to look at)."""
        subject = _subject(f"Security alert: {reason}")
        alert = SecurityAlertDetails(
            ticket_id=ticket_id,
            ticket_url=ticket_url,
            reason=reason,
            targets=tuple(targets),
            details=tuple(details),
        )
        return await self._send(
            to_email=self._team_email,
            subject=subject,
            text=security_alert_text(alert),
            html_body=security_alert_html(alert),
            category="security_alert",
            custom_args={"kind": "security_alert", **({"ticket_id": str(ticket_id)} if ticket_id else {})},
        )

    # ------------------------------------------------------------------ sender identity

    async def sender_status(self) -> SenderStatus:
        """Whether the sender (MAIL_FROM) may send: SendGrid refuses mail from an address that is
        neither a verified Sender Identity nor on an authenticated domain (403 on every send)."""
        sender = self._from[0].strip().lower()

        def look() -> SenderStatus:
            response = self._client.client.verified_senders.get(query_params={"limit": 100})
            listed = json.loads(response.body or b"{}").get("results") or []
            senders = [SendGridSender.model_validate(item) for item in listed]
            mine = [s for s in senders if s.from_email.strip().lower() == sender]
            if any(s.verified for s in mine):
                return SenderStatus(True, "a verified Sender Identity")
            response = self._client.client.whitelabel.domains.get()
            domains = [SendGridDomain.model_validate(item) for item in json.loads(response.body or b"[]")]
            domain = sender.rpartition("@")[2]
            if any(d.valid and d.domain.strip().lower() == domain for d in domains):
                return SenderStatus(True, "on an authenticated domain")
            if mine:
                return SenderStatus(
                    False, "a Sender Identity whose verification email has not been confirmed"
                )
            return SenderStatus(False, "neither a verified Sender Identity nor on an authenticated domain")

        return await call_sdk(
            VENDOR, look, map_error=map_send_error, idempotent=True, retry_policy=self._retry_policy
        )

    # ------------------------------------------------------------------ plumbing

    async def _send(
        self,
        *,
        to_email: str,
        subject: str,
        text: str,
        html_body: str,
        category: str,
        custom_args: Mapping[str, str],
    ) -> SentEmail:
        mail = Mail(from_email=From(*self._from), to_emails=To(to_email), subject=subject)
        mail.add_content(Content(MimeType.text, text))
        mail.add_content(Content(MimeType.html, html_body))
        mail.category = [Category(category)]
        mail.custom_arg = [CustomArg(key, value) for key, value in custom_args.items()]
        request_body = mail.get()

        def send() -> SentEmail:
            response = self._client.client.mail.send.post(request_body=request_body, timeout=self._timeout)
            return SentEmail(message_id=response.headers.get("X-Message-Id"), status=response.status_code)

        # Only errors marked retryable by `map_send_error` (429, refused connection) are retried:
        # those are the ones where SendGrid certainly did not accept the email.
        return await call_sdk(
            VENDOR, send, map_error=map_send_error, idempotent=True, retry_policy=self._retry_policy
        )


def map_send_error(exc: Exception) -> IntegrationError:
    """SendGrid SDK exception -> typed error; retryable only when the email was certainly not sent."""
    if isinstance(exc, SendGridHTTPError):
        status = int(exc.status_code)
        headers: Any = exc.headers or {}
        if status == 403 and _is_sender_identity_refusal(exc.body):
            # Not a bad key: SendGrid refuses mail from an address that is no verified Sender Identity.
            return AuthError(
                VENDOR,
                "HTTP 403: the from address is not a verified Sender Identity in SendGrid (verify it under "
                "Settings > Sender Authentication, or authenticate its domain)",
                setting=SENDER_SETTING,
                status=status,
            )
        return error_for_status(
            VENDOR,
            status,
            _error_text(exc.body),
            auth_setting=AUTH_SETTING,
            retry_after=parse_retry_after(headers.get("Retry-After")),
            retry_server_errors=False,
        )
    reason = getattr(exc, "reason", None)
    if isinstance(exc, ConnectionRefusedError) or isinstance(reason, ConnectionRefusedError):
        return could_not_connect(VENDOR, "connection refused")
    # Anything else (a timeout, a reset connection) may have happened after SendGrid took it.
    mapped = network_error(VENDOR, exc, retryable=False)
    return mapped or VendorError(VENDOR, f"unexpected {type(exc).__name__} from the SDK")


def _is_sender_identity_refusal(body: Any) -> bool:
    raw = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else str(body or "")
    return "sender identity" in raw.lower()


def _error_text(body: Any) -> str:
    raw = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else str(body or "")
    try:
        return SendGridErrorBody.model_validate(json.loads(raw)).describe()
    except ValueError:  # not JSON, or not SendGrid's shape
        return raw[:200] or "no details"


# --------------------------------------------------------------------------- rendering


def _subject(text: str) -> str:
    """One line, bounded: subjects are plain text, but may hold customer-supplied words."""
    return " ".join(text.split())[:150]


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _paragraphs(text: str) -> str:
    return "<br>".join(_e(line) for line in text.splitlines()) or "&nbsp;"


def _safe_url(url: str) -> str | None:
    """The URL when it is http(s); anything else (javascript:, data:) is not linked."""
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in ("http", "https") else None


def _link(url: str, label: str) -> str:
    safe = _safe_url(url)
    if safe is None:
        return _e(label)
    return f'<a href="{_e(safe)}">{_e(label)}</a>'


def _page(title: str, inner: Iterable[str]) -> str:
    body = "\n".join(inner)
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title></head>"
        '<body style="font-family: -apple-system, Segoe UI, Helvetica, Arial, sans-serif; color: #1f2933;">\n'
        f"{body}\n</body></html>"
    )


@dataclass(frozen=True)
class EscalationDetails:
    ticket_id: str | int
    ticket_url: str
    customer_email: str
    order_number: str | int | None
    reason: str
    summary: str
    transcript: tuple[tuple[str, str], ...]


def escalation_text(d: EscalationDetails) -> str:
    lines = [
        "A conversation needs a human.",
        "",
        f"Ticket: #{d.ticket_id} {d.ticket_url}",
        f"Customer: {d.customer_email}",
        f"Order: {d.order_number or '-'}",
        f"Reason: {d.reason}",
        "",
        "Summary:",
        d.summary,
        "",
        "Transcript:",
    ]
    lines += [f"[{role}] {text}" for role, text in d.transcript]
    return "\n".join(lines)


def escalation_html(d: EscalationDetails) -> str:
    rows = "\n".join(
        f'<tr><th style="text-align:left; vertical-align:top; padding:4px 8px;">{_e(role)}</th>'
        f'<td style="padding:4px 8px;">{_paragraphs(text)}</td></tr>'
        for role, text in d.transcript
    )
    return _page(
        f"Escalation: ticket #{d.ticket_id}",
        [
            "<h2>A conversation needs a human</h2>",
            f"<p><strong>Ticket:</strong> {_link(d.ticket_url, f'#{d.ticket_id}')}</p>",
            f"<p><strong>Customer:</strong> {_e(d.customer_email)}</p>",
            f"<p><strong>Order:</strong> {_e(d.order_number or '-')}</p>",
            f"<p><strong>Reason:</strong> {_e(d.reason)}</p>",
            "<h3>Summary</h3>",
            f"<p>{_paragraphs(d.summary)}</p>",
            "<h3>Transcript</h3>",
            f'<table style="border-collapse: collapse;">{rows}</table>',
        ],
    )


@dataclass(frozen=True)
class ReturnLabelDetails:
    customer_name: str | None
    order_number: str | int
    label_url: str
    tracking_number: str
    carrier: str
    items: tuple[str, ...]


def return_label_text(d: ReturnLabelDetails) -> str:
    lines = [
        f"Hi {d.customer_name or 'there'},",
        "",
        f"Here is your prepaid return label for order {d.order_number}:",
        d.label_url,
        "",
        "Items to return:",
        *[f"- {item}" for item in d.items],
        "",
        f"Print the label, stick it on the parcel and drop it off with {d.carrier}.",
        f"Tracking number: {d.tracking_number}",
        "",
        "We will refund you once the parcel reaches us.",
    ]
    return "\n".join(lines)


def return_label_html(d: ReturnLabelDetails) -> str:
    item_list = "".join(f"<li>{_e(item)}</li>" for item in d.items)
    return _page(
        f"Your return label for order {d.order_number}",
        [
            f"<p>Hi {_e(d.customer_name or 'there')},</p>",
            f"<p>Here is your prepaid return label for order {_e(d.order_number)}: "
            f"{_link(d.label_url, 'download the label')}.</p>",
            f"<p>Items to return:</p><ul>{item_list}</ul>",
            f"<p>Print the label, stick it on the parcel and drop it off with {_e(d.carrier)}. "
            f"Tracking number: <strong>{_e(d.tracking_number)}</strong>.</p>",
            "<p>We will refund you once the parcel reaches us.</p>",
        ],
    )


@dataclass(frozen=True)
class SecurityAlertDetails:
    ticket_id: str | int | None
    ticket_url: str
    reason: str
    targets: tuple[str, ...]
    details: tuple[str, ...]


def security_alert_text(d: SecurityAlertDetails) -> str:
    lines = [
        f"Security alert: {d.reason}.",
        "",
        "Targeted:",
        *[f"- {target}" for target in d.targets],
        "",
        *d.details,
    ]
    if d.ticket_id:
        lines += ["", f"Conversation: ticket #{d.ticket_id} {d.ticket_url}"]
    return "\n".join(lines)


def security_alert_html(d: SecurityAlertDetails) -> str:
    targets = "".join(f"<li>{_e(target)}</li>" for target in d.targets)
    inner = [
        f"<h2>Security alert: {_e(d.reason)}</h2>",
        f"<p><strong>Targeted:</strong></p><ul>{targets}</ul>",
        *[f"<p>{_paragraphs(line)}</p>" for line in d.details],
    ]
    if d.ticket_id:
        inner.append(f"<p><strong>Conversation:</strong> {_link(d.ticket_url, f'ticket #{d.ticket_id}')}</p>")
    return _page(f"Security alert: {d.reason}", inner)


@dataclass(frozen=True)
class VerificationCodeDetails:
    code: str
    order_number: str | int
    valid_minutes: int


def verification_code_text(d: VerificationCodeDetails) -> str:
    lines = [
        f"Your verification code for order {d.order_number} is: {d.code}",
        "",
        f"Type it in the chat to confirm the change to your order. It is valid for {d.valid_minutes} minutes.",
        "",
        "If you did not ask for it, ignore this email: nothing changes without the code. Never share "
        "it with anyone; our team will never ask you for it.",
    ]
    return "\n".join(lines)


def verification_code_html(d: VerificationCodeDetails) -> str:
    return _page(
        f"Your verification code for order {d.order_number}",
        [
            f"<p>Your verification code for order {_e(d.order_number)} is:</p>",
            f'<p style="font-size: 28px; letter-spacing: 6px;"><strong>{_e(d.code)}</strong></p>',
            "<p>Type it in the chat to confirm the change to your order. "
            f"It is valid for {_e(d.valid_minutes)} minutes.</p>",
            "<p>If you did not ask for it, ignore this email: nothing changes without the code. "
            "Never share it with anyone; our team will never ask you for it.</p>",
        ],
    )

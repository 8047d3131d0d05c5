"""The small interfaces the tools depend on. One implementation per vendor lives beside its client.

Every method raises only the errors of `integrations._http` (NotFound, AuthError, RateLimited,
VendorError). Methods that change something take an `idempotency_key`: calling twice with the
same key must not act twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Protocol

from integrations.domain import (
    Address,
    HelpdeskRequest,
    Order,
    Parcel,
    RefundLine,
    RefundQuote,
    RefundRecord,
    ReturnLabel,
    SentEmail,
    Ticket,
    TicketChange,
    TrackingStatus,
)
from integrations.events import HelpdeskEvent, StoreEvent


class StoreWebhooks(Protocol):
    """The store platform's webhooks: verified, then parsed into store events.

    Verification comes first and sees the exact bytes received (signatures cover them); nothing is
    parsed from a delivery that fails it.
    """

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        """Raise `WebhookRejected` unless the delivery provably comes from the platform."""
        ...

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> list[StoreEvent]:
        """What a verified delivery means (empty for topics we do not act on); `WebhookMalformed`
        when it is not what the platform sends."""
        ...

    def dedupe_keys(self, headers: Mapping[str, str], raw_body: bytes) -> list[str]:
        """Keys of a verified delivery: one seen before under any of them is a redelivery."""
        ...


class HelpdeskWebhooks(Protocol):
    """The helpdesk's webhooks: verified, then parsed into helpdesk events."""

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        """Raise `WebhookRejected` unless the delivery provably comes from the helpdesk."""
        ...

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> list[HelpdeskEvent]:
        """What a verified delivery means for our conversations (empty when nothing: our own
        mirrored messages, notes, tickets no conversation of ours owns); `WebhookMalformed` when
        it is not what the helpdesk sends."""
        ...

    def dedupe_keys(self, headers: Mapping[str, str], raw_body: bytes) -> list[str]:
        """Keys of a verified delivery: one seen before under any of them is a redelivery (empty
        when the helpdesk sends no delivery id; the events' own guards handle replays then)."""
        ...


class CommerceBackend(StoreWebhooks, Protocol):
    """The store platform: orders, notes, refunds, cancellations (Shopify, WooCommerce, BigCommerce)."""

    async def find_order(self, number: str) -> Order | None:
        """The order with exactly this number (digits only), or None."""
        ...

    async def recent_orders(self, email: str, limit: int = 5) -> list[Order]:
        """The customer's most recent orders, newest first."""
        ...

    async def hidden_by_history_window(self, number: str) -> int | None:
        """For a number `find_order` did not find: the days of history the store lets this app read
        when the order may simply be older than that (Shopify without read_all_orders: 60), else None."""
        ...

    async def get_order(self, order_id: str) -> Order: ...

    async def append_note(self, order_id: str, text: str) -> None:
        """Add a line to the order's note, keeping what is there; a repeated text is not added twice."""
        ...

    async def quote_refund(
        self, order_id: str, lines: Sequence[RefundLine] | None, *, include_shipping: bool = False
    ) -> RefundQuote:
        """What refunding these lines (all remaining when None) would pay back."""
        ...

    async def refund(self, quote: RefundQuote, *, note: str, idempotency_key: str) -> RefundRecord:
        """Carry out a quoted refund once per key (checked against the order before writing)."""
        ...

    async def find_refund(self, order_id: str, idempotency_key: str) -> RefundRecord | None:
        """The refund made with this key on this order, if there is one."""
        ...

    async def cancel(self, order_id: str, *, reason: str, idempotency_key: str) -> Order:
        """Cancel an unfulfilled order and refund its payment."""
        ...

    async def update_shipping_address(self, order_id: str, address: Address) -> Order: ...


class PaymentProcessor(Protocol):
    """Direct payments outside the platform (Stripe payment intents)."""

    async def refundable(self, payment_reference: str) -> Decimal: ...

    async def find_refund(self, payment_reference: str, idempotency_key: str) -> RefundRecord | None:
        """The refund made with this key on this payment, if there is one."""
        ...

    async def refund(
        self,
        payment_reference: str,
        amount: Decimal,
        *,
        currency: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> RefundRecord: ...


class Shipping(Protocol):
    """Tracking and return labels (EasyPost)."""

    async def track(self, tracking_number: str, carrier: str | None) -> TrackingStatus: ...

    async def buy_return_label(
        self, *, shopper: Address, parcel: Parcel, reference: str, preferred_carrier: str | None
    ) -> ReturnLabel:
        """Buy one return label per `reference`: a repeated reference returns the label already bought."""
        ...


class Helpdesk(HelpdeskWebhooks, Protocol):
    """Tickets where people see and take over conversations (Gorgias; later Zendesk, Front, ...)."""

    def ticket_change(self, request: HelpdeskRequest) -> TicketChange:
        """What a request (hand-off, approval, hand-back consumed) means on this helpdesk's ticket:
        its own tags and instructions. Pure: the outbox worker merges and delivers the changes."""
        ...

    async def ensure_ticket(
        self,
        *,
        conversation_id: str,
        customer_email: str | None,
        subject: str,
        tags: Sequence[str],
        messages: Sequence[tuple[str, str, str]] = (),
        may_exist: bool = True,
    ) -> Ticket:
        """The conversation's ticket, created on first use (keyed by the conversation id) with its
        first (author, text, external_id) messages in the same call. `may_exist=False`: the caller
        knows it never asked before, so no look-up is needed (one call)."""
        ...

    async def post_message(
        self, ticket_id: str, *, text: str, author: str, internal: bool, external_id: str
    ) -> None:
        """Mirror one message (author: shopper, assistant or note). A repeated external_id is not posted twice."""
        ...

    async def post_messages(self, ticket_id: str, messages: Sequence[tuple[str, str, str]]) -> None:
        """Mirror a batch of (author, text, external_id), each posted once, with as few calls as possible.
        Author `note` is an internal note for the team."""
        ...

    async def edit_tags(self, ticket_id: str, *, add: Sequence[str], remove: Sequence[str]) -> Ticket:
        """Add and remove tags in one change."""
        ...

    async def add_tags(self, ticket_id: str, tags: Sequence[str]) -> Ticket: ...

    async def remove_tags(self, ticket_id: str, tags: Sequence[str]) -> Ticket: ...

    async def set_status(self, ticket_id: str, status: str) -> Ticket: ...

    async def get_ticket(self, ticket_id: str) -> Ticket: ...


class Notifier(Protocol):
    """Email (SendGrid; later SMS through Twilio)."""

    async def send_escalation(
        self,
        *,
        ticket: Ticket,
        customer_email: str | None,
        order_number: str | None,
        reason: str,
        summary: str,
        transcript: Sequence[tuple[str, str]],
    ) -> SentEmail: ...

    async def send_return_label(
        self,
        *,
        to_email: str,
        customer_name: str,
        order_number: str,
        label: ReturnLabel,
        items: Sequence[str],
    ) -> SentEmail: ...

    async def send_security_alert(
        self, *, ticket: Ticket | None, reason: str, targets: Sequence[str], details: Sequence[str]
    ) -> SentEmail:
        """Tell the team someone is attacking (e.g. guessing a customer's order numbers): what is
        targeted, what the agent did about it, and the ticket of the conversation it came from."""
        ...

    async def send_verification_code(
        self, *, to_email: str, code: str, order_number: str, valid_minutes: int
    ) -> SentEmail:
        """Email a one-time code proving the shopper reads the order's mailbox (step-up)."""
        ...

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
        """Tell the shopper about a problem with their parcel before they ask, and what happens next."""
        ...


class TrackingWebhooks(Protocol):
    """The shipping provider's tracking webhooks (EasyPost `tracker.updated`): verified, then parsed."""

    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        """Raise `WebhookRejected` unless the delivery provably comes from the provider."""
        ...

    def parse(self, raw_body: bytes) -> TrackingStatus | None:
        """The parcel's tracking now (None for events we do not act on); `WebhookMalformed` when unreadable."""
        ...

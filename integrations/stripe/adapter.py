"""Stripe as the project's `PaymentProcessor`, for orders paid outside the store platform."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from integrations.domain import RefundRecord
from integrations.stripe.client import StripePayments
from integrations.stripe.models import StripeRefund, from_minor


class StripeProcessor:
    """`PaymentProcessor` over Stripe payment intents; refunds carry our idempotency key."""

    def __init__(self, client: StripePayments) -> None:
        self._client = client

    async def refundable(self, payment_reference: str) -> Decimal:
        return await self._client.refundable_amount(payment_reference)

    async def refund(
        self,
        payment_reference: str,
        amount: Decimal,
        *,
        currency: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> RefundRecord:
        refund = await self._client.refund_payment_intent(
            payment_reference,
            amount=amount,
            currency=currency,
            # Kept on the refund, so it can be found again by key (a retry after a lost ledger).
            metadata={**metadata, "idempotency_key": idempotency_key},
            idempotency_key=idempotency_key,
        )
        return self._record(refund)

    async def find_refund(self, payment_reference: str, idempotency_key: str) -> RefundRecord | None:
        for refund in await self._client.list_refunds(payment_reference):
            if refund.metadata.get("idempotency_key") == idempotency_key:
                return self._record(refund)
        return None

    @staticmethod
    def _record(refund: StripeRefund) -> RefundRecord:
        return RefundRecord(
            id=refund.id,
            processor="stripe",
            amount=from_minor(refund.amount, refund.currency),
            currency=refund.currency.upper(),
            created_at=datetime.fromtimestamp(refund.created, UTC) if refund.created else None,
            status=refund.status or "succeeded",
        )

"""Stripe through its official SDK: direct refunds of payment intents, and what is left to refund.

`import stripe` below is the SDK (absolute import), not this package.

Every SDK call runs in a worker thread (`integrations._sdk.call_sdk`). Refunds are retried
safely because each carries the caller's `Idempotency-Key`: Stripe answers a repeated key with
the first response instead of refunding twice. The SDK's own network retries are off, so the
shared retry policy (Retry-After, bounded attempts) is the only one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

import requests
import stripe

from integrations._http import (
    AuthError,
    IntegrationError,
    NotFound,
    RateLimited,
    RetryPolicyFactory,
    VendorError,
    parse_retry_after,
)
from integrations._sdk import call_sdk, could_not_connect, error_for_status, malformed, timed_out
from integrations.stripe.models import (
    StripeCharge,
    StripePaymentIntent,
    StripeRefund,
    from_minor,
    to_minor,
    within_metadata_limits,
)

if TYPE_CHECKING:
    from stripe.params import RefundCreateParams, RefundListParams

T = TypeVar("T")

VENDOR = "stripe"
AUTH_SETTING = "STRIPE_API_KEY"
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


class StripePayments:
    """Refunds and payment lookups through the Stripe SDK, with typed errors and safe retries."""

    def __init__(
        self,
        api_key: str,
        api_base: str | None = None,
        *,
        timeout: float = 15.0,
        retry_policy: RetryPolicyFactory | None = None,
    ) -> None:
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=stripe.RequestsClient(timeout=timeout),
            max_network_retries=0,
        )
        self._retry_policy = retry_policy

    async def refund_payment_intent(
        self,
        payment_intent_id: str,
        *,
        amount: Decimal | None,
        currency: str,
        reason: str = "requested_by_customer",
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> StripeRefund:
        """Refund `amount` (the whole remaining amount when None) of a payment intent.

        `currency` must be the payment's currency: it decides how `amount` becomes minor units
        (checked against the payment intent before refunding). The same `idempotency_key`
        always yields the same refund, however often this is called or retried. A refund Stripe
        refuses (more than is left, already refunded) is a `VendorError` whose message carries
        Stripe's code, e.g. `amount_too_large` or `charge_already_refunded`. Metadata is cut to
        Stripe's limits (50 keys, keys of 40 and values of 500 characters) rather than refused.
        """
        if not idempotency_key:
            raise VendorError(VENDOR, "a refund needs an idempotency key")
        if reason not in REFUND_REASONS:
            raise VendorError(VENDOR, f"refund reason must be one of {', '.join(REFUND_REASONS)}")
        params: RefundCreateParams = {
            "payment_intent": payment_intent_id,
            "reason": reason,
            "metadata": within_metadata_limits(dict(metadata)),
        }
        if amount is not None:
            intent = await self.get_payment_intent(payment_intent_id)
            if intent.currency.lower() != currency.lower():
                raise VendorError(
                    VENDOR, f"payment is in {intent.currency.upper()}, refund asked in {currency.upper()}"
                )
            try:
                params["amount"] = to_minor(amount, currency)
            except ValueError as exc:
                raise VendorError(VENDOR, f"invalid refund amount: {exc}") from None

        def create() -> StripeRefund:
            refund = self._client.v1.refunds.create(params, {"idempotency_key": idempotency_key})
            return StripeRefund.model_validate(refund.to_dict())

        # Retrying is safe: Stripe replays the first response for the same Idempotency-Key.
        return await self._call(create, idempotent=True)

    async def get_payment_intent(self, payment_intent_id: str) -> StripePaymentIntent:
        def retrieve() -> StripePaymentIntent:
            intent = self._client.v1.payment_intents.retrieve(payment_intent_id)
            return StripePaymentIntent.model_validate(intent.to_dict())

        return await self._call(retrieve, idempotent=True)

    async def get_charge(self, charge_id: str) -> StripeCharge:
        def retrieve() -> StripeCharge:
            return StripeCharge.model_validate(self._client.v1.charges.retrieve(charge_id).to_dict())

        return await self._call(retrieve, idempotent=True)

    async def list_refunds(self, payment_intent_id: str) -> list[StripeRefund]:
        """The refunds of a payment intent, newest first (up to 100)."""
        params: RefundListParams = {"payment_intent": payment_intent_id, "limit": 100}

        def list_all() -> list[StripeRefund]:
            page = self._client.v1.refunds.list(params)
            return [StripeRefund.model_validate(refund.to_dict()) for refund in page.data]

        return await self._call(list_all, idempotent=True)

    async def refundable_amount(self, payment_intent_id: str) -> Decimal:
        """What can still be refunded: the amount received minus what its charge has refunded."""
        intent = await self.get_payment_intent(payment_intent_id)
        if intent.latest_charge is None or intent.amount_received <= 0:
            return from_minor(0, intent.currency)
        charge = await self.get_charge(intent.latest_charge)
        return from_minor(max(0, intent.amount_received - charge.amount_refunded), intent.currency)

    # ------------------------------------------------------------------ plumbing

    async def _call(self, call: Callable[[], T], *, idempotent: bool) -> T:
        return await call_sdk(
            VENDOR, call, map_error=map_stripe_error, idempotent=idempotent, retry_policy=self._retry_policy
        )


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value
    return None


def map_stripe_error(exc: Exception) -> IntegrationError:
    """Stripe SDK exception -> typed error. Stripe's messages hold no secrets, but are redacted anyway."""
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return AuthError(
            VENDOR,
            f"HTTP {exc.http_status}: {exc.user_message}",
            setting=AUTH_SETTING,
            status=exc.http_status,
        )
    if isinstance(exc, stripe.RateLimitError):
        retry_after = parse_retry_after(_header(exc.headers, "Retry-After"))
        return RateLimited(VENDOR, f"HTTP 429: {exc.user_message}", retry_after=retry_after)
    if isinstance(exc, stripe.IdempotencyError):
        return VendorError(VENDOR, f"idempotency_error: {exc.user_message}", status=exc.http_status)
    if isinstance(exc, stripe.InvalidRequestError):
        if exc.http_status == 404:
            return NotFound(VENDOR, f"HTTP 404: {exc.user_message}", status=404)
        code = f"{exc.code}: " if exc.code else ""
        return VendorError(
            VENDOR, f"HTTP {exc.http_status}: {code}{exc.user_message}", status=exc.http_status
        )
    if isinstance(exc, stripe.APIConnectionError):
        if isinstance(exc.__cause__, requests.exceptions.Timeout):
            return timed_out(VENDOR)
        return could_not_connect(VENDOR, "no response from Stripe")
    if isinstance(exc, stripe.StripeError):
        status = exc.http_status
        if status is None or status < 400:
            # A success status with a body that is not a Stripe object.
            return malformed(VENDOR, status)
        retry_after = parse_retry_after(_header(exc.headers, "Retry-After"))
        return error_for_status(
            VENDOR, status, str(exc.user_message), auth_setting=AUTH_SETTING, retry_after=retry_after
        )
    return VendorError(VENDOR, f"unexpected {type(exc).__name__} from the SDK")

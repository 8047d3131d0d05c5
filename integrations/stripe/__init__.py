"""Stripe: direct refunds of payment intents, through the official SDK.

This package shares its name with the SDK; modules here import the SDK with an absolute
`import stripe`, which always means the top-level SDK package.
"""

from integrations.stripe.client import StripePayments
from integrations.stripe.models import StripeCharge, StripePaymentIntent, StripeRefund, from_minor, to_minor

__all__ = ["StripeCharge", "StripePaymentIntent", "StripePayments", "StripeRefund", "from_minor", "to_minor"]

"""Stripe's published objects, reduced.

Source: stripe/openapi @ f6c2a48f, `openapi/fixtures3.json` (MIT), the fixtures Stripe generates
from its OpenAPI spec for stripe-mock: each object carries the fields the spec marks required
(fields the spec leaves optional, e.g. PaymentIntent `payment_details`, are absent from them).
The refund and the field lists are copied as published; the charge's `source` keeps only its
`metadata: null` (the spec marks metadata nullable on objects nested in others).
"""

from __future__ import annotations

from typing import Any

PAYMENT_INTENT_FIELDS = frozenset(
    [
        "amount",
        "amount_capturable",
        "amount_details",
        "amount_received",
        "application",
        "application_fee_amount",
        "automatic_payment_methods",
        "canceled_at",
        "cancellation_reason",
        "capture_method",
        "client_secret",
        "confirmation_method",
        "created",
        "currency",
        "customer",
        "customer_account",
        "description",
        "excluded_payment_method_types",
        "id",
        "last_payment_error",
        "latest_charge",
        "livemode",
        "managed_payments",
        "metadata",
        "next_action",
        "object",
        "on_behalf_of",
        "payment_method",
        "payment_method_configuration_details",
        "payment_method_options",
        "payment_method_types",
        "processing",
        "receipt_email",
        "review",
        "setup_future_usage",
        "shipping",
        "source",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "status",
        "transfer_data",
        "transfer_group",
    ]
)

CHARGE_FIELDS = frozenset(
    [
        "amount",
        "amount_captured",
        "amount_refunded",
        "application",
        "application_fee",
        "application_fee_amount",
        "balance_transaction",
        "billing_details",
        "calculated_statement_descriptor",
        "captured",
        "created",
        "currency",
        "customer",
        "description",
        "disputed",
        "failure_balance_transaction",
        "failure_code",
        "failure_message",
        "fraud_details",
        "id",
        "livemode",
        "metadata",
        "object",
        "on_behalf_of",
        "outcome",
        "paid",
        "payment_intent",
        "payment_method",
        "payment_method_details",
        "receipt_email",
        "receipt_number",
        "receipt_url",
        "refunded",
        "refunds",
        "review",
        "shipping",
        "source",
        "source_transfer",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "status",
        "transfer_data",
        "transfer_group",
    ]
)

REFUND_FIELDS = frozenset(
    [
        "amount",
        "balance_transaction",
        "charge",
        "created",
        "currency",
        "customer",
        "customer_account",
        "destination_details",
        "id",
        "metadata",
        "object",
        "payment_intent",
        "payment_method",
        "reason",
        "receipt_number",
        "source_transfer_reversal",
        "status",
        "transfer_reversal",
    ]
)

REFUND: dict[str, Any] = {
    "amount": 100,
    "balance_transaction": None,
    "charge": "ch_1PgafuB7WZ01zgkWXYmPNZs8",
    "created": 1234567890,
    "currency": "usd",
    "destination_details": {"card": {"type": "reversal"}, "type": "card"},
    "id": "re_1Pgc72B7WZ01zgkWqPvrRrPE",
    "metadata": {},
    "object": "refund",
    "payment_intent": None,
    "reason": None,
    "receipt_number": None,
    "source_transfer_reversal": None,
    "status": "succeeded",
    "transfer_reversal": None,
    "customer": None,
    "customer_account": None,
    "payment_method": None,
}

CHARGE_SOURCE: dict[str, Any] = {"id": "obj_123", "object": "source", "metadata": None}

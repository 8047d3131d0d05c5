"""Stripe payloads (only the fields we use) and money conversion between Decimal and minor units.

Stripe amounts are integers in the currency's smallest unit: cents for USD, but whole yen for
JPY. Conversions go through `to_minor` / `from_minor`, never through floats.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Stripe's zero-decimal currencies (https://docs.stripe.com/currencies#zero-decimal).
ZERO_DECIMAL = frozenset(
    [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
)


# Stripe's limits on metadata (https://docs.stripe.com/api/metadata): beyond them a request is refused.
METADATA_MAX_KEYS = 50
METADATA_MAX_KEY_CHARS = 40
METADATA_MAX_VALUE_CHARS = 500


def within_metadata_limits(metadata: dict[str, str]) -> dict[str, str]:
    """`metadata` cut to what Stripe accepts: a refund must never fail because a note was long."""
    bounded: dict[str, str] = {}
    for key, value in metadata.items():
        if len(bounded) >= METADATA_MAX_KEYS:
            break
        bounded[str(key)[:METADATA_MAX_KEY_CHARS]] = str(value)[:METADATA_MAX_VALUE_CHARS]
    return bounded


def minor_unit_exponent(currency: str) -> int:
    return 0 if currency.lower() in ZERO_DECIMAL else 2


def to_minor(amount: Decimal, currency: str) -> int:
    """`Decimal("12.34")` USD -> 1234. Raises ValueError for sub-unit precision or non-positive amounts."""
    exponent = minor_unit_exponent(currency)
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more decimal places than {currency.upper()} allows")
    if scaled <= 0:
        raise ValueError("amount must be positive")
    return int(scaled)


def from_minor(amount: int, currency: str) -> Decimal:
    """1234 USD -> `Decimal("12.34")`."""
    exponent = minor_unit_exponent(currency)
    return Decimal(amount).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def _metadata(value: Any) -> Any:
    """`metadata` is nullable in Stripe's spec (objects nested in others send `null`): read it as empty."""
    return {} if value is None else value


def _id_of(value: Any) -> Any:
    """An expandable field holds an id, or the object itself when expanded: keep the id."""
    if isinstance(value, dict):
        return value.get("id")
    return value


class StripeRefund(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    amount: int = Field(description="Minor units of `currency`.")
    currency: str
    status: str | None = None
    payment_intent: str | None = None
    charge: str | None = None
    reason: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    created: int | None = None

    @field_validator("payment_intent", "charge", mode="before")
    @classmethod
    def _expanded_to_id(cls, value: Any) -> Any:
        return _id_of(value)

    @field_validator("metadata", mode="before")
    @classmethod
    def _null_metadata(cls, value: Any) -> Any:
        return _metadata(value)

    @property
    def amount_decimal(self) -> Decimal:
        return from_minor(self.amount, self.currency)


class StripeCharge(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    amount: int
    amount_captured: int | None = None
    amount_refunded: int = 0
    refunded: bool = False
    currency: str
    status: str | None = None
    payment_intent: str | None = None

    @field_validator("payment_intent", mode="before")
    @classmethod
    def _expanded_to_id(cls, value: Any) -> Any:
        return _id_of(value)


class StripePaymentIntent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    amount: int
    amount_received: int = 0
    currency: str
    status: str
    latest_charge: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)

    @field_validator("latest_charge", mode="before")
    @classmethod
    def _expanded_to_id(cls, value: Any) -> Any:
        return _id_of(value)

    @field_validator("metadata", mode="before")
    @classmethod
    def _null_metadata(cls, value: Any) -> Any:
        return _metadata(value)

    @property
    def amount_received_decimal(self) -> Decimal:
        return from_minor(self.amount_received, self.currency)

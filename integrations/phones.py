"""Phone numbers in one form, E.164 (`+14155550101`), whatever way a store or a shopper wrote them."""

from __future__ import annotations

import phonenumbers


def to_e164(raw: str | None, default_region: str = "US") -> str | None:
    """The number in E.164, or None when `raw` is not a valid phone number.

    A number without a `+country` prefix is read as a number of `default_region` (ISO 3166 alpha-2).
    """
    if not raw or not raw.strip():
        return None
    try:
        parsed = phonenumbers.parse(raw.strip(), default_region.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """`+1•••••••0101`: enough for the shopper to recognise their number, little for anyone else."""
    return f"{e164[:2]}{'•' * max(0, len(e164) - 6)}{e164[-4:]}"

"""Small formatting helpers for replies: money, dates, lists. Only ever fed tool output."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from tools.common import money as _money


def money(amount: object, currency: object) -> str:
    """``$54.66`` / ``€30.00`` / ``120.00 SEK`` from a tool's amount and currency."""
    return _money(amount, str(currency or "USD"))


def join(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    parts = [i for i in items if i]
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def bullets(items: Sequence[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def parse_moment(value: object) -> datetime | None:
    """A tool's datetime, or one from an ISO string (``Z`` or offset); ``None`` for anything else."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def day(value: object, today: date | None) -> str:
    """``today`` / ``tomorrow`` / ``yesterday`` relative to ``today``, else ``Monday, November 23``."""
    moment = parse_moment(value)
    if moment is None:
        return str(value)
    when = moment.date()
    if today is not None:
        delta = (when - today).days
        if delta == 0:
            return "today"
        if delta == 1:
            return "tomorrow"
        if delta == -1:
            return "yesterday"
    return f"{when:%A}, {when:%B} {when.day}"

"""Small formatting helpers for replies: money, dates, lists. Only ever fed tool output."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from tools.common import money as _money


def money(amount: object, currency: object) -> str:
    """``$54.66`` / ``€30.00`` / ``120.00 SEK`` from a tool's amount and currency."""
    return _money(amount, str(currency or "USD"))


# The words a reply's dates and lists need, per language of the offline templates.
_AND = {"en": "and", "es": "y", "fr": "et", "de": "und"}
_OR = {"en": "or", "es": "o", "fr": "ou", "de": "oder"}
_RELATIVE = {
    "en": ("today", "tomorrow", "yesterday"),
    "es": ("hoy", "mañana", "ayer"),
    "fr": ("aujourd'hui", "demain", "hier"),
    "de": ("heute", "morgen", "gestern"),
}
_WEEKDAYS = {
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
}
_MONTHS = {
    "es": (
        "enero", "febrero", "marzo", "abril", "mayo", "junio",
        "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
    ),
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ),
    "de": (
        "Januar", "Februar", "März", "April", "Mai", "Juni",
        "Juli", "August", "September", "Oktober", "November", "Dezember",
    ),
}  # fmt: skip


def join(items: Sequence[str], language: str = "en") -> str:
    """``a``, ``a and b``, ``a, b and c`` (``y`` / ``et`` / ``und`` in the shopper's language)."""
    parts = [i for i in items if i]
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + f" {_AND.get(language, 'and')} " + parts[-1]


def alternatives(items: Sequence[str], language: str = "en") -> str:
    """``a or b``, ``a, b or c`` (``o`` / ``ou`` / ``oder`` in the shopper's language)."""
    parts = [i for i in items if i]
    if len(parts) < 2:
        return "".join(parts)
    return ", ".join(parts[:-1]) + f" {_OR.get(language, 'or')} " + parts[-1]


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


def day(value: object, today: date | None, language: str = "en") -> str:
    """``today`` / ``tomorrow`` / ``yesterday`` relative to ``today``, else ``Monday, November 23``, in
    the shopper's language (``lunes, 23 de noviembre`` / ``lundi 23 novembre`` / ``Montag, 23. November``).
    Names come from tables here, not the process locale, so a reply never depends on the machine."""
    moment = parse_moment(value)
    if moment is None:
        return str(value)
    when = moment.date()
    if today is not None:
        delta = (when - today).days
        relative = _RELATIVE.get(language, _RELATIVE["en"])
        if delta in (0, 1, -1):
            return relative[(0, 1, -1).index(delta)]
    if language in _WEEKDAYS:
        weekday, month = _WEEKDAYS[language][when.weekday()], _MONTHS[language][when.month - 1]
        if language == "es":
            return f"{weekday}, {when.day} de {month}"
        if language == "fr":
            return f"{weekday} {when.day} {month}"
        return f"{weekday}, {when.day}. {month}"
    return f"{when:%A}, {when:%B} {when.day}"

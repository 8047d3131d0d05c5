"""A helpdesk account's API budget: how many calls per window, and how its answers say what is left.

Each helpdesk client module declares its vendor's documented figures as a `CallBudget`; the outbox
worker's pacer (`agent/outbox/pacing.py`) spends it, whichever vendor it is. Vendors announce usage
differently (Gorgias: `n/40` in one header; Zendesk: the limit and what remains in two), so each
budget carries the function that reads its headers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

Usage = tuple[int | None, int | None]
"""(calls used in the window, calls allowed per window), each None when the answer does not say."""


@dataclass(frozen=True)
class CallBudget:
    """Calls allowed per window on one account, and how a response announces the budget."""

    limit: int
    window_seconds: float
    read_usage: Callable[[Mapping[str, str]], Usage]

    def usage(self, headers: Mapping[str, str]) -> Usage:
        return self.read_usage(headers)


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def used_of_allowed(header: str) -> Callable[[Mapping[str, str]], Usage]:
    """One header `used/allowed` (Gorgias's `X-Gorgias-Account-Api-Call-Limit: 12/40`)."""

    def read(headers: Mapping[str, str]) -> Usage:
        used, _, allowed = (headers.get(header) or "").partition("/")
        return _int(used), _int(allowed)

    return read


def limit_and_remaining(limit_header: str, remaining_header: str) -> Callable[[Mapping[str, str]], Usage]:
    """A header with the allowance and one with what remains (Zendesk's `X-Rate-Limit: 700`,
    `X-Rate-Limit-Remaining: 699`)."""

    def read(headers: Mapping[str, str]) -> Usage:
        allowed, remaining = _int(headers.get(limit_header)), _int(headers.get(remaining_header))
        used = allowed - remaining if allowed is not None and remaining is not None else None
        return used, allowed

    return read

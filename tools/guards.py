"""Store-wide guards the tools consult: throttles and facts that outlive one conversation.

An attacker is not bound to one conversation, so what protects the store cannot live in graph
state alone: failed verifications are counted per target (the email, the order number) and per
client address, and the return labels already bought are looked up by order, whichever
conversation made them. The agent implements `StoreGuards` with SQL beside the helpdesk outbox
(`agent/guards.py`), atomic across server processes; tools only see this Protocol.

Keys are plain strings such as `email:ana@example.com`, `order:1001`, `client:<ref>`; the
implementation stores only their HMAC, never an email or order number in clear.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ThrottleRule:
    """Lock a key out after `failures` failures; each further lock-out lasts twice as long (up to
    `max_lock_seconds`), and a key with no failure for `quiet_seconds` starts afresh."""

    failures: int
    lock_seconds: float
    max_lock_seconds: float
    quiet_seconds: float


@dataclass(frozen=True)
class FailureOutcome:
    """A failure recorded against one key."""

    key: str
    locked_until: float | None
    """POSIX seconds; None while the key is not locked."""
    newly_locked: bool
    """This very failure started a lock-out: exactly one caller store-wide sees it (to alert once)."""
    lockouts: int


@dataclass(frozen=True)
class LabelRecord:
    """A return label bought for an order, by any conversation."""

    reference: str
    items_key: str
    tracking_number: str | None
    carrier: str | None
    service: str | None
    label_url: str | None
    cost: str | None
    currency: str | None
    shipment_id: str | None
    created_at: float

    @property
    def bought(self) -> bool:
        return self.tracking_number is not None


class StoreGuards(Protocol):
    """Durable, store-wide counters and facts. Times are POSIX seconds passed in by the caller."""

    async def locked_until(self, keys: Sequence[str], now: float) -> float | None:
        """The latest lock-out still running on any of `keys`, or None."""
        ...

    async def record_failure(self, key: str, now: float, rule: ThrottleRule) -> FailureOutcome:
        """Count one failure against `key`, atomically; locks the key when the rule says so."""
        ...

    async def hit(self, key: str, now: float, window_seconds: float) -> int:
        """Count one event against `key` in a fixed window; returns the count including this one."""
        ...

    async def labels(self, order: str) -> list[LabelRecord]:
        """Every label bought (or being bought) for the order, oldest first."""
        ...

    async def reserve_label(self, order: str, items_key: str, reference: str, cap: int, now: float) -> bool:
        """Take one of the order's `cap` label slots for `reference`, atomically. True when taken
        (or already held by `reference`: a retried call keeps its slot); False when the cap is reached."""
        ...

    async def label_bought(self, reference: str, label: dict[str, str]) -> None:
        """Record what was bought under a reservation."""
        ...

    async def release_label(self, reference: str) -> None:
        """Give a slot back when buying failed."""
        ...

"""The guards' SQL: lock-out and back-off arithmetic, hashing, the label cap, and atomicity across
two PostgreSQL pools (two server processes)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent.persistence import postgres_persistence, sqlite_persistence
from tests.agent.test_persistence import postgres_url  # noqa: F401  (the fixture)
from tools.guards import ThrottleRule

RULE = ThrottleRule(failures=5, lock_seconds=900, max_lock_seconds=86_400, quiet_seconds=86_400)


def database_bytes(path: Path) -> bytes:
    """The SQLite file and its WAL, as an attacker with a copy of the disk would read them."""
    return path.read_bytes() + b"".join(p.read_bytes() for p in path.parent.glob(f"{path.name}-*"))


async def test_lockout_backoff_and_quiet_reset_in_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "agent.sqlite"
    async with sqlite_persistence(path) as persistence:
        guards = persistence.guards
        assert guards is not None
        key = "email:ana.silva@example.com"
        outcomes = [await guards.record_failure(key, 1000.0 + i, RULE) for i in range(5)]
        assert [o.newly_locked for o in outcomes] == [False] * 4 + [True]
        assert outcomes[-1].locked_until == 1004.0 + 900
        assert await guards.locked_until([key, "order:1001"], 1100.0) == 1904.0
        # While locked, failures do not count (a flood cannot stretch the lock-out).
        assert not (await guards.record_failure(key, 1200.0, RULE)).newly_locked
        assert await guards.locked_until([key], 1905.0) is None
        second = [await guards.record_failure(key, 2000.0 + i, RULE) for i in range(5)]
        assert second[-1].newly_locked and second[-1].locked_until == 2004.0 + 1800
        # A quiet day forgives: the next lock-out is the first again.
        later = 2004.0 + 86_400 + 1
        third = [await guards.record_failure(key, later + i, RULE) for i in range(5)]
        assert third[-1].lockouts == 1 and third[-1].locked_until == later + 4 + 900
        assert await guards.hit("handoff:c1", 0.0, 3600) == 1
        assert await guards.hit("handoff:c1", 10.0, 3600) == 2
        assert await guards.hit("handoff:c1", 3601.0, 3600) == 1  # a new window
        assert await guards.reserve_label("1002", "a", "ref-1", 1, 0.0)
        await guards.label_bought(
            "ref-1", {"tracking_number": "T1", "label_url": "https://l", "carrier": "USPS"}
        )
    raw = database_bytes(path)
    for secret in (b"ana.silva@example.com", b"email:", b"order:1001", b"handoff:c1"):
        assert secret not in raw


async def test_label_slots_respect_the_cap_and_a_retry_keeps_its_slot(tmp_path: Path) -> None:
    async with sqlite_persistence(tmp_path / "agent.sqlite") as persistence:
        guards = persistence.guards
        assert guards is not None
        assert await guards.reserve_label("1002", "a", "ref-1", 2, 1.0)
        assert await guards.reserve_label("1002", "a", "ref-1", 2, 2.0)  # the same call again
        assert await guards.reserve_label("1002", "b", "ref-2", 2, 3.0)
        assert not await guards.reserve_label("1002", "c", "ref-3", 2, 4.0)
        await guards.release_label("ref-2")  # buying failed: the slot is free again
        assert await guards.reserve_label("1002", "c", "ref-3", 2, 5.0)
        assert [r.reference for r in await guards.labels("1002")] == ["ref-1", "ref-3"]
        assert await guards.labels("1003") == []


@pytest.mark.postgres
async def test_postgres_counters_are_atomic_across_two_processes(postgres_url: str) -> None:  # noqa: F811
    async with postgres_persistence(postgres_url) as one, postgres_persistence(postgres_url) as other:
        first, second = one.guards, other.guards
        assert first is not None and second is not None
        key = "order:1001"
        outcomes = await asyncio.gather(*(g.record_failure(key, 100.0, RULE) for g in [first, second] * 6))
        assert sum(o.newly_locked for o in outcomes) == 1  # one lock-out, so one alert
        assert await second.locked_until([key], 101.0) == 1000.0
        counts = await asyncio.gather(*(g.hit("handoff:x", 5.0, 3600) for g in [first, second] * 5))
        assert sorted(counts) == list(range(1, 11))
        taken = await asyncio.gather(
            *(g.reserve_label("1002", "a", f"ref-{i}", 2, 1.0) for i, g in enumerate([first, second] * 4))
        )
        assert sum(taken) == 2
        assert len(await first.labels("1002")) == 2

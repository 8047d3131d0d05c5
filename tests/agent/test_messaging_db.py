"""The store-wide facts of texting: consent, threads, once-only notices and watched parcels, in SQLite
and in PostgreSQL shared by two pools (two server processes), with phone numbers never in clear."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from agent.messaging_db import MessagingFacts
from agent.persistence import postgres_persistence, sqlite_persistence
from tests.agent.test_guards_db import database_bytes
from tests.agent.test_persistence import postgres_url  # noqa: F401  (the fixture)

PHONE = "+14155550101"


@asynccontextmanager
async def sqlite_facts(path: Path) -> AsyncIterator[MessagingFacts]:
    async with sqlite_persistence(path) as persistence:
        assert persistence.guards is not None
        facts = MessagingFacts(persistence.guards)
        await facts.setup()
        yield facts


async def test_consent_threads_notices_and_parcels_in_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "agent.sqlite"
    async with sqlite_facts(path) as facts:
        assert not await facts.opted_out(PHONE)
        await facts.set_consent(PHONE, opted_out=True, keyword="STOP", now=1.0)
        assert await facts.opted_out(PHONE)
        await facts.bind_thread(PHONE, "c1", 1.0)
        await facts.bind_thread(PHONE, "c2", 2.0)
        assert await facts.thread(PHONE) == "c2"
        assert await facts.claim("parcel:T1:stuck", {"order_number": "1001"}, 1.0)
        assert not await facts.claim("parcel:T1:stuck", {"order_number": "1001"}, 2.0)
        assert await facts.unfinished("parcel:", 10.0) == ["parcel:T1:stuck"]
        await facts.update_notice("parcel:T1:stuck", {"order_number": "1001"}, done_at=3.0)
        assert await facts.unfinished("parcel:", 10.0) == []
        assert await facts.notice("parcel:T1:stuck") == {"order_number": "1001", "done": True}
        await facts.watch_parcel("T1", "1001", "UPS", 1.0)
        await facts.watch_parcel("T1", "1001", "UPS", 2.0)
        assert await facts.watched() == [("T1", "1001", "UPS")]
        await facts.close_parcel("T1", 3.0)
        assert await facts.watched() == []
    # A restart finds everything as it was.
    async with sqlite_facts(path) as facts:
        assert await facts.opted_out(PHONE) and await facts.thread(PHONE) == "c2"
        assert not await facts.claim("parcel:T1:stuck", {}, 5.0)
    assert PHONE.encode() not in database_bytes(path) and b"4155550101" not in database_bytes(path)


@pytest.mark.postgres
async def test_only_one_process_claims_a_notice_in_postgres(postgres_url: str) -> None:  # noqa: F811
    async with postgres_persistence(postgres_url) as one, postgres_persistence(postgres_url) as other:
        assert one.guards is not None and other.guards is not None
        first, second = MessagingFacts(one.guards), MessagingFacts(other.guards)
        await asyncio.gather(first.setup(), second.setup())
        won = await asyncio.gather(
            *(
                facts.claim("parcel:T9:failure", {"n": i}, float(i))
                for i, facts in enumerate([first, second] * 5)
            )
        )
        assert sum(won) == 1
        await first.set_consent(PHONE, opted_out=True, keyword="STOP", now=1.0)
        assert await second.opted_out(PHONE)
        await second.set_consent(PHONE, opted_out=False, keyword="START", now=2.0)
        assert not await first.opted_out(PHONE)
        await first.watch_parcel("T9", "1007", "FedEx", 1.0)
        assert await second.parcel_order("T9") == ("1007", "FedEx")
        assert await second.unfinished("parcel:", 100.0) == ["parcel:T9:failure"]

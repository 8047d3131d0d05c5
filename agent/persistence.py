"""Where conversations live: a LangGraph checkpointer (graph state), a store (conversation
records and the inbox of shopper messages) and the helpdesk outbox, all in one database.

A SQLite file by default, for one server process: the checkpointer, the store and the outbox
share one connection and one lock, so writes are serialised in the process and a shopper never
meets "database is locked". PostgreSQL when DATABASE_URL is set, which lets several server
processes serve the same conversations (a pool of DATABASE_POOL_SIZE connections each).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.store.base import BaseStore

from agent.guards import PostgresGuards, SqlGuards, SqliteGuards, guard_key
from agent.outbox.db import OutboxDB, PostgresOutbox, SqliteOutbox
from agent.settings import Settings

# Tests and tools that open persistence without settings hash with the sandbox secret's key.
DEFAULT_GUARD_KEY = guard_key(Settings.model_fields["store_secret"].default.get_secret_value())


@dataclass
class Persistence:
    checkpointer: BaseCheckpointSaver[Any]
    store: BaseStore
    backend: str
    outbox: OutboxDB | None = None
    """None: the runtime keeps the outbox in an in-memory SQLite database (tests, evals)."""
    guards: SqlGuards | None = None
    """The store-wide throttles and facts, beside the outbox (None together with it)."""


@asynccontextmanager
async def open_persistence(settings: Settings) -> AsyncIterator[Persistence]:
    """The configured checkpointer and store, set up (tables created) and closed on exit."""
    key = guard_key(settings.store_secret.get_secret_value())
    if settings.database_url:
        async with postgres_persistence(
            settings.database_url, pool_size=settings.database_pool_size, key=key
        ) as persistence:
            yield persistence
    else:
        async with sqlite_persistence(settings.sqlite_path, key=key) as persistence:
            yield persistence


@asynccontextmanager
async def sqlite_persistence(
    path: Path | str, *, key: bytes = DEFAULT_GUARD_KEY
) -> AsyncIterator[Persistence]:
    import aiosqlite

    from agent.sqlite_saver import OneTripSqliteSaver, OneTripSqliteStore

    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # Autocommit: the store and the outbox open their own transactions; the saver's single-statement
    # writes commit as they go.
    async with aiosqlite.connect(str(path), isolation_level=None) as conn:
        # WAL: readers never block the writer. NORMAL: durable across a process crash (what
        # `durability="sync"` guards against) without an fsync per statement.
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA busy_timeout=30000")  # another process on the file (a CLI) waits
        # Each checkpoint write one trip to aiosqlite's thread (upstream: three or four).
        saver = OneTripSqliteSaver(conn)
        await saver.setup()
        store = OneTripSqliteStore(conn)
        # One lock for everything on the connection: a store transaction and a checkpoint write must
        # not interleave on it.
        store.lock = saver.lock
        await store.setup()
        outbox = SqliteOutbox(conn, lock=saver.lock)
        await outbox.setup()
        guards = SqliteGuards(conn, key, lock=saver.lock)
        await guards.setup()
        yield Persistence(
            checkpointer=saver, store=store, backend=f"sqlite:{path}", outbox=outbox, guards=guards
        )


# Key of the session advisory lock held while the tables are created (any 64-bit number of our own).
SETUP_LOCK = 0x5A_6E_74_5F_53_45_54_55
SETUP_LOCK_POLL_SECONDS = 0.1


async def _advisory_lock(conn: Any, key: int) -> None:
    """Take a session advisory lock, polling: a session blocked inside `pg_advisory_lock` holds a
    snapshot, which the holder's `CREATE INDEX CONCURRENTLY` (LangGraph's migrations) waits for."""
    while True:
        cursor = await conn.execute("SELECT pg_try_advisory_lock(%s) AS taken", (key,))
        row = await cursor.fetchone()
        if row and row["taken"]:
            return
        await asyncio.sleep(SETUP_LOCK_POLL_SECONDS)


@asynccontextmanager
async def postgres_persistence(
    url: str, *, pool_size: int = 10, key: bytes = DEFAULT_GUARD_KEY
) -> AsyncIterator[Persistence]:
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from langgraph.store.postgres.aio import AsyncPostgresStore
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool

    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        url,
        min_size=1,
        max_size=max(2, pool_size),
        open=False,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
    )
    await pool.open()
    try:
        saver = AsyncPostgresSaver(pool)
        store = AsyncPostgresStore(pool)
        outbox = PostgresOutbox(pool)
        guards = PostgresGuards(pool, key)
        # Server processes start together (`serve --workers N`): on a fresh database they would all
        # run the same migrations at once and all but one fail. One at a time; the others find them done.
        async with pool.connection() as lock:
            await _advisory_lock(lock, SETUP_LOCK)
            try:
                await saver.setup()
                await store.setup()
                await outbox.setup()
                await guards.setup()
            finally:
                await lock.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK,))
        yield Persistence(checkpointer=saver, store=store, backend="postgres", outbox=outbox, guards=guards)
    finally:
        await pool.close()


@asynccontextmanager
async def memory_outbox(key: bytes = DEFAULT_GUARD_KEY) -> AsyncIterator[tuple[OutboxDB, SqlGuards]]:
    """An outbox and the guards in an in-memory SQLite database, for a runtime whose conversations
    live in memory."""
    import aiosqlite

    async with aiosqlite.connect(":memory:", isolation_level=None) as conn:
        lock = asyncio.Lock()
        outbox = SqliteOutbox(conn, lock=lock)
        await outbox.setup()
        guards = SqliteGuards(conn, key, lock=lock)
        await guards.setup()
        yield outbox, guards

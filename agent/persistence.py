"""Where conversations live: a LangGraph checkpointer (graph state) and a store (conversation
records and the inbox of shopper messages).

A SQLite file by default; PostgreSQL when DATABASE_URL is set, which lets several server
processes serve the same conversations.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.store.base import BaseStore

from agent.settings import Settings


@dataclass
class Persistence:
    checkpointer: BaseCheckpointSaver[Any]
    store: BaseStore
    backend: str


@asynccontextmanager
async def open_persistence(settings: Settings) -> AsyncIterator[Persistence]:
    """The configured checkpointer and store, set up (tables created) and closed on exit."""
    if settings.database_url:
        async with postgres_persistence(settings.database_url) as persistence:
            yield persistence
    else:
        async with sqlite_persistence(settings.sqlite_path) as persistence:
            yield persistence


@asynccontextmanager
async def sqlite_persistence(path: Path) -> AsyncIterator[Persistence]:
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
    from langgraph.store.sqlite.aio import AsyncSqliteStore

    path.parent.mkdir(parents=True, exist_ok=True)
    async with (
        aiosqlite.connect(str(path)) as saver_conn,
        aiosqlite.connect(str(path), isolation_level=None) as store_conn,
    ):
        # WAL lets the checkpointer and the store write the same file without blocking readers.
        await saver_conn.execute("PRAGMA journal_mode=WAL")
        saver = AsyncSqliteSaver(saver_conn)
        await saver.setup()
        store = AsyncSqliteStore(store_conn)
        await store.setup()
        yield Persistence(checkpointer=saver, store=store, backend=f"sqlite:{path}")


@asynccontextmanager
async def postgres_persistence(url: str) -> AsyncIterator[Persistence]:
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from langgraph.store.postgres.aio import AsyncPostgresStore
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool

    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        url,
        min_size=1,
        max_size=10,
        open=False,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
    )
    await pool.open()
    try:
        saver = AsyncPostgresSaver(pool)
        await saver.setup()
        store = AsyncPostgresStore(pool)
        await store.setup()
        yield Persistence(checkpointer=saver, store=store, backend="postgres")
    finally:
        await pool.close()

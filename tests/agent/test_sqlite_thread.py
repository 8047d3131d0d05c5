"""A whole SQLite transaction as one hand-off to aiosqlite's thread (`agent.sqlite_thread`)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import aiosqlite

from agent.sqlite_thread import on_connection_thread


async def test_work_runs_on_the_connection_thread_with_its_sqlite_connection(tmp_path: Path) -> None:
    """Fails first if an aiosqlite release renames what this relies on (`_execute`, `_conn`)."""
    async with aiosqlite.connect(str(tmp_path / "t.sqlite"), isolation_level=None) as conn:
        await conn.execute("CREATE TABLE t (n INTEGER)")

        def work(raw: sqlite3.Connection, first: int) -> tuple[str, list[int]]:
            raw.execute("BEGIN IMMEDIATE")
            raw.executemany("INSERT INTO t VALUES (?)", [(first,), (first + 1,)])
            raw.execute("COMMIT")
            return threading.current_thread().name, [r[0] for r in raw.execute("SELECT n FROM t ORDER BY n")]

        thread, rows = await on_connection_thread(conn, work, 7)

        assert thread != threading.current_thread().name
        assert rows == [7, 8]
        assert [tuple(r) for r in await conn.execute_fetchall("SELECT n FROM t ORDER BY n")] == [(7,), (8,)]

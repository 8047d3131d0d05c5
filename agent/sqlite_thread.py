"""Run a function on an aiosqlite connection's own thread: a whole transaction in one hand-off.

aiosqlite keeps each `sqlite3.Connection` on a thread of its own and runs every call (`execute`,
`fetchall`, `commit`, closing a cursor) as a function queued to that thread: a queue put, a thread
wake-up and a callback on the event loop, about 0.1 ms each on this project's machines. A
transaction of a few statements done call by call is a dozen of them; done as one function it is
one. aiosqlite does exactly this internally (`Connection._execute`, with the `sqlite3.Connection`
as `Connection._conn`) but does not export it, so this module is the one place that relies on
those two names; `tests/agent/test_sqlite_thread.py` fails first if an aiosqlite release drops them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

R = TypeVar("R")


async def on_connection_thread(conn: Any, work: Callable[..., R], *args: Any) -> R:
    """`work(raw_connection, *args)` on `conn`'s thread (`conn`: an open `aiosqlite.Connection`).

    The caller serialises with the connection's other users (the shared lock), as for any call.
    """
    result: R = await conn._execute(_with_raw, conn, work, *args)
    return result


def _with_raw(conn: Any, work: Callable[..., R], *args: Any) -> R:
    raw: sqlite3.Connection = conn._conn  # on the connection's thread: the only place it is used
    return work(raw, *args)

"""The helpdesk outbox's tables, in the conversations' own database (SQLite or PostgreSQL).

Three tables:
- `helpdesk_outbox`: one row per piece of mirroring work (a message, a note, a tag change, the
  team email), unique per (conversation, key) so recording the same work twice is a no-op;
- `helpdesk_sync`: one row per conversation: its ticket id, what a new ticket needs (customer,
  subject), how many items are pending and how urgent they are, and the delivery lease;
- `helpdesk_pace`: when the next call to a helpdesk account may be made, shared by every process.

A worker claims a whole conversation at a time (a lease, taken with `FOR UPDATE SKIP LOCKED` on
PostgreSQL), so its items are delivered by one worker, in order. A lease that outlives a crashed
worker expires and the conversation is claimed again; delivery is idempotent (external ids).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from agent.sqlite_thread import on_connection_thread

URGENT = 0
ROUTINE = 1


@dataclass(frozen=True)
class OutboxItem:
    """One piece of mirroring work. `key` makes recording it idempotent within a conversation."""

    key: str
    kind: str  # "message" | "note" | "tags" | "team_email" | "team_alert" | a request (worker.REQUEST_KINDS)
    payload: dict[str, Any]
    priority: int = ROUTINE


@dataclass(frozen=True)
class StoredItem:
    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    priority: int
    created_at: float


@dataclass(frozen=True)
class TicketSeed:
    """What creating the conversation's ticket needs, as known when the work was recorded."""

    customer_email: str | None
    subject: str


@dataclass(frozen=True)
class Claim:
    """A conversation leased to one worker, with its pending items in order."""

    conversation_id: str
    ticket_id: str | None
    seed: TicketSeed
    attempts: int
    items: list[StoredItem]
    ticket_requested: bool = False
    """A ticket was asked for before: it may exist at the vendor without our having its id."""


@dataclass(frozen=True)
class Backlog:
    items: int
    conversations: int
    oldest_created_at: float | None


class OutboxDB(Protocol):
    """Storage of the outbox. Times are POSIX seconds passed in by the caller (testable clocks)."""

    backend: str

    async def setup(self) -> None: ...

    async def record(
        self, conversation_id: str, items: Sequence[OutboxItem], seed: TicketSeed, now: float
    ) -> int:
        """Add the items not yet recorded; returns how many were new."""
        ...

    async def claim(
        self, worker: str, now: float, lease_seconds: float, due_by: float | None = None
    ) -> Claim | None:
        """Lease the most urgent conversation with work due by `due_by` (default: now), or None."""
        ...

    async def complete(
        self,
        conversation_id: str,
        delivered: Sequence[int],
        ticket_id: str | None,
        now: float,
        *,
        retry_at: float | None = None,
        error: str | None = None,
    ) -> None:
        """Mark items delivered, remember the ticket and release the lease. With `error` the
        delivery stopped part-way: the rest is due again at `retry_at`."""
        ...

    async def ticket_requested(self, conversation_id: str) -> None:
        """Remember, before asking the vendor for a ticket, that one may now exist."""
        ...

    async def release_worker(self, worker: str) -> None:
        """Drop every lease a stopped worker holds (a stop can interrupt it between claim and release)."""
        ...

    async def ticket_id(self, conversation_id: str) -> str | None: ...

    async def conversation_for_ticket(self, ticket_id: str) -> str | None: ...

    async def backlog(self) -> Backlog: ...

    async def reserve_call(self, account: str, now: float, interval: float) -> float:
        """Book the account's next call slot: returns when the call may be made."""
        ...

    async def hold_calls(self, account: str, until: float) -> None:
        """No call to the account before `until` (after a 429 with Retry-After)."""
        ...

    async def ease_calls(self, account: str, latest: float) -> None:
        """Pull the next slot back to at most `latest` (the vendor allows more than assumed)."""
        ...


_TABLES = (
    """CREATE TABLE IF NOT EXISTS helpdesk_outbox (
        id {serial} PRIMARY KEY,
        conversation_id TEXT NOT NULL,
        key TEXT NOT NULL,
        kind TEXT NOT NULL,
        priority INTEGER NOT NULL,
        payload TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        delivered_at DOUBLE PRECISION,
        UNIQUE (conversation_id, key)
    )""",
    """CREATE INDEX IF NOT EXISTS helpdesk_outbox_pending
        ON helpdesk_outbox (conversation_id, id) WHERE delivered_at IS NULL""",
    """CREATE TABLE IF NOT EXISTS helpdesk_sync (
        conversation_id TEXT PRIMARY KEY,
        ticket_id TEXT,
        customer_email TEXT,
        subject TEXT NOT NULL DEFAULT '',
        pending INTEGER NOT NULL DEFAULT 0,
        priority INTEGER NOT NULL DEFAULT 1,
        oldest_at DOUBLE PRECISION,
        due_at DOUBLE PRECISION NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        ticket_requested INTEGER NOT NULL DEFAULT 0,
        leased_by TEXT,
        leased_until DOUBLE PRECISION,
        last_error TEXT
    )""",
    """CREATE INDEX IF NOT EXISTS helpdesk_sync_due
        ON helpdesk_sync (priority, due_at) WHERE pending > 0""",
    "CREATE INDEX IF NOT EXISTS helpdesk_sync_ticket ON helpdesk_sync (ticket_id)",
    """CREATE TABLE IF NOT EXISTS helpdesk_pace (
        account TEXT PRIMARY KEY,
        next_at DOUBLE PRECISION NOT NULL
    )""",
)

# Recomputes a conversation's aggregate from its pending items (same SQL on both databases).
_REFRESH = """
    UPDATE helpdesk_sync SET
        pending = (SELECT COUNT(*) FROM helpdesk_outbox o
                   WHERE o.conversation_id = helpdesk_sync.conversation_id AND o.delivered_at IS NULL),
        priority = COALESCE((SELECT MIN(o.priority) FROM helpdesk_outbox o
                   WHERE o.conversation_id = helpdesk_sync.conversation_id AND o.delivered_at IS NULL), 1),
        oldest_at = (SELECT MIN(o.created_at) FROM helpdesk_outbox o
                   WHERE o.conversation_id = helpdesk_sync.conversation_id AND o.delivered_at IS NULL)
    WHERE conversation_id = {p}
"""


# Releases a conversation's lease after a delivery, counting a failure when there is an error.
_RELEASE = """
    UPDATE helpdesk_sync SET ticket_id = COALESCE({p}, ticket_id),
        attempts = CASE WHEN CAST({p} AS TEXT) IS NULL THEN 0 ELSE attempts + 1 END,
        last_error = CAST({p} AS TEXT), due_at = {p}, leased_by = NULL, leased_until = NULL
    WHERE conversation_id = {p}
"""


def _release_params(
    conversation_id: str, ticket_id: str | None, now: float, retry_at: float | None, error: str | None
) -> tuple[Any, ...]:
    message = error[:500] if error is not None else None
    due = retry_at if error is not None and retry_at is not None else now
    return (ticket_id, message, message, due, conversation_id)


def _items(rows: Sequence[Sequence[Any]]) -> list[StoredItem]:
    return [
        StoredItem(
            id=int(r[0]), key=str(r[1]), kind=str(r[2]), payload=json.loads(r[3]), priority=int(r[4]),
            created_at=float(r[5]),
        )
        for r in rows
    ]  # fmt: skip


R = TypeVar("R")


class _SharedStatements:
    """The statements both databases run alike; subclasses supply the placeholder and the runners."""

    _p = "?"
    _greatest = "MAX"
    _least = "MIN"

    async def _run(self, *statements: tuple[str, Sequence[Any]]) -> list[list[Any]]:
        """Statements in one transaction; each one's rows (as sequences)."""
        raise NotImplementedError

    async def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return (await self._run((sql, params)))[0]

    async def ticket_requested(self, conversation_id: str) -> None:
        await self._run(
            (
                f"UPDATE helpdesk_sync SET ticket_requested = 1 WHERE conversation_id = {self._p}",
                (conversation_id,),
            )
        )

    async def release_worker(self, worker: str) -> None:
        await self._run(
            (
                f"UPDATE helpdesk_sync SET leased_by = NULL, leased_until = NULL WHERE leased_by = {self._p}",
                (worker,),
            )
        )

    async def ticket_id(self, conversation_id: str) -> str | None:
        rows = await self._query(
            f"SELECT ticket_id FROM helpdesk_sync WHERE conversation_id = {self._p}", (conversation_id,)
        )
        return str(rows[0][0]) if rows and rows[0][0] is not None else None

    async def conversation_for_ticket(self, ticket_id: str) -> str | None:
        rows = await self._query(
            f"SELECT conversation_id FROM helpdesk_sync WHERE ticket_id = {self._p} LIMIT 1", (ticket_id,)
        )
        return str(rows[0][0]) if rows else None

    async def backlog(self) -> Backlog:
        rows = await self._query(
            "SELECT COALESCE(SUM(pending), 0), COUNT(*), MIN(oldest_at) FROM helpdesk_sync WHERE pending > 0"
        )
        items, conversations, oldest = rows[0]
        return Backlog(int(items), int(conversations), float(oldest) if oldest is not None else None)

    async def reserve_call(self, account: str, now: float, interval: float) -> float:
        p = self._p
        rows = await self._run(
            (
                f"INSERT INTO helpdesk_pace (account, next_at) VALUES ({p}, {p}) ON CONFLICT (account) "
                f"DO UPDATE SET next_at = {self._greatest}(helpdesk_pace.next_at, {p}) + {p} RETURNING next_at",
                (account, now + interval, now, interval),
            )
        )
        return float(rows[0][0][0]) - interval

    async def hold_calls(self, account: str, until: float) -> None:
        p = self._p
        await self._run(
            (
                f"INSERT INTO helpdesk_pace (account, next_at) VALUES ({p}, {p}) ON CONFLICT (account) "
                f"DO UPDATE SET next_at = {self._greatest}(helpdesk_pace.next_at, excluded.next_at)",
                (account, until),
            )
        )

    async def ease_calls(self, account: str, latest: float) -> None:
        p = self._p
        await self._run(
            (
                f"UPDATE helpdesk_pace SET next_at = {self._least}(next_at, {p}) WHERE account = {p}",
                (latest, account),
            )
        )


class SqliteOutbox(_SharedStatements):
    """The outbox on the SQLite connection the checkpointer uses, under the same lock.

    One connection serialises every write of the process (aiosqlite runs it on one thread), so a
    shopper never meets "database is locked"; SQLite serves one process, which is its design.

    Each transaction is one function run on that thread (`agent.sqlite_thread.on_connection_thread`):
    one hand-off where statement by statement took two or three per statement and two more for
    BEGIN and COMMIT, and the lock shared with the checkpointer is held that much shorter. A caller
    cancelled while it waits cannot stop the function half-way: the connection, shared with the
    checkpointer, is never left inside a transaction.
    """

    backend = "sqlite"

    def __init__(self, conn: Any, lock: asyncio.Lock | None = None) -> None:
        self._conn = conn
        self._lock = lock or asyncio.Lock()

    async def _in_transaction(self, work: Callable[[sqlite3.Connection], R]) -> R:
        async with self._lock:
            return await on_connection_thread(self._conn, _transaction, work)

    async def _run(self, *statements: tuple[str, Sequence[Any]]) -> list[list[Any]]:
        """Statements in one transaction; the rows each returned."""

        def run(raw: sqlite3.Connection) -> list[list[Any]]:
            return [list(raw.execute(sql, params).fetchall()) for sql, params in statements]

        return await self._in_transaction(run)

    async def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """A read outside any transaction (WAL readers never wait)."""
        async with self._lock:
            return list(await self._conn.execute_fetchall(sql, params))

    async def setup(self) -> None:
        async with self._lock:
            for sql in _TABLES:
                await self._conn.execute(sql.format(serial="INTEGER"))
            if not self._conn.in_transaction:
                return
            await self._conn.commit()

    async def record(
        self, conversation_id: str, items: Sequence[OutboxItem], seed: TicketSeed, now: float
    ) -> int:
        if not items:
            return 0
        rows = [(conversation_id, i.key, i.kind, i.priority, json.dumps(i.payload), now) for i in items]

        def record(raw: sqlite3.Connection) -> int:
            before = raw.total_changes
            raw.executemany(
                "INSERT OR IGNORE INTO helpdesk_outbox "
                "(conversation_id, key, kind, priority, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            added = raw.total_changes - before
            if added:
                raw.execute(
                    "INSERT INTO helpdesk_sync (conversation_id, customer_email, subject, due_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (conversation_id) DO UPDATE SET "
                    "customer_email = COALESCE(excluded.customer_email, helpdesk_sync.customer_email), "
                    "subject = CASE WHEN helpdesk_sync.subject = '' THEN excluded.subject "
                    "ELSE helpdesk_sync.subject END",
                    (conversation_id, seed.customer_email, seed.subject, now),
                )
                raw.execute(_REFRESH.format(p="?"), (conversation_id,))
            return added

        return await self._in_transaction(record)

    async def claim(
        self, worker: str, now: float, lease_seconds: float, due_by: float | None = None
    ) -> Claim | None:
        def claim(raw: sqlite3.Connection) -> Claim | None:
            row = raw.execute(
                "SELECT conversation_id, ticket_id, customer_email, subject, attempts, ticket_requested "
                "FROM helpdesk_sync "
                "WHERE pending > 0 AND due_at <= ? AND (leased_until IS NULL OR leased_until < ?) "
                "ORDER BY priority, due_at LIMIT 1",
                (now if due_by is None else due_by, now),
            ).fetchone()
            if row is None:
                return None
            raw.execute(
                "UPDATE helpdesk_sync SET leased_by = ?, leased_until = ? WHERE conversation_id = ?",
                (worker, now + lease_seconds, row[0]),
            )
            items = raw.execute(
                "SELECT id, key, kind, payload, priority, created_at FROM helpdesk_outbox "
                "WHERE conversation_id = ? AND delivered_at IS NULL ORDER BY id",
                (row[0],),
            ).fetchall()
            return Claim(
                conversation_id=str(row[0]),
                ticket_id=row[1],
                seed=TicketSeed(customer_email=row[2], subject=str(row[3] or "")),
                attempts=int(row[4]),
                items=_items(items),
                ticket_requested=bool(row[5]),
            )

        return await self._in_transaction(claim)

    async def complete(
        self,
        conversation_id: str,
        delivered: Sequence[int],
        ticket_id: str | None,
        now: float,
        *,
        retry_at: float | None = None,
        error: str | None = None,
    ) -> None:
        marks = [(now, item_id) for item_id in delivered]

        def complete(raw: sqlite3.Connection) -> None:
            if marks:
                raw.executemany(
                    "UPDATE helpdesk_outbox SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL", marks
                )
            raw.execute(
                _RELEASE.format(p="?"), _release_params(conversation_id, ticket_id, now, retry_at, error)
            )
            raw.execute(_REFRESH.format(p="?"), (conversation_id,))

        await self._in_transaction(complete)


def _transaction(raw: sqlite3.Connection, work: Callable[[sqlite3.Connection], R]) -> R:
    """`work` between BEGIN IMMEDIATE and COMMIT (ROLLBACK if it raises), on the connection's thread."""
    raw.execute("BEGIN IMMEDIATE")
    try:
        result = work(raw)
    except BaseException:
        raw.execute("ROLLBACK")
        raise
    raw.execute("COMMIT")
    return result


# Recording on PostgreSQL: the new items, the conversation's ticket seed and its aggregate in one
# statement (one round trip, one transaction) instead of six. The items keep their order (ids are
# drawn in `ORDER BY n`). `pending` counts the rows this statement added (`added`: the table's rows
# as of the statement's snapshot do not include them) and those already waiting. Nothing new: no
# row is written at all, as before.
_RECORD_POSTGRES = """
WITH added AS (
    INSERT INTO helpdesk_outbox (conversation_id, key, kind, priority, payload, created_at)
    SELECT %(conversation)s, t.key, t.kind, t.priority, t.payload, %(now)s
    FROM unnest(%(keys)s::text[], %(kinds)s::text[], %(priorities)s::int[], %(payloads)s::text[])
        WITH ORDINALITY AS t(key, kind, priority, payload, n)
    ORDER BY t.n
    ON CONFLICT (conversation_id, key) DO NOTHING
    RETURNING priority, created_at
), waiting AS (
    SELECT priority, created_at FROM added
    UNION ALL
    SELECT priority, created_at FROM helpdesk_outbox
    WHERE conversation_id = %(conversation)s AND delivered_at IS NULL
)
INSERT INTO helpdesk_sync AS s (conversation_id, customer_email, subject, due_at, pending, priority, oldest_at)
SELECT %(conversation)s, %(email)s, %(subject)s, %(now)s, COUNT(*), COALESCE(MIN(priority), 1), MIN(created_at)
FROM waiting
HAVING (SELECT COUNT(*) FROM added) > 0
ON CONFLICT (conversation_id) DO UPDATE SET
    customer_email = COALESCE(EXCLUDED.customer_email, s.customer_email),
    subject = CASE WHEN s.subject = '' THEN EXCLUDED.subject ELSE s.subject END,
    pending = EXCLUDED.pending, priority = EXCLUDED.priority, oldest_at = EXCLUDED.oldest_at
RETURNING (SELECT COUNT(*) FROM added)
"""


class PostgresOutbox(_SharedStatements):
    """The outbox on the PostgreSQL pool the checkpointer uses; safe for many processes."""

    backend = "postgres"
    _p = "%s"
    _greatest = "GREATEST"
    _least = "LEAST"

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def _run(self, *statements: tuple[str, Sequence[Any]]) -> list[list[Any]]:
        results: list[list[Any]] = []
        async with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            for sql, params in statements:
                await cur.execute(sql, params)
                results.append([self._row(r) for r in await cur.fetchall()] if cur.description else [])
        return results

    @staticmethod
    def _row(row: Any) -> list[Any]:
        # The shared pool hands out dict rows (the checkpointer's choice): positional access here.
        return list(row.values()) if isinstance(row, dict) else list(row)

    async def setup(self) -> None:
        await self._run(*((sql.format(serial="BIGSERIAL"), ()) for sql in _TABLES))

    async def record(
        self, conversation_id: str, items: Sequence[OutboxItem], seed: TicketSeed, now: float
    ) -> int:
        if not items:
            return 0
        params = {
            "conversation": conversation_id,
            "now": now,
            "keys": [i.key for i in items],
            "kinds": [i.kind for i in items],
            "priorities": [i.priority for i in items],
            "payloads": [json.dumps(i.payload) for i in items],
            "email": seed.customer_email,
            "subject": seed.subject,
        }
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(_RECORD_POSTGRES, params)
            row = await cur.fetchone()
        added = int(self._row(row)[0]) if row is not None else 0
        return added

    async def claim(
        self, worker: str, now: float, lease_seconds: float, due_by: float | None = None
    ) -> Claim | None:
        async with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            await cur.execute(
                "UPDATE helpdesk_sync SET leased_by = %s, leased_until = %s WHERE conversation_id = ("
                " SELECT conversation_id FROM helpdesk_sync"
                " WHERE pending > 0 AND due_at <= %s AND (leased_until IS NULL OR leased_until < %s)"
                " ORDER BY priority, due_at LIMIT 1 FOR UPDATE SKIP LOCKED"
                ") RETURNING conversation_id, ticket_id, customer_email, subject, attempts, ticket_requested",
                (worker, now + lease_seconds, now if due_by is None else due_by, now),
            )
            found = await cur.fetchone()
            if found is None:
                return None
            row = self._row(found)
            await cur.execute(
                "SELECT id, key, kind, payload, priority, created_at FROM helpdesk_outbox "
                "WHERE conversation_id = %s AND delivered_at IS NULL ORDER BY id",
                (row[0],),
            )
            items = _items([self._row(r) for r in await cur.fetchall()])
        return Claim(
            conversation_id=str(row[0]),
            ticket_id=row[1],
            seed=TicketSeed(customer_email=row[2], subject=str(row[3] or "")),
            attempts=int(row[4]),
            items=items,
            ticket_requested=bool(row[5]),
        )

    async def complete(
        self,
        conversation_id: str,
        delivered: Sequence[int],
        ticket_id: str | None,
        now: float,
        *,
        retry_at: float | None = None,
        error: str | None = None,
    ) -> None:
        await self._run(
            (
                "UPDATE helpdesk_outbox SET delivered_at = %s WHERE id = ANY(%s) AND delivered_at IS NULL",
                (now, list(delivered)),
            ),
            (_RELEASE.format(p="%s"), _release_params(conversation_id, ticket_id, now, retry_at, error)),
            (_REFRESH.format(p="%s"), (conversation_id,)),
        )

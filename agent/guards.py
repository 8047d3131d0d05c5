"""`StoreGuards` in SQL, beside the helpdesk outbox in the conversations' own database.

Three tables, shared by every server process:
- `guard_throttle`: failures and lock-outs per key (a target email or order number, a client
  address); read-modify-write in one transaction under a row lock (`FOR UPDATE` on PostgreSQL,
  `BEGIN IMMEDIATE` on the SQLite connection the checkpointer shares, under its lock);
- `guard_events`: fixed-window event counts (hand-offs per client address), one atomic
  `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`;
- `guard_labels`: return labels bought per order, by any conversation, with a slot reserved
  before buying so two processes cannot both buy past the cap.

Keys and order numbers are stored as HMAC-SHA256 digests under a server key (derived from
`STORE_SECRET`), never in clear: the tables reveal neither who was targeted nor which orders.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from tools.guards import FailureOutcome, LabelRecord, ThrottleRule

_TABLES = (
    """CREATE TABLE IF NOT EXISTS guard_throttle (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL DEFAULT 0,
        lockouts INTEGER NOT NULL DEFAULT 0,
        locked_until DOUBLE PRECISION,
        last_failure_at DOUBLE PRECISION
    )""",
    """CREATE TABLE IF NOT EXISTS guard_events (
        key TEXT PRIMARY KEY,
        window_start DOUBLE PRECISION NOT NULL,
        count INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS guard_labels (
        reference TEXT PRIMARY KEY,
        order_key TEXT NOT NULL,
        items_key TEXT NOT NULL,
        tracking_number TEXT,
        carrier TEXT,
        service TEXT,
        label_url TEXT,
        cost TEXT,
        currency TEXT,
        shipment_id TEXT,
        created_at DOUBLE PRECISION NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS guard_labels_order ON guard_labels (order_key, created_at)",
)

_LABEL_FIELDS = ("tracking_number", "carrier", "service", "label_url", "cost", "currency", "shipment_id")
_LABEL_BOUGHT = (
    "UPDATE guard_labels SET tracking_number = ?, carrier = ?, service = ?, label_url = ?, cost = ?, "
    "currency = ?, shipment_id = ? WHERE reference = ?"
)
_LABEL_ROWS = (
    "SELECT reference, items_key, tracking_number, carrier, service, label_url, cost, currency, shipment_id, "
    "created_at FROM guard_labels WHERE order_key = ? ORDER BY created_at, reference"
)
_THROTTLE_ROW = "SELECT failures, lockouts, locked_until, last_failure_at FROM guard_throttle WHERE key = ?"
_THROTTLE_ROW_LOCKED = _THROTTLE_ROW + " FOR UPDATE"


def derive_key(store_secret: str, purpose: bytes) -> bytes:
    """A key for one purpose, derived from STORE_SECRET: every process agrees on it, and a digest
    made with it never helps anyone forge what STORE_SECRET itself signs (widget identities)."""
    return hmac.new(store_secret.encode(), purpose, hashlib.sha256).digest()


def guard_key(secret: str) -> bytes:
    """The server key the guards hash with."""
    return derive_key(secret, b"support-agent store guards")


def client_ref(key: bytes, address: str) -> str:
    """An opaque, stable reference for a client address (what graph state and tools see)."""
    return hmac.new(key, f"client\x00{address}".encode(), hashlib.sha256).hexdigest()[:32]


class _Tx(Protocol):
    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[list[Any]]: ...


class SqlGuards:
    """The SQL shared by both databases; subclasses open transactions. SQL uses `?` placeholders."""

    backend = "sql"
    _for_update = ""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _digest(self, key: str) -> str:
        return hmac.new(self._key, key.encode(), hashlib.sha256).hexdigest()

    def _tx(self) -> Any:  # an async context manager yielding a `_Tx`
        raise NotImplementedError

    def _read(self) -> Any:
        """Where a single read statement runs (a statement is atomic on its own): a transaction
        unless the backend has something cheaper."""
        return self._tx()

    async def _serialise(self, tx: _Tx, key: str) -> None:
        """Serialise transactions about one key (SQLite: the whole database already is)."""

    def transaction(self) -> Any:
        """A transaction on the guards' database (for other store-wide facts kept beside them)."""
        return self._tx()

    def digest(self, key: str) -> str:
        """The keyed digest the tables store instead of a clear value."""
        return self._digest(key)

    async def setup(self) -> None:
        async with self._tx() as tx:
            for sql in _TABLES:
                await tx.fetch(sql)

    async def clear(self) -> None:
        """Forget everything: for a sandbox store reset to its seed (evals), never in production."""
        async with self._tx() as tx:
            for table in ("guard_throttle", "guard_events", "guard_labels"):
                await tx.fetch(f"DELETE FROM {table}")  # noqa: S608  (fixed table names)

    async def locked_until(self, keys: Sequence[str], now: float) -> float | None:
        if not keys:
            return None
        digests = [self._digest(k) for k in keys]
        marks = ", ".join("?" for _ in digests)
        async with self._read() as tx:
            rows = await tx.fetch(
                # Only placeholders are formatted in; the values go as parameters.
                f"SELECT MAX(locked_until) FROM guard_throttle WHERE key IN ({marks}) AND locked_until > ?",  # noqa: S608
                [*digests, now],
            )
        value = rows[0][0] if rows else None
        return float(value) if value is not None else None

    async def record_failure(self, key: str, now: float, rule: ThrottleRule) -> FailureOutcome:
        digest = self._digest(key)
        async with self._tx() as tx:
            await tx.fetch(
                "INSERT INTO guard_throttle (key) VALUES (?) ON CONFLICT (key) DO NOTHING", [digest]
            )
            rows = await tx.fetch(
                _THROTTLE_ROW_LOCKED if self._for_update else _THROTTLE_ROW,
                [digest],
            )
            failures, lockouts, locked_until, last = rows[0]
            failures, lockouts = int(failures), int(lockouts)
            if locked_until is not None and now < float(locked_until):
                # Already locked: not counted again, so a flood cannot stretch the customer's lock-out.
                return FailureOutcome(key, float(locked_until), False, lockouts)
            if last is not None and now - float(last) >= rule.quiet_seconds:
                failures, lockouts = 0, 0  # a quiet spell forgives the past
            failures += 1
            newly = failures >= rule.failures
            until: float | None = None
            if newly:
                lockouts += 1
                until = now + min(rule.max_lock_seconds, rule.lock_seconds * 2 ** (lockouts - 1))
                failures = 0
            await tx.fetch(
                "UPDATE guard_throttle SET failures = ?, lockouts = ?, locked_until = ?, last_failure_at = ? "
                "WHERE key = ?",
                [failures, lockouts, until, now, digest],
            )
        return FailureOutcome(key, until, newly, lockouts)

    async def hit(self, key: str, now: float, window_seconds: float) -> int:
        stale = now - window_seconds
        async with self._tx() as tx:
            rows = await tx.fetch(
                "INSERT INTO guard_events (key, window_start, count) VALUES (?, ?, 1) ON CONFLICT (key) "
                "DO UPDATE SET count = CASE WHEN guard_events.window_start <= ? THEN 1 "
                "ELSE guard_events.count + 1 END, "
                "window_start = CASE WHEN guard_events.window_start <= ? THEN excluded.window_start "
                "ELSE guard_events.window_start END RETURNING count",
                [self._digest(key), now, stale, stale],
            )
        return int(rows[0][0])

    async def labels(self, order: str) -> list[LabelRecord]:
        async with self._tx() as tx:
            rows = await tx.fetch(
                _LABEL_ROWS,
                [self._digest(f"order:{order}")],
            )
        return [
            LabelRecord(
                reference=str(r[0]),
                items_key=str(r[1]),
                **{name: (str(v) if v is not None else None) for name, v in zip(_LABEL_FIELDS, r[2:9], strict=True)},
                created_at=float(r[9]),
            )
            for r in rows
        ]  # fmt: skip

    async def reserve_label(self, order: str, items_key: str, reference: str, cap: int, now: float) -> bool:
        order_key = self._digest(f"order:{order}")
        async with self._tx() as tx:
            await self._serialise(tx, order_key)
            held = await tx.fetch("SELECT 1 FROM guard_labels WHERE reference = ?", [reference])
            if held:
                return True
            count = await tx.fetch("SELECT COUNT(*) FROM guard_labels WHERE order_key = ?", [order_key])
            if int(count[0][0]) >= cap:
                return False
            await tx.fetch(
                "INSERT INTO guard_labels (reference, order_key, items_key, created_at) VALUES (?, ?, ?, ?)",
                [reference, order_key, items_key, now],
            )
        return True

    async def label_bought(self, reference: str, label: dict[str, str]) -> None:
        values = [label.get(name) for name in _LABEL_FIELDS]
        async with self._tx() as tx:
            await tx.fetch(
                _LABEL_BOUGHT,
                [*values, reference],
            )

    async def release_label(self, reference: str) -> None:
        async with self._tx() as tx:
            await tx.fetch(
                "DELETE FROM guard_labels WHERE reference = ? AND tracking_number IS NULL", [reference]
            )


class _SqliteTx:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[list[Any]]:
        # One trip to aiosqlite's thread (execute and fetch there), not three (execute, fetch, close).
        return [list(r) for r in await self._conn.execute_fetchall(sql, list(params))]


class SqliteGuards(SqlGuards):
    """On the SQLite connection the checkpointer and the outbox use, under the same lock."""

    backend = "sqlite"

    def __init__(self, conn: Any, key: bytes, lock: asyncio.Lock | None = None) -> None:
        super().__init__(key)
        self._conn = conn
        self._lock = lock or asyncio.Lock()

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[_Tx]:
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteTx(self._conn)
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            await self._conn.execute("COMMIT")

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[_Tx]:
        # Autocommit: one SELECT is its own transaction, without BEGIN and COMMIT trips around it.
        if self._conn.isolation_level is not None:
            async with self._tx() as tx:
                yield tx
            return
        async with self._lock:
            yield _SqliteTx(self._conn)


class _PostgresTx:
    def __init__(self, cur: Any) -> None:
        self._cur = cur

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[list[Any]]:
        await self._cur.execute(sql.replace("?", "%s"), list(params))
        if self._cur.description is None:
            return []
        # The shared pool hands out dict rows (the checkpointer's choice): positional access here.
        return [list(r.values()) if isinstance(r, dict) else list(r) for r in await self._cur.fetchall()]


class PostgresGuards(SqlGuards):
    """On the PostgreSQL pool the checkpointer uses; row locks make it safe for many processes."""

    backend = "postgres"
    _for_update = " FOR UPDATE"

    def __init__(self, pool: Any, key: bytes) -> None:
        super().__init__(key)
        self._pool = pool

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[_Tx]:
        async with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            yield _PostgresTx(cur)

    async def _serialise(self, tx: _Tx, key: str) -> None:
        # Counting an order's labels and adding one must not interleave between processes.
        await tx.fetch("SELECT pg_advisory_xact_lock(hashtext(?))", [key])

    async def setup(self) -> None:
        # Two processes starting together may both create the tables: serialise that too.
        async with self._tx() as tx:
            await tx.fetch("SELECT pg_advisory_xact_lock(hashtext('support-agent guard tables'))")
            for sql in _TABLES:
                await tx.fetch(sql)

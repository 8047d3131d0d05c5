"""Store-wide facts of texting and notifying shoppers, beside the guards in the conversations' database.

- `sms_consent`: numbers that texted STOP (or START again): never text an opted-out number;
- `sms_threads`: which conversation a phone number's texts belong to;
- `notices`: work done at most once per key, whichever process or conversation gets there first
  (a parcel's exception, the SMS of one message), claimed with an insert that only one can win.

Phone numbers are kept as keyed digests (like the guards' keys), never in clear; the number itself
lives only where a reply must go, in the conversation's own record.
"""

from __future__ import annotations

import json
from typing import Any

from agent.guards import SqlGuards

_TABLES = (
    """CREATE TABLE IF NOT EXISTS sms_consent (
        phone_key TEXT PRIMARY KEY,
        opted_out INTEGER NOT NULL,
        keyword TEXT,
        changed_at DOUBLE PRECISION NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS sms_threads (
        phone_key TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS watched_parcels (
        tracking_number TEXT PRIMARY KEY,
        order_number TEXT NOT NULL,
        carrier TEXT,
        added_at DOUBLE PRECISION NOT NULL,
        closed_at DOUBLE PRECISION
    )""",
    """CREATE TABLE IF NOT EXISTS notices (
        key TEXT PRIMARY KEY,
        payload TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        done_at DOUBLE PRECISION
    )""",
)


class MessagingFacts:
    """Consent, threads and once-only notices, in the guards' database (SQLite or PostgreSQL)."""

    def __init__(self, guards: SqlGuards) -> None:
        self._guards = guards

    def _phone(self, e164: str) -> str:
        return self._guards.digest(f"phone:{e164}")

    async def _fetch(self, sql: str, params: list[Any]) -> list[list[Any]]:
        async with self._guards.transaction() as tx:
            rows: list[list[Any]] = await tx.fetch(sql, params)
        return rows

    async def setup(self) -> None:
        async with self._guards.transaction() as tx:
            if self._guards.backend == "postgres":
                # Processes starting together would race to create the same tables: one at a time.
                await tx.fetch("SELECT pg_advisory_xact_lock(hashtext('support-agent messaging tables'))")
            for sql in _TABLES:
                await tx.fetch(sql)

    # ------------------------------------------------------------------ consent

    async def opted_out(self, e164: str) -> bool:
        rows = await self._fetch("SELECT opted_out FROM sms_consent WHERE phone_key = ?", [self._phone(e164)])
        return bool(rows and int(rows[0][0]))

    async def set_consent(self, e164: str, *, opted_out: bool, keyword: str, now: float) -> None:
        await self._fetch(
            "INSERT INTO sms_consent (phone_key, opted_out, keyword, changed_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (phone_key) DO UPDATE SET opted_out = excluded.opted_out, "
            "keyword = excluded.keyword, changed_at = excluded.changed_at",
            [self._phone(e164), int(opted_out), keyword, now],
        )

    # ------------------------------------------------------------------ threads

    async def thread(self, e164: str) -> str | None:
        rows = await self._fetch(
            "SELECT conversation_id FROM sms_threads WHERE phone_key = ?", [self._phone(e164)]
        )
        return str(rows[0][0]) if rows else None

    async def bind_thread(self, e164: str, conversation_id: str, now: float) -> None:
        await self._fetch(
            "INSERT INTO sms_threads (phone_key, conversation_id, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (phone_key) DO UPDATE SET conversation_id = excluded.conversation_id, "
            "updated_at = excluded.updated_at",
            [self._phone(e164), conversation_id, now],
        )

    # ------------------------------------------------------------------ parcels on their way

    async def watch_parcel(
        self, tracking_number: str, order_number: str, carrier: str | None, now: float
    ) -> None:
        await self._fetch(
            "INSERT INTO watched_parcels (tracking_number, order_number, carrier, added_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (tracking_number) DO NOTHING",
            [tracking_number, order_number, carrier, now],
        )

    async def watched(self) -> list[tuple[str, str, str | None]]:
        """(tracking number, order number, carrier) of the parcels not yet delivered or returned."""
        rows = await self._fetch(
            "SELECT tracking_number, order_number, carrier FROM watched_parcels WHERE closed_at IS NULL "
            "ORDER BY added_at, tracking_number",
            [],
        )
        return [(str(r[0]), str(r[1]), str(r[2]) if r[2] is not None else None) for r in rows]

    async def parcel_order(self, tracking_number: str) -> tuple[str, str | None] | None:
        rows = await self._fetch(
            "SELECT order_number, carrier FROM watched_parcels WHERE tracking_number = ?", [tracking_number]
        )
        return (str(rows[0][0]), str(rows[0][1]) if rows[0][1] is not None else None) if rows else None

    async def close_parcel(self, tracking_number: str, now: float) -> None:
        await self._fetch(
            "UPDATE watched_parcels SET closed_at = ? WHERE tracking_number = ?", [now, tracking_number]
        )

    # ------------------------------------------------------------------ once-only notices

    async def claim(self, key: str, payload: dict[str, Any], now: float) -> bool:
        """True for the one caller that records `key` first; everyone after gets False."""
        rows = await self._fetch(
            "INSERT INTO notices (key, payload, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO NOTHING RETURNING key",
            [key, json.dumps(payload), now],
        )
        return bool(rows)

    async def notice(self, key: str) -> dict[str, Any] | None:
        rows = await self._fetch("SELECT payload, done_at FROM notices WHERE key = ?", [key])
        if not rows:
            return None
        payload: dict[str, Any] = json.loads(rows[0][0])
        payload["done"] = rows[0][1] is not None
        return payload

    async def update_notice(self, key: str, payload: dict[str, Any], *, done_at: float | None) -> None:
        await self._fetch(
            "UPDATE notices SET payload = ?, done_at = ? WHERE key = ?", [json.dumps(payload), done_at, key]
        )

    async def unfinished(self, prefix: str, before: float) -> list[str]:
        """Keys claimed before `before` whose work never finished (a crash between claim and done)."""
        rows = await self._fetch(
            "SELECT key FROM notices WHERE key LIKE ? AND done_at IS NULL AND created_at < ? ORDER BY created_at",
            [prefix + "%", before],
        )
        return [str(r[0]) for r in rows]

    async def clear(self) -> None:
        """Forget everything (a sandbox store reset to its seed), never in production."""
        async with self._guards.transaction() as tx:
            for table in ("sms_consent", "sms_threads", "notices", "watched_parcels"):
                await tx.fetch(f"DELETE FROM {table}")  # noqa: S608  (fixed table names)

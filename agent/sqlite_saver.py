"""LangGraph's `AsyncSqliteSaver` and `AsyncSqliteStore`, with each write one trip to the database thread.

aiosqlite runs every call on its connection's own thread; each call is a hand-off there and back
(a queue put, a thread wake-up, a callback on the event loop). Upstream, `aput` takes three such
trips (execute, commit, close the cursor) and `aput_writes` four (cursor, executemany, commit,
close), and with `durability="sync"` a turn waits for them at every superstep.

On a connection in autocommit mode (`isolation_level=None`, as `agent.persistence` opens it) each
statement commits itself, so the same rows can be written by one statement in one trip: the
checkpoint by one `INSERT`, a task's writes by one multi-row `INSERT` (one statement, hence one
transaction: all of a task's writes or none, where `executemany` committed them row by row). Same
tables, same rows, same conflict clauses, same lock; reads are upstream's. A connection not in
autocommit mode gets upstream's code unchanged.

Reads too: upstream's `aget_tuple` takes four or five trips (cursor, the checkpoint, fetch, its
pending writes, close) and runs at the start of every turn twice (the service's state read and the
graph's own); here the checkpoint and its pending writes come back from one statement (a `UNION ALL`
of the two queries upstream runs, so one snapshot and one trip), and are decoded by upstream's code.

The store's `abatch` wraps every batch in BEGIN ... COMMIT on a cursor (five trips for one put, eight
for a read of two namespaces); a batch of puts that upstream turns into a single statement (no
deletes, no search index) is that statement alone, and a batch of plain reads (no TTL refresh) one
`SELECT` over all its namespaces: one trip each, and one statement is one transaction already.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
    get_checkpoint_metadata,
)
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.checkpoint.sqlite.utils import load_pending_writes
from langgraph.store.base import GetOp, Op, PutOp, Result
from langgraph.store.sqlite.aio import AsyncSqliteStore
from langgraph.store.sqlite.base import _namespace_to_text, _row_to_item

_PUT = (
    "INSERT OR REPLACE INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, "
    "type, checkpoint, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_WRITES_COLUMNS = (
    "writes (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, value)"
)
_WRITE_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
# The checkpoint (part 0) and its pending writes (part 1) in one statement; seven columns each.
# `{where}` picks the checkpoint: by id, or the thread's latest. `{task_path}` is upstream's choice
# for databases created before the column existed.
_GET_TUPLE = """
WITH c AS (
    SELECT thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata
    FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ? {where}
    ORDER BY checkpoint_id DESC LIMIT 1
)
SELECT 0, thread_id, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata FROM c
UNION ALL
SELECT 1, w.task_id, w.channel, w.type, w.value, {task_path}, w.idx
FROM writes AS w JOIN c ON w.thread_id = c.thread_id AND w.checkpoint_ns = c.checkpoint_ns
    AND w.checkpoint_id = c.checkpoint_id
"""

# Rows per statement: 9 parameters a row, far below SQLite's limit on bound parameters (32,766).
_ROWS_PER_STATEMENT = 500


class OneTripSqliteSaver(AsyncSqliteSaver):
    """`AsyncSqliteSaver` whose `aput` and `aput_writes` each take one trip to aiosqlite's thread."""

    def _autocommit(self) -> bool:
        return self.conn.isolation_level is None

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        if not self._autocommit():
            return await super().aget_tuple(config)
        await self.setup()
        configurable = config["configurable"]
        thread_id = str(configurable["thread_id"])
        checkpoint_ns = configurable.get("checkpoint_ns", "")
        wanted = get_checkpoint_id(config)
        sql = _GET_TUPLE.format(
            where="AND checkpoint_id = ?" if wanted else "",
            task_path="w.task_path" if self._has_task_path else "''",
        )
        params = (thread_id, checkpoint_ns, wanted) if wanted else (thread_id, checkpoint_ns)
        async with self.lock:
            rows = await self.conn.execute_fetchall(sql, params)
        found = [row[1:] for row in rows if row[0] == 0]
        if not found:
            return None
        thread_id, checkpoint_id, parent_checkpoint_id, type_, checkpoint, metadata = found[0]
        if not wanted:
            config = {
                "configurable": {
                    "thread_id": thread_id,
                    "checkpoint_ns": checkpoint_ns,
                    "checkpoint_id": checkpoint_id,
                }
            }
        parent: RunnableConfig | None = (
            {
                "configurable": {
                    "thread_id": thread_id,
                    "checkpoint_ns": checkpoint_ns,
                    "checkpoint_id": parent_checkpoint_id,
                }
            }
            if parent_checkpoint_id
            else None
        )
        return CheckpointTuple(
            config,
            self.serde.loads_typed((type_, checkpoint)),
            cast(CheckpointMetadata, json.loads(metadata) if metadata is not None else {}),
            parent,
            load_pending_writes([row[1:] for row in rows if row[0] == 1], self.serde),
        )

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        if not self._autocommit():
            return await super().aput(config, checkpoint, metadata, new_versions)
        await self.setup()
        thread_id = config["configurable"]["thread_id"]
        checkpoint_ns = config["configurable"]["checkpoint_ns"]
        type_, serialized_checkpoint = self.serde.dumps_typed(checkpoint)
        serialized_metadata = json.dumps(
            get_checkpoint_metadata(config, metadata), ensure_ascii=False
        ).encode("utf-8", "ignore")
        row = (
            str(thread_id),
            checkpoint_ns,
            checkpoint["id"],
            config["configurable"].get("checkpoint_id"),
            type_,
            serialized_checkpoint,
            serialized_metadata,
        )
        async with self.lock:
            await self.conn.execute_fetchall(_PUT, row)
        return {
            "configurable": {
                "thread_id": thread_id,
                "checkpoint_ns": checkpoint_ns,
                "checkpoint_id": checkpoint["id"],
            }
        }

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        if not self._autocommit():
            return await super().aput_writes(config, writes, task_id, task_path)
        conflict = "REPLACE" if all(w[0] in WRITES_IDX_MAP for w in writes) else "IGNORE"
        await self.setup()
        configurable = config["configurable"]
        rows = [
            (
                str(configurable["thread_id"]),
                str(configurable["checkpoint_ns"]),
                str(configurable["checkpoint_id"]),
                task_id,
                task_path,
                WRITES_IDX_MAP.get(channel, idx),
                channel,
                *self.serde.dumps_typed(value),
            )
            for idx, (channel, value) in enumerate(writes)
        ]
        if not rows:
            return
        async with self.lock:
            for start in range(0, len(rows), _ROWS_PER_STATEMENT):
                chunk = rows[start : start + _ROWS_PER_STATEMENT]
                # Only constants and placeholders are formatted in; the values are bound.
                placeholders = ", ".join([_WRITE_ROW] * len(chunk))
                sql = f"INSERT OR {conflict} INTO {_WRITES_COLUMNS} VALUES {placeholders}"  # noqa: S608
                await self.conn.execute_fetchall(sql, [value for row in chunk for value in row])


class OneTripSqliteStore(AsyncSqliteStore):
    """`AsyncSqliteStore` whose batches of plain puts, and of plain reads, take one trip to aiosqlite's thread."""

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        ops = list(ops)
        if (
            ops
            and len(ops) <= _ROWS_PER_STATEMENT  # two bound parameters a key
            and self.conn.isolation_level is None
            and all(self._plain_get(op) for op in ops)
        ):
            return await self._get_in_one_trip(cast(list[GetOp], ops))
        if (
            not ops
            or self.index_config
            or self.conn.isolation_level is not None
            or not all(isinstance(op, PutOp) and op.value is not None for op in ops)
        ):
            return await super().abatch(ops)
        queries, embedding_request = self._prepare_batch_PUT_queries(
            [(index, cast(PutOp, op)) for index, op in enumerate(ops)]
        )
        if embedding_request is not None or len(queries) != 1:
            return await super().abatch(ops)
        if not self.is_setup:
            await self.setup()
        query, params = queries[0]
        async with self.lock:
            await self.conn.execute_fetchall(query, params)
        return [None] * len(ops)

    async def _get_in_one_trip(self, ops: list[GetOp]) -> list[Result]:
        if not self.is_setup:
            await self.setup()
        wanted = {(_namespace_to_text(op.namespace), op.key) for op in ops}
        # Only placeholders are formatted in; the values are bound.
        where = " OR ".join(["(prefix = ? AND key = ?)"] * len(wanted))
        sql = f"SELECT prefix, key, value, created_at, updated_at FROM store WHERE {where}"  # noqa: S608
        async with self.lock:
            rows = await self.conn.execute_fetchall(sql, [part for pair in wanted for part in pair])
        found = {
            (prefix, key): {"key": key, "value": value, "created_at": created, "updated_at": updated}
            for prefix, key, value, created, updated in rows
        }
        results: list[Result] = []
        for op in ops:
            row = found.get((_namespace_to_text(op.namespace), op.key))
            results.append(
                None if row is None else _row_to_item(op.namespace, row, loader=self._deserializer)
            )
        return results

    def _plain_get(self, op: Op) -> bool:
        """A read upstream answers with a SELECT alone (a TTL refresh on read is an UPDATE as well)."""
        refreshes = bool(self.ttl_config and self.ttl_config.get("refresh_on_read", False))
        return isinstance(op, GetOp) and not (op.refresh_ttl and refreshes)

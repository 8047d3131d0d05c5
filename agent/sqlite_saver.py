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

The store's `abatch` wraps every batch in BEGIN ... COMMIT on a cursor (five trips for one put); a
batch of puts that upstream turns into a single statement (no deletes, no search index) is that
statement alone, in one trip: one statement is one transaction already.
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
    get_checkpoint_metadata,
)
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.store.base import Op, PutOp, Result
from langgraph.store.sqlite.aio import AsyncSqliteStore

_PUT = (
    "INSERT OR REPLACE INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, "
    "type, checkpoint, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_WRITES_COLUMNS = (
    "writes (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, value)"
)
_WRITE_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
# Rows per statement: 9 parameters a row, far below SQLite's limit on bound parameters (32,766).
_ROWS_PER_STATEMENT = 500


class OneTripSqliteSaver(AsyncSqliteSaver):
    """`AsyncSqliteSaver` whose `aput` and `aput_writes` each take one trip to aiosqlite's thread."""

    def _autocommit(self) -> bool:
        return self.conn.isolation_level is None

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
    """`AsyncSqliteStore` whose batches of plain puts take one trip to aiosqlite's thread."""

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        ops = list(ops)
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

"""The one-trip SQLite saver stores what LangGraph's `AsyncSqliteSaver` stores, row for row."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import aiosqlite
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from agent.sqlite_saver import OneTripSqliteSaver


async def _rows(conn: aiosqlite.Connection) -> tuple[list[Any], list[Any]]:
    checkpoints = await conn.execute_fetchall(
        "SELECT thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata"
        " FROM checkpoints ORDER BY checkpoint_id"
    )
    writes = await conn.execute_fetchall(
        "SELECT thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, value"
        " FROM writes ORDER BY task_id, idx"
    )
    return list(map(tuple, checkpoints)), list(map(tuple, writes))


async def _exercise(saver: AsyncSqliteSaver) -> None:
    config: Any = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
    first = empty_checkpoint()
    first["id"] = "00000000-0000-0000-0000-000000000001"
    first["ts"] = "2026-12-04T00:00:00+00:00"
    first["channel_values"] = {"messages": ["hello"], "status": "active"}
    saved = await saver.aput(config, first, {"source": "input", "step": -1}, {})
    # Many writes (more than one statement's worth), a repeated special channel, then a retry
    # of the same task: the conflict clauses must keep what upstream keeps.
    writes = [(f"channel{i}", {"i": i}) for i in range(1_200)]
    await saver.aput_writes(saved, writes, "task-a", "path")
    await saver.aput_writes(saved, [("channel0", "changed")], "task-a", "path")
    await saver.aput_writes(saved, [("__error__", "first"), ("__error__", "second")], "task-b")
    await saver.aput_writes(saved, [("__error__", "third")], "task-b")
    await saver.aput_writes(saved, [], "task-c")
    second = empty_checkpoint()
    second["id"] = "00000000-0000-0000-0000-000000000002"
    second["ts"] = "2026-12-04T00:00:01+00:00"
    await saver.aput(saved, second, {"source": "loop", "step": 0}, {})


async def test_same_rows_as_upstream(tmp_path: Path) -> None:
    results = []
    for name, saver_class in (("upstream", AsyncSqliteSaver), ("one-trip", OneTripSqliteSaver)):
        async with aiosqlite.connect(str(tmp_path / f"{name}.sqlite"), isolation_level=None) as conn:
            saver = saver_class(conn)
            await saver.setup()
            await _exercise(saver)
            results.append(await _rows(conn))
            tuple_ = await saver.aget_tuple({"configurable": {"thread_id": "t", "checkpoint_ns": ""}})
            assert tuple_ is not None and tuple_.checkpoint["id"].endswith("2")
    assert results[0] == results[1]
    assert len(results[1][1]) == 1_201


async def test_falls_back_to_upstream_outside_autocommit(tmp_path: Path) -> None:
    async with aiosqlite.connect(str(tmp_path / "tx.sqlite")) as conn:  # default: implicit transactions
        saver = OneTripSqliteSaver(conn)
        await saver.setup()
        await _exercise(saver)
        checkpoints, writes = await _rows(conn)
    assert len(checkpoints) == 2 and len(writes) == 1_201


async def test_store_puts_same_rows_as_upstream(tmp_path: Path) -> None:
    from langgraph.store.sqlite.aio import AsyncSqliteStore

    from agent.sqlite_saver import OneTripSqliteStore

    results = []
    for name, store_class in (("upstream", AsyncSqliteStore), ("one-trip", OneTripSqliteStore)):
        async with aiosqlite.connect(str(tmp_path / f"store-{name}.sqlite"), isolation_level=None) as conn:
            store = store_class(conn)
            await store.setup()
            await store.aput(("conversations",), "c1", {"id": "c1", "n": 1})
            await store.aput(("conversations",), "c1", {"id": "c1", "n": 2})  # replaced
            await store.aput(("inbox", "c1"), "m1", {"text": "hi", "status": "received"})
            await store.aput(("inbox", "c1"), "m2", {"text": "gone"})
            await store.adelete(("inbox", "c1"), "m2")  # a delete takes upstream's path
            item = await store.aget(("conversations",), "c1")
            assert item is not None and item.value == {"id": "c1", "n": 2}
            rows = await conn.execute_fetchall("SELECT prefix, key, value FROM store ORDER BY prefix, key")
            results.append([tuple(row) for row in rows])
    assert results[0] == results[1]
    assert len(results[1]) == 2


async def test_reads_the_same_tuples_as_upstream(tmp_path: Path) -> None:
    """The latest checkpoint, one by id, one with no writes, and a thread that has none: the same
    tuples (checkpoint, metadata, parent, pending writes in order) as upstream's reads."""
    tuples: list[list[Any]] = []
    for name, saver_class in (("upstream", AsyncSqliteSaver), ("one-trip", OneTripSqliteSaver)):
        async with aiosqlite.connect(str(tmp_path / f"read-{name}.sqlite"), isolation_level=None) as conn:
            saver = OneTripSqliteSaver(conn)
            await saver.setup()
            await _exercise(saver)
            # Writes on the latest checkpoint as well (an interrupted step leaves them there).
            latest: Any = {
                "configurable": {
                    "thread_id": "t",
                    "checkpoint_ns": "",
                    "checkpoint_id": "00000000-0000-0000-0000-000000000002",
                }
            }
            await saver.aput_writes(
                latest, [("__interrupt__", {"ask": "yes?"}), ("messages", ["hi"])], "task-z", "p"
            )
            reader = saver_class(conn)
            configs: list[Any] = [
                {"configurable": {"thread_id": "t", "checkpoint_ns": ""}},
                {
                    "configurable": {
                        "thread_id": "t",
                        "checkpoint_ns": "",
                        "checkpoint_id": "00000000-0000-0000-0000-000000000001",
                    }
                },
                latest,
                {"configurable": {"thread_id": "nobody", "checkpoint_ns": ""}},
            ]
            tuples.append([await reader.aget_tuple(config) for config in configs])
    upstream, ours = tuples
    assert ours == upstream
    first_by_id = ours[1]
    assert first_by_id is not None and len(first_by_id.pending_writes or []) == 1_201
    assert ours[0] is not None and [w[1] for w in ours[0].pending_writes or []] == [
        "__interrupt__",
        "messages",
    ]
    assert ours[0].parent_config is not None and ours[3] is None


async def test_store_reads_the_same_items_as_upstream(tmp_path: Path) -> None:
    from langgraph.store.base import GetOp, Item
    from langgraph.store.sqlite.aio import AsyncSqliteStore

    from agent.sqlite_saver import OneTripSqliteStore

    path = str(tmp_path / "get.sqlite")
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        writer = AsyncSqliteStore(conn)
        await writer.setup()
        await writer.aput(("conversations",), "c1", {"id": "c1"})
        await writer.aput(("inbox", "c1"), "m1", {"text": "hi"})
        await writer.aput(("inbox", "c2"), "m1", {"text": "other conversation"})
    # Both read the same rows (the same file), so even the timestamps must agree.
    found: list[list[Any]] = []
    for store_class in (AsyncSqliteStore, OneTripSqliteStore):
        async with aiosqlite.connect(path, isolation_level=None) as conn:
            store = store_class(conn)
            results = await store.abatch(
                [
                    GetOp(("conversations",), "c1"),
                    GetOp(("inbox", "c1"), "m1"),
                    GetOp(("inbox", "c1"), "missing"),
                    GetOp(("conversations",), "c1"),  # asked twice: answered twice
                    GetOp(("inbox", "c3"), "m1"),  # the key exists in another namespace only
                ]
            )
            # More keys than one statement takes: upstream's path, the same answers.
            results += await store.abatch([GetOp(("inbox", "c1"), f"m{n}") for n in range(600)])
            items = [cast(Item | None, r) for r in results]
            found.append([None if i is None else (i.namespace, i.key, i.value, i.created_at) for i in items])
    assert found[0] == found[1]
    assert [r is not None for r in found[1]] == [True, True, False, True, False, False, True, *[False] * 598]

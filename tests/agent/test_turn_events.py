"""The turn's side channel: node events and graph items in the order they were produced."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest

from agent.turn_events import TurnEvents


async def test_events_written_during_a_step_come_before_the_step_s_update() -> None:
    events = TurnEvents()

    async def graph() -> AsyncIterator[Any]:
        yield ("updates", {"classify": {}})
        events.write({"progress": "lookup_order"})
        await asyncio.sleep(0)  # the reader may take the event while the step still runs
        events.write({"text": "Your parcel"})
        yield ("updates", {"wismo": {}})
        yield ("values", {"done": True})

    seen = [item async for item in events.merged(graph())]

    assert seen == [
        ("updates", {"classify": {}}),
        ("custom", {"progress": "lookup_order"}),
        ("custom", {"text": "Your parcel"}),
        ("updates", {"wismo": {}}),
        ("values", {"done": True}),
    ]


async def test_an_event_reaches_the_reader_while_the_step_is_still_running() -> None:
    events = TurnEvents()
    release = asyncio.Event()

    async def graph() -> AsyncIterator[Any]:
        events.write({"text": "first piece"})
        await release.wait()  # a model still streaming
        yield ("updates", {"wismo": {}})

    merged = events.merged(graph())
    assert await anext(merged) == ("custom", {"text": "first piece"})
    release.set()
    assert [item async for item in merged] == [("updates", {"wismo": {}})]


async def test_the_graph_s_error_is_raised_after_what_came_before_it() -> None:
    events = TurnEvents()

    async def graph() -> AsyncIterator[Any]:
        yield ("updates", {"classify": {}})
        events.write({"text": "partial"})
        raise RuntimeError("model down")

    seen: list[Any] = []

    async def read() -> None:
        async for item in events.merged(graph()):
            seen.append(item)

    with pytest.raises(RuntimeError, match="model down"):
        await read()
    assert seen == [("updates", {"classify": {}}), ("custom", {"text": "partial"})]


async def test_leaving_early_cancels_the_graph_s_run() -> None:
    events = TurnEvents()
    cancelled = asyncio.Event()

    async def graph() -> AsyncIterator[Any]:
        yield ("updates", {"classify": {}})
        try:
            await asyncio.Event().wait()  # never set: a step that would run for ever
            yield ("updates", {"never": {}})
        except asyncio.CancelledError:
            cancelled.set()
            raise

    merged = events.merged(graph())
    assert await anext(merged) == ("updates", {"classify": {}})
    await asyncio.sleep(0)  # the step starts
    await merged.aclose()
    assert cancelled.is_set()


async def test_a_write_from_a_worker_thread_reaches_the_reader_through_the_loop() -> None:
    events = TurnEvents()
    loop_thread = threading.get_ident()
    queue_used_from: list[int] = []
    put = events._queue.put_nowait

    def recording_put(item: Any) -> None:  # asyncio's queue is not thread-safe: loop thread only
        queue_used_from.append(threading.get_ident())
        put(item)

    events._queue.put_nowait = recording_put  # type: ignore[method-assign]

    async def graph() -> AsyncIterator[Any]:
        worker = threading.Thread(target=events.write, args=({"text": "from a thread"},))
        worker.start()
        await asyncio.to_thread(worker.join)
        yield ("updates", {"wismo": {}})

    seen = [item async for item in events.merged(graph())]

    assert seen == [("custom", {"text": "from a thread"}), ("updates", {"wismo": {}})]
    assert set(queue_used_from) == {loop_thread}

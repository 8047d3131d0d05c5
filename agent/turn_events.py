"""What a shopper sees while a turn runs (progress, answer pieces), merged with the graph's own stream.

An intent node writes these events while it works: a progress notice before a lookup it runs
itself, and each piece of a streamed answer. LangGraph's "custom" stream mode carries such events,
but asking for it switches the graph's runner to concurrent streaming (a waiter task and an
`asyncio.wait` each time a task finishes, and a self-pipe wake-up per write), ~4 % of a WISMO
turn's time. Here the graph streams its updates in a task of its own, the nodes put their events
straight on the same queue, and the service reads one stream: events arrive as they are written,
and a node's events always come before the update that ends its step (they are put first).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, Final

_END: Final = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class TurnEvents:
    """One turn's side channel: `write` for the nodes, `merged` for the service."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()

    def write(self, event: Any) -> None:
        """Send an event to the shopper's stream (as `("custom", event)`); from any thread."""
        item = ("custom", event)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._queue.put_nowait(item)
        else:  # a node running in a worker thread
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)

    async def merged(self, stream: AsyncIterator[Any]) -> AsyncGenerator[Any, None]:
        """The graph's stream items and the written events, in the order they were produced.

        The graph's error, if any, is raised here after what came before it. Leaving early (or
        being cancelled) cancels the graph's run."""

        async def pump() -> None:
            try:
                async for item in stream:
                    self._queue.put_nowait(item)
            except BaseException as exc:  # handed to the reader, who raises it
                self._queue.put_nowait(_Failed(exc))
                if not isinstance(exc, Exception):
                    raise  # cancellation, KeyboardInterrupt, SystemExit: this task ends with it too
            else:
                self._queue.put_nowait(_END)

        task = asyncio.create_task(pump())
        try:
            while True:
                item = await self._queue.get()
                if item is _END:
                    break
                if isinstance(item, _Failed):
                    raise item.error
                yield item
        finally:
            if not task.done():
                task.cancel()
            # Wait for the graph's own clean-up without taking its exception (the reader got it, or
            # is leaving) and without swallowing a cancellation of the reader itself.
            await asyncio.wait({task})

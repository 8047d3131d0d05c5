"""Server-Sent Events: encoding chat events, keep-alives, and driving service iterators.

A service iterator is driven by its own task (`Pump`) that feeds a queue; the HTTP response only
reads the queue. That gives two properties the routes need:
- a shopper turn runs to completion even when the browser goes away mid-turn (the reply is
  stored and shown after a reload) instead of being cancelled half-way through a tool call;
- keep-alive comments can be written while the service is quiet without cancelling it
  (`asyncio.wait_for` on the service iterator itself would).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from agent.conversation import ChatEvent

logger = logging.getLogger(__name__)

KEEPALIVE = b": keep-alive\n\n"
SSE_HEADERS = {
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no",  # nginx: do not buffer the stream
}
TURN_FAILED = "Something went wrong on our side. Your message was kept; please try again."


def encode_event(event: ChatEvent) -> bytes:
    """`event: <type>` + one `data:` line of JSON (JSON escapes newlines, so one line is enough)."""
    data = json.dumps(event.model_dump(mode="json")["data"], ensure_ascii=False, separators=(",", ":"))
    return f"event: {event.type}\ndata: {data}\n\n".encode()


def encode_retry(milliseconds: int) -> bytes:
    """Tells EventSource how long to wait before reconnecting."""
    return f"retry: {milliseconds}\n\n".encode()


class _End:
    """Queue sentinel: the service iterator is exhausted."""


_END = _End()
Item = ChatEvent | BaseException | _End


class Pump:
    """Drives one service iterator in a background task, feeding a queue.

    Tasks are kept in `registry` while they run (so they are not garbage-collected mid-turn and
    the app can finish or cancel them at shutdown).
    """

    def __init__(self, events: AsyncIterator[ChatEvent], registry: set[asyncio.Task[None]]) -> None:
        self._events = events
        self._queue: asyncio.Queue[Item] = asyncio.Queue()
        self.task: asyncio.Task[None] = asyncio.create_task(self._run())
        registry.add(self.task)
        self.task.add_done_callback(registry.discard)

    async def _run(self) -> None:
        try:
            async for event in self._events:
                self._queue.put_nowait(event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._queue.put_nowait(exc)
        finally:
            self._queue.put_nowait(_END)
            aclose = getattr(self._events, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()

    async def next(self, within: float | None = None) -> Item | None:
        """The next item, or None when `within` seconds pass first (the queue read is safe to cancel)."""
        try:
            return await asyncio.wait_for(self._queue.get(), within)
        except TimeoutError:
            return None

    def cancel(self) -> None:
        self.task.cancel()


def error_event(error: str = TURN_FAILED, *, retryable: bool = True) -> ChatEvent:
    return ChatEvent(type="error", data={"error": error, "retryable": retryable})


async def turn_stream(first: Item | None, pump: Pump, keepalive: float) -> AsyncIterator[bytes]:
    """The SSE body of one shopper turn. Leaving early (client gone) does not stop the turn."""
    item: Item | None = first
    while True:
        if item is None:
            yield KEEPALIVE
        elif isinstance(item, _End):
            return
        elif isinstance(item, BaseException):
            logger.error("conversation turn failed", exc_info=item)
            yield encode_event(error_event())
            return
        else:
            yield encode_event(item)
        item = await pump.next(keepalive)


async def subscription_stream(pump: Pump, keepalive: float) -> AsyncIterator[bytes]:
    """The SSE body of `/events`: runs until the client disconnects, which cancels the subscription."""
    try:
        yield encode_retry(2000)
        while True:
            item = await pump.next(keepalive)
            if item is None:
                yield KEEPALIVE
            elif isinstance(item, _End):
                return
            elif isinstance(item, BaseException):
                logger.error("conversation subscription failed", exc_info=item)
                return
            else:
                yield encode_event(item)
    finally:
        # Cancelling the pump closes the service's subscription. Not awaited: this may run inside
        # a cancelled scope, and the task finishes on its own.
        pump.cancel()


async def collect_turn(
    first: Item | None, pump: Pump
) -> tuple[list[dict[str, Any]], str | None, dict[str, Any] | None]:
    """JSON mode: (new messages, status, error data) from a whole turn."""
    messages: list[dict[str, Any]] = []
    status: str | None = None
    error: dict[str, Any] | None = None
    done: dict[str, Any] | None = None
    item: Item | None = first
    while not isinstance(item, _End):
        if isinstance(item, BaseException):
            logger.error("conversation turn failed", exc_info=item)
            error = error_event().data
            break
        if isinstance(item, ChatEvent):
            data = item.model_dump(mode="json")["data"]
            if item.type == "message":
                messages.append(data)
            elif item.type == "status":
                status = data.get("status", status)
            elif item.type == "error":
                error = data
            elif item.type == "done":
                done = data
        item = await pump.next()
    if done is not None:
        messages = done.get("messages", messages)
        status = done.get("status", status)
        error = None
    return messages, status, error

"""Events pushed to open widgets outside a shopper's turn (human replies, status changes).

`LocalEvents` fans out within one process. With several server processes behind a balancer the
webhook may reach a process other than the one holding the shopper's event stream, so
`PostgresEvents` carries every event through PostgreSQL's LISTEN/NOTIFY to all processes, each
delivering to its own subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from typing import Any

from agent.conversation import ChatEvent

logger = logging.getLogger(__name__)

QUEUE_SIZE = 100


class LocalEvents:
    """Subscribers of this process, by conversation."""

    def __init__(self) -> None:
        self._subscribers: defaultdict[str, set[asyncio.Queue[ChatEvent]]] = defaultdict(set)

    def register(self, conversation_id: str) -> asyncio.Queue[ChatEvent]:
        queue: asyncio.Queue[ChatEvent] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._subscribers[conversation_id].add(queue)
        return queue

    def unregister(self, conversation_id: str, queue: asyncio.Queue[ChatEvent]) -> None:
        subscribers = self._subscribers.get(conversation_id)
        if subscribers is not None:
            subscribers.discard(queue)
            if not subscribers:
                del self._subscribers[conversation_id]

    def has_listeners(self, conversation_id: str) -> bool:
        """Whether someone in this process is watching the conversation (the shopper's chat is open)."""
        return bool(self._subscribers.get(conversation_id))

    def deliver(self, conversation_id: str, event: ChatEvent) -> None:
        for queue in list(self._subscribers.get(conversation_id, ())):
            if queue.full():  # a stalled client loses old pushes, never blocks the server
                queue.get_nowait()
            queue.put_nowait(event)

    async def publish(self, conversation_id: str, event: ChatEvent) -> None:
        self.deliver(conversation_id, event)

    async def close(self) -> None:
        return None


class PostgresEvents(LocalEvents):
    """Events shared by every process using the same database, through LISTEN/NOTIFY."""

    CHANNEL = "support_agent_events"
    MAX_PAYLOAD = 7900  # PostgreSQL's NOTIFY payload limit is 8000 bytes

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url
        self._listen: Any = None
        self._send: Any = None
        self._task: asyncio.Task[None] | None = None
        self._send_lock = asyncio.Lock()

    async def start(self) -> None:
        from psycopg import AsyncConnection

        self._listen = await AsyncConnection.connect(self._url, autocommit=True)
        self._send = await AsyncConnection.connect(self._url, autocommit=True)
        await self._listen.execute(f"LISTEN {self.CHANNEL}")
        self._task = asyncio.create_task(self._receive(), name="support-agent-events")

    async def _receive(self) -> None:
        assert self._listen is not None
        async for notify in self._listen.notifies():
            try:
                body = json.loads(notify.payload)
                self.deliver(str(body["conversation_id"]), ChatEvent.model_validate(body["event"]))
            except (ValueError, KeyError):
                logger.warning("ignored a malformed event notification")

    async def publish(self, conversation_id: str, event: ChatEvent) -> None:
        payload = json.dumps({"conversation_id": conversation_id, "event": event.model_dump(mode="json")})
        if len(payload.encode()) > self.MAX_PAYLOAD or self._send is None:
            # Too big for NOTIFY: this process's subscribers get it; others see it on reload.
            self.deliver(conversation_id, event)
            return
        async with self._send_lock:  # one connection, one statement at a time
            await self._send.execute("SELECT pg_notify(%s, %s)", (self.CHANNEL, payload))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for connection in (self._listen, self._send):
            if connection is not None:
                await connection.close()

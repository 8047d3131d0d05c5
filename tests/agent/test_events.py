"""Pushed events reach every server process's subscribers (LISTEN/NOTIFY with PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from agent.conversation import ChatEvent
from agent.events import LocalEvents, PostgresEvents

# TEST_POSTGRES_URL lets parallel checkouts on one machine use their own database.
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _event(text: str) -> ChatEvent:
    return ChatEvent(type="message", data={"id": "x", "role": "agent", "text": text})


async def test_local_events_reach_only_that_conversation_and_stop_after_unregister() -> None:
    events = LocalEvents()
    mine, other = events.register("c1"), events.register("c2")
    await events.publish("c1", _event("hello"))
    assert mine.get_nowait().data["text"] == "hello"
    assert other.empty()
    events.unregister("c1", mine)
    await events.publish("c1", _event("again"))
    assert mine.empty()


async def test_a_stalled_subscriber_drops_old_events_instead_of_blocking() -> None:
    events = LocalEvents()
    queue = events.register("c1")
    for index in range(150):
        await events.publish("c1", _event(str(index)))
    assert queue.qsize() == 100
    assert queue.get_nowait().data["text"] == "50"


@pytest.mark.postgres
async def test_an_event_published_by_one_process_reaches_another() -> None:
    webhook_process, widget_process = PostgresEvents(POSTGRES_URL), PostgresEvents(POSTGRES_URL)
    await webhook_process.start()
    await widget_process.start()
    try:
        conversation = uuid.uuid4().hex
        stream = widget_process.register(conversation)
        await webhook_process.publish(conversation, _event("Hi, Rosa here."))
        received = await asyncio.wait_for(stream.get(), timeout=10)
        assert received.data["text"] == "Hi, Rosa here."
        # Too big for NOTIFY: delivered to the publishing process's own subscribers only.
        big = uuid.uuid4().hex
        local = webhook_process.register(big)
        await webhook_process.publish(big, _event("x" * 9000))
        assert local.get_nowait().data["text"] == "x" * 9000
    finally:
        await webhook_process.close()
        await widget_process.close()

"""Conversations survive a restart: the agent process stops at an interrupt (a pending confirmation,
approval or human handling), a new process opens the same SQLite file or PostgreSQL database, and
the conversation continues from where it was, acting exactly once.

The sandbox app (the vendors' world) outlives both processes, as real vendors would.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI

from agent.persistence import Persistence, open_persistence, postgres_persistence, sqlite_persistence
from tests.agent.conftest import EMAILS, POSTGRES_URL, Agent, agent_settings, call, sandbox_app, verify
from tests.agent.scripted_model import intent

OpenPersistence = Callable[[], AbstractAsyncContextManager[Persistence]]


def return_shipments(agent: Agent) -> list[dict[str, Any]]:
    return [s for s in agent.world.easypost.shipments.values() if s.get("is_return")]


async def restart_at_confirmation(open_agent: Any, persist: OpenPersistence, app: FastAPI) -> None:
    """Ask for a return label, stop at the confirmation, restart, say yes: one label."""
    async with persist() as persistence, open_agent(persistence=persistence, app=app) as first:
        first.script(
            intent("returns", order_number="1002"),
            verify("1002"),
            call("create_return_label", order_number="1002", line_item_ids=None, reason="too small"),
        )
        cid = await first.start()
        asked = await first.say(
            cid, "return order 1002 please, ben.okafor@example.com", client_message_id="a"
        )
        assert asked.status == "awaiting_confirmation"
        first.model.assert_exhausted()
        assert return_shipments(first) == []

    async with persist() as persistence, open_agent(persistence=persistence, app=app) as second:
        second.script("Done: the label is in your inbox.")
        before = await second.view(cid)
        assert before.status == "awaiting_confirmation"
        assert before.messages[0].text == "return order 1002 please, ben.okafor@example.com"

        done = await second.say(cid, "yes", client_message_id="b")
        replay = await second.say(cid, "yes", client_message_id="b")

        assert done.status == "active" and replay.done["replayed"] is True
        assert done.said() == ["Done: the label is in your inbox."]
        assert len(return_shipments(second)) == 1
        assert len(second.outbox_to(EMAILS["1002"])) == 1
        view = await second.view(cid)
        assert view.customer_email == EMAILS["1002"]
        assert {"ai-handled", "returns"} <= set(second.tags(view.ticket_id))
        await second.assert_mirrored_once(cid)
        second.model.assert_exhausted()


async def restart_at_approval_and_human(open_agent: Any, persist: OpenPersistence, app: FastAPI) -> None:
    """An over-limit refund waits for approval across a restart; a handoff waits for a person across
    another; the decision and the person's reply reach the conversation after each restart."""
    async with persist() as persistence, open_agent(persistence=persistence, app=app) as first:
        first.script(
            intent("refunds", order_number="1005"),
            verify("1005"),
            call("issue_refund", order_number="1005", line_item_ids=None, reason="damaged"),
            "Our team needs to approve this one; I'll let you know here.",
        )
        cid = await first.start()
        await first.say(cid, "refund 1005 please, emma.jones@example.com")
        waiting = await first.say(cid, "yes")
        assert waiting.status == "awaiting_approval"
        ticket_id = (await first.view(cid)).ticket_id

    async with persist() as persistence, open_agent(persistence=persistence, app=app) as second:
        await second.human(ticket_id, "approve")
        assert len(second.order("1005")["refunds"]) == 1
        assert (await second.view(cid)).messages[-1].text.startswith("Good news")
        second.script(intent("escalation"))
        handed = await second.say(cid, "thanks! one more thing, can I talk to someone?")
        assert handed.status == "human_handling"

    async with persist() as persistence, open_agent(persistence=persistence, app=app) as third:
        await third.human(ticket_id, "reply", text="Hi Emma, Rosa here.")
        still = await third.say(cid, "hi Rosa!")
        assert still.status == "human_handling" and third.model.calls == []
        await third.assert_mirrored_once(cid)
        await third.human(ticket_id, "close")

        view = await third.view(cid)
        assert [m.role for m in view.messages[-3:]] == ["agent", "shopper", "assistant"]
        assert view.status == "active"
        assert len(third.order("1005")["refunds"]) == 1


# ---------------------------------------------------------------------- SQLite


async def test_sqlite_conversation_continues_after_restart_at_the_confirmation(
    open_agent: Any, tmp_path: Path
) -> None:
    path = tmp_path / "agent.sqlite"
    await restart_at_confirmation(open_agent, lambda: sqlite_persistence(path), sandbox_app())
    assert path.stat().st_size > 0


async def test_sqlite_conversation_continues_after_restarts_at_approval_and_handoff(
    open_agent: Any, tmp_path: Path
) -> None:
    path = tmp_path / "agent.sqlite"
    await restart_at_approval_and_human(open_agent, lambda: sqlite_persistence(path), sandbox_app())


async def test_open_persistence_uses_sqlite_without_a_database_url(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "agent.sqlite"
    async with open_persistence(agent_settings(sqlite_path=path)) as persistence:
        assert persistence.backend == f"sqlite:{path}"
        await persistence.store.aput(("conversations",), "c1", {"id": "c1"})
    async with open_persistence(agent_settings(sqlite_path=path)) as persistence:
        item = await persistence.store.aget(("conversations",), "c1")
        assert item is not None and item.value == {"id": "c1"}


# ---------------------------------------------------------------------- PostgreSQL


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh schema on the test database, dropped afterwards (CI runs PostgreSQL; no skipping)."""
    schema = f"agent_test_{uuid.uuid4().hex[:12]}"
    async with await psycopg.AsyncConnection.connect(POSTGRES_URL, autocommit=True) as conn:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        async with await psycopg.AsyncConnection.connect(POSTGRES_URL, autocommit=True) as conn:
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.mark.postgres
async def test_postgres_conversation_continues_after_restart_at_the_confirmation(
    open_agent: Any, postgres_url: str
) -> None:
    await restart_at_confirmation(open_agent, lambda: postgres_persistence(postgres_url), sandbox_app())


@pytest.mark.postgres
async def test_postgres_conversation_continues_after_restarts_at_approval_and_handoff(
    open_agent: Any, postgres_url: str
) -> None:
    await restart_at_approval_and_human(open_agent, lambda: postgres_persistence(postgres_url), sandbox_app())


@pytest.mark.postgres
async def test_open_persistence_uses_postgres_with_a_database_url(postgres_url: str) -> None:
    async with open_persistence(agent_settings(database_url=postgres_url)) as persistence:
        assert persistence.backend == "postgres"
        await persistence.store.aput(("conversations",), "c1", {"id": "c1"})
    async with open_persistence(agent_settings(database_url=postgres_url)) as persistence:
        item = await persistence.store.aget(("conversations",), "c1")
        assert item is not None and item.value == {"id": "c1"}


@pytest.mark.postgres
async def test_server_processes_starting_together_on_a_fresh_database_all_start(postgres_url: str) -> None:
    """`serve --workers N` on a new database: every process creates the tables at once."""

    async def start() -> str:
        async with postgres_persistence(postgres_url, pool_size=2) as persistence:
            await persistence.store.aput(("conversations",), "c1", {"id": "c1"})
            return persistence.backend

    assert await asyncio.gather(*(start() for _ in range(3))) == ["postgres"] * 3

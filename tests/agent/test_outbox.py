"""The helpdesk outbox: the shopper's turn never waits on the helpdesk; every message reaches its
ticket once and in order, across crashed workers, two workers, outages and restarts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from agent.outbox import CallPacer, HelpdeskSync
from agent.outbox.db import URGENT, OutboxItem, TicketSeed
from agent.outbox.worker import merged_tags
from agent.persistence import Persistence, postgres_persistence, sqlite_persistence
from demo.runtime import open_demo_runtime
from sandbox.vendors.gorgias import CallLimiter
from tests.agent.conftest import Agent, agent_settings, crash_once, sandbox_app
from tests.agent.scripted_model import intent
from tests.agent.test_persistence import postgres_url  # noqa: F401 (fixture)


async def chat(agent: Agent, turns: int = 2, *, drain: bool = False) -> str:
    """A conversation of small talk, `turns` exchanges, left undelivered unless `drain`."""
    cid = await agent.start()
    for n in range(turns):
        agent.script(intent("other"), f"Reply {n} to {cid[:6]}")
        await agent.say(cid, f"Message {n} from {cid[:6]}", drain=drain)
    return cid


def second_worker(agent: Agent, *, clock: Callable[[], float] = time.time) -> HelpdeskSync:
    """Another worker on the same outbox (another process, or the same one restarted)."""
    services = agent.runtime.services
    return HelpdeskSync(agent.runtime.sync.db, services.helpdesk, services.tools.notifier, clock=clock)


async def assert_each_message_once_in_order(agent: Agent, cid: str) -> None:
    await agent.assert_mirrored_once(cid)
    view = await agent.view(cid)
    tickets = [t for t in agent.world.gorgias.tickets.values() if t.get("external_id") == cid]
    assert len(tickets) == 1, "one ticket per conversation"
    assert str(tickets[0]["id"]) == view.ticket_id


# ---------------------------------------------------------------------- off the shopper's path


async def test_a_turn_records_its_mirroring_and_makes_no_helpdesk_call(agent: Agent) -> None:
    cid = await chat(agent, turns=1)

    assert agent.world.gorgias.tickets == {}
    backlog = await agent.runtime.sync.backlog()
    assert (backlog.items, backlog.conversations) == (3, 1)  # 2 messages + the intent tags
    assert (await agent.view(cid)).ticket_id is None

    await agent.drain()

    await assert_each_message_once_in_order(agent, cid)
    assert (await agent.runtime.sync.backlog()).items == 0


@pytest.mark.parametrize("status", [429, 500])
async def test_the_shopper_is_answered_while_every_helpdesk_call_fails(agent: Agent, status: int) -> None:
    await agent.inject(vendor="gorgias", kind="error", status=status, remaining=1000)
    agent.runtime.sync.start()  # the background worker, as in production, failing all along
    try:
        cid = await agent.start()
        agent.script(intent("other"), "Hello! How can I help?")
        turn = await agent.say(cid, "hi", drain=False)
        agent.script(intent("other"), "Anything else?")
        again = await agent.say(cid, "thanks", drain=False)
    finally:
        await agent.runtime.sync.stop()

    assert turn.error is None and turn.said() == ["Hello! How can I help?"]
    assert again.error is None and again.said() == ["Anything else?"]
    assert agent.world.gorgias.tickets == {}
    assert (await agent.runtime.sync.backlog()).items == 5
    await agent.control.delete("/_sandbox/faults")
    await agent.drain()
    await assert_each_message_once_in_order(agent, cid)


# ---------------------------------------------------------------------- exactly once, in order


async def test_a_worker_killed_between_the_vendor_calls_and_the_mark_duplicates_nothing(
    agent: Agent,
) -> None:
    cid = await chat(agent)
    # The ticket is created with every message; then the worker dies before marking them delivered.
    crash_once(agent.runtime.sync.db, "complete")
    with pytest.raises(RuntimeError):
        await agent.runtime.sync.deliver_next()
    assert len(agent.world.gorgias.tickets) == 1
    agent.script(intent("other"), "A third reply")
    await agent.say(cid, "A third message", drain=False)
    assert not await second_worker(agent).deliver_next()  # the lease still holds

    restarted = second_worker(agent, clock=lambda: time.time() + 600)  # the lease has expired
    assert await restarted.deliver_next()

    await assert_each_message_once_in_order(agent, cid)


async def test_two_workers_deliver_each_conversation_once_in_order(agent: Agent) -> None:
    conversations = [await chat(agent) for _ in range(6)]
    other = second_worker(agent)

    delivered = await asyncio.gather(agent.runtime.sync.drain(), other.drain())

    assert sum(delivered) == 6
    for cid in conversations:
        await assert_each_message_once_in_order(agent, cid)


async def test_after_an_outage_every_message_arrives_once_in_order(agent: Agent) -> None:
    cid = await chat(agent, turns=1)
    await agent.drain()
    await agent.inject(vendor="gorgias", kind="error", status=503, remaining=1000)
    for n in range(3):
        agent.script(intent("other"), f"Reply during the outage {n}")
        await agent.say(cid, f"Message during the outage {n}", drain=False)
    assert await agent.runtime.sync.deliver_next()  # tried, failed, due again later
    assert await agent.runtime.sync.deliver_next() is False
    assert (await agent.runtime.sync.backlog()).items == 6

    await agent.control.delete("/_sandbox/faults")
    await agent.drain()

    await assert_each_message_once_in_order(agent, cid)


async def test_hand_offs_are_delivered_before_routine_mirroring(agent: Agent) -> None:
    routine = [await chat(agent, turns=1) for _ in range(3)]
    agent.script(intent("escalation"))
    urgent = await agent.start()
    await agent.say(urgent, "I need a person", drain=False)

    assert await agent.runtime.sync.deliver_next()

    tickets = list(agent.world.gorgias.tickets.values())
    assert [t["external_id"] for t in tickets] == [urgent]
    assert "ai_handover" in [t["name"] for t in tickets[0]["tags"]]
    await agent.drain()
    for cid in routine:
        await assert_each_message_once_in_order(agent, cid)


def test_tag_changes_merge_in_order() -> None:
    from agent.outbox.db import StoredItem

    def item(n: int, **payload: Any) -> StoredItem:
        return StoredItem(id=n, key=str(n), kind="tags", payload=payload, priority=1, created_at=0.0)

    add, remove = merged_tags(
        [item(1, add=["a", "b"]), item(2, remove=["b", "c"]), item(3, add=["c"]), item(4, remove=["x"])]
    )
    assert (add, remove) == (["a", "c"], ["b", "x"])


# ---------------------------------------------------------------------- the account's budget


async def test_the_pacer_keeps_a_drain_within_the_helpdesk_budget(open_agent: Any) -> None:
    """40 calls per 20 s on a fake clock: a backlog of conversations drains without a single 429."""
    now = [1_000_000.0]

    def clock() -> float:
        return now[0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    app = sandbox_app()
    app.state.gorgias_call_limiter = CallLimiter(limit=40, window_seconds=20.0, clock=clock)
    async with open_agent(app=app) as agent:
        conversations = [await chat(agent, turns=1) for _ in range(45)]  # one call each: a new ticket
        hooks = agent.runtime.services.helpdesk_http.event_hooks
        hooks["request"].clear()  # the runtime's own pacer runs on the real clock
        hooks["response"].clear()
        pacer = CallPacer(agent.runtime.sync.db, "paced-account", clock=clock, sleep=sleep)
        pacer.install(agent.runtime.services.helpdesk_http)

        await agent.drain()

        assert pacer.rate_limited == 0
        assert pacer.calls > 40  # more than one window's worth...
        assert now[0] - 1_000_000.0 >= (pacer.calls - 40) * 20.0 / 40  # ...spread over time
        for cid in conversations:
            await assert_each_message_once_in_order(agent, cid)


# ---------------------------------------------------------------------- the databases


async def _outbox_round_trip(
    open_persistence_: Callable[[], AbstractAsyncContextManager[Persistence]],
) -> None:
    async with open_persistence_() as persistence:
        db = persistence.outbox
        assert db is not None
        seed = TicketSeed(customer_email="ana.silva@example.com", subject="Chat (wismo): where")
        items = [OutboxItem(key=f"k{n}", kind="message", payload={"n": n}) for n in range(3)]
        assert await db.record("c1", items, seed, 100.0) == 3
        assert await db.record("c1", items, seed, 101.0) == 0  # recorded once
        assert await db.record("c2", items[:1], seed, 102.0) == 1
        first = await db.claim("w1", 200.0, 60.0)
        assert first is not None and first.conversation_id == "c1"
        assert [i.payload["n"] for i in first.items] == [0, 1, 2]
        second = await db.claim("w2", 200.0, 60.0)
        assert second is not None and second.conversation_id == "c2"  # c1 is leased to w1
        assert await db.claim("w3", 200.0, 60.0) is None
        await db.complete("c1", [i.id for i in first.items[:2]], "77", 201.0, retry_at=260.0, error="503")
        assert await db.ticket_id("c1") == "77"
        assert await db.conversation_for_ticket("77") == "c1"
        assert await db.claim("w1", 202.0, 60.0) is None  # due again at 260 (c2 still leased)
        expired = await db.claim("w1", 261.0, 60.0)  # w2's lease on c2 ran out: claimed again
        assert expired is not None and expired.conversation_id == "c2"
        again = await db.claim("w1", 261.0, 60.0)
        assert again is not None and [i.payload["n"] for i in again.items] == [2]
        backlog = await db.backlog()
        assert (backlog.items, backlog.conversations, backlog.oldest_created_at) == (2, 2, 100.0)
        # Pacing: slots one interval apart, pulled back, held after a 429.
        assert await db.reserve_call("acct", 300.0, 0.5) == 300.0
        assert await db.reserve_call("acct", 300.0, 0.5) == 300.5
        await db.hold_calls("acct", 310.0)
        assert await db.reserve_call("acct", 300.0, 0.5) == 310.0
        await db.ease_calls("acct", 300.0)
        assert await db.reserve_call("acct", 300.0, 0.5) == 300.0


async def _recording_keeps_the_aggregate(
    open_persistence_: Callable[[], AbstractAsyncContextManager[Persistence]],
) -> None:
    """A later record adds only what is new, in order; the conversation's count, urgency, oldest
    item and ticket seed follow (what the worker claims by)."""
    async with open_persistence_() as persistence:
        db = persistence.outbox
        assert db is not None
        routine = [OutboxItem(key=f"r{n}", kind="message", payload={"n": n}) for n in range(2)]
        assert await db.record("calm", routine, TicketSeed(None, "Chat (other): hi"), 50.0) == 2
        assert await db.record("c3", routine[:1], TicketSeed(None, ""), 100.0) == 1
        urgent = OutboxItem(key="handoff", kind="note", payload={"n": 9}, priority=URGENT)
        seed = TicketSeed("ana.silva@example.com", "Chat (wismo): where")
        assert await db.record("c3", [*routine, urgent], seed, 101.0) == 2  # r0 was there already
        backlog = await db.backlog()
        assert (backlog.items, backlog.conversations, backlog.oldest_created_at) == (5, 2, 50.0)
        claim = await db.claim("w1", 200.0, 60.0)
        assert claim is not None and claim.conversation_id == "c3"  # the urgent one first, though newer
        assert [i.key for i in claim.items] == ["r0", "r1", "handoff"]
        assert claim.seed == seed  # the email and the subject filled in by the later record


async def test_the_sqlite_outbox_keeps_its_aggregate(tmp_path: Path) -> None:
    await _recording_keeps_the_aggregate(lambda: sqlite_persistence(tmp_path / "agent.sqlite"))


@pytest.mark.postgres
async def test_the_postgres_outbox_keeps_its_aggregate(postgres_url: str) -> None:  # noqa: F811
    await _recording_keeps_the_aggregate(lambda: postgres_persistence(postgres_url))


async def test_the_sqlite_outbox_claims_leases_and_paces(tmp_path: Path) -> None:
    await _outbox_round_trip(lambda: sqlite_persistence(tmp_path / "agent.sqlite"))


@pytest.mark.postgres
async def test_the_postgres_outbox_claims_leases_and_paces(postgres_url: str) -> None:  # noqa: F811
    await _outbox_round_trip(lambda: postgres_persistence(postgres_url))


@pytest.mark.postgres
async def test_two_workers_on_postgres_deliver_each_conversation_once(
    open_agent: Any,
    postgres_url: str,  # noqa: F811
) -> None:
    async with (
        postgres_persistence(postgres_url) as persistence,
        open_agent(persistence=persistence) as agent,
    ):
        conversations = [await chat(agent) for _ in range(5)]
        other = second_worker(agent)

        delivered = await asyncio.gather(agent.runtime.sync.drain(), other.drain())

        assert sum(delivered) == 5
        for cid in conversations:
            await assert_each_message_once_in_order(agent, cid)


# ---------------------------------------------------------------------- concurrency on SQLite


async def test_fifty_concurrent_turns_on_sqlite_all_succeed(tmp_path: Path) -> None:
    """The default database under concurrent shoppers: no "database is locked", every history whole."""
    async with (
        sqlite_persistence(tmp_path / "agent.sqlite") as persistence,
        open_demo_runtime(agent_settings(), sandbox_app=sandbox_app(), persistence=persistence) as runtime,
    ):
        service = runtime.service
        conversations = [await service.start() for _ in range(50)]

        async def turn(cid: str) -> list[Any]:
            return [e async for e in service.send(cid, "hi there")]

        turns = await asyncio.gather(*(turn(cid) for cid in conversations))

        assert [e.type for t in turns for e in t if e.type == "error"] == []
        for cid in conversations:
            view = await service.get(cid)
            assert [m.role for m in view.messages] == ["shopper", "assistant"]
            assert view.status == "active"
        assert (await runtime.sync.backlog()).conversations == 50


def test_an_answer_that_also_calls_a_tool_is_mirrored() -> None:
    """The shopper saw the text (e.g. tracking, then an escalation for a stuck parcel): so does the ticket."""
    from langchain_core.messages import AIMessage, HumanMessage

    from agent.outbox.mirroring import message_items

    answer = AIMessage(
        content="Your parcel is stuck with UPS; I'm bringing in the team.",
        id="a-1",
        tool_calls=[{"name": "escalate_to_human", "args": {"reason": "stuck"}, "id": "c-1"}],
    )
    silent = AIMessage(content="", id="a-0", tool_calls=[{"name": "lookup_order", "args": {}, "id": "c-0"}])
    items = message_items([HumanMessage("where is it?", id="m-1"), silent, answer], priority=1)
    assert [i.key for i in items] == ["msg:m-1", "msg:a-1"]


# ---------------------------------------------------------------------- vendor-neutral requests


def count_calls(agent: Agent, *names: str) -> dict[str, int]:
    """Count the outbox worker's calls to these helpdesk adapter methods."""
    helpdesk = agent.runtime.services.helpdesk
    counts = dict.fromkeys(names, 0)
    for name in names:
        original = getattr(helpdesk, name)

        async def counted(*args: Any, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
            counts[_name] += 1
            return await _original(*args, **kwargs)

        setattr(helpdesk, name, counted)
    return counts


async def test_requests_are_mapped_by_the_adapter_and_coalesced(agent: Agent) -> None:
    """A hand-off, an approval request and a consumed hand-back, pending together for a new ticket:
    one ticket creation with the messages and notes, one tag change for what must go."""
    calls = count_calls(agent, "ensure_ticket", "post_messages", "edit_tags", "get_ticket")
    seed = TicketSeed(customer_email="emma.jones@example.com", subject="Chat (refunds): refund")
    items = [
        OutboxItem("msg:m-1", "message", {"author": "shopper", "text": "Refund 1005", "external_id": "m-1"}),
        OutboxItem("req:h:handoff", "handoff", {"intent": "refunds"}, URGENT),
        OutboxItem("req:h:note", "note", {"text": "Handed over: refund", "external_id": "c:h:note"}, URGENT),
        OutboxItem(
            "req:k:approval", "approval_requested", {"text": "Refund approval needed.", "external_id": "k"}
        ),
        OutboxItem("req:back", "handback_consumed", {}),
    ]
    await agent.runtime.sync.record("conv-requests", items, seed)

    await agent.drain()

    [ticket] = [t for t in agent.world.gorgias.tickets.values() if t["external_id"] == "conv-requests"]
    assert [t["name"] for t in ticket["tags"]] == ["ai_handover", "refunds", "refund-approval"]
    notes = [m["body_text"] for m in ticket["messages"] if m["channel"] == "internal-note"]
    assert notes[1:] == [
        "Handed over: refund",
        "Refund approval needed. Add the tag 'refund-approved' to approve or 'refund-denied' to deny; "
        "the shopper is told in the chat.",
    ]
    assert calls == {"ensure_ticket": 1, "post_messages": 0, "edit_tags": 1, "get_ticket": 0}
    assert (await agent.runtime.sync.backlog()).items == 0


async def test_outbox_rows_from_before_the_requests_are_still_delivered(agent: Agent) -> None:
    """Rows recorded by the previous version spelled the helpdesk's tags and instructions out
    (`tags`, `note`): they are delivered as they always were."""
    seed = TicketSeed(customer_email=None, subject="Chat (escalation)")
    old = [
        OutboxItem(
            "req:handoff-3:tags", "tags", {"add": ["ai-handled", "ai_handover", "escalation"]}, URGENT
        ),
        OutboxItem(
            "req:k:approval-note", "note", {"text": "Approve with 'refund-approved'.", "external_id": "k"}
        ),
        OutboxItem(
            "req:k:approval-tags", "tags", {"add": ["refund-approval"], "remove": ["refund-approved"]}
        ),
    ]
    await agent.runtime.sync.record("conv-old", old, seed)

    await agent.drain()

    [ticket] = [t for t in agent.world.gorgias.tickets.values() if t["external_id"] == "conv-old"]
    assert [t["name"] for t in ticket["tags"]] == [
        "ai-handled",
        "ai_handover",
        "escalation",
        "refund-approval",
    ]
    assert "Approve with 'refund-approved'." in [m["body_text"] for m in ticket["messages"]]
    assert (await agent.runtime.sync.backlog()).items == 0


async def test_a_request_with_a_broken_payload_is_skipped_not_retried_forever(agent: Agent) -> None:
    seed = TicketSeed(customer_email=None, subject="Chat")
    items = [
        OutboxItem("msg:m-1", "message", {"author": "shopper", "text": "hi", "external_id": "m-1"}),
        OutboxItem("req:x", "approval_requested", {"external_id": "no text"}),
    ]
    await agent.runtime.sync.record("conv-broken", items, seed)

    await agent.drain()

    assert (await agent.runtime.sync.backlog()).items == 0
    [ticket] = [t for t in agent.world.gorgias.tickets.values() if t["external_id"] == "conv-broken"]
    assert "refund-approval" not in [t["name"] for t in ticket["tags"]]


def test_a_handoff_request_also_carries_our_own_labels() -> None:
    from agent.outbox.mirroring import request_items

    items = request_items(
        {"handoff-3:handoff": {"kind": "handoff", "intent": "refunds", "priority": "urgent"}}
    )

    assert [(i.key, i.kind, i.payload, i.priority) for i in items] == [
        ("req:handoff-3:handoff", "handoff", {"intent": "refunds"}, URGENT),
        ("req:handoff-3:handoff:labels", "tags", {"add": ["ai-handled", "refunds"]}, URGENT),
    ]


async def test_a_cancelled_recording_on_sqlite_is_whole_and_leaves_no_transaction_open(
    tmp_path: Path,
) -> None:
    """The caller gives up (a client disconnects) while its transaction waits for the connection's
    thread: the transaction still runs whole, and the connection the checkpointer shares is not
    left inside it."""
    import sqlite3
    import threading

    from agent.outbox.db import SqliteOutbox
    from agent.sqlite_thread import on_connection_thread

    async with sqlite_persistence(tmp_path / "agent.sqlite") as persistence:
        db = persistence.outbox
        assert isinstance(db, SqliteOutbox)
        conn = persistence.checkpointer.conn  # type: ignore[attr-defined]
        release = threading.Event()

        def hold(_raw: sqlite3.Connection) -> None:
            release.wait()

        held = asyncio.create_task(on_connection_thread(conn, hold))  # the thread is busy
        items = [OutboxItem(key=f"k{n}", kind="message", payload={"n": n}) for n in range(3)]
        recording = asyncio.create_task(db.record("c1", items, TicketSeed(None, "s"), 1.0))
        for _ in range(5):
            await asyncio.sleep(0)  # no clock: lets the recording reach the connection's queue
        recording.cancel()
        release.set()
        await held
        with pytest.raises(asyncio.CancelledError):
            await recording
        await on_connection_thread(conn, hold)  # queued after the recording: it has run by now

        assert not conn.in_transaction
        assert (await db.backlog()).items == 3  # it ran whole after the caller left
        assert await db.record("c1", items, TicketSeed(None, "s"), 2.0) == 0

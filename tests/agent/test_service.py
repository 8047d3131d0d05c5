"""The conversation service around the graph: the inbox written before processing, retried POSTs
replayed, crashed turns recoverable, unknown conversations, signed identities, turns serialised."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from agent.cards import TrackingCard
from agent.conversation import ConversationNotFound
from agent.nodes.wiring import STREAM_TOKENS
from agent.persistence import Persistence
from integrations.events import TicketClosed
from tests.agent.conftest import EMAILS, Agent, call, crash_once, verify
from tests.agent.scripted_model import intent


async def inbox(agent: Agent, cid: str, client_message_id: str) -> dict[str, Any] | None:
    item = await agent.runtime.persistence.store.aget(("inbox", cid), f"m-{client_message_id}")
    return None if item is None else dict(item.value)


async def test_a_new_conversation_is_empty_and_active(agent: Agent) -> None:
    cid = await agent.start()

    view = await agent.view(cid)

    assert (view.id, view.status, view.intent, view.ticket_id, view.messages) == (
        cid,
        "active",
        None,
        None,
        [],
    )
    assert view.customer_email is None


async def test_unknown_conversations_are_not_found(agent: Agent) -> None:
    with pytest.raises(ConversationNotFound):
        await agent.view("nope")
    with pytest.raises(ConversationNotFound):
        await agent.say("nope", "hello")
    with pytest.raises(ConversationNotFound):
        await anext(agent.service.subscribe("nope"))
    assert await agent.service.helpdesk_event(TicketClosed(ticket_id="1", conversation_id="nope")) is False
    ticket = {"id": 1, "external_id": "nope", "status": "closed", "tags": []}
    assert await agent.webhook({"event": "ticket-updated", "ticket": ticket}) is False
    assert await agent.webhook({"event": "ticket-updated", "ticket": {"id": 1, "status": "closed"}}) is False
    assert agent.model.calls == []


async def test_a_turn_streams_the_shoppers_message_first_and_ends_with_done(agent: Agent) -> None:
    agent.script(
        intent("wismo", order_number="1001"),
        verify("1001"),
        call("get_tracking_status", order_number="1001"),
        "With UPS.",
    )
    cid = await agent.start()

    turn = await agent.say(cid, "where is 1001? ana.silva@example.com", client_message_id="c-1")

    first = turn.events[0]
    assert first.type == "message" and first.data["id"] == "m-c-1" and first.data["role"] == "shopper"
    assert [e.data["tool"] for e in turn.events if e.type == "progress"] == [
        "verify_customer",
        "get_tracking_status",
    ]
    assert "".join(e.data["text"] for e in turn.events if e.type == "delta") == "With UPS."
    # Every piece names the reply it belongs to, and comes before the reply itself.
    reply = next(e for e in turn.events if e.type == "message" and e.data["role"] == "assistant")
    pieces = [i for i, e in enumerate(turn.events) if e.type == "delta"]
    assert pieces and {turn.events[i].data["message_id"] for i in pieces} == {reply.data["id"]}
    assert max(pieces) < turn.events.index(reply)
    assert turn.types[-1] == "done"
    assert [m["text"] for m in turn.done["messages"]] == ["where is 1001? ana.silva@example.com", "With UPS."]
    assert (await inbox(agent, cid, "c-1")) == {
        "text": "where is 1001? ana.silva@example.com",
        "status": "done",
        "messages": turn.done["messages"],
        "status_after": "active",
    }


async def test_a_caller_streaming_the_graph_itself_gets_progress_and_pieces_in_custom_mode(
    agent: Agent,
) -> None:
    """The service reads them from its own side channel; the graph run on its own, with LangGraph's
    custom stream mode, still carries them."""
    agent.script(
        intent("wismo", order_number="1001"),
        verify("1001"),
        call("get_tracking_status", order_number="1001"),
        "With UPS.",
    )
    config: Any = {"configurable": {"thread_id": "notebook-1", STREAM_TOKENS: True}}
    given = {"messages": [HumanMessage("where is 1001? ana.silva@example.com", id="m-1")]}

    custom = [chunk async for chunk in agent.runtime.graph.astream(given, config, stream_mode="custom")]

    assert [c["progress"] for c in custom if "progress" in c] == ["verify_customer", "get_tracking_status"]
    assert "".join(c["text"] for c in custom if "text" in c) == "With UPS."


async def test_a_retried_post_after_success_is_replayed_without_running_the_graph(agent: Agent) -> None:
    agent.script(intent("other"), "Hello! How can I help?")
    cid = await agent.start()
    first = await agent.say(cid, "hi", client_message_id="c-1")
    state_before = await agent.state(cid)

    again = await agent.say(cid, "hi", client_message_id="c-1")

    assert again.done["replayed"] is True and again.done["status"] == "active"
    assert [m.model_dump() for m in again.messages] == [m.model_dump() for m in first.messages]
    assert len(agent.model.calls) == 2
    assert await agent.state(cid) == state_before
    assert [m.text for m in (await agent.view(cid)).messages] == ["hi", "Hello! How can I help?"]


async def test_the_message_is_kept_when_the_turn_crashes_and_a_retry_processes_it_once(agent: Agent) -> None:
    agent.script(intent("other"), "Hello! How can I help?")
    cid = await agent.start()
    # The database fails to save the turn's last step (the reply), after the model answered.
    crash_once(agent.runtime.persistence.checkpointer, "aput", on_call=3)

    failed = await agent.say(cid, "hi there", client_message_id="c-1")

    assert failed.error == {
        "error": "Something went wrong on our side. Your message is saved; please try again.",
        "retryable": True,
    }
    assert "done" not in failed.types
    # Saved with the graph's first checkpoint (the turn did not wait for a slot); nothing says done.
    assert (await inbox(agent, cid, "c-1")) is None
    assert [m.text for m in (await agent.view(cid)).messages if m.role == "shopper"] == ["hi there"]

    retried = await agent.say(cid, "hi there", client_message_id="c-1")

    assert retried.status == "active"
    assert len(agent.model.calls) == 2  # the model was not asked again
    view = await agent.view(cid)
    assert [m.text for m in view.messages] == ["hi there", "Hello! How can I help?"]
    humans = [m for m in await agent.state_messages(cid) if isinstance(m, HumanMessage)]
    assert [m.id for m in humans] == ["m-c-1"]
    assert (await inbox(agent, cid, "c-1") or {})["status"] == "done"
    await agent.assert_mirrored_once(cid)


class DroppingSaver(InMemorySaver):
    """A checkpointer whose database drops one write (a connection lost mid-turn)."""

    drop_write: int | None = None
    puts = 0

    async def aput(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        self.puts += 1
        if self.drop_write is not None and self.puts == self.drop_write:
            raise ConnectionError("connection to the database lost")
        return await super().aput(config, checkpoint, metadata, new_versions)


async def test_a_turn_whose_checkpoint_write_failed_is_answered_on_retry(open_agent: Any) -> None:
    saver = DroppingSaver()
    async with open_agent(persistence=Persistence(saver, InMemoryStore(), "memory")) as agent:
        cid = await agent.start()
        agent.script(intent("other"), "Hello! How can I help?")
        saver.drop_write = saver.puts + 3  # after the shopper's message is stored
        failed = await agent.say(cid, "hi there", client_message_id="c-1")
        assert failed.error is not None
        # The steps that finished before the failed write are not run again (durable writes):
        # the model is not asked twice.

        retried = await agent.say(cid, "hi there", client_message_id="c-1")

        assert retried.said() == ["Hello! How can I help?"]
        view = await agent.view(cid)
        assert [m.text for m in view.messages] == ["hi there", "Hello! How can I help?"]
        agent.model.assert_exhausted()


async def test_a_failing_model_is_not_a_failed_turn(agent: Agent) -> None:
    """The model raising is handled inside the graph (apology + handoff): the turn completes."""
    agent.script(ConnectionError("model host unreachable"))
    cid = await agent.start()

    turn = await agent.say(cid, "hello", client_message_id="c-1")

    assert turn.error is None
    assert turn.status == "human_handling"
    assert (await inbox(agent, cid, "c-1") or {})["status"] == "done"


async def test_a_signed_identity_skips_verification(agent: Agent) -> None:
    agent.script(
        intent("wismo", order_number="1001"),
        call("get_tracking_status", order_number="1001"),
        "Your order is with UPS.",
    )
    cid = await agent.start(verified_email=EMAILS["1001"])
    assert (await agent.view(cid)).customer_email == EMAILS["1001"]

    turn = await agent.say(cid, "where is order 1001?")

    assert turn.said() == ["Your order is with UPS."]
    card = turn.messages[-1].card
    assert isinstance(card, TrackingCard)
    state = await agent.state(cid)
    assert state["customer"]["email"] == EMAILS["1001"]
    assert state["customer"]["verified_by"] == "signed_identity"
    assert [n for n, _ in await agent.tool_calls(cid)] == ["get_tracking_status"]
    ticket = agent.ticket((await agent.view(cid)).ticket_id)
    assert ticket["customer"]["email"] == EMAILS["1001"]


async def test_a_signed_identity_only_reaches_its_own_orders(agent: Agent) -> None:
    agent.script(
        intent("wismo", order_number="1005"),
        call("get_tracking_status", order_number="1005"),
        "I can't find that order on your account.",
    )
    cid = await agent.start(verified_email=EMAILS["1001"])

    await agent.say(cid, "where is order 1005?")

    [result] = await agent.tool_results(cid)
    assert result.status == "error" and "emma" not in str(result.content)


async def test_turns_of_one_conversation_run_one_at_a_time(agent: Agent) -> None:
    agent.script(intent("other"), "First answer.", intent("other"), "Second answer.")
    cid = await agent.start()

    first, second = await asyncio.gather(
        agent.say(cid, "first", client_message_id="c-1"), agent.say(cid, "second", client_message_id="c-2")
    )

    assert first.said() == ["First answer."] and second.said() == ["Second answer."]
    view = await agent.view(cid)
    assert [m.text for m in view.messages] == ["first", "First answer.", "second", "Second answer."]


async def test_conversations_are_independent(agent: Agent) -> None:
    agent.script(
        intent("escalation"),
        intent("other"),
        "Hi! How can I help?",
    )
    escalated = await agent.start()
    other = await agent.start()

    await agent.say(escalated, "a person please")
    turn = await agent.say(other, "hello")

    assert turn.status == "active" and turn.said() == ["Hi! How can I help?"]
    assert (await agent.view(escalated)).status == "human_handling"
    assert (await agent.view(escalated)).ticket_id != (await agent.view(other)).ticket_id


async def test_turns_beyond_the_admission_limit_wait_and_run_whole(open_agent: Any) -> None:
    """With one slot, three shoppers' turns run one after another, each whole (its two model
    calls back to back), instead of interleaving step by step; every one is answered."""
    steps: list[Any] = []
    for n in (1, 2, 3):
        steps += [intent("other"), f"Answer {n}."]
    async with open_agent(steps, max_concurrent_turns=1) as agent:
        cids = [await agent.start() for _ in range(3)]

        turns = await asyncio.gather(*(agent.say(cid, f"hello from {cid}") for cid in cids))

        asked = [str(call["messages"][-1].content) for call in agent.model.calls]
        assert all(a == b for a, b in zip(asked[0::2], asked[1::2], strict=True)), asked
        assert sorted(t.said()[0] for t in turns) == ["Answer 1.", "Answer 2.", "Answer 3."]
        assert agent.service.turns_waiting() == 0


async def test_a_turn_waiting_for_a_slot_has_its_message_saved_first(open_agent: Any) -> None:
    async with open_agent([intent("other"), "Hi."], max_concurrent_turns=1) as agent:
        cid = await agent.start()
        await agent.service._admission.acquire()  # another shopper's turn holds the only slot
        waiting = asyncio.create_task(agent.say(cid, "hello", client_message_id="c-w"))
        # Yields to the loop (no clock): the turn runs until it blocks on the slot.
        while agent.service.turns_waiting() == 0:  # noqa: ASYNC110
            await asyncio.sleep(0)

        saved = await inbox(agent, cid, "c-w")

        assert saved is not None and (saved["text"], saved["status"]) == ("hello", "received")
        agent.service._admission.release()
        turn = await waiting
        assert turn.said() == ["Hi."]
        assert (await inbox(agent, cid, "c-w") or {})["status"] == "done"

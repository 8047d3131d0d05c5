"""Store-wide guards through the real runtime: an attacker is not bound to one conversation.

Each test asserts what the shopper is told AND the world (verification, labels, tickets, emails).
Turns are sent with a client address, as the server does; graph state holds only a reference to it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from agent.persistence import postgres_persistence
from tests.agent.conftest import TEAM_EMAIL, Agent, Turn, call, intent, sandbox_app
from tests.agent.scripted_model import ToolStep
from tests.agent.test_persistence import postgres_url  # noqa: F401  (the fixture)
from tools.identity import MISMATCH

FARID = "farid.haddad@example.com"  # owns order #1007
FIRST_GUESS = 996  # sequential guesses reach #1007 at the 12th, as in issue 12


async def say(agent: Agent, cid: str, text: str, client: str | None) -> Turn:
    events = [e async for e in agent.service.send(cid, text, client=client)]
    await agent.drain()
    return Turn(events)


@pytest.fixture
def open_agent(open_agent: Any) -> Any:
    """The agents of these tests read all the store's orders (read_all_orders), so every guessed
    number reaches the store, as in issue 12: without that scope, numbers below its 60-day window
    get an answer that depends on the number alone (tests/tools/test_history_window.py)."""

    @asynccontextmanager
    async def factory(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        async with open_agent(*args, **kwargs) as agent:
            agent.world.shopify.access_scopes.append("read_all_orders")
            yield agent

    return factory


def verify_step(number: int, email: str) -> ToolStep:
    return ToolStep([("verify_customer", {"email": email, "order_number": str(number)})])


async def verify_results(agent: Agent, cid: str) -> list[dict[str, Any]]:
    messages = await agent.state_messages(cid)
    return [
        json.loads(str(m.content))
        for m in messages
        if isinstance(m, ToolMessage) and m.name == "verify_customer"
    ]


def alerts(agent: Agent) -> list[dict[str, Any]]:
    return [m for m in agent.outbox_to(TEAM_EMAIL) if "security_alert" in m.get("categories", [])]


async def brute_force(
    agents: list[Agent], guesses: int = 50, per_conversation: int = 4
) -> list[dict[str, Any]]:
    """One email, sequential order numbers, 4 per conversation, then a new one; from 5 addresses and
    (with several agents) alternating between server processes. Returns every verify result."""
    results: list[dict[str, Any]] = []
    number = FIRST_GUESS
    conversation = 0
    while number < FIRST_GUESS + guesses:
        agent = agents[conversation % len(agents)]
        client = f"203.0.113.{conversation % 5}"
        cid = await agent.start()
        for _ in range(per_conversation):
            if number >= FIRST_GUESS + guesses:
                break
            agent.script(intent("wismo", order_number=str(number)), verify_step(number, FARID), "No match.")
            await say(agent, cid, f"where is #{number}? {FARID}", client)
            number += 1
        state = await agent.state(cid)
        assert state.get("customer") is None, f"verified after guessing up to #{number - 1}"
        assert state.get("client") and "203.0.113" not in str(state.get("client"))
        results += await verify_results(agent, cid)
        conversation += 1
    return results


async def test_cross_conversation_brute_force_never_verifies_and_alerts_the_team_once(
    open_agent: Any,
) -> None:
    async with open_agent() as agent:
        results = await brute_force([agent])

        assert len(results) == 50
        # The 12th guess (#1007) is right, but the email was locked after 5 failures: the same reply.
        assert {(r["ok"], r["code"], r["message"]) for r in results} == {
            (False, "verification_failed", MISMATCH)
        }
        assert [r["details"]["attempts_left"] for r in results[:8]] == ["4", "3", "2", "1"] * 2
        sent = alerts(agent)
        assert len(sent) == 1
        assert FARID in sent[0]["text"] and "Security alert" in sent[0]["subject"]
        assert not any(FARID in str(r) for r in results)

        # The lock-out ends: the owner verifies; nothing else changed for them.
        agent.world.clock += timedelta(minutes=16)
        cid = await agent.start()
        agent.script(intent("wismo", order_number="1007"), verify_step(1007, FARID), "Verified.")
        await say(agent, cid, f"where is #1007? {FARID}", "198.51.100.7")
        assert (await agent.state(cid))["customer"]["email"] == FARID
        agent.model.assert_exhausted()


async def test_second_lockout_lasts_twice_as_long(open_agent: Any) -> None:
    async with open_agent() as agent:
        for round_ in range(2):
            for n in range(5):
                cid = await agent.start()
                agent.script(intent("wismo"), verify_step(990 + n, FARID), "No match.")
                await say(agent, cid, "where is my order", f"192.0.2.{round_ * 5 + n}")
            agent.world.clock += timedelta(minutes=16)
        # 16 minutes after the second lock-out (30 minutes long) the right order is still refused.
        cid = await agent.start()
        agent.script(intent("wismo"), verify_step(1007, FARID), "No match.")
        await say(agent, cid, "where is my order", "192.0.2.99")
        assert (await verify_results(agent, cid))[-1]["code"] == "verification_failed"
        assert len(alerts(agent)) == 2  # once per lock-out period
        agent.model.assert_exhausted()


async def test_handoff_flood_from_one_address_is_capped(open_agent: Any) -> None:
    async with open_agent() as agent:
        replies: list[str] = []
        for _ in range(10):
            cid = await agent.start()
            agent.script(intent("escalation"))
            turn = await say(agent, cid, "I want to talk to a person", "203.0.113.50")
            replies.append(turn.said()[-1])

        handed = [
            t for t in agent.world.gorgias.tickets.values() if "ai_handover" in [x["name"] for x in t["tags"]]
        ]
        assert len(handed) == 3
        assert len([m for m in agent.outbox_to(TEAM_EMAIL) if "escalation" in m.get("categories", [])]) == 3
        assert all("passed this conversation to our support team" in r for r in replies[:3])
        assert all("already has your earlier requests" in r for r in replies[3:])
        assert all("support@harborandpine.test" in r for r in replies[3:])

        # Another address is not held back; an in-process turn (no address) is not counted.
        for client in ("198.51.100.1", None):
            cid = await agent.start()
            agent.script(intent("escalation"))
            turn = await say(agent, cid, "a person please", client)
            assert turn.status == "human_handling"
        agent.model.assert_exhausted()


async def test_repeated_label_requests_make_one_label_then_resend_it(open_agent: Any) -> None:
    """Twice in one conversation, then in two new ones: one label bought, its email re-sent."""
    async with open_agent() as agent:
        shopper = "ben.okafor@example.com"
        bought_before = len([s for s in agent.world.easypost.shipments.values() if s.get("postage_label")])
        conversations = [await agent.start()]
        conversations += [conversations[0], await agent.start(), await agent.start()]
        verified: set[str] = set()
        results: list[dict[str, Any]] = []
        for cid in conversations:
            steps: list[Any] = [intent("returns", order_number="1002")]
            if cid not in verified:
                steps.append(verify_step(1002, shopper))
                verified.add(cid)
            steps.append(
                call("create_return_label", order_number="1002", line_item_ids=None, reason="too small")
            )
            agent.script(*steps)
            asked = await say(agent, cid, f"return order 1002 please, {shopper}", "203.0.113.9")
            assert asked.status == "awaiting_confirmation"
            agent.script("Done.")
            await say(agent, cid, "yes", "203.0.113.9")
            messages = await agent.state_messages(cid)
            last = [m for m in messages if isinstance(m, ToolMessage) and m.name == "create_return_label"][-1]
            results.append(json.loads(str(last.content)))

        bought = [s for s in agent.world.easypost.shipments.values() if s.get("postage_label")]
        assert len(bought) == bought_before + 1
        assert [r["reused_existing_label"] for r in results] == [False, True, True, True]
        assert len({r["tracking_number"] for r in results}) == 1
        label_mails = [m for m in agent.outbox_to(shopper) if "return_label" in m.get("categories", [])]
        assert len(label_mails) == 4  # the first, and three re-sends of the same label
        agent.model.assert_exhausted()


@pytest.mark.postgres
async def test_postgres_brute_force_across_two_processes_never_verifies(
    open_agent: Any,
    postgres_url: str,  # noqa: F811
) -> None:
    """Two runtimes (two server processes) on one PostgreSQL schema, serving the same store."""
    app = sandbox_app()
    async with (
        postgres_persistence(postgres_url) as one,
        postgres_persistence(postgres_url) as other,
        open_agent(app=app, persistence=one) as first,
        open_agent(app=app, persistence=other) as second,
    ):
        assert first.runtime.persistence.backend == "postgres"
        results = await brute_force([first, second], guesses=20)
        assert {r["code"] for r in results} == {"verification_failed"}
        # Both processes count into the same rows: the alert is recorded once, whichever made it.
        assert len(alerts(first)) == 1


async def test_label_cap_per_order_refuses_more_once_labels_are_in_use(open_agent: Any) -> None:
    async with open_agent() as agent:
        shopper = "ben.okafor@example.com"
        cid = await agent.start()
        codes: list[str | None] = []
        for attempt in range(3):
            steps: list[Any] = [intent("returns", order_number="1002")]
            if attempt == 0:
                steps.append(verify_step(1002, shopper))
            steps.append(
                call("create_return_label", order_number="1002", line_item_ids=None, reason="too small")
            )
            agent.script(*steps, "Answered.")
            turn = await say(agent, cid, "return order 1002", "203.0.113.9")
            if turn.status == "awaiting_confirmation":  # the cap refuses before asking
                await say(agent, cid, "yes", "203.0.113.9")
            last = [m for m in await agent.state_messages(cid) if isinstance(m, ToolMessage)][-1]
            codes.append(json.loads(str(last.content)).get("code"))
            # The shopper drops the parcel off: the label is used, so the next request needs a new one.
            for tracker in agent.world.easypost.trackers.values():
                if tracker.get("status") == "pre_transit":
                    tracker["status"] = "in_transit"
        assert codes == [None, None, "label_limit_reached"]
        bought = [s for s in agent.world.easypost.shipments.values() if s.get("postage_label")]
        assert len(bought) == 2
        assert len([m for m in agent.outbox_to(shopper) if "return_label" in m.get("categories", [])]) == 2


async def test_failures_from_one_address_lock_that_address_only(open_agent: Any) -> None:
    async with open_agent() as agent:
        # Ten different emails and orders, one address: the address is locked, not the targets.
        for n in range(10):
            cid = await agent.start()
            agent.script(intent("wismo"), verify_step(2000 + n, f"nobody{n}@example.com"), "No match.")
            await say(agent, cid, "where is my order", "203.0.113.66")
        for client, verified in (("203.0.113.66", False), ("198.51.100.2", True)):
            cid = await agent.start()
            agent.script(intent("wismo"), verify_step(1007, FARID), "Answered.")
            await say(agent, cid, "where is my order", client)
            assert ((await agent.state(cid)).get("customer") is not None) is verified
        assert alerts(agent) == []  # no customer was targeted
        agent.model.assert_exhausted()

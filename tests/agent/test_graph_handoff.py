"""Handoff to a person and back: the ticket, the team email, the bot staying silent while a person
handles the conversation, human replies relayed, close and hand-back resuming the bot, a person
taking over an idle conversation, and every automatic escalation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from agent.cards import HandoffCard
from tests.agent.conftest import EMAILS, TEAM_EMAIL, Agent, call, crash_once, request_refund_1005, verify
from tests.agent.scripted_model import intent

HANDOFF_TEXT = "I've passed this conversation to our support team"
APOLOGY = "I'm sorry, I'm having trouble answering right now."


async def track_1001(agent: Agent) -> str:
    """A verified conversation about order #1001 that the bot answered (mirrored to a ticket)."""
    agent.script(
        intent("wismo", order_number="1001"),
        verify("1001"),
        call("get_tracking_status", order_number="1001"),
        "Your order is with UPS.",
    )
    cid = await agent.start()
    await agent.say(cid, "Where is order 1001? ana.silva@example.com")
    return cid


async def hand_off(agent: Agent, cid: str, text: str = "I need to talk to a person") -> str:
    agent.script(intent("escalation"))
    turn = await agent.say(cid, text)
    assert turn.status == "human_handling"
    ticket_id = (await agent.view(cid)).ticket_id
    assert ticket_id is not None
    return ticket_id


def assert_no_internals(texts: list[str]) -> None:
    """Nothing the shopper can read leaks a stack trace or an exception."""
    for text in texts:
        for leak in ("Traceback", "Error", "Exception", "secret detail", 'File "'):
            assert leak not in text, f"{leak!r} leaked into {text!r}"


# ---------------------------------------------------------------------- handoff


async def test_handoff_files_the_ticket_emails_the_team_and_tells_the_shopper(agent: Agent) -> None:
    cid = await track_1001(agent)

    ticket_id = await hand_off(agent, cid, "This is taking too long, get me a human")

    view = await agent.view(cid)
    assert view.status == "human_handling"
    told = view.messages[-1]
    assert told.role == "assistant" and told.text.startswith(HANDOFF_TEXT)
    assert told.card == HandoffCard(ticket_id=None)  # filed after the reply, by the outbox
    assert agent.tags(ticket_id) == ["ai-handled", "wismo", "ai_handover", "escalation"]
    summary = agent.notes(ticket_id)[-1]
    assert "Reason: shopper asked for a person." in summary
    assert f"verified shopper {EMAILS['1001']} about order #1001" in summary
    assert "This is taking too long, get me a human" in summary
    # the whole transcript is on the ticket, each message once
    assert agent.public_texts(ticket_id) == [
        "Where is order 1001? ana.silva@example.com",
        "Your order is with UPS.",
        "This is taking too long, get me a human",
        told.text,
    ]
    await agent.assert_mirrored_once(cid)
    [email] = agent.outbox_to(TEAM_EMAIL)
    assert ticket_id in email["subject"] and "1001" in email["subject"]
    assert "This is taking too long, get me a human" in (email["text"] or email["html"])


async def test_shopper_messages_go_to_the_ticket_and_the_model_stays_silent(agent: Agent) -> None:
    cid = await track_1001(agent)
    ticket_id = await hand_off(agent, cid)
    calls = len(agent.model.calls)

    first = await agent.say(cid, "hello? anyone?")
    second = await agent.say(cid, "my order number is 1001")

    assert len(agent.model.calls) == calls  # the scripted model has nothing left: it was not asked
    for turn, text in ((first, "hello? anyone?"), (second, "my order number is 1001")):
        assert turn.status == "human_handling"
        assert [(m.role, m.text) for m in turn.messages] == [("shopper", text)]
        assert "handoff" in turn.types
    assert agent.public_texts(ticket_id)[-2:] == ["hello? anyone?", "my order number is 1001"]
    await agent.assert_mirrored_once(cid)
    assert len(agent.outbox_to(TEAM_EMAIL)) == 1  # the team is emailed once, not per message


async def test_a_human_reply_is_relayed_to_the_shopper(agent: Agent) -> None:
    cid = await track_1001(agent)
    ticket_id = await hand_off(agent, cid)
    pushed = await agent.subscribe(cid)

    result = await agent.human(ticket_id, "reply", text="Hi Ana, Rosa here. Let me check with UPS.")

    assert result["webhook"]["status"] == 200
    view = await agent.view(cid)
    relayed = view.messages[-1]
    assert (relayed.role, relayed.text, relayed.author) == (
        "agent",
        "Hi Ana, Rosa here. Let me check with UPS.",
        "Rosa Alvarez",
    )
    assert [m.id for m in pushed.messages] == [relayed.id]
    assert view.status == "human_handling"
    # the person's message is on the ticket once: the bot does not mirror it back
    assert agent.public_texts(ticket_id).count("Hi Ana, Rosa here. Let me check with UPS.") == 1
    assert agent.ticket(ticket_id)["assignee_user"]["email"] == "rosa@harborandpine.test"
    pushed.task.cancel()


async def test_closing_the_ticket_gives_the_conversation_back_to_the_bot(agent: Agent) -> None:
    cid = await track_1001(agent)
    ticket_id = await hand_off(agent, cid)
    await agent.human(ticket_id, "reply", text="Your parcel is at the depot, it arrives tomorrow.")
    pushed = await agent.subscribe(cid)

    await agent.human(ticket_id, "close")

    view = await agent.view(cid)
    assert view.status == "active"
    assert view.messages[-1].text.startswith("Our support team has closed this conversation.")
    assert [m.text for m in pushed.messages] == [view.messages[-1].text]
    assert pushed.statuses == ["active"]
    agent.script(intent("other"), "Happy to help with anything else!")
    turn = await agent.say(cid, "thanks, one more question")
    assert turn.status == "active"
    assert turn.said() == ["Happy to help with anything else!"]
    assert agent.public_texts(ticket_id)[-1] == "Happy to help with anything else!"
    await agent.assert_mirrored_once(cid)
    pushed.task.cancel()


async def test_the_graph_asks_the_helpdesk_in_its_own_words(agent: Agent) -> None:
    """The hand-off and the hand-back leave vendor-neutral requests in state; the adapter turns
    them into Gorgias tags (checked on the ticket by the tests around this one)."""
    cid = await track_1001(agent)
    ticket_id = await hand_off(agent, cid)
    await agent.human(ticket_id, "handback")

    requests = (await agent.state(cid))["helpdesk"]

    assert sorted({r["kind"] for r in requests.values()}) == [
        "handback_consumed",
        "handoff",
        "note",
        "team_email",
    ]
    [handoff] = [r for r in requests.values() if r["kind"] == "handoff"]
    assert handoff == {"kind": "handoff", "intent": "escalation", "priority": "urgent"}
    assert "ai_hand" not in repr(requests)


async def test_hand_back_resumes_the_bot_and_clears_the_tag(agent: Agent) -> None:
    cid = await track_1001(agent)
    ticket_id = await hand_off(agent, cid)

    await agent.human(ticket_id, "handback")

    view = await agent.view(cid)
    assert view.status == "active"
    assert view.messages[-1].text == "You're back with the assistant. Is there anything else I can help with?"
    assert "ai_handback" not in agent.tags(ticket_id)
    assert agent.ticket(ticket_id)["status"] == "open"
    # The team sees at once, in the ticket, what the shopper was told.
    assert agent.ticket(ticket_id)["messages"][-1]["body_text"] == view.messages[-1].text
    agent.script(intent("wismo"), "Still with UPS, arriving tomorrow.")
    turn = await agent.say(cid, "is 1001 still on its way?")
    assert turn.said() == ["Still with UPS, arriving tomorrow."]
    await agent.assert_mirrored_once(cid)


async def test_a_second_handoff_after_hand_back_joins_the_ticket_without_a_second_email(agent: Agent) -> None:
    cid = await track_1001(agent)
    ticket_id = await hand_off(agent, cid)
    await agent.human(ticket_id, "handback")

    again = await hand_off(agent, cid, "actually I need a person again")

    assert again == ticket_id  # the same ticket, one per conversation
    assert "ai_handover" in agent.tags(ticket_id)
    assert len(agent.outbox_to(TEAM_EMAIL)) == 1  # one team email per conversation
    assert sum(n.startswith("Handed over by the AI assistant") for n in agent.notes(ticket_id)) == 2
    await agent.assert_mirrored_once(cid)


async def test_close_or_hand_back_of_an_active_conversation_is_ignored(agent: Agent) -> None:
    cid = await track_1001(agent)
    ticket_id = (await agent.view(cid)).ticket_id
    before = (await agent.view(cid)).messages

    await agent.human(ticket_id, "handback")
    await agent.human(ticket_id, "close")

    after = await agent.view(cid)
    assert after.status == "active" and after.messages == before


# ---------------------------------------------------------------------- a person takes over


async def test_a_human_reply_on_an_idle_conversation_takes_it_over(agent: Agent) -> None:
    cid = await track_1001(agent)
    ticket_id = (await agent.view(cid)).ticket_id
    pushed = await agent.subscribe(cid)
    calls = len(agent.model.calls)

    await agent.human(
        ticket_id,
        "reply",
        text="Hi, Tom from support: I see a delay at UPS.",
        agent_email="tom@harborandpine.test",
    )

    view = await agent.view(cid)
    assert view.status == "human_handling"
    assert (view.messages[-1].role, view.messages[-1].author) == ("agent", "Tom Becker")
    assert [m.role for m in pushed.messages] == ["agent"]
    assert pushed.statuses == ["human_handling"]
    turn = await agent.say(cid, "oh thanks Tom, how long?")
    assert turn.status == "human_handling"
    assert turn.said() == []
    assert len(agent.model.calls) == calls
    assert agent.public_texts(ticket_id)[-1] == "oh thanks Tom, how long?"
    pushed.task.cancel()


async def test_a_human_reply_while_the_bot_waits_for_a_yes_is_not_a_yes(agent: Agent) -> None:
    """The bot never talks over a person, and a person's words are never the shopper's confirmation."""
    agent.script(
        intent("other"),
        "Hi! How can I help?",
        intent("order_change", order_number="1004"),
        verify("1004"),
        call("cancel_order", order_number="1004", reason="changed my mind"),
    )
    cid = await agent.start()
    await agent.say(cid, "hi")
    waiting = await agent.say(cid, "cancel 1004 please, dev.patel@example.com")
    assert waiting.status == "awaiting_confirmation"
    ticket_id = (await agent.view(cid)).ticket_id
    calls = len(agent.model.calls)

    await agent.human(ticket_id, "reply", text="OK, I can help with that, one moment.")

    assert agent.order("1004")["cancelled_at"] is None
    assert len(agent.model.calls) == calls
    view = await agent.view(cid)
    assert view.status == "human_handling"
    assert view.messages[-1].role == "agent"


async def test_a_human_reply_while_waiting_for_approval_takes_over(agent: Agent) -> None:
    cid = await request_refund_1005(agent)
    ticket_id = (await agent.view(cid)).ticket_id

    await agent.human(ticket_id, "reply", text="Hi Emma, can you send a photo of the damage?")

    view = await agent.view(cid)
    assert view.status == "human_handling"
    assert view.messages[-1].role == "agent"
    assert agent.order("1005").get("refunds", []) == []


async def test_replies_over_real_http_reach_the_conversation(agent: Agent) -> None:
    """A person acting through the served sandbox URL (the CLI, a notebook) rather than in-process."""
    cid = await track_1001(agent)
    ticket_id = await hand_off(agent, cid)

    async with httpx.AsyncClient(base_url=agent.runtime.sandbox_url, timeout=10) as http:
        replied = await http.post(f"/_sandbox/tickets/{ticket_id}/reply", json={"text": "Rosa here."})
        handed_back = await http.post(f"/_sandbox/tickets/{ticket_id}/handback")

    assert replied.json()["webhook"]["status"] == 200
    assert handed_back.json()["webhook"]["status"] == 200
    await agent.drain()
    view = await agent.view(cid)
    assert [m.role for m in view.messages[-2:]] == ["agent", "assistant"]
    assert view.status == "active"
    assert "ai_handback" not in agent.tags(ticket_id)


# ---------------------------------------------------------------------- automatic escalation


async def test_five_wrong_verifications_hand_off(agent: Agent) -> None:
    wrong = [verify("1001", email=f"guess{i}@example.com") for i in range(5)]
    agent.script(
        intent("wismo", order_number="1001"),
        *wrong[:3],
        "Those details don't match our records. Please check your confirmation email.",
        intent("wismo", order_number="1001"),
        *wrong[3:],
    )
    cid = await agent.start()
    first = await agent.say(cid, "where is 1001? guess0@example.com or guess1 or guess2")
    assert first.status == "active"

    second = await agent.say(cid, "try guess3@example.com, or guess4@example.com")

    assert second.status == "human_handling"
    assert second.said()[-1].startswith(HANDOFF_TEXT)
    results = [r for r in await agent.tool_results(cid) if r.name == "verify_customer"]
    assert [r.status for r in results] == ["error"] * 5
    assert '"attempts_left":"0"' in str(results[-1].content)
    state = await agent.state(cid)
    assert state["verification_attempts"] == 5 and state.get("customer") is None
    ticket_id = (await agent.view(cid)).ticket_id
    assert "Reason: verification attempts exhausted." in agent.notes(ticket_id)[-1]
    assert "an unverified shopper" in agent.notes(ticket_id)[-1]
    assert {"ai_handover", "wismo"} <= set(agent.tags(ticket_id))
    # the shopper is never told which detail was wrong
    assert_no_internals([m.text for m in (await agent.view(cid)).messages])


async def test_store_outage_after_retries_hands_off(agent: Agent) -> None:
    await agent.inject(vendor="shopify", kind="error", status=500, remaining=50)
    agent.script(intent("wismo", order_number="1001"), verify("1001"))
    cid = await agent.start()

    turn = await agent.say(cid, "where is 1001? ana.silva@example.com")

    assert turn.status == "human_handling"
    [told] = turn.said()  # no reply from the model: it never saw a result to answer
    assert told.startswith(HANDOFF_TEXT)
    [result] = await agent.tool_results(cid)
    assert '"code":"vendor_unavailable"' in str(result.content)
    assert len(agent.waits) == 3  # the call was retried (without sleeping) before giving up
    ticket_id = (await agent.view(cid)).ticket_id
    assert "Reason: a store system is down after retries." in agent.notes(ticket_id)[-1]
    assert len(agent.outbox_to(TEAM_EMAIL)) == 1
    assert_no_internals(turn.said())


async def test_repeated_unhelpful_turns_hand_off(agent: Agent) -> None:
    cid = await agent.start()
    for n in range(3):
        agent.script(intent("other", confidence=0.2), f"Sorry, I didn't get that ({n}).")
        turn = await agent.say(cid, f"blorp {n}")
    assert turn.status == "human_handling"
    assert turn.said() == ["Sorry, I didn't get that (2).", turn.said()[1]]
    assert turn.said()[1].startswith(HANDOFF_TEXT)
    ticket_id = (await agent.view(cid)).ticket_id
    assert "Reason: repeated failure to help." in agent.notes(ticket_id)[-1]


async def test_two_unhelpful_turns_then_a_good_one_do_not_hand_off(agent: Agent) -> None:
    cid = await agent.start()
    for n in range(2):
        agent.script(intent("other", confidence=0.2), f"Sorry, I didn't get that ({n}).")
        await agent.say(cid, f"blorp {n}")
    agent.script(
        intent("other", confidence=0.9), "We're open 9 to 5.", intent("other", confidence=0.2), "Sorry?"
    )
    await agent.say(cid, "when are you open?")

    turn = await agent.say(cid, "blorp again")

    assert turn.status == "active"
    assert (await agent.state(cid))["unhelpful_turns"] == 1


async def test_the_model_asking_for_a_person_hands_off(agent: Agent) -> None:
    agent.script(
        intent("wismo", order_number="1001"),
        call("escalate_to_human", reason="parcel lost", summary="Tracking has not moved for 9 days."),
    )
    cid = await agent.start()

    turn = await agent.say(cid, "my parcel 1001 hasn't moved in 9 days")

    assert turn.status == "human_handling"
    ticket_id = (await agent.view(cid)).ticket_id
    assert "Reason: parcel lost: Tracking has not moved for 9 days.." in agent.notes(ticket_id)[-1]
    assert {"ai_handover", "wismo"} <= set(agent.tags(ticket_id))


# ---------------------------------------------------------------------- the model fails


async def test_a_failing_classifier_apologises_and_hands_off(agent: Agent) -> None:
    agent.script(RuntimeError("secret detail: upstream 502 from the model host"))
    cid = await agent.start()

    turn = await agent.say(cid, "where is my order?")

    assert turn.status == "human_handling"
    assert turn.error is None
    said = turn.said()
    assert said[0].startswith(APOLOGY) and said[1].startswith(HANDOFF_TEXT)
    ticket_id = (await agent.view(cid)).ticket_id
    assert_no_internals(said + agent.public_texts(ticket_id))
    assert "Reason: model failure: RuntimeError." in agent.notes(ticket_id)[-1]
    assert "secret detail" not in " ".join(agent.notes(ticket_id))
    assert len(agent.outbox_to(TEAM_EMAIL)) == 1


async def test_a_model_failing_mid_turn_apologises_and_hands_off(agent: Agent) -> None:
    agent.script(
        intent("wismo", order_number="1001"),
        verify("1001"),
        TimeoutError("secret detail: read timed out"),
    )
    cid = await agent.start()

    turn = await agent.say(cid, "where is 1001? ana.silva@example.com")

    assert turn.status == "human_handling"
    assert turn.said()[0].startswith(APOLOGY)
    ticket_id = (await agent.view(cid)).ticket_id
    assert "Reason: model failure: TimeoutError." in agent.notes(ticket_id)[-1]
    assert f"verified shopper {EMAILS['1001']}" in agent.notes(ticket_id)[-1]
    assert_no_internals([m.text for m in (await agent.view(cid)).messages])


async def test_too_many_model_calls_in_a_turn_hand_off(open_agent: Any) -> None:
    async with open_agent(max_model_calls_per_turn=4) as agent:
        agent.script(
            intent("wismo", order_number="1001"),
            verify("1001"),
            call("lookup_order", order_number="1001"),
            call("lookup_order", order_number="1001"),
        )
        cid = await agent.start()

        turn = await agent.say(cid, "where is 1001? ana.silva@example.com")

        assert turn.status == "human_handling"
        assert len(agent.model.calls) == 4
        assert turn.said()[0].startswith(APOLOGY)
        ticket_id = (await agent.view(cid)).ticket_id
        assert "Reason: too many steps without an answer." in agent.notes(ticket_id)[-1]
        agent.model.assert_exhausted()


async def test_the_call_budget_is_per_turn(open_agent: Any) -> None:
    async with open_agent(max_model_calls_per_turn=3) as agent:
        cid = await agent.start()
        for n in range(3):
            agent.script(intent("wismo"), call("lookup_order", order_number=None), f"Answer {n}")
            turn = await agent.say(cid, f"question {n}")
            assert turn.status == "active"
        agent.model.assert_exhausted()


# ---------------------------------------------------------------------- the helpdesk is down


async def test_a_handoff_while_the_helpdesk_is_down_reaches_the_ticket_once_it_recovers(agent: Agent) -> None:
    await agent.inject(vendor="gorgias", kind="error", status=503, remaining=200)
    agent.script(intent("escalation"))
    cid = await agent.start()

    down = await agent.say(cid, "I need a person")

    # The shopper is told the truth (the team will answer here); nothing waited on the helpdesk.
    assert down.status == "human_handling"
    assert down.said()[-1].startswith(HANDOFF_TEXT)
    assert agent.world.gorgias.tickets == {}
    backlog = await agent.runtime.sync.backlog()
    assert backlog.conversations == 1 and backlog.items >= 4
    later = await agent.say(cid, "hello? is anyone there now?")
    assert later.said() == []  # still with the team: the bot stays silent
    await agent.control.delete("/_sandbox/faults")

    await agent.drain()

    view = await agent.view(cid)
    assert view.ticket_id is not None, "nobody will ever see this conversation"
    assert "ai_handover" in agent.tags(view.ticket_id)
    assert "hello? is anyone there now?" in agent.public_texts(view.ticket_id)
    assert len(agent.outbox_to(TEAM_EMAIL)) == 1
    await agent.assert_mirrored_once(cid)
    # A person's reply on the late ticket takes over as usual.
    await agent.human(view.ticket_id, "reply", text="Rosa here, how can I help?")
    assert (await agent.view(cid)).messages[-1].role == "agent"


async def test_a_handoff_whose_delivery_crashed_midway_completes_once(agent: Agent) -> None:
    cid = await track_1001(agent)
    crash_once(agent.runtime.services.tools.notifier, "send_escalation")
    agent.script(intent("escalation"))

    turn = await agent.say(cid, "a person please", drain=False)
    assert turn.status == "human_handling"  # the shopper's turn never waits on the delivery
    with pytest.raises(RuntimeError):
        await agent.drain()  # the worker dies after the ticket was tagged, before the email

    await agent.drain()  # another worker (or the restarted one) finishes the job

    ticket_id = (await agent.view(cid)).ticket_id
    assert sum(n.startswith("Handed over by the AI assistant") for n in agent.notes(ticket_id)) == 1
    assert len(agent.outbox_to(TEAM_EMAIL)) == 1
    assert agent.tags(ticket_id).count("ai_handover") == 1
    await agent.assert_mirrored_once(cid)
    assert (await agent.runtime.sync.backlog()).items == 0


async def test_a_classification_that_does_not_parse_is_not_a_handoff(agent: Agent) -> None:
    """A model answering outside the schema keeps the conversation with the bot (small talk here)."""
    from tests.agent.scripted_model import BadClassification

    cid = await agent.start()
    agent.script(BadClassification(), "Hi! I can help with orders, returns and refunds.")
    turn = await agent.say(cid, "hello there")
    assert turn.said() == ["Hi! I can help with orders, returns and refunds."]
    view = await agent.view(cid)
    assert view.status == "active"
    assert agent.world.sendgrid.outbox == []  # nobody was paged


async def test_a_replayed_human_reply_does_not_reopen_a_handed_back_conversation(agent: Agent) -> None:
    cid = await track_1001(agent)
    ticket_id = await hand_off(agent, cid)
    app = agent.runtime.sandbox_app
    assert app is not None
    send = app.state.webhook_sender
    deliveries: list[dict[str, Any]] = []

    async def recording(url: str, headers: dict[str, str], body: dict[str, Any]) -> int:
        deliveries.append(body)
        status: int = await send(url, headers, body)
        return status

    app.state.webhook_sender = recording
    await agent.human(ticket_id, "reply", text="Rosa here, all sorted.")
    await agent.human(ticket_id, "handback")
    [reply_delivery] = [d for d in deliveries if d.get("event") == "ticket-message-created"]
    before = await agent.view(cid)
    assert before.status == "active"

    handled = await agent.webhook(reply_delivery)  # an attacker or a retry replays it

    assert handled is True
    after = await agent.view(cid)
    assert after.status == "active"
    assert [m.model_dump() for m in after.messages] == [m.model_dump() for m in before.messages]


async def test_a_reply_written_before_the_hand_back_and_delivered_late_is_ignored(agent: Agent) -> None:
    """A webhook for a reply older than the hand-back (delivered late, never seen) cannot re-open a
    takeover; a person writing after the hand-back still takes over."""
    cid = await track_1001(agent)
    ticket_id = await hand_off(agent, cid)
    app = agent.runtime.sandbox_app
    assert app is not None
    send = app.state.webhook_sender
    held: list[dict[str, Any]] = []

    async def holding_replies(url: str, headers: dict[str, str], body: dict[str, Any]) -> int:
        if body.get("event") == "ticket-message-created" and not held:
            held.append(body)  # this delivery is delayed in the network
            return 200
        status: int = await send(url, headers, body)
        return status

    app.state.webhook_sender = holding_replies
    await agent.human(ticket_id, "reply", text="Rosa here: one moment.")
    clock = agent.world.now() + timedelta(minutes=5)
    await agent.control.post("/_sandbox/clock", json={"now": clock.isoformat()})
    await agent.human(ticket_id, "handback")
    assert (await agent.view(cid)).status == "active"

    await agent.webhook(held[0])  # arrives after the hand-back

    view = await agent.view(cid)
    assert view.status == "active"
    assert "Rosa here: one moment." not in [m.text for m in view.messages]
    await agent.control.post("/_sandbox/clock", json={"now": (clock + timedelta(minutes=1)).isoformat()})
    await agent.human(ticket_id, "reply", text="Rosa again, a new question.")
    assert (await agent.view(cid)).status == "human_handling"

"""The approval interrupt: an over-limit refund waits for a person's decision on the helpdesk ticket
(tags `refund-approved` / `refund-denied`, set through the sandbox's `/approve` and `/deny`), and the
outcome reaches the shopper as a pushed message."""

from __future__ import annotations

from decimal import Decimal

import httpx

from agent.cards import RefundCard
from tests.agent.conftest import Agent, call, request_refund_1005
from tests.agent.scripted_model import intent

JACKET = "520000100501"
BACKPACK = "520000100502"


def shopify_refunds(agent: Agent, number: str) -> list[dict[str, object]]:
    refunds: list[dict[str, object]] = agent.order(number).get("refunds", [])
    return refunds


def refunded_amount(agent: Agent, number: str) -> Decimal:
    return sum(
        (
            Decimal(t["amount"])
            for r in agent.order(number).get("refunds", [])
            for t in r.get("transactions", [])
            if t.get("kind") == "refund"
        ),
        Decimal(0),
    )


async def test_over_limit_refund_waits_for_approval_with_a_note_on_the_ticket(agent: Agent) -> None:
    cid = await request_refund_1005(agent)

    view = await agent.view(cid)
    assert view.status == "awaiting_approval"
    assert view.messages[-1].role == "assistant"
    card = view.messages[-1].card
    assert isinstance(card, RefundCard) and card.status == "pending_approval"
    assert shopify_refunds(agent, "1005") == []
    assert agent.world.stripe.refunds == {}
    assert {"ai-handled", "refunds", "refund-approval"} <= set(agent.tags(view.ticket_id))
    [note] = [n for n in agent.notes(view.ticket_id) if n.startswith("Refund approval needed")]
    assert "order #1005" in note and "480.00 USD" in note
    assert "'refund-approved'" in note and "'refund-denied'" in note
    state = await agent.state(cid)
    # The graph asked in its own words; the Gorgias adapter added how its team answers.
    [asked] = [r for r in state["helpdesk"].values() if r["kind"] == "approval_requested"]
    assert note.startswith(asked["text"]) and "refund-" not in asked["text"]
    assert state["pending_approval"]["order_number"] == "1005"
    await agent.assert_mirrored_once(cid)


async def test_shopper_waiting_for_approval_is_answered_without_the_model(agent: Agent) -> None:
    cid = await request_refund_1005(agent)
    calls = len(agent.model.calls)

    turn = await agent.say(cid, "any news on my refund?")

    assert turn.status == "awaiting_approval"
    assert turn.said() == [
        "Your refund request is still with our team for approval. I'll post their decision right here."
    ]
    assert len(agent.model.calls) == calls
    assert shopify_refunds(agent, "1005") == []


async def test_approve_refunds_once_and_pushes_the_outcome(agent: Agent) -> None:
    cid = await request_refund_1005(agent)
    ticket_id = (await agent.view(cid)).ticket_id
    pushed = await agent.subscribe(cid)

    result = await agent.human(ticket_id, "approve")
    await agent.human(ticket_id, "approve")  # a second webhook for the same decision

    assert result["webhook"]["status"] == 200
    assert "refund-approved" in agent.tags(ticket_id)
    assert len(shopify_refunds(agent, "1005")) == 1
    assert refunded_amount(agent, "1005") == Decimal("480.00")
    view = await agent.view(cid)
    assert view.status == "active"
    outcome = view.messages[-1]
    assert outcome.role == "assistant" and outcome.text.startswith("Good news: your refund for order #1005")
    assert isinstance(outcome.card, RefundCard) and outcome.card.amount == "480.00"
    assert [m.id for m in pushed.messages] == [outcome.id]
    assert pushed.statuses == ["active"]
    # both payments of the order (gift card and card) refunded, and the refund noted on the order
    gateways = {t["gateway"]: t["amount"] for t in agent.order("1005")["refunds"][0]["transactions"]}
    assert gateways == {"gift_card": "80.00", "shopify_payments": "400.00"}
    assert "Refund shopify" in agent.order("1005")["note"] and "$480.00" in agent.order("1005")["note"]
    assert agent.public_texts(ticket_id)[-1] == outcome.text
    await agent.assert_mirrored_once(cid)
    pushed.task.cancel()


async def test_deny_refunds_nothing_and_tells_the_shopper(agent: Agent) -> None:
    cid = await request_refund_1005(agent)
    ticket_id = (await agent.view(cid)).ticket_id
    pushed = await agent.subscribe(cid)

    await agent.human(ticket_id, "deny")

    assert "refund-denied" in agent.tags(ticket_id)
    assert shopify_refunds(agent, "1005") == []
    assert agent.world.stripe.refunds == {}
    view = await agent.view(cid)
    assert view.status == "active"
    assert "could not approve it. Nothing was refunded." in view.messages[-1].text
    assert [m.text for m in pushed.messages] == [view.messages[-1].text]
    assert pushed.statuses == ["active"]
    state = await agent.state(cid)
    assert state["pending_approval"] is None
    pushed.task.cancel()


async def test_the_bot_answers_again_after_the_decision(agent: Agent) -> None:
    cid = await request_refund_1005(agent)
    ticket_id = (await agent.view(cid)).ticket_id
    await agent.human(ticket_id, "deny")
    agent.script(intent("other"), "You're welcome!")

    turn = await agent.say(cid, "ok, thanks anyway")

    assert turn.status == "active"
    assert turn.said() == ["You're welcome!"]


async def test_approve_or_deny_on_a_ticket_not_waiting_changes_nothing(agent: Agent) -> None:
    agent.script(intent("other"), "Hello! How can I help?")
    cid = await agent.start()
    await agent.say(cid, "hi")
    ticket_id = (await agent.view(cid)).ticket_id

    await agent.human(ticket_id, "approve")

    view = await agent.view(cid)
    assert view.status == "active"
    assert [m.text for m in view.messages] == ["hi", "Hello! How can I help?"]
    assert agent.world.stripe.refunds == {}


async def test_control_routes_404_for_an_unknown_ticket(agent: Agent) -> None:
    for action in ("approve", "deny"):
        response = await agent.control.post(f"/_sandbox/tickets/424242/{action}")
        assert response.status_code == 404
    delivered = [d for d in agent.world.webhook_deliveries if d["ticket_id"] == 424242]
    assert delivered == []


async def test_an_earlier_approval_does_not_decide_the_next_request(agent: Agent) -> None:
    """Decision tags stay on the ticket: a later denial must not read the old `refund-approved`."""
    cid = await request_refund_1005(agent, line_item_ids=[JACKET])
    ticket_id = (await agent.view(cid)).ticket_id
    await agent.human(ticket_id, "approve")
    assert len(shopify_refunds(agent, "1005")) == 1
    agent.script(
        intent("refunds", order_number="1005"),
        call("issue_refund", order_number="1005", line_item_ids=[BACKPACK], reason="strap broke"),
        "That one needs approval too; I'll let you know.",
    )
    await agent.say(cid, "and the backpack too please")
    waiting = await agent.say(cid, "yes")
    assert waiting.status == "awaiting_approval"

    await agent.human(ticket_id, "deny")

    assert len(shopify_refunds(agent, "1005")) == 1
    assert "could not approve" in (await agent.view(cid)).messages[-1].text


async def test_a_decision_over_real_http_reaches_the_conversation(agent: Agent) -> None:
    """A person approving through the served sandbox URL (the CLI, a notebook) rather than in-process."""
    cid = await request_refund_1005(agent)
    ticket_id = (await agent.view(cid)).ticket_id

    async with httpx.AsyncClient(base_url=agent.runtime.sandbox_url, timeout=10) as http:
        response = await http.post(f"/_sandbox/tickets/{ticket_id}/approve")

    assert response.status_code == 200, response.text[:200]
    assert len(shopify_refunds(agent, "1005")) == 1
    assert (await agent.view(cid)).status == "active"

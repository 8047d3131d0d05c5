"""The confirm interrupt: nothing happens before the shopper says yes, a yes acts exactly once (also
across a retried turn), a no leaves the world untouched, and an unclear answer is handled as a new message."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage, ToolMessage

from tests.agent.conftest import Agent, call, crash_once, verify
from tests.agent.scripted_model import intent


def business_state(agent: Agent) -> dict[str, Any]:
    """Everything but the helpdesk: the store, payments, shipping and email."""
    state = agent.world.snapshot()
    return {k: v for k, v in state.items() if k in ("shopify", "stripe", "easypost", "sendgrid")}


async def ask_to_refund_1009(agent: Agent) -> str:
    agent.script(
        intent("refunds", order_number="1009"),
        verify("1009"),
        call("issue_refund", order_number="1009", line_item_ids=None, reason="did not fit"),
    )
    cid = await agent.start()
    asked = await agent.say(cid, "Refund order 1009 please, grace.lee@example.com", client_message_id="ask")
    assert asked.status == "awaiting_confirmation"
    return cid


async def ask_to_cancel_1004(agent: Agent) -> str:
    agent.script(
        intent("order_change", order_number="1004"),
        verify("1004"),
        call("cancel_order", order_number="1004", reason="changed my mind"),
    )
    cid = await agent.start()
    asked = await agent.say(cid, "Cancel order 1004, dev.patel@example.com")
    assert asked.status == "awaiting_confirmation"
    assert (await agent.view(cid)).status == "awaiting_confirmation"
    return cid


async def test_yes_refunds_once_even_when_the_yes_is_retried(agent: Agent) -> None:
    cid = await ask_to_refund_1009(agent)
    agent.script("Done: $80.97 is on its way back.")

    yes = await agent.say(cid, "yes", client_message_id="yes-1")
    again = await agent.say(cid, "yes", client_message_id="yes-1")  # the widget retried the POST

    assert yes.status == "active"
    assert yes.said() == ["Done: $80.97 is on its way back."]
    assert again.done["replayed"] is True
    assert [m.id for m in again.messages] == [m.id for m in yes.messages]
    assert len(agent.world.stripe.refunds) == 1
    state = await agent.state(cid)
    steps = [e["step"] for e in state["ledger"].values() if e["tool"] == "issue_refund"]
    assert steps.count("refund") == 1 and steps.count("note") == 1  # recorded, so never repeated
    # the confirmation exchange is shown to the shopper but never fed to the model
    view = await agent.view(cid)
    assert [m.text for m in view.messages if m.role == "shopper"] == [
        "Refund order 1009 please, grace.lee@example.com",
        "yes",
    ]
    model_input = agent.model.calls[-1]["messages"]
    assert not any(isinstance(m, HumanMessage) and m.content == "yes" for m in model_input)
    assert isinstance(model_input[-1], ToolMessage) and model_input[-1].status == "success"


async def test_a_turn_that_crashes_after_the_refund_does_not_refund_again_on_retry(agent: Agent) -> None:
    cid = await ask_to_refund_1009(agent)
    agent.script("Done: $80.97 is on its way back.")
    # The database fails to save the step after the refund (its second checkpoint of the turn).
    crash_once(agent.runtime.persistence.checkpointer, "aput", on_call=2)

    failed = await agent.say(cid, "yes", client_message_id="yes-1")

    assert failed.error is not None and failed.error["retryable"] is True
    assert "unexpected failure" not in str(failed.error)
    assert len(agent.world.stripe.refunds) == 1
    # The message is kept (the graph's first checkpoint); no inbox entry says the turn is done.
    assert await agent.runtime.persistence.store.aget(("inbox", cid), "m-yes-1") is None
    assert [m.text for m in (await agent.view(cid)).messages if m.role == "shopper"].count("yes") == 1

    retried = await agent.say(cid, "yes", client_message_id="yes-1")

    assert retried.status == "active"
    assert len(agent.world.stripe.refunds) == 1
    view = await agent.view(cid)
    assert [m.text for m in view.messages if m.role == "shopper"].count("yes") == 1
    assert {"ai-handled", "refunds"} <= set(agent.tags(view.ticket_id))
    assert agent.public_texts(view.ticket_id).count("Done: $80.97 is on its way back.") == 1
    await agent.assert_mirrored_once(cid)


async def test_no_leaves_the_world_untouched_and_the_model_replies(agent: Agent) -> None:
    cid = await ask_to_cancel_1004(agent)
    before = business_state(agent)
    agent.script("No problem, order #1004 stays as it is.")

    turn = await agent.say(cid, "no")

    assert turn.status == "active"
    assert turn.said() == ["No problem, order #1004 stays as it is."]
    assert agent.order("1004")["cancelled_at"] is None
    assert business_state(agent) == before
    # the model learns the call was declined, as the call's result
    declined = agent.model.calls[-1]["messages"][-1]
    assert isinstance(declined, ToolMessage) and declined.name == "cancel_order"
    assert "declined_by_shopper" in str(declined.content)
    # the conversation is still mirrored (the only write)
    view = await agent.view(cid)
    assert agent.public_texts(view.ticket_id)[-1] == "No problem, order #1004 stays as it is."


async def test_an_unclear_answer_is_not_a_yes(agent: Agent) -> None:
    """Neither yes nor no: nothing is done, and the message is handled like any other request."""
    cid = await ask_to_cancel_1004(agent)
    agent.script(
        intent("order_change", order_number="1004"),
        "The gloves can't be cancelled on their own. Shall I cancel the whole order?",
    )

    turn = await agent.say(cid, "hmm, what about just the gloves?")

    assert turn.status == "active"
    assert turn.said() == ["The gloves can't be cancelled on their own. Shall I cancel the whole order?"]
    assert agent.order("1004")["cancelled_at"] is None
    # the model sees the declined call's result, then the shopper's words (a real message)
    *_, result, reply = agent.model.calls[-1]["messages"]
    assert isinstance(result, ToolMessage) and "declined_by_shopper" in str(result.content)
    assert isinstance(reply, HumanMessage) and reply.content == "hmm, what about just the gloves?"
    assert agent.model.calls[-2]["tools"] == ["IntentResult"]


async def test_a_new_confirmation_after_no_then_yes_acts_once(agent: Agent) -> None:
    cid = await ask_to_cancel_1004(agent)
    agent.script(
        "OK, I won't cancel it. Anything else?",
        intent("order_change", order_number="1004"),
        call("cancel_order", order_number="1004", reason="changed my mind again"),
        "Order #1004 is cancelled.",
    )
    await agent.say(cid, "no wait")
    again = await agent.say(cid, "actually, please cancel 1004 after all")
    assert again.status == "awaiting_confirmation"

    done = await agent.say(cid, "yes")

    assert done.said() == ["Order #1004 is cancelled."]
    assert agent.order("1004")["cancelled_at"] is not None
    cancels = [n for n, _ in await agent.tool_calls(cid) if n == "cancel_order"]
    assert cancels == ["cancel_order", "cancel_order"]  # asked twice, done once
    assert [r.status for r in await agent.tool_results(cid) if r.name == "cancel_order"] == [
        "error",
        "success",
    ]

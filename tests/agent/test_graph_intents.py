"""Each intent through the whole agent: classify, the intent's own tools, the reply the shopper sees,
and what changed in the sandbox world (tickets, orders, labels, refunds, emails)."""

from __future__ import annotations

from langchain_core.messages import SystemMessage, ToolMessage

from agent.cards import ConfirmCard, HandoffCard, LabelCard, RefundCard, TrackingCard
from tests.agent.conftest import EMAILS, TEAM_EMAIL, Agent, call, verify
from tests.agent.scripted_model import ToolStep, intent
from tests.agent.test_graph_lookups import ran

WISMO_TOOLS = ["verify_customer", "lookup_order", "get_tracking_status", "escalate_to_human"]
RETURNS_TOOLS = [
    "verify_customer",
    "lookup_order",
    "check_return_eligibility",
    "create_return_label",
    "send_verification_code",
    "check_verification_code",
    "escalate_to_human",
]
REFUNDS_TOOLS = [
    "verify_customer",
    "lookup_order",
    "check_refund_eligibility",
    "issue_refund",
    "send_verification_code",
    "check_verification_code",
    "escalate_to_human",
]
ORDER_CHANGE_TOOLS = [
    "verify_customer",
    "lookup_order",
    "cancel_order",
    "update_shipping_address",
    "send_verification_code",
    "check_verification_code",
    "escalate_to_human",
]
NEW_ADDRESS = {
    "name": None,
    "address1": "500 Harbor Way",
    "address2": "Apt 4",
    "city": "Oakland",
    "province_code": "CA",
    "zip": "94607",
    "country_code": "US",
}


def _untouched(agent: Agent) -> tuple[int, int, int]:
    """Counts of what a read-only conversation must not create: refunds, shipments, emails."""
    world = agent.world
    shopify_refunds = sum(len(o.get("refunds", [])) for o in world.shopify.orders.values())
    return (
        shopify_refunds + len(world.stripe.refunds),
        len(world.easypost.shipments),
        len(world.sendgrid.outbox),
    )


async def test_wismo_verifies_and_answers_with_a_tracking_card(agent: Agent) -> None:
    before = _untouched(agent)
    agent.script(
        intent("wismo", order_number="1001", email=EMAILS["1001"]),
        verify("1001"),
        call("get_tracking_status", order_number="1001"),
        "Your order #1001 is on its way with UPS.",
    )
    cid = await agent.start()

    turn = await agent.say(cid, "Where is my order #1001? ana.silva@example.com")

    assert turn.status == "active"
    assert turn.said("shopper") == ["Where is my order #1001? ana.silva@example.com"]
    assert turn.said() == ["Your order #1001 is on its way with UPS."]
    card = turn.messages[-1].card
    assert isinstance(card, TrackingCard)
    assert card.order_number == "1001"
    assert card.parcels[0].carrier == "UPS"
    assert card.parcels[0].tracking_number == "1Z84F2A90312345678"
    assert "progress" in turn.types and "delta" in turn.types
    # classify (structured output), then the wismo node with only its own tools
    assert [c["tools"] for c in agent.model.calls] == [["IntentResult"], *[WISMO_TOOLS] * 3]
    assert isinstance(agent.model.calls[1]["messages"][0], SystemMessage)
    # the model saw each tool result before answering
    last_input = agent.model.calls[-1]["messages"]
    assert [m.name for m in last_input if isinstance(m, ToolMessage)] == [
        "verify_customer",
        "get_tracking_status",
    ]
    assert await agent.tool_calls(cid) == [
        ("verify_customer", {"email": EMAILS["1001"], "order_number": "1001"}),
        ("get_tracking_status", {"order_number": "1001"}),
    ]
    # The lookups ran inside the wismo node's step: no `tools` step per round, one checkpoint.
    assert await ran(agent, cid) == ["__start__", "classify", "wismo"]
    state = await agent.state(cid)
    assert state["customer"]["email"] == EMAILS["1001"] and state["model_calls"] == 4
    state = await agent.state(cid)
    assert state["customer"]["email"] == EMAILS["1001"]
    assert state["intent"] == "wismo"
    # mirrored to a helpdesk ticket, nothing else touched
    view = await agent.view(cid)
    assert view.customer_email == EMAILS["1001"]
    ticket = agent.ticket(view.ticket_id)
    assert ticket["external_id"] == cid
    assert agent.tags(view.ticket_id) == ["ai-handled", "wismo"]
    assert agent.public_texts(view.ticket_id) == [
        "Where is my order #1001? ana.silva@example.com",
        "Your order #1001 is on its way with UPS.",
    ]
    assert "ai_handover" not in agent.tags(view.ticket_id)
    assert _untouched(agent) == before


async def test_verify_and_track_in_one_message_are_answered_in_one_step(agent: Agent) -> None:
    # What LLMs do with parallel tool calls: the verification runs first, and the tracking call
    # after it in the same step sees the shopper verified.
    agent.script(
        intent("wismo", order_number="1001", email=EMAILS["1001"]),
        ToolStep(
            [
                ("get_tracking_status", {"order_number": "1001"}),
                ("verify_customer", {"email": EMAILS["1001"], "order_number": "1001"}),
            ]
        ),
        "Your order #1001 is on its way with UPS.",
    )
    cid = await agent.start()

    turn = await agent.say(cid, "Where is my order #1001? ana.silva@example.com")

    assert turn.said() == ["Your order #1001 is on its way with UPS."]
    card = turn.messages[-1].card
    assert isinstance(card, TrackingCard)
    assert card.parcels[0].tracking_number == "1Z84F2A90312345678"
    results = {m.name: m for m in agent.model.calls[-1]["messages"] if isinstance(m, ToolMessage)}
    assert results["verify_customer"].status == "success"
    assert results["get_tracking_status"].status == "success"
    assert (await agent.state(cid))["customer"]["email"] == EMAILS["1001"]


async def test_a_failed_verification_in_the_same_message_still_refuses_the_tracking(agent: Agent) -> None:
    before = _untouched(agent)
    agent.script(
        intent("wismo", order_number="1001", email="someone.else@example.com"),
        ToolStep(
            [
                ("verify_customer", {"email": "someone.else@example.com", "order_number": "1001"}),
                ("get_tracking_status", {"order_number": "1001"}),
            ]
        ),
        "Those details don't match an order.",
    )
    cid = await agent.start()

    turn = await agent.say(cid, "Where is my order #1001? someone.else@example.com")

    assert turn.said() == ["Those details don't match an order."]
    assert turn.messages[-1].card is None
    results = {m.name: m for m in agent.model.calls[-1]["messages"] if isinstance(m, ToolMessage)}
    assert results["verify_customer"].status == "error"
    assert results["get_tracking_status"].status == "error"
    assert "1Z84F2A90312345678" not in str(results["get_tracking_status"].content)
    state = await agent.state(cid)
    assert not state.get("customer")
    assert state["verification_attempts"] == 1
    assert _untouched(agent) == before


async def test_returns_label_for_order_1002_after_yes(agent: Agent) -> None:
    shipments = len(agent.world.easypost.shipments)
    agent.script(
        intent("returns", order_number="1002", email=EMAILS["1002"]),
        verify("1002"),
        call("check_return_eligibility", order_number="1002"),
        call("create_return_label", order_number="1002", line_item_ids=None, reason="too small"),
    )
    cid = await agent.start()

    asked = await agent.say(cid, "I'd like to return order 1002, ben.okafor@example.com")

    assert asked.status == "awaiting_confirmation"
    question = asked.messages[-1]
    assert question.role == "assistant" and isinstance(question.card, ConfirmCard)
    assert question.card.items == [
        "1 × Stoneware Mug Set - Set of 4 / Sand",
        "1 × Merino Wool Beanie - Navy",
    ]
    assert "ben.okafor@example.com" in question.text and question.text.endswith("(yes/no)")
    assert len(agent.world.easypost.shipments) == shipments  # nothing bought before yes
    assert agent.outbox_to(EMAILS["1002"]) == []

    agent.script("Done: your return label is in your inbox.")
    done = await agent.say(cid, "yes")

    assert done.status == "active"
    assert done.said() == ["Done: your return label is in your inbox."]
    label = done.messages[-1].card
    assert isinstance(label, LabelCard)
    assert label.order_number == "1002" and label.emailed_to == EMAILS["1002"]
    assert [c["tools"] for c in agent.model.calls[1:]] == [RETURNS_TOOLS] * 4
    # one return shipment with a label, one email to the shopper, a note on the order
    new = [s for s in agent.world.easypost.shipments.values() if s.get("is_return")]
    assert len(new) == 1 and new[0]["postage_label"]["label_url"] == label.label_url
    assert len(agent.world.easypost.shipments) == shipments + 1
    [email] = agent.outbox_to(EMAILS["1002"])
    assert "1002" in email["subject"]
    assert label.tracking_number in (agent.order("1002").get("note") or "")
    view = await agent.view(cid)
    assert {"ai-handled", "returns"} <= set(agent.tags(view.ticket_id))
    await agent.assert_mirrored_once(cid)


async def test_refund_of_stripe_order_1009_goes_through_stripe(agent: Agent) -> None:
    agent.script(
        intent("refunds", order_number="1009"),
        verify("1009"),
        call("check_refund_eligibility", order_number="1009", line_item_ids=None),
        call("issue_refund", order_number="1009", line_item_ids=None, reason="shirt did not fit"),
    )
    cid = await agent.start()

    asked = await agent.say(cid, "I want my money back for order 1009, grace.lee@example.com")

    assert asked.status == "awaiting_confirmation"
    assert isinstance(asked.messages[-1].card, ConfirmCard)
    assert asked.messages[-1].card.amount == "80.97"
    assert "$80.97" in asked.messages[-1].text or "80.97" in asked.messages[-1].text
    assert agent.world.stripe.refunds == {}

    agent.script("Refunded $80.97 to your card.")
    done = await agent.say(cid, "yes please")

    assert done.status == "active"
    card = done.messages[-1].card
    assert isinstance(card, RefundCard) and card.amount == "80.97" and card.status == "refunded"
    [refund] = agent.world.stripe.refunds.values()
    assert refund["amount"] == 8097
    assert refund["metadata"]["order_number"] == "1009"
    assert refund["metadata"]["conversation_id"] == cid
    assert agent.order("1009").get("refunds", []) == []  # the platform did not refund it too
    assert refund["id"] in (agent.order("1009").get("note") or "")
    assert [c["tools"] for c in agent.model.calls[1:]] == [REFUNDS_TOOLS] * 4


async def test_cancel_order_1004_before_it_ships(agent: Agent) -> None:
    agent.script(
        intent("order_change", order_number="1004"),
        verify("1004"),
        call("cancel_order", order_number="1004", reason="ordered the wrong size"),
    )
    cid = await agent.start()

    asked = await agent.say(cid, "Please cancel order 1004, dev.patel@example.com")

    assert asked.status == "awaiting_confirmation"
    card = asked.messages[-1].card
    assert isinstance(card, ConfirmCard) and card.amount == "354.00"
    assert card.items == ["1 × Alpine Down Jacket - Black / M", "1 × Leather Work Gloves - L"]
    assert agent.order("1004")["cancelled_at"] is None

    agent.script("Order #1004 is cancelled and $354.00 is on its way back.")
    done = await agent.say(cid, "yes")

    assert done.status == "active"
    assert isinstance(done.messages[-1].card, RefundCard) and done.messages[-1].card.status == "cancelled"
    order = agent.order("1004")
    assert order["cancelled_at"] is not None
    assert order["financial_status"] in ("refunded", "voided")
    assert [c["tools"] for c in agent.model.calls[1:]] == [ORDER_CHANGE_TOOLS] * 3
    view = await agent.view(cid)
    assert {"ai-handled", "order_change"} <= set(agent.tags(view.ticket_id))


async def test_change_shipping_address_of_order_1004(agent: Agent) -> None:
    agent.script(
        intent("order_change", order_number="1004"),
        verify("1004"),
        call("update_shipping_address", order_number="1004", address=NEW_ADDRESS),
    )
    cid = await agent.start()

    asked = await agent.say(cid, "Can you ship 1004 to my new place? dev.patel@example.com")

    assert asked.status == "awaiting_confirmation"
    card = asked.messages[-1].card
    assert isinstance(card, ConfirmCard) and card.address is not None
    assert "500 Harbor Way" in card.address and "Oakland" in card.address
    assert "500 Harbor Way" in asked.messages[-1].text
    old_address = dict(agent.order("1004")["shipping_address"])
    assert old_address["address1"] != "500 Harbor Way"

    agent.script("Done, order #1004 will go to 500 Harbor Way.")
    done = await agent.say(cid, "yes, that's right")

    assert done.status == "active"
    address = agent.order("1004")["shipping_address"]
    assert address["address1"] == "500 Harbor Way" and address["address2"] == "Apt 4"
    assert address["city"] == "Oakland" and address["zip"] == "94607"
    assert address["name"] == old_address["name"]  # kept when the model gives none
    assert agent.order("1004")["cancelled_at"] is None


async def test_other_answers_without_order_tools(agent: Agent) -> None:
    before = _untouched(agent)
    agent.script(intent("other"), "We ship to the US and Canada.")
    cid = await agent.start()

    turn = await agent.say(cid, "Do you ship to Canada?")

    assert turn.status == "active"
    assert turn.said() == ["We ship to the US and Canada."]
    assert agent.model.calls[1]["tools"] == ["escalate_to_human"]
    view = await agent.view(cid)
    assert view.intent == "other"
    assert view.customer_email is None
    assert agent.tags(view.ticket_id) == ["ai-handled", "other"]
    # an unverified shopper's ticket gets a placeholder customer, never a guessed one
    assert agent.ticket(view.ticket_id)["customer"]["email"].endswith("@chat.invalid")
    assert _untouched(agent) == before


async def test_escalation_hands_off_without_an_intent_model_call(agent: Agent) -> None:
    agent.script(intent("escalation"))
    cid = await agent.start()

    turn = await agent.say(cid, "I want to speak to a person, now.")

    assert turn.status == "human_handling"
    assert "handoff" in turn.types
    assert len(agent.model.calls) == 1
    [reply] = turn.messages[1:]
    assert "support team" in reply.text
    view = await agent.view(cid)
    assert view.status == "human_handling"
    # The ticket is filed by the outbox after the reply, so the card cannot name it yet.
    assert reply.card == HandoffCard(ticket_id=None)
    assert view.ticket_id is not None
    assert {"ai-handled", "ai_handover", "escalation"} <= set(agent.tags(view.ticket_id))
    [_opened, note] = agent.notes(view.ticket_id)
    assert "Reason: shopper asked for a person" in note
    assert "I want to speak to a person, now." in note
    [email] = agent.outbox_to(TEAM_EMAIL)
    assert view.ticket_id is not None and view.ticket_id in email["subject"]


async def test_a_request_plus_asking_for_a_person_goes_straight_to_a_person(agent: Agent) -> None:
    agent.script(intent("wismo", additional_intents=["escalation"], order_number="1001"))
    cid = await agent.start()

    turn = await agent.say(cid, "where is 1001? actually just get me a human")

    assert turn.status == "human_handling"
    assert len(agent.model.calls) == 1  # the wismo node never ran
    assert (await agent.state(cid))["pending_intents"] == []
    view = await agent.view(cid)
    assert {"ai_handover", "wismo"} <= set(agent.tags(view.ticket_id))


async def test_two_requests_in_one_message_are_handled_in_turn(agent: Agent) -> None:
    agent.script(
        intent("wismo", additional_intents=["refunds"], order_number="1009"),
        verify("1009"),
        call("get_tracking_status", order_number="1009"),
        "Order #1009 was delivered.",
        call("check_refund_eligibility", order_number="1009", line_item_ids=None),
        "You can get up to $80.97 back for order #1009. Shall I start the refund?",
    )
    cid = await agent.start()

    turn = await agent.say(cid, "Where is order 1009 and can I get a refund? grace.lee@example.com")

    assert turn.status == "active"
    assert turn.said() == [
        "Order #1009 was delivered.",
        "You can get up to $80.97 back for order #1009. Shall I start the refund?",
    ]
    tools = [c["tools"] for c in agent.model.calls[1:]]
    assert tools == [WISMO_TOOLS] * 3 + [REFUNDS_TOOLS] * 2
    state = await agent.state(cid)
    assert state["intent"] == "refunds"
    assert state["pending_intents"] == []
    assert agent.world.stripe.refunds == {}


async def test_each_request_of_a_message_tags_the_ticket(agent: Agent) -> None:
    """The ticket carries every intent the conversation had, also when two came in one message."""
    agent.script(
        intent("wismo", additional_intents=["refunds"], order_number="1009"),
        verify("1009"),
        "Order #1009 was delivered.",
        "You can get up to $80.97 back for order #1009.",
    )
    cid = await agent.start()

    await agent.say(cid, "Where is order 1009 and can I get a refund? grace.lee@example.com")

    view = await agent.view(cid)
    assert {"ai-handled", "wismo", "refunds"} <= set(agent.tags(view.ticket_id))


async def test_details_only_message_continues_the_request_under_way(agent: Agent) -> None:
    agent.script(
        intent("wismo"),
        "Sure, what is your order number and email?",
        intent("other", order_number="1001", email=EMAILS["1001"], confidence=0.4),
        verify("1001"),
        call("get_tracking_status", order_number="1001"),
        "It's with UPS.",
    )
    cid = await agent.start()
    await agent.say(cid, "where's my stuff")

    turn = await agent.say(cid, "1001, ana.silva@example.com")

    assert turn.said() == ["It's with UPS."]
    assert agent.model.calls[-1]["tools"] == WISMO_TOOLS
    assert (await agent.view(cid)).intent == "wismo"


async def test_refusal_is_fed_back_to_the_model(agent: Agent) -> None:
    agent.script(
        intent("refunds", order_number="1001"),
        verify("1001"),
        call("check_refund_eligibility", order_number="1005", line_item_ids=None),
        "I can only help with orders that are yours.",
    )
    cid = await agent.start()

    turn = await agent.say(cid, "refund order 1005 please, I'm ana.silva@example.com with 1001")

    assert turn.said() == ["I can only help with orders that are yours."]
    results = await agent.tool_results(cid)
    assert results[-1].status == "error"
    assert '"ok":false' in str(results[-1].content)
    assert "not_your_order" in str(results[-1].content) or "order_not_found" in str(results[-1].content)
    assert agent.world.stripe.refunds == {}
    assert agent.order("1005").get("refunds", []) == []


async def test_tool_calls_in_one_message_run_together_and_show_their_card(agent: Agent) -> None:
    """Two tool calls in one model message: both run, and the reply carries the tracking card in the
    turn's events exactly as `get` shows it later (the widget must not need a reload to see it)."""
    agent.script(
        intent("wismo", order_number="1001"),
        verify("1001"),
        ToolStep(
            [("lookup_order", {"order_number": "1001"}), ("get_tracking_status", {"order_number": "1001"})]
        ),
        "Here is your order.",
    )
    cid = await agent.start()

    turn = await agent.say(cid, "status of 1001? ana.silva@example.com")

    assert turn.said() == ["Here is your order."]
    results = await agent.tool_results(cid)
    assert [r.name for r in results] == ["verify_customer", "lookup_order", "get_tracking_status"]
    assert all(r.status == "success" for r in results)
    stored = (await agent.view(cid)).messages[-1].card
    assert isinstance(stored, TrackingCard)
    assert turn.messages[-1].card == stored

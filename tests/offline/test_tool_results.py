"""How the offline model reads tool results: into the tools' own result models, branching on
`Refusal.code` (never on message text), and calmly when a result is garbled or unknown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from agent.intents import Intent, openai_schemas
from agent.offline.chat_model import OfflineChatModel
from agent.offline.conversation import Conversation, read_answer
from tools.identity import CustomerVerified
from tools.langchain import result_text
from tools.orders import OrderDetails, OrderView
from tools.results import Refusal, RefusalCode, ToolResult, refuse
from tools.tracking import TrackingResult

ANA = CustomerVerified(email="ana.silva@example.com", first_name="Ana", order_number="1001")


@pytest.fixture(scope="module")
def model(offline_fixtures_dir: Path) -> OfflineChatModel:
    return OfflineChatModel(fixtures_dir=offline_fixtures_dir)


def exchange(
    name: str, args: dict[str, Any], answer: ToolResult | Refusal | str, n: int
) -> list[BaseMessage]:
    """One tool call and its answer, as the graph's ToolNode writes them."""
    call_id = f"call-{n}"
    text = answer if isinstance(answer, str) else result_text(answer)
    return [
        AIMessage("", tool_calls=[{"name": name, "args": args, "id": call_id}]),
        ToolMessage(text, tool_call_id=call_id, name=name),
    ]


def verified(text: str) -> list[BaseMessage]:
    """A shopper message, then Ana verified (as verify_customer answered)."""
    return [
        HumanMessage(text),
        *exchange("verify_customer", {"email": ANA.email, "order_number": "1001"}, ANA, 0),
    ]


def answer(model: OfflineChatModel, intent: Intent, messages: list[BaseMessage]) -> AIMessage:
    reply = model.bind_tools(openai_schemas(intent)).invoke(messages)
    assert isinstance(reply, AIMessage)
    return reply


def unfulfilled(number: str) -> OrderDetails:
    return OrderDetails(
        order=OrderView.model_validate(
            {
                "order_number": number,
                "placed_at": "2026-11-19T10:00:00Z",
                "status": "unfulfilled",
                "currency": "USD",
                "total": "200.00",
                "refunded": "0.00",
                "items": [],
                "shipments": [],
            }
        )
    )


# -- reading ----------------------------------------------------------------------------------


def test_a_result_is_read_into_the_tools_result_model() -> None:
    tracking = TrackingResult(order_number="1004", shipped=False, parcels=[], cancelled=True)
    assert read_answer("get_tracking_status", result_text(tracking)) == tracking
    refusal = read_answer("get_tracking_status", result_text(refuse("not_verified", "m")))
    assert isinstance(refusal, Refusal)
    assert refusal.code == "not_verified"


@pytest.mark.parametrize(
    ("tool", "text"),
    [
        ("get_tracking_status", "502 Bad Gateway"),
        ("get_tracking_status", '{"ok": true, "orders": []}'),  # lookup_order's answer, not tracking's
        ("get_tracking_status", '{"ok": false, "code": "made_up", "message": "m"}'),
        ("lookup_order", "[]"),
        ("some_other_tool", '{"ok": true, "anything": 1}'),
    ],
)
def test_an_answer_the_tool_does_not_give_reads_as_nothing(tool: str, text: str) -> None:
    assert read_answer(tool, text) is None


def test_an_unknown_tools_refusal_is_still_a_refusal() -> None:
    refusal = read_answer("some_other_tool", result_text(refuse("vendor_unavailable", "down")))
    assert isinstance(refusal, Refusal)


def test_outcomes_know_their_order_from_the_answer_or_the_arguments() -> None:
    conversation = Conversation.from_messages(
        [
            HumanMessage("cancel 1004 and 1005"),
            *exchange("lookup_order", {"order_number": "1004"}, unfulfilled("1004"), 1),
            *exchange(
                "cancel_order",
                {"order_number": "1004", "reason": "r"},
                refuse("already_fulfilled", "m", order_number="1004"),
                2,
            ),
            *exchange("lookup_order", {"order_number": "1005"}, "garbled", 3),
        ]
    )
    looked_up, cancel, garbled = conversation.outcomes
    assert (looked_up.ok, looked_up.code, looked_up.order_number) == (True, None, "1004")
    assert looked_up.success(OrderDetails) == unfulfilled("1004")
    assert looked_up.success(TrackingResult) is None
    assert (cancel.ok, cancel.code, cancel.order_number) == (False, "already_fulfilled", "1004")
    assert (garbled.ok, garbled.code, garbled.result, garbled.order_number) == (False, None, None, "1005")


# -- a refusal's code decides, its message never does ----------------------------------------


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("already_fulfilled", ["shipped"]),
        ("already_cancelled", ["already cancelled", "already been cancelled"]),
        ("order_not_found", ["couldn't find", "doesn't show up"]),
    ],
)
def test_the_refusal_code_chooses_the_reply_whatever_the_message_says(
    model: OfflineChatModel, code: RefusalCode, words: list[str]
) -> None:
    # The same misleading message for every code: only the code may steer the reply.
    refusal = refuse(code, "Order #1004 was refunded and cancelled and shipped.", order_number="1004")
    messages = [
        *verified("please cancel order 1004"),
        *exchange("lookup_order", {"order_number": "1004"}, unfulfilled("1004"), 1),
        *exchange("cancel_order", {"order_number": "1004", "reason": "requested"}, refusal, 2),
    ]
    reply = answer(model, "order_change", messages)
    assert not reply.tool_calls
    text = str(reply.content)
    assert "#1004" in text
    assert any(w in text for w in words), text
    assert "refunded" not in text


def test_a_wrong_code_reply_reads_the_tries_left_from_the_refusal_details(model: OfflineChatModel) -> None:
    wrong = refuse(
        "verification_code_wrong", "Ignore this: 99 tries.", order_number="1004", attempts_left="2"
    )
    messages = [
        *verified("cancel order 1004"),
        *exchange(
            "cancel_order", {"order_number": "1004", "reason": "r"}, refuse("step_up_required", "m"), 1
        ),
        *exchange(
            "send_verification_code",
            {"order_number": "1004"},
            refuse("step_up_not_needed", "m", order_number="1004"),
            2,
        ),
        HumanMessage("[verification code]"),
        *exchange("check_verification_code", {"order_number": "1004"}, wrong, 3),
    ]
    text = str(answer(model, "order_change", messages).content)
    assert "2" in text
    assert "99" not in text


def test_the_items_a_refund_refusal_names_come_from_its_data_not_its_message(model: OfflineChatModel) -> None:
    refusal = refuse(
        "final_sale",
        "Nothing on this order can be refunded. (internal: do not mention the clearance sale)",
        excluded=["Polarized Sunglasses - Tortoise: Final-sale items cannot be returned."],
        order_number="1006",
    )
    messages = [
        *verified("I want a refund for order 1006"),
        *exchange("lookup_order", {"order_number": "1006"}, unfulfilled("1006"), 1),
        *exchange("check_refund_eligibility", {"order_number": "1006", "line_item_ids": None}, refusal, 2),
    ]
    text = str(answer(model, "refunds", messages).content)
    assert "- Polarized Sunglasses - Tortoise: Final-sale items cannot be returned." in text
    assert "internal" not in text


# -- garbled answers are handled, not trusted -------------------------------------------------


def test_a_garbled_tracking_answer_gets_an_apology_not_a_crash_or_a_loop(model: OfflineChatModel) -> None:
    messages = [
        *verified("where is order 1001?"),
        *exchange("get_tracking_status", {"order_number": "1001"}, "<html>502 Bad Gateway</html>", 1),
    ]
    reply = answer(model, "wismo", messages)
    assert not reply.tool_calls  # the same call is not repeated
    assert "#1001" in str(reply.content)
    assert "502" not in str(reply.content)


def test_a_result_of_the_wrong_shape_is_not_read_as_success(model: OfflineChatModel) -> None:
    # A label "created" with none of a label's fields: nothing is claimed to the shopper.
    messages = [
        *verified("I want to return order 1001"),
        *exchange(
            "create_return_label", {"order_number": "1001", "line_item_ids": ["x"], "reason": "r"}, "{}", 1
        ),
    ]
    reply = answer(model, "returns", messages)
    assert not reply.tool_calls
    text = str(reply.content)
    assert "#1001" in text
    assert "label" not in text.lower()  # no "here is your label", and nothing invented


def test_a_garbled_verification_answer_does_not_verify(model: OfflineChatModel) -> None:
    messages = [
        HumanMessage("where is order 1001? ana.silva@example.com"),
        *exchange("verify_customer", {"email": ANA.email, "order_number": "1001"}, '{"ok": true}', 1),
    ]
    reply = answer(model, "wismo", messages)
    assert not reply.tool_calls  # no tracking for a shopper nobody verified
    assert "email" in str(reply.content)

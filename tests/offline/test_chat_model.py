"""`OfflineChatModel` as a LangChain chat model: binding, structured output, streaming, usage,
determinism. The dialogue itself is covered in `test_flows.py`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.utils.function_calling import convert_to_openai_tool

from agent.intents import openai_schemas, tool_specs
from agent.offline.chat_model import OfflineChatModel
from agent.state import IntentResult
from tools.context import ToolDeps
from tools.identity import CustomerVerified
from tools.langchain import to_langchain_tool
from tools.tracking import GetTrackingStatusArgs

CONTEXT = "\n\n## Context\n- Intent: {intent}\n- Shopper: {shopper}\n- Today: 2026-11-20\n"


def system(intent: str, verified: str | None = None) -> SystemMessage:
    shopper = f"verified as {verified}" if verified else "not verified"
    return SystemMessage("You are a support assistant." + CONTEXT.format(intent=intent, shopper=shopper))


@pytest.fixture(scope="module")
def model(offline_fixtures_dir: Path) -> OfflineChatModel:
    return OfflineChatModel(fixtures_dir=offline_fixtures_dir)


def wismo_conversation() -> list[BaseMessage]:
    return [system("wismo"), HumanMessage("where is my order #1001? I'm ana.silva@example.com")]


def test_it_is_a_chat_model_named_offline(model: OfflineChatModel) -> None:
    assert model._llm_type == "offline"
    reply = model.invoke("hello!")
    assert isinstance(reply, AIMessage)
    assert isinstance(reply.content, str)
    assert reply.content
    assert not reply.tool_calls  # nothing bound, nothing called
    assert reply.response_metadata["model_name"] == "offline"


# -- structured output ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("where's my package, it's been a week", "wismo"),
        ("i want to send back the mug, it's chipped", "returns"),
        ("when do I get my money back for #1005?", "refunds"),
        ("please cancel order 1004", "order_change"),
        ("let me talk to a real person", "escalation"),
        ("hi!", "other"),
    ],
)
def test_structured_output_classifies_the_latest_message(
    model: OfflineChatModel, text: str, intent: str
) -> None:
    structured = model.with_structured_output(IntentResult)
    result = structured.invoke([SystemMessage("classify"), HumanMessage(text)])
    assert isinstance(result, IntentResult)
    assert result.intent == intent
    assert 0 <= result.confidence <= 1


@pytest.mark.parametrize(
    "text",
    [
        "My attorney will sue you. Refund order 1002 now.",
        "Refund order 1002 or I'll dispute the charge with my bank.",
        "I'm filing a chargeback on order 1002 unless you refund me today",
        "Cancel order 1004 or I'll call my lawyer",
    ],
)
def test_a_legal_or_chargeback_threat_is_an_escalation_whatever_else_it_asks(
    model: OfflineChatModel, text: str
) -> None:
    structured = model.with_structured_output(IntentResult)
    result = structured.invoke([SystemMessage("classify"), HumanMessage(text)])
    assert isinstance(result, IntentResult)
    assert result.intent == "escalation"
    assert result.additional_intents == []


def test_structured_output_extracts_order_number_and_email(model: OfflineChatModel) -> None:
    result = model.with_structured_output(IntentResult).invoke(
        [SystemMessage("classify"), HumanMessage("Where is order #1001? my email is Ana.Silva@example.com")]
    )
    assert isinstance(result, IntentResult)
    assert (result.order_number, result.email) == ("1001", "Ana.Silva@example.com")
    assert result.additional_intents == []


def test_structured_output_with_raw_message_and_tool_call(model: OfflineChatModel) -> None:
    out = model.with_structured_output(IntentResult, include_raw=True).invoke(
        [HumanMessage("track 1001 pls")]
    )
    assert isinstance(out, dict)
    raw = out["raw"]
    assert isinstance(raw, AIMessage)
    assert [c["name"] for c in raw.tool_calls] == ["IntentResult"]
    assert out["parsing_error"] is None
    assert isinstance(out["parsed"], IntentResult)


def test_structured_output_from_a_dict_schema(model: OfflineChatModel) -> None:
    schema = convert_to_openai_tool(IntentResult)
    out = model.with_structured_output(schema).invoke([HumanMessage("I want a refund")])
    assert isinstance(out, dict)
    assert out["intent"] == "refunds"


def test_structured_output_json_schema_method_returns_json_text(model: OfflineChatModel) -> None:
    structured = model.with_structured_output(IntentResult, method="json_schema", include_raw=True)
    out = structured.invoke([HumanMessage("cancel my order #1004 please")])
    assert isinstance(out, dict)
    raw = out["raw"]
    assert isinstance(raw, AIMessage)
    assert not raw.tool_calls
    assert json.loads(str(raw.content))["intent"] == "order_change"
    parsed = out["parsed"]
    assert isinstance(parsed, IntentResult)
    assert parsed.order_number == "1004"


def test_a_follow_up_keeps_the_request_under_way(model: OfflineChatModel) -> None:
    structured = model.with_structured_output(IntentResult)
    history: list[BaseMessage] = [
        HumanMessage("I want to return the sunglasses from 1006"),
        AIMessage(
            "The sunglasses are final sale, but the bottle can be returned. Shall I create a label for it?"
        ),
    ]
    for answer in ("yes please", "ok the bottle then", "no thanks"):
        result = structured.invoke([*history, HumanMessage(answer)])
        assert isinstance(result, IntentResult)
        assert result.intent == "returns", answer
    ask = [HumanMessage("where's my order?"), AIMessage("What's the email address and the order number?")]
    result = structured.invoke([*ask, HumanMessage("ana.silva@example.com #1001")])
    assert isinstance(result, IntentResult)
    assert (result.intent, result.order_number, result.email) == ("wismo", "1001", "ana.silva@example.com")
    result = structured.invoke([*ask, HumanMessage("what's the weather in Paris?")])
    assert isinstance(result, IntentResult)
    assert result.intent == "other"


def test_two_requests_give_an_additional_intent(model: OfflineChatModel) -> None:
    result = model.with_structured_output(IntentResult).invoke(
        [HumanMessage("where is #1001 and also I want a refund for #1009")]
    )
    assert isinstance(result, IntentResult)
    assert result.intent == "wismo"
    assert result.additional_intents == ["refunds"]
    assert result.order_number == "1001"


# -- binding tools ----------------------------------------------------------------------------


def test_bind_tools_with_the_real_langchain_tools(model: OfflineChatModel) -> None:
    # Building the StructuredTools needs no live services; they are never run here.
    deps = cast(ToolDeps, None)
    tools = [to_langchain_tool(spec, deps) for spec in tool_specs("wismo")]
    reply = model.bind_tools(tools).invoke(wismo_conversation())
    assert isinstance(reply, AIMessage)
    assert reply.tool_calls == [
        {
            "name": "verify_customer",
            "args": {"email": "ana.silva@example.com", "order_number": "1001"},
            "id": reply.tool_calls[0]["id"],
            "type": "tool_call",
        }
    ]


def test_bind_tools_with_schema_dicts_and_pydantic_classes(model: OfflineChatModel) -> None:
    by_dicts = model.bind_tools(openai_schemas("wismo")).invoke(wismo_conversation())
    assert isinstance(by_dicts, AIMessage)
    assert by_dicts.tool_calls[0]["name"] == "verify_customer"
    # A pydantic class keeps its own name; the policy only calls tools it was given.
    by_class = model.bind_tools([GetTrackingStatusArgs]).invoke(wismo_conversation())
    assert isinstance(by_class, AIMessage)
    assert not by_class.tool_calls


def test_only_bound_tools_are_ever_called(model: OfflineChatModel) -> None:
    only_escalation = [s for s in openai_schemas("wismo") if s["function"]["name"] == "escalate_to_human"]
    reply = model.bind_tools(only_escalation).invoke(wismo_conversation())
    assert isinstance(reply, AIMessage)
    assert not reply.tool_calls
    assert reply.content


# -- ids, determinism, usage ------------------------------------------------------------------


def run_tracking(model: OfflineChatModel) -> list[AIMessage]:
    bound = model.bind_tools(openai_schemas("wismo"))
    messages = wismo_conversation()
    first = bound.invoke(messages)
    assert isinstance(first, AIMessage)
    verified = CustomerVerified(email="ana.silva@example.com", first_name="Ana", order_number="1001")
    messages += [
        first,
        ToolMessage(
            verified.model_dump_json(), tool_call_id=first.tool_calls[0]["id"] or "", name="verify_customer"
        ),
    ]
    second = bound.invoke([system("wismo", "ana.silva@example.com"), *messages[1:]])
    assert isinstance(second, AIMessage)
    return [first, second]


def test_answers_and_tool_call_ids_are_deterministic_and_unique(
    model: OfflineChatModel, offline_fixtures_dir: Path
) -> None:
    one = run_tracking(model)
    two = run_tracking(OfflineChatModel(fixtures_dir=offline_fixtures_dir))
    assert [m.tool_calls for m in one] == [m.tool_calls for m in two]
    ids = [c["id"] for m in one for c in m.tool_calls]
    assert len(ids) == len(set(ids)) == 2
    assert all(isinstance(i, str) and i.startswith("call_") for i in ids)
    assert one[1].tool_calls[0]["name"] == "get_tracking_status"


def test_usage_metadata_counts_whitespace_tokens(model: OfflineChatModel) -> None:
    messages: list[BaseMessage] = [SystemMessage("one two three"), HumanMessage("hi there")]
    reply = model.invoke(messages)
    assert isinstance(reply, AIMessage)
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["input_tokens"] == 5
    assert reply.usage_metadata["output_tokens"] == len(str(reply.content).split())
    assert reply.usage_metadata["total_tokens"] == 5 + reply.usage_metadata["output_tokens"]
    call = model.bind_tools(openai_schemas("wismo")).invoke(wismo_conversation())
    assert isinstance(call, AIMessage)
    assert call.usage_metadata is not None
    assert call.usage_metadata["output_tokens"] == len(json.dumps(call.tool_calls[0]["args"]).split())


# -- streaming and async ----------------------------------------------------------------------


def aggregate(chunks: list[Any]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert isinstance(total, AIMessageChunk)
    return total


def test_streaming_yields_text_in_pieces_then_a_last_chunk(model: OfflineChatModel) -> None:
    messages: list[BaseMessage] = [system("other"), HumanMessage("what's the capital of France?")]
    whole = model.invoke(messages)
    chunks = list(model.stream(messages))
    assert len(chunks) >= 3
    assert "".join(str(c.content) for c in chunks) == whole.content
    last = chunks[-1]
    assert isinstance(last, AIMessageChunk)
    assert last.usage_metadata == whole.usage_metadata
    assert last.chunk_position == "last"


def test_streaming_a_tool_call_gives_the_same_call(model: OfflineChatModel) -> None:
    bound = model.bind_tools(openai_schemas("wismo"))
    whole = bound.invoke(wismo_conversation())
    merged = aggregate(list(bound.stream(wismo_conversation())))
    assert isinstance(whole, AIMessage)
    assert merged.tool_calls == whole.tool_calls
    assert merged.usage_metadata == whole.usage_metadata


async def test_async_invoke_and_stream_match_sync(model: OfflineChatModel) -> None:
    bound = model.bind_tools(openai_schemas("wismo"))
    whole = bound.invoke(wismo_conversation())
    assert isinstance(whole, AIMessage)
    reply = await bound.ainvoke(wismo_conversation())
    assert isinstance(reply, AIMessage)
    assert reply.tool_calls == whole.tool_calls
    chunks = [c async for c in bound.astream(wismo_conversation())]
    assert aggregate(chunks).tool_calls == whole.tool_calls
    result = await model.with_structured_output(IntentResult).ainvoke([HumanMessage("refund #1009 please")])
    assert isinstance(result, IntentResult)
    assert result.intent == "refunds"


async def test_a_fresh_model_loads_its_classifier_off_the_event_loop(offline_fixtures_dir: Path) -> None:
    fresh = OfflineChatModel(fixtures_dir=offline_fixtures_dir)
    reply = await fresh.ainvoke([HumanMessage("thanks, bye")])
    assert isinstance(reply, AIMessage)
    assert reply.content
    assert fresh.classifier() is fresh.classifier()

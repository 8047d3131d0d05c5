"""`LangChainChatBackend`: a LangChain chat model served over the sandbox's OpenAI endpoint.

Unit tests hand the backend validated requests and look at what the model received; end-to-end
tests run `langchain_openai.ChatOpenAI` (and so the official `openai` SDK) against the sandbox on
loopback, with a small deterministic model of our own behind it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import openai
import pytest
from fastapi import FastAPI
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.tool import tool_call
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, Field

from agent.intents import openai_schemas
from agent.offline.chat_model import OfflineChatModel
from agent.state import IntentResult as IntentState
from demo.openai_compat import LangChainChatBackend, attach_chat_backend, count_tokens
from sandbox.openai_protocol import ChatCompletionRequest
from sandbox.world import World
from tests.conftest import LiveSandbox
from tools.identity import CustomerVerified

KEY = "sk-sandbox"
LOOKUP_TOOL = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Find an order by number and email.",
        "parameters": {
            "type": "object",
            "properties": {"order_number": {"type": "string"}, "email": {"type": "string"}},
            "required": ["order_number", "email"],
        },
    },
}
USER = {"role": "user", "content": "Where is my order #1001? I'm ana@example.com"}


class ScriptedChatModel(BaseChatModel):
    """Deterministic: calls a bound tool (the forced one, else the first) unless it was just answered,
    then reports the tool result; without tools it says `reply`. Records what it was given."""

    reply: str = "How can I help?"
    tool_arguments: dict[str, dict[str, Any]] = Field(default_factory=dict)
    report_usage: bool = True
    seen: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: str | None = None, **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self.bind(
            tools=[convert_to_openai_tool(tool) for tool in tools], tool_choice=tool_choice, **kwargs
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tools: list[dict[str, Any]] = kwargs.get("tools") or []
        choice = kwargs.get("tool_choice")
        self.seen.append({"messages": messages, "tools": tools, "tool_choice": choice, "stop": stop})
        last = messages[-1]
        if isinstance(last, ToolMessage):
            message = AIMessage(content=f"{last.name} returned {last.content}")
        elif tools:
            name = choice if choice not in (None, "auto", "any") else tools[0]["function"]["name"]
            arguments = self.tool_arguments.get(name, {})
            message = AIMessage(
                content="", tool_calls=[tool_call(name=name, args=arguments, id=f"call_{len(self.seen)}")]
            )
        else:
            message = AIMessage(content=self.reply)
        if self.report_usage:
            message.usage_metadata = {"input_tokens": 40, "output_tokens": 8, "total_tokens": 48}
        return ChatResult(generations=[ChatGeneration(message=message)])


def merged(chunks: Sequence[BaseMessage]) -> AIMessageChunk:
    """Streamed chunks added up, as LangChain does."""
    total: AIMessageChunk | None = None
    for chunk in chunks:
        assert isinstance(chunk, AIMessageChunk)
        total = chunk if total is None else total + chunk
    assert total is not None
    return total


def request(**fields: Any) -> ChatCompletionRequest:
    return ChatCompletionRequest.model_validate({"model": "offline", "messages": [USER], **fields})


# --------------------------------------------------------------------------- OpenAI -> LangChain


async def test_messages_become_langchain_messages() -> None:
    model = ScriptedChatModel()
    broken_call = {
        "id": "call_9",
        "type": "function",
        "function": {"name": "lookup_order", "arguments": "{oops"},
    }
    good_call = {
        "id": "call_1",
        "type": "function",
        "function": {
            "name": "lookup_order",
            "arguments": '{"order_number": "1001", "email": "ana@example.com"}',
        },
    }

    result = await LangChainChatBackend(model).complete(
        request(
            messages=[
                {"role": "system", "content": "Be brief."},
                {"role": "developer", "content": "Never guess."},
                {
                    "role": "user",
                    "content": [{"type": "text", "text": "Where is "}, {"type": "text", "text": "#1001?"}],
                },
                {"role": "assistant", "content": None, "tool_calls": [good_call, broken_call]},
                {"role": "tool", "tool_call_id": "call_1", "content": '{"status": "in_transit"}'},
                {"role": "tool", "tool_call_id": "call_9", "content": "bad arguments"},
            ]
        )
    )

    system, developer, user, assistant, tool, broken_tool = model.seen[0]["messages"]
    assert isinstance(system, SystemMessage)
    assert system.content == "Be brief."
    assert isinstance(developer, SystemMessage)
    assert isinstance(user, HumanMessage)
    assert user.content == "Where is #1001?"
    assert isinstance(assistant, AIMessage)
    assert assistant.tool_calls == [
        {
            "name": "lookup_order",
            "args": {"order_number": "1001", "email": "ana@example.com"},
            "id": "call_1",
            "type": "tool_call",
        }
    ]
    assert [(c["id"], c["args"]) for c in assistant.invalid_tool_calls] == [("call_9", "{oops")]
    assert isinstance(tool, ToolMessage)
    assert (tool.tool_call_id, tool.name, tool.content) == (
        "call_1",
        "lookup_order",
        '{"status": "in_transit"}',
    )
    assert isinstance(broken_tool, ToolMessage)
    assert broken_tool.name == "lookup_order"
    assert result.content == "lookup_order returned bad arguments"
    assert result.finish_reason == "stop"


@pytest.mark.parametrize(
    ("tool_choice", "bound_choice"),
    [
        (None, None),
        ("auto", None),
        ("required", "any"),
        ({"type": "function", "function": {"name": "lookup_order"}}, "lookup_order"),
    ],
)
async def test_tools_are_bound_with_langchains_tool_choice(
    tool_choice: Any, bound_choice: str | None
) -> None:
    model = ScriptedChatModel(
        tool_arguments={"lookup_order": {"order_number": "1001", "email": "ana@example.com"}}
    )
    fields: dict[str, Any] = {"tools": [LOOKUP_TOOL]}
    if tool_choice is not None:
        fields["tool_choice"] = tool_choice

    result = await LangChainChatBackend(model).complete(request(**fields))

    [seen] = model.seen
    assert [tool["function"]["name"] for tool in seen["tools"]] == ["lookup_order"]
    assert seen["tools"][0]["function"]["parameters"] == LOOKUP_TOOL["function"]["parameters"]  # type: ignore[index]
    assert seen["tool_choice"] == bound_choice
    assert result.content is None
    assert result.finish_reason == "tool_calls"
    [call] = result.tool_calls
    assert (call.id, call.name) == ("call_1", "lookup_order")
    assert json.loads(call.arguments) == {"order_number": "1001", "email": "ana@example.com"}


async def test_tool_choice_none_binds_no_tools() -> None:
    model = ScriptedChatModel(reply="Happy to help.")

    result = await LangChainChatBackend(model).complete(request(tools=[LOOKUP_TOOL], tool_choice="none"))

    assert model.seen[0]["tools"] == []
    assert (result.content, result.tool_calls, result.finish_reason) == ("Happy to help.", [], "stop")


async def test_json_schema_response_format_is_a_forced_tool_answered_as_content() -> None:
    model = ScriptedChatModel(tool_arguments={"IntentResult": {"intent": "wismo", "confidence": 0.97}})
    schema = {
        "type": "object",
        "properties": {"intent": {"type": "string"}, "confidence": {"type": "number"}},
        "required": ["intent", "confidence"],
        "additionalProperties": False,
    }

    result = await LangChainChatBackend(model).complete(
        request(
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "IntentResult", "schema": schema, "strict": True},
            }
        )
    )

    [seen] = model.seen
    assert [(tool["function"]["name"], tool["function"]["parameters"]) for tool in seen["tools"]] == [
        ("IntentResult", schema)
    ]
    assert seen["tool_choice"] == "any"
    assert result.content is not None
    assert json.loads(result.content) == {"intent": "wismo", "confidence": 0.97}
    assert (result.tool_calls, result.finish_reason) == ([], "stop")


async def test_json_schema_beside_tools_leaves_the_choice_to_the_model() -> None:
    model = ScriptedChatModel(tool_arguments={"lookup_order": {"order_number": "1001", "email": "a@b.de"}})
    response_format = {"type": "json_schema", "json_schema": {"name": "Reply", "schema": {"type": "object"}}}

    result = await LangChainChatBackend(model).complete(
        request(tools=[LOOKUP_TOOL], response_format=response_format)
    )

    assert [tool["function"]["name"] for tool in model.seen[0]["tools"]] == ["lookup_order", "Reply"]
    assert model.seen[0]["tool_choice"] is None
    assert [call.name for call in result.tool_calls] == ["lookup_order"]


@pytest.mark.parametrize(
    ("reply", "content"),
    [
        ('{"answer": 42}', '{"answer": 42}'),
        ("Sure thing", '{"response": "Sure thing"}'),
        ("[1]", '{"response": "[1]"}'),
    ],
)
async def test_json_object_response_format_always_gives_a_json_object(reply: str, content: str) -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage(content=reply)]))

    result = await LangChainChatBackend(model).complete(
        request(
            messages=[{"role": "user", "content": "Answer in JSON"}], response_format={"type": "json_object"}
        )
    )

    assert result.content == content


async def test_usage_is_reported_or_estimated() -> None:
    reported = await LangChainChatBackend(ScriptedChatModel()).complete(request())
    estimated = await LangChainChatBackend(
        ScriptedChatModel(reply="It ships today.", report_usage=False)
    ).complete(request(tools=[LOOKUP_TOOL], tool_choice="none"))

    assert reported.usage.model_dump() == {"prompt_tokens": 40, "completion_tokens": 8, "total_tokens": 48}
    assert estimated.usage.completion_tokens == count_tokens("It ships today.") == 4
    assert estimated.usage.prompt_tokens > count_tokens(
        USER["content"]
    )  # message overhead and tools count too
    assert estimated.usage.total_tokens == estimated.usage.prompt_tokens + estimated.usage.completion_tokens


async def test_stop_sequences_reach_the_model() -> None:
    model = ScriptedChatModel()

    await LangChainChatBackend(model).complete(request(stop="END"))

    assert model.seen[0]["stop"] == ["END"]


def test_attach_chat_backend_serves_the_model_under_its_names(sandbox_app: FastAPI) -> None:
    backend = attach_chat_backend(sandbox_app, ScriptedChatModel(), model_ids=("offline", "offline-2"))

    assert sandbox_app.state.chat_backend is backend
    assert backend.model_ids == ("offline", "offline-2")


# --------------------------------------------------------------------------- ChatOpenAI end to end


@pytest.fixture
def scripted(live_sandbox: LiveSandbox, monkeypatch: pytest.MonkeyPatch) -> ScriptedChatModel:
    model = ScriptedChatModel(
        reply="Hello! How can I help with your order?",
        tool_arguments={
            "lookup_order": {"order_number": "1001", "email": "ana@example.com"},
            "IntentResult": {"intent": "wismo", "confidence": 0.97, "order_number": "1001"},
        },
    )
    monkeypatch.setattr(live_sandbox.app.state, "chat_backend", LangChainChatBackend(model), raising=False)
    return model


@pytest.fixture
async def chat_openai(live_sandbox: LiveSandbox) -> AsyncIterator[ChatOpenAI]:
    # As agent.models.build_model builds it for `--model openai:offline --openai-base-url ...`, but with
    # an HTTP client of this test's own: ChatOpenAI's default one is cached per base URL across
    # instances, and would outlive the event loop of the test that created it.
    async with openai.DefaultAsyncHttpxClient() as http_client:
        yield ChatOpenAI(
            model="offline",
            api_key=KEY,
            base_url=f"{live_sandbox.url}/openai/v1",
            temperature=0,
            timeout=10,
            max_retries=0,
            http_async_client=http_client,
        )


class lookup_order(BaseModel):  # a tool's schema: the class name is the tool name
    """Find an order by number and email."""

    order_number: str
    email: str


class IntentResult(BaseModel):
    intent: str
    confidence: float
    order_number: str | None


async def test_chat_openai_text_with_usage(
    chat_openai: ChatOpenAI, scripted: ScriptedChatModel, world: World
) -> None:
    before = world.digest()

    reply = await chat_openai.ainvoke([SystemMessage("Be brief."), HumanMessage("hi")])

    assert reply.content == "Hello! How can I help with your order?"
    assert reply.usage_metadata is not None
    assert (reply.usage_metadata["input_tokens"], reply.usage_metadata["output_tokens"]) == (40, 8)
    assert reply.response_metadata["finish_reason"] == "stop"
    assert [type(m) for m in scripted.seen[0]["messages"]] == [SystemMessage, HumanMessage]
    assert world.digest() == before


async def test_chat_openai_tool_loop(chat_openai: ChatOpenAI, scripted: ScriptedChatModel) -> None:
    model = chat_openai.bind_tools([lookup_order])
    history: list[BaseMessage] = [HumanMessage("Where is my order #1001? I'm ana@example.com")]

    first = await model.ainvoke(history)

    assert isinstance(first, AIMessage)
    assert [(c["name"], c["args"], c["id"]) for c in first.tool_calls] == [
        ("lookup_order", {"order_number": "1001", "email": "ana@example.com"}, "call_1")
    ]
    history += [first, ToolMessage('{"status": "in_transit"}', tool_call_id="call_1")]

    second = await model.ainvoke(history)

    assert second.content == 'lookup_order returned {"status": "in_transit"}'
    assert second.tool_calls == []
    sent_tool = scripted.seen[1]["messages"][-1]
    assert isinstance(sent_tool, ToolMessage)
    assert sent_tool.name == "lookup_order"  # looked up from the assistant's call


async def test_chat_openai_streams_text_and_tool_calls(
    chat_openai: ChatOpenAI, scripted: ScriptedChatModel
) -> None:
    text_chunks = [chunk async for chunk in chat_openai.astream("hi", stream_usage=True)]
    tool_chunks = [chunk async for chunk in chat_openai.bind_tools([lookup_order]).astream("where is #1001")]

    text = merged(text_chunks)
    assert len(text_chunks) > 3
    assert text.content == "Hello! How can I help with your order?"
    assert text.usage_metadata is not None
    assert text.usage_metadata["total_tokens"] == 48
    calls = merged(tool_chunks)
    assert [(c["name"], c["args"]) for c in calls.tool_calls] == [
        ("lookup_order", {"order_number": "1001", "email": "ana@example.com"})
    ]


async def test_chat_openai_structured_output(chat_openai: ChatOpenAI, scripted: ScriptedChatModel) -> None:
    classify = chat_openai.with_structured_output(IntentResult)

    result = await classify.ainvoke("Where is my order #1001?")

    assert result == IntentResult(intent="wismo", confidence=0.97, order_number="1001")
    [seen] = scripted.seen
    assert seen["tool_choice"] == "any"
    assert [tool["function"]["name"] for tool in seen["tools"]] == ["IntentResult"]


async def test_chat_openai_with_the_wrong_key_fails_with_authentication_error(
    chat_openai: ChatOpenAI, scripted: ScriptedChatModel
) -> None:
    model = ChatOpenAI(
        model="offline",
        api_key="sk-nope",
        base_url=chat_openai.openai_api_base,
        max_retries=0,
        http_async_client=chat_openai.http_async_client,
    )

    with pytest.raises(openai.AuthenticationError):
        await model.ainvoke("hi")
    assert scripted.seen == []


# --------------------------------------------------------------------------- the real offline model


@pytest.fixture(scope="module")
def offline_model(fixtures_dir: Path) -> OfflineChatModel:
    model = OfflineChatModel(fixtures_dir=fixtures_dir, cache_dir=None)
    model.classifier()  # trained once for the module, outside any test's timing
    return model


@pytest.fixture
def served_offline(
    live_sandbox: LiveSandbox, offline_model: OfflineChatModel, monkeypatch: pytest.MonkeyPatch
) -> OfflineChatModel:
    monkeypatch.setattr(
        live_sandbox.app.state, "chat_backend", LangChainChatBackend(offline_model), raising=False
    )
    return offline_model


SHOPPER = [
    SystemMessage("You are the support agent of Harbor & Pine."),
    HumanMessage("Where is my order #1001? My email is ana.silva@example.com"),
]
# Canned tool results, as tools.langchain.result_text renders them.
TOOL_RESULTS = {
    "verify_customer": CustomerVerified(email="ana.silva@example.com", first_name="Ana", order_number="1001"),
}


async def test_offline_model_classifies_the_same_over_openai(
    chat_openai: ChatOpenAI, served_offline: OfflineChatModel
) -> None:
    direct = await served_offline.with_structured_output(IntentState).ainvoke(SHOPPER)
    served = await chat_openai.with_structured_output(IntentState).ainvoke(SHOPPER)

    assert isinstance(served, IntentState)
    assert served == direct
    assert (served.intent, served.order_number, served.email) == ("wismo", "1001", "ana.silva@example.com")


async def test_offline_model_tool_loop_is_the_same_over_openai(
    chat_openai: ChatOpenAI, served_offline: OfflineChatModel
) -> None:
    tools = openai_schemas("wismo")
    direct_model = served_offline.bind_tools(tools)
    served_model = chat_openai.bind_tools(tools)
    history: list[BaseMessage] = list(SHOPPER)
    called: list[str] = []

    for _ in range(3):  # verify, then whatever the policy does next with that result
        direct = await direct_model.ainvoke(history)
        served = await served_model.ainvoke(history)
        assert isinstance(served, AIMessage)
        assert served.content == direct.content
        assert [(c["name"], c["args"], c["id"]) for c in served.tool_calls] == [
            (c["name"], c["args"], c["id"]) for c in direct.tool_calls
        ]
        assert served.usage_metadata is not None
        assert direct.usage_metadata is not None
        assert served.usage_metadata["total_tokens"] == direct.usage_metadata["total_tokens"]
        if not served.tool_calls:
            break
        history.append(served)
        for call in served.tool_calls:
            called.append(call["name"])
            result = TOOL_RESULTS.get(call["name"])
            content = result.model_dump_json(exclude_none=True) if result else '{"ok": true}'
            history.append(ToolMessage(content, tool_call_id=call["id"] or ""))

    assert called[0] == "verify_customer"
    assert len(called) > 1  # the verified result moved the conversation on to another tool


async def test_offline_model_streams_the_same_over_openai(
    chat_openai: ChatOpenAI, served_offline: OfflineChatModel
) -> None:
    conversation: list[BaseMessage] = [HumanMessage("hi, thanks for the help earlier!")]

    direct = await served_offline.ainvoke(conversation)
    streamed = merged([chunk async for chunk in chat_openai.astream(conversation)])

    assert streamed.content == direct.content
    assert isinstance(streamed.content, str)
    assert streamed.content

"""The sandbox's OpenAI-compatible Chat Completions endpoint, driven by the official `openai` SDK over
loopback (and by raw HTTP for malformed requests), with a scripted `ChatBackend` standing in for
the model so only the protocol is under test."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import openai
import pytest
from fastapi import FastAPI
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam
from pydantic import BaseModel

from sandbox.openai_protocol import ChatCompletionRequest, ChatCompletionResult, ToolCallResult, Usage
from sandbox.world import World
from tests.conftest import LiveSandbox

KEY = "sk-sandbox"
USER: ChatCompletionMessageParam = {"role": "user", "content": "Where is my order #1001?"}
LOOKUP_TOOL: ChatCompletionToolParam = {
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


@dataclass
class ScriptedBackend:
    """Answers with the queued results, in order, and keeps every request it was handed."""

    replies: list[ChatCompletionResult] = field(default_factory=list)
    model_ids: tuple[str, ...] = ("offline",)
    requests: list[ChatCompletionRequest] = field(default_factory=list)
    failure: Exception | None = None

    async def complete(self, request: ChatCompletionRequest) -> ChatCompletionResult:
        self.requests.append(request)
        if self.failure is not None:
            raise self.failure
        return self.replies.pop(0)


def text(content: str, prompt_tokens: int = 12, completion_tokens: int = 7) -> ChatCompletionResult:
    return ChatCompletionResult(content=content, usage=Usage.of(prompt_tokens, completion_tokens))


def calls(*tool_calls: ToolCallResult) -> ChatCompletionResult:
    return ChatCompletionResult(tool_calls=list(tool_calls), usage=Usage.of(20, 9))


@pytest.fixture
def backend(live_sandbox: LiveSandbox, monkeypatch: pytest.MonkeyPatch) -> ScriptedBackend:
    scripted = ScriptedBackend()
    monkeypatch.setattr(live_sandbox.app.state, "chat_backend", scripted, raising=False)
    return scripted


@pytest.fixture
async def client(live_sandbox: LiveSandbox) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(
        base_url=f"{live_sandbox.url}/openai/v1", api_key=KEY, max_retries=0, timeout=10
    ) as sdk:
        yield sdk


def created_at(world: World) -> int:
    return int(world.clock.timestamp())


# --------------------------------------------------------------------------- completions


async def test_text_completion(
    client: AsyncOpenAI, backend: ScriptedBackend, live_sandbox: LiveSandbox, world: World
) -> None:
    before = world.digest()
    backend.replies.append(text("Order #1001 shipped with USPS yesterday."))

    completion = await client.chat.completions.create(
        model="offline",
        messages=[{"role": "system", "content": "You are a support agent."}, USER],
        temperature=0,
        max_completion_tokens=200,
        seed=7,  # accepted and ignored, as by any OpenAI-compatible server
    )

    assert completion.id.startswith("chatcmpl-")
    assert completion.object == "chat.completion"
    assert completion.created == created_at(world)
    assert completion.model == "offline"
    [choice] = completion.choices
    assert choice.message.role == "assistant"
    assert choice.message.content == "Order #1001 shipped with USPS yesterday."
    assert choice.message.tool_calls is None
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (12, 7)
    assert completion.usage.total_tokens == 19
    [request] = backend.requests
    assert [(m.role, m.content) for m in request.messages] == [
        ("system", "You are a support agent."),
        ("user", "Where is my order #1001?"),
    ]
    assert (request.temperature, request.output_token_limit, request.stream) == (0, 200, False)
    assert world.digest() == before  # answering a chat changes no store state


async def test_content_parts_reach_the_backend_as_text(client: AsyncOpenAI, backend: ScriptedBackend) -> None:
    backend.replies.append(text("Hello!"))

    await client.chat.completions.create(
        model="offline",
        messages=[
            {"role": "user", "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}]}
        ],
    )

    assert backend.requests[0].messages[0].content == "Hi there"


async def test_tool_call_round_trip(client: AsyncOpenAI, backend: ScriptedBackend) -> None:
    backend.replies += [
        calls(
            ToolCallResult(
                name="lookup_order", arguments='{"order_number": "1001", "email": "ana@example.com"}'
            )
        ),
        text("Your order #1001 is in transit."),
    ]

    first = await client.chat.completions.create(
        model="offline",
        messages=[USER],
        tools=[LOOKUP_TOOL],
        tool_choice={"type": "function", "function": {"name": "lookup_order"}},
    )

    message = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls"
    assert message.content is None
    assert message.tool_calls is not None
    [call] = message.tool_calls
    assert call.type == "function"
    assert call.id.startswith("call_")  # the backend gave none: the endpoint assigns one
    assert call.function.name == "lookup_order"
    assert json.loads(call.function.arguments) == {"order_number": "1001", "email": "ana@example.com"}
    sent = backend.requests[0]
    assert sent.tools is not None
    assert [tool.function.name for tool in sent.tools] == ["lookup_order"]
    assert sent.tool_choice is not None
    assert not isinstance(sent.tool_choice, str)
    assert sent.tool_choice.function.name == "lookup_order"

    second = await client.chat.completions.create(
        model="offline",
        messages=[
            USER,
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.function.name, "arguments": call.function.arguments},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": call.id, "content": '{"status": "in_transit"}'},
        ],
        tools=[LOOKUP_TOOL],
    )

    assert second.choices[0].message.content == "Your order #1001 is in transit."
    history = backend.requests[1].messages
    assert [m.role for m in history] == ["user", "assistant", "tool"]
    assert history[1].tool_calls is not None
    assert history[1].tool_calls[0].id == call.id
    assert history[2].tool_call_id == call.id


async def test_streaming_text_with_usage(client: AsyncOpenAI, backend: ScriptedBackend, world: World) -> None:
    reply = "Your parcel is with USPS,\nexpected on Friday. "
    backend.replies.append(text(reply, 30, 11))

    stream = await client.chat.completions.create(
        model="offline",
        messages=[USER],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]

    assert {chunk.id for chunk in chunks} == {chunks[0].id}
    assert all(
        chunk.object == "chat.completion.chunk" and chunk.created == created_at(world) for chunk in chunks
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) > 3  # really streamed in pieces
    assert "".join(pieces) == reply
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish == ["stop"]
    usage_chunk = chunks[-1]
    assert usage_chunk.choices == []
    assert usage_chunk.usage is not None
    assert (usage_chunk.usage.prompt_tokens, usage_chunk.usage.completion_tokens) == (30, 11)
    assert backend.requests[0].include_usage_in_stream


async def test_streaming_without_usage_has_no_usage_chunk(
    client: AsyncOpenAI, backend: ScriptedBackend
) -> None:
    backend.replies.append(text("Hello!"))

    stream = await client.chat.completions.create(model="offline", messages=[USER], stream=True)
    chunks = [chunk async for chunk in stream]

    assert all(chunk.usage is None and chunk.choices for chunk in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


async def test_streaming_tool_calls_reassemble(client: AsyncOpenAI, backend: ScriptedBackend) -> None:
    first_args = {
        "order_number": "1001",
        "email": "ana@example.com",
        "note": "long enough to be split in pieces",
    }
    backend.replies.append(
        calls(
            ToolCallResult(id="call_a", name="lookup_order", arguments=json.dumps(first_args)),
            ToolCallResult(
                id="call_b", name="lookup_order", arguments='{"order_number": "1002", "email": "b@c.de"}'
            ),
        )
    )

    stream = await client.chat.completions.create(
        model="offline",
        messages=[USER],
        tools=[LOOKUP_TOOL],
        stream=True,
    )
    chunks = [chunk async for chunk in stream]

    assembled: dict[int, dict[str, Any]] = {}
    pieces_per_call: dict[int, int] = {}
    for chunk in chunks:
        for delta in chunk.choices[0].delta.tool_calls or []:
            entry = assembled.setdefault(delta.index, {"id": None, "name": None, "arguments": ""})
            if delta.id:
                assert entry["id"] is None  # id and name come once, first
                entry["id"] = delta.id
            if delta.function and delta.function.name:
                entry["name"] = delta.function.name
            if delta.function and delta.function.arguments:
                entry["arguments"] += delta.function.arguments
                pieces_per_call[delta.index] = pieces_per_call.get(delta.index, 0) + 1
    assert [assembled[i]["id"] for i in (0, 1)] == ["call_a", "call_b"]
    assert {assembled[i]["name"] for i in (0, 1)} == {"lookup_order"}
    assert json.loads(assembled[0]["arguments"]) == first_args
    assert json.loads(assembled[1]["arguments"]) == {"order_number": "1002", "email": "b@c.de"}
    assert pieces_per_call[0] > 1  # arguments arrive in pieces, as from OpenAI
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


class IntentResult(BaseModel):
    intent: str
    confidence: float
    order_number: str | None


async def test_response_format_json_schema_is_parsed(client: AsyncOpenAI, backend: ScriptedBackend) -> None:
    backend.replies.append(text('{"intent": "wismo", "confidence": 0.97, "order_number": "1001"}'))

    completion = await client.chat.completions.parse(
        model="offline",
        messages=[USER],
        response_format=IntentResult,
    )

    assert completion.choices[0].message.parsed == IntentResult(
        intent="wismo", confidence=0.97, order_number="1001"
    )
    response_format = backend.requests[0].response_format
    assert response_format is not None
    assert response_format.type == "json_schema"
    assert response_format.json_schema is not None
    assert response_format.json_schema.name == "IntentResult"
    assert response_format.json_schema.strict is True
    assert set(response_format.json_schema.schema_["properties"]) == {"intent", "confidence", "order_number"}


async def test_models_are_listed(client: AsyncOpenAI, backend: ScriptedBackend, world: World) -> None:
    listed = [model async for model in client.models.list()]
    assert [(model.id, model.object, model.created) for model in listed] == [
        ("offline", "model", created_at(world))
    ]
    assert (await client.models.retrieve("offline")).id == "offline"
    with pytest.raises(openai.NotFoundError):
        await client.models.retrieve("gpt-4o")


# --------------------------------------------------------------------------- errors


async def test_wrong_key_is_rejected(live_sandbox: LiveSandbox, backend: ScriptedBackend) -> None:
    async with AsyncOpenAI(
        base_url=f"{live_sandbox.url}/openai/v1", api_key="sk-wrong", max_retries=0
    ) as sdk:
        with pytest.raises(openai.AuthenticationError) as raised:
            await sdk.chat.completions.create(model="offline", messages=[USER])

    assert raised.value.status_code == 401
    assert raised.value.code == "invalid_api_key"
    assert raised.value.type == "invalid_request_error"
    assert backend.requests == []


async def test_unknown_model_is_404(client: AsyncOpenAI, backend: ScriptedBackend) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        await client.chat.completions.create(model="gpt-4o", messages=[USER])

    assert raised.value.code == "model_not_found"
    assert "`gpt-4o` does not exist" in raised.value.message
    assert backend.requests == []


async def test_sdk_sees_bad_request(client: AsyncOpenAI, backend: ScriptedBackend) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        await client.chat.completions.create(model="offline", messages=[USER], n=2)

    assert raised.value.param == "n"
    assert backend.requests == []


async def test_without_backend_answers_503(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as raised:
        await client.chat.completions.create(model="offline", messages=[USER])

    assert raised.value.status_code == 503
    assert "offline model is not attached" in raised.value.message
    assert isinstance(raised.value.body, dict)
    assert set(raised.value.body) == {"message", "type", "param", "code"}


async def test_backend_failure_is_an_openai_500_without_details(
    client: AsyncOpenAI, backend: ScriptedBackend
) -> None:
    backend.failure = RuntimeError("private conversation text")

    with pytest.raises(openai.InternalServerError) as raised:
        await client.chat.completions.create(model="offline", messages=[USER])

    assert raised.value.status_code == 500
    assert "private conversation text" not in raised.value.message


async def add_fault(live_sandbox: LiveSandbox, **fault: Any) -> None:
    async with httpx.AsyncClient(base_url=live_sandbox.url, timeout=5) as control:
        response = await control.post("/_sandbox/faults", json={"vendor": "openai", **fault})
        response.raise_for_status()


async def test_injected_rate_limit_raises(
    client: AsyncOpenAI, backend: ScriptedBackend, live_sandbox: LiveSandbox
) -> None:
    await add_fault(live_sandbox, kind="rate_limit", retry_after=7, route="/chat/completions")

    with pytest.raises(openai.RateLimitError) as raised:
        await client.chat.completions.create(model="offline", messages=[USER])

    assert raised.value.status_code == 429
    assert raised.value.response.headers["retry-after"] == "7.0"
    assert backend.requests == []
    assert live_sandbox.world.faults == []  # used up


async def test_injected_rate_limit_is_retried_after_retry_after(
    live_sandbox: LiveSandbox, backend: ScriptedBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    async def record_wait(
        self: AsyncOpenAI, *, retries_taken: int, max_retries: int, options: Any, response: Any
    ) -> None:
        headers = response.headers if response is not None else None
        waits.append(self._calculate_retry_timeout(max_retries - retries_taken, options, headers))

    # The SDK's own retry loop runs; only its sleep is replaced, so no test waits.
    monkeypatch.setattr(AsyncOpenAI, "_sleep_for_retry", record_wait)
    await add_fault(live_sandbox, kind="rate_limit", retry_after=3, remaining=2)
    backend.replies.append(text("Hello!"))

    async with AsyncOpenAI(base_url=f"{live_sandbox.url}/openai/v1", api_key=KEY, max_retries=2) as sdk:
        completion = await sdk.chat.completions.create(model="offline", messages=[USER])

    assert completion.choices[0].message.content == "Hello!"
    assert waits == [3.0, 3.0]
    assert len(backend.requests) == 1


async def test_injected_server_error_then_recovery(
    client: AsyncOpenAI, backend: ScriptedBackend, live_sandbox: LiveSandbox
) -> None:
    await add_fault(live_sandbox, kind="error", status=502)
    backend.replies.append(text("Back again."))

    with pytest.raises(openai.InternalServerError) as raised:
        await client.chat.completions.create(model="offline", messages=[USER])
    completion = await client.chat.completions.create(model="offline", messages=[USER])

    assert raised.value.status_code == 502
    assert completion.choices[0].message.content == "Back again."


# --------------------------------------------------------------------------- request validation (raw HTTP)


@pytest.fixture
async def raw(sandbox_app: FastAPI) -> AsyncIterator[tuple[httpx.AsyncClient, ScriptedBackend]]:
    scripted = ScriptedBackend()
    sandbox_app.state.chat_backend = scripted
    transport = httpx.ASGITransport(app=sandbox_app)
    headers = {"Authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sandbox/openai/v1", headers=headers
    ) as http:
        yield http, scripted


def body(**overrides: Any) -> dict[str, Any]:
    return {"model": "offline", "messages": [USER], **overrides}


CALL = {"id": "call_1", "type": "function", "function": {"name": "lookup_order", "arguments": "{}"}}
INVALID_REQUESTS: list[tuple[str, dict[str, Any], str | None, str]] = [
    ("no model", {"messages": [USER]}, "model", "missing_required_parameter"),
    ("no messages", body(messages=[]), "messages", "invalid_value"),
    (
        "content of a wrong type",
        body(messages=[{"role": "user", "content": 3}]),
        "messages[0].content",
        "invalid_type",
    ),
    (
        "user without content",
        body(messages=[{"role": "user"}]),
        "messages[0].content",
        "missing_required_parameter",
    ),
    ("unknown role", body(messages=[{"role": "robot", "content": "x"}]), "messages[0].role", "invalid_value"),
    (
        "image part",
        body(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]),
        "messages[0].content",
        "invalid_value",
    ),
    (
        "tool message without a call",
        body(messages=[USER, {"role": "tool", "tool_call_id": "call_1", "content": "{}"}]),
        "messages[1].role",
        "invalid_value",
    ),
    (
        "tool call never answered",
        body(messages=[USER, {"role": "assistant", "tool_calls": [CALL]}, USER]),
        "messages[1].role",
        "invalid_value",
    ),
    (
        "tool message without tool_call_id",
        body(messages=[USER, {"role": "assistant", "tool_calls": [CALL]}, {"role": "tool", "content": "{}"}]),
        "messages[2].tool_call_id",
        "missing_required_parameter",
    ),
    ("tool_choice without tools", body(tool_choice="required"), "tool_choice", "invalid_value"),
    (
        "tool_choice of a wrong shape",
        body(tools=[LOOKUP_TOOL], tool_choice="sometimes"),
        "tool_choice",
        "invalid_value",
    ),
    (
        "tool_choice naming an undeclared tool",
        body(tools=[LOOKUP_TOOL], tool_choice={"type": "function", "function": {"name": "refund_order"}}),
        "tool_choice",
        "invalid_value",
    ),
    (
        "bad tool name",
        body(tools=[{"type": "function", "function": {"name": "look up"}}]),
        "tools[0].function.name",
        "invalid_value",
    ),
    ("n above one", body(n=3), "n", "invalid_value"),
    ("temperature out of range", body(temperature=2.5), "temperature", "invalid_value"),
    ("max_tokens below one", body(max_tokens=0), "max_tokens", "invalid_value"),
    (
        "stream_options without stream",
        body(stream_options={"include_usage": True}),
        "stream_options",
        "invalid_value",
    ),
    (
        "json_object without the word json",
        body(response_format={"type": "json_object"}),
        "messages",
        "invalid_value",
    ),
    (
        "json_schema without its schema",
        body(response_format={"type": "json_schema"}),
        "response_format.json_schema",
        "missing_required_parameter",
    ),
    (
        "unknown response format",
        body(response_format={"type": "xml"}),
        "response_format.type",
        "invalid_value",
    ),
]


@pytest.mark.parametrize(
    ("payload", "param", "code"),
    [case[1:] for case in INVALID_REQUESTS],
    ids=[case[0] for case in INVALID_REQUESTS],
)
async def test_invalid_requests_are_400_naming_the_parameter(
    raw: tuple[httpx.AsyncClient, ScriptedBackend], payload: dict[str, Any], param: str | None, code: str
) -> None:
    http, scripted = raw

    response = await http.post("/chat/completions", json=payload)

    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)
    assert error["message"]
    assert scripted.requests == []


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b""])
async def test_body_that_is_not_a_json_object_is_400(
    raw: tuple[httpx.AsyncClient, ScriptedBackend], content: bytes
) -> None:
    http, scripted = raw

    response = await http.post(
        "/chat/completions", content=content, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert scripted.requests == []


async def test_missing_key_is_401_before_the_body_is_read(
    raw: tuple[httpx.AsyncClient, ScriptedBackend],
) -> None:
    http, scripted = raw

    response = await http.post("/chat/completions", content=b"{not json", headers={"Authorization": ""})

    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "message": "Incorrect API key provided.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }
    assert scripted.requests == []


async def test_raw_stream_is_server_sent_events_ending_in_done(
    raw: tuple[httpx.AsyncClient, ScriptedBackend],
) -> None:
    http, scripted = raw
    scripted.replies.append(text("Hi there"))

    response = await http.post("/chat/completions", json=body(stream=True))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [line for line in response.text.split("\n\n") if line]
    assert all(event.startswith("data: ") for event in events)
    assert events[-1] == "data: [DONE]"
    first = json.loads(events[0].removeprefix("data: "))
    assert first["choices"][0] == {
        "index": 0,
        "delta": {"role": "assistant", "content": ""},
        "logprobs": None,
        "finish_reason": None,
    }
    final = json.loads(events[-2].removeprefix("data: "))
    assert final["choices"][0]["delta"] == {}
    assert final["choices"][0]["finish_reason"] == "stop"

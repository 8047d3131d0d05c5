"""Serve a LangChain chat model over the sandbox's OpenAI-compatible endpoint.

`LangChainChatBackend` implements `sandbox.openai_protocol.ChatBackend`: it turns an OpenAI Chat
Completions request into LangChain messages, binds the request's tools, runs the model and turns
the `AIMessage` back into a protocol-neutral result, which `sandbox/vendors/openai_api.py` renders
on the wire. With the offline model attached (`attach_chat_backend`), `--model openai:offline
--openai-base-url <sandbox>/openai/v1` drives the agent through the real `openai` and
`langchain-openai` client code with no key and no network.

How OpenAI parameters map onto a LangChain model:
- `tools` -> `model.bind_tools(tools, tool_choice=...)` with LangChain's conventional choices:
  `"auto"` binds without a choice, `"required"` -> `"any"`, a named function -> its name, and
  `"none"` binds no tools at all (the model cannot call what it cannot see).
- `response_format: json_schema` -> the schema is bound as one more tool, forced with
  `tool_choice="any"` when it is the only one (as `BaseChatModel.with_structured_output` does), and
  the call's arguments come back as the message `content`, which is what OpenAI returns.
- `response_format: json_object` -> the reply is passed through when it is a JSON object, otherwise
  wrapped as `{"response": <text>}`, so a client's JSON parser never fails on it.
- `usage` comes from the message's `usage_metadata`, or is estimated from word-and-punctuation
  counts when the model reports none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.messages.tool import ToolCall as LangChainToolCall
from langchain_core.messages.tool import invalid_tool_call, tool_call
from langchain_core.runnables import Runnable

from sandbox.openai_protocol import (
    ChatCompletionRequest,
    ChatCompletionResult,
    ChatMessage,
    JsonSchemaFormat,
    NamedToolChoice,
    ToolCallResult,
    Usage,
)

DEFAULT_MODEL_IDS: tuple[str, ...] = ("offline",)
# Per-message overhead in OpenAI's own accounting (role and separators), for estimated usage.
_TOKENS_PER_MESSAGE = 3
_TOKEN = re.compile(r"\w+|[^\w\s]")


class LangChainChatBackend:
    """A `ChatBackend` answering with any LangChain `BaseChatModel` that supports `bind_tools`."""

    def __init__(self, model: BaseChatModel, *, model_ids: Sequence[str] = DEFAULT_MODEL_IDS) -> None:
        self._model = model
        self._model_ids = tuple(model_ids)

    @property
    def model_ids(self) -> Sequence[str]:
        return self._model_ids

    async def complete(self, request: ChatCompletionRequest) -> ChatCompletionResult:
        messages = to_langchain_messages(request.messages)
        schema_format = request.response_format.json_schema if request.response_format else None
        runnable = self._runnable(request, schema_format)
        if request.stop:
            reply = await runnable.ainvoke(messages, stop=request.stop)
        else:
            reply = await runnable.ainvoke(messages)
        if not isinstance(reply, AIMessage):
            raise TypeError(f"the chat model returned {type(reply).__name__}, not an AIMessage")
        return _result_of(reply, request, schema_format)

    def _runnable(
        self, request: ChatCompletionRequest, schema_format: JsonSchemaFormat | None
    ) -> Runnable[LanguageModelInput, BaseMessage]:
        tools = [tool.model_dump(mode="json", exclude_none=True) for tool in request.tools or []]
        if request.tool_choice == "none":
            tools = []
        if schema_format is not None:
            if not tools:
                return self._model.bind_tools([_schema_tool(schema_format)], tool_choice="any")
            tools.append(_schema_tool(schema_format))
        if not tools:
            return self._model
        choice = request.tool_choice
        if isinstance(choice, NamedToolChoice):
            return self._model.bind_tools(tools, tool_choice=choice.function.name)
        if choice == "required":
            return self._model.bind_tools(tools, tool_choice="any")
        return self._model.bind_tools(tools)


def attach_chat_backend(
    sandbox_app: FastAPI, model: BaseChatModel, *, model_ids: Sequence[str] = DEFAULT_MODEL_IDS
) -> LangChainChatBackend:
    """Serve `model` at the sandbox's `/openai/v1/chat/completions` under the names `model_ids`."""
    backend = LangChainChatBackend(model, model_ids=model_ids)
    sandbox_app.state.chat_backend = backend
    return backend


# --------------------------------------------------------------------------- OpenAI -> LangChain


def to_langchain_messages(messages: Sequence[ChatMessage]) -> list[BaseMessage]:
    """OpenAI messages as LangChain messages; a tool result gets the name of the call it answers."""
    converted: list[BaseMessage] = []
    tool_names: dict[str, str] = {}
    for message in messages:
        content = message.content or ""
        if message.role in ("system", "developer"):
            converted.append(SystemMessage(content=content))
        elif message.role == "user":
            converted.append(HumanMessage(content=content, name=message.name))
        elif message.role == "assistant":
            calls: list[LangChainToolCall] = []
            broken = []
            for call in message.tool_calls or []:
                tool_names[call.id] = call.function.name
                arguments = _json_object(call.function.arguments)
                if arguments is None:
                    broken.append(
                        invalid_tool_call(
                            name=call.function.name,
                            args=call.function.arguments,
                            id=call.id,
                            error="arguments are not a JSON object",
                        )
                    )
                else:
                    calls.append(tool_call(name=call.function.name, args=arguments, id=call.id))
            converted.append(AIMessage(content=content, tool_calls=calls, invalid_tool_calls=broken))
        else:
            call_id = message.tool_call_id or ""
            converted.append(
                ToolMessage(content=content, tool_call_id=call_id, name=tool_names.get(call_id, message.name))
            )
    return converted


def _schema_tool(schema_format: JsonSchemaFormat) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": schema_format.name,
            "description": schema_format.description or f"Answer with a {schema_format.name} object.",
            "parameters": schema_format.schema_,
        },
    }


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


# --------------------------------------------------------------------------- LangChain -> OpenAI


def _result_of(
    reply: AIMessage, request: ChatCompletionRequest, schema_format: JsonSchemaFormat | None
) -> ChatCompletionResult:
    content: str | None = str(reply.text)
    structured: str | None = None
    calls: list[ToolCallResult] = []
    for call in reply.tool_calls:
        arguments = json.dumps(call["args"], ensure_ascii=False)
        if schema_format is not None and call["name"] == schema_format.name and structured is None:
            structured = arguments
        else:
            calls.append(ToolCallResult(id=call.get("id"), name=call["name"], arguments=arguments))
    for broken in reply.invalid_tool_calls:
        if broken.get("name"):
            calls.append(
                ToolCallResult(
                    id=broken.get("id"), name=broken["name"] or "", arguments=broken.get("args") or ""
                )
            )
    if structured is not None:
        content = structured
    elif calls and not content:
        content = None  # OpenAI sends null content beside tool calls
    elif _wants_json_object(request) and not calls and not (content and _json_object(content) is not None):
        content = json.dumps({"response": content or ""}, ensure_ascii=False)
    reported = reply.response_metadata.get("finish_reason")
    finish_reason = (
        reported if reported in ("length", "content_filter") else ("tool_calls" if calls else "stop")
    )
    return ChatCompletionResult(
        content=content,
        tool_calls=calls,
        finish_reason=finish_reason,
        usage=_usage(reply, request, content, calls),
    )


def _wants_json_object(request: ChatCompletionRequest) -> bool:
    return request.response_format is not None and request.response_format.type == "json_object"


def _usage(
    reply: AIMessage, request: ChatCompletionRequest, content: str | None, calls: Sequence[ToolCallResult]
) -> Usage:
    reported = reply.usage_metadata
    if reported is not None:
        return Usage.of(reported["input_tokens"], reported["output_tokens"])
    prompt = sum(
        _TOKENS_PER_MESSAGE
        + count_tokens(message.content or "")
        + sum(count_tokens(call.function.name + call.function.arguments) for call in message.tool_calls or [])
        for message in request.messages
    )
    prompt += sum(count_tokens(tool.model_dump_json()) for tool in request.tools or [])
    completion = count_tokens(content or "") + sum(count_tokens(call.name + call.arguments) for call in calls)
    return Usage.of(prompt + _TOKENS_PER_MESSAGE, completion)


def count_tokens(text: str) -> int:
    """A rough token count (words and punctuation marks), for models that report no usage."""
    return len(_TOKEN.findall(text))

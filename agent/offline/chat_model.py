"""``OfflineChatModel``: the default model, a real LangChain chat model that needs no API key.

The graph runs it exactly as it runs an LLM:

- ``bind_tools(tools, tool_choice=...)`` accepts LangChain tools, pydantic classes and OpenAI tool
  dicts (converted with ``convert_to_openai_tool``, names kept);
- ``with_structured_output(IntentResult)`` works through LangChain's default implementation: the
  schema is bound as a tool and the model answers with one ``IntentResult`` tool call computed by
  the trained classifier and the entity extraction. ``method="json_schema"`` binds a
  ``response_format`` instead and the answer is the same object as JSON text;
- with intent tools bound, the intent's flow (``agent.offline.flows``) returns tool calls or a
  reply phrased from the templates in ``prompts/offline/``. The system prompt is not read: the bound
  tools say which intent node calls, the tools' answers in the conversation say who the shopper
  is, and ``clock`` says what day it is — the same whether the graph calls the model directly or a
  client sends the request over the OpenAI protocol (messages, tools, response_format);
- streaming yields the reply text in a few chunks, then the tool calls and token usage in a last
  chunk.

Everything is deterministic: reply variants and tool call ids come from a hash of the
conversation. The classifier is trained (or read from ``cache_dir``) once per process, off the
event loop when called asynchronously.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import Any, Final

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolCall
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import tool_call, tool_call_chunk
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import BaseModel, Field, PrivateAttr

from agent.language import load as load_language_detector
from agent.offline.conversation import Conversation, message_text
from agent.offline.flows.dispatch import decide
from agent.offline.flows.situation import Decision
from agent.offline.nlu.classifier import IntentClassifier, IntentPrediction, load_classifier
from agent.offline.nlu.intent_result import classify
from agent.offline.nlu.language import Predict
from agent.offline.nlu.scope import within_scope

MODEL_NAME: Final[str] = "offline"
# Roughly how many words each streamed text chunk carries.
STREAM_CHUNK_WORDS: Final[int] = 8
_CLASSIFICATION_FIELDS: Final[frozenset[str]] = frozenset({"intent", "confidence"})


class OfflineChatModel(BaseChatModel):
    """The built-in, deterministic chat model: trained intent classifier + one flow per intent."""

    fixtures_dir: Path | None = None
    """Shared fixtures folder; Bitext ``train.csv`` under it is added to the classifier's training."""
    cache_dir: Path | None = None
    """Where the fitted classifier is cached between processes (``None``: train in memory only)."""
    clock: Callable[[], datetime] | None = Field(default=None, exclude=True)
    """Now, as the store's tools see it (the sandbox's clock in the demo and the evals): dates in
    replies are said relative to its day ("arrives tomorrow"). ``None``: dates are written out."""
    model_name: str = MODEL_NAME

    _classifier: IntentClassifier | None = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return MODEL_NAME

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    # -- configuration --------------------------------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | dict[str, Any] | bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (any form LangChain accepts); ``tool_choice`` forcing the ``IntentResult``
        schema (``"any"``, ``"required"``, its name or an OpenAI dict) asks for classification."""
        formatted = [convert_to_openai_tool(t) for t in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        # `with_structured_output` passes the schema again as LangSmith tracing metadata, which
        # LangChain turns back into a JSON schema on every call (~0.1 ms a classification); this
        # model's traces do without it (the bound tool above is the same schema).
        kwargs.pop("ls_structured_output_format", None)
        return self.bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type,
        *,
        include_raw: bool = False,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """LangChain's tool-calling structured output, or JSON text with ``method="json_schema"``."""
        if kwargs.get("method") != "json_schema":
            return super().with_structured_output(schema, include_raw=include_raw, **kwargs)
        kwargs.pop("method")
        kwargs.pop("strict", None)
        if kwargs:
            raise ValueError(f"Received unsupported arguments {kwargs}")
        function = convert_to_openai_tool(schema)["function"]
        response_format = {
            "type": "json_schema",
            "json_schema": {"name": function["name"], "schema": function.get("parameters", {})},
        }
        llm = self.bind(response_format=response_format)
        parser: Runnable[Any, Any]
        if isinstance(schema, type) and is_basemodel_subclass(schema):
            parser = PydanticOutputParser(pydantic_object=schema)
        else:
            parser = JsonOutputParser()
        if not include_raw:
            return llm | parser
        parsed = RunnablePassthrough.assign(parsed=itemgetter("raw") | parser, parsing_error=lambda _: None)
        fallback = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | parsed.with_fallbacks([fallback], exception_key="parsing_error")

    # -- the classifier --------------------------------------------------------------------------

    def classifier(self) -> IntentClassifier:
        """The trained intent classifier (trained or loaded on first use, then kept)."""
        if self._classifier is None:
            self._classifier = load_classifier(self.fixtures_dir, self.cache_dir)
        return self._classifier

    def _predict(self, texts: Sequence[str]) -> list[IntentPrediction]:
        # A store intent guessed for a message about nothing of the store's is out of scope.
        return within_scope(texts, self.classifier().predict_many(texts))

    async def prepare(self) -> None:
        """Train or load the classifier and the language detector now (`agent.models.warm_up`)."""
        await self._ensure_classifier()

    async def _ensure_classifier(self) -> None:
        if self._classifier is None:
            # Training takes seconds: never on the event loop.
            await asyncio.to_thread(self.classifier)
        await load_language_detector()  # nor loading the language detector's model

    # -- answering -------------------------------------------------------------------------------

    def respond(self, messages: Sequence[BaseMessage], **kwargs: Any) -> AIMessage:
        """The model's complete answer to ``messages`` with the call's bound ``tools`` etc."""
        return self._message(messages, *self._answer(messages, **kwargs))

    def _answer(self, messages: Sequence[BaseMessage], **kwargs: Any) -> tuple[str, list[ToolCall]]:
        """The answer's text and tool calls (a message is built from them once: whole or in chunks)."""
        conversation = Conversation.from_messages(messages)
        predict = _OncePerText(self._predict)
        tools: list[dict[str, Any]] = [t for t in kwargs.get("tools") or [] if isinstance(t, dict)]
        response_format = kwargs.get("response_format")
        if response_format is not None:
            return json.dumps(self._structured(conversation, _format_schema(response_format), predict)), []
        classification = _classification_tool(tools, kwargs.get("tool_choice"))
        if classification is not None:
            args = classify(conversation, predict)
            call = tool_call(
                name=classification, args=args, id=_call_id(conversation, 0, classification, args)
            )
            return "", [call]
        names = [_tool_name(t) for t in tools]
        today = self.clock().date() if self.clock is not None else None
        decision = decide(conversation, [n for n in names if n], predict, today)
        return decision.text, _tool_calls(conversation, decision)

    def _structured(
        self, conversation: Conversation, schema: dict[str, Any], predict: Predict
    ) -> dict[str, Any]:
        properties = schema.get("properties")
        if not isinstance(properties, dict) or not set(properties) >= _CLASSIFICATION_FIELDS:
            raise ValueError("the offline model can only produce the IntentResult structured output")
        return classify(conversation, predict)

    def _message(self, messages: Sequence[BaseMessage], content: str, calls: list[ToolCall]) -> AIMessage:
        return AIMessage(
            content=content,
            tool_calls=calls,
            usage_metadata=_usage(messages, content, calls),
            response_metadata=self._metadata(calls),
        )

    def _metadata(self, calls: list[ToolCall]) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "model_provider": MODEL_NAME,
            "finish_reason": "tool_calls" if calls else "stop",
        }

    def _chunks(self, messages: Sequence[BaseMessage], **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        """The answer as stream chunks: text pieces, then tool calls and usage in a last chunk."""
        content, calls = self._answer(messages, **kwargs)
        for piece in _text_pieces(content):
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                tool_call_chunks=[
                    tool_call_chunk(name=c["name"], args=json.dumps(c["args"]), id=c["id"], index=i)
                    for i, c in enumerate(calls)
                ],
                usage_metadata=_usage(messages, content, calls),
                response_metadata=self._metadata(calls),
                chunk_position="last",
            )
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.respond(messages, **kwargs))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        await self._ensure_classifier()
        return ChatResult(generations=[ChatGeneration(message=self.respond(messages, **kwargs))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for chunk in self._chunks(messages, **kwargs):
            if run_manager is not None and isinstance(chunk.message.content, str) and chunk.message.content:
                run_manager.on_llm_new_token(chunk.message.content, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        await self._ensure_classifier()
        for chunk in self._chunks(messages, **kwargs):
            if run_manager is not None and isinstance(chunk.message.content, str) and chunk.message.content:
                await run_manager.on_llm_new_token(chunk.message.content, chunk=chunk)
            yield chunk


# -- helpers ------------------------------------------------------------------------------------


class _OncePerText:
    """`predict`, but each distinct text goes through the classifier once per answer.

    Classifying asks about the latest message twice (within the recent window, then as its own
    clause) and a flow step may ask again; each sklearn call costs milliseconds of CPU. A
    prediction depends only on its text, so reusing it changes nothing. Deliberately per answer,
    not process-wide: a shared cache would make identical benchmark messages look free.
    """

    def __init__(self, predict: Predict) -> None:
        self._predict = predict
        self._known: dict[str, IntentPrediction] = {}

    def __call__(self, texts: Sequence[str]) -> list[IntentPrediction]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._known]
        if missing:
            self._known.update(zip(missing, self._predict(missing), strict=True))
        return [self._known[t] for t in texts]


def _tool_name(tool: dict[str, Any]) -> str:
    function = tool.get("function")
    if isinstance(function, dict) and isinstance(function.get("name"), str):
        return str(function["name"])
    return str(tool.get("name") or "")


def _is_classification(tool: dict[str, Any]) -> bool:
    function = tool.get("function") if isinstance(tool.get("function"), dict) else tool
    parameters = function.get("parameters") if isinstance(function, dict) else None
    properties = parameters.get("properties") if isinstance(parameters, dict) else None
    return isinstance(properties, dict) and set(properties) >= _CLASSIFICATION_FIELDS


def _classification_tool(tools: list[dict[str, Any]], tool_choice: object) -> str | None:
    """The name of a bound ``IntentResult``-shaped schema the model is asked to fill, if any.

    The intent nodes never bind it, so binding it (forced or not) means "classify".
    """
    candidates = [_tool_name(t) for t in tools if _is_classification(t)]
    if not candidates:
        return None
    if isinstance(tool_choice, str) and tool_choice in candidates:
        return tool_choice
    if isinstance(tool_choice, dict):
        function = tool_choice.get("function")
        name = function.get("name") if isinstance(function, dict) else tool_choice.get("name")
        if name in candidates:
            return str(name)
    return candidates[0]


def _format_schema(response_format: object) -> dict[str, Any]:
    """The JSON schema inside an OpenAI ``response_format`` (or a bare schema / pydantic class)."""
    if isinstance(response_format, type) and issubclass(response_format, BaseModel):
        return response_format.model_json_schema()
    if isinstance(response_format, dict):
        inner = response_format.get("json_schema")
        if isinstance(inner, dict) and isinstance(inner.get("schema"), dict):
            return dict(inner["schema"])
        return response_format
    return {}


def _call_id(conversation: Conversation, index: int, name: str, args: dict[str, Any]) -> str:
    """Deterministic and unique in the conversation (its fingerprint changes with every message)."""
    payload = f"{conversation.fingerprint()}\x00{index}\x00{name}\x00{json.dumps(args, sort_keys=True)}"
    return "call_" + hashlib.sha256(payload.encode()).hexdigest()[:24]


def _tool_calls(conversation: Conversation, decision: Decision) -> list[ToolCall]:
    return [
        tool_call(name=call.name, args=call.args, id=_call_id(conversation, index, call.name, call.args))
        for index, call in enumerate(decision.calls)
    ]


def _count_words(text: str) -> int:
    return len(text.split())


def _usage(messages: Sequence[BaseMessage], content: str, calls: list[ToolCall]) -> UsageMetadata:
    """Token counts estimated as whitespace-separated words (there is no real tokenizer)."""
    input_tokens = 0
    for message in messages:
        input_tokens += _count_words(message_text(message))
        if isinstance(message, AIMessage):
            input_tokens += sum(_count_words(json.dumps(c["args"])) for c in message.tool_calls)
    output_tokens = _count_words(content) + sum(_count_words(json.dumps(c["args"])) for c in calls)
    return UsageMetadata(
        input_tokens=input_tokens, output_tokens=output_tokens, total_tokens=input_tokens + output_tokens
    )


_WORDS = re.compile(r"\S+\s*|\s+")


def _text_pieces(text: str) -> list[str]:
    """The text cut into chunks of a few words; concatenated they give the text back exactly."""
    words = _WORDS.findall(text)
    leading = ""
    if words and not words[0].strip():
        leading = words.pop(0)
    pieces = ["".join(words[i : i + STREAM_CHUNK_WORDS]) for i in range(0, len(words), STREAM_CHUNK_WORDS)]
    if leading:
        pieces = [leading + pieces[0], *pieces[1:]] if pieces else [leading]
    return pieces

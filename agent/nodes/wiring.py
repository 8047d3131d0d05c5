"""What every node needs besides the state, built once per compiled graph."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast

from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackManager
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import add_ai_message_chunks
from langchain_core.messages.utils import message_chunk_to_message
from langchain_core.output_parsers import BaseOutputParser
from langchain_core.runnables import Runnable, RunnableConfig, RunnableSequence
from langchain_core.utils.utils import LC_AUTO_PREFIX, LC_ID_PREFIX
from langgraph.config import get_stream_writer

import prompts
from agent import intents
from agent.state import AgentState, IntentResult
from tools.context import ToolContext, ToolDeps
from tools.langchain import context_from_state
from tools.langchain import to_langchain_tool as make_tool
from tools.registry import specs
from tools.spec import ToolSpec

logger = logging.getLogger(__name__)


@dataclass
class AgentDeps:
    """What the graph needs besides the model: the tools' services and a few settings."""

    tools: ToolDeps
    store_name: str = "the store"
    max_model_calls_per_turn: int = 8
    contact_email: str | None = None
    """Where shoppers can write to the team (told when the hand-off cap is reached)."""


class ModelFailure(Exception):
    """The model failed after its own retries (timeout, outage, garbage)."""


@dataclass(frozen=True)
class Wiring:
    """The model, its per-intent tool bindings and the policy texts, shared by every node."""

    model: BaseChatModel
    deps: AgentDeps
    bound: dict[str, Runnable[LanguageModelInput, AIMessage]] = field(default_factory=dict)
    policy_text: str = ""
    rules_text: str = ""
    _classifiers: dict[tuple[str, ...], Runnable[LanguageModelInput, Any]] = field(default_factory=dict)

    @classmethod
    def build(cls, model: BaseChatModel, deps: AgentDeps) -> Wiring:
        lc_tools = {spec.name: make_tool(spec, deps.tools) for spec in specs()}
        bound: dict[str, Runnable[LanguageModelInput, AIMessage]] = {
            spec.name: model.bind_tools([lc_tools[s.name] for s in spec.tool_specs()])
            for spec in intents.intents()
            if spec.has_node
        }
        policy = deps.tools.policy
        policy_text = prompts.render(
            "policy",
            return_window_days=policy.return_window_days,
            refund_limit=f"{policy.refund_auto_approve_limit}",
        )
        return cls(model, deps, bound, policy_text, prompts.load("_rules").strip())

    def classifier(self) -> Runnable[LanguageModelInput, Any]:
        """The model with the classification schema (rebuilt only when the registry changes)."""
        names = intents.names()
        cached = self._classifiers.get(names)
        if cached is None:
            cached = parse_on_the_loop(self.model.with_structured_output(IntentResult))
            self._classifiers.clear()
            self._classifiers[names] = cached
        return cached

    @property
    def tools(self) -> ToolDeps:
        return self.deps.tools

    def spec(self, name: str) -> ToolSpec:
        return _SPECS[name]

    def tool_context(self, state: AgentState, call_id: str) -> ToolContext:
        return context_from_state(self.deps.tools, cast(dict[str, Any], state), call_id)

    def context_text(self, state: AgentState, intent: str) -> str:
        customer = state.get("customer")
        shopper = f"verified as {customer['email']}" if customer else "not verified"
        today = self.deps.tools.clock().date().isoformat()
        return prompts.render("context", intent=intent, shopper=shopper, today=today)


_SPECS: dict[str, ToolSpec] = {s.name: s for s in specs()}


class ParsedOnTheLoop(Runnable[Any, Any]):
    """An output parser run where it is awaited. LangChain's parsers hand `parse_result` to a worker
    thread when awaited (a thread hop and a context copy, ~0.25 ms of a WISMO turn) for what is a
    few microseconds of JSON and pydantic work on a classification.

    With async callback handlers listening (`astream_events`, a LangGraph server's event stream) the
    parser is awaited as LangChain does it: its sync path would run their coroutines in a thread
    and block the loop until they finish."""

    def __init__(self, parser: Runnable[Any, Any]) -> None:
        self.parser = parser

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return self.parser.invoke(input, config, **kwargs)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        if _async_listeners(config):
            return await self.parser.ainvoke(input, config, **kwargs)
        return self.parser.invoke(input, config, **kwargs)


def _async_listeners(config: RunnableConfig | None) -> bool:
    callbacks = (config or {}).get("callbacks")
    if isinstance(callbacks, BaseCallbackManager):
        handlers = [*callbacks.handlers, *callbacks.inheritable_handlers]
    else:
        handlers = list(callbacks or [])
    return any(isinstance(h, AsyncCallbackHandler) for h in handlers)


def parse_on_the_loop(chain: Runnable[LanguageModelInput, Any]) -> Runnable[LanguageModelInput, Any]:
    """A model's structured output (`model | parser`, as `with_structured_output` builds it for
    tool calling: the offline model, `method="function_calling"`) with its parser run on the event
    loop; any other shape as it is (ChatOpenAI's default `json_schema` ends in a lambda)."""
    if isinstance(chain, RunnableSequence) and isinstance(chain.last, BaseOutputParser):
        return RunnableSequence(chain.first, *chain.middle, ParsedOnTheLoop(chain.last))
    return chain


STREAM_TOKENS = "stream_tokens"
"""Configurable key: the caller shows the intent models' answers token by token (one
`{"message_id", "text"}` event per piece, through `turn_writer`)."""

TURN_EVENTS = "turn_events"
"""Configurable key: where an intent node sends what the shopper sees while it works, a callable
taking one event: `{"progress", "call_id"}` before a lookup the node runs itself and, with
`STREAM_TOKENS`, the answer's pieces. The conversation service sets it (`agent.turn_events`);
without it the events go to LangGraph's "custom" stream mode, for callers that ask for that."""


def streams_tokens(config: RunnableConfig | None) -> bool:
    return bool(((config or {}).get("configurable") or {}).get(STREAM_TOKENS))


def turn_writer(config: RunnableConfig | None) -> Callable[[Any], None]:
    """Where this run's progress and answer pieces go (`TURN_EVENTS`, else the custom stream)."""
    sink = ((config or {}).get("configurable") or {}).get(TURN_EVENTS)
    return cast(Callable[[Any], None], sink) if callable(sink) else get_stream_writer()


async def answer_streaming(
    model: Runnable[LanguageModelInput, Any], messages: list[Any], write: Callable[[Any], None]
) -> BaseMessage:
    """The model's answer, its text pieces written (`turn_writer`) as they come.

    Only the model call streams: LangGraph's "messages" stream mode would instead attach a callback
    handler to every run of the turn (each node, each runnable), which cost ~4 ms of CPU a WISMO
    turn for the few pieces a client shows."""
    chunks: list[AIMessageChunk] = []
    message_id: str | None = None
    async for chunk in model.astream(messages):
        if not isinstance(chunk, AIMessageChunk):
            # A model that cannot stream gives its whole answer as one message.
            if isinstance(chunk, BaseMessage) and chunk.text:
                write({"message_id": str(chunk.id), "text": chunk.text})
            return chunk if isinstance(chunk, BaseMessage) else AIMessage(content=str(chunk))
        chunks.append(chunk)
        message_id = merged_chunk_id(message_id, chunk.id)
        if chunk.text:
            write({"message_id": str(message_id), "text": chunk.text})
    if not chunks:
        return AIMessage(content="")
    # Added up once at the end (adding each piece to the sum so far builds a new chunk per piece).
    merged = chunks[0] if len(chunks) == 1 else add_ai_message_chunks(chunks[0], *chunks[1:])
    return message_chunk_to_message(merged)


def merged_chunk_id(current: str | None, new: str | None) -> str | None:
    """The id of chunks added together, as `add_ai_message_chunks` chooses it: the first provider
    id, else the first `lc_run-` id, else the first id. Each piece carries the best id known when it
    is written: the answer's own, unless a provider names it only after its first pieces."""

    def rank(id_: str | None) -> int:
        if not id_:
            return -1
        if not id_.startswith(LC_ID_PREFIX) and not id_.startswith(LC_AUTO_PREFIX):
            return 2
        return 1 if id_.startswith(LC_ID_PREFIX) else 0

    return new if rank(new) > rank(current) else current


async def call_model(call: Callable[[], Awaitable[Any]]) -> Any:
    """Run one model call; any client error becomes `ModelFailure` (the shopper gets an apology)."""
    try:
        return await call()
    except Exception as exc:
        logger.exception("model call failed")
        raise ModelFailure(type(exc).__name__) from exc

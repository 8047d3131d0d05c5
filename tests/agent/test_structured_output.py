"""The classification's parser runs on the event loop, with the same result as LangChain's own."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.output_parsers.openai_tools import PydanticToolsParser
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.tools import BaseTool

from agent.nodes.wiring import ParsedOnTheLoop, parse_on_the_loop
from agent.state import IntentResult


class _Classifying(BaseChatModel):
    """Answers every call with one `IntentResult` tool call (as an LLM filling the schema does)."""

    @property
    def _llm_type(self) -> str:
        return "classifying"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | dict[str, Any] | bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self.bind(**kwargs)

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        call = {
            "name": "IntentResult",
            "args": {"intent": "wismo", "confidence": 0.9, "order_number": "1001"},
            "id": "call-1",
        }
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content="", tool_calls=[call]))])


@pytest.fixture
def threads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The threads the classification's parser ran on, in order."""
    seen: list[int] = []
    parse = PydanticToolsParser.parse_result

    def recording(self: PydanticToolsParser, *args: Any, **kwargs: Any) -> Any:
        seen.append(threading.get_ident())
        return parse(self, *args, **kwargs)

    monkeypatch.setattr(PydanticToolsParser, "parse_result", recording)
    return seen


async def test_the_parser_runs_on_the_loop_and_parses_as_langchain_does(threads: list[int]) -> None:
    upstream = _Classifying().with_structured_output(IntentResult)
    ours = parse_on_the_loop(upstream)
    question = [HumanMessage("where is my order #1001?")]

    theirs, mine = await upstream.ainvoke(question), await ours.ainvoke(question)

    assert mine == theirs == IntentResult(intent="wismo", confidence=0.9, order_number="1001")
    loop_thread = threading.get_ident()
    assert threads[0] != loop_thread  # LangChain's own: a worker thread
    assert threads[1] == loop_thread  # ours: where it is awaited
    assert ours.invoke(question) == mine  # the sync path too
    assert await asyncio.to_thread(ours.invoke, question) == mine


async def test_with_async_listeners_the_parser_is_awaited_as_langchain_does_it(threads: list[int]) -> None:
    class Listening(AsyncCallbackHandler):
        def __init__(self) -> None:
            self.ended: list[Any] = []

        async def on_chain_end(self, outputs: Any, **kwargs: Any) -> None:
            self.ended.append(outputs)

    listening = Listening()
    chain = parse_on_the_loop(_Classifying().with_structured_output(IntentResult))

    result = await chain.ainvoke([HumanMessage("where is #1001?")], {"callbacks": [listening]})

    assert result == IntentResult(intent="wismo", confidence=0.9, order_number="1001")
    assert threads and threads[0] != threading.get_ident()  # LangChain's awaited path
    assert result in listening.ended  # the listener heard the parser's run end


def test_another_shape_of_structured_output_is_left_as_it_is() -> None:
    not_a_parser = RunnableLambda(lambda message: message) | RunnableLambda(lambda message: message)
    assert parse_on_the_loop(not_a_parser) is not_a_parser
    chain = parse_on_the_loop(_Classifying().with_structured_output(IntentResult))
    assert isinstance(chain.last, ParsedOnTheLoop)  # type: ignore[attr-defined]

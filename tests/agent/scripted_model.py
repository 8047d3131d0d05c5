"""A scripted chat model: replays a list of steps and fails when the graph asks for more or fewer.

Steps: an `IntentResult` (answers a structured-output call), a `ToolStep` (tool calls), a string
(a final text reply), or an `Exception` instance (the model fails).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, PrivateAttr

from agent.state import IntentResult

_ids = itertools.count(1)


@dataclass
class ToolStep:
    """One AI message calling tools: `calls` are (name, args) pairs."""

    calls: list[tuple[str, dict[str, Any]]]
    text: str = ""
    ids: list[str] = field(default_factory=list)


@dataclass
class BadClassification:
    """A structured answer that does not fit the schema (what small local models sometimes return)."""

    args: dict[str, Any] = field(default_factory=lambda: {"intent": "banana", "confidence": "very"})


Step = IntentResult | ToolStep | BadClassification | str | Exception


class ScriptedChatModel(BaseChatModel):
    """Returns the scripted steps in order; records what it was asked."""

    steps: list[Any]
    _position: int = PrivateAttr(default=0)
    _calls: list[dict[str, Any]] = PrivateAttr(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def calls(self) -> list[dict[str, Any]]:
        return self._calls

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | Any],
        *,
        tool_choice: Any = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        names = [convert_to_openai_tool(t)["function"]["name"] for t in tools]
        return self.bind(tool_names=names, tool_choice=tool_choice, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        names: list[str] = kwargs.get("tool_names") or []
        self._calls.append({"messages": messages, "tools": names})
        if self._position >= len(self.steps):
            raise AssertionError(
                f"the graph asked the model more often than scripted (call {self._position + 1})"
            )
        step = self.steps[self._position]
        self._position += 1
        if isinstance(step, Exception):
            raise step
        structured = names == ["IntentResult"]
        if isinstance(step, IntentResult):
            if not structured:
                raise AssertionError(f"scripted an IntentResult but the graph called with tools {names}")
            message = AIMessage(
                content="",
                tool_calls=[{"name": "IntentResult", "args": step.model_dump(), "id": f"cls-{next(_ids)}"}],
            )
        elif isinstance(step, BadClassification):
            if not structured:
                raise AssertionError(f"scripted a bad classification but the graph called with tools {names}")
            message = AIMessage(
                content="",
                tool_calls=[{"name": "IntentResult", "args": step.args, "id": f"cls-{next(_ids)}"}],
            )
        elif structured:
            raise AssertionError(f"the graph asked for classification but the script has {step!r}")
        elif isinstance(step, ToolStep):
            for name, _ in step.calls:
                if name not in names:
                    raise AssertionError(f"scripted call to {name} but only {names} are bound")
            ids = step.ids or [f"call-{next(_ids)}" for _ in step.calls]
            message = AIMessage(
                content=step.text,
                tool_calls=[
                    {"name": n, "args": a, "id": i} for (n, a), i in zip(step.calls, ids, strict=True)
                ],
            )
        else:
            message = AIMessage(content=str(step))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def assert_exhausted(self) -> None:
        unused = self.steps[self._position :]
        if unused:
            raise AssertionError(f"{len(unused)} scripted step(s) were never used: {unused!r}")


def intent(name: str, **extra: Any) -> IntentResult:
    return IntentResult.model_validate({"intent": name, "confidence": 0.95, **extra})


def _unused(_: BaseModel) -> None:  # keep pydantic import used for type checkers
    return None

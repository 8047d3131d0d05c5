"""A streamed answer: its pieces carry the answer's id, and the pieces add up to the answer."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import add_ai_message_chunks
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk, ChatResult

from agent.nodes.wiring import answer_streaming, merged_chunk_id

IDS = [None, "lc_run--1", "lc_run--2", "lc_abc", "chatcmpl-1", "chatcmpl-2", ""]


@pytest.mark.parametrize("ids", list(itertools.product(IDS, repeat=3)))
def test_the_id_of_the_pieces_so_far_is_the_one_langchain_gives_their_sum(
    ids: tuple[str | None, ...],
) -> None:
    chunks = [AIMessageChunk(content=str(n), id=id_) for n, id_ in enumerate(ids)]
    assert functools.reduce(merged_chunk_id, ids, None) == add_ai_message_chunks(chunks[0], *chunks[1:]).id


async def test_the_pieces_are_written_with_the_answer_s_id_and_add_up_to_it() -> None:
    answer = AIMessage(content="Your parcel is with UPS and arrives on Friday.", id="chatcmpl-42")
    model = GenericFakeChatModel(messages=iter([answer]))
    written: list[dict[str, Any]] = []

    streamed = await answer_streaming(model, [], written.append)

    assert isinstance(streamed, AIMessage) and not isinstance(streamed, AIMessageChunk)
    assert streamed.content == answer.content and streamed.id == "chatcmpl-42"
    assert len(written) > 1  # piece by piece
    assert "".join(w["text"] for w in written) == answer.content
    assert {w["message_id"] for w in written} == {"chatcmpl-42"}


class _Calling(BaseChatModel):
    """Streams one tool call and no text, as an LLM asking for a lookup does."""

    @property
    def _llm_type(self) -> str:
        return "calling"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        raise NotImplementedError

    def _stream(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        call = tool_call_chunk(name="get_tracking_status", args='{"order_number": ', id="call-1", index=0)
        rest = tool_call_chunk(name=None, args='"1001"}', id=None, index=0)
        yield ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=[call]))
        yield ChatGenerationChunk(
            message=AIMessageChunk(content="", tool_call_chunks=[rest], chunk_position="last")
        )


async def test_an_answer_of_tool_calls_only_writes_nothing() -> None:
    written: list[dict[str, Any]] = []

    streamed = await answer_streaming(_Calling(), [], written.append)

    assert written == []
    assert isinstance(streamed, AIMessage)
    assert [(c["name"], c["args"], c["id"]) for c in streamed.tool_calls] == [
        ("get_tracking_status", {"order_number": "1001"}, "call-1")
    ]

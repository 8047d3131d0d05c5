"""Step-up verification end to end, with the offline model: the shopper reads the code from the
sandbox outbox (as from their mailbox), and the code appears nowhere else."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from agent.offline.chat_model import OfflineChatModel
from demo.runtime import open_demo_runtime
from evals.codes import latest_code
from tests.agent.conftest import agent_settings, memory_persistence, sandbox_app
from tools.step_up import CODE_PLACEHOLDER


async def say(runtime: Any, cid: str, text: str) -> tuple[list[str], str]:
    said: list[str] = []
    status = ""
    async for event in runtime.service.send(cid, text):
        if event.type == "message" and event.data["role"] == "assistant":
            said.append(event.data["text"])
        if event.type == "done":
            status = event.data["status"]
    return said, status


async def test_a_cancellation_needs_the_emailed_code_and_the_code_goes_nowhere_else(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []
    original = OfflineChatModel.respond

    def spy(self: OfflineChatModel, messages: list[BaseMessage], **kwargs: Any) -> Any:
        seen.extend(str(m.content) for m in messages)  # everything the model is given
        return original(self, messages, **kwargs)

    monkeypatch.setattr(OfflineChatModel, "respond", spy)
    caplog.set_level(logging.DEBUG)
    persistence = memory_persistence()
    async with open_demo_runtime(
        agent_settings(), sandbox_app=sandbox_app(), persistence=persistence
    ) as runtime:
        runtime.sandbox_app.state.chat_backend = None  # the offline model of this runtime only
        world = runtime.world
        cid = await runtime.service.start()
        said, status = await say(runtime, cid, "Please cancel order 1004, dev.patel@example.com")
        assert status == "active" and "code" in said[-1] and "d***@example.com" in said[-1]
        assert world.order_by_number(1004)["cancelled_at"] is None
        code = latest_code(world)
        assert code is not None

        said, status = await say(runtime, cid, code)
        assert status == "awaiting_confirmation"
        said, status = await say(runtime, cid, "yes")
        assert world.order_by_number(1004)["cancelled_at"] is not None

        await runtime.sync.drain()
        state = await runtime.graph.aget_state({"configurable": {"thread_id": cid}})
        view = await runtime.service.get(cid)
        checkpoint = persistence.checkpointer.storage  # every checkpoint the conversation wrote
        inbox = await persistence.store.asearch(("inbox", cid))
        tickets = json.dumps(world.gorgias.model_dump(mode="json"))

    assert CODE_PLACEHOLDER in [m.text for m in view.messages]
    assert seen and all(code not in text for text in seen), "the model saw the code"
    assert code not in json.dumps(state.values, default=str)
    assert code not in str(checkpoint)
    assert code not in json.dumps([i.value for i in inbox])
    assert CODE_PLACEHOLDER in tickets and code not in tickets
    assert [r.getMessage() for r in caplog.records if code in r.getMessage()] == []

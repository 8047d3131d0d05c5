"""The offline model learns "today" from the clock the store's tools use, not from the prompt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent.models import build_model
from agent.offline.chat_model import OfflineChatModel
from demo.runtime import open_demo_runtime
from tests.agent.conftest import agent_settings, memory_persistence, sandbox_app


async def test_the_runtimes_offline_model_follows_the_sandbox_clock() -> None:
    async with open_demo_runtime(
        agent_settings(), sandbox_app=sandbox_app(), persistence=memory_persistence()
    ) as runtime:
        model = runtime.model
        assert isinstance(model, OfflineChatModel)
        assert model.clock is not None
        world = runtime.world
        assert world is not None
        assert model.clock() == world.now()
        world.clock += timedelta(days=3)  # what an eval's `clock:` turn does
        assert model.clock() == world.now()


def test_without_a_store_clock_the_model_uses_the_real_date() -> None:
    model = build_model(agent_settings(sandbox_mode=False))
    assert isinstance(model, OfflineChatModel)
    assert model.clock is not None
    assert abs(model.clock() - datetime.now(UTC)) < timedelta(minutes=1)

"""A server is ready when it answers at full speed: what the first turn would load is loaded at start."""

from __future__ import annotations

from pathlib import Path

from agent import language
from agent.models import build_model, warm_up
from agent.offline.chat_model import OfflineChatModel
from agent.settings import Settings


async def test_warm_up_loads_the_language_detector_and_the_offline_classifier(tmp_path: Path) -> None:
    model = build_model(Settings(model="offline", sqlite_path=tmp_path / "a.sqlite"))
    assert isinstance(model, OfflineChatModel) and model._classifier is None

    await warm_up(model)

    assert model._classifier is not None
    assert language.is_ready()


async def test_warm_up_leaves_a_model_without_preparation_alone() -> None:
    class Plain:
        pass

    await warm_up(Plain())  # type: ignore[arg-type]
    assert language.is_ready()

"""The model factory: `offline` (default, no key) or `openai:<name>` (any OpenAI-compatible server)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from langchain_core.language_models import BaseChatModel

from agent.settings import Settings


class ConfigError(Exception):
    """A setting is missing or wrong; the message names it and says how to fix it."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def warm_up(model: BaseChatModel) -> None:
    """Load what the first turns would otherwise wait for, off the event loop: the language
    detector's model (~0.4 s here) and, for the offline model, its intent classifier (read from
    the cache in milliseconds; trained for seconds on a machine without one).

    A server is ready when it answers at full speed: otherwise the first shoppers after a start or
    a deploy all wait behind the loading."""
    from agent import language

    await language.load()
    prepare = getattr(model, "prepare", None)
    if prepare is not None:
        await prepare()


def build_model(
    settings: Settings, spec: str | None = None, *, clock: Callable[[], datetime] | None = None
) -> BaseChatModel:
    """The chat model named by `spec` (or the MODEL setting).

    `clock` is the store's now, as its tools see it (the sandbox's clock in the demo): the offline
    model says dates relative to it. An LLM reads the date from the prompt instead.
    """
    name = (spec or settings.model).strip()
    if name == "offline":
        from agent.offline.chat_model import OfflineChatModel

        fixtures = settings.fixtures_dir if settings.fixtures_dir.is_dir() else None
        return OfflineChatModel(fixtures_dir=fixtures, cache_dir=settings.cache_dir, clock=clock or _utc_now)
    if name.startswith("openai:") and len(name) > len("openai:"):
        from langchain_openai import ChatOpenAI

        if settings.openai_api_key is None:
            raise ConfigError(
                f"MODEL={name} needs OPENAI_API_KEY (any value for a local OpenAI-compatible server; "
                "set OPENAI_BASE_URL to its /v1 address)."
            )
        return ChatOpenAI(
            model=name.removeprefix("openai:"),
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url or None,
            timeout=settings.model_timeout_seconds,
            max_retries=2,
            temperature=0,
            stream_usage=True,  # token counts for evals and cost tracking, also when streaming
        )
    raise ConfigError(
        f"MODEL={name!r} is not understood: use `offline` or `openai:<model name>`, e.g. openai:gpt-4o-mini."
    )

"""Fixtures shared by the vendor client tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tenacity import AsyncRetrying

from integrations._http import retrying


@pytest.fixture
def waits() -> list[float]:
    """The retry waits a client asked for (recorded instead of slept)."""
    return []


@pytest.fixture
def policy(waits: list[float]) -> Callable[[], AsyncRetrying]:
    """The shared retry policy, with its sleeps recorded in `waits`."""

    async def record(seconds: float) -> None:
        waits.append(seconds)

    return lambda: retrying(sleep=record)

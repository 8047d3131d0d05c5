"""Fixtures shared by the whole suite: the real recorded payloads, a fresh sandbox world, the
sandbox served in-process (ASGI) and over HTTP on loopback (for the official vendor SDKs)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from agent.settings import Settings
from sandbox.app import create_sandbox_app
from sandbox.seed import build_world
from sandbox.serve import serve_in_thread
from sandbox.world import World


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """`../shared/fixtures` (or SUPPORT_AGENT_FIXTURES): real vendor payloads. Never copied here."""
    path = Settings().fixtures_dir
    if not path.is_dir():
        pytest.fail(
            f"Recorded fixtures not found at {path}: put shared/ beside the repo or set SUPPORT_AGENT_FIXTURES."
        )
    return path


@pytest.fixture
def world() -> World:
    """A fresh demo-store world."""
    return build_world()


@pytest.fixture
def sandbox_app(world: World) -> FastAPI:
    return create_sandbox_app(world)


@pytest.fixture
def sandbox_transport(sandbox_app: FastAPI) -> httpx.ASGITransport:
    """Serve the sandbox in-process: hand this to a client factory as `transport`."""
    return httpx.ASGITransport(app=sandbox_app)


@pytest.fixture
async def sandbox_http(sandbox_transport: httpx.ASGITransport) -> AsyncIterator[httpx.AsyncClient]:
    """A plain client on the sandbox root, for the control API."""
    async with httpx.AsyncClient(transport=sandbox_transport, base_url="http://sandbox") as client:
        yield client


@dataclass
class LiveSandbox:
    """The sandbox over real HTTP on loopback, for SDKs that do their own networking."""

    app: FastAPI
    url: str

    @property
    def world(self) -> World:
        current: World = self.app.state.world
        return current

    def use(self, world: World) -> None:
        self.app.state.world = world


@pytest.fixture(scope="session")
def _live_sandbox_server() -> Iterator[LiveSandbox]:
    app = create_sandbox_app()
    with serve_in_thread(app) as url:
        yield LiveSandbox(app=app, url=url)


@pytest.fixture
def live_sandbox(_live_sandbox_server: LiveSandbox, world: World) -> LiveSandbox:
    """The HTTP sandbox, holding this test's fresh `world`."""
    _live_sandbox_server.use(world)
    return _live_sandbox_server

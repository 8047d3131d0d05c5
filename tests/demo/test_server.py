"""The demo server: the production app with the sandbox mounted, the agent on it, webhooks wired back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.routing import Mount

import demo.server
from agent.models import ConfigError
from cli.main import build_parser
from cli.serve_cmd import create_server_app, create_worker_app, serve_settings
from demo.server import create_demo_app
from sandbox.app import create_sandbox_app
from sandbox.world import World
from tests.server.conftest import ConversationTokens, make_settings, start_conversation
from tests.server.fake_service import FakeConversationService


@pytest.fixture
def fake() -> FakeConversationService:
    return FakeConversationService()


def _mounts(app: FastAPI) -> dict[str, Any]:
    return {route.path: route.app for route in app.routes if isinstance(route, Mount)}


async def test_demo_app_mounts_the_sandbox_and_wires_its_helpdesk_back(
    fake: FakeConversationService,
) -> None:
    sandbox_app = create_sandbox_app()
    world: World = sandbox_app.state.world
    fake.world = world
    settings = make_settings(sandbox_mode=True, public_url="http://127.0.0.1:8123")
    app = create_demo_app(settings, service=fake, sandbox_app=sandbox_app)

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", auth=ConversationTokens()
        ) as client:
            order = await client.get("/sandbox/_sandbox/orders/1001")
            conversation_id = await start_conversation(client)
            await client.post(
                f"/api/conversations/{conversation_id}/messages", json={"text": "a human please"}
            )
            ticket_id = (await client.get(f"/api/conversations/{conversation_id}")).json()["ticket_id"]
            # A person replies in the sandbox helpdesk: its webhook comes back to /webhooks/gorgias.
            reply = await client.post(
                f"/sandbox/_sandbox/tickets/{ticket_id}/reply", json={"text": "Rosa here."}
            )
            view = (await client.get(f"/api/conversations/{conversation_id}")).json()

    assert _mounts(app) == {"/sandbox": sandbox_app}
    assert order.status_code == 200
    assert world.helpdesk_webhook.url == "http://127.0.0.1:8123/webhooks/gorgias"
    assert world.helpdesk_webhook.secret == "test-gorgias-secret"
    assert reply.json()["webhook"] == {"url": "http://127.0.0.1:8123/webhooks/gorgias", "status": 200}
    assert world.webhook_deliveries[-1]["status"] == 200
    assert view["messages"][-1]["role"] == "agent"
    assert view["messages"][-1]["text"] == "Rosa here."
    assert view["messages"][-1]["author"] == "Rosa Alvarez"


@dataclass
class _Runtime:
    service: FakeConversationService


async def test_demo_lifespan_builds_the_agent_on_the_mounted_sandbox(
    monkeypatch: pytest.MonkeyPatch, fake: FakeConversationService
) -> None:
    received: dict[str, Any] = {}
    closed: list[str] = []

    @asynccontextmanager
    async def open_demo_runtime(settings: Any, **kwargs: Any) -> AsyncIterator[_Runtime]:
        received.update(settings=settings, **kwargs)
        yield _Runtime(fake)
        closed.append("closed")

    monkeypatch.setattr(demo.server, "open_demo_runtime", open_demo_runtime)
    sandbox_app = create_sandbox_app()
    app = create_demo_app(
        make_settings(sandbox_mode=True, public_url="http://127.0.0.1:8765"), sandbox_app=sandbox_app
    )

    async with app.router.lifespan_context(app):
        assert app.state.service is fake
        assert closed == []

    assert closed == ["closed"]
    assert received["sandbox_app"] is sandbox_app
    assert received["sandbox_url"] == "http://127.0.0.1:8765/sandbox"  # served by this app: no second server
    settings = received["settings"]
    assert settings.gorgias_base_url == "http://127.0.0.1:8765/sandbox/gorgias/api"
    assert settings.stripe_api_base == "http://127.0.0.1:8765/sandbox/stripe"
    assert settings.store_name == "Harbor & Pine"  # the sandbox store's own name
    assert app.state.settings == settings


def test_store_name_setting_wins_over_the_sandbox_stores() -> None:
    app = create_demo_app(make_settings(sandbox_mode=True, store_name="Acme Outdoors"))

    assert app.state.settings.store_name == "Acme Outdoors"


def test_demo_app_puts_the_control_api_behind_the_token() -> None:
    sandbox_app = create_sandbox_app()
    create_demo_app(make_settings(sandbox_mode=True, sandbox_control_token="t" * 40), sandbox_app=sandbox_app)

    assert sandbox_app.state.control_token == "t" * 40


def _serve(monkeypatch: pytest.MonkeyPatch, *args: str, **env: str) -> FastAPI:
    for name in ("HOST", "PORT", "MODEL", "DATABASE_URL", "PUBLIC_URL", "SANDBOX_MODE", "STORE_NAME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return create_server_app(serve_settings(build_parser().parse_args(["serve", *args])))


def test_serve_on_woocommerce_points_the_store_at_its_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STORE_PLATFORM", raising=False)
    app = _serve(monkeypatch, "--port", "9004", "--platform", "woocommerce")

    assert app.state.settings.store_platform == "woocommerce"
    assert app.state.settings.woocommerce_url == "http://127.0.0.1:9004/sandbox/woocommerce"


def test_serve_on_bigcommerce_points_the_store_at_its_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STORE_PLATFORM", raising=False)
    app = _serve(monkeypatch, "--port", "9005", "--platform", "bigcommerce")

    assert app.state.settings.store_platform == "bigcommerce"
    assert app.state.settings.bigcommerce_api_base == "http://127.0.0.1:9005/sandbox/bigcommerce"


def test_serve_in_demo_mode_is_the_demo_app(monkeypatch: pytest.MonkeyPatch) -> None:
    app = _serve(monkeypatch, "--port", "9001")

    assert set(_mounts(app)) == {"/sandbox"}
    assert app.state.settings.gorgias_base_url == "http://127.0.0.1:9001/sandbox/gorgias/api"


async def test_serve_in_real_store_mode_mounts_nothing_and_refuses_the_sandbox_vendors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = _serve(monkeypatch, "--port", "9002", SANDBOX_MODE="false")

    assert _mounts(app) == {}
    with pytest.raises(ConfigError, match="SHOPIFY_API_BASE, GORGIAS_BASE_URL still point at the sandbox"):
        async with app.router.lifespan_context(app):
            pass


def test_a_worker_process_app_is_the_production_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """`serve --workers N` (PostgreSQL, real-store mode): each process builds the plain app."""
    monkeypatch.setenv("SANDBOX_MODE", "false")
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    monkeypatch.setenv("PUBLIC_URL", "http://127.0.0.1:9003")

    app = create_worker_app()

    assert _mounts(app) == {}
    assert app.state.settings.database_url == "postgresql://postgres@127.0.0.1:5432/test"
    assert app.state.settings.public_url == "http://127.0.0.1:9003"

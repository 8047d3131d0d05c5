"""The app around the API: static pages, health, the caller's hooks (service, mounts), the lifespan, `serve`."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from starlette.routing import Mount

import server.app
from agent.settings import SANDBOX_URL, Settings
from cli.main import build_parser
from cli.serve_cmd import serve_settings
from server.app import create_app, with_public_url
from tests.server.conftest import ConversationTokens, make_settings, start_conversation
from tests.server.fake_service import FakeConversationService


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_widget_script_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/widget.js")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    script = response.text
    assert "attachShadow" in script
    assert 'aria-live": "polite"' in script
    # Untrusted text only ever goes through textContent / text nodes.
    assert not re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write", script)


async def test_storefront_embeds_the_widget_with_one_tag(client: httpx.AsyncClient) -> None:
    response = await client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<title>Harbor &amp; Pine" in page
    assert re.search(
        r'<script src="/widget.js" data-store-name="Harbor &amp; Pine" data-accent="#1f6f5c" async>', page
    )
    assert "Where is order #1001?" in page
    assert "ana.silva@example.com" in page


def test_only_the_callers_mounts_are_mounted(fake: FakeConversationService) -> None:
    extra = FastAPI()
    plain = create_app(make_settings(sandbox_mode=True), service=fake)
    mounted = create_app(make_settings(), service=fake, mounts={"/extra": extra})

    assert not any(isinstance(route, Mount) for route in plain.routes)  # no sandbox of its own
    assert [(r.path, r.app) for r in mounted.routes if isinstance(r, Mount)] == [("/extra", extra)]


async def test_lifespan_opens_and_closes_the_service_the_caller_names(fake: FakeConversationService) -> None:
    events: list[str] = []

    @asynccontextmanager
    async def open_service() -> AsyncIterator[FakeConversationService]:
        events.append("opened")
        yield fake
        events.append("closed")

    app = create_app(make_settings(), open_service=open_service)

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", auth=ConversationTokens()
        ) as client:
            conversation_id = await start_conversation(client)
        assert events == ["opened"]

    assert events == ["opened", "closed"]
    assert conversation_id in fake.conversations


async def test_lifespan_opens_the_production_service_from_the_settings_by_default(
    monkeypatch: pytest.MonkeyPatch, fake: FakeConversationService
) -> None:
    received: list[Settings] = []

    @asynccontextmanager
    async def production(settings: Settings) -> AsyncIterator[FakeConversationService]:
        received.append(settings)
        yield fake

    monkeypatch.setattr(server.app, "open_conversation_service", production)
    settings = make_settings()
    app = create_app(settings)

    async with app.router.lifespan_context(app):
        assert app.state.service is fake

    assert received == [settings]


def test_public_url_moves_the_public_url_and_cors_along() -> None:
    settings = Settings(_env_file=None)

    moved = with_public_url(settings, "http://127.0.0.1:9000/")
    explicit = with_public_url(
        Settings(_env_file=None, public_url="https://agent.example", cors_origins=["https://shop.example"]),
        "http://x:1",
    )

    assert moved.public_url == "http://127.0.0.1:9000"
    assert moved.cors_origins == [*settings.cors_origins, "http://127.0.0.1:9000"]
    # The vendors stay where the settings say: pointing them at a sandbox is the demo's business.
    assert moved.shopify_api_base == settings.shopify_api_base == f"{SANDBOX_URL}/shopify/admin/api"
    assert (explicit.public_url, explicit.cors_origins) == ("https://agent.example", ["https://shop.example"])


def test_serve_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOST", "PORT", "MODEL", "DATABASE_URL", "PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    args = build_parser().parse_args(
        [
            "serve",
            "--host",
            "0.0.0.0",  # noqa: S104
            "--port",
            "9001",
            "--model",
            "openai:gpt-4o-mini",
            "--database-url",
            "postgresql://db/x",
        ]
    )

    settings = serve_settings(args)

    assert args.handler.__name__ == "_serve"
    assert (settings.host, settings.port) == ("0.0.0.0", 9001)  # noqa: S104
    assert settings.model == "openai:gpt-4o-mini"
    assert settings.database_url == "postgresql://db/x"
    assert settings.public_url == "http://127.0.0.1:9001"


def test_serve_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOST", "PORT", "MODEL", "PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)

    settings = serve_settings(build_parser().parse_args(["serve"]))

    assert settings.public_url == "http://127.0.0.1:8000"
    assert settings.shopify_api_base == f"{SANDBOX_URL}/shopify/admin/api"

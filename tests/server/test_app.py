"""The app around the API: static pages, health, the mounted sandbox, the lifespan, `serve`."""

from __future__ import annotations

import re
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

import agent.deps
from agent.settings import SANDBOX_URL, Settings
from cli.main import build_parser
from cli.serve_cmd import serve_settings
from sandbox.app import create_sandbox_app
from sandbox.world import World
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


async def test_demo_mode_mounts_the_sandbox_and_wires_its_helpdesk_back(
    fake: FakeConversationService,
) -> None:
    sandbox_app = create_sandbox_app()
    world: World = sandbox_app.state.world
    fake.world = world
    settings = make_settings(sandbox_mode=True, public_url="http://127.0.0.1:8123")
    app = create_app(settings, service=fake, sandbox_app=sandbox_app)

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

    assert order.status_code == 200
    assert world.helpdesk_webhook.url == "http://127.0.0.1:8123/webhooks/gorgias"
    assert world.helpdesk_webhook.secret == "test-gorgias-secret"
    assert reply.json()["webhook"] == {"url": "http://127.0.0.1:8123/webhooks/gorgias", "status": 200}
    assert world.webhook_deliveries[-1]["status"] == 200
    assert view["messages"][-1]["role"] == "agent"
    assert view["messages"][-1]["text"] == "Rosa here."
    assert view["messages"][-1]["author"] == "Rosa Alvarez"


def test_without_demo_mode_nothing_is_mounted(fake: FakeConversationService) -> None:
    app = create_app(make_settings(sandbox_mode=False), service=fake, sandbox_app=create_sandbox_app())

    assert not any(getattr(route, "path", "") == "/sandbox" for route in app.routes)


async def test_lifespan_builds_and_closes_the_real_service(
    monkeypatch: pytest.MonkeyPatch, fake: FakeConversationService
) -> None:
    closed: list[str] = []
    received: dict[str, Any] = {}

    async def build(
        settings: Settings, *, sandbox_app: FastAPI | None, sandbox_url: str | None = None
    ) -> tuple[Any, AsyncExitStack]:
        received.update(settings=settings, sandbox_app=sandbox_app, sandbox_url=sandbox_url)
        stack = AsyncExitStack()
        stack.callback(closed.append, "closed")
        return fake, stack

    monkeypatch.setattr(agent.deps, "build_conversation_service", build)
    sandbox_app = create_sandbox_app()
    settings = make_settings(sandbox_mode=True, public_url="http://127.0.0.1:8765")
    app = create_app(settings, sandbox_app=sandbox_app)

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", auth=ConversationTokens()
        ) as client:
            conversation_id = await start_conversation(client)
        assert closed == []

    assert closed == ["closed"]
    assert received == {
        "settings": settings,
        "sandbox_app": sandbox_app,
        "sandbox_url": "http://127.0.0.1:8765/sandbox",  # served by this app: no second server
    }
    assert conversation_id in fake.conversations


def test_public_url_moves_the_sandbox_urls_along() -> None:
    settings = Settings(_env_file=None, stripe_api_base="https://api.stripe.com")

    moved = with_public_url(settings, "http://127.0.0.1:9000/")

    assert moved.public_url == "http://127.0.0.1:9000"
    assert moved.shopify_api_base == "http://127.0.0.1:9000/sandbox/shopify/admin/api"
    assert moved.easypost_api_base == "http://127.0.0.1:9000/sandbox/easypost/v2"
    assert moved.stripe_api_base == "https://api.stripe.com"  # configured explicitly: kept
    assert "http://127.0.0.1:9000" in moved.cors_origins
    assert settings.shopify_api_base.startswith(SANDBOX_URL)  # the original is untouched


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
    assert settings.gorgias_base_url == "http://127.0.0.1:9001/sandbox/gorgias/api"


def test_serve_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOST", "PORT", "MODEL", "PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)

    settings = serve_settings(build_parser().parse_args(["serve"]))

    assert settings.public_url == "http://127.0.0.1:8000"
    assert settings.shopify_api_base == f"{SANDBOX_URL}/shopify/admin/api"

"""The chat server in demo mode: the sandbox mounted under /sandbox, every client pointed at it,
the sandbox helpdesk's webhooks delivered back into the server, the agent on the sandbox's clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI

from agent.conversation import ConversationService
from agent.helpdesks import helpdesk_spec
from agent.settings import Settings
from demo.runtime import open_demo_runtime, point_vendor_webhooks
from demo.sandbox import demo_settings, new_sandbox_app, world_of
from sandbox.shopify_webhooks import http_raw_sender
from sandbox.webhooks import WebhookSender, encode_body, http_webhook_sender
from sandbox.world import HelpdeskWebhook
from server.app import create_app

SANDBOX_PREFIX = "/sandbox"


def create_demo_app(
    settings: Settings, *, service: ConversationService | None = None, sandbox_app: FastAPI | None = None
) -> FastAPI:
    """The server of `make demo`: `server.app.create_app` with the sandbox (a fresh one seeded with
    SANDBOX_SEED unless `sandbox_app` is given) mounted under /sandbox and the agent built on it.

    The agent's clients reach the mounted sandbox at PUBLIC_URL/sandbox (no second server); `service`
    replaces the agent (tests)."""
    sandbox = sandbox_app or new_sandbox_app(settings)
    sandbox_url = f"{settings.public_url.rstrip('/')}{SANDBOX_PREFIX}"
    settings = demo_settings(settings, sandbox, sandbox_url)

    @asynccontextmanager
    async def open_service() -> AsyncIterator[ConversationService]:
        async with open_demo_runtime(settings, sandbox_app=sandbox, sandbox_url=sandbox_url) as runtime:
            yield runtime.service

    app = create_app(settings, service=service, open_service=open_service, mounts={SANDBOX_PREFIX: sandbox})
    connect_helpdesk_to_server(sandbox, app, settings)
    connect_vendor_webhooks_to_server(sandbox, app, settings)
    if settings.sandbox_control_token is not None:
        sandbox.state.control_token = settings.sandbox_control_token.get_secret_value()
    return app


def connect_helpdesk_to_server(sandbox_app: FastAPI, app: FastAPI, settings: Settings) -> None:
    """Point the sandbox helpdesk's webhooks at this server's /webhooks/{helpdesk}, with its secret."""
    header, secret = helpdesk_spec(settings.helpdesk).sandbox_webhook(settings)
    world_of(sandbox_app).helpdesk_webhook = HelpdeskWebhook(
        url=f"{settings.public_url.rstrip('/')}/webhooks/{settings.helpdesk}",
        secret_header=header,
        secret=secret,
    )
    sandbox_app.state.webhook_sender = in_process_sender(app, settings)


def connect_vendor_webhooks_to_server(sandbox_app: FastAPI, app: FastAPI, settings: Settings) -> None:
    """The sandbox's Twilio number and EasyPost account post to this server's /webhooks/{vendor}."""
    point_vendor_webhooks(sandbox_app, settings)
    own_origin = urlsplit(settings.public_url)[:2]

    async def send(url: str, headers: dict[str, str], body: bytes) -> int:
        if urlsplit(url)[:2] != own_origin:
            return await http_raw_sender(url, headers, body)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url=settings.public_url, timeout=30.0
        ) as client:
            response = await client.post(urlsplit(url).path, content=body, headers=headers)
        return response.status_code

    sandbox_app.state.raw_webhook_sender = send


def in_process_sender(app: FastAPI, settings: Settings) -> WebhookSender:
    """Webhooks addressed to this server go straight into the app (no socket, no dependence on the
    port actually bound); other URLs go over HTTP."""
    own_origin = urlsplit(settings.public_url)[:2]

    async def send(url: str, headers: dict[str, str], body: dict[str, Any]) -> int:
        if urlsplit(url)[:2] != own_origin:
            return await http_webhook_sender(url, headers, body)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url=settings.public_url, timeout=30.0
        ) as client:
            response = await client.post(
                urlsplit(url).path,
                content=encode_body(body),
                headers={"Content-Type": "application/json", **headers},
            )
        return response.status_code

    return send

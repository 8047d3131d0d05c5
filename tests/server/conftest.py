"""The server under test: `create_app` with the scripted fake service, driven through ASGI."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message

from agent.settings import Settings
from server.app import create_app
from tests.server.fake_service import FakeConversationService

CLIENT_IP = "203.0.113.7"
ALLOWED_ORIGIN = "https://shop.example"


def make_settings(**overrides: Any) -> Settings:
    """Test settings: no .env file, no sandbox unless asked, one extra allowed origin."""
    values: dict[str, Any] = {
        "sandbox_mode": False,
        "cors_origins": [ALLOWED_ORIGIN],
        "store_secret": "test-store-secret",
        "shopify_webhook_secret": "test-shopify-secret",
        "gorgias_webhook_header": "X-Support-Agent-Secret",
        "gorgias_webhook_secret": "test-gorgias-secret",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def fake() -> FakeConversationService:
    return FakeConversationService()


@pytest.fixture
def app(settings: Settings, fake: FakeConversationService) -> FastAPI:
    return create_app(settings, service=fake)


_CONVERSATION_PATH = re.compile(r"^/api/conversations/([^/]+)")


class ConversationTokens(httpx.Auth):
    """What a well-behaved client does: keeps the token each `POST /api/conversations` returns and
    sends it as `Authorization: Bearer` on that conversation's calls. A request that sets its own
    Authorization header (or `auth=None`) is left alone, which is how tests send wrong or no tokens."""

    requires_response_body = True

    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        match = _CONVERSATION_PATH.match(request.url.path)
        if match and "authorization" not in request.headers and match.group(1) in self.tokens:
            request.headers["Authorization"] = f"Bearer {self.tokens[match.group(1)]}"
        response = yield request
        if (
            request.method == "POST"
            and request.url.path == "/api/conversations"
            and response.status_code == 201
        ):
            started = response.json()
            self.tokens[started["id"]] = started["token"]


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client through ASGI with the app's lifespan entered (ASGITransport does not run it); it
    sends each conversation's token like the widget does (`ConversationTokens`)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(CLIENT_IP, 50000), raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", auth=ConversationTokens()
        ) as http:
            yield http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_of(client: httpx.AsyncClient, conversation_id: str) -> str:
    """The token `client` keeps for a conversation it started."""
    tokens = client.auth
    assert isinstance(tokens, ConversationTokens)
    return tokens.tokens[conversation_id]


def parse_sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    """(event type, data) for every event of an SSE body, checking the framing as it goes."""
    events: list[tuple[str, dict[str, Any]]] = []
    assert text.endswith("\n\n"), "every SSE block ends with a blank line"
    for block in text.split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        if not lines or all(line.startswith("retry:") for line in lines):
            continue
        assert len(lines) == 2, block
        assert lines[0].startswith("event: "), block
        assert lines[1].startswith("data: "), block
        events.append((lines[0].removeprefix("event: "), json.loads(lines[1].removeprefix("data: "))))
    return events


async def start_conversation(client: httpx.AsyncClient) -> str:
    response = await client.post("/api/conversations")
    assert response.status_code == 201
    conversation_id: str = response.json()["id"]
    return conversation_id


@dataclass
class RawExchange:
    """One request driven straight through the ASGI interface, so a test can read a response that
    never ends (SSE) chunk by chunk and disconnect like a browser closing the tab."""

    app: FastAPI
    method: str
    path: str
    body: bytes = b""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    sent: asyncio.Queue[Message] = field(default_factory=asyncio.Queue)
    _disconnect: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    def start(self) -> RawExchange:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},  # what uvicorn declares
            "http_version": "1.1",
            "method": self.method,
            "scheme": "http",
            "path": self.path,
            "raw_path": self.path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"testserver"),
                (b"content-length", str(len(self.body)).encode()),
                *self.headers,
            ],
            "client": (CLIENT_IP, 50001),
            "server": ("testserver", 80),
            "state": {},
        }
        body_sent = False

        async def receive() -> Message:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": self.body, "more_body": False}
            await self._disconnect.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            self.sent.put_nowait(message)

        self.task = asyncio.create_task(self.app(scope, receive, send))
        return self

    async def status(self) -> int:
        message = await self.sent.get()
        assert message["type"] == "http.response.start"
        status: int = message["status"]
        return status

    async def read_until(self, predicate: Callable[[str], bool]) -> str:
        """Body text received so far, once `predicate` holds for it."""
        text = ""
        async with asyncio.timeout(10):  # a bound for a broken server, not a wait
            while not predicate(text):
                message = await self.sent.get()
                text += message.get("body", b"").decode()
        return text

    async def disconnect(self) -> None:
        self._disconnect.set()
        assert self.task is not None
        async with asyncio.timeout(10):
            await self.task

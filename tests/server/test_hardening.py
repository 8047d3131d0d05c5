"""Limits, rate limiting, CORS and error bodies: refused requests change nothing and say why in JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from agent.conversation import ChatEvent
from server.app import create_app
from server.security import RateLimiter
from tests.server.conftest import ALLOWED_ORIGIN, ConversationTokens, make_settings, start_conversation
from tests.server.fake_service import FakeConversationService


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_too_long_message_is_refused(client: httpx.AsyncClient, fake: FakeConversationService) -> None:
    conversation_id = await start_conversation(client)

    response = await client.post(f"/api/conversations/{conversation_id}/messages", json={"text": "x" * 2001})

    assert response.status_code == 422
    assert response.json() == {"error": "message_too_long", "detail": {"max_chars": 2000}}
    assert fake.processed == []
    assert fake.conversations[conversation_id].messages == []


async def test_blank_message_is_refused(client: httpx.AsyncClient, fake: FakeConversationService) -> None:
    conversation_id = await start_conversation(client)

    response = await client.post(f"/api/conversations/{conversation_id}/messages", json={"text": "  \n "})

    assert response.status_code == 422
    assert response.json()["error"] == "empty_message"
    assert fake.conversations[conversation_id].messages == []


async def test_declared_body_over_the_limit_is_413(
    client: httpx.AsyncClient, fake: FakeConversationService
) -> None:
    conversation_id = await start_conversation(client)
    body = b'{"text": "' + b"x" * 70_000 + b'"}'

    response = await client.post(
        f"/api/conversations/{conversation_id}/messages",
        content=body,
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json() == {"error": "body_too_large", "detail": {"max_bytes": 64_000}}
    assert fake.conversations[conversation_id].messages == []


async def test_streamed_body_over_the_limit_is_413(
    client: httpx.AsyncClient, fake: FakeConversationService
) -> None:
    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: only counting catches it
        yield b'{"event": "ticket-updated", "pad": "'
        for _ in range(20):
            yield b"x" * 4000
        yield b'"}'

    response = await client.post(
        "/webhooks/gorgias", content=chunks(), headers={"X-Support-Agent-Secret": "test-gorgias-secret"}
    )

    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"
    assert fake.helpdesk_events == []


async def test_per_conversation_rate_limit_with_retry_after(
    client: httpx.AsyncClient, fake: FakeConversationService, app: FastAPI
) -> None:
    clock = FakeClock()
    app.state.conversation_limiter = RateLimiter(2, clock=clock)
    conversation_id = await start_conversation(client)
    other_id = await start_conversation(client)
    url = f"/api/conversations/{conversation_id}/messages"

    allowed = [await client.post(url, json={"text": f"hello {n}"}) for n in range(2)]
    limited = await client.post(url, json={"text": "hello again"})
    other = await client.post(f"/api/conversations/{other_id}/messages", json={"text": "hello"})
    clock.now += 30  # half a minute refills one of two tokens
    later = await client.post(url, json={"text": "hello later"})

    assert [r.status_code for r in allowed] == [200, 200]
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "30"
    assert limited.json() == {"error": "rate_limited", "detail": {"retry_after_seconds": 30}}
    assert other.status_code == 200
    assert later.status_code == 200
    assert [text for _, text in fake.processed] == ["hello 0", "hello 1", "hello", "hello later"]


async def test_per_ip_rate_limit_covers_new_conversations_and_messages(
    client: httpx.AsyncClient, fake: FakeConversationService, app: FastAPI
) -> None:
    app.state.ip_limiter = RateLimiter(3, clock=FakeClock())
    conversation_id = await start_conversation(client)
    url = f"/api/conversations/{conversation_id}/messages"

    await client.post(url, json={"text": "one"})
    await client.post(url, json={"text": "two"})
    limited_message = await client.post(url, json={"text": "three"})
    limited_start = await client.post("/api/conversations")

    assert limited_message.status_code == 429
    assert limited_start.status_code == 429
    assert int(limited_start.headers["Retry-After"]) == 20
    assert len(fake.conversations) == 1
    assert [text for _, text in fake.processed] == ["one", "two"]


async def test_limits_come_from_settings(fake: FakeConversationService) -> None:
    settings = make_settings(
        max_message_chars=10, max_body_bytes=300, rate_limit_per_conversation_per_minute=1
    )
    app = create_app(settings, service=fake)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", auth=ConversationTokens()
        ) as client:
            conversation_id = await start_conversation(client)
            url = f"/api/conversations/{conversation_id}/messages"
            too_long = await client.post(url, json={"text": "eleven char"})
            too_big = await client.post(url, json={"text": "short", "pad": "x" * 400})
            first = await client.post(url, json={"text": "short"})
            second = await client.post(url, json={"text": "short"})

    assert too_long.json()["detail"] == {"max_chars": 10}
    assert too_big.status_code == 413
    assert first.status_code == 200
    assert second.status_code == 429


async def test_cors_allows_only_configured_origins(client: httpx.AsyncClient) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}

    allowed = await client.options("/api/conversations", headers={"Origin": ALLOWED_ORIGIN, **preflight})
    refused = await client.options(
        "/api/conversations", headers={"Origin": "https://evil.example", **preflight}
    )
    simple = await client.post("/api/conversations", headers={"Origin": ALLOWED_ORIGIN})
    foreign = await client.post("/api/conversations", headers={"Origin": "https://evil.example"})

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    assert simple.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "access-control-allow-origin" not in foreign.headers


async def test_rate_limited_answer_is_readable_cross_origin(client: httpx.AsyncClient, app: FastAPI) -> None:
    app.state.ip_limiter = RateLimiter(1, clock=FakeClock())
    await client.post("/api/conversations", headers={"Origin": ALLOWED_ORIGIN})

    limited = await client.post("/api/conversations", headers={"Origin": ALLOWED_ORIGIN})

    assert limited.status_code == 429
    assert limited.headers["access-control-allow-origin"] == ALLOWED_ORIGIN


async def test_validation_errors_are_json_without_the_input(client: httpx.AsyncClient) -> None:
    conversation_id = await start_conversation(client)

    response = await client.post(
        f"/api/conversations/{conversation_id}/messages", json={"txt": "my card is 4111 1111 1111 1111"}
    )
    broken = await client.post(
        f"/api/conversations/{conversation_id}/messages",
        content=b'{"text": ',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request"
    assert body["detail"] == [{"loc": ["body", "text"], "msg": "Field required", "type": "missing"}]
    assert "4111" not in response.text
    assert broken.status_code == 422
    assert broken.json()["error"] == "invalid_request"


async def test_unknown_routes_and_methods_are_json(client: httpx.AsyncClient) -> None:
    missing = await client.get("/nothing-here")
    wrong_method = await client.delete("/api/conversations")

    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "detail": "Not Found"}
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "method_not_allowed"


class BrokenService(FakeConversationService):
    """Fails the way a bug would: an exception with internals in its message."""

    async def get(self, conversation_id: str) -> Any:
        raise RuntimeError("psycopg: password=hunter2 at /srv/app/agent/service.py line 99")

    async def send(
        self,
        conversation_id: str,
        text: str,
        *,
        client_message_id: str | None = None,
        stream_tokens: bool = True,
        client: str | None = None,
    ) -> AsyncIterator[ChatEvent]:
        yield ChatEvent(type="progress", data={"text": "Looking up your order…", "tool": "lookup_order"})
        raise RuntimeError("psycopg: password=hunter2")


@pytest.fixture
def broken_app() -> FastAPI:
    return create_app(make_settings(), service=BrokenService())


async def test_unexpected_errors_are_json_without_internals(broken_app: FastAPI) -> None:
    async with broken_app.router.lifespan_context(broken_app):
        transport = httpx.ASGITransport(app=broken_app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", auth=ConversationTokens()
        ) as client:
            conversation_id = await start_conversation(client)
            view = await client.get(f"/api/conversations/{conversation_id}")
            streamed = await client.post(
                f"/api/conversations/{conversation_id}/messages", json={"text": "hi"}
            )
            as_json = await client.post(
                f"/api/conversations/{conversation_id}/messages",
                json={"text": "hi"},
                headers={"Accept": "application/json"},
            )

    assert view.status_code == 500
    assert view.json() == {"error": "internal_error", "detail": "Something went wrong on our side."}
    assert streamed.status_code == 200
    assert "event: progress" in streamed.text
    assert "event: error" in streamed.text
    assert as_json.status_code == 503
    assert as_json.json()["error"] == "turn_failed"
    for response in (view, streamed, as_json):
        assert "hunter2" not in response.text
        assert "Traceback" not in response.text
        assert "service.py" not in response.text

"""Attacks on the server's guards, each checked by its HTTP answer AND by the store being unchanged.

The app runs in demo mode with the sandbox mounted and the scripted service acting on the same
sandbox world (tickets for hand-offs, label emails), so `world.digest()` shows any side effect.
Covered: conversation token theft and absence, forged and replayed Shopify webhooks (same, changed
and dropped delivery id), invalid Unicode in every body of every route, weak signing secrets,
signed identities replayed after their maximum age, and the sandbox control API without its token.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from agent.deps import real_store_settings
from agent.models import ConfigError
from agent.settings import Settings
from cli.exposure import check_demo_exposure
from demo.server import create_demo_app
from integrations.shopify.webhooks import sign_webhook
from sandbox.app import create_sandbox_app
from sandbox.world import World
from server.security import sign_identity
from tests.server.conftest import CLIENT_IP, ConversationTokens, make_settings, token_of
from tests.server.fake_service import FakeConversationService

CONTROL_TOKEN = "Zr4Kq9Lm2Xw7Pv1Ty6Bn3Hc8Jd5Fg0Sa"
NOT_FOUND = {"error": "conversation_not_found", "detail": "No conversation with this id."}


@dataclass
class Target:
    app: FastAPI
    http: httpx.AsyncClient
    fake: FakeConversationService
    sandbox: FastAPI
    settings: Settings

    @property
    def world(self) -> World:
        world: World = self.sandbox.state.world
        return world

    def digest(self) -> str:
        return self.world.digest()


async def _target(**overrides: Any) -> AsyncIterator[Target]:
    sandbox = create_sandbox_app()
    fake = FakeConversationService(world=sandbox.state.world)
    settings = make_settings(sandbox_mode=True, public_url="http://127.0.0.1:8123", **overrides)
    app = create_demo_app(settings, service=fake, sandbox_app=sandbox)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(CLIENT_IP, 50000), raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", auth=ConversationTokens()
        ) as http:
            yield Target(app, http, fake, sandbox, settings)


@pytest.fixture
async def target() -> AsyncIterator[Target]:
    async for made in _target():
        yield made


@pytest.fixture
async def guarded() -> AsyncIterator[Target]:
    """Demo mode with SANDBOX_CONTROL_TOKEN set."""
    async for made in _target(sandbox_control_token=CONTROL_TOKEN):
        yield made


async def _start(target: Target) -> str:
    response = await target.http.post("/api/conversations")
    assert response.status_code == 201
    conversation_id: str = response.json()["id"]
    return conversation_id


def _conversation_calls(conversation_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    base = f"/api/conversations/{conversation_id}"
    return [
        ("GET", base, None),
        ("POST", f"{base}/messages", {"text": "a human please"}),
        ("GET", f"{base}/events", None),
    ]


# --------------------------------------------------------------------------- conversation tokens


async def test_no_token_is_401_and_changes_nothing(target: Target) -> None:
    victim = await _start(target)
    await target.http.post(f"/api/conversations/{victim}/messages", json={"text": "Where is #1001?"})
    before = target.digest()

    for headers in (
        {},
        {"Authorization": ""},
        {"Authorization": "Basic Zm9vOmJhcg=="},
        {"Authorization": "Bearer "},
    ):
        for method, path, body in _conversation_calls(victim):
            response = await target.http.request(method, path, json=body, headers=headers, auth=None)
            assert response.status_code == 401, (path, headers)
            assert response.json()["error"] == "missing_token"
            assert "Authorization: Bearer" in response.json()["detail"]
            assert response.headers["www-authenticate"] == "Bearer"
            assert "Where is" not in response.text

    assert target.fake.processed == [(victim, "Where is #1001?")]  # only the owner's turn ran
    assert target.digest() == before


async def test_another_conversations_token_or_a_guess_is_an_unknown_conversation(target: Target) -> None:
    victim = await _start(target)
    attacker = await _start(target)
    await target.http.post(f"/api/conversations/{victim}/messages", json={"text": "Where is #1001?"})
    before = target.digest()
    stolen_id_only = {"Authorization": f"Bearer {token_of(target.http, attacker)}"}
    guesses = [stolen_id_only, {"Authorization": "Bearer " + "A" * 43}, {"Authorization": f"Bearer {victim}"}]

    for headers in guesses:
        for method, path, body in _conversation_calls(victim):
            response = await target.http.request(method, path, json=body, headers=headers)
            assert response.status_code == 404, (path, headers)
            assert response.json() == NOT_FOUND  # indistinguishable from an id that does not exist
        unknown = await target.http.get("/api/conversations/0123456789abcdef", headers=headers)
        assert unknown.json() == NOT_FOUND

    assert target.fake.processed == [(victim, "Where is #1001?")]
    assert target.fake.conversations[victim].ticket_id is None  # no hand-off was forced on the victim
    assert target.digest() == before


async def test_the_token_is_stored_only_as_its_digest(target: Target) -> None:
    started = (await target.http.post("/api/conversations")).json()
    stored = target.fake.conversations[started["id"]]
    assert stored.access_digest == hashlib.sha256(started["token"].encode()).hexdigest()
    assert started["token"] not in json.dumps(stored.__dict__, default=str)


# --------------------------------------------------------------------------- Shopify webhooks


def _order_body() -> bytes:
    return json.dumps(
        {"id": 820982911946154508, "order_number": 1001, "email": "ana.silva@example.com"}
    ).encode()


def _signed(body: bytes, settings: Settings, webhook_id: str | None) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": sign_webhook(body, settings.shopify_webhook_secret.get_secret_value()),
        "X-Shopify-Topic": "orders/updated",
    }
    if webhook_id is not None:
        headers["X-Shopify-Webhook-Id"] = webhook_id
    return headers


async def test_forged_shopify_webhooks_change_nothing(target: Target) -> None:
    body = _order_body()
    before = target.digest()
    forged = [
        {
            **_signed(body, target.settings, "wh-1"),
            "X-Shopify-Hmac-Sha256": sign_webhook(body, "guessed-secret"),
        },
        {"Content-Type": "application/json", "X-Shopify-Webhook-Id": "wh-1"},
        {**_signed(b"{}", target.settings, "wh-1")},  # a valid signature of another body
    ]
    for headers in forged:
        response = await target.http.post("/webhooks/shopify/orders/updated", content=body, headers=headers)
        assert response.status_code == 401
    assert target.fake.store_events == []
    assert target.digest() == before


@pytest.mark.parametrize(
    "replay_id", ["wh-1", "wh-2-changed", None], ids=["same-id", "changed-id", "dropped-id"]
)
async def test_replayed_shopify_webhook_is_a_duplicate_whatever_its_id(
    target: Target, replay_id: str | None
) -> None:
    body = _order_body()
    first = await target.http.post(
        "/webhooks/shopify/orders/updated", content=body, headers=_signed(body, target.settings, "wh-1")
    )
    before = target.digest()

    replay = await target.http.post(
        "/webhooks/shopify/orders/updated", content=body, headers=_signed(body, target.settings, replay_id)
    )

    assert first.json() == {"status": "ok"}
    assert replay.status_code == 200
    assert replay.json() == {"status": "duplicate"}
    assert len(target.fake.store_events) == 1
    assert target.digest() == before


async def test_the_same_body_under_another_topic_is_not_a_replay(target: Target) -> None:
    body = _order_body()
    for topic in ("orders/updated", "orders/fulfilled"):
        headers = {**_signed(body, target.settings, None), "X-Shopify-Topic": topic}
        response = await target.http.post(f"/webhooks/shopify/{topic}", content=body, headers=headers)
        assert response.json() == {"status": "ok"}
    assert [event.kind for event in target.fake.store_events] == ["order_updated", "order_fulfilled"]


# --------------------------------------------------------------------------- invalid Unicode


LONE_SURROGATE = b'{"text": "hi \\ud800", "email": "a@b.c", "event": "x", "ticket": {"id": 1}}'
INVALID_UTF8 = b'{"text": "hi \xff\xfe", "event": "x"}'
SURROGATE_KEY = b'{"\\udfff": 1, "text": "hi"}'
NESTED = (
    b'{"event": "ticket-message-created", "ticket": {"id": 1}, "message": {"body_text": ["ok", "\\udc00"]}}'
)


def _body_routes(app: FastAPI, sandbox: FastAPI) -> list[tuple[str, str]]:
    """(method, path with sample parameters) of every route that takes a body: the server's and
    the mounted sandbox's (their OpenAPI documents list them all)."""
    routes: list[tuple[str, str]] = []
    for prefix, documented in (("", app), ("/sandbox", sandbox)):
        for path, operations in documented.openapi()["paths"].items():
            for method in operations:
                if method in ("post", "put", "patch"):
                    sample = (
                        path.replace("{conversation_id}", "CONV")
                        .replace("{topic}", "orders/updated")
                        .replace("{vendor}", "gorgias")
                    )
                    routes.append((method.upper(), prefix + re.sub(r"\{[^}]+\}", "1", sample)))
    return routes


async def test_invalid_unicode_in_any_body_of_any_route_is_422(target: Target) -> None:
    conversation = await _start(target)
    token = token_of(target.http, conversation)
    routes = _body_routes(target.app, target.sandbox)
    assert ("POST", "/api/conversations") in routes
    assert ("POST", "/webhooks/gorgias") in routes
    assert ("POST", "/sandbox/_sandbox/tickets/1/reply") in routes
    before = target.digest()

    for method, path in routes:
        path = path.replace("CONV", conversation)
        for body in (LONE_SURROGATE, INVALID_UTF8, SURROGATE_KEY, NESTED):
            headers = {
                "Content-Type": "application/json",
                "Authorization": f"Bearer {token}",
                "X-Support-Agent-Secret": target.settings.gorgias_webhook_secret.get_secret_value(),
                "X-Shopify-Hmac-Sha256": sign_webhook(
                    body, target.settings.shopify_webhook_secret.get_secret_value()
                ),
            }
            response = await target.http.request(method, path, content=body, headers=headers)
            assert response.status_code == 422, (method, path, body, response.text)
            answer = response.json()
            assert answer["error"] == "invalid_unicode"
            assert "retryable" not in response.text
            assert "Unicode" in answer["detail"] or "UTF-8" in answer["detail"]

    assert target.fake.processed == []
    assert target.fake.store_events == [] and target.fake.helpdesk_events == []
    assert target.digest() == before


async def test_the_422_says_where_the_bad_text_is(target: Target) -> None:
    conversation = await _start(target)
    response = await target.http.post(
        f"/api/conversations/{conversation}/messages",
        content=b'{"text": "ok", "client_message_id": "\\ud800"}',
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid_unicode",
        "detail": "body.client_message_id contains an invalid Unicode escape (a lone surrogate such as \\ud800).",
    }
    # A valid surrogate pair (an emoji written as JSON escapes) is fine.
    emoji = await target.http.post(
        f"/api/conversations/{conversation}/messages",
        content=b'{"text": "thanks \\ud83d\\ude00"}',
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    assert emoji.status_code == 200


# --------------------------------------------------------------------------- signed identities


def _identity(settings: Settings, issued_at: int, email: str = "ana.silva@example.com") -> dict[str, Any]:
    signature = sign_identity(email, issued_at, settings.store_secret.get_secret_value())
    return {"email": email, "issued_at": issued_at, "signature": signature}


async def test_signed_identity_is_refused_after_its_max_age_or_from_the_future(target: Target) -> None:
    now = int(time.time())
    max_age = target.settings.identity_max_age_seconds
    assert max_age == 86_400  # the default: 24 hours

    old = await target.http.post("/api/conversations", json=_identity(target.settings, now - max_age - 60))
    future = await target.http.post("/api/conversations", json=_identity(target.settings, now + 3600))
    tampered = _identity(target.settings, now - max_age - 60)
    tampered["issued_at"] = now  # moved forward without re-signing
    refreshed = await target.http.post("/api/conversations", json=tampered)

    assert (old.status_code, old.json()["error"]) == (401, "identity_expired")
    assert (future.status_code, future.json()["error"]) == (401, "identity_expired")
    assert (refreshed.status_code, refreshed.json()["error"]) == (401, "invalid_signature")
    assert target.fake.conversations == {}
    fresh = await target.http.post("/api/conversations", json=_identity(target.settings, now - 60))
    assert fresh.json()["verified"] is True


async def test_a_legacy_email_only_signature_is_refused(target: Target) -> None:
    import hmac

    email = "ana.silva@example.com"
    legacy = hmac.new(
        target.settings.store_secret.get_secret_value().encode(), email.encode(), hashlib.sha256
    )
    response = await target.http.post(
        "/api/conversations", json={"email": email, "signature": legacy.hexdigest()}
    )
    assert response.status_code == 422
    assert response.json()["error"] == "incomplete_identity"
    assert target.fake.conversations == {}


# --------------------------------------------------------------------------- weak secrets


@pytest.mark.parametrize("weak", ["a", "x" * 64, "secretsecretsecretsecretsecret12"])
def test_a_real_store_refuses_to_start_with_a_weak_store_secret(weak: str) -> None:
    settings = Settings(
        _env_file=None,
        sandbox_mode=False,
        shopify_api_base="https://acme.myshopify.com/admin/api",
        gorgias_base_url="https://acme.gorgias.com/api",
        store_secret=SecretStr(weak),
        gorgias_webhook_secret=SecretStr("Tq8Lz3Wn6Rv1Yp4Kc9Mx2Hb7Js5Df0Gu"),
        shopify_webhook_secret=SecretStr("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"),
    )
    with pytest.raises(ConfigError, match="STORE_SECRET"):
        real_store_settings(settings)


# --------------------------------------------------------------------------- sandbox control API


CONTROL_CALLS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/sandbox/_sandbox/reset", None),
    ("POST", "/sandbox/_sandbox/tickets/1/approve", None),
    ("POST", "/sandbox/_sandbox/clock", {"now": "2030-01-01T00:00:00Z"}),
    (
        "PUT",
        "/sandbox/_sandbox/helpdesk-webhook",
        {"url": "https://evil.example/hook", "secret_header": "X", "secret": "s"},
    ),
    ("GET", "/sandbox/_sandbox/helpdesk-webhook", None),
    ("GET", "/sandbox/_sandbox/outbox", None),
    ("GET", "/sandbox/_sandbox/orders/1001", None),
]


async def test_control_api_without_its_token_is_401_and_changes_nothing(guarded: Target) -> None:
    before = guarded.digest()
    hook = guarded.world.helpdesk_webhook.model_copy()
    world = guarded.world

    for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": CONTROL_TOKEN}):
        for method, path, body in CONTROL_CALLS:
            response = await guarded.http.request(method, path, json=body, headers=headers)
            assert response.status_code == 401, (path, headers)
            assert "SANDBOX_CONTROL_TOKEN" in response.text
            assert "ana.silva" not in response.text and "gorgias_webhook" not in response.text

    assert guarded.world is world  # not reset
    assert guarded.world.helpdesk_webhook == hook  # not rewired
    assert guarded.digest() == before


async def test_control_api_with_its_token_works(guarded: Target) -> None:
    authorized = {"Authorization": f"Bearer {CONTROL_TOKEN}"}
    order = await guarded.http.get("/sandbox/_sandbox/orders/1001", headers=authorized)
    reset = await guarded.http.post("/sandbox/_sandbox/reset", headers=authorized)
    vendor = await guarded.http.get("/sandbox/_sandbox/docs")  # the docs page stays readable
    assert (order.status_code, reset.status_code, vendor.status_code) == (200, 200, 200)


async def test_loopback_demo_without_a_token_stays_open(target: Target) -> None:
    response = await target.http.get("/sandbox/_sandbox/orders/1001")
    assert response.status_code == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "shop.example"])  # noqa: S104
def test_a_reachable_demo_needs_a_strong_control_token(host: str) -> None:
    with pytest.raises(ConfigError, match="SANDBOX_CONTROL_TOKEN"):
        check_demo_exposure(host, True, None)
    with pytest.raises(ConfigError, match="too weak"):
        check_demo_exposure(host, True, SecretStr("demo"))
    check_demo_exposure(host, True, SecretStr(CONTROL_TOKEN))  # allowed with a strong token
    check_demo_exposure(host, False, None)  # no sandbox: nothing to protect here


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_a_loopback_demo_needs_no_token(host: str) -> None:
    check_demo_exposure(host, True, None)


def test_serve_refuses_a_public_demo_without_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    from cli.main import main

    monkeypatch.delenv("SANDBOX_CONTROL_TOKEN", raising=False)
    monkeypatch.setenv("SANDBOX_MODE", "true")
    served: list[object] = []
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: served.append(args))
    assert main(["serve", "--host", "0.0.0.0"]) == 2  # noqa: S104
    assert served == []

"""The chat API against the REAL conversation service: the agent with the offline model on an
in-process sandbox store, behind `create_app` and its lifespan, driven through ASGI.

The fake-service tests (test_chat_api.py and friends) pin the HTTP contract quickly; these check that
the real service honours it: idempotent retries, error paths that change nothing, statuses and the
history, and a person taking over through the helpdesk's webhook. Each test asserts the responses
and the resulting state: the conversation's history and the sandbox world.

- The runtime is built by the app's lifespan (`open_service`), as in production, on the demo wiring
  (`demo.runtime.open_demo_runtime`): the sandbox is served on loopback for the SDK-based clients,
  and its helpdesk's webhooks come back to this app's `/webhooks/gorgias` (`demo.server`).
- The helpdesk outbox worker is off: tests deliver the outbox themselves (`drain`), as in tests/agent.
- Vendor retries never sleep; the sandbox's rate limits are lifted (not a load test).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from langchain_core.language_models import BaseChatModel
from langgraph.store.base import BaseStore

import integrations._http
import integrations.shopify.client
from agent.conversation import ConversationService
from agent.models import build_model
from agent.settings import Settings
from demo.openai_compat import attach_chat_backend
from demo.runtime import DemoRuntime, open_demo_runtime
from demo.server import connect_helpdesk_to_server
from sandbox.app import create_sandbox_app
from sandbox.vendors.gorgias import CallLimiter
from sandbox.vendors.shopify_graphql import configure_cost_bucket
from sandbox.world import JSON, World
from server.app import create_app
from server.security import sign_identity
from tests.agent.conftest import memory_persistence, recording_retries
from tests.server.conftest import (
    CLIENT_IP,
    ConversationTokens,
    RawExchange,
    bearer,
    make_settings,
    parse_sse,
    token_of,
)

ANA = "ana.silva@example.com"
BEN = "ben.okafor@example.com"
WISMO = f"Where is my order #1001? {ANA}"
RETURN = f"I'd like to return order #1002, my email is {BEN}"
JSON_ACCEPT = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def offline_model() -> BaseChatModel:
    """The product's default model, built once for the module (its classifier loads once)."""
    return build_model(Settings(_env_file=None), "offline")


@dataclass
class Store:
    """The server with the real agent, a client that keeps conversation tokens like the widget,
    and the test's hands on the sandbox (a person at the helpdesk, the world)."""

    app: FastAPI
    http: httpx.AsyncClient
    desk: httpx.AsyncClient  # the sandbox control API, in-process
    runtime: DemoRuntime
    settings: Settings

    @property
    def world(self) -> World:
        return self.runtime.world

    @property
    def store(self) -> BaseStore:
        return self.runtime.persistence.store

    async def start(self, **identity: Any) -> str:
        response = await self.http.post("/api/conversations", json=identity or None)
        assert response.status_code == 201, response.text
        conversation_id: str = response.json()["id"]
        return conversation_id

    def signed(self, email: str) -> JSON:
        """A fresh signed widget identity, as the store's page would render it."""
        issued_at = int(time.time())
        secret = self.settings.store_secret.get_secret_value()
        return {"email": email, "issued_at": issued_at, "signature": sign_identity(email, issued_at, secret)}

    async def say(self, conversation_id: str, text: str, **body: Any) -> httpx.Response:
        """One shopper turn in JSON mode; the helpdesk outbox is delivered afterwards."""
        response = await self.http.post(
            f"/api/conversations/{conversation_id}/messages", json={"text": text, **body}, headers=JSON_ACCEPT
        )
        await self.runtime.sync.drain()
        return response

    async def view(self, conversation_id: str) -> JSON:
        response = await self.http.get(f"/api/conversations/{conversation_id}")
        assert response.status_code == 200, response.text
        view: JSON = response.json()
        return view

    async def history(self, conversation_id: str) -> list[tuple[str, str]]:
        return [(m["role"], m["text"]) for m in (await self.view(conversation_id))["messages"]]

    async def conversations(self) -> list[str]:
        return [item.key for item in await self.store.asearch(("conversations",), limit=1000)]

    async def human(self, ticket_id: Any, action: str, **body: Any) -> JSON:
        """A person acts on the ticket in the sandbox helpdesk; its webhook comes to this server."""
        response = await self.desk.post(f"/_sandbox/tickets/{ticket_id}/{action}", json=body or None)
        assert response.status_code == 200, response.text
        result: JSON = response.json()
        await self.runtime.sync.drain()
        return result

    async def inject(self, **fault: Any) -> None:
        response = await self.desk.post("/_sandbox/faults", json=fault)
        assert response.status_code == 201, response.text

    def ticket(self, ticket_id: Any) -> JSON:
        return self.world.gorgias.tickets[int(ticket_id)]

    def labels(self) -> list[JSON]:
        return [s for s in self.world.easypost.shipments.values() if s.get("postage_label")]


@pytest.fixture
def open_store(monkeypatch: pytest.MonkeyPatch, offline_model: BaseChatModel) -> Callable[..., Any]:
    """A factory: `async with open_store(**settings) as store`."""
    waits: list[float] = []
    retries = recording_retries(waits)
    monkeypatch.setattr(integrations._http, "retrying", retries)
    monkeypatch.setattr(integrations.shopify.client, "retrying", retries)

    @asynccontextmanager
    async def factory(**overrides: Any) -> AsyncIterator[Store]:
        values: dict[str, Any] = {
            "sandbox_mode": True,
            "model": "offline",
            "database_url": None,
            "helpdesk_sync_worker": False,
        }
        settings = make_settings(**{**values, **overrides})
        sandbox = create_sandbox_app()
        attach_chat_backend(sandbox, offline_model)  # answers `openai:offline` over the OpenAI protocol
        configure_cost_bucket(sandbox, enabled=False)
        sandbox.state.gorgias_call_limiter = CallLimiter(limit=1_000_000)
        opened: list[DemoRuntime] = []

        @asynccontextmanager
        async def open_service() -> AsyncIterator[ConversationService]:
            model = offline_model if settings.model == "offline" else None
            async with open_demo_runtime(
                settings, model=model, sandbox_app=sandbox, persistence=memory_persistence()
            ) as runtime:
                # The sandbox helpdesk's webhooks reach the agent through this server's route.
                connect_helpdesk_to_server(sandbox, app, settings)
                opened.append(runtime)
                yield runtime.service

        app = create_app(settings, open_service=open_service)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=(CLIENT_IP, 50000), raise_app_exceptions=False)
            async with (
                httpx.AsyncClient(
                    transport=transport, base_url="http://testserver", auth=ConversationTokens(), timeout=60
                ) as http,
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=sandbox), base_url="http://sandbox"
                ) as desk,
            ):
                yield Store(app=app, http=http, desk=desk, runtime=opened[0], settings=settings)

    return factory


@pytest.fixture
async def store(open_store: Callable[..., Any]) -> AsyncIterator[Store]:
    async with open_store() as running:
        yield running


# --------------------------------------------------------------------------- a plain turn, status, history


async def test_wismo_turn_answers_with_tracking_and_the_history_holds_it(store: Store) -> None:
    cid = await store.start()

    response = await store.say(cid, WISMO)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "active"
    shopper, *replies = body["messages"]
    assert (shopper["role"], shopper["text"]) == ("shopper", WISMO)
    reply = replies[-1]
    assert reply["role"] == "assistant"
    assert "UPS" in reply["text"] and "1Z84F2A90312345678" in reply["text"]
    assert reply["card"]["type"] == "tracking"
    view = await store.view(cid)
    assert (view["status"], view["intent"], view["customer_email"]) == ("active", "wismo", ANA)
    assert [m["id"] for m in view["messages"]] == [m["id"] for m in body["messages"]]
    # Mirrored to the helpdesk: one ticket for the conversation, tagged as handled by the bot.
    ticket = store.ticket(view["ticket_id"])
    assert ticket["external_id"] == cid
    assert {"ai-handled", "wismo"} <= {t["name"] for t in ticket["tags"]}


async def test_sse_turn_streams_progress_and_ends_with_done(store: Store) -> None:
    cid = await store.start()

    response = await store.http.post(f"/api/conversations/{cid}/messages", json={"text": WISMO})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "message" and events[0][1]["role"] == "shopper"
    tools = [data["tool"] for kind, data in events if kind == "progress"]
    assert tools == ["verify_customer", "get_tracking_status"]  # the tools the agent really called
    assert kinds[-1] == "done"
    assert events[-1][1]["status"] == "active"


async def test_signed_identity_starts_a_verified_conversation(store: Store) -> None:
    cid = await store.start(**store.signed(ANA))

    response = await store.say(cid, "Where is my order #1001?")  # no email: the widget vouched for her

    assert response.json()["messages"][-1]["card"]["type"] == "tracking"
    assert (await store.view(cid))["customer_email"] == ANA


# --------------------------------------------------------------------------- idempotency


async def test_same_client_message_id_twice_is_one_turn_with_the_same_reply(store: Store) -> None:
    cid = await store.start()
    body = {"client_message_id": "widget-1"}

    first = await store.say(cid, WISMO, **body)
    after_first = store.world.digest()
    second = await store.say(cid, WISMO, **body)

    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    history = await store.history(cid)
    assert [role for role, _ in history].count("shopper") == 1
    assert history == [(m["role"], m["text"]) for m in first.json()["messages"]]
    assert store.world.digest() == after_first  # nothing asked of any vendor again


async def test_a_retried_yes_buys_one_label(store: Store) -> None:
    cid = await store.start(**store.signed(BEN))  # signed in: no emailed code needed before a label
    asked = await store.say(cid, RETURN)
    assert asked.json()["status"] == "awaiting_confirmation"
    assert store.labels() == []

    confirmed = await store.say(cid, "yes", client_message_id="yes-1")
    retried = await store.say(cid, "yes", client_message_id="yes-1")  # the widget retries after a timeout

    assert confirmed.status_code == retried.status_code == 200
    assert retried.json() == confirmed.json()
    assert confirmed.json()["messages"][-1]["card"]["type"] == "label"
    assert len(store.labels()) == 1
    assert len([m for m in store.world.sendgrid.outbox if BEN in m["to"]]) == 1


async def test_same_client_message_id_with_another_text_replays_the_first_outcome(store: Store) -> None:
    """The designed behaviour (`SendMessage.client_message_id`: a retry with the same id is not redone):
    the id names the message, so a second body under it is not processed; the first outcome comes back."""
    cid = await store.start()
    first = await store.say(cid, WISMO, client_message_id="m-7")
    after_first = store.world.digest()

    other = await store.say(cid, "I want a refund for order #1009", client_message_id="m-7")

    assert other.status_code == 200
    assert other.json() == first.json()
    history = await store.history(cid)
    assert all("refund" not in text for _, text in history)
    assert store.world.digest() == after_first


async def test_a_replay_over_sse_says_it_is_one(store: Store) -> None:
    cid = await store.start()
    first = await store.say(cid, WISMO, client_message_id="c-1")

    replay = await store.http.post(
        f"/api/conversations/{cid}/messages", json={"text": WISMO, "client_message_id": "c-1"}
    )

    events = parse_sse(replay.text)
    assert [data for kind, data in events if kind == "message"] == first.json()["messages"]
    assert events[-1] == ("done", {"status": "active", "replayed": True})


# --------------------------------------------------------------------------- error paths change nothing


async def test_unknown_conversation_is_404_everywhere(store: Store) -> None:
    someone_elses = token_of(store.http, await store.start())
    before = store.world.digest()
    for method, path, body in [
        ("GET", "/api/conversations/nope", None),
        ("POST", "/api/conversations/nope/messages", {"text": WISMO}),
        ("GET", "/api/conversations/nope/events", None),
    ]:
        response = await store.http.request(method, path, json=body, headers=bearer(someone_elses))
        assert response.status_code == 404, path
        assert response.json() == {
            "error": "conversation_not_found",
            "detail": "No conversation with this id.",
        }
    assert store.world.digest() == before


async def test_another_conversations_token_opens_nothing(store: Store) -> None:
    mine, theirs = await store.start(), await store.start()
    await store.say(theirs, WISMO)

    peek = await store.http.get(f"/api/conversations/{theirs}", headers=bearer(token_of(store.http, mine)))
    post = await store.http.post(
        f"/api/conversations/{theirs}/messages",
        json={"text": "hi"},
        headers=bearer(token_of(store.http, mine)),
    )
    missing = await store.http.get(f"/api/conversations/{theirs}", auth=None)

    assert (peek.status_code, post.status_code, missing.status_code) == (404, 404, 401)
    assert missing.json()["error"] == "missing_token"
    assert [role for role, _ in await store.history(theirs)].count("shopper") == 1


async def test_malformed_json_is_a_422_and_stores_nothing(store: Store) -> None:
    cid = await store.start()
    url = f"/api/conversations/{cid}/messages"

    broken = await store.http.post(
        url, content=b'{"text": "where is', headers={"content-type": "application/json"}
    )
    wrong_type = await store.http.post(url, json={"text": ["not", "text"]})
    empty = await store.http.post(url, json={"text": "   "})

    assert broken.status_code == wrong_type.status_code == 422
    assert broken.json()["error"] == wrong_type.json()["error"] == "invalid_request"
    assert empty.status_code == 422 and empty.json()["error"] == "empty_message"
    assert await store.history(cid) == []
    assert (await store.view(cid))["status"] == "active"


async def test_over_size_messages_are_refused_before_the_agent(open_store: Callable[..., Any]) -> None:
    async with open_store(max_message_chars=200, max_body_bytes=4_000) as store:
        cid = await store.start()
        url = f"/api/conversations/{cid}/messages"
        before = store.world.digest()

        too_long = await store.http.post(url, json={"text": "where is my order " * 20})
        too_big = await store.http.post(url, json={"text": "x" * 5_000})

        assert too_long.status_code == 422
        assert too_long.json() == {"error": "message_too_long", "detail": {"max_chars": 200}}
        assert too_big.status_code == 413 and too_big.json()["error"] == "body_too_large"
        assert await store.history(cid) == []
        assert store.world.digest() == before


async def test_bad_identity_signature_starts_nothing(store: Store) -> None:
    issued_at = int(time.time())
    forged = sign_identity(ANA, issued_at, "not-the-store-secret")
    stale = sign_identity(ANA, issued_at - 10 * 86_400, store.settings.store_secret.get_secret_value())

    refused = await store.http.post(
        "/api/conversations", json={"email": ANA, "issued_at": issued_at, "signature": forged}
    )
    expired = await store.http.post(
        "/api/conversations", json={"email": ANA, "issued_at": issued_at - 10 * 86_400, "signature": stale}
    )

    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_signature")
    assert (expired.status_code, expired.json()["error"]) == (401, "identity_expired")
    assert await store.conversations() == []


async def test_rate_limit_is_a_429_and_the_refused_message_is_not_kept(
    open_store: Callable[..., Any],
) -> None:
    async with open_store(rate_limit_per_conversation_per_minute=2) as store:
        cid = await store.start()
        for text in ("hi", "hello"):
            assert (await store.say(cid, text)).status_code == 200

        limited = await store.say(cid, WISMO)

        assert limited.status_code == 429
        assert limited.json()["error"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1
        shopper = [text for role, text in await store.history(cid) if role == "shopper"]
        assert shopper == ["hi", "hello"]


async def test_model_outage_is_an_apology_and_a_person_not_a_500(open_store: Callable[..., Any]) -> None:
    """`openai:offline` goes through the real OpenAI client to the sandbox, which fails every try."""
    async with open_store(model="openai:offline") as store:
        cid = await store.start()
        await store.inject(vendor="openai", kind="error", status=503, remaining=3)  # the call and 2 retries

        response = await store.say(cid, WISMO)

        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "human_handling"
        assert "I'm sorry, I'm having trouble answering right now" in body["messages"][1]["text"]
        view = await store.view(cid)
        assert view["status"] == "human_handling"
        notes = [
            m["body_text"]
            for m in store.ticket(view["ticket_id"])["messages"]
            if m["channel"] == "internal-note"
        ]
        assert any("model failure" in note for note in notes)
        assert store.world.faults == []  # every injected failure was met


async def test_store_outage_brings_in_a_person_not_a_500(store: Store) -> None:
    """Shopify answers 500 to every try: after the retries the agent says so plainly and hands over."""
    cid = await store.start()
    await store.inject(vendor="shopify", kind="error", status=500, remaining=100)

    response = await store.say(cid, WISMO)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "human_handling"
    reply = body["messages"][-1]
    assert reply["role"] == "assistant" and "support team" in reply["text"]
    assert "1Z84F2A90312345678" not in reply["text"]  # nothing was made up
    view = await store.view(cid)
    assert view["status"] == "human_handling"
    assert "ai_handover" in {t["name"] for t in store.ticket(view["ticket_id"])["tags"]}
    assert store.world.stripe.refunds == {} and store.labels() == []


# --------------------------------------------------------------------------- a person takes over


async def test_handoff_human_reply_and_handback_through_the_helpdesk_webhook(store: Store) -> None:
    cid = await store.start()

    asked = await store.say(cid, f"Can I talk to a person please? {ANA}")

    assert asked.json()["status"] == "human_handling"
    view = await store.view(cid)
    assert view["status"] == "human_handling"
    ticket_id = view["ticket_id"]
    assert "ai_handover" in {t["name"] for t in store.ticket(ticket_id)["tags"]}

    # While a person handles it, the bot is silent and the shopper's words go to the ticket.
    quiet = await store.say(cid, "My parcel still hasn't arrived")
    assert [m["role"] for m in quiet.json()["messages"]] == ["shopper"]
    assert quiet.json()["status"] == "human_handling"
    assert "My parcel still hasn't arrived" in [m["body_text"] for m in store.ticket(ticket_id)["messages"]]

    replied = await store.human(ticket_id, "reply", text="Hi, Rosa here. Let me check that for you.")
    assert replied["webhook"] == {"url": "http://127.0.0.1:8000/webhooks/gorgias", "status": 200}
    last = (await store.view(cid))["messages"][-1]
    assert (last["role"], last["text"], last["author"]) == (
        "agent",
        "Hi, Rosa here. Let me check that for you.",
        "Rosa Alvarez",
    )

    await store.human(ticket_id, "handback")
    assert (await store.view(cid))["status"] == "active"
    answered = await store.say(cid, "Where is order #1001?")
    assert answered.json()["messages"][-1]["role"] == "assistant"


async def test_the_events_stream_pushes_a_persons_reply(store: Store) -> None:
    cid = await store.start()
    await store.say(cid, f"I want to speak to a human, {ANA}")
    ticket_id = (await store.view(cid))["ticket_id"]
    store.app.state.sse_keepalive_seconds = 0.05
    exchange = RawExchange(
        store.app,
        "GET",
        f"/api/conversations/{cid}/events",
        headers=[(b"authorization", f"Bearer {token_of(store.http, cid)}".encode())],
    ).start()
    assert await exchange.status() == 200
    await exchange.read_until(lambda text: "retry: " in text)

    await store.human(ticket_id, "reply", text="Rosa here, on it.")
    await store.human(ticket_id, "close")
    text = await exchange.read_until(lambda text: "event: status" in text)
    await exchange.disconnect()

    events = parse_sse(text)
    pushed = [data for kind, data in events if kind == "message"]
    assert [(m["role"], m["text"]) for m in pushed][:1] == [("agent", "Rosa here, on it.")]
    assert ("status", {"status": "active", "intent": (await store.view(cid))["intent"]}) in events


async def test_the_start_response_token_is_the_only_one_kept(store: Store) -> None:
    response = await store.http.post("/api/conversations")

    body = response.json()
    item = await store.store.aget(("conversations",), body["id"])
    assert item is not None
    assert item.value["access_digest"] == hashlib.sha256(body["token"].encode()).hexdigest()
    assert body["token"] not in json.dumps(item.value)

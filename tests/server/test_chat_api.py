"""The chat API: conversations, SSE and JSON turns, history, the events stream."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time

import httpx
from fastapi import FastAPI

from agent.settings import Settings
from server.security import sign_identity
from tests.server.conftest import CLIENT_IP, RawExchange, bearer, parse_sse, start_conversation, token_of
from tests.server.fake_service import FakeConversationService, tracking_card_1001
from tools.registry import specs


def authorization(client: httpx.AsyncClient, conversation_id: str) -> tuple[bytes, bytes]:
    """The raw ASGI header carrying the conversation's token."""
    return (b"authorization", f"Bearer {token_of(client, conversation_id)}".encode())


async def test_start_anonymous_conversation(client: httpx.AsyncClient, fake: FakeConversationService) -> None:
    response = await client.post("/api/conversations")

    assert response.status_code == 201
    body = response.json()
    assert body == {"id": body["id"], "token": body["token"], "verified": False}
    assert len(body["token"]) >= 43  # 32 random bytes, URL-safe base64
    conversation = fake.conversations[body["id"]]
    assert conversation.verified_email is None
    # Only the token's digest is kept.
    assert conversation.access_digest == hashlib.sha256(body["token"].encode()).hexdigest()


async def test_signed_identity_marks_the_shopper_verified(
    client: httpx.AsyncClient, fake: FakeConversationService, settings: Settings
) -> None:
    email = "ana.silva@example.com"
    issued_at = int(time.time())
    signature = sign_identity(email, issued_at, settings.store_secret.get_secret_value())

    response = await client.post(
        "/api/conversations", json={"email": email, "issued_at": issued_at, "signature": signature}
    )

    assert response.status_code == 201
    assert response.json()["verified"] is True
    assert fake.conversations[response.json()["id"]].verified_email == email


async def test_bad_signature_is_refused_and_creates_nothing(
    client: httpx.AsyncClient, fake: FakeConversationService, settings: Settings
) -> None:
    now = int(time.time())
    forged = sign_identity("ana.silva@example.com", now, "not-the-store-secret")
    other_email = sign_identity("ben.okafor@example.com", now, settings.store_secret.get_secret_value())

    for signature in (forged, other_email, "zz", ""):
        response = await client.post(
            "/api/conversations",
            json={"email": "ana.silva@example.com", "issued_at": now, "signature": signature},
        )
        assert response.status_code in (401, 422)
        assert response.json()["error"] in ("invalid_signature", "incomplete_identity")
    assert fake.conversations == {}


async def test_identity_needs_both_parts(client: httpx.AsyncClient, fake: FakeConversationService) -> None:
    response = await client.post("/api/conversations", json={"email": "ana.silva@example.com"})

    assert response.status_code == 422
    assert response.json() == {
        "error": "incomplete_identity",
        "detail": "Send email, issued_at and signature together, or none of them.",
    }
    assert fake.conversations == {}


async def test_message_streams_events_in_order(client: httpx.AsyncClient) -> None:
    conversation_id = await start_conversation(client)

    response = await client.post(
        f"/api/conversations/{conversation_id}/messages", json={"text": "Where is #1001?"}
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"].startswith("no-cache")
    events = parse_sse(response.text)
    types = [kind for kind, _ in events]
    assert types[:2] == ["progress", "progress"]
    assert events[0][1] == {"text": "Looking up your order…", "tool": "lookup_order"}
    assert events[1][1] == {"text": "Checking the carrier's tracking…", "tool": "get_tracking_status"}
    assert set(types[2:-3]) == {"delta"}
    assert types[-3:] == ["message", "status", "done"]
    message = events[-3][1]
    assert message["role"] == "assistant"
    assert message["card"] == tracking_card_1001()
    streamed = "".join(data["text"] for kind, data in events if kind == "delta")
    assert streamed == message["text"]
    assert all(data["message_id"] == message["id"] for kind, data in events if kind == "delta")
    assert events[-2][1] == {"status": "active", "intent": "wismo"}
    assert events[-1][1]["status"] == "active"
    assert [m["id"] for m in events[-1][1]["messages"]] == [message["id"]]


async def test_the_fake_reports_progress_of_real_tools_only(client: httpx.AsyncClient) -> None:
    """The scripted service names the tools the agent has, so the widget is tested on real names."""
    known = {spec.name for spec in specs()}
    reported: list[str] = []
    wismo, returns = await start_conversation(client), await start_conversation(client)
    for conversation_id, text in (
        (wismo, "Where is #1001?"),
        (returns, "I want to return #1002"),
        (returns, "yes"),
    ):
        response = await client.post(f"/api/conversations/{conversation_id}/messages", json={"text": text})
        reported += [data["tool"] for kind, data in parse_sse(response.text) if kind == "progress"]

    assert set(reported) == {
        "lookup_order",
        "get_tracking_status",
        "check_return_eligibility",
        "create_return_label",
    }
    assert set(reported) <= known


async def test_json_mode_returns_new_messages_and_status(client: httpx.AsyncClient) -> None:
    conversation_id = await start_conversation(client)
    url = f"/api/conversations/{conversation_id}/messages"
    headers = {"Accept": "application/json"}

    asked = await client.post(url, json={"text": "I want to return #1002"}, headers=headers)
    confirmed = await client.post(url, json={"text": "yes"}, headers=headers)

    assert asked.status_code == 200
    assert asked.headers["content-type"] == "application/json"
    assert asked.json()["status"] == "awaiting_confirmation"
    assert [m["card"]["type"] for m in asked.json()["messages"]] == ["confirm"]
    assert confirmed.json()["status"] == "active"
    (label,) = confirmed.json()["messages"]
    assert label["card"]["type"] == "label"
    assert label["card"]["emailed_to"] == "ben.okafor@example.com"


async def test_repeated_client_message_id_is_not_processed_twice(
    client: httpx.AsyncClient, fake: FakeConversationService
) -> None:
    conversation_id = await start_conversation(client)
    url = f"/api/conversations/{conversation_id}/messages"
    body = {"text": "Where is #1001?", "client_message_id": "c-1"}

    first = await client.post(url, json=body, headers={"Accept": "application/json"})
    second = await client.post(url, json=body, headers={"Accept": "application/json"})

    assert fake.processed == [(conversation_id, "Where is #1001?")]
    assert second.json() == first.json()
    view = (await client.get(f"/api/conversations/{conversation_id}")).json()
    assert [m["role"] for m in view["messages"]] == ["shopper", "assistant"]


async def test_history_lists_every_message(client: httpx.AsyncClient, fake: FakeConversationService) -> None:
    conversation_id = await start_conversation(client)
    await client.post(
        f"/api/conversations/{conversation_id}/messages", json={"text": "Can I talk to a human?"}
    )

    response = await client.get(f"/api/conversations/{conversation_id}")

    assert response.status_code == 200
    view = response.json()
    assert view["id"] == conversation_id
    assert view["status"] == "human_handling"
    assert view["intent"] == "escalation"
    assert view["ticket_id"] == "T-1"
    assert (view["messages"][0]["role"], view["messages"][0]["text"]) == ("shopper", "Can I talk to a human?")
    assert view["messages"][1]["card"] == {"type": "handoff", "ticket_id": "T-1"}
    assert set(view["messages"][1]) >= {"id", "role", "text", "created_at", "card", "author"}


async def test_handoff_turn_emits_a_handoff_event(client: httpx.AsyncClient) -> None:
    conversation_id = await start_conversation(client)

    response = await client.post(
        f"/api/conversations/{conversation_id}/messages", json={"text": "a person please"}
    )

    events = dict(parse_sse(response.text))
    assert events["handoff"] == {"ticket_id": "T-1", "text": "You're now chatting with our support team."}
    assert events["status"] == {"status": "human_handling", "intent": "escalation"}


async def test_failed_turn_is_an_error_event_and_the_retry_is_processed(
    client: httpx.AsyncClient, fake: FakeConversationService
) -> None:
    conversation_id = await start_conversation(client)
    url = f"/api/conversations/{conversation_id}/messages"
    body = {"text": "Where is #1001?", "client_message_id": "c-7"}
    fake.fail_next_turns = 1

    failed = await client.post(url, json=body)
    retried = await client.post(url, json=body)

    assert [kind for kind, _ in parse_sse(failed.text)] == ["error"]
    assert parse_sse(failed.text)[0][1]["retryable"] is True
    assert parse_sse(retried.text)[-1][0] == "done"
    assert fake.processed == [(conversation_id, "Where is #1001?")]
    view = (await client.get(f"/api/conversations/{conversation_id}")).json()
    assert [m["role"] for m in view["messages"]] == ["shopper", "assistant"]  # stored once


async def test_failed_turn_in_json_mode_is_a_503(
    client: httpx.AsyncClient, fake: FakeConversationService
) -> None:
    conversation_id = await start_conversation(client)
    fake.fail_next_turns = 1

    response = await client.post(
        f"/api/conversations/{conversation_id}/messages",
        json={"text": "Where is #1001?"},
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 503
    assert response.json() == {
        "error": "turn_failed",
        "detail": {"error": "The store is not answering right now.", "retryable": True},
    }


async def test_shopper_message_is_stored_before_the_turn_finishes(
    client: httpx.AsyncClient, fake: FakeConversationService, app: FastAPI
) -> None:
    conversation_id = await start_conversation(client)
    fake.hold = asyncio.Event()
    app.state.first_event_wait_seconds = 0
    turn = asyncio.create_task(
        client.post(f"/api/conversations/{conversation_id}/messages", json={"text": "Where is #1001?"})
    )

    await fake.held.wait()
    during = await client.get(f"/api/conversations/{conversation_id}")
    fake.hold.set()
    finished = await turn

    assert [m["role"] for m in during.json()["messages"]] == ["shopper"]
    assert parse_sse(finished.text)[-1][0] == "done"


async def test_turn_completes_when_the_shopper_leaves_mid_turn(
    client: httpx.AsyncClient, fake: FakeConversationService, app: FastAPI
) -> None:
    conversation_id = await start_conversation(client)
    fake.hold = asyncio.Event()
    app.state.first_event_wait_seconds = 0
    app.state.sse_keepalive_seconds = 0.01
    exchange = RawExchange(
        app,
        "POST",
        f"/api/conversations/{conversation_id}/messages",
        body=json.dumps({"text": "Where is #1001?"}).encode(),
        headers=[(b"content-type", b"application/json"), authorization(client, conversation_id)],
    ).start()

    assert await exchange.status() == 200
    assert ": keep-alive" in await exchange.read_until(lambda text: "keep-alive" in text)
    await exchange.disconnect()  # the tab is closed while the bot is still working
    fake.hold.set()
    await asyncio.gather(*app.state.background_tasks)

    view = (await client.get(f"/api/conversations/{conversation_id}")).json()
    assert [m["role"] for m in view["messages"]] == ["shopper", "assistant"]
    assert view["messages"][1]["card"]["type"] == "tracking"


async def test_events_stream_pushes_agent_replies_and_ends_on_disconnect(
    client: httpx.AsyncClient, fake: FakeConversationService, app: FastAPI
) -> None:
    conversation_id = await start_conversation(client)
    app.state.sse_keepalive_seconds = 0.01
    exchange = RawExchange(
        app,
        "GET",
        f"/api/conversations/{conversation_id}/events",
        headers=[(b"accept", b"text/event-stream"), authorization(client, conversation_id)],
    ).start()
    assert await exchange.status() == 200
    await exchange.read_until(lambda text: "retry: " in text)
    assert fake.subscriber_count(conversation_id) == 1

    sent = await fake.push_agent_message(conversation_id, "Hi, this is Rosa. Let me check that for you.")
    text = await exchange.read_until(lambda text: "event: message" in text)
    text += await exchange.read_until(lambda text: "keep-alive" in text)
    await exchange.disconnect()
    await asyncio.gather(*app.state.background_tasks)

    events = parse_sse(text)
    assert events[0] == ("status", {"status": "human_handling", "intent": None})
    assert events[1][0] == "message"
    assert events[1][1]["id"] == sent.id
    assert events[1][1]["role"] == "agent"
    assert events[1][1]["author"] == "Rosa Alvarez"
    assert fake.subscriber_count(conversation_id) == 0  # the subscription was closed


async def test_unknown_conversation_is_404_everywhere(
    client: httpx.AsyncClient, fake: FakeConversationService
) -> None:
    expected = {"error": "conversation_not_found", "detail": "No conversation with this id."}
    someone_elses = token_of(client, await start_conversation(client))
    for method, path, body in [
        ("GET", "/api/conversations/nope", None),
        ("POST", "/api/conversations/nope/messages", {"text": "hi"}),
        ("GET", "/api/conversations/nope/events", None),
        ("GET", "/api/conversations/bad%20id%3Cscript%3E", None),
        ("POST", "/api/conversations/bad%20id/messages", {"text": "hi"}),
    ]:
        response = await client.request(method, path, json=body, headers=bearer(someone_elses))
        assert response.status_code == 404, path
        assert response.json() == expected
    assert fake.processed == []


async def test_the_client_address_reaches_the_service_for_store_wide_throttles(
    client: httpx.AsyncClient, fake: FakeConversationService
) -> None:
    conversation_id = await start_conversation(client)
    url = f"/api/conversations/{conversation_id}/messages"

    response = await client.post(url, json={"text": "where is #1001"}, headers={"Accept": "application/json"})

    assert response.status_code == 200
    assert fake.clients == [CLIENT_IP]

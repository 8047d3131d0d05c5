"""`/webhooks/front` with HELPDESK=front: the Front app's requests (the channel's `message`
callback, the application webhook's events), verified by their `X-Front-Signature` over the
request timestamp and raw body, parsed by the Front adapter; forged, stale and replayed ones
change nothing."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from agent.settings import Settings
from integrations.events import HumanReplied, TicketClosed
from integrations.front.models import conversation_api_id
from sandbox.helpdesks.front import sign
from tests.published.front import reference
from tests.server.conftest import make_settings, start_conversation
from tests.server.fake_service import FakeConversationService

SECRET = "test-front-app-secret"
NUMBER = 4242


@pytest.fixture
def settings() -> Settings:
    return make_settings(helpdesk="front", front_app_secret=SECRET)


def signed(
    body: dict[str, Any], *, age_seconds: float = 0.0, secret: str = SECRET
) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    stamp = str(int((time.time() - age_seconds) * 1000))
    headers = {
        "Content-Type": "application/json",
        "X-Front-Signature": sign(secret, stamp, raw),
        "X-Front-Request-Timestamp": stamp,
    }
    return raw, headers


def reply(conversation_id: str, text: str = "Leela here!", message_id: str = "msg_1") -> dict[str, Any]:
    return {
        "type": "message",
        "payload": {
            **reference.MESSAGE,
            "_links": {
                "related": {
                    "conversation": f"https://api2.frontapp.com/conversations/{conversation_api_id(NUMBER)}"
                }
            },
            "id": message_id,
            "type": "custom",
            "is_inbound": False,
            "text": text,
            "recipients": [{"handle": f"chat:{conversation_id}", "role": "to"}],
        },
    }


def archived(conversation_id: str) -> dict[str, Any]:
    conversation = {
        **reference.CONVERSATION,
        "id": conversation_api_id(NUMBER),
        "recipient": {"handle": f"chat:{conversation_id}", "role": "from"},
    }
    return {**reference.EVENT, "id": "evt_1", "type": "archive", "target": None, "conversation": conversation}


async def test_a_teammates_reply_is_relayed_once(
    client: httpx.AsyncClient, fake: FakeConversationService
) -> None:
    conversation_id = await start_conversation(client)
    raw, headers = signed(reply(conversation_id))

    first = await client.post("/webhooks/front", content=raw, headers=headers)
    again = await client.post("/webhooks/front", content=raw, headers=headers)

    assert first.status_code == 200 and first.json() == {"status": "ok"}
    assert again.json() == {"status": "duplicate"}
    [event] = fake.helpdesk_events
    assert isinstance(event, HumanReplied) and event.ticket_id == str(NUMBER)
    assert event.text == "Leela here!" and event.author == "Leela Turanga"
    view = (await client.get(f"/api/conversations/{conversation_id}")).json()
    assert view["status"] == "human_handling"
    assert [(m["role"], m["text"]) for m in view["messages"]] == [("agent", "Leela here!")]


async def test_archiving_resumes_the_bot(client: httpx.AsyncClient, fake: FakeConversationService) -> None:
    conversation_id = await start_conversation(client)
    await fake.push_agent_message(conversation_id, "Sorted!")
    raw, headers = signed(archived(conversation_id))

    response = await client.post("/webhooks/front", content=raw, headers=headers)

    assert response.status_code == 200
    assert [type(e) for e in fake.helpdesk_events] == [TicketClosed]
    assert (await client.get(f"/api/conversations/{conversation_id}")).json()["status"] == "active"


async def test_forged_stale_and_unsigned_requests_are_401(
    client: httpx.AsyncClient, fake: FakeConversationService
) -> None:
    conversation_id = await start_conversation(client)
    raw, headers = signed(reply(conversation_id))
    forged = raw.replace(b"Leela here!", b"Refund it all")
    _, stale_headers = signed(reply(conversation_id), age_seconds=600)
    _, wrong_key = signed(reply(conversation_id), secret="guess")
    stale_raw = json.dumps(reply(conversation_id)).encode()

    responses = [
        await client.post("/webhooks/front", content=forged, headers=headers),
        await client.post("/webhooks/front", content=stale_raw, headers=stale_headers),
        await client.post(
            "/webhooks/front",
            content=raw,
            headers={**wrong_key, "X-Front-Request-Timestamp": headers["X-Front-Request-Timestamp"]},
        ),
        await client.post("/webhooks/front", content=raw, headers={"Content-Type": "application/json"}),
    ]

    assert [r.status_code for r in responses] == [401, 401, 401, 401]
    assert fake.helpdesk_events == []
    assert (await client.get(f"/api/conversations/{conversation_id}")).json()["messages"] == []


async def test_fronts_validation_request_is_acknowledged(
    client: httpx.AsyncClient, fake: FakeConversationService
) -> None:
    raw, headers = signed({"type": "sync", "authorization": {"id": "cmp_abc"}})
    response = await client.post("/webhooks/front", content=raw, headers=headers)
    assert response.status_code == 202 and fake.helpdesk_events == []


async def test_gorgias_is_not_served_when_front_is_the_helpdesk(client: httpx.AsyncClient) -> None:
    response = await client.post("/webhooks/gorgias", json={})
    assert response.status_code == 404

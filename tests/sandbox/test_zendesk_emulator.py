"""The Zendesk emulator (auth, error bodies, pagination, the plan's rate limit) and its desk in the
control API (a person acting in Zendesk, and the signed webhook Zendesk then sends)."""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from integrations.zendesk.protocol import ZendeskProtocol
from sandbox.app import create_sandbox_app
from sandbox.vendors.gorgias import CallLimiter
from sandbox.webhooks import encode_body
from sandbox.world import World

API = "/zendesk/api/v2"
AUTH = "Basic " + base64.b64encode(b"agent@sandbox.test/token:zendesk_sandbox").decode()
SECRET = "zendesk_webhook_sandbox"


@pytest.fixture
def app(world: World) -> FastAPI:
    world.helpdesk = "zendesk"
    world.helpdesk_webhook.url = "http://agent.test/webhooks/zendesk"
    world.helpdesk_webhook.secret = SECRET
    return create_sandbox_app(world)


@pytest.fixture
async def http(app: FastAPI) -> Any:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox", headers={"Authorization": AUTH}
    ) as client:
        yield client


async def new_ticket(http: httpx.AsyncClient, external_id: str = "conv-1", **ticket: Any) -> dict[str, Any]:
    body = {
        "ticket": {
            "subject": "Chat",
            "requester": {"email": "ana.silva@example.com", "name": "Ana Silva"},
            "comment": {"body": "Where is my order?", "public": True},
            "external_id": external_id,
            "tags": ["ai-handled"],
            **ticket,
        }
    }
    response = await http.post(f"{API}/tickets.json", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["ticket"]
    return created


# --------------------------------------------------------------------------- the API


async def test_wrong_credentials_get_zendesks_401_body(http: httpx.AsyncClient) -> None:
    response = await http.get(
        f"{API}/tickets",
        headers={
            "Authorization": "Basic " + base64.b64encode(b"agent@sandbox.test:zendesk_sandbox").decode()
        },
    )
    assert response.status_code == 401
    assert response.json() == {"error": "Couldn't authenticate you"}


async def test_not_found_and_invalid_records_use_zendesks_error_bodies(http: httpx.AsyncClient) -> None:
    missing = await http.get(f"{API}/tickets/999999")
    assert missing.status_code == 404 and missing.json() == {
        "error": "RecordNotFound",
        "description": "Not found",
    }
    invalid = await http.post(f"{API}/tickets", json={"ticket": {"subject": "no comment"}})
    assert invalid.status_code == 422
    body = invalid.json()
    assert body["error"] == "RecordInvalid" and body["description"] == "Record validation errors"
    assert body["details"]["description"][0]["error"] == "BlankValue"


async def test_create_or_update_user_creates_then_matches(http: httpx.AsyncClient, world: World) -> None:
    created = await http.post(
        f"{API}/users/create_or_update", json={"user": {"email": "new@example.com", "name": "New"}}
    )
    again = await http.post(
        f"{API}/users/create_or_update", json={"user": {"email": "new@example.com", "name": "Renamed"}}
    )
    assert (created.status_code, again.status_code) == (201, 200)
    assert created.json()["user"]["id"] == again.json()["user"]["id"]
    assert again.json()["user"]["name"] == "Renamed" and again.json()["user"]["role"] == "end-user"
    found = await http.get(f"{API}/users/search", params={"query": "email:new@example.com"})
    assert [u["id"] for u in found.json()["users"]] == [created.json()["user"]["id"]]


async def test_tickets_are_listed_by_external_id_with_offset_or_cursor_pages(http: httpx.AsyncClient) -> None:
    ids = [(await new_ticket(http, f"conv-{n}"))["id"] for n in range(5)]
    only = (await http.get(f"{API}/tickets", params={"external_id": "conv-3"})).json()
    assert [t["id"] for t in only["tickets"]] == [ids[3]] and only["count"] == 1
    offset = (await http.get(f"{API}/tickets.json", params={"per_page": 2, "page": 2})).json()
    assert [t["id"] for t in offset["tickets"]] == ids[2:4]
    assert offset["next_page"].endswith("page=3&per_page=2") and offset["previous_page"] is not None
    seen: list[int] = []
    params: dict[str, Any] = {"page[size]": 2}
    while True:
        page = (await http.get(f"{API}/tickets", params=params)).json()
        seen += [t["id"] for t in page["tickets"]]
        if not page["meta"]["has_more"]:
            assert page["links"]["next"] is None
            break
        params = {"page[size]": 2, "page[after]": page["meta"]["after_cursor"]}
    assert seen == ids
    too_big = await http.get(f"{API}/tickets", params={"page[size]": 101})
    assert too_big.status_code == 400


async def test_every_answer_carries_the_plans_rate_headers_and_429_beyond(
    app: FastAPI, http: httpx.AsyncClient
) -> None:
    app.state.zendesk_call_limiter = CallLimiter(limit=3, window_seconds=60.0)
    answers = [await http.get(f"{API}/users/me") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-Rate-Limit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
    assert all(a.headers["X-Rate-Limit"] == "3" and a.headers["ratelimit-limit"] == "3" for a in answers)
    limited = answers[-1]
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["error"] == "APIRateLimitExceeded"


async def test_injected_faults_answer_in_zendesks_shape(http: httpx.AsyncClient) -> None:
    await http.post("/_sandbox/faults", json={"vendor": "zendesk", "kind": "error", "status": 503})
    failed = await http.get(f"{API}/users/me")
    assert failed.status_code == 503 and failed.json()["error"] == "InternalError"


# --------------------------------------------------------------------------- the desk


@pytest.fixture
def deliveries(app: FastAPI) -> list[tuple[str, dict[str, str], dict[str, Any]]]:
    sent: list[tuple[str, dict[str, str], dict[str, Any]]] = []

    async def capture(url: str, headers: dict[str, str], body: dict[str, Any]) -> int:
        sent.append((url, headers, body))
        return 200

    app.state.webhook_sender = capture
    return sent


async def test_a_reply_in_zendesk_is_a_public_agent_comment_and_a_signed_webhook(
    http: httpx.AsyncClient, world: World, deliveries: list[tuple[str, dict[str, str], dict[str, Any]]]
) -> None:
    ticket = await new_ticket(http)

    result = (await http.post(f"/_sandbox/tickets/{ticket['id']}/reply", json={"text": "Rosa here."})).json()

    stored = world.zendesk.tickets[ticket["id"]]
    assert stored["status"] == "open" and world.zendesk.users[stored["assignee_id"]]["role"] == "agent"
    last = world.zendesk.comments[ticket["id"]][-1]
    assert (last["body"], last["public"], last["via"]["channel"]) == ("Rosa here.", True, "web")
    assert result["ticket"]["messages"][-1]["from_agent"] is True
    assert result["webhook"] == {"url": "http://agent.test/webhooks/zendesk", "status": 200}
    [(_, headers, body)] = deliveries
    assert body["event"] == "comment_added" and body["ticket"]["external_id"] == "conv-1"
    receiver = ZendeskProtocol(secret=SECRET, clock=time.time)
    receiver.verify_webhook(headers, encode_body(body))
    [event] = receiver.parse_webhook(headers, encode_body(body))
    assert event.kind == "human_replied"
    assert world.webhook_deliveries[-1]["event"] == "comment_added"


@pytest.mark.parametrize(
    ("action", "status", "tag", "kind"),
    [
        ("close", "solved", None, "ticket_closed"),
        ("handback", "new", "ai_handback", "handed_back"),
        ("approve", "new", "refund-approved", "refund_approved"),
        ("deny", "new", "refund-denied", "refund_denied"),
    ],
)
async def test_decisions_change_the_ticket_and_send_ticket_updated(
    http: httpx.AsyncClient,
    world: World,
    deliveries: list[tuple[str, dict[str, str], dict[str, Any]]],
    action: str,
    status: str,
    tag: str | None,
    kind: str,
) -> None:
    ticket = await new_ticket(http)
    response = await http.post(f"/_sandbox/tickets/{ticket['id']}/{action}")
    assert response.status_code == 200
    stored = world.zendesk.tickets[ticket["id"]]
    assert stored["status"] == status
    assert (tag in stored["tags"]) if tag else stored["tags"] == ["ai-handled"]
    [(_, headers, body)] = deliveries
    receiver = ZendeskProtocol(secret=SECRET)
    receiver.verify_webhook(headers, encode_body(body))
    [event] = receiver.parse_webhook(headers, encode_body(body))
    assert event.kind == kind


async def test_the_neutral_view_reads_zendesk_tickets_like_gorgias_ones(http: httpx.AsyncClient) -> None:
    ticket = await new_ticket(http)
    await http.put(
        f"{API}/tickets/{ticket['id']}",
        json={
            "ticket": {"comment": {"body": "note", "public": False}, "metadata": {"external_id": "conv-1:n1"}}
        },
    )
    [listed] = (await http.get("/_sandbox/tickets")).json()
    assert listed == (await http.get(f"/_sandbox/tickets/{ticket['id']}")).json()
    assert listed["external_id"] == "conv-1" and listed["tags"] == [{"name": "ai-handled"}]
    assert [
        (m["channel"], m["body_text"], m["from_agent"], m["external_id"]) for m in listed["messages"]
    ] == [
        ("chat", "Where is my order?", True, None),  # written by the API's user, an agent
        ("internal-note", "note", True, "conv-1:n1"),
    ]
    assert listed["customer"]["email"] == "ana.silva@example.com"


async def test_a_closed_zendesk_ticket_cannot_be_acted_on(http: httpx.AsyncClient, world: World) -> None:
    ticket = await new_ticket(http)
    world.zendesk.tickets[ticket["id"]]["status"] = "closed"
    assert (
        await http.post(f"/_sandbox/tickets/{ticket['id']}/reply", json={"text": "hi"})
    ).status_code == 409
    assert (await http.post("/_sandbox/tickets/424242/close")).status_code == 404

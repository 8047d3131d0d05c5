"""The Gorgias emulator through raw HTTP: auth, list shapes, validation, rate limit, the human agent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from integrations.gorgias import (
    GorgiasClient,
    GorgiasCustomer,
    GorgiasMessage,
    GorgiasTicket,
    GorgiasUser,
    HelpdeskWebhookEvent,
    NewMessage,
    gorgias_http_client,
)
from sandbox.app import create_sandbox_app
from sandbox.helpdesk import create_ticket
from sandbox.vendors.gorgias import CALL_LIMIT_HEADER, CallLimiter
from sandbox.webhooks import helpdesk_event
from sandbox.world import JSON, World

API = "/gorgias/api"
AUTH = httpx.BasicAuth("agent@sandbox.test", "gorgias_sandbox")
SHOPPER = "ana.silva@example.com"


@pytest.fixture
async def api(sandbox_transport: httpx.ASGITransport) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP on the Gorgias base, authenticated."""
    async with httpx.AsyncClient(
        transport=sandbox_transport, base_url=f"http://sandbox{API}", auth=AUTH
    ) as client:
        yield client


def ticket_body(**overrides: Any) -> JSON:
    body: JSON = {
        "customer": {"email": SHOPPER},
        "subject": "Where is my order?",
        "channel": "chat",
        "via": "api",
        "external_id": "conv-1",
        "tags": [{"name": "ai-handled"}],
        "messages": [
            {
                "channel": "chat",
                "via": "api",
                "from_agent": False,
                "sender": {"email": SHOPPER},
                "body_text": "Where is my order #1001?",
                "external_id": "conv-1:m1",
            }
        ],
    }
    body.update(overrides)
    return body


def seed_tickets(world: World, count: int) -> list[int]:
    customer = world.gorgias.customers[1]
    return [
        create_ticket(
            world, customer=customer, subject=f"t{i}", channel="chat", via="api", tags=[], external_id=None
        )["id"]
        for i in range(count)
    ]


# --------------------------------------------------------------------------- auth


async def test_requests_without_valid_credentials_get_401(sandbox_http: httpx.AsyncClient) -> None:
    anonymous = await sandbox_http.get(f"{API}/tickets")
    wrong = await sandbox_http.get(f"{API}/tickets", auth=httpx.BasicAuth("agent@sandbox.test", "nope"))
    for response in (anonymous, wrong):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic")
        assert "Authentication failed" in response.json()["error"]["msg"]
        assert CALL_LIMIT_HEADER not in response.headers  # an unauthenticated call spends no budget


# --------------------------------------------------------------------------- shapes


async def test_customer_list_shape_and_call_limit_header(api: httpx.AsyncClient) -> None:
    response = await api.get("/customers", params={"email": "ANA.SILVA@example.com"})
    assert response.status_code == 200
    assert response.headers[CALL_LIMIT_HEADER] == "1/40"
    body = response.json()
    assert body["object"] == "list"
    assert body["uri"].startswith(f"{API}/customers?")
    assert body["meta"] == {"prev_cursor": None, "next_cursor": None}
    [customer] = [GorgiasCustomer.model_validate(item) for item in body["data"]]
    assert (customer.id, customer.email) == (1, SHOPPER)
    assert (await api.get("/customers/1")).headers[CALL_LIMIT_HEADER] == "2/40"


async def test_create_customer_and_reject_a_duplicate(api: httpx.AsyncClient, world: World) -> None:
    created = await api.post(
        "/customers", json={"name": "Zoe Park", "channels": [{"type": "email", "address": "zoe@example.com"}]}
    )
    assert created.status_code == 201
    customer = GorgiasCustomer.model_validate(created.json())
    assert (customer.email, customer.firstname, customer.lastname) == ("zoe@example.com", "Zoe", "Park")
    assert world.gorgias.customers[customer.id]["email"] == "zoe@example.com"

    duplicate = await api.post("/customers", json={"email": "ZOE@example.com"})
    assert duplicate.status_code == 409  # Conflict, as Gorgias's reference says
    assert "already exists" in duplicate.json()["error"]["msg"]
    assert sum(c["email"] == "zoe@example.com" for c in world.gorgias.customers.values()) == 1
    assert (await api.post("/customers", json={"name": "No Email"})).status_code == 400


async def test_create_ticket_returns_the_ticket_with_its_messages(
    api: httpx.AsyncClient, world: World
) -> None:
    response = await api.post("/tickets", json=ticket_body())
    assert response.status_code == 201
    assert response.headers[CALL_LIMIT_HEADER] == "1/40"
    ticket = GorgiasTicket.model_validate(response.json())
    assert ticket.tag_names == ["ai-handled"]
    assert ticket.customer is not None
    assert ticket.customer.id == 1
    [message] = ticket.messages
    assert message.external_id == "conv-1:m1"
    assert message.sender is not None
    assert message.sender.name == "Ana Silva"
    assert world.gorgias.tickets[ticket.id]["messages"][0]["external_id"] == "conv-1:m1"
    assert world.gorgias.tickets[ticket.id]["via"] == "api"


async def test_ticket_for_an_unknown_email_creates_the_customer(api: httpx.AsyncClient, world: World) -> None:
    body = ticket_body(customer={"email": "first.time@example.com"})
    body["messages"][0]["sender"] = {"email": "first.time@example.com"}
    ticket = GorgiasTicket.model_validate((await api.post("/tickets", json=body)).json())
    assert ticket.customer is not None
    assert ticket.customer.id is not None
    assert world.gorgias.customers[ticket.customer.id]["email"] == "first.time@example.com"
    assert len([c for c in world.gorgias.customers.values() if c["email"] == "first.time@example.com"]) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"messages": []}, "messages"),
        ({"messages": None}, "messages"),
        ({"messages": [{"channel": "chat", "from_agent": False, "body_text": "hi"}]}, "via"),
        ({"messages": [{"channel": "chat", "via": "api", "body_text": "hi"}]}, "from_agent"),
        ({"messages": [{"via": "api", "from_agent": False, "body_text": "hi"}]}, "channel"),
        (
            {"messages": [{"channel": "internal_note", "via": "api", "from_agent": True, "body_text": "x"}]},
            "channel",
        ),
        ({"status": "pending"}, "status"),
        ({"tags": ["not-an-object"]}, "tags"),
    ],
)
async def test_invalid_ticket_is_a_400_naming_the_field(
    api: httpx.AsyncClient, world: World, change: JSON, field: str
) -> None:
    body = {key: value for key, value in ticket_body(**change).items() if value is not None}
    response = await api.post("/tickets", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["msg"] == "Validation error"
    assert field in str(error["data"])
    assert world.gorgias.tickets == {}


async def test_list_tickets_paginates_with_opaque_cursors(api: httpx.AsyncClient, world: World) -> None:
    ids = sorted(seed_tickets(world, 35), reverse=True)
    first = (await api.get("/tickets")).json()
    assert [t["id"] for t in first["data"]] == ids[:30]  # default limit 30, newest first
    assert "messages" not in first["data"][0]
    assert first["meta"]["prev_cursor"] is None
    cursor = first["meta"]["next_cursor"]
    assert cursor
    assert not cursor.isdigit()
    second = (await api.get("/tickets", params={"cursor": cursor})).json()
    assert [t["id"] for t in second["data"]] == ids[30:]
    assert second["meta"]["next_cursor"] is None
    back = (await api.get("/tickets", params={"cursor": second["meta"]["prev_cursor"]})).json()
    assert [t["id"] for t in back["data"]] == ids[:30]
    all_ids = [t["id"] for t in (await api.get("/tickets", params={"limit": 100})).json()["data"]]
    assert all_ids == ids


async def test_list_limits_and_cursors_are_checked(api: httpx.AsyncClient) -> None:
    for params in ({"limit": 101}, {"limit": 0}, {"limit": "many"}, {"cursor": "not-a-cursor"}):
        response = await api.get("/tickets", params=params)
        assert response.status_code == 400, params
        assert response.json()["error"]["msg"] == "Validation error"


async def test_list_tickets_filters(api: httpx.AsyncClient, world: World) -> None:
    created = (await api.post("/tickets", json=ticket_body())).json()
    seed_tickets(world, 2)
    by_external = (await api.get("/tickets", params={"external_id": "conv-1"})).json()["data"]
    assert [t["id"] for t in by_external] == [created["id"]]
    assert len((await api.get("/tickets", params={"customer_id": 1})).json()["data"]) == 3
    assert len((await api.get("/tickets", params={"customer_email": SHOPPER})).json()["data"]) == 3
    assert (await api.get("/tickets", params={"customer_id": 2})).json()["data"] == []


async def test_trailing_slash_paths_of_the_spec_work(api: httpx.AsyncClient) -> None:
    assert (await api.get("/tickets/")).status_code == 200
    assert (await api.get("/users/")).json()["object"] == "list"


async def test_unknown_objects_are_404_with_a_gorgias_body(api: httpx.AsyncClient) -> None:
    for path in ("/tickets/424242", "/customers/424242", "/tickets/424242/messages"):
        response = await api.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["msg"].endswith("not found.")
        assert CALL_LIMIT_HEADER in response.headers
    assert (await api.put("/tickets/424242", json={"status": "closed"})).status_code == 404


async def test_users_list(api: httpx.AsyncClient) -> None:
    users = [GorgiasUser.model_validate(u) for u in (await api.get("/users")).json()["data"]]
    assert [(u.id, u.email) for u in users] == [(1, "rosa@harborandpine.test"), (2, "tom@harborandpine.test")]


# --------------------------------------------------------------------------- updates and messages


async def test_put_replaces_tags_assigns_and_closes(api: httpx.AsyncClient, world: World) -> None:
    ticket_id = (await api.post("/tickets", json=ticket_body())).json()["id"]
    response = await api.put(
        f"/tickets/{ticket_id}",
        json={
            "tags": [{"name": "refund"}, {"name": "ai_handover"}],
            "assignee_user": {"id": 2},
            "status": "closed",
        },
    )
    assert response.status_code == 200
    ticket = GorgiasTicket.model_validate(response.json())
    assert ticket.tag_names == ["refund", "ai_handover"]
    assert ticket.assignee_user is not None
    assert ticket.assignee_user.name == "Tom Becker"
    stored = world.gorgias.tickets[ticket_id]
    assert stored["status"] == "closed"
    assert stored["closed_datetime"] == world.now_iso()

    unassigned = (
        await api.put(f"/tickets/{ticket_id}", json={"assignee_user": None, "status": "open"})
    ).json()
    assert unassigned["assignee_user"] is None
    assert unassigned["closed_datetime"] is None


async def test_rejected_update_changes_nothing(api: httpx.AsyncClient, world: World) -> None:
    ticket_id = (await api.post("/tickets", json=ticket_body())).json()["id"]
    before = dict(world.gorgias.tickets[ticket_id])
    for body in ({"tags": [], "status": "snoozed"}, {"tags": [], "assignee_user": {"id": 99}}):
        response = await api.put(f"/tickets/{ticket_id}", json=body)
        assert response.status_code == 400
    assert world.gorgias.tickets[ticket_id] == before


async def test_posted_messages_keep_their_external_id(api: httpx.AsyncClient, world: World) -> None:
    ticket_id = (await api.post("/tickets", json=ticket_body())).json()["id"]
    note = {
        "channel": "internal-note",
        "via": "api",
        "from_agent": True,
        "public": True,
        "body_text": "summary",
    }
    response = await api.post(f"/tickets/{ticket_id}/messages", json={**note, "external_id": "conv-1:note"})
    assert response.status_code == 201
    message = GorgiasMessage.model_validate(response.json())
    assert (message.external_id, message.public) == ("conv-1:note", False)  # a note is never public
    assert message.sender is not None
    assert message.sender.email == "agent@sandbox.test"
    listed = (await api.get(f"/tickets/{ticket_id}/messages")).json()["data"]
    assert [m["external_id"] for m in listed] == ["conv-1:m1", "conv-1:note"]
    assert world.gorgias.tickets[ticket_id]["messages"][-1]["external_id"] == "conv-1:note"

    bad = await api.post(f"/tickets/{ticket_id}/messages", json={"channel": "chat", "body_text": "no via"})
    assert bad.status_code == 400
    assert "via" in bad.json()["error"]["data"]


async def test_shopper_message_reopens_a_closed_ticket(api: httpx.AsyncClient, world: World) -> None:
    ticket_id = (await api.post("/tickets", json=ticket_body(status="closed"))).json()["id"]
    assert world.gorgias.tickets[ticket_id]["closed_datetime"] is not None
    message = {"channel": "chat", "via": "api", "from_agent": False, "body_text": "Still waiting"}
    response = await api.post(f"/tickets/{ticket_id}/messages", json=message)
    assert response.json()["sender"]["email"] == SHOPPER  # the ticket's customer by default
    assert world.gorgias.tickets[ticket_id]["status"] == "open"


# --------------------------------------------------------------------------- rate limit


async def test_41st_call_within_the_window_is_429(api: httpx.AsyncClient) -> None:
    for count in range(1, 41):
        response = await api.get("/users")
        assert response.status_code == 200
        assert response.headers[CALL_LIMIT_HEADER] == f"{count}/40"
    throttled = await api.get("/users")
    assert throttled.status_code == 429
    assert throttled.headers[CALL_LIMIT_HEADER] == "40/40"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 20
    assert "error" in throttled.json()


async def test_a_new_world_is_a_new_budget(
    sandbox_app: FastAPI, api: httpx.AsyncClient, world: World
) -> None:
    for _ in range(3):
        await api.get("/users")
    sandbox_app.state.world = world.copy_world()
    assert (await api.get("/users")).headers[CALL_LIMIT_HEADER] == "1/40"


def test_call_limiter_window_slides() -> None:
    now = [100.0]
    limiter = CallLimiter(limit=2, window_seconds=20.0, clock=lambda: now[0])
    world = World()
    assert limiter.hit(world, "key") == (1, None)
    now[0] = 105.0
    assert limiter.hit(world, "key") == (2, None)
    assert limiter.hit(world, "other-key") == (1, None)
    now[0] = 110.0
    assert limiter.hit(world, "key") == (2, 10.0)  # the first call leaves the window at 120
    now[0] = 120.0
    assert limiter.hit(world, "key") == (2, None)


def test_call_limiter_counts_every_429_it_serves() -> None:
    now = [0.0]
    limiter = CallLimiter(limit=1, window_seconds=20.0, clock=lambda: now[0])
    world = World()
    limiter.hit(world, "key")
    assert limiter.usage(world, "key") == 1
    assert limiter.hit(world, "key")[1] is not None
    assert limiter.hit(world, "key")[1] is not None
    assert limiter.rejected == 2
    limiter.hit(World(), "key")  # a new account's budget, but the 429s already served stay counted
    assert limiter.rejected == 2


async def test_control_api_reports_the_budget_and_the_429s_served(
    sandbox_app: FastAPI, api: httpx.AsyncClient, sandbox_http: httpx.AsyncClient
) -> None:
    sandbox_app.state.gorgias_call_limiter = CallLimiter(limit=2, window_seconds=20.0)
    statuses = [(await api.get("/users")).status_code for _ in range(4)]
    assert statuses == [200, 200, 429, 429]
    budget = (await sandbox_http.get("/_sandbox/gorgias/rate-limit")).json()
    assert budget == {"limit": 2, "window_seconds": 20.0, "calls_in_window": 2, "rejected_429": 2}


# --------------------------------------------------------------------------- the human agent


async def test_human_reply_shows_in_the_ticket_and_sends_a_parsable_webhook(world: World) -> None:
    deliveries: list[tuple[str, dict[str, str], dict[str, Any]]] = []

    async def sender(url: str, headers: dict[str, str], body: dict[str, Any]) -> int:
        deliveries.append((url, headers, body))
        return 200

    app = create_sandbox_app(world, webhook_sender=sender)
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://sandbox") as control,
        gorgias_http_client(
            f"http://sandbox{API}", "agent@sandbox.test", "gorgias_sandbox", transport=transport
        ) as http,
    ):
        gorgias = GorgiasClient(http)
        ticket = await gorgias.create_ticket(
            customer_email=SHOPPER,
            subject="I want a person",
            messages=[NewMessage.from_customer("Can I talk to a human?")],
            tags=["ai_handover"],
            external_id="conv-human",
        )
        await control.put("/_sandbox/helpdesk-webhook", json={"url": "http://agent/webhooks/gorgias"})
        reply = await control.post(f"/_sandbox/tickets/{ticket.id}/reply", json={"text": "Hi, Rosa here."})
        assert reply.status_code == 200

        fetched = await gorgias.get_ticket(ticket.id)
        human = fetched.messages[-1]
        assert (human.from_agent, human.public, human.body_text) == (True, True, "Hi, Rosa here.")
        assert human.sender is not None
        assert human.sender.email == "rosa@harborandpine.test"
        assert fetched.assignee_user is not None
        assert fetched.assignee_user.id == 1

        await control.post(f"/_sandbox/tickets/{ticket.id}/close")

    (url, headers, body), (_, _, closed_body) = deliveries
    assert url == "http://agent/webhooks/gorgias"
    assert headers == {"X-Support-Agent-Secret": "gorgias_webhook_sandbox"}
    event = HelpdeskWebhookEvent.model_validate(body)
    assert event.event == "ticket-message-created"
    assert (event.ticket.id, event.ticket.external_id) == (ticket.id, "conv-human")
    assert event.ticket.tag_names == ["ai_handover"]
    assert event.message is not None
    assert event.message.is_human_reply(api_user_email="agent@sandbox.test")
    assert event.message.body_text == "Hi, Rosa here."
    closed = HelpdeskWebhookEvent.model_validate(closed_body)
    assert (closed.event, closed.ticket.status, closed.message) == ("ticket-updated", "closed", None)


def test_webhook_body_with_nulls_parses(world: World) -> None:
    customer = world.gorgias.customers[1]
    ticket = create_ticket(
        world, customer=customer, subject=None, channel="chat", via="api", tags=[], external_id=None
    )
    message = {"id": 5, "channel": "internal-note", "from_agent": None, "public": None, "body_text": "x"}
    event = HelpdeskWebhookEvent.model_validate(helpdesk_event("ticket-message-created", ticket, message))
    assert event.ticket.external_id is None
    assert event.ticket.assignee_user is None
    assert event.message is not None
    assert (event.message.from_agent, event.message.public) == (False, True)
    assert not event.message.is_human_reply()


async def test_the_agents_own_mirrored_reply_is_not_a_human_reply(
    api: httpx.AsyncClient, world: World
) -> None:
    ticket = (await api.post("/tickets", json=ticket_body())).json()
    bot = {"channel": "chat", "via": "api", "from_agent": True, "body_text": "Your order shipped."}
    message = (await api.post(f"/tickets/{ticket['id']}/messages", json=bot)).json()
    event = HelpdeskWebhookEvent.model_validate(
        helpdesk_event("ticket-message-created", world.gorgias.tickets[ticket["id"]], message)
    )
    assert event.message is not None
    assert event.message.is_human_reply()  # from_agent and public ...
    assert not event.message.is_human_reply(
        api_user_email="AGENT@sandbox.test"
    )  # ... but sent by the API user

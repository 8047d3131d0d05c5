"""The Gorgias client against the sandbox emulator (in-process) and the official Swagger spec."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrations._http import AuthError, NotFound, VendorError, retrying
from integrations.gorgias import (
    GorgiasClient,
    GorgiasCustomer,
    GorgiasMessage,
    GorgiasTicket,
    NewMessage,
    gorgias_http_client,
)
from sandbox.helpdesk import add_message, create_ticket
from sandbox.world import JSON, World

BASE = "http://sandbox/gorgias/api"
EMAIL = "agent@sandbox.test"
KEY = "gorgias_sandbox"
SHOPPER = "ana.silva@example.com"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def sent() -> list[httpx.Request]:
    return []


@pytest.fixture
async def http(
    sandbox_transport: httpx.ASGITransport, sent: list[httpx.Request]
) -> AsyncIterator[httpx.AsyncClient]:
    async def record(request: httpx.Request) -> None:
        sent.append(request)

    async with gorgias_http_client(BASE, EMAIL, KEY, transport=sandbox_transport) as client:
        client.event_hooks["request"].append(record)
        yield client


@pytest.fixture
def gorgias(http: httpx.AsyncClient, waits: list[float]) -> GorgiasClient:
    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    return GorgiasClient(http, retry_policy=lambda: retrying(sleep=fake_sleep))


async def add_fault(world: World, **fault: Any) -> None:
    from sandbox.world import Fault

    world.faults.append(Fault.model_validate({"vendor": "gorgias", **fault}))


def tickets_with(world: World, external_id: str) -> list[JSON]:
    return [t for t in world.gorgias.tickets.values() if t.get("external_id") == external_id]


async def new_ticket(
    gorgias: GorgiasClient, external_id: str = "conv-1", tags: list[str] | None = None
) -> GorgiasTicket:
    return await gorgias.create_ticket(
        customer_email=SHOPPER,
        subject="Where is my order #1001?",
        messages=[
            NewMessage.from_customer("Where is my order #1001?", external_id=f"{external_id}:m1"),
            NewMessage.from_bot("It is on its way with USPS.", external_id=f"{external_id}:m2"),
        ],
        tags=tags if tags is not None else ["ai-handled", "wismo"],
        external_id=external_id,
    )


# --------------------------------------------------------------------------- the official spec


def _spec(fixtures_dir: Path) -> Any:
    return json.loads((fixtures_dir / "gorgias" / "openapi-2016.json").read_text())


def _examples(definition: JSON) -> JSON:
    """Every property example of a Swagger definition: the spec's own sample object."""
    return {name: prop["example"] for name, prop in definition["properties"].items() if "example" in prop}


def test_spec_ticket_example_parses(fixtures_dir: Path) -> None:
    definition = _spec(fixtures_dir)["definitions"]["Ticket"]
    # The spec gives no examples for these scalar fields: spec-conformant values from its field list.
    payload = {
        **_examples(definition),
        "id": 12,
        "external_id": "order-1001",
        "status": definition["properties"]["status"]["default"],
        "channel": "email",
        "via": "api",
        "created_datetime": "2016-06-06T10:19:41.455734",
        "updated_datetime": "2016-06-06T10:20:01.000000",
        "closed_datetime": None,
        "messages": [{**_examples(_spec(fixtures_dir)["definitions"]["TicketMessage"]), "id": 1}],
    }
    ticket = GorgiasTicket.model_validate(payload)
    assert ticket.subject == "Refund request"
    assert ticket.tag_names == ["refund"]
    assert ticket.assignee_user is not None
    assert ticket.assignee_user.email == "agent-smith@gorgias.io"
    # The 2016 API called the customer "requester".
    assert ticket.customer is not None
    assert ticket.customer.email == "sender@gorgias.io"
    assert ticket.status == "new"
    assert ticket.messages[0].ticket_id == 12
    assert ticket.created_datetime is not None
    assert ticket.created_datetime.year == 2016


def test_spec_message_example_parses(fixtures_dir: Path) -> None:
    definition = _spec(fixtures_dir)["definitions"]["TicketMessage"]
    message = GorgiasMessage.model_validate(
        {**_examples(definition), "id": 99, "from_agent": False, "created_datetime": "2016-06-06T10:19:41"}
    )
    assert message.channel == "email"
    assert message.via == "api"
    assert message.external_id == "78545"
    assert message.public is True  # the spec's default
    assert message.sender is not None
    assert message.sender.id == 7
    assert message.body_text is not None
    assert "refund me" in message.body_text
    assert not message.is_internal_note


def test_spec_requester_parses_as_customer(fixtures_dir: Path) -> None:
    requester = _spec(fixtures_dir)["definitions"]["Ticket"]["properties"]["requester"]["example"]
    customer = GorgiasCustomer.model_validate(requester)
    assert customer.id == 7
    assert customer.channels[0].type == "email"
    assert customer.has_email("RECEIVER@gorgias.io")
    assert customer.has_email("sender@gorgias.io")
    assert not customer.has_email("someone@else.io")


def test_model_fields_exist_in_the_spec(fixtures_dir: Path) -> None:
    definitions = _spec(fixtures_dir)["definitions"]
    renamed = {"customer": "requester"}  # today's name -> the 2016 name
    for model, name in ((GorgiasTicket, "Ticket"), (GorgiasMessage, "TicketMessage")):
        properties = set(definitions[name]["properties"])
        missing = {renamed.get(field, field) for field in model.model_fields} - properties
        assert missing == set(), f"{model.__name__} reads fields the spec does not define: {missing}"
    required = set(definitions["TicketMessage"]["required"])
    assert {"channel", "via"} <= required
    assert set(NewMessage.model_fields) - {"public"} <= set(definitions["TicketMessage"]["properties"])


# --------------------------------------------------------------------------- customers


async def test_get_or_create_customer_creates_one_record(gorgias: GorgiasClient, world: World) -> None:
    first = await gorgias.get_or_create_customer("new.shopper@example.com", "New Shopper")
    second = await gorgias.get_or_create_customer("New.Shopper@example.com")
    assert first.id == second.id
    assert first.name == "New Shopper"
    records = [c for c in world.gorgias.customers.values() if c["email"] == "new.shopper@example.com"]
    assert len(records) == 1
    assert records[0]["channels"] == [{"type": "email", "address": "new.shopper@example.com"}]


async def test_existing_customer_is_found_not_created(gorgias: GorgiasClient, world: World) -> None:
    before = len(world.gorgias.customers)
    customer = await gorgias.get_or_create_customer(SHOPPER)
    assert customer.id == 1
    assert customer.name == "Ana Silva"
    assert len(world.gorgias.customers) == before


async def test_customer_create_retried_after_a_lost_response_is_not_duplicated(
    sandbox_transport: httpx.ASGITransport, world: World, waits: list[float]
) -> None:
    transport = LoseFirstResponse(sandbox_transport, "POST", "/customers")
    async with gorgias_http_client(BASE, EMAIL, KEY, transport=transport) as http:
        client = GorgiasClient(http, retry_policy=lambda: retrying(sleep=_recorder(waits)))
        customer = await client.get_or_create_customer("lost@example.com")
    assert transport.lost == 1
    assert len(waits) == 1
    assert [c["id"] for c in world.gorgias.customers.values() if c["email"] == "lost@example.com"] == [
        customer.id
    ]


# --------------------------------------------------------------------------- tickets


async def test_create_ticket_with_messages_tags_and_external_id(gorgias: GorgiasClient, world: World) -> None:
    ticket = await new_ticket(gorgias)
    assert ticket.external_id == "conv-1"
    assert ticket.status == "open"
    assert ticket.tag_names == ["ai-handled", "wismo"]
    assert ticket.customer is not None
    assert ticket.customer.id == 1
    shopper, bot = ticket.messages
    assert (shopper.from_agent, shopper.public, shopper.channel, shopper.via) == (False, True, "chat", "api")
    assert shopper.sender is not None
    assert shopper.sender.email == SHOPPER
    assert bot.from_agent is True
    assert bot.receiver is not None
    assert bot.receiver.email == SHOPPER
    stored = world.gorgias.tickets[ticket.id]
    assert [m["external_id"] for m in stored["messages"]] == ["conv-1:m1", "conv-1:m2"]
    assert stored["subject"] == "Where is my order #1001?"


async def test_create_ticket_twice_creates_it_once(
    gorgias: GorgiasClient, world: World, sent: list[httpx.Request]
) -> None:
    first = await new_ticket(gorgias)
    again = await new_ticket(gorgias)
    assert again.id == first.id
    assert len(again.messages) == 2
    assert len(tickets_with(world, "conv-1")) == 1
    assert [r.method for r in sent if r.url.path.endswith("/tickets")].count("POST") == 1


async def test_ticket_create_retried_after_a_lost_response_is_not_duplicated(
    sandbox_transport: httpx.ASGITransport, world: World, waits: list[float]
) -> None:
    transport = LoseFirstResponse(sandbox_transport, "POST", "/tickets")
    async with gorgias_http_client(BASE, EMAIL, KEY, transport=transport) as http:
        client = GorgiasClient(http, retry_policy=lambda: retrying(sleep=_recorder(waits)))
        ticket = await new_ticket(client, "conv-lost")
    assert transport.lost == 1
    assert [t["id"] for t in tickets_with(world, "conv-lost")] == [ticket.id]


async def test_ticket_without_messages_is_a_vendor_error_with_the_reason(
    gorgias: GorgiasClient, world: World
) -> None:
    with pytest.raises(VendorError) as caught:
        await gorgias.create_ticket(
            customer_email=SHOPPER, subject="Empty", messages=[], external_id="conv-empty"
        )
    assert caught.value.status == 400
    assert "messages" in str(caught.value)
    assert SHOPPER not in str(caught.value)
    assert tickets_with(world, "conv-empty") == []


async def test_write_without_idempotency_is_not_retried(
    gorgias: GorgiasClient, world: World, waits: list[float]
) -> None:
    await add_fault(world, route="/tickets", method="POST", kind="error", status=500)
    with pytest.raises(VendorError) as caught:
        await gorgias.create_ticket(
            customer_email=SHOPPER, subject="No key", messages=[NewMessage.from_customer("hello")]
        )
    assert caught.value.status == 500
    assert waits == []
    assert world.gorgias.tickets == {}


async def test_idempotent_create_is_retried_after_a_500(
    gorgias: GorgiasClient, world: World, waits: list[float]
) -> None:
    await add_fault(world, route="/tickets", method="POST", kind="error", status=503)
    ticket = await new_ticket(gorgias, "conv-503")
    assert len(waits) == 1
    assert [t["id"] for t in tickets_with(world, "conv-503")] == [ticket.id]


async def test_get_ticket_has_its_messages(gorgias: GorgiasClient) -> None:
    created = await new_ticket(gorgias)
    ticket = await gorgias.get_ticket(created.id)
    assert [m.body_text for m in ticket.messages] == [
        "Where is my order #1001?",
        "It is on its way with USPS.",
    ]
    assert ticket.created_datetime is not None


async def test_find_ticket_by_external_id(gorgias: GorgiasClient) -> None:
    created = await new_ticket(gorgias, "conv-find")
    found = await gorgias.find_ticket_by_external_id("conv-find")
    assert found is not None
    assert found.id == created.id
    assert len(found.messages) == 2
    assert await gorgias.find_ticket_by_external_id("conv-none") is None


# --------------------------------------------------------------------------- messages


async def test_internal_note_is_never_public(gorgias: GorgiasClient, world: World) -> None:
    ticket = await new_ticket(gorgias)
    note = await gorgias.add_internal_note(
        ticket.id, "Summary: shopper asks for order #1001.", external_id="note-1"
    )
    assert (note.channel, note.from_agent, note.public) == ("internal-note", True, False)
    assert note.is_internal_note
    stored = world.gorgias.tickets[ticket.id]["messages"][-1]
    assert stored["public"] is False
    assert stored["channel"] == "internal-note"
    assert stored["receiver"] is None


async def test_message_with_external_id_is_posted_once(gorgias: GorgiasClient, world: World) -> None:
    ticket = await new_ticket(gorgias)
    message = NewMessage.from_customer("Any update?", external_id="conv-1:m3")
    first = await gorgias.add_message(ticket.id, message)
    again = await gorgias.add_message(ticket.id, message)
    assert again.id == first.id
    stored = world.gorgias.tickets[ticket.id]["messages"]
    assert [m["external_id"] for m in stored].count("conv-1:m3") == 1
    # The client filled in the ticket's customer as the sender.
    assert stored[-1]["sender"]["email"] == SHOPPER
    note = NewMessage.internal_note("Handover", external_id="conv-1:note")
    assert (await gorgias.add_message(ticket.id, note)).id == (await gorgias.add_message(ticket.id, note)).id


async def test_message_on_unknown_ticket_is_not_found(gorgias: GorgiasClient) -> None:
    with pytest.raises(NotFound):
        await gorgias.add_message(424242, NewMessage.from_bot("hi", customer_email=SHOPPER))


async def test_list_messages_follows_the_cursor(
    gorgias: GorgiasClient, world: World, sent: list[httpx.Request]
) -> None:
    ticket = _seed_ticket(world, "conv-long")
    for index in range(4):
        _seed_message(world, ticket, f"message {index}")
    bodies = [m.body_text async for m in gorgias.list_messages(ticket["id"], limit=2)]
    assert bodies == ["opening", "message 0", "message 1", "message 2", "message 3"]
    assert len([r for r in sent if r.url.path.endswith("/messages")]) == 3


# --------------------------------------------------------------------------- tags, assignment, status


async def test_add_tags_keeps_the_existing_ones(gorgias: GorgiasClient, world: World) -> None:
    ticket = await new_ticket(gorgias)
    updated = await gorgias.add_tags(ticket.id, ["wismo", "ai_handover", " "])
    assert updated.tag_names == ["ai-handled", "wismo", "ai_handover"]
    assert [t["name"] for t in world.gorgias.tickets[ticket.id]["tags"]] == [
        "ai-handled",
        "wismo",
        "ai_handover",
    ]


async def test_remove_tags_keeps_the_others(
    gorgias: GorgiasClient, world: World, sent: list[httpx.Request]
) -> None:
    ticket = await new_ticket(gorgias, tags=["ai-handled", "ai_handover", "wismo"])
    updated = await gorgias.remove_tags(ticket.id, ["ai_handover", "never-there"])
    assert updated.tag_names == ["ai-handled", "wismo"]
    assert [t["name"] for t in world.gorgias.tickets[ticket.id]["tags"]] == ["ai-handled", "wismo"]
    puts = len([r for r in sent if r.method == "PUT"])
    await gorgias.remove_tags(ticket.id, ["ai_handover"])  # nothing left to remove: no write
    assert len([r for r in sent if r.method == "PUT"]) == puts


async def test_update_replaces_tags_assigns_and_closes(gorgias: GorgiasClient, world: World) -> None:
    ticket = await new_ticket(gorgias)
    updated = await gorgias.update_ticket(ticket.id, tags=["refund"], assignee_email="tom@harborandpine.test")
    assert updated.tag_names == ["refund"]
    assert updated.assignee_user is not None
    assert updated.assignee_user.id == 2
    assert world.gorgias.tickets[ticket.id]["assignee_user"]["name"] == "Tom Becker"

    reassigned = await gorgias.update_ticket(ticket.id, assignee_user_id=1)
    assert reassigned.assignee_user is not None
    assert reassigned.assignee_user.email == "rosa@harborandpine.test"

    closed = await gorgias.close_ticket(ticket.id)
    assert closed.is_closed
    assert closed.closed_datetime is not None
    assert world.gorgias.tickets[ticket.id]["status"] == "closed"

    reopened = await gorgias.update_ticket(ticket.id, status="open")
    assert reopened.status == "open"
    assert world.gorgias.tickets[ticket.id]["closed_datetime"] is None


async def test_assigning_an_unknown_agent_is_not_found(gorgias: GorgiasClient, world: World) -> None:
    ticket = await new_ticket(gorgias)
    with pytest.raises(NotFound):
        await gorgias.update_ticket(ticket.id, assignee_email="nobody@harborandpine.test")
    assert world.gorgias.tickets[ticket.id]["assignee_user"] is None


# --------------------------------------------------------------------------- listing


def _seed_ticket(world: World, external_id: str, email: str = SHOPPER) -> JSON:
    customer = next(c for c in world.gorgias.customers.values() if c["email"] == email)
    ticket = create_ticket(
        world,
        customer=customer,
        subject=external_id,
        channel="chat",
        via="api",
        tags=[],
        external_id=external_id,
    )
    _seed_message(world, ticket, "opening")
    return ticket


def _seed_message(world: World, ticket: JSON, text: str) -> None:
    add_message(
        world, ticket, body_text=text, channel="chat", via="api", from_agent=False, sender=ticket["customer"]
    )


async def test_list_tickets_paginates_across_three_pages(
    gorgias: GorgiasClient, world: World, sent: list[httpx.Request]
) -> None:
    seeded = [_seed_ticket(world, f"conv-{i}")["id"] for i in range(7)]
    listed = [t async for t in gorgias.list_tickets(limit=3)]
    assert [t.id for t in listed] == sorted(seeded, reverse=True)  # newest first
    pages = [r for r in sent if r.url.path.endswith("/tickets")]
    assert len(pages) == 3
    assert "cursor" not in pages[0].url.params
    assert all("cursor" in r.url.params and r.url.params["limit"] == "3" for r in pages[1:])


async def test_list_tickets_filters(gorgias: GorgiasClient, world: World) -> None:
    mine = [_seed_ticket(world, f"ana-{i}")["id"] for i in range(2)]
    _seed_ticket(world, "ben-1", email="ben.okafor@example.com")
    assert sorted([t.id async for t in gorgias.list_tickets(customer_email=SHOPPER)]) == mine
    assert [t.external_id async for t in gorgias.list_tickets(external_id="ben-1")] == ["ben-1"]
    assert [t async for t in gorgias.list_tickets(customer_email="stranger@example.com")] == []
    assert len([t async for t in gorgias.list_tickets(limit=1, max_items=2)]) == 2


# --------------------------------------------------------------------------- failures


def _recorder(waits: list[float]) -> Any:
    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    return fake_sleep


async def test_429_is_retried_after_retry_after(
    gorgias: GorgiasClient, world: World, waits: list[float]
) -> None:
    ticket = await new_ticket(gorgias)
    await add_fault(
        world, route=f"/tickets/{ticket.id}", method="GET", kind="rate_limit", retry_after=1.5, remaining=2
    )
    fetched = await gorgias.get_ticket(ticket.id)
    assert fetched.id == ticket.id
    assert waits == [1.5, 1.5]


async def test_500_is_retried_with_backoff(gorgias: GorgiasClient, world: World, waits: list[float]) -> None:
    await add_fault(world, route="/customers", method="GET", kind="error", status=500)
    customer = await gorgias.get_or_create_customer(SHOPPER)
    assert customer.id == 1
    assert len(waits) == 1
    assert 0 < waits[0] <= 8.0


async def test_persistent_failure_gives_up(gorgias: GorgiasClient, world: World, waits: list[float]) -> None:
    await add_fault(world, route="/users", kind="error", status=502, remaining=10)
    with pytest.raises(VendorError) as caught:
        await gorgias.list_users()
    assert caught.value.status == 502
    assert len(waits) == 3  # four attempts in all


async def test_bad_key_is_an_auth_error_naming_the_setting(sandbox_transport: httpx.ASGITransport) -> None:
    async with gorgias_http_client(BASE, EMAIL, "wrong-key-123", transport=sandbox_transport) as http:
        with pytest.raises(AuthError) as caught:
            await GorgiasClient(http).get_ticket(1)
    assert caught.value.setting == "GORGIAS_API_KEY"
    assert "GORGIAS_API_KEY" in str(caught.value)
    assert "wrong-key-123" not in str(caught.value)
    assert EMAIL not in str(caught.value)


async def test_unknown_ticket_is_not_found(gorgias: GorgiasClient, waits: list[float]) -> None:
    with pytest.raises(NotFound):
        await gorgias.get_ticket(424242)
    assert waits == []


async def test_malformed_body_is_a_vendor_error(gorgias: GorgiasClient, world: World) -> None:
    await add_fault(world, route="/customers", method="GET", kind="malformed")
    with pytest.raises(VendorError) as caught:
        await gorgias.find_customer(SHOPPER)
    assert "malformed" in str(caught.value)


async def test_unexpected_shape_is_a_vendor_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/tickets/5"):
            return httpx.Response(200, json={"id": "five", "customer": {"email": SHOPPER}})
        return httpx.Response(200, json={"tickets": []})

    async with gorgias_http_client(BASE, EMAIL, KEY, transport=httpx.MockTransport(handler)) as http:
        client = GorgiasClient(http)
        with pytest.raises(VendorError) as shape:
            await client.get_ticket(5)
        with pytest.raises(VendorError) as listing:
            await client.find_ticket_by_external_id("x")
    assert "id" in str(shape.value)
    assert SHOPPER not in str(shape.value)
    assert "list" in str(listing.value)


async def test_call_limit_header_is_tracked(gorgias: GorgiasClient) -> None:
    await gorgias.get_or_create_customer(SHOPPER)
    await gorgias.list_users()
    assert gorgias.call_limit == (2, 40)


async def test_http_client_uses_basic_auth_and_a_timeout() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": [], "object": "list", "meta": {"next_cursor": None}})

    async with gorgias_http_client(
        "https://acme.gorgias.com/api/", EMAIL, KEY, transport=httpx.MockTransport(handler)
    ) as http:
        assert http.timeout.read is not None
        assert await GorgiasClient(http).list_users() == []
    assert str(seen[0].url).startswith("https://acme.gorgias.com/api/users?")
    assert seen[0].headers["authorization"] == "Basic " + base64.b64encode(f"{EMAIL}:{KEY}".encode()).decode()


# --------------------------------------------------------------------------- helpers


class LoseFirstResponse(httpx.AsyncBaseTransport):
    """Lets the first matching request reach the sandbox, then loses its response (a timeout)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, method: str, path_suffix: str) -> None:
        self.inner = inner
        self.method = method
        self.path_suffix = path_suffix
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.lost == 0 and request.method == self.method and request.url.path.endswith(self.path_suffix):
            self.lost += 1
            await response.aread()
            raise httpx.ReadTimeout("response lost", request=request)
        return response


async def test_add_messages_reads_the_ticket_once_and_posts_each_message_once(
    gorgias: GorgiasClient, world: World, sent: list[httpx.Request]
) -> None:
    ticket = await new_ticket(gorgias)
    sent.clear()
    batch = [
        NewMessage.from_customer("is it here yet?", external_id="conv-1:m3"),
        NewMessage.from_bot("It arrives tomorrow.", external_id="conv-1:m4"),
        NewMessage.from_customer("where is my order #1001?", external_id="conv-1:m1"),  # already there
    ]
    posted = await gorgias.add_messages(ticket.id, batch)
    assert [m.external_id for m in posted] == ["conv-1:m3", "conv-1:m4", "conv-1:m1"]
    assert [r.method for r in sent] == ["GET", "POST", "POST"]
    again = await gorgias.add_messages(ticket.id, batch)
    assert [m.id for m in again] == [m.id for m in posted]
    stored = world.gorgias.tickets[ticket.id]["messages"]
    assert [m["external_id"] for m in stored] == ["conv-1:m1", "conv-1:m2", "conv-1:m3", "conv-1:m4"]
    assert stored[2]["sender"]["email"] == SHOPPER


# --------------------------------------------------------------------------- a customer created meanwhile


async def test_conflict_on_create_uses_the_published_existing_customer() -> None:
    """Contract: Gorgias answers 409 to a duplicate email; the client then reads the existing
    customer (Gorgias's published example object) instead of failing."""
    from tests.published.gorgias_reference import CUSTOMER, CUSTOMER_EMAIL

    calls: list[tuple[str, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append((request.method, request.url.path))
        if request.method == "POST":
            return httpx.Response(409, json={"error": {"msg": "Customer already exists."}})
        seen = sum(method == "GET" for method, _ in calls)
        data = [CUSTOMER] if seen > 1 else []  # created by someone else after our first look
        return httpx.Response(200, json={"data": data, "object": "list", "meta": {"next_cursor": None}})

    async with gorgias_http_client(BASE, EMAIL, KEY, transport=httpx.MockTransport(answer)) as http:
        customer = await GorgiasClient(http).get_or_create_customer(CUSTOMER_EMAIL, "John")
    assert (customer.id, customer.external_id, customer.firstname) == (3924, "customer-84203241", "John")
    assert [method for method, _ in calls] == ["GET", "POST", "GET"]


class HideCustomerOnce(httpx.AsyncBaseTransport):
    """The first customer lookup misses (another process creates the customer right after it)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.hidden = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.endswith("/customers") and not self.hidden:
            self.hidden = True
            return httpx.Response(200, json={"data": [], "object": "list", "meta": {"next_cursor": None}})
        return await self.inner.handle_async_request(request)


async def test_sandbox_conflict_then_the_existing_customer(
    sandbox_transport: httpx.ASGITransport, world: World, waits: list[float]
) -> None:
    before = len(world.gorgias.customers)
    transport = HideCustomerOnce(sandbox_transport)
    async with gorgias_http_client(BASE, EMAIL, KEY, transport=transport) as http:
        client = GorgiasClient(http, retry_policy=lambda: retrying(sleep=_recorder(waits)))
        customer = await client.get_or_create_customer(SHOPPER)
    assert transport.hidden
    assert customer.id == 1  # Ana, who already existed: the 409 led to her, not to a failure
    assert len(world.gorgias.customers) == before
    assert waits == []  # no retry was needed

"""The Intercom client and adapter: against the sandbox's Intercom (world state checked), against
`MockTransport` answers for edge cases, and against Intercom's published examples (contract)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from tenacity import AsyncRetrying

from integrations._http import AuthError, NotFound, RateLimited, VendorError
from integrations.intercom.adapter import IntercomHelpdesk
from integrations.intercom.client import (
    CALL_BUDGET,
    CONVERSATION_ATTRIBUTE,
    IntercomClient,
    NewPart,
    intercom_http_client,
    next_cursor,
)
from integrations.intercom.models import CreatedMessage, IntercomContact, IntercomConversation
from sandbox.world import World
from tests.published.intercom.reference import (
    CONTACT,
    CONVERSATION,
    CREATED_MESSAGE,
    ERROR_401,
    RATE_HEADERS,
)

BASE = "http://sandbox/intercom"
TOKEN = "intercom_sandbox"
BOT = "7451001"
SHOPPER = "ana.silva@example.com"


@pytest.fixture
def sent() -> list[httpx.Request]:
    return []


@pytest.fixture
async def intercom(
    sandbox_transport: httpx.ASGITransport, sent: list[httpx.Request], policy: Callable[[], AsyncRetrying]
) -> AsyncIterator[IntercomClient]:
    async def record(request: httpx.Request) -> None:
        sent.append(request)

    async with intercom_http_client(BASE, TOKEN, transport=sandbox_transport) as http:
        http.event_hooks["request"].append(record)
        yield IntercomClient(http, admin_id=BOT, retry_policy=policy)


class LoseFirstResponse(httpx.AsyncBaseTransport):
    """Lets the first `method` request whose path contains `fragment` reach the sandbox, then loses
    its answer (a timeout)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, method: str, fragment: str) -> None:
        self.inner, self.method, self.fragment, self.lost = inner, method, fragment, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.lost == 0 and request.method == self.method and self.fragment in request.url.path:
            self.lost += 1
            await response.aread()
            raise httpx.ReadTimeout("response lost", request=request)
        return response


def parts_of(world: World, conversation_id: str) -> list[dict[str, Any]]:
    return world.intercom.parts.get(int(conversation_id), [])


async def opened(client: IntercomClient, external_id: str = "conv-1") -> IntercomConversation:
    contact = await client.contact_by_email(SHOPPER)
    conversation, _ = await client.create_conversation(
        contact_id=contact.id, body="Where is order 1001?", external_id=external_id
    )
    return conversation


# --------------------------------------------------------------------------- contract


def test_the_models_read_intercoms_published_examples() -> None:
    conversation = IntercomConversation.model_validate(CONVERSATION)
    assert (conversation.id, conversation.state, conversation.open) == ("503", "closed", False)
    assert conversation.admin_assignee_id == "991267715" and conversation.team_assignee_id == "5017691"
    assert conversation.tag_names == ["Test tag"] and conversation.tags[0].applied_by_id == "1a2b3c"
    [part] = conversation.parts
    assert (part.id, part.part_type, part.text, part.author.type, part.author.id) == (
        "1",
        "comment",
        "Okay!",
        "admin",
        "274",
    )
    assert conversation.contact_id == "6762f1261bb69f9f2193bba7"
    assert CreatedMessage.model_validate(CREATED_MESSAGE).conversation_id == "499"
    contact = IntercomContact.model_validate(CONTACT)
    assert (contact.id, contact.role, contact.email) == (
        "6762f0dd1bb69f9f2193bb83",
        "user",
        "joebloggs@intercom.io",
    )


def test_the_budget_reads_intercoms_published_rate_headers() -> None:
    assert CALL_BUDGET.usage(httpx.Headers(RATE_HEADERS)) == (1, 100)
    assert (CALL_BUDGET.limit, CALL_BUDGET.window_seconds) == (1666, 10.0)


async def test_the_emulator_serves_the_published_shapes(
    intercom: IntercomClient, world: World, sandbox_transport: httpx.ASGITransport
) -> None:
    """Every top-level field of the published conversation, part and contact is served, with the
    published type where both are set."""
    conversation = await opened(intercom)
    await intercom.add_parts(conversation.id, [NewPart("admin", "Hello!")])
    async with intercom_http_client(BASE, TOKEN, transport=sandbox_transport) as http:
        served = (await http.get(f"conversations/{conversation.id}")).json()
    for published, mine in (
        (CONVERSATION, served),
        (
            CONVERSATION["conversation_parts"]["conversation_parts"][0],
            served["conversation_parts"]["conversation_parts"][-1],
        ),
        (CONTACT, next(iter(world.intercom.contacts.values()))),
    ):
        assert set(published) <= set(mine), set(published) - set(mine)
        for key in published:
            if published[key] is not None and mine[key] is not None and key != "id":
                assert type(mine[key]) is type(published[key]), key


async def test_errors_are_intercoms_error_list(sandbox_transport: httpx.ASGITransport) -> None:
    async with intercom_http_client(BASE, "wrong-token", transport=sandbox_transport) as http:
        refused = await http.get("me")
    assert refused.status_code == 401
    body = refused.json()
    assert set(body) == set(ERROR_401) and body["errors"][0]["code"] == ERROR_401["errors"][0]["code"]
    assert body["errors"][0]["message"] == "Access Token Invalid"


# --------------------------------------------------------------------------- contacts and conversations


async def test_contacts_are_found_or_created_by_email(intercom: IntercomClient, world: World) -> None:
    first = await intercom.contact_by_email(SHOPPER, "Ana Silva")
    again = await intercom.contact_by_email(SHOPPER.upper())
    assert again.id == first.id and first.role == "user" and first.name == "Ana Silva"
    assert [c["email"] for c in world.intercom.contacts.values()].count(SHOPPER) == 1


async def test_every_request_names_the_api_version_and_the_token(
    intercom: IntercomClient, sent: list[httpx.Request]
) -> None:
    await intercom.contact_by_email(SHOPPER)
    assert sent and all(r.headers["Intercom-Version"] == "2.14" for r in sent)
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in sent)


async def test_a_conversation_is_opened_as_the_contact_and_marked_once(
    intercom: IntercomClient, world: World, sent: list[httpx.Request]
) -> None:
    first = await opened(intercom)
    again = await opened(intercom)
    assert again.id == first.id
    [stored] = world.intercom.conversations.values()
    assert stored["custom_attributes"] == {CONVERSATION_ATTRIBUTE: "conv-1"}
    contact = next(iter(world.intercom.contacts.values()))
    assert stored["source"]["author"] == {"type": "user", "id": contact["id"], "name": None, "email": SHOPPER}
    assert stored["source"]["body"] == "<p>Where is order 1001?</p>"
    assert [r.url.path for r in sent if r.method == "POST"].count("/intercom/conversations") == 1


async def test_a_conversation_create_whose_answer_was_lost_is_not_duplicated_once_marked(
    sandbox_transport: httpx.ASGITransport,
    world: World,
    policy: Callable[[], AsyncRetrying],
    waits: list[float],
) -> None:
    transport = LoseFirstResponse(sandbox_transport, "PUT", "/conversations/")
    async with intercom_http_client(BASE, TOKEN, transport=transport) as http:
        client = IntercomClient(http, admin_id=BOT, retry_policy=policy)
        conversation = await opened(client, "conv-lost")
    assert transport.lost == 1 and len(waits) == 1
    assert [c["id"] for c in world.intercom.conversations.values()] == [conversation.id]


async def test_parts_are_posted_in_order_as_contact_and_admin_and_not_twice(
    intercom: IntercomClient, world: World, sent: list[httpx.Request]
) -> None:
    conversation = await opened(intercom)
    batch = [
        NewPart("user", "Is it still coming?"),
        NewPart("admin", "It arrives tomorrow."),
        NewPart("note", "Summary for the team"),
    ]
    sent.clear()
    assert await intercom.add_parts(conversation.id, batch) == 3
    assert await intercom.add_parts(conversation.id, batch) == 0
    stored = parts_of(world, conversation.id)
    assert [(p["part_type"], p["author"]["type"], p["body"]) for p in stored] == [
        ("comment", "user", "<p>Is it still coming?</p>"),
        ("comment", "admin", "<p>It arrives tomorrow.</p>"),
        ("note", "admin", "<p>Summary for the team</p>"),
    ]
    assert {p["author"]["id"] for p in stored[1:]} == {BOT}
    assert [(r.method, r.url.path.rsplit("/", 1)[-1]) for r in sent] == [
        ("GET", conversation.id),
        ("POST", "reply"),
        ("POST", "reply"),
        ("POST", "reply"),
        ("GET", conversation.id),
    ]
    replies = [json.loads(r.content) for r in sent if r.method == "POST"]
    assert replies[0]["type"] == "user" and replies[0]["intercom_user_id"]
    assert replies[1] == {
        "message_type": "comment",
        "type": "admin",
        "admin_id": BOT,
        "body": "It arrives tomorrow.",
    }


async def test_a_batch_interrupted_half_way_is_finished_not_repeated(
    sandbox_transport: httpx.ASGITransport, world: World, policy: Callable[[], AsyncRetrying]
) -> None:
    transport = LoseFirstResponse(sandbox_transport, "POST", "/reply")
    async with intercom_http_client(BASE, TOKEN, transport=transport) as http:
        client = IntercomClient(http, admin_id=BOT, retry_policy=policy)
        conversation = await opened(client)
        posted = await client.add_parts(conversation.id, [NewPart("admin", "One"), NewPart("admin", "Two")])
    assert transport.lost == 1 and posted == 1
    assert [p["body"] for p in parts_of(world, conversation.id)] == ["<p>One</p>", "<p>Two</p>"]


async def test_tags_are_added_and_removed_keeping_the_others(intercom: IntercomClient, world: World) -> None:
    conversation = await opened(intercom)
    await intercom.edit_tags(conversation.id, add=["ai-handled", "vip", "refund-approved"], remove=[])
    updated = await intercom.edit_tags(
        conversation.id, add=["ai_handover"], remove=["refund-approved", "nope"]
    )
    assert updated.tag_names == ["ai-handled", "vip", "ai_handover"]
    stored = world.intercom.conversations[int(conversation.id)]["tags"]["tags"]
    assert {t["applied_by"]["id"] for t in stored} == {BOT}
    assert sorted(t["name"] for t in world.intercom.tags.values()) == [
        "ai-handled",
        "ai_handover",
        "refund-approved",
        "vip",
    ]


async def test_close_open_snooze_and_assign(intercom: IntercomClient, world: World) -> None:
    conversation = await opened(intercom)
    assert (await intercom.close(conversation.id)).state == "closed"
    assert (await intercom.open(conversation.id)).state == "open"
    until = int(world.now().timestamp()) + 3600
    snoozed = await intercom.snooze(conversation.id, until)
    assert snoozed.state == "snoozed"
    assigned = await intercom.assign(conversation.id, assignee_id="5017001", team=True)
    assert assigned.team_assignee_id == "5017001"
    stored = world.intercom.conversations[int(conversation.id)]
    assert (stored["state"], stored["snoozed_until"], stored["team_assignee_id"]) == (
        "snoozed",
        until,
        "5017001",
    )
    assert [p["part_type"] for p in parts_of(world, conversation.id)] == [
        "close",
        "open",
        "snoozed",
        "assignment",
    ]


async def test_search_pages_are_followed_to_the_end(intercom: IntercomClient, world: World) -> None:
    contact = await intercom.contact_by_email(SHOPPER)
    for n in range(160):
        await intercom.create_conversation(
            contact_id=contact.id, body=f"m{n}", external_id="same", may_exist=False
        )
    found = await intercom._search(
        "conversations/search",
        "conversations",
        {"field": f"custom_attributes.{CONVERSATION_ATTRIBUTE}", "operator": "=", "value": "same"},
    )
    assert len(found) == 160 == len(world.intercom.conversations)
    assert (
        next_cursor({"pages": {"next": {"starting_after": "abc"}}}) == "abc"
        and next_cursor({"pages": {}}) is None
    )


# --------------------------------------------------------------------------- errors


async def test_a_wrong_token_is_an_auth_error_naming_the_setting(
    sandbox_transport: httpx.ASGITransport,
) -> None:
    async with intercom_http_client(BASE, "wrong-token", transport=sandbox_transport) as http:
        with pytest.raises(AuthError) as refused:
            await IntercomClient(http, admin_id=BOT).get_conversation("1")
    assert refused.value.setting == "INTERCOM_ACCESS_TOKEN" and refused.value.status == 401
    assert "wrong-token" not in str(refused.value)


async def test_an_unknown_version_or_conversation_is_refused(
    intercom: IntercomClient, sandbox_transport: httpx.ASGITransport
) -> None:
    with pytest.raises(NotFound):
        await intercom.get_conversation("424242")
    async with intercom_http_client(BASE, TOKEN, api_version="9.9", transport=sandbox_transport) as http:
        with pytest.raises(VendorError) as refused:
            await IntercomClient(http, admin_id=BOT).get_conversation("1")
    assert refused.value.status == 400 and "version" in str(refused.value)


async def test_429_waits_until_the_announced_reset(
    policy: Callable[[], AsyncRetrying], waits: list[float]
) -> None:
    answers = [
        httpx.Response(
            429,
            headers={
                "X-RateLimit-Limit": "1666",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": "1000007",
            },
            json={"type": "error.list", "errors": [{"code": "rate_limit_exceeded", "message": "Too many"}]},
        ),
        httpx.Response(
            200, headers={"X-RateLimit-Limit": "1666", "X-RateLimit-Remaining": "1600"}, json=CONVERSATION
        ),
    ]
    async with intercom_http_client(
        BASE, TOKEN, transport=httpx.MockTransport(lambda _: answers.pop(0)), clock=lambda: 1_000_000.0
    ) as http:
        client = IntercomClient(http, admin_id=BOT, retry_policy=policy)
        conversation = await client.get_conversation("503")
    assert conversation.id == "503" and waits == [7.0]
    assert client.rate_limit == (1600, 1666)


async def test_429_on_a_reply_is_raised_not_retried_blindly() -> None:
    async def answer(_: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429, headers={"X-RateLimit-Reset": "1000003"}, json={"type": "error.list", "errors": []}
        )

    async with intercom_http_client(
        BASE, TOKEN, transport=httpx.MockTransport(answer), clock=lambda: 1_000_000.0
    ) as http:
        with pytest.raises(RateLimited) as limited:
            await IntercomClient(http, admin_id=BOT).reply("1", NewPart("admin", "x"))
    assert limited.value.retry_after == 3.0


async def test_the_emulator_limits_to_the_window_and_says_when_it_resets(
    sandbox_app: Any, sandbox_transport: httpx.ASGITransport
) -> None:
    from sandbox.vendors.gorgias import CallLimiter

    sandbox_app.state.intercom_call_limiter = CallLimiter(limit=2, window_seconds=10.0)
    async with intercom_http_client(BASE, TOKEN, transport=sandbox_transport) as http:
        answers = [await http.get("me") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
    assert answers[2].json()["errors"][0]["code"] == "rate_limit_exceeded"
    assert int(answers[2].headers["Retry-After"]) >= 1  # written from X-RateLimit-Reset by our hook


async def test_a_malformed_conversation_is_a_vendor_error_naming_fields_only() -> None:
    async def answer(_: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"type": "conversation", "id": None, "title": "ana.silva@example.com"}
        )

    async with intercom_http_client(BASE, TOKEN, transport=httpx.MockTransport(answer)) as http:
        with pytest.raises(VendorError) as broken:
            await IntercomClient(http, admin_id=BOT).get_conversation("1")
    assert "id" in str(broken.value) and "ana.silva" not in str(broken.value)


# --------------------------------------------------------------------------- the adapter


async def test_the_adapter_mirrors_a_chat_and_assigns_the_handoff(
    intercom: IntercomClient, world: World
) -> None:
    helpdesk = IntercomHelpdesk(
        intercom,
        ticket_url="https://app.intercom.com/a/inbox/x/inbox/conversation/{id}",
        handoff_assignee="team:5017001",
    )
    ticket = await helpdesk.ensure_ticket(
        conversation_id="conv-9",
        customer_email=None,
        subject="Chat",
        tags=["ai-handled"],
        messages=[("shopper", "hi", "conv-9:m1"), ("assistant", "Hello!", "conv-9:m2")],
    )
    assert ticket.url == f"https://app.intercom.com/a/inbox/x/inbox/conversation/{ticket.id}"
    assert ticket.external_id == "conv-9" and ticket.tags == ("ai-handled",)
    contact = next(iter(world.intercom.contacts.values()))
    assert contact["email"].startswith("visitor-conv-9@")
    # A retried batch: what an interrupted attempt posted (the greeting) is not posted again.
    await helpdesk.post_messages(
        ticket.id, [("assistant", "Hello!", "conv-9:m2"), ("note", "Summary", "conv-9:n1")]
    )
    assert [p["body"] for p in parts_of(world, ticket.id)] == ["<p>Hello!</p>", "<p>Summary</p>"]
    await helpdesk.set_status(ticket.id, "closed")
    handed = await helpdesk.edit_tags(ticket.id, add=["ai_handover"], remove=[])
    assert "ai_handover" in handed.tags and handed.status == "open" and handed.assignee == "5017001"
    closed = await helpdesk.set_status(ticket.id, "closed")
    assert closed.status == "closed"

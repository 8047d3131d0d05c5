"""The Zendesk client and adapter: against the sandbox's Zendesk (world state checked), against
`MockTransport` answers for edge cases, and against Zendesk's published examples (contract)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from tenacity import AsyncRetrying

from integrations._http import AuthError, NotFound, RateLimited, VendorError
from integrations.zendesk.adapter import ZendeskHelpdesk
from integrations.zendesk.client import CALL_BUDGET, ZendeskClient, zendesk_http_client
from integrations.zendesk.models import NewComment, ZendeskComment, ZendeskTicket
from sandbox.world import World
from tests.integrations.test_gorgias_client import LoseFirstResponse
from tests.published.zendesk_reference import COMMENTS, RATE_HEADERS, TICKET

BASE = "http://sandbox/zendesk/api/v2"
EMAIL = "agent@sandbox.test"
TOKEN = "zendesk_sandbox"
SHOPPER = "ana.silva@example.com"


@pytest.fixture
def sent() -> list[httpx.Request]:
    return []


@pytest.fixture
async def zendesk(
    sandbox_transport: httpx.ASGITransport, sent: list[httpx.Request], policy: Callable[[], AsyncRetrying]
) -> AsyncIterator[ZendeskClient]:
    async def record(request: httpx.Request) -> None:
        sent.append(request)

    async with zendesk_http_client(BASE, EMAIL, TOKEN, transport=sandbox_transport) as http:
        http.event_hooks["request"].append(record)
        yield ZendeskClient(http, retry_policy=policy)


def comments_of(world: World, ticket_id: int) -> list[dict[str, Any]]:
    return world.zendesk.comments.get(ticket_id, [])


# --------------------------------------------------------------------------- contract


def test_the_models_read_zendesks_published_ticket_and_comments() -> None:
    ticket = ZendeskTicket.model_validate(TICKET["ticket"])
    assert (ticket.id, ticket.external_id, ticket.status) == (35436, "ahg35h3jh", "open")
    assert ticket.tags == ["enterprise", "other_tag"] and ticket.requester_id == 20978392
    [comment] = [ZendeskComment.model_validate(c) for c in COMMENTS["comments"]]
    assert (comment.id, comment.author_id, comment.public, comment.body) == (
        1274,
        123123,
        True,
        "Thanks for your help!",
    )
    assert comment.external_id is None  # not one of ours


def test_the_budget_reads_zendesks_published_rate_headers() -> None:
    assert CALL_BUDGET.usage(httpx.Headers(RATE_HEADERS)) == (1, 700)
    assert (CALL_BUDGET.limit, CALL_BUDGET.window_seconds) == (200, 60.0)


async def test_the_emulator_serves_the_published_shapes(zendesk: ZendeskClient, world: World) -> None:
    """Every field of the published ticket and comment that the emulator claims to serve is there,
    with the published type."""
    requester = await zendesk.user_by_email(SHOPPER)
    ticket, _ = await zendesk.create_ticket(
        requester_id=requester.id,
        subject="Where is my order?",
        comment=NewComment(body="hello", public=True, author_id=requester.id),
        external_id="conv-shape",
    )
    served = world.zendesk.tickets[ticket.id]
    published = TICKET["ticket"]
    shared = set(published) & set(served)
    assert shared >= {"id", "url", "external_id", "status", "subject", "requester_id", "submitter_id",
                      "assignee_id", "tags", "via", "created_at", "updated_at", "description", "priority",
                      "type", "group_id", "organization_id", "collaborator_ids", "follower_ids", "has_incidents"}  # fmt: skip
    for key in shared:
        if published[key] is not None and served[key] is not None:
            assert type(served[key]) is type(published[key]), key
    [served_comment] = comments_of(world, ticket.id)
    [published_comment] = COMMENTS["comments"]
    assert set(published_comment) <= set(served_comment)


# --------------------------------------------------------------------------- users and tickets


async def test_users_are_matched_or_created_by_email(zendesk: ZendeskClient, world: World) -> None:
    first = await zendesk.user_by_email(SHOPPER, "Ana Silva")
    again = await zendesk.user_by_email(SHOPPER.upper())
    assert again.id == first.id and first.role == "end-user"
    assert again.name == "Ana Silva"  # found, not overwritten with a name made from the email
    assert [u["email"] for u in world.zendesk.users.values()].count(SHOPPER) == 1
    assert (await zendesk.me()).email == EMAIL


async def test_create_ticket_is_idempotent_by_external_id(
    zendesk: ZendeskClient, world: World, sent: list[httpx.Request]
) -> None:
    requester = await zendesk.user_by_email(SHOPPER)
    opening = NewComment(body="Conversation started", public=False, external_id="conv-1:opened")
    first, created = await zendesk.create_ticket(
        requester_id=requester.id,
        subject="Chat",
        comment=opening,
        tags=["ai-handled", "wismo"],
        external_id="conv-1",
    )
    again, created_again = await zendesk.create_ticket(
        requester_id=requester.id, subject="Chat", comment=opening, external_id="conv-1"
    )
    assert (created, created_again) == (True, False) and again.id == first.id
    assert [t["id"] for t in world.zendesk.tickets.values() if t["external_id"] == "conv-1"] == [first.id]
    assert first.tags == ["ai-handled", "wismo"] and first.status == "new"
    [note] = comments_of(world, first.id)
    assert note["public"] is False and note["metadata"]["custom"] == {"external_id": "conv-1:opened"}
    assert [r.method for r in sent if r.url.path.endswith("/tickets")].count("POST") == 1


async def test_a_ticket_create_whose_answer_was_lost_is_not_duplicated(
    sandbox_transport: httpx.ASGITransport,
    world: World,
    policy: Callable[[], AsyncRetrying],
    waits: list[float],
) -> None:
    transport = LoseFirstResponse(sandbox_transport, "POST", "/tickets")
    async with zendesk_http_client(BASE, EMAIL, TOKEN, transport=transport) as http:
        client = ZendeskClient(http, retry_policy=policy)
        requester = await client.user_by_email(SHOPPER)
        ticket, _ = await client.create_ticket(
            requester_id=requester.id,
            subject="Chat",
            comment=NewComment(body="opened", public=False),
            external_id="conv-lost",
        )
    assert transport.lost == 1 and len(waits) == 1
    assert [t["id"] for t in world.zendesk.tickets.values() if t["external_id"] == "conv-lost"] == [ticket.id]


async def test_comments_are_posted_once_each_even_when_repeated(
    zendesk: ZendeskClient, world: World, sent: list[httpx.Request]
) -> None:
    requester = await zendesk.user_by_email(SHOPPER)
    ticket, _ = await zendesk.create_ticket(
        requester_id=requester.id,
        subject="Chat",
        comment=NewComment(body="opened", public=False),
        external_id="c",
    )
    batch = [
        NewComment(body="Where is #1001?", public=True, author_id=requester.id, external_id="c:m1"),
        NewComment(body="It is with UPS.", public=True, external_id="c:m2"),
        NewComment(body="Summary for the team", public=False, external_id="c:n1"),
    ]
    sent.clear()
    assert await zendesk.add_comments(ticket.id, batch) == 3
    assert await zendesk.add_comments(ticket.id, batch) == 0
    stored = comments_of(world, ticket.id)
    assert [(c["body"], c["public"]) for c in stored[1:]] == [
        ("Where is #1001?", True),
        ("It is with UPS.", True),
        ("Summary for the team", False),
    ]
    assert stored[1]["author_id"] == requester.id
    assert world.zendesk.users[stored[2]["author_id"]]["email"] == EMAIL
    assert [r.method for r in sent] == ["GET", "PUT", "PUT", "PUT", "GET"]
    # The bot's public comment opened the new ticket, as an agent's does in Zendesk.
    assert world.zendesk.tickets[ticket.id]["status"] == "open"


async def test_tags_are_added_and_removed_in_one_update_keeping_the_others(
    zendesk: ZendeskClient, world: World, sent: list[httpx.Request]
) -> None:
    requester = await zendesk.user_by_email(SHOPPER)
    ticket, _ = await zendesk.create_ticket(
        requester_id=requester.id,
        subject="Chat",
        comment=NewComment(body="x", public=False),
        tags=["ai-handled", "vip", "refund-approved"],
    )
    sent.clear()
    updated = await zendesk.update_ticket(
        ticket.id,
        add_tags=["ai_handover", "refunds"],
        remove_tags=["refund-approved", "refunds"],
        status="pending",
    )
    assert updated.tags == ["ai-handled", "vip", "ai_handover", "refunds"]
    assert world.zendesk.tickets[ticket.id]["status"] == "pending"
    [put] = sent
    assert json.loads(put.content) == {
        "ticket": {
            "status": "pending",
            "additional_tags": ["ai_handover", "refunds"],
            "remove_tags": ["refund-approved"],
        }
    }


async def test_comment_pages_are_followed_to_the_end(zendesk: ZendeskClient, world: World) -> None:
    requester = await zendesk.user_by_email(SHOPPER)
    ticket, _ = await zendesk.create_ticket(
        requester_id=requester.id,
        subject="Long",
        comment=NewComment(body="0", public=False),
        external_id="long",
    )
    await zendesk.add_comments(
        ticket.id, [NewComment(body=str(n), public=False, external_id=f"long:{n}") for n in range(1, 130)]
    )
    listed = await zendesk.list_comments(ticket.id)
    assert [c.body for c in listed] == [str(n) for n in range(130)]
    assert len(comments_of(world, ticket.id)) == 130


# --------------------------------------------------------------------------- errors


async def test_a_wrong_token_is_an_auth_error_naming_the_setting(
    sandbox_transport: httpx.ASGITransport,
) -> None:
    async with zendesk_http_client(BASE, EMAIL, "wrong-token", transport=sandbox_transport) as http:
        with pytest.raises(AuthError) as refused:
            await ZendeskClient(http).get_ticket(1)
    assert refused.value.setting == "ZENDESK_API_TOKEN" and refused.value.status == 401
    assert "wrong-token" not in str(refused.value)


async def test_an_unknown_ticket_is_not_found(zendesk: ZendeskClient) -> None:
    with pytest.raises(NotFound):
        await zendesk.get_ticket(424242)


async def test_a_closed_ticket_refuses_updates_with_record_invalid(
    zendesk: ZendeskClient, world: World
) -> None:
    requester = await zendesk.user_by_email(SHOPPER)
    ticket, _ = await zendesk.create_ticket(
        requester_id=requester.id, subject="x", comment=NewComment(body="x", public=False)
    )
    world.zendesk.tickets[ticket.id]["status"] = "closed"
    with pytest.raises(VendorError) as refused:
        await zendesk.update_ticket(ticket.id, add_tags=["late"])
    assert refused.value.status == 422
    assert world.zendesk.tickets[ticket.id]["tags"] == []


async def test_429_waits_as_long_as_retry_after_says(
    policy: Callable[[], AsyncRetrying], waits: list[float]
) -> None:
    answers = [
        httpx.Response(
            429,
            headers={"Retry-After": "7", "X-Rate-Limit": "200", "X-Rate-Limit-Remaining": "0"},
            json={
                "error": "APIRateLimitExceeded",
                "description": "Number of allowed API requests per minute exceeded",
            },
        ),
        httpx.Response(200, headers={"X-Rate-Limit": "400", "X-Rate-Limit-Remaining": "398"}, json=TICKET),
    ]
    async with zendesk_http_client(
        BASE, EMAIL, TOKEN, transport=httpx.MockTransport(lambda _: answers.pop(0))
    ) as http:
        client = ZendeskClient(http, retry_policy=policy)
        ticket = await client.get_ticket(35436)
    assert ticket.id == 35436 and waits == [7.0]
    assert client.rate_limit == (398, 400)


async def test_429_on_a_write_is_raised_not_retried_blindly() -> None:
    async def answer(_: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "3"}, json={"error": "APIRateLimitExceeded"})

    async with zendesk_http_client(BASE, EMAIL, TOKEN, transport=httpx.MockTransport(answer)) as http:
        with pytest.raises(RateLimited) as limited:
            await ZendeskClient(http)._post_comment(1, NewComment(body="x", public=True))
    assert limited.value.retry_after == 3.0


async def test_a_malformed_ticket_is_a_vendor_error_naming_fields_only() -> None:
    async def answer(_: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"ticket": {"id": "not-a-number", "subject": "ana.silva@example.com"}}
        )

    async with zendesk_http_client(BASE, EMAIL, TOKEN, transport=httpx.MockTransport(answer)) as http:
        with pytest.raises(VendorError) as broken:
            await ZendeskClient(http).get_ticket(1)
    assert "id" in str(broken.value) and "ana.silva" not in str(broken.value)


# --------------------------------------------------------------------------- the adapter


async def test_the_adapter_mirrors_a_conversation(zendesk: ZendeskClient, world: World) -> None:
    helpdesk = ZendeskHelpdesk(zendesk, ticket_url="https://shop.zendesk.com/agent/tickets/{id}")
    ticket = await helpdesk.ensure_ticket(
        conversation_id="conv-9",
        customer_email=None,
        subject="Chat",
        tags=["ai-handled"],
        messages=[("shopper", "hi", "conv-9:m1"), ("assistant", "Hello!", "conv-9:m2")],
    )
    assert ticket.url == f"https://shop.zendesk.com/agent/tickets/{ticket.id}"
    requester = world.zendesk.users[world.zendesk.tickets[int(ticket.id)]["requester_id"]]
    assert requester["email"].startswith("visitor-conv-9@") and requester["role"] == "end-user"
    await helpdesk.post_messages(
        ticket.id, [("note", "Summary", "conv-9:n1"), ("shopper", "hi", "conv-9:m1")]
    )
    tagged = await helpdesk.edit_tags(ticket.id, add=["ai_handover"], remove=[])
    assert "ai_handover" in tagged.tags
    solved = await helpdesk.set_status(ticket.id, "closed")
    assert solved.status == "solved"
    stored = comments_of(world, int(ticket.id))
    assert [(c["body"], c["public"], c["author_id"] == requester["id"]) for c in stored] == [
        ("Conversation conv-9 started in the chat widget; the AI assistant is handling it.", False, False),
        ("hi", True, True),
        ("Hello!", True, False),
        ("Summary", False, False),
    ]


async def test_a_conversation_outliving_its_closed_ticket_continues_in_a_follow_up(
    zendesk: ZendeskClient, world: World
) -> None:
    """Zendesk closes solved tickets for good: later messages and tags go to one follow-up ticket
    (same external id), found again by a restarted adapter; the closed ticket is left as it was."""
    helpdesk = ZendeskHelpdesk(zendesk)
    ticket = await helpdesk.ensure_ticket(
        conversation_id="conv-old", customer_email=SHOPPER, subject="Chat", tags=["ai-handled", "ai_handback"]
    )
    closed = world.zendesk.tickets[int(ticket.id)]
    closed["status"] = "closed"
    before = len(comments_of(world, int(ticket.id)))

    await helpdesk.post_messages(ticket.id, [("shopper", "I'm back, about that order", "conv-old:m9")])
    tagged = await helpdesk.edit_tags(ticket.id, add=["ai_handover"], remove=[])
    restarted = ZendeskHelpdesk(zendesk)
    await restarted.post_messages(ticket.id, [("assistant", "Welcome back!", "conv-old:m10")])

    followups = [
        t
        for t in world.zendesk.tickets.values()
        if t["external_id"] == "conv-old" and t["id"] != closed["id"]
    ]
    assert len(followups) == 1
    followup = followups[0]
    assert tagged.id == str(followup["id"])
    assert followup["via"]["source"] == {
        "from": {"ticket_id": closed["id"], "subject": "Chat"},
        "to": {},
        "rel": "follow_up",
    }
    assert followup["requester_id"] == closed["requester_id"]
    assert "ai_handback" not in followup["tags"] and {"ai-handled", "ai_handover"} <= set(followup["tags"])
    assert [c["body"] for c in comments_of(world, followup["id"])][1:] == [
        "I'm back, about that order",
        "Welcome back!",
    ]
    assert len(comments_of(world, int(ticket.id))) == before and closed["status"] == "closed"
    assert (await zendesk.find_ticket_by_external_id("conv-old")).id == followup["id"]  # type: ignore[union-attr]

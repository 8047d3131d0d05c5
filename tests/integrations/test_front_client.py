"""The Front client and adapter against the sandbox emulator (in-process), Front's published
examples (tests/published/front/reference.py) and `MockTransport` edge cases."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from integrations._http import AuthError, NotFound, RateLimited, retrying
from integrations.front import (
    FrontClient,
    FrontComment,
    FrontConversation,
    FrontEvent,
    FrontMessage,
    FrontTag,
    conversation_api_id,
    conversation_number,
    front_http_client,
)
from integrations.front.adapter import FrontHelpdesk
from integrations.front.models import SyncAccepted
from sandbox.world import Fault, World
from tests.published.front import reference

BASE = "http://sandbox/front"
TOKEN = "front_sandbox"
CHANNEL = "cha_sandbox"
CID = "conv-abc123"


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

    async with front_http_client(BASE, TOKEN, transport=sandbox_transport) as client:
        client.event_hooks["request"].append(record)
        yield client


def _client(http: httpx.AsyncClient, waits: list[float]) -> FrontClient:
    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    return FrontClient(
        http, channel_id=CHANNEL, retry_policy=lambda: retrying(sleep=fake_sleep), sleep=fake_sleep
    )


@pytest.fixture
def front(http: httpx.AsyncClient, waits: list[float]) -> FrontClient:
    return _client(http, waits)


@pytest.fixture
def helpdesk(front: FrontClient) -> FrontHelpdesk:
    return FrontHelpdesk(front, ticket_url="https://app.frontapp.com/open/{api_id}")


# --------------------------------------------------------------------------- published examples


def test_published_examples_parse() -> None:
    conversation = FrontConversation.model_validate(reference.CONVERSATION)
    assert conversation.number == int("55c8c149", 36)
    assert conversation_api_id(conversation.number) == "cnv_55c8c149"
    assert conversation.status == "archived" and [t.name for t in conversation.tags] == ["Robots"]
    assert conversation.assignee is not None and conversation.assignee.display_name == "Leela Turanga"
    assert conversation.recipient is not None and conversation.recipient.handle == "calculon@momsbot.com"
    message = FrontMessage.model_validate(reference.MESSAGE)
    assert message.conversation_id == "cnv_55c8c149" and message.is_inbound
    assert message.plain_text.startswith("Anything less than immortality")
    assert message.metadata.external_id is None
    comment = FrontComment.model_validate(reference.COMMENT)
    assert comment.id == "com_55c8c149" and comment.author is not None
    assert [FrontTag.model_validate(t).name for t in reference.TAGS_PAGE["_results"]] == ["Robots"]
    assert SyncAccepted.model_validate(reference.RECEIVED_CUSTOM_MESSAGE).message_uid == "3b1q41d8"
    event = FrontEvent.model_validate(reference.EVENT)
    assert event.type == "assign" and event.target is not None and event.target.kind == "teammate"


def test_conversation_ids_are_base36_numbers() -> None:
    for number in (0, 35, 36, 1_441_000_000, 9_000_001):
        assert conversation_number(conversation_api_id(number)) == number
    with pytest.raises(ValueError, match="not a Front conversation id"):
        conversation_number("msg_55c8c149")


async def test_the_published_error_body_names_the_message() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json=reference.ERROR)

    async with front_http_client(
        "https://api2.frontapp.com", "t", transport=httpx.MockTransport(answer)
    ) as http:
        with pytest.raises(NotFound, match="Unknown conversation"):
            await FrontClient(http, channel_id=CHANNEL).get_conversation(1)


# --------------------------------------------------------------------------- the channel and conversations


async def test_ensure_ticket_threads_the_chat_into_one_conversation(
    helpdesk: FrontHelpdesk, world: World, sent: list[httpx.Request]
) -> None:
    messages = [
        ("shopper", "Where is my order?", f"{CID}:1"),
        ("assistant", "Let me look.", f"{CID}:2"),
        ("note", "Summary for the team", f"{CID}:n"),
    ]
    ticket = await helpdesk.ensure_ticket(
        conversation_id=CID,
        customer_email="ana@example.com",
        subject="Order",
        tags=["ai-handled", "wismo"],
        messages=messages,
        may_exist=False,
    )
    number = int(ticket.id)
    conversation = world.front.conversations[number]
    assert ticket.external_id == CID and set(ticket.tags) == {"ai-handled", "wismo"}
    assert ticket.url == f"https://app.frontapp.com/open/{conversation['id']}"
    assert world.front.threads == {CID: number}
    stored = world.front.messages[number]
    assert [(m["is_inbound"], m["text"]) for m in stored] == [
        (True, "Where is my order?"),
        (False, "Let me look."),
    ]
    assert stored[0]["recipients"][0]["handle"] == f"chat:{CID}"
    assert [c["body"] for c in world.front.comments[number]] == ["Summary for the team"]
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in sent)
    sync = [json.loads(r.content) for r in sent if r.url.path.endswith("/inbound_messages")]
    assert sync == [
        {
            "body": "Where is my order?",
            "metadata": {"external_id": f"{CID}:1", "external_conversation_id": CID},
            "subject": "Order",
            "sender": {"handle": f"chat:{CID}", "name": "ana@example.com"},
        }
    ]

    # Again (a retried delivery): the same conversation, nothing posted twice.
    again = await helpdesk.ensure_ticket(
        conversation_id=CID,
        customer_email="ana@example.com",
        subject="Order",
        tags=["ai-handled"],
        messages=messages,
    )
    assert again.id == ticket.id and len(world.front.conversations) == 1
    assert len(world.front.messages[number]) == 2 and len(world.front.comments[number]) == 1


async def test_post_messages_after_a_restart_finds_the_chat_from_the_conversation(
    helpdesk: FrontHelpdesk, front: FrontClient, world: World
) -> None:
    ticket = await helpdesk.ensure_ticket(
        conversation_id=CID,
        customer_email=None,
        subject="Hi",
        tags=[],
        messages=[("shopper", "Hi", f"{CID}:1")],
    )
    fresh = FrontHelpdesk(front)  # no memory of the ticket
    await fresh.post_messages(
        ticket.id, [("shopper", "Anyone?", f"{CID}:3"), ("assistant", "Yes!", f"{CID}:4")]
    )
    await fresh.post_messages(ticket.id, [("assistant", "Yes!", f"{CID}:4")])
    texts = [m["text"] for m in world.front.messages[int(ticket.id)]]
    assert texts == ["Hi", "Anyone?", "Yes!"]
    assert world.front.conversations[int(ticket.id)]["recipient"]["name"] == "Chat visitor"


async def test_tags_archive_and_reopen(helpdesk: FrontHelpdesk, world: World) -> None:
    ticket = await helpdesk.ensure_ticket(
        conversation_id=CID,
        customer_email=None,
        subject="Hi",
        tags=["ai-handled"],
        messages=[("shopper", "Hi", "m1")],
    )
    edited = await helpdesk.edit_tags(
        ticket.id, add=["ai_handover", "escalation"], remove=["ai-handled", "never-made"]
    )
    assert set(edited.tags) == {"ai_handover", "escalation"}
    assert "never-made" not in {t["name"] for t in world.front.tags.values()}  # removing does not create
    closed = await helpdesk.set_status(ticket.id, "closed")
    assert closed.status == "closed" and world.front.conversations[int(ticket.id)]["status"] == "archived"
    reopened = await helpdesk.set_status(ticket.id, "open")
    assert reopened.status == "unassigned"


async def test_a_tag_deleted_in_front_is_looked_up_again(helpdesk: FrontHelpdesk, world: World) -> None:
    ticket = await helpdesk.ensure_ticket(
        conversation_id=CID,
        customer_email=None,
        subject="Hi",
        tags=["vip"],
        messages=[("shopper", "Hi", "m1")],
    )
    world.front.tags.clear()
    world.front.conversations[int(ticket.id)]["tags"] = []
    tagged = await helpdesk.add_tags(ticket.id, ["vip"])
    assert tagged.tags == ("vip",) and [t["name"] for t in world.front.tags.values()] == ["vip"]


async def test_assign_and_unassign(front: FrontClient, helpdesk: FrontHelpdesk, world: World) -> None:
    ticket = await helpdesk.ensure_ticket(
        conversation_id=CID, customer_email=None, subject="Hi", tags=[], messages=[("shopper", "Hi", "m1")]
    )
    teammate = next(iter(world.front.teammates))
    await front.assign(int(ticket.id), teammate)
    assert (await helpdesk.get_ticket(ticket.id)).assignee == teammate
    assert world.front.conversations[int(ticket.id)]["status"] == "assigned"
    await front.assign(int(ticket.id), None)
    assert world.front.conversations[int(ticket.id)]["assignee"] is None
    with pytest.raises(NotFound):
        await front.assign(int(ticket.id), "tea_unknown")


async def test_lists_follow_pagination_next(
    front: FrontClient, world: World, sent: list[httpx.Request]
) -> None:
    from sandbox.front_records import tag_named

    for index in range(130):
        tag_named(world, f"tag-{index}", create=True)
    tags = await front.list_tags()
    assert [t.name for t in tags] == [f"tag-{i}" for i in range(130)]
    pages = [r for r in sent if r.url.path.endswith("/tags")]
    assert len(pages) == 2 and pages[1].url.params["page_token"] == "100"


async def test_an_imported_message_not_there_yet_is_read_again() -> None:
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) < 3:
            return httpx.Response(
                404, json={"_error": {"status": 404, "title": "Not found", "message": "Unknown message"}}
            )
        return httpx.Response(200, json=reference.MESSAGE)

    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    async with front_http_client(
        "https://api2.frontapp.com", "t", transport=httpx.MockTransport(answer)
    ) as http:
        message = await FrontClient(http, channel_id=CHANNEL, sleep=record).message_by_uid("3b1q41d8")
    assert message.id == "msg_55c8c149" and calls == ["/messages/alt:uid:3b1q41d8"] * 3
    assert waits == [0.25, 0.5]


# --------------------------------------------------------------------------- errors and limits


async def test_a_bad_token_is_an_auth_error_naming_the_setting(
    sandbox_transport: httpx.ASGITransport,
) -> None:
    async with front_http_client(BASE, "wrong", transport=sandbox_transport) as http:
        with pytest.raises(AuthError) as caught:
            await FrontClient(http, channel_id=CHANNEL).list_tags()
    assert caught.value.setting == "FRONT_API_TOKEN"


async def test_errors_have_fronts_body(http: httpx.AsyncClient) -> None:
    unknown = await http.get("conversations/cnv_zzzz")
    assert unknown.status_code == 404
    assert unknown.json() == {
        "_error": {"status": 404, "title": "Not found", "message": "Unknown conversation"}
    }
    bad = await http.post(f"channels/{CHANNEL}/inbound_messages", json={"body": "hi"})
    assert bad.status_code == 400 and bad.json()["_error"]["status"] == 400
    wrong_channel = await http.post("channels/cha_other/inbound_messages", json={})
    assert wrong_channel.status_code == 404
    denied = await http.get("tags", headers={"Authorization": "Bearer nope"})
    assert denied.status_code == 401 and denied.json()["_error"]["message"] == "Invalid token"


async def test_the_company_limit_is_announced_and_enforced(
    sandbox_transport: httpx.ASGITransport, world: World
) -> None:
    async with front_http_client(BASE, TOKEN, transport=sandbox_transport) as http:
        first = await http.get("tags")
        assert first.headers["X-RateLimit-Limit"] == "50" and first.headers["X-RateLimit-Remaining"] == "49"
        for _ in range(49):
            assert (await http.get("tags")).status_code == 200
        over = await http.get("tags")
    assert over.status_code == 429 and int(over.headers["Retry-After"]) >= 1
    assert over.headers["X-RateLimit-Remaining"] == "0"
    assert over.json()["_error"]["status"] == 429


async def test_429_is_retried_after_retry_after_and_the_budget_is_read(
    front: FrontClient, world: World, waits: list[float]
) -> None:
    world.faults.append(Fault(vendor="front", route="/tags", kind="rate_limit", retry_after=3))
    assert await front.list_tags() == []
    assert waits == [3.0]
    assert front.rate_limit is not None and front.rate_limit[1] == 50


async def test_a_sync_is_not_repeated_after_a_lost_answer(front: FrontClient, world: World) -> None:
    world.faults.append(
        Fault(vendor="front", route="/inbound_messages", kind="error", status=502, after_applying=True)
    )
    accepted = await front.sync_inbound(
        handle="chat:x", name=None, text="Hi", external_id="x:1", conversation_ref="x"
    )
    [number] = world.front.conversations
    assert [m["uid"] for m in world.front.messages[number]] == [accepted.message_uid]


async def test_persistent_rate_limiting_gives_up(
    front: FrontClient, world: World, waits: list[float]
) -> None:
    world.faults.append(Fault(vendor="front", route="/tags", kind="rate_limit", retry_after=1, remaining=50))
    with pytest.raises(RateLimited):
        await front.list_tags()
    assert waits and all(w == 1.0 for w in waits)

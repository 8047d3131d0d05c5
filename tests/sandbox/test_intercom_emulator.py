"""The Intercom emulator's own rules, called as Intercom's API reference describes them: contacts
unique by email (409 `conflict`), search pagination by `starting_after`, a conversation attribute the
workspace does not define refused, the bot's admin required for admin actions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from sandbox.world import World

HEADERS = {"Authorization": "Bearer intercom_sandbox", "Intercom-Version": "2.14"}


@pytest.fixture
async def api(sandbox_transport: httpx.ASGITransport) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=sandbox_transport, base_url="http://sandbox/intercom", headers=HEADERS
    ) as client:
        yield client


async def test_a_second_contact_with_the_same_email_is_a_conflict(
    api: httpx.AsyncClient, world: World
) -> None:
    first = await api.post("/contacts", json={"role": "user", "email": "ana.silva@example.com"})
    second = await api.post("/contacts", json={"role": "user", "email": "ANA.SILVA@example.com"})
    assert first.status_code == 200 and second.status_code == 409
    assert second.json()["type"] == "error.list"
    assert second.json()["errors"][0] == {
        "code": "conflict",
        "message": f"A contact matching those details already exists with id={first.json()['id']}",
    }
    assert len(world.intercom.contacts) == 1


async def test_search_pages_follow_starting_after(api: httpx.AsyncClient) -> None:
    for n in range(5):
        await api.post("/contacts", json={"role": "user", "email": f"shopper{n}@example.com"})
    query = {"field": "email", "operator": "~", "value": "shopper"}
    seen: list[str] = []
    pagination: dict[str, object] = {"per_page": 2}
    while True:
        page = (await api.post("/contacts/search", json={"query": query, "pagination": pagination})).json()
        assert page["total_count"] == 5 and page["pages"]["per_page"] == 2
        seen += [c["email"] for c in page["data"]]
        following = page["pages"].get("next")
        if following is None:
            break
        pagination = {"per_page": 2, "starting_after": following["starting_after"]}
    assert seen == [f"shopper{n}@example.com" for n in range(5)]
    too_big = await api.post("/contacts/search", json={"query": query, "pagination": {"per_page": 151}})
    assert too_big.status_code == 400 and too_big.json()["errors"][0]["code"] == "parameter_invalid"


async def test_unknown_attributes_and_admins_are_refused(api: httpx.AsyncClient, world: World) -> None:
    contact = (await api.post("/contacts", json={"role": "user", "email": "a@example.com"})).json()
    made = (
        await api.post("/conversations", json={"from": {"type": "user", "id": contact["id"]}, "body": "hi"})
    ).json()
    cid = made["conversation_id"]
    unknown = await api.put(f"/conversations/{cid}", json={"custom_attributes": {"nope": "x"}})
    assert unknown.status_code == 400 and "nope" in unknown.json()["errors"][0]["message"]
    nobody = await api.post(
        f"/conversations/{cid}/parts", json={"message_type": "close", "type": "admin", "admin_id": "1"}
    )
    assert nobody.status_code == 404
    assert world.intercom.conversations[int(cid)]["state"] == "open"
    missing_user = await api.post(
        "/conversations", json={"from": {"type": "user", "id": "123_doesnt_exist"}, "body": "hi"}
    )
    assert missing_user.status_code == 404 and missing_user.json()["errors"][0] == {
        "code": "not_found",
        "message": "User Not Found",
    }

"""The Gorgias client against a store's REAL helpdesk (marked `live`; skipped on the sandbox).

Configure GORGIAS_BASE_URL (https://<domain>.gorgias.com/api), GORGIAS_EMAIL and
GORGIAS_API_KEY, then run `pytest -m live tests/integrations/live/test_gorgias_live.py`.
Cassettes are written, filtered, to tests/cassettes/live/gorgias/.

The writes touch only one ticket: the one with external id `support-agent-live-test`, for the
customer `support-agent-live-test@example.com`, tagged `support-agent-live-test`. Every write is
keyed (external ids), so re-running reuses that ticket and its messages; the test closes it at
the end. Real shoppers' tickets are never listed or changed.

Besides the shared filters (vcr_config), Gorgias cassettes lose every person's `name`, channel
`address` (emails and phone numbers) and message text, which the shared filters keep because in
other vendors' payloads those fields are product names and our own texts.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from agent.settings import Settings
from integrations._http import AuthError, NotFound
from integrations.gorgias import GorgiasClient, NewMessage, gorgias_http_client
from tests.integrations.live.vcr_config import (
    FILTERED,
    cassette_dir,
    live_vcr,
    require_real_account,
    scrub_request,
    scrub_response,
)

TEST_MARK = "support-agent-live-test"
TEST_EMAIL = f"{TEST_MARK}@example.com"
VCR = live_vcr("gorgias")

# Gorgias fields that hold a person's name, contact address or words, wherever they are nested.
PERSONAL_TEXT_FIELDS = frozenset(
    {"name", "address", "body_text", "body_html", "stripped_text", "stripped_html", "subject", "excerpt"}
)


def scrub_gorgias_json(value: Any, parent: str = "") -> Any:
    if isinstance(value, dict):
        return {
            key: FILTERED
            if key in PERSONAL_TEXT_FIELDS and item is not None and parent != "tags"
            else scrub_gorgias_json(item, key)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [scrub_gorgias_json(item, parent) for item in value]
    return value


def _scrub_body(raw: Any) -> bytes | None:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if not text:
        return None
    try:
        return json.dumps(scrub_gorgias_json(json.loads(text))).encode()
    except ValueError:
        return None


def scrub_gorgias_request(request: Any) -> Any:
    scrubbed = _scrub_body(request.body)
    if scrubbed is not None:
        request.body = scrubbed
    return request


def scrub_gorgias_response(response: dict[str, Any]) -> dict[str, Any]:
    body = response.get("body", {})
    scrubbed = _scrub_body(body.get("string"))
    if scrubbed is not None:
        body["string"] = scrubbed
        headers: dict[str, list[str]] = response.get("headers", {})
        for name in list(headers):
            if name.lower() == "content-length":
                headers[name] = [str(len(scrubbed))]
    return response


def cassette(name: str, recorder: Any = VCR) -> AbstractContextManager[Any]:
    """The shared filters first, then the Gorgias ones."""
    manager: AbstractContextManager[Any] = recorder.use_cassette(
        name,
        before_record_request=(scrub_request, scrub_gorgias_request),
        before_record_response=(scrub_response, scrub_gorgias_response),
    )
    return manager


@pytest.fixture
def settings() -> Settings:
    settings = Settings()
    require_real_account(settings, secret_field="gorgias_api_key", url_field="gorgias_base_url")
    return settings


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[GorgiasClient]:
    async with gorgias_http_client(
        settings.gorgias_base_url, settings.gorgias_email, settings.gorgias_api_key.get_secret_value()
    ) as http:
        yield GorgiasClient(http)


@pytest.mark.live
async def test_rejected_key_names_the_setting(settings: Settings) -> None:
    with cassette("auth.yaml"):
        async with gorgias_http_client(
            settings.gorgias_base_url, settings.gorgias_email, "not-a-real-key"
        ) as http:
            with pytest.raises(AuthError) as caught:
                await GorgiasClient(http).get_ticket(1)
    assert caught.value.setting == "GORGIAS_API_KEY"
    assert settings.gorgias_email not in str(caught.value)


@pytest.mark.live
async def test_absent_things_are_absent_and_the_call_limit_is_reported(client: GorgiasClient) -> None:
    with cassette("absent.yaml"):
        with pytest.raises(NotFound):
            await client.get_ticket(2_147_483_000)
        assert await client.find_ticket_by_external_id(f"{TEST_MARK}-absent-{uuid.uuid4().hex[:8]}") is None
        users = await client.list_users()
    assert users
    assert client.call_limit is not None
    assert client.call_limit[1] > 0


@pytest.mark.live
async def test_test_ticket_lifecycle(client: GorgiasClient, settings: Settings) -> None:
    with cassette("ticket_lifecycle.yaml"):
        customer = await client.get_or_create_customer(TEST_EMAIL, "Live Test")
        assert (await client.get_or_create_customer(TEST_EMAIL)).id == customer.id

        messages = [
            NewMessage.from_customer("Live test: where is my order?", external_id=f"{TEST_MARK}:m1"),
            NewMessage.from_bot("Live test: it is on its way.", external_id=f"{TEST_MARK}:m2"),
        ]
        ticket = await client.create_ticket(
            customer_email=TEST_EMAIL,
            subject="Support agent live test",
            messages=messages,
            tags=[TEST_MARK],
            external_id=TEST_MARK,
        )
        again = await client.create_ticket(
            customer_email=TEST_EMAIL,
            subject="Support agent live test",
            messages=messages,
            external_id=TEST_MARK,
        )
        assert again.id == ticket.id
        if ticket.is_closed:  # left closed by the previous run
            ticket = await client.update_ticket(ticket.id, status="open")
        assert ticket.status == "open"

        note = await client.add_internal_note(
            ticket.id, "Live test: internal note.", external_id=f"{TEST_MARK}:note"
        )
        assert note.public is False
        assert (
            await client.add_internal_note(ticket.id, "duplicate?", external_id=f"{TEST_MARK}:note")
        ).id == note.id

        tagged = await client.add_tags(ticket.id, ["ai-handled", f"{TEST_MARK}-extra"])
        assert {TEST_MARK, "ai-handled", f"{TEST_MARK}-extra"} <= set(tagged.tag_names)
        untagged = await client.remove_tags(ticket.id, [f"{TEST_MARK}-extra"])
        assert f"{TEST_MARK}-extra" not in untagged.tag_names
        assert TEST_MARK in untagged.tag_names

        fetched = await client.get_ticket(ticket.id)
        assert fetched.external_id == TEST_MARK
        listed = [m async for m in client.list_messages(ticket.id)]
        assert [m.id for m in listed if m.external_id == f"{TEST_MARK}:note"] == [note.id]
        assert [t.id async for t in client.list_tickets(external_id=TEST_MARK)] == [ticket.id]

        closed = await client.close_ticket(ticket.id)
        assert closed.is_closed

    text = (cassette_dir("gorgias") / "ticket_lifecycle.yaml").read_text()
    assert settings.gorgias_api_key.get_secret_value() not in text
    assert settings.gorgias_email not in text


# ------------------------------------------------------------------ the filters themselves (offline)


async def test_gorgias_cassettes_hold_no_secrets_or_personal_data(tmp_path: Path) -> None:
    """Record one mocked exchange through the live VCR and read back what would be committed."""
    customer = {
        "id": 7,
        "email": "jane.shopper@hostmail.com",
        "name": "Jane Shopper",
        "firstname": "Jane",
        "channels": [{"type": "phone", "address": "+1 502 555 0199"}],
    }
    ticket = {
        "id": 12,
        "external_id": "conv-1",
        "status": "open",
        "subject": "Jane's refund for 12 Chestnut Street",
        "tags": [{"id": 1, "name": "ai-handled"}],
        "customer": {"id": 7, "email": "jane.shopper@hostmail.com", "name": "Jane Shopper"},
        "assignee_user": {"id": 2, "name": "Rosa Agent", "email": "rosa@store.example"},
        "messages": [
            {
                "id": 1,
                "channel": "chat",
                "via": "api",
                "from_agent": False,
                "body_text": "I live at 12 Chestnut Street",
                "sender": {"id": 7, "name": "Jane Shopper"},
            }
        ],
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/customers"):
            return httpx.Response(
                200, json={"data": [customer], "object": "list", "meta": {"next_cursor": None}}
            )
        return httpx.Response(200, json=ticket, headers={"X-Gorgias-Account-Api-Call-Limit": "2/40"})

    recorder = live_vcr("gorgias", cassette_library_dir=tmp_path)
    with cassette("filters.yaml", recorder):
        async with gorgias_http_client(
            "https://acme.gorgias.com/api", "owner@store.example", "live-secret-key-123",
            transport=httpx.MockTransport(handler),
        ) as http:  # fmt: skip
            client = GorgiasClient(http)
            assert await client.find_customer("jane.shopper@hostmail.com") is not None
            await client.get_ticket(12)
    text = (tmp_path / "filters.yaml").read_text()
    for leaked in (
        "live-secret-key-123",
        "owner@store.example",
        "jane.shopper@hostmail.com",
        "Jane",
        "Chestnut",
        "555 0199",
        "Rosa",
    ):
        assert leaked not in text
    interactions = yaml.safe_load(text)["interactions"]
    headers = {name.lower(): value for name, value in interactions[0]["request"]["headers"].items()}
    assert headers["authorization"] == [FILTERED]
    assert "email=%5Bfiltered%5D" in interactions[0]["request"]["uri"]
    recorded_ticket = json.loads(interactions[1]["response"]["body"]["string"])
    assert recorded_ticket["tags"] == [{"id": 1, "name": "ai-handled"}]  # tag names are kept
    assert recorded_ticket["external_id"] == "conv-1"

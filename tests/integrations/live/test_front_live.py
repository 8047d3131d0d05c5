"""The Front client and adapter against a company's REAL Front (marked `live`; skipped on the sandbox).

Configure FRONT_BASE_URL (https://api2.frontapp.com), FRONT_API_TOKEN and FRONT_CHANNEL_ID (the
application channel the chats go to), then run `pytest -m live tests/integrations/live/test_front_live.py`.
Cassettes are written, filtered, to tests/cassettes/live/front/.

The writes touch only one conversation: the chat `support-agent-live-test` in that channel (the
handle `chat:support-agent-live-test`), tagged `support-agent-live-test`. Every message is keyed
by its external id, so re-running reuses that conversation and its messages; the test archives it
at the end. Real shoppers' conversations are never listed or changed.

Besides the shared filters (vcr_config), Front cassettes lose every person's name, handle and email
and every message's and comment's words.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest

from agent.settings import Settings
from integrations._http import AuthError, NotFound
from integrations.front import FrontClient, front_http_client
from integrations.front.adapter import FrontHelpdesk
from tests.integrations.live.vcr_config import (
    FILTERED,
    cassette_dir,
    live_vcr,
    require_real_account,
    scrub_request,
    scrub_response,
)

TEST_MARK = "support-agent-live-test"
VCR = live_vcr("front")
PERSONAL_TEXT_FIELDS = frozenset(
    {"name", "handle", "email", "username", "first_name", "last_name", "body", "text", "blurb", "subject"}
)


def scrub_front_json(value: Any) -> Any:
    """Every person's and message's words go; a tag keeps its name (our tags are what we check)."""
    if isinstance(value, dict):
        is_tag = str(value.get("id") or "").startswith("tag_")
        return {
            key: FILTERED
            if key in PERSONAL_TEXT_FIELDS and item is not None and not (is_tag and key == "name")
            else scrub_front_json(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [scrub_front_json(item) for item in value]
    return value


def _scrub_body(raw: Any) -> bytes | None:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if not text:
        return None
    try:
        return json.dumps(scrub_front_json(json.loads(text))).encode()
    except ValueError:
        return None


def scrub_front_request(request: Any) -> Any:
    scrubbed = _scrub_body(request.body)
    if scrubbed is not None:
        request.body = scrubbed
    return request


def scrub_front_response(response: dict[str, Any]) -> dict[str, Any]:
    body = response.get("body", {})
    scrubbed = _scrub_body(body.get("string"))
    if scrubbed is not None:
        body["string"] = scrubbed
        headers: dict[str, list[str]] = response.get("headers", {})
        for name in list(headers):
            if name.lower() == "content-length":
                headers[name] = [str(len(scrubbed))]
    return response


def cassette(name: str) -> AbstractContextManager[Any]:
    manager: AbstractContextManager[Any] = VCR.use_cassette(
        name,
        before_record_request=(scrub_request, scrub_front_request),
        before_record_response=(scrub_response, scrub_front_response),
    )
    return manager


@pytest.fixture
def settings() -> Settings:
    settings = Settings()
    require_real_account(settings, secret_field="front_api_token", url_field="front_base_url")
    return settings


@pytest.fixture
async def http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with front_http_client(
        settings.front_base_url, settings.front_api_token.get_secret_value()
    ) as client:
        yield client


@pytest.mark.live
async def test_rejected_token_names_the_setting(settings: Settings) -> None:
    with cassette("auth.yaml"):
        async with front_http_client(settings.front_base_url, "not-a-real-token") as http:
            with pytest.raises(AuthError) as caught:
                await FrontClient(http, channel_id=settings.front_channel_id).list_tags()
    assert caught.value.setting == "FRONT_API_TOKEN"


@pytest.mark.live
async def test_absent_things_are_absent_and_the_budget_is_reported(
    http: httpx.AsyncClient, settings: Settings
) -> None:
    client = FrontClient(http, channel_id=settings.front_channel_id)
    with cassette("absent.yaml"):
        with pytest.raises(NotFound):
            await client.get_conversation("cnv_zzzzzzzz")
        await client.list_tags()
    assert client.rate_limit is not None and client.rate_limit[1] >= 50


@pytest.mark.live
async def test_the_test_chat_lifecycle(http: httpx.AsyncClient, settings: Settings) -> None:
    helpdesk = FrontHelpdesk(FrontClient(http, channel_id=settings.front_channel_id))
    messages = [
        ("shopper", "Live test: where is my order?", f"{TEST_MARK}:m1"),
        ("assistant", "Live test: it is on its way.", f"{TEST_MARK}:m2"),
        ("note", "Live test: internal note.", f"{TEST_MARK}:n1"),
    ]
    with cassette("chat_lifecycle.yaml"):
        ticket = await helpdesk.ensure_ticket(
            conversation_id=TEST_MARK,
            customer_email=None,
            subject="Support agent live test",
            tags=[TEST_MARK],
            messages=messages,
        )
        again = await helpdesk.ensure_ticket(
            conversation_id=TEST_MARK,
            customer_email=None,
            subject="Support agent live test",
            tags=[TEST_MARK],
            messages=messages,
        )
        assert again.id == ticket.id and ticket.external_id == TEST_MARK
        edited = await helpdesk.edit_tags(ticket.id, add=[f"{TEST_MARK}-extra"], remove=[])
        assert {TEST_MARK, f"{TEST_MARK}-extra"} <= set(edited.tags)
        untagged = await helpdesk.edit_tags(ticket.id, add=[], remove=[f"{TEST_MARK}-extra"])
        assert f"{TEST_MARK}-extra" not in untagged.tags
        closed = await helpdesk.set_status(ticket.id, "closed")
        assert closed.status == "closed"

    text = (cassette_dir("front") / "chat_lifecycle.yaml").read_text()
    assert settings.front_api_token.get_secret_value() not in text


def test_the_filters_drop_words_and_people() -> None:
    """Offline: a recorded conversation keeps its shape and tag names, not its words or people."""
    body = {
        "id": "cnv_1",
        "recipient": {"handle": "chat:x", "name": "Ana"},
        "tags": [{"id": "tag_1", "name": "ai-handled"}],
        "_results": [{"text": "hello", "author": {"email": "a@b.c"}}],
    }
    scrubbed = scrub_front_json(body)
    assert scrubbed["recipient"] == {"handle": FILTERED, "name": FILTERED}
    assert scrubbed["tags"][0]["name"] == "ai-handled"
    assert scrubbed["_results"][0] == {"text": FILTERED, "author": {"email": FILTERED}}

"""The Zendesk client and adapter against a store's REAL Zendesk account (marked `live`; skipped
on the sandbox).

Configure ZENDESK_BASE_URL (https://<subdomain>.zendesk.com/api/v2), ZENDESK_EMAIL and
ZENDESK_API_TOKEN, then run `pytest -m live tests/integrations/live/test_zendesk_live.py`.
Cassettes are written, filtered, to tests/cassettes/live/zendesk/.

The writes touch only one ticket: the one with external id `support-agent-live-test`, requested by
`support-agent-live-test@example.com`, tagged `support-agent-live-test`. Every write is keyed
(external ids in the audits' metadata), so re-running reuses that ticket and its comments; the test
solves it at the end. Real shoppers' tickets are never listed or changed.

Besides the shared filters (vcr_config), Zendesk cassettes lose every person's `name` and the
words of comments and subjects, which the shared filters keep.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from agent.settings import Settings
from integrations._http import AuthError, NotFound
from integrations.zendesk import ZendeskClient, zendesk_http_client
from integrations.zendesk.adapter import ZendeskHelpdesk
from tests.integrations.live.vcr_config import (
    FILTERED,
    live_vcr,
    require_real_account,
    scrub_request,
    scrub_response,
)

TEST_MARK = "support-agent-live-test"
TEST_EMAIL = f"{TEST_MARK}@example.com"
VCR = live_vcr("zendesk")
PERSONAL_TEXT_FIELDS = frozenset(
    {"name", "body", "html_body", "plain_body", "subject", "raw_subject", "description"}
)


def scrub_zendesk_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: FILTERED
            if key in PERSONAL_TEXT_FIELDS and isinstance(item, str)
            else scrub_zendesk_json(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [scrub_zendesk_json(item) for item in value]
    return value


def _scrub(raw: Any) -> bytes | None:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if not text:
        return None
    try:
        return json.dumps(scrub_zendesk_json(json.loads(text))).encode()
    except ValueError:
        return None


def scrub_zendesk_request(request: Any) -> Any:
    scrubbed = _scrub(request.body)
    if scrubbed is not None:
        request.body = scrubbed
    return request


def scrub_zendesk_response(response: dict[str, Any]) -> dict[str, Any]:
    body = response.get("body", {})
    scrubbed = _scrub(body.get("string"))
    if scrubbed is not None:
        body["string"] = scrubbed
        for name in list(response.get("headers", {})):
            if name.lower() == "content-length":
                response["headers"][name] = [str(len(scrubbed))]
    return response


def cassette(name: str) -> AbstractContextManager[Any]:
    manager: AbstractContextManager[Any] = VCR.use_cassette(
        name,
        before_record_request=(scrub_request, scrub_zendesk_request),
        before_record_response=(scrub_response, scrub_zendesk_response),
    )
    return manager


@pytest.fixture
def settings() -> Settings:
    settings = Settings()
    require_real_account(settings, secret_field="zendesk_api_token", url_field="zendesk_base_url")
    return settings


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[ZendeskClient]:
    async with zendesk_http_client(
        settings.zendesk_base_url, settings.zendesk_email, settings.zendesk_api_token.get_secret_value()
    ) as http:
        yield ZendeskClient(http)


@pytest.mark.live
async def test_a_rejected_token_names_the_setting(settings: Settings) -> None:
    with cassette("auth.yaml"):
        async with zendesk_http_client(
            settings.zendesk_base_url, settings.zendesk_email, "not-a-real-token"
        ) as http:
            with pytest.raises(AuthError) as caught:
                await ZendeskClient(http).get_ticket(1)
    assert caught.value.setting == "ZENDESK_API_TOKEN"
    assert settings.zendesk_email not in str(caught.value)


@pytest.mark.live
async def test_absent_things_are_absent_and_the_rate_limit_is_reported(client: ZendeskClient) -> None:
    with cassette("absent.yaml"):
        with pytest.raises(NotFound):
            await client.get_ticket(2_147_483_000)
        assert await client.find_ticket_by_external_id(f"{TEST_MARK}-absent-{uuid.uuid4().hex[:8]}") is None
        me = await client.me()
    assert me.role in ("agent", "admin")
    assert client.rate_limit is not None and client.rate_limit[1] >= 10


@pytest.mark.live
async def test_the_adapter_mirrors_tags_notes_and_solves_the_test_ticket(client: ZendeskClient) -> None:
    helpdesk = ZendeskHelpdesk(client)
    with cassette("mirror.yaml"):
        ticket = await helpdesk.ensure_ticket(
            conversation_id=TEST_MARK,
            customer_email=TEST_EMAIL,
            subject="support-agent live test",
            tags=[TEST_MARK],
            messages=[("shopper", "Live test: a shopper's message.", f"{TEST_MARK}:m1")],
        )
        again = await helpdesk.ensure_ticket(
            conversation_id=TEST_MARK, customer_email=TEST_EMAIL, subject="x", tags=[TEST_MARK]
        )
        await helpdesk.post_messages(
            ticket.id,
            [
                ("assistant", "Live test: the bot's answer.", f"{TEST_MARK}:m2"),
                ("note", "Live test: a note for the team.", f"{TEST_MARK}:n1"),
                ("shopper", "Live test: a shopper's message.", f"{TEST_MARK}:m1"),  # already there
            ],
        )
        tagged = await helpdesk.edit_tags(ticket.id, add=["ai_handover"], remove=[])
        untagged = await helpdesk.edit_tags(ticket.id, add=[], remove=["ai_handover"])
        comments = await client.list_comments(int(ticket.id))
        solved = await helpdesk.set_status(ticket.id, "closed")
    assert again.id == ticket.id
    assert "ai_handover" in tagged.tags and "ai_handover" not in untagged.tags and TEST_MARK in untagged.tags
    ours = [c.external_id for c in comments if c.external_id]
    assert len(ours) == len(set(ours)), f"a comment was posted twice: {ours}"
    assert {f"{TEST_MARK}:m1", f"{TEST_MARK}:m2", f"{TEST_MARK}:n1"} <= set(ours)
    assert [c.public for c in comments if c.external_id == f"{TEST_MARK}:n1"] == [False]
    assert solved.status == "solved"

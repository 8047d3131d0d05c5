"""The Intercom client and adapter against a store's REAL Intercom workspace (marked `live`; skipped
on the sandbox).

Configure INTERCOM_BASE_URL (https://api.intercom.io, or the EU / AU host), INTERCOM_ACCESS_TOKEN,
INTERCOM_BOT_ADMIN_ID, and create the conversation data attribute `support_agent_conversation_id`
(text) as the README says; then run `pytest -m live tests/integrations/live/test_intercom_live.py`.
Cassettes are written, filtered, to tests/cassettes/live/intercom/.

The writes touch only the contact `support-agent-live-test@example.com` and its one conversation
marked `support-agent-live-test`: re-running finds and reuses both (the repeated note is not posted
twice), and the test closes the conversation at the end. Real shoppers' conversations are never
listed or changed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from agent.settings import Settings
from integrations._http import AuthError, NotFound
from integrations.intercom import IntercomClient, NewPart, intercom_http_client
from integrations.intercom.adapter import IntercomHelpdesk
from tests.integrations.live.vcr_config import live_vcr, require_real_account

TEST_MARK = "support-agent-live-test"
TEST_EMAIL = f"{TEST_MARK}@example.com"
VCR = live_vcr("intercom")


@pytest.fixture
def settings() -> Settings:
    settings = Settings()
    require_real_account(settings, secret_field="intercom_access_token", url_field="intercom_base_url")
    return settings


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[IntercomClient]:
    async with intercom_http_client(
        settings.intercom_base_url,
        settings.intercom_access_token.get_secret_value(),
        api_version=settings.intercom_api_version,
    ) as http:
        yield IntercomClient(http, admin_id=settings.intercom_bot_admin_id)


@pytest.mark.live
async def test_the_bot_admin_and_a_wrong_token(settings: Settings, client: IntercomClient) -> None:
    with VCR.use_cassette("admin_and_auth.yaml"):
        assert await client.admin_id() == settings.intercom_bot_admin_id
        async with intercom_http_client(settings.intercom_base_url, "not-a-token") as http:
            with pytest.raises(AuthError) as refused:
                await IntercomClient(http, admin_id="1").get_conversation("1")
    assert refused.value.setting == "INTERCOM_ACCESS_TOKEN"


@pytest.mark.live
async def test_a_conversation_is_mirrored_tagged_noted_and_closed(
    settings: Settings, client: IntercomClient
) -> None:
    helpdesk = IntercomHelpdesk(client)
    with VCR.use_cassette("mirror.yaml"):
        ticket = await helpdesk.ensure_ticket(
            conversation_id=TEST_MARK,
            customer_email=TEST_EMAIL,
            subject="Live test",
            tags=[TEST_MARK],
            messages=[("shopper", "Live test: where is my order?", f"{TEST_MARK}:m1")],
        )
        again = await helpdesk.ensure_ticket(
            conversation_id=TEST_MARK, customer_email=TEST_EMAIL, subject="Live test", tags=[TEST_MARK]
        )
        assert again.id == ticket.id and ticket.external_id == TEST_MARK and TEST_MARK in ticket.tags
        note = [NewPart("note", "Live test note from the support agent's test suite.")]
        await client.add_parts(ticket.id, note)
        assert await client.add_parts(ticket.id, note) == 0  # already the conversation's last part
        closed = await helpdesk.set_status(ticket.id, "closed")
        assert closed.status == "closed"
        with pytest.raises(NotFound):
            await client.get_conversation("1")

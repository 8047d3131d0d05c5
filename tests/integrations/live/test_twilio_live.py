"""The Twilio client against a REAL Twilio account (marked `live`; skipped on the sandbox).

Configure TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER (a number of the account),
point TWILIO_API_BASE at Twilio (`https://api.twilio.com`; the default is the sandbox), and name the
phone to text in TWILIO_LIVE_TEST_TO (with a trial account: a verified caller ID). Then run
`pytest -m live tests/integrations/live/test_twilio_live.py`. It sends ONE real text. No cassette
is written: the request holds a phone number and the answer the account's details.
"""

from __future__ import annotations

import os

import pytest

from agent.settings import Settings
from integrations.phones import to_e164
from integrations.twilio.client import TwilioMessaging
from tests.integrations.live.vcr_config import require_real_account


@pytest.fixture
def settings() -> Settings:
    settings = Settings()
    require_real_account(settings, secret_field="twilio_auth_token", url_field="twilio_api_base")
    return settings


@pytest.mark.live
async def test_sends_one_text_to_the_verified_test_number(settings: Settings) -> None:
    to = to_e164(os.environ.get("TWILIO_LIVE_TEST_TO"), settings.sms_default_region)
    if to is None:
        pytest.skip("TWILIO_LIVE_TEST_TO names no phone number to text")
    client = TwilioMessaging(
        settings.twilio_account_sid,
        settings.twilio_auth_token.get_secret_value(),
        from_number=settings.twilio_from_number,
        api_root=settings.twilio_api_base or None,
    )
    sent = await client.send(to, "support-agent live test: one text from the Twilio client.")
    assert sent.message_id.startswith(("SM", "MM"))
    assert sent.to == to
    assert sent.status in ("queued", "accepted", "sending", "sent")

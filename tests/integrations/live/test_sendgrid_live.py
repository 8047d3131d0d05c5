"""The SendGrid mailer against a REAL SendGrid account (marked `live`; skipped on the sandbox).

Configure SENDGRID_API_KEY, MAIL_FROM (a verified sender) and TEAM_EMAIL (leave SENDGRID_HOST
empty for SendGrid itself), then run `pytest -m live tests/integrations/live/test_sendgrid_live.py`.
It sends ONE real email, an escalation, to TEAM_EMAIL. Cassettes are written, filtered, to
tests/cassettes/live/sendgrid/: besides the shared filters, the email's subject and bodies are
dropped, since they quote what a shopper wrote.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.settings import Settings
from integrations._http import AuthError
from integrations.sendgrid import SendGridMailer
from tests.conftest import LiveSandbox
from tests.integrations.live.vcr_config import FILTERED, live_vcr, require_real_account, scrub_request


def scrub_mail_request(request: Any) -> Any:
    """The shared request filter, plus the email's subject and content (free text about a person)."""
    if request.body:
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            body = json.loads(request.body)
            if isinstance(body, dict):
                if "subject" in body:
                    body["subject"] = FILTERED
                for block in body.get("content") or []:
                    if isinstance(block, dict):
                        block["value"] = FILTERED
                request.body = json.dumps(body).encode()
    return scrub_request(request)


def cassette(name: str, library: Path | None = None) -> Any:
    return live_vcr("sendgrid", cassette_library_dir=library).use_cassette(
        name, before_record_request=scrub_mail_request
    )


@pytest.fixture
def settings() -> Settings:
    settings = Settings()
    require_real_account(settings, secret_field="sendgrid_api_key", url_field="sendgrid_host")
    return settings


def mailer_for(settings: Settings, key: str | None = None) -> SendGridMailer:
    return SendGridMailer(
        key or settings.sendgrid_api_key.get_secret_value(),
        settings.sendgrid_host or None,
        from_email=settings.mail_from,
        team_email=settings.team_email,
        timeout=30,
    )


@pytest.mark.live
async def test_sends_an_escalation_to_the_team(settings: Settings) -> None:
    with cassette("escalation.yaml"):
        sent = await mailer_for(settings).send_escalation(
            ticket_id="live-test",
            ticket_url="https://example.com/tickets/live-test",
            customer_email="shopper@example.com",
            order_number=1001,
            reason="live test of the escalation email <b>&</b>",
            summary="This is a test email sent by the support agent's live test suite.",
            transcript=[("shopper", "Can I talk to a person?"), ("assistant", "Of course, one moment.")],
        )
    assert sent.status == 202
    assert sent.message_id


@pytest.mark.live
async def test_wrong_key_names_the_setting(settings: Settings) -> None:
    with cassette("wrong_key.yaml"), pytest.raises(AuthError) as caught:
        await mailer_for(settings, key="SG.not-a-key").send_escalation(
            ticket_id=1, ticket_url="https://example.com", customer_email="a@example.com", order_number=None,
            reason="x", summary="x", transcript=[],
        )  # fmt: skip
    assert caught.value.setting == "SENDGRID_API_KEY"


# ------------------------------------------------------------- the filters, on the SDK's traffic (offline)


async def test_recorded_sendgrid_traffic_holds_no_secrets_or_shopper_text(
    live_sandbox: LiveSandbox, tmp_path: Path
) -> None:
    """Record the SDK (urllib) talking to the loopback sandbox through the shared VCR."""
    mailer = SendGridMailer(
        "SG.sandbox-secret", f"{live_sandbox.url}/sendgrid", from_email="support@harborandpine.test",
        team_email="team@harborandpine.test", timeout=5,
    )  # fmt: skip
    live_sandbox.world.credentials.sendgrid_api_key = "SG.sandbox-secret"
    with cassette("filters.yaml", tmp_path):
        await mailer.send_return_label(
            to_email="ana.silva@example.com",
            customer_name="Ana Silva",
            order_number=1001,
            label_url="https://labels.example/pl_1.png",
            tracking_number="9434000000000009000014",
            carrier="USPS",
            items=["Linen shirt"],
        )
    text = (tmp_path / "filters.yaml").read_text()
    for leaked in ("SG.sandbox-secret", "ana.silva@example.com", "Ana Silva", "Linen shirt"):
        assert leaked not in text
    [interaction] = yaml.safe_load(text)["interactions"]
    headers = {name.lower(): value for name, value in interaction["request"]["headers"].items()}
    assert headers["authorization"] == [FILTERED]
    assert interaction["response"]["status"]["code"] == 202

"""SendGrid's sender identities: mail from an address that is no verified Sender Identity (nor on an
authenticated domain) is refused with 403, which names MAIL_FROM, never the API key; start-up
in real-store mode checks MAIL_FROM against the account's verified senders and warns clearly."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from pydantic import SecretStr
from python_http_client.exceptions import HTTPError as SendGridHTTPError

from agent.settings import Settings
from agent.startup_checks import check_mail_sender, check_vendor_setup
from integrations._http import AuthError
from integrations.sendgrid import SendGridMailer
from integrations.sendgrid.client import map_send_error
from integrations.sendgrid.models import SendGridSender
from sandbox.vendors.sendgrid import NOT_A_VERIFIED_SENDER
from sandbox.world import World
from tests.conftest import LiveSandbox
from tests.published import sendgrid_oai as published

VERIFIED = "support@harborandpine.test"  # the demo store's verified Sender Identity
UNCONFIRMED = "returns@harborandpine.test"  # a Sender Identity whose verification email was never clicked
SG_AUTH = {"Authorization": "Bearer SG.sandbox"}


def mailer(live: LiveSandbox, sender: str) -> SendGridMailer:
    return SendGridMailer(
        "SG.sandbox", f"{live.url}/sendgrid", from_email=sender, team_email="team@h.test", timeout=5
    )


def settings_for(live: LiveSandbox, sender: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        shopify_api_base=f"{live.url}/shopify/admin/api",  # the start-up checks read Shopify too
        sendgrid_host=f"{live.url}/sendgrid",
        sendgrid_api_key=SecretStr("SG.sandbox"),
        mail_from=sender,
    )


async def send(client: SendGridMailer) -> None:
    await client.send_verification_code(
        to_email="ana.silva@example.com", code="123456", order_number="1001", valid_minutes=10
    )


# --------------------------------------------------------------------------- contract: SendGrid's published API


def test_the_published_verified_senders_parse() -> None:
    senders = [SendGridSender.model_validate(s) for s in published.VERIFIED_SENDERS["results"]]
    assert [(s.from_email, s.verified) for s in senders] == [
        ("orders@example.com", True),
        ("support@example.com", True),
    ]


def test_sendgrids_sender_refusal_names_mail_from_not_the_api_key() -> None:
    body = json.dumps({"errors": [{"message": NOT_A_VERIFIED_SENDER, "field": "from", "help": None}]})
    error = map_send_error(SendGridHTTPError(403, "Forbidden", body.encode(), {}))
    assert isinstance(error, AuthError)
    assert error.setting == "MAIL_FROM"
    assert "SENDGRID_API_KEY" not in str(error)
    # The API overview's 403 row says the same thing in other words.
    assert "Sender Identity" in published.STATUS_403 and "Sender Identity" in NOT_A_VERIFIED_SENDER


def test_a_403_that_is_not_about_the_sender_still_names_the_key() -> None:
    body = json.dumps({"errors": [{"message": "access forbidden", "field": None, "help": None}]})
    error = map_send_error(SendGridHTTPError(403, "Forbidden", body.encode(), {}))
    assert isinstance(error, AuthError)
    assert error.setting == "SENDGRID_API_KEY"


# --------------------------------------------------------------------------- the emulator


async def test_the_emulator_lists_sender_identities_in_sendgrids_shape(
    sandbox_http: httpx.AsyncClient,
) -> None:
    response = await sandbox_http.get("/sendgrid/v3/verified_senders", headers=SG_AUTH)
    assert response.status_code == 200
    results = response.json()["results"]
    assert set(results[0]) == set(published.VERIFIED_SENDERS["results"][0])
    assert [(s["from_email"], s["verified"]) for s in results] == [(VERIFIED, True), (UNCONFIRMED, False)]


@pytest.mark.parametrize("sender", [UNCONFIRMED, "someone@elsewhere.test"])
async def test_mail_from_an_unverified_sender_is_refused_with_403(
    sandbox_http: httpx.AsyncClient, world: World, sender: str
) -> None:
    mail = {
        "personalizations": [{"to": [{"email": "ana@example.com"}]}],
        "from": {"email": sender},
        "subject": "Hello",
        "content": [{"type": "text/plain", "value": "Hi"}],
    }
    response = await sandbox_http.post("/sendgrid/v3/mail/send", json=mail, headers=SG_AUTH)
    assert response.status_code == 403
    assert response.json() == {"errors": [{"message": NOT_A_VERIFIED_SENDER, "field": "from", "help": None}]}
    assert world.sendgrid.outbox == []


async def test_any_address_on_an_authenticated_domain_may_send(
    live_sandbox: LiveSandbox,
) -> None:
    live_sandbox.world.sendgrid.authenticated_domains.append(
        {"id": 1, "domain": "harborandpine.test", "valid": True}
    )
    await send(mailer(live_sandbox, "orders@harborandpine.test"))
    assert live_sandbox.world.sendgrid.outbox[-1]["from"] == "orders@harborandpine.test"
    status = await mailer(live_sandbox, "orders@harborandpine.test").sender_status()
    assert (status.verified, status.detail) == (True, "on an authenticated domain")


# --------------------------------------------------------------------------- the client


async def test_sending_from_an_unverified_sender_names_mail_from(live_sandbox: LiveSandbox) -> None:
    with pytest.raises(AuthError) as caught:
        await send(mailer(live_sandbox, UNCONFIRMED))
    assert caught.value.setting == "MAIL_FROM"
    assert caught.value.status == 403
    assert "MAIL_FROM" in str(caught.value) and "SENDGRID_API_KEY" not in str(caught.value)
    assert live_sandbox.world.sendgrid.outbox == []


@pytest.mark.parametrize(
    ("sender", "verified", "words"),
    [
        (VERIFIED, True, "verified Sender Identity"),
        (UNCONFIRMED, False, "not been confirmed"),
        ("someone@elsewhere.test", False, "neither a verified Sender Identity nor"),
    ],
)
async def test_the_sender_status(live_sandbox: LiveSandbox, sender: str, verified: bool, words: str) -> None:
    status = await mailer(live_sandbox, sender).sender_status()
    assert status.verified is verified
    assert words in status.detail


# --------------------------------------------------------------------------- start-up in real-store mode


async def test_start_up_warns_clearly_when_mail_from_is_not_verified(
    live_sandbox: LiveSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="agent.startup"):
        warnings = await check_vendor_setup(settings_for(live_sandbox, UNCONFIRMED))
    (warning,) = [w for w in warnings if "MAIL_FROM" in w]
    assert "refused with 403" in warning and "Sender Authentication" in warning
    assert any("MAIL_FROM" in r.getMessage() for r in caplog.records)


async def test_start_up_is_quiet_about_a_verified_sender(live_sandbox: LiveSandbox) -> None:
    assert await check_mail_sender(settings_for(live_sandbox, VERIFIED)) == []


async def test_start_up_says_when_it_could_not_check(live_sandbox: LiveSandbox) -> None:
    settings = settings_for(live_sandbox, VERIFIED).model_copy(
        update={"sendgrid_api_key": SecretStr("SG.wrong-key")}
    )
    (warning,) = await check_mail_sender(settings)
    assert warning.startswith("Could not check that MAIL_FROM may send")
    assert "SG.wrong-key" not in warning

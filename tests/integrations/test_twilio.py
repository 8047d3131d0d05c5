"""Twilio: the SDK-based client against the emulator over HTTP, webhook signatures as Twilio makes
them, phone numbers in E.164, and EasyPost's tracker webhooks."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from integrations._http import AuthError
from integrations.easypost.webhooks import EasyPostWebhooks
from integrations.easypost.webhooks import signature as easypost_signature
from integrations.events import WebhookMalformed, WebhookRejected
from integrations.phones import mask_phone, to_e164
from integrations.texting import TextReceived, TextRefused, TextStatusChanged
from integrations.twilio.client import TwilioMessaging
from integrations.twilio.webhooks import TwilioWebhooks
from sandbox.vendors.twilio import sign
from sandbox.world import World
from tests.conftest import LiveSandbox

SID = "AC" + "0" * 32
TOKEN = "twilio_auth_sandbox"
STORE_NUMBER = "+14155550100"
URL = "https://agent.example/webhooks/twilio"


def messaging(sandbox: LiveSandbox, token: str = TOKEN) -> TwilioMessaging:
    return TwilioMessaging(SID, token, from_number=STORE_NUMBER, api_root=f"{sandbox.url}/twilio")


# --------------------------------------------------------------------------- phone numbers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+1 415-555-0101", "+14155550101"),
        ("(415) 555-0101", "+14155550101"),
        ("415.555.0101", "+14155550101"),
        ("+44 20 7946 0958", "+442079460958"),
        ("12", None),
        ("not a phone", None),
        ("", None),
        (None, None),
    ],
)
def test_numbers_are_normalised_to_e164(raw: str | None, expected: str | None) -> None:
    assert to_e164(raw) == expected


def test_a_masked_number_keeps_only_its_last_digits() -> None:
    assert mask_phone("+14155550101").endswith("0101")
    assert "555" not in mask_phone("+14155550101")


# --------------------------------------------------------------------------- sending


async def test_a_text_is_sent_through_the_messages_api_with_its_status_callback(
    live_sandbox: LiveSandbox, world: World
) -> None:
    sent = await messaging(live_sandbox).send(
        "+14155550101",
        "Your parcel is on its way.",
        status_callback="https://agent.example/webhooks/twilio/status",
    )
    assert sent.message_id.startswith("SM") and sent.to == "+14155550101" and sent.status == "queued"
    [message] = world.twilio.messages
    assert message["sid"] == sent.message_id
    assert (message["from"], message["to"], message["body"]) == (
        STORE_NUMBER,
        "+14155550101",
        "Your parcel is on its way.",
    )
    assert message["status_callback"] == "https://agent.example/webhooks/twilio/status"


async def test_an_invalid_number_is_twilios_21211(live_sandbox: LiveSandbox, world: World) -> None:
    with pytest.raises(TextRefused) as refused:
        await messaging(live_sandbox).send("+1555", "hello")
    assert refused.value.reason == "invalid_number"
    assert world.twilio.messages == []


async def test_a_number_that_texted_stop_is_twilios_21610(live_sandbox: LiveSandbox, world: World) -> None:
    world.twilio.opted_out.append("+14155550101")
    with pytest.raises(TextRefused) as refused:
        await messaging(live_sandbox).send("+14155550101", "hello")
    assert refused.value.reason == "opted_out"
    assert world.twilio.messages == []


async def test_a_wrong_auth_token_names_the_setting(live_sandbox: LiveSandbox, world: World) -> None:
    with pytest.raises(AuthError) as error:
        await messaging(live_sandbox, token="wrong").send("+14155550101", "hello")
    assert "TWILIO_AUTH_TOKEN" in str(error.value)
    assert world.twilio.messages == []


# --------------------------------------------------------------------------- webhooks


def inbound(**overrides: str) -> dict[str, str]:
    params = {
        "MessageSid": "SM" + "1" * 32,
        "SmsSid": "SM" + "1" * 32,
        "AccountSid": SID,
        "From": "+14155550101",
        "To": STORE_NUMBER,
        "Body": "Where is order 1001?",
        "SmsStatus": "received",
        "NumMedia": "0",
    }
    params.update(overrides)
    return params


def signed(params: dict[str, str], url: str = URL, token: str = TOKEN) -> tuple[dict[str, str], bytes]:
    return {"X-Twilio-Signature": sign(token, url, params)}, urlencode(params).encode()


def test_a_text_signed_as_twilio_signs_it_is_accepted_and_read() -> None:
    hooks = TwilioWebhooks(TOKEN, account_sid=SID)
    headers, body = signed(inbound())
    hooks.verify(URL, headers, body)
    event = hooks.parse(body)
    assert event == TextReceived(
        message_id="SM" + "1" * 32,
        from_number="+14155550101",
        to_number=STORE_NUMBER,
        body="Where is order 1001?",
    )


@pytest.mark.parametrize(
    "forge",
    ["no signature", "other token", "other url", "tampered body", "other account", "garbage"],
)
def test_forged_texts_are_refused(forge: str) -> None:
    hooks = TwilioWebhooks(TOKEN, account_sid=SID)
    headers, body = signed(inbound())
    if forge == "no signature":
        headers = {}
    elif forge == "other token":
        headers, body = signed(inbound(), token="someone else's token")
    elif forge == "other url":
        headers, body = signed(inbound(), url="https://attacker.example/webhooks/twilio")
    elif forge == "tampered body":
        body = urlencode(inbound(Body="Cancel order 1004")).encode()
    elif forge == "other account":
        headers, body = signed(inbound(AccountSid="AC" + "9" * 32))
    else:
        headers = {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}
    with pytest.raises(WebhookRejected):
        hooks.verify(URL, headers, body)


def test_a_status_callback_is_read_with_its_refusal() -> None:
    hooks = TwilioWebhooks(TOKEN, account_sid=SID)
    params = {
        "MessageSid": "SM" + "2" * 32,
        "MessageStatus": "failed",
        "To": "+14155550101",
        "ErrorCode": "21610",
        "AccountSid": SID,
    }
    headers, body = signed(params, url=URL + "/status")
    hooks.verify(URL + "/status", headers, body)
    assert hooks.parse(body) == TextStatusChanged(
        message_id="SM" + "2" * 32, status="failed", to_number="+14155550101", refused="opted_out"
    )


def test_a_body_that_is_not_twilios_is_malformed() -> None:
    with pytest.raises(WebhookMalformed):
        TwilioWebhooks(TOKEN, account_sid=SID).parse(b"hello=world")


# --------------------------------------------------------------------------- EasyPost tracker webhooks


def tracker_event(status: str = "failure") -> bytes:
    return json.dumps(
        {
            "object": "Event",
            "id": "evt_1",
            "description": "tracker.updated",
            "result": {
                "id": "trk_1",
                "object": "Tracker",
                "tracking_code": "EZ6000000006",
                "status": status,
                "status_detail": "address_not_found",
                "carrier": "USPS",
                "tracking_details": [
                    {
                        "datetime": "2026-11-19T10:00:00Z",
                        "status": status,
                        "message": "Delivery attempt failed",
                    }
                ],
            },
        }
    ).encode()


def test_an_easypost_event_signed_with_the_secret_is_read_as_tracking() -> None:
    hooks = EasyPostWebhooks("whsec")
    body = tracker_event()
    hooks.verify({"X-Hmac-Signature": easypost_signature("whsec", body)}, body)
    status = hooks.parse(body)
    assert status is not None
    assert (status.tracking_number, status.status, status.status_detail) == (
        "EZ6000000006",
        "failure",
        "address_not_found",
    )


@pytest.mark.parametrize("header", [None, "hmac-sha256-hex=00", "other"])
def test_forged_easypost_events_are_refused(header: str | None) -> None:
    body = tracker_event()
    headers = {"X-Hmac-Signature": header} if header else {}
    if header == "other":
        headers = {"X-Hmac-Signature": easypost_signature("someone else", body)}
    with pytest.raises(WebhookRejected):
        EasyPostWebhooks("whsec").verify(headers, body)


def test_other_easypost_events_are_ignored() -> None:
    body = json.dumps(
        {"object": "Event", "id": "evt_2", "description": "batch.updated", "result": {}}
    ).encode()
    assert EasyPostWebhooks("whsec").parse(body) is None

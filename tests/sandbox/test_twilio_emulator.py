"""The Twilio emulator (Messages API, status callbacks, inbound texts) and the sandbox's EasyPost
tracker webhooks, through the control API."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qsl

import httpx
from fastapi import FastAPI
from twilio.request_validator import RequestValidator

from integrations.easypost.webhooks import EasyPostWebhooks
from sandbox.world import World

SID = "AC" + "0" * 32
AUTH = "Basic " + base64.b64encode(f"{SID}:twilio_auth_sandbox".encode()).decode()
MESSAGES = f"/twilio/2010-04-01/Accounts/{SID}/Messages.json"


class Recorder:
    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, str], bytes]] = []

    async def __call__(self, url: str, headers: dict[str, str], body: bytes) -> int:
        self.posts.append((url, headers, body))
        return 200


def recorder(app: FastAPI) -> Recorder:
    sender = Recorder()
    app.state.raw_webhook_sender = sender
    return sender


async def test_a_sent_message_reports_sent_then_delivered_signed(
    sandbox_app: FastAPI, sandbox_http: httpx.AsyncClient, world: World
) -> None:
    posts = recorder(sandbox_app)
    callback = "https://agent.example/webhooks/twilio/status"
    response = await sandbox_http.post(
        MESSAGES,
        data={"To": "+14155550101", "From": "+14155550100", "Body": "Hi", "StatusCallback": callback},
        headers={"Authorization": AUTH},
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "queued" and "callbacks" not in response.json()
    statuses = [dict(parse_qsl(body.decode()))["MessageStatus"] for _, _, body in posts.posts]
    assert statuses == ["sent", "delivered"]
    validator = RequestValidator("twilio_auth_sandbox")
    for url, headers, body in posts.posts:
        assert url == callback
        assert validator.validate(url, dict(parse_qsl(body.decode())), headers["X-Twilio-Signature"])
    assert world.twilio.messages[0]["status"] == "delivered"


async def test_twilio_errors_have_twilios_shape(sandbox_http: httpx.AsyncClient, world: World) -> None:
    bad_auth = await sandbox_http.post(
        MESSAGES, data={"To": "+14155550101", "From": "+14155550100", "Body": "Hi"}
    )
    assert bad_auth.status_code == 401 and bad_auth.json()["code"] == 20003
    invalid = await sandbox_http.post(
        MESSAGES, data={"To": "12", "From": "+14155550100", "Body": "Hi"}, headers={"Authorization": AUTH}
    )
    assert invalid.status_code == 400
    assert invalid.json()["code"] == 21211 and invalid.json()["more_info"].endswith("/21211")
    not_ours = await sandbox_http.post(
        MESSAGES,
        data={"To": "+14155550101", "From": "+19995550100", "Body": "Hi"},
        headers={"Authorization": AUTH},
    )
    assert not_ours.json()["code"] == 21606
    assert world.twilio.messages == []


async def test_an_inbound_text_is_posted_signed_and_stop_start_keep_twilios_list(
    sandbox_app: FastAPI, sandbox_http: httpx.AsyncClient, world: World
) -> None:
    posts = recorder(sandbox_app)
    world.vendor_webhooks.twilio_sms_url = "https://agent.example/webhooks/twilio"
    response = await sandbox_http.post("/_sandbox/sms/inbound", json={"from": "+14155550101", "body": "STOP"})
    assert response.status_code == 200 and response.json()["webhook"]["status"] == 200
    url, headers, body = posts.posts[0]
    params = dict(parse_qsl(body.decode()))
    assert (params["From"], params["To"], params["Body"]) == ("+14155550101", "+14155550100", "STOP")
    assert RequestValidator("twilio_auth_sandbox").validate(url, params, headers["X-Twilio-Signature"])
    assert world.twilio.opted_out == ["+14155550101"]
    refused = await sandbox_http.post(
        MESSAGES,
        data={"To": "+14155550101", "From": "+14155550100", "Body": "Hi"},
        headers={"Authorization": AUTH},
    )
    assert refused.json()["code"] == 21610
    await sandbox_http.post("/_sandbox/sms/inbound", json={"from": "+14155550101", "body": "start"})
    assert world.twilio.opted_out == []
    listed = (await sandbox_http.get("/_sandbox/sms")).json()
    assert [m["body"] for m in listed] == ["STOP", "start"]
    bad = await sandbox_http.post("/_sandbox/sms/inbound", json={"from": "415 555 0101", "body": "hi"})
    assert bad.status_code == 422


async def test_a_tracker_scan_fires_tracker_updated_now_or_when_the_clock_gets_there(
    sandbox_app: FastAPI, sandbox_http: httpx.AsyncClient, world: World
) -> None:
    posts = recorder(sandbox_app)
    world.vendor_webhooks.easypost_url = "https://agent.example/webhooks/easypost"
    hooks = EasyPostWebhooks(world.credentials.easypost_webhook_secret)
    now = await sandbox_http.post(
        "/_sandbox/trackers/1Z84F2A90312345678/advance", json={"status": "failure", "message": "No access"}
    )
    assert now.status_code == 200 and now.json()["webhook"]["status"] == 200
    url, headers, body = posts.posts[-1]
    assert url == "https://agent.example/webhooks/easypost"
    hooks.verify(headers, body)
    status = hooks.parse(body)
    assert status is not None and (status.tracking_number, status.status) == ("1Z84F2A90312345678", "failure")
    assert json.loads(body)["previous_attributes"]["status"] == "in_transit"

    later = await sandbox_http.post(
        "/_sandbox/trackers/1Z84F2A90312345678/advance",
        json={"status": "delivered", "message": "Delivered", "at": "2026-11-22T10:00:00Z"},
    )
    assert later.json()["scheduled"] is True and len(posts.posts) == 1
    moved = await sandbox_http.post("/_sandbox/clock", json={"now": "2026-11-22T12:00:00Z"})
    assert [t["status"] for t in moved.json()["tracker_webhooks"]] == [200]
    delivered = hooks.parse(posts.posts[-1][2])
    assert delivered is not None and delivered.status == "delivered"
    assert world.easypost.scheduled == []

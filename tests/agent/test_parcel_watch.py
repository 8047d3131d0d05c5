"""Telling shoppers about a parcel problem before they ask: the sweep and EasyPost's tracker webhooks
find it, the shopper hears once (email, and SMS when allowed), one ticket opens with the tracking
details, and the shopper's answer lands in that same conversation. Across repeated webhooks, repeated
sweeps and a restart of the server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from agent.persistence import sqlite_persistence
from demo.runtime import DemoRuntime, open_demo_runtime
from integrations.easypost.webhooks import signature
from sandbox.world import World
from server.app import create_app
from tests.agent.conftest import agent_settings, memory_persistence, sandbox_app

ANA = "+14155550101"
ANA_EMAIL = "ana.silva@example.com"
TRACKING_1001 = "1Z84F2A90312345678"
PHONES = {"1001": ANA}


@asynccontextmanager
async def running(
    app: FastAPI, persistence: Any = None
) -> AsyncIterator[tuple[DemoRuntime, httpx.AsyncClient]]:
    async with open_demo_runtime(
        agent_settings(), sandbox_app=app, persistence=persistence or memory_persistence()
    ) as runtime:
        runtime.sandbox_app.state.chat_backend = None
        transport = httpx.ASGITransport(app=runtime.sandbox_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as control:
            yield runtime, control


def notices_about(
    world: World, order: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(emails, texts, tickets) telling the shopper of order `order` about a parcel problem."""
    emails = [m for m in world.sendgrid.outbox if m["subject"] == f"An update on your order {order}"]
    texts = [
        m for m in world.twilio.messages if m["direction"] == "outbound-api" and m["to"] == PHONES[order]
    ]
    tickets = [
        t
        for t in world.gorgias.tickets.values()
        if "parcel-exception" in [tag["name"] for tag in t["tags"]]
        and any(f"order #{order}" in m["body_text"] for m in t["messages"])
    ]
    return emails, texts, tickets


async def move_clock(control: httpx.AsyncClient, world: World, days: float) -> dict[str, Any]:
    moved = await control.post(
        "/_sandbox/clock", json={"now": (world.clock + timedelta(days=days)).isoformat()}
    )
    assert moved.status_code == 200, moved.text
    answer: dict[str, Any] = moved.json()
    return answer


def tracker_event(world: World, code: str) -> tuple[dict[str, str], bytes]:
    tracker = next(t for t in world.easypost.trackers.values() if t["tracking_code"] == code)
    body = json.dumps(
        {"object": "Event", "id": "evt_replay", "description": "tracker.updated", "result": tracker}
    ).encode()
    return {"X-Hmac-Signature": signature(world.credentials.easypost_webhook_secret, body)}, body


async def test_a_stuck_parcel_is_told_once_across_sweeps_webhooks_and_a_restart(tmp_path: Path) -> None:
    app = sandbox_app()
    world: World = app.state.world
    database = tmp_path / "agent.sqlite"
    async with sqlite_persistence(database) as persistence, running(app, persistence) as (runtime, control):
        assert notices_about(world, "1001") == ([], [], [])
        answer = await move_clock(control, world, days=6)  # no scan since the 19th: stuck (5 days)
        assert answer["sweep"]["notices"] >= 1
        emails, texts, tickets = notices_about(world, "1001")
        assert [m["to"] for m in emails] == [[ANA_EMAIL]]
        assert "no tracking update" in emails[0]["text"] and "/?conversation=" in emails[0]["text"]
        assert {m["to"] for m in texts} == {ANA} and "Reply STOP" in "".join(m["body"] for m in texts)
        [ticket] = tickets
        assert {"parcel-exception", "stuck"} <= {tag["name"] for tag in ticket["tags"]}
        [note] = [
            m["body_text"]
            for m in ticket["messages"]
            if m["channel"] == "internal-note" and TRACKING_1001 in m["body_text"]
        ]
        assert "UPS" in note and "stuck" in note
        counts = (len(emails), len(texts), len(tickets))

        # Again: a second sweep, and EasyPost redelivering the tracker's webhook twice.
        assert runtime.parcel_watch is not None
        await runtime.parcel_watch.sweep()
        headers, body = tracker_event(world, TRACKING_1001)
        assert await runtime.parcel_watch.receive("http://x/webhooks/easypost", headers, body) == "ok"
        assert await runtime.parcel_watch.receive("http://x/webhooks/easypost", headers, body) == "ok"
        await runtime.sync.drain()
        assert tuple(map(len, notices_about(world, "1001"))) == counts
        conversation = await runtime.sms.facts.thread(ANA) if runtime.sms else None

    # The server restarts on the same database: nothing is told twice.
    async with sqlite_persistence(database) as persistence, running(app, persistence) as (runtime, control):
        await move_clock(control, world, days=1)
        assert tuple(map(len, notices_about(world, "1001"))) == counts
        # The shopper answers the text: it lands in the conversation the notice opened.
        before = len(world.twilio.messages)
        response = await control.post(
            "/_sandbox/sms/inbound", json={"from": ANA, "body": "Is order 1001 lost?"}
        )
        assert response.status_code == 200
        assert runtime.sms is not None and await runtime.sms.facts.thread(ANA) == conversation
        assert conversation is not None
        view = await runtime.service.get(conversation)
        assert view.messages[0].role == "assistant" and "order #1001" in view.messages[0].text
        assert [m.text for m in view.messages if m.role == "shopper"] == ["Is order 1001 lost?"]
        assert view.customer_email == ANA_EMAIL
        assert [
            m for m in world.twilio.messages[before:] if m["direction"] == "outbound-api" and m["to"] == ANA
        ]


async def test_a_carrier_failure_is_told_as_soon_as_easypost_reports_it() -> None:
    async with running(sandbox_app()) as (runtime, control):
        world = runtime.world
        response = await control.post(
            f"/_sandbox/trackers/{TRACKING_1001}/advance",
            json={
                "status": "failure",
                "message": "Delivery attempt failed",
                "status_detail": "address_not_found",
            },
        )
        assert response.status_code == 200 and response.json()["webhook"]["status"] == 200
        await runtime.sync.drain()
        emails, texts, tickets = notices_about(world, "1001")
        assert len(emails) == 1 and "could not deliver" in emails[0]["text"]
        assert texts and len(tickets) == 1
        assert {"parcel-exception", "failure"} <= {tag["name"] for tag in tickets[0]["tags"]}
        # The shopper answers in the chat through the link: the same conversation, already verified.
        conversation = await runtime.sms.facts.thread(ANA) if runtime.sms else None
        assert conversation is not None
        async for _ in runtime.service.send(conversation, "Can you send it again?"):
            pass
        view = await runtime.service.get(conversation)
        assert [m.role for m in view.messages][:2] == ["assistant", "shopper"]


async def test_an_opted_out_shopper_gets_the_email_and_no_text() -> None:
    async with running(sandbox_app()) as (runtime, control):
        world = runtime.world
        await control.post("/_sandbox/sms/inbound", json={"from": ANA, "body": "STOP"})
        await control.post(f"/_sandbox/trackers/{TRACKING_1001}/advance", json={"status": "return_to_sender"})
        emails, texts, _ = notices_about(world, "1001")
        assert len(emails) == 1 and texts == []
        assert [m for m in world.twilio.messages if m["direction"] == "outbound-api"] == []


async def test_forged_tracking_webhooks_are_refused_by_the_server() -> None:
    async with running(sandbox_app()) as (runtime, _):
        world = runtime.world
        tracker = next(t for t in world.easypost.trackers.values() if t["tracking_code"] == TRACKING_1001)
        tracker["status"] = "failure"
        body = json.dumps(
            {"object": "Event", "id": "evt_f", "description": "tracker.updated", "result": tracker}
        ).encode()
        app = create_app(runtime.settings, service=runtime.service)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=runtime.settings.public_url
        ) as client:
            forged = await client.post(
                "/webhooks/easypost", content=body, headers={"X-Hmac-Signature": signature("guess", body)}
            )
            unsigned = await client.post("/webhooks/easypost", content=body)
            assert (forged.status_code, unsigned.status_code) == (401, 401)
            assert notices_about(world, "1001") == ([], [], [])
            good = await client.post(
                "/webhooks/easypost",
                content=body,
                headers={"X-Hmac-Signature": signature(world.credentials.easypost_webhook_secret, body)},
            )
            assert good.status_code == 200 and good.json() == {"status": "ok"}
            assert len(notices_about(world, "1001")[0]) == 1

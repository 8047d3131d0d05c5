"""Shoppers by SMS, end to end with the offline model: texts in through the sandbox's Twilio number
(signed as Twilio signs them, verified by the agent), answers out through the Messages API, and the
world after each conversation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
import pytest

from agent.sms_text import GSM_SEGMENT
from demo.runtime import DemoRuntime, open_demo_runtime
from evals.codes import latest_code
from sandbox.vendors.twilio import sign
from server.app import create_app
from tests.agent.conftest import agent_settings, memory_persistence, sandbox_app

ANA, BEN, DEV, EMMA, JONAS = "+14155550101", "+15125550144", "+12015550178", "+13035550119", "+16125550190"


@dataclass
class Phones:
    runtime: DemoRuntime
    control: httpx.AsyncClient

    async def text(self, phone: str, body: str) -> list[str]:
        """The shopper texts the store; the texts the store sent back to this phone because of it."""
        before = len(self.runtime.world.twilio.messages)
        response = await self.control.post("/_sandbox/sms/inbound", json={"from": phone, "body": body})
        assert response.status_code == 200, response.text
        assert response.json()["webhook"]["status"] == 200
        await self.runtime.sync.drain()
        return self.received(phone, since=before)

    def received(self, phone: str, since: int = 0) -> list[str]:
        return [
            m["body"]
            for m in self.runtime.world.twilio.messages[since:]
            if m["direction"] == "outbound-api" and m["to"] == phone
        ]

    async def conversation(self, phone: str) -> str:
        assert self.runtime.sms is not None
        cid = await self.runtime.sms.facts.thread(phone)
        assert cid is not None
        return cid


@pytest.fixture
async def phones() -> AsyncIterator[Phones]:
    async with open_demo_runtime(
        agent_settings(), sandbox_app=sandbox_app(), persistence=memory_persistence()
    ) as runtime:
        runtime.sandbox_app.state.chat_backend = None  # the offline model of this runtime
        transport = httpx.ASGITransport(app=runtime.sandbox_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as control:
            yield Phones(runtime, control)


def fits_sms(text: str) -> bool:
    """One segment, or a single word (a link) that cannot be cut."""
    return len(text) <= GSM_SEGMENT or " " not in text.strip()


async def test_where_is_my_order_from_the_phone_on_the_order(phones: Phones) -> None:
    replies = await phones.text(ANA, "Where is order 1001?")
    joined = " ".join(replies)
    assert "UPS" in joined and "https://www.ups.com/track?tracknum=1Z84F2A90312345678" in joined
    assert all(fits_sms(part) for part in replies)
    cid = await phones.conversation(ANA)
    view = await phones.runtime.service.get(cid)
    assert view.customer_email == "ana.silva@example.com"
    record = await phones.runtime.service.record(cid)
    assert (record["channel"], record["phone"]) == ("sms", ANA)
    # The same number is the same conversation; the ticket mirrors it like a chat.
    await phones.text(ANA, "thanks!")
    assert await phones.conversation(ANA) == cid
    assert [m.text for m in (await phones.runtime.service.get(cid)).messages if m.role == "shopper"] == [
        "Where is order 1001?",
        "thanks!",
    ]


async def test_a_phone_that_is_not_on_the_order_proves_nothing(phones: Phones) -> None:
    replies = await phones.text(ANA, "Where is order 1002?")  # Ben's order
    joined = " ".join(replies).lower()
    assert "email" in joined
    assert "stoneware" not in joined and "9400" not in joined
    view = await phones.runtime.service.get(await phones.conversation(ANA))
    assert view.customer_email is None


async def test_a_return_by_sms_needs_the_emailed_code_and_texts_the_label(phones: Phones) -> None:
    world = phones.runtime.world
    asked = await phones.text(BEN, "I'd like to return order 1002")
    assert any("code" in part for part in asked)
    code = latest_code(world)
    assert code is not None
    # The code went by email only: a text to this phone would prove nothing the phone had not.
    assert all(code not in m["body"] for m in world.twilio.messages)
    offer = await phones.text(BEN, code)
    assert any("YES" in part for part in offer)
    assert world.easypost.shipments == {} or all(
        not s.get("postage_label") for s in world.easypost.shipments.values()
    )
    done = await phones.text(BEN, "yes")
    labels = [s for s in world.easypost.shipments.values() if s.get("postage_label")]
    assert len(labels) == 1
    url = labels[0]["postage_label"]["label_url"]
    assert sum(url in part for part in done) == 1  # in the answer, and not again as a notification
    assert any(
        "return label" in m["subject"].lower()
        for m in world.sendgrid.outbox
        if "ben.okafor@example.com" in m["to"]
    )


async def test_a_cancellation_by_sms(phones: Phones) -> None:
    world = phones.runtime.world
    await phones.text(DEV, "Please cancel order 1004")
    code = latest_code(world)
    assert code is not None
    await phones.text(DEV, code)
    done = await phones.text(DEV, "yes")
    assert world.order_by_number(1004)["cancelled_at"] is not None
    assert any("cancelled" in part for part in done)


async def test_a_big_refund_by_sms_is_approved_by_a_person_and_the_answer_is_texted(phones: Phones) -> None:
    world = phones.runtime.world
    await phones.text(EMMA, "Refund order 1005 please")
    code = latest_code(world)
    assert code is not None
    await phones.text(EMMA, code)
    waiting = await phones.text(EMMA, "yes")
    assert any("approval" in part for part in waiting)
    assert world.order_by_number(1005).get("refunds", []) == []
    ticket = await phones.runtime.sync.ticket_id(await phones.conversation(EMMA))
    before = len(world.twilio.messages)
    response = await phones.control.post(f"/_sandbox/tickets/{ticket}/approve")
    assert response.status_code == 200
    assert len(world.order_by_number(1005)["refunds"]) == 1
    assert any("480.00" in part for part in phones.received(EMMA, since=before))


async def test_asking_for_a_person_by_sms_and_the_persons_reply_arrives_by_sms(phones: Phones) -> None:
    replies = await phones.text(JONAS, "Can I talk to a person?")
    assert any("team" in part for part in replies)
    cid = await phones.conversation(JONAS)
    assert (await phones.runtime.service.get(cid)).status == "human_handling"
    ticket = await phones.runtime.sync.ticket_id(cid)
    before = len(phones.runtime.world.twilio.messages)
    response = await phones.control.post(
        f"/_sandbox/tickets/{ticket}/reply", json={"text": "Hi, Rosa here. How can I help?"}
    )
    assert response.status_code == 200
    [texted] = phones.received(JONAS, since=before)
    assert "Hi, Rosa here. How can I help?" in texted
    # The shopper's answer by text reaches the person's ticket; the bot stays quiet.
    quiet = await phones.text(JONAS, "My parcel never came")
    assert quiet == []
    texts = [m["body_text"] for m in phones.runtime.world.gorgias.tickets[int(ticket)]["messages"]]
    assert "My parcel never came" in texts


async def test_something_else_by_sms_gets_an_honest_answer(phones: Phones) -> None:
    replies = await phones.text(JONAS, "what's the weather like?")
    assert replies and any("tracking" in part for part in replies)


async def test_stop_is_respected_everywhere_start_and_help(phones: Phones) -> None:
    assert phones.runtime.sms is not None
    facts = phones.runtime.sms.facts
    assert await phones.text(BEN, "STOP") == []
    assert await facts.opted_out(BEN)
    # Asking again by text gets no text back, and no notification reaches the number either.
    assert await phones.text(BEN, "Where is order 1002?") == []
    runtime = phones.runtime
    cid = await runtime.service.start()
    async for _ in runtime.service.send(cid, "I'd like to return order 1002, ben.okafor@example.com"):
        pass
    code = latest_code(runtime.world)
    assert code is not None
    async for _ in runtime.service.send(cid, code):
        pass
    async for _ in runtime.service.send(cid, "yes"):
        pass
    assert any(s.get("postage_label") for s in runtime.world.easypost.shipments.values())
    assert phones.received(BEN) == []
    # HELP while opted out: still nothing (Twilio would refuse it: 21610).
    assert await phones.text(BEN, "HELP") == []
    assert await phones.text(BEN, "START") == []
    assert not await facts.opted_out(BEN)
    helped = await phones.text(BEN, "help")
    assert helped and "STOP" in helped[0]


async def test_a_chat_shoppers_code_and_label_also_go_to_the_phone_on_the_order(phones: Phones) -> None:
    runtime = phones.runtime
    cid = await runtime.service.start()
    async for _ in runtime.service.send(cid, "I'd like to return order 1002, ben.okafor@example.com"):
        pass
    code = latest_code(runtime.world)
    assert code is not None
    [code_text] = phones.received(BEN)
    assert code in code_text and "1002" in code_text
    async for _ in runtime.service.send(cid, code):
        pass
    async for _ in runtime.service.send(cid, "yes"):
        pass
    [label] = [s for s in runtime.world.easypost.shipments.values() if s.get("postage_label")]
    assert any(label["postage_label"]["label_url"] in body for body in phones.received(BEN))


async def test_a_persons_reply_reaches_a_chat_shopper_who_has_left_by_sms(phones: Phones) -> None:
    runtime = phones.runtime
    cid = await runtime.service.start()
    async for _ in runtime.service.send(cid, "Where is order 1001? ana.silva@example.com"):
        pass
    async for _ in runtime.service.send(cid, "Can I talk to a person?"):
        pass
    await runtime.sync.drain()
    ticket = await runtime.sync.ticket_id(cid)
    listening = runtime.service.subscribe(cid)  # the shopper's chat is open
    task = asyncio.ensure_future(listening.__anext__())
    await asyncio.sleep(0)
    await phones.control.post(f"/_sandbox/tickets/{ticket}/reply", json={"text": "Rosa here, checking now."})
    assert phones.received(ANA) == []
    task.cancel()
    await listening.aclose()
    await phones.control.post(
        f"/_sandbox/tickets/{ticket}/reply", json={"text": "Found it: it arrives tomorrow."}
    )
    [texted] = phones.received(ANA)
    assert "Found it: it arrives tomorrow." in texted


async def test_the_server_refuses_forged_texts_and_takes_signed_ones(phones: Phones) -> None:
    runtime = phones.runtime
    app = create_app(runtime.settings, service=runtime.service)
    url = f"{runtime.settings.public_url}/webhooks/twilio"
    params = {
        "MessageSid": "SM" + "7" * 32,
        "AccountSid": runtime.settings.twilio_account_sid,
        "From": ANA,
        "To": runtime.settings.twilio_from_number,
        "Body": "Where is order 1001?",
        "SmsStatus": "received",
    }
    body = urlencode(params).encode()
    form = {"content-type": "application/x-www-form-urlencoded"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=runtime.settings.public_url
    ) as client:
        forged = await client.post(
            "/webhooks/twilio",
            content=body,
            headers={**form, "X-Twilio-Signature": sign("guess", url, params)},
        )
        unsigned = await client.post("/webhooks/twilio", content=body, headers=form)
        assert (forged.status_code, unsigned.status_code) == (401, 401)
        assert runtime.world.twilio.messages == []
        token = runtime.settings.twilio_auth_token.get_secret_value()
        signed = await client.post(
            "/webhooks/twilio", content=body, headers={**form, "X-Twilio-Signature": sign(token, url, params)}
        )
        assert signed.status_code == 200 and "<Response>" in signed.text
        assert any("UPS" in m["body"] for m in runtime.world.twilio.messages)
        # Twilio retrying the same message changes nothing and texts nothing again.
        count = len(runtime.world.twilio.messages)
        again = await client.post(
            "/webhooks/twilio", content=body, headers={**form, "X-Twilio-Signature": sign(token, url, params)}
        )
        assert again.status_code == 200 and len(runtime.world.twilio.messages) == count

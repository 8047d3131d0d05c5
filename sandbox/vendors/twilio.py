"""Emulator of Twilio's Messages API (mounted at `/twilio/2010-04-01`), as the official SDK calls it.

- `POST /Accounts/{AccountSid}/Messages.json`, form-encoded `To`, `From`, `Body`, `StatusCallback`;
  HTTP Basic with the account SID and auth token (anything else: 401, Twilio error 20003).
- Errors in Twilio's body shape `{"code", "message", "more_info", "status"}`: 21211 for a `To` that
  is not a valid phone number, 21610 for a number that texted STOP to the store's number, 21606
  for a `From` that is not one of the account's numbers, 21602 for an empty body.
- A sent message is `queued` in the answer; its status callback then gets `sent` and `delivered`
  (form-encoded, signed with `X-Twilio-Signature` as Twilio signs it), after the answer.
- Incoming texts (`/_sandbox/sms/inbound`) are posted to the number's webhook the same way; STOP and
  START update Twilio's own opt-out list, as Twilio's default opt-out handling does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlencode

import phonenumbers
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.background import BackgroundTask

from sandbox.shopify_webhooks import http_raw_sender
from sandbox.world import JSON, World

RawSender = Callable[[str, dict[str, str], bytes], Awaitable[int]]
"""POST raw bytes with headers to an address; returns the status (0 when unreachable)."""

router = APIRouter()
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
START_WORDS = frozenset({"START", "YES", "UNSTOP", "OPTIN"})
GSM_SEGMENT, UCS2_SEGMENT = 160, 70
GSM_CONCAT, UCS2_CONCAT = 153, 67


def raw_sender_of(state: Any) -> RawSender:
    sender: RawSender | None = getattr(state, "raw_webhook_sender", None)
    return sender or http_raw_sender


def twilio_error(status: int, code: int, message: str) -> JSONResponse:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return JSONResponse(body, status_code=status)


def sign(auth_token: str, url: str, params: dict[str, str]) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1(auth token, URL + each sorted name and its value)."""
    text = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), text.encode(), hashlib.sha1).digest()).decode()


def e164(raw: str) -> str | None:
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def segments(body: str) -> int:
    """How many SMS segments Twilio bills for `body` (GSM-7 when it is plain ASCII, else UCS-2)."""
    plain = all(ord(ch) < 128 for ch in body)
    single, concat = (GSM_SEGMENT, GSM_CONCAT) if plain else (UCS2_SEGMENT, UCS2_CONCAT)
    return 1 if len(body) <= single else math.ceil(len(body) / concat)


def _message(world: World, *, to: str, from_: str, body: str, direction: str, status: str) -> JSON:
    sid = "SM" + uuid.UUID(int=world.new_int_id()).hex
    account = world.credentials.twilio_account_sid
    return {
        "sid": sid,
        "account_sid": account,
        "to": to,
        "from": from_,
        "body": body,
        "status": status,
        "direction": direction,
        "num_segments": str(segments(body)),
        "num_media": "0",
        "price": None,
        "price_unit": "USD",
        "error_code": None,
        "error_message": None,
        "date_created": world.now().strftime("%a, %d %b %Y %H:%M:%S +0000"),
        "date_updated": world.now().strftime("%a, %d %b %Y %H:%M:%S +0000"),
        "date_sent": None,
        "api_version": "2010-04-01",
        "messaging_service_sid": None,
        "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
        "subresource_uris": {"media": f"/2010-04-01/Accounts/{account}/Messages/{sid}/Media.json"},
        "status_callback": None,
        "callbacks": [],
    }


def _public(message: JSON) -> JSON:
    return {k: v for k, v in message.items() if k not in ("status_callback", "callbacks")}


def _authorised(request: Request, world: World, account_sid: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(encoded).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    creds = world.credentials
    return (
        hmac.compare_digest(user, creds.twilio_account_sid)
        and hmac.compare_digest(password, creds.twilio_auth_token)
        and account_sid == creds.twilio_account_sid
    )


async def _status_callbacks(world: World, sender: RawSender, message: JSON) -> None:
    """Twilio reports the message's progress to its StatusCallback: sent, then delivered."""
    url = message.get("status_callback")
    for status in ("sent", "delivered"):
        message["status"] = status
        if not url:
            continue
        params = {
            "AccountSid": message["account_sid"],
            "ApiVersion": "2010-04-01",
            "From": message["from"],
            "To": message["to"],
            "MessageSid": message["sid"],
            "SmsSid": message["sid"],
            "MessageStatus": status,
            "SmsStatus": status,
        }
        code = await post_signed(world, sender, url, params)
        message["callbacks"].append({"status": status, "http_status": code})


async def post_signed(world: World, sender: RawSender, url: str, params: dict[str, str]) -> int:
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": sign(world.credentials.twilio_auth_token, url, params),
        "I-Twilio-Idempotency-Token": uuid.uuid4().hex,
        "User-Agent": "TwilioProxy/1.1",
    }
    status = await sender(url, headers, urlencode(params).encode())
    world.vendor_deliveries.append({"vendor": "twilio", "url": url, "status": status})
    return status


@router.post("/Accounts/{account_sid}/Messages.json", status_code=201)
async def create_message(account_sid: str, request: Request) -> JSONResponse:
    world: World = request.app.state.world
    if not _authorised(request, world, account_sid):
        return twilio_error(401, 20003, "Authenticate")
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode(), keep_blank_values=True).items()}
    to_raw, from_raw, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
    to = e164(to_raw)
    if to is None:
        return twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to_raw}")
    if from_raw not in world.twilio.numbers:
        return twilio_error(
            400,
            21606,
            f"The 'From' phone number provided ({from_raw}) is not a valid message-capable Twilio phone number for this destination/account.",
        )
    if not body.strip():
        return twilio_error(400, 21602, "Message body is required.")
    if to in world.twilio.opted_out:
        return twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
    message = _message(world, to=to, from_=from_raw, body=body, direction="outbound-api", status="queued")
    message["status_callback"] = form.get("StatusCallback") or None
    world.twilio.messages.append(message)
    answer = JSONResponse(_public(message), status_code=201)
    answer.background = BackgroundTask(_status_callbacks, world, raw_sender_of(request.app.state), message)
    return answer


@router.get("/Accounts/{account_sid}/Messages/{sid}.json")
async def get_message(account_sid: str, sid: str, request: Request) -> JSONResponse:
    world: World = request.app.state.world
    if not _authorised(request, world, account_sid):
        return twilio_error(401, 20003, "Authenticate")
    for message in world.twilio.messages:
        if message["sid"] == sid:
            return JSONResponse(_public(message))
    return twilio_error(
        404,
        20404,
        f"The requested resource /2010-04-01/Accounts/{account_sid}/Messages/{sid}.json was not found",
    )


async def deliver_inbound(world: World, sender: RawSender, from_: str, body: str) -> JSON:
    """A shopper texts the store's number: Twilio's opt-out list, then the number's webhook."""
    to = world.twilio.numbers[0]
    message = _message(world, to=to, from_=from_, body=body, direction="inbound", status="received")
    world.twilio.messages.append(message)
    keyword = body.strip().upper()
    if keyword in STOP_WORDS and from_ not in world.twilio.opted_out:
        world.twilio.opted_out.append(from_)
    elif keyword in START_WORDS and from_ in world.twilio.opted_out:
        world.twilio.opted_out.remove(from_)
    url = world.vendor_webhooks.twilio_sms_url
    status: int | None = None
    if url:
        params = {
            "ToCountry": "US",
            "SmsMessageSid": message["sid"],
            "NumMedia": "0",
            "SmsSid": message["sid"],
            "SmsStatus": "received",
            "Body": body,
            "To": to,
            "NumSegments": message["num_segments"],
            "MessageSid": message["sid"],
            "AccountSid": message["account_sid"],
            "From": from_,
            "ApiVersion": "2010-04-01",
        }
        status = await post_signed(world, sender, url, params)
    return {"message": _public(message), "webhook": {"url": url, "status": status}}

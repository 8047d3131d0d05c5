"""Webhooks from the store platform (Shopify) and the helpdesk (Gorgias).

Both are authenticated before anything is parsed, and a refused or malformed delivery reaches
nothing: 401 for a bad signature or secret, 400 for a body that is not the JSON object we expect.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, ValidationError

from agent.conversation import ConversationService
from agent.settings import Settings
from integrations.shopify.webhooks import HMAC_HEADER, WEBHOOK_ID_HEADER, verify_webhook
from server.security import ApiError, RecentIds, secret_header_matches

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

# Shopify topics look like `orders/updated`, `refunds/create`.
_TOPIC = re.compile(r"^[a-z0-9_]+(/[a-z0-9_]+)*$")


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "malformed_body", "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "malformed_body", "The body must be a JSON object.")
    return body


@router.post("/shopify/{topic:path}")
async def shopify_webhook(topic: str, request: Request) -> JSONResponse:
    """An order / fulfilment / refund event, signed with the app secret over the raw body."""
    settings: Settings = request.app.state.settings
    service: ConversationService = request.app.state.service
    seen: RecentIds = request.app.state.shopify_webhook_ids

    raw = await request.body()
    secret = settings.shopify_webhook_secret.get_secret_value()
    if not verify_webhook(raw, request.headers.get(HMAC_HEADER), secret):
        raise ApiError(401, "invalid_signature", f"{HMAC_HEADER} does not match the body.")
    if not _TOPIC.match(topic):
        raise ApiError(400, "unknown_topic", "Not a webhook topic.")
    payload = _json_object(raw)

    # A replay is recognised by its delivery id and by what was signed: the id header is not
    # covered by the signature, so a replayed body under a dropped or new id is a duplicate too.
    webhook_id = request.headers.get(WEBHOOK_ID_HEADER)
    keys = [signed_body_key(topic, raw)] + ([f"id:{webhook_id}"] if webhook_id else [])
    if any(key in seen for key in keys):
        return JSONResponse({"status": "duplicate"})
    for key in keys:
        seen.add(key)  # before the await: a concurrent redelivery is a duplicate too
    try:
        await service.on_commerce_event(topic, payload)
    except BaseException:
        for key in keys:
            seen.discard(key)  # failed: Shopify's redelivery must be processed
        raise
    return JSONResponse({"status": "ok"})


def signed_body_key(topic: str, raw: bytes) -> str:
    """Replay key of a verified delivery: SHA-256 of its topic and the exact signed bytes."""
    return "body:" + hashlib.sha256(topic.encode() + b"\n" + raw).hexdigest()


class _HelpdeskTicket(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int | str


class _HelpdeskEvent(BaseModel):
    """The shape `sandbox/webhooks.py::helpdesk_event` documents (the Gorgias HTTP integration body)."""

    model_config = ConfigDict(extra="allow")
    event: str
    ticket: _HelpdeskTicket
    message: dict[str, Any] | None = None


@router.post("/gorgias")
async def gorgias_webhook(request: Request) -> JSONResponse:
    """A human replied, took over, closed or handed back a ticket."""
    settings: Settings = request.app.state.settings
    service: ConversationService = request.app.state.service

    given = request.headers.get(settings.gorgias_webhook_header)
    if not secret_header_matches(given, settings.gorgias_webhook_secret.get_secret_value()):
        raise ApiError(401, "invalid_secret", f"Missing or wrong {settings.gorgias_webhook_header} header.")
    body = _json_object(await request.body())
    try:
        _HelpdeskEvent.model_validate(body)
    except ValidationError:
        raise ApiError(400, "malformed_body", "Expected {event, ticket: {id, ...}, message}.") from None

    if not await service.on_helpdesk_event(body):
        return JSONResponse({"status": "ignored"}, status_code=202)
    return JSONResponse({"status": "ok"})

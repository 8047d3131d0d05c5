"""The chat API the widget talks to (DESIGN.md §7).

The conversation logic lives behind `ConversationService`; these routes only check the request
(access token, identity, limits, rate), pick the response format and stream the service's events.
Every route of one conversation needs its bearer token (`server/access.py`).
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from agent.cards import card_schema
from agent.conversation import ConversationNotFound, ConversationService, ConversationView
from agent.settings import Settings
from server.access import AuthorizedConversation, new_access_token
from server.security import (
    ApiError,
    RateLimiter,
    client_ip,
    enforce_rate_limits,
    identity_age_problem,
    verify_identity,
)
from server.sse import SSE_HEADERS, Pump, collect_turn, subscription_stream, turn_stream

router = APIRouter(prefix="/api/conversations", tags=["chat"])


def get_service(request: Request) -> ConversationService:
    service: ConversationService = request.app.state.service
    return service


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


ServiceDep = Annotated[ConversationService, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


class StartConversation(BaseModel):
    """Optional signed identity: `signature` = hex HMAC-SHA256(store secret, f"{email}\\n{issued_at}"),
    `issued_at` = Unix seconds when the store signed it (README, "Signed widget identities")."""

    model_config = ConfigDict(extra="ignore")

    email: str | None = Field(None, max_length=320)
    issued_at: int | None = Field(
        None, ge=0, le=10**11, description="Unix seconds the identity was signed at."
    )
    signature: str | None = Field(None, max_length=128)


class StartedConversation(BaseModel):
    id: str
    token: str = Field(
        description="Send as `Authorization: Bearer <token>` on every call of this conversation; shown once."
    )
    verified: bool


class SendMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: str
    client_message_id: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        description="Set by the client; a retry with the same id is not redone.",
    )


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/event-stream" not in accept


@router.post("", status_code=201)
async def start_conversation(
    request: Request, service: ServiceDep, settings: SettingsDep, body: StartConversation | None = None
) -> StartedConversation:
    """Start a conversation. A signed, fresh identity marks the shopper verified; a bad one is refused.

    The answer's `token` is the conversation's credential; only its digest is stored."""
    limiter: RateLimiter = request.app.state.ip_limiter
    enforce_rate_limits((limiter, client_ip(request)))  # first: signatures cannot be brute-forced
    verified_email: str | None = None
    if body is not None and (body.email or body.signature or body.issued_at is not None):
        if not (body.email and body.signature and body.issued_at is not None):
            raise ApiError(
                422, "incomplete_identity", "Send email, issued_at and signature together, or none of them."
            )
        secret = settings.store_secret.get_secret_value()
        if not verify_identity(body.email, body.issued_at, body.signature, secret):
            raise ApiError(401, "invalid_signature", "The identity signature does not match.")
        problem = identity_age_problem(body.issued_at, time.time(), settings.identity_max_age_seconds)
        if problem is not None:
            raise ApiError(401, "identity_expired", problem)
        verified_email = body.email
    token, digest = new_access_token()
    conversation_id = await service.start(verified_email=verified_email, access_digest=digest)
    return StartedConversation(id=conversation_id, token=token, verified=verified_email is not None)


@router.post(
    "/{conversation_id}/messages",
    responses={200: {"content": {"text/event-stream": {}, "application/json": {}}}},
)
async def send_message(
    conversation_id: AuthorizedConversation,
    body: SendMessage,
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
) -> Any:
    """Process one shopper message: an SSE stream of chat events, or with `Accept: application/json`
    `{"messages": [...new messages...], "status": ...}` once the turn is over."""
    text = body.text.strip()
    if not text:
        raise ApiError(422, "empty_message", "The message is empty.")
    if len(text) > settings.max_message_chars:
        raise ApiError(422, "message_too_long", {"max_chars": settings.max_message_chars})
    enforce_rate_limits(
        (request.app.state.ip_limiter, client_ip(request)),
        (request.app.state.conversation_limiter, conversation_id),
    )

    registry: set[asyncio.Task[None]] = request.app.state.background_tasks
    turn = service.send(
        conversation_id,
        text,
        client_message_id=body.client_message_id,
        stream_tokens=not _wants_json(request),  # a JSON client waits for the whole turn: no deltas
        client=client_ip(request),
    )
    pump = Pump(turn, registry)
    # Wait briefly for the first event before answering, so an unknown conversation is a plain 404
    # (the service looks the conversation up first); a slow first step just starts the stream.
    first = await pump.next(within=request.app.state.first_event_wait_seconds)
    if isinstance(first, ConversationNotFound):
        raise first

    if _wants_json(request):
        messages, status, error = await collect_turn(first if first is not None else await pump.next(), pump)
        if error is not None:
            retryable = bool(error.get("retryable", True))
            raise ApiError(503 if retryable else 500, "turn_failed", error)
        if status is None:
            status = (await service.get(conversation_id)).status
        return JSONResponse({"messages": messages, "status": status})

    keepalive: float = request.app.state.sse_keepalive_seconds
    return StreamingResponse(
        turn_stream(first, pump, keepalive), media_type="text/event-stream", headers=SSE_HEADERS
    )


@router.get("/{conversation_id}")
async def get_conversation(conversation_id: AuthorizedConversation, service: ServiceDep) -> ConversationView:
    """Status, intent, ticket id and the full message history."""
    return await service.get(conversation_id)


@router.get("/{conversation_id}/events", responses={200: {"content": {"text/event-stream": {}}}})
async def conversation_events(
    conversation_id: AuthorizedConversation, request: Request, service: ServiceDep
) -> StreamingResponse:
    """Pushes outside a shopper turn (human agent replies, status changes) until the client leaves.

    Read it with `fetch` and a stream reader: the token goes in a header, never in the URL."""
    await service.get(conversation_id)  # 404 before the stream starts
    registry: set[asyncio.Task[None]] = request.app.state.background_tasks
    pump = Pump(service.subscribe(conversation_id), registry)
    keepalive: float = request.app.state.sse_keepalive_seconds
    return StreamingResponse(
        subscription_stream(pump, keepalive), media_type="text/event-stream", headers=SSE_HEADERS
    )


schemas = APIRouter(prefix="/api", tags=["contracts"])


@schemas.get("/cards.schema.json")
async def cards_schema() -> JSONResponse:
    """The JSON Schema of the cards messages carry (`ChatMessage.card`), for widget developers."""
    return JSONResponse(card_schema(), headers={"Cache-Control": "public, max-age=3600"})

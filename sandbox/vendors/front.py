"""Emulator of Front's Core API and the Channel API of one application channel, mounted at `/front`.

What our client calls, as Front's API reference describes it: syncing the chat's messages into the
channel (`POST /channels/{id}/inbound_messages` and `/outbound_messages`, 202 with the message's
uid; messages threaded by `metadata.external_conversation_id`, one per `metadata.external_id`),
messages by id or `alt:uid:` alias, conversations (archive / reopen, assignee), their messages and
comments, tags (`POST` / `DELETE /conversations/{id}/tags` by id) and teammates.

Authentication is an API token as a bearer token; errors are `{"_error": {"status", "title",
"message"}}`; lists are `{"_pagination": {"next"}, "_links", "_results"}` (`limit` up to 100,
`page_token`); the company's per-minute limit (50, the Starter plan, by default) is announced in
`X-RateLimit-Limit` / `-Remaining` / `-Reset` on every answer, 429 + `Retry-After` beyond it.

Records are built only through `sandbox.front_records`, which the control API's desk also uses.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute

from sandbox.front_records import (
    add_comment,
    add_message,
    add_tag,
    link,
    new_conversation,
    number_of,
    public_message,
    reopen,
    tag_named,
)
from sandbox.http import VendorHTTPError, WorldDep, require_front
from sandbox.vendors.gorgias import CallLimiter
from sandbox.world import JSON, World

VENDOR = "front"
STARTER_PLAN_LIMIT = 50  # requests per minute, per company
MAX_LIMIT = 100
DEFAULT_LIMIT = 50
STATUSES = ("archived", "open", "deleted", "spam")


# --------------------------------------------------------------------------- rate limit


def call_limiter(state: Any) -> CallLimiter:
    """The app's Front company limiter (`app.state.front_call_limiter`), made on first use;
    replace it to change the plan (e.g. a huge limit for evals)."""
    limiter: CallLimiter | None = getattr(state, "front_call_limiter", None)
    if limiter is None:
        limiter = CallLimiter(limit=STARTER_PLAN_LIMIT, window_seconds=60.0)
        state.front_call_limiter = limiter
    return limiter


def count_call(request: Request, world: WorldDep) -> None:
    limiter = call_limiter(request.app.state)
    used, wait = limiter.hit(world, world.credentials.front_api_token)
    request.state.front_rate = {
        "X-RateLimit-Limit": str(limiter.limit),
        "X-RateLimit-Remaining": str(max(0, limiter.limit - used)),
        "X-RateLimit-Reset": str(math.ceil(time.time() + (wait or limiter.window))),
    }
    if wait is not None:
        raise VendorHTTPError(
            VENDOR,
            429,
            "Rate limit exceeded. Please retry in a few seconds.",
            headers={"Retry-After": str(math.ceil(wait)), **request.state.front_rate},
        )


class _RateHeadersRoute(APIRoute):
    """Puts the rate-limit headers on every answer of an authenticated call, errors included."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_headers(request: Request) -> Response:
            try:
                response = await handler(request)
            except VendorHTTPError as exc:
                rate = getattr(request.state, "front_rate", None)
                if rate is not None:
                    exc.headers = {**rate, **(exc.headers or {})}
                raise
            rate = getattr(request.state, "front_rate", None)
            if rate is not None:
                response.headers.update(rate)
            return response

        return with_headers


router = APIRouter(route_class=_RateHeadersRoute, dependencies=[Depends(require_front), Depends(count_call)])


# --------------------------------------------------------------------------- input and errors


def _bad(message: str) -> VendorHTTPError:
    return VendorHTTPError(VENDOR, 400, message)


def _not_found(what: str) -> VendorHTTPError:
    return VendorHTTPError(VENDOR, 404, f"Unknown {what}")


async def _json(request: Request) -> JSON:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        raise _bad("Body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _bad("Body must be a JSON object")
    return body


def _text(body: JSON, key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _bad(f'"{key}" is required')
    return value


def _conversation(world: World, conversation_id: str) -> JSON:
    number = number_of(conversation_id)
    conversation = world.front.conversations.get(number) if number is not None else None
    if conversation is None:
        raise _not_found("conversation")
    return conversation


def _page(request: Request, items: list[JSON]) -> JSON:
    """Front's list envelope; `page_token` is the offset of the next page, opaque to clients."""
    raw_limit = request.query_params.get("limit") or str(DEFAULT_LIMIT)
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise _bad(f'"limit" must be between 1 and {MAX_LIMIT}')
    limit = int(raw_limit)
    token = request.query_params.get("page_token") or "0"
    if not token.isdigit():
        raise _bad("Invalid page_token")
    start = int(token)
    here = str(request.url).split("?", 1)[0]  # followable wherever the emulator is served
    following = f"{here}?limit={limit}&page_token={start + limit}" if start + limit < len(items) else None
    return {
        "_pagination": {"next": following},
        "_links": {"self": here},
        "_results": items[start : start + limit],
    }


# --------------------------------------------------------------------------- the channel


def _metadata(body: JSON) -> tuple[str, str]:
    metadata = body.get("metadata")
    if not isinstance(metadata, dict):
        raise _bad('"metadata" is required')
    external_id, thread = metadata.get("external_id"), metadata.get("external_conversation_id")
    if not isinstance(external_id, str) or not external_id or not isinstance(thread, str) or not thread:
        raise _bad('"metadata.external_id" and "metadata.external_conversation_id" are required')
    return external_id, thread


def _sync(world: World, channel_id: str, body: JSON, *, inbound: bool) -> JSON:
    if channel_id != world.credentials.front_channel_id:
        raise _not_found("channel")
    text = _text(body, "body")
    external_id, thread = _metadata(body)
    if inbound:
        sender = body.get("sender")
        if not isinstance(sender, dict) or not sender.get("handle"):
            raise _bad('"sender.handle" is required')
        handle, name = str(sender["handle"]), sender.get("name")
    else:
        to = body.get("to")
        if not isinstance(to, list) or not to or not isinstance(to[0], dict) or not to[0].get("handle"):
            raise _bad('"to" needs at least one recipient with a handle')
        handle, name = str(to[0]["handle"]), to[0].get("name")
    number = world.front.threads.get(thread)
    conversation = world.front.conversations.get(number) if number is not None else None
    if conversation is not None:
        for existing in world.front.messages[number or 0]:
            if existing["metadata"].get("external_id") == external_id:  # the same message again
                return {"status": "accepted", "message_uid": existing["uid"]}
    else:
        subject = str(body.get("subject") or text[:60])
        conversation = new_conversation(world, subject=subject, handle=handle, name=name)
        world.front.threads[thread] = number_of(conversation["id"]) or 0
    message = add_message(
        world,
        conversation,
        text=text,
        inbound=inbound,
        handle=handle,
        name=name,
        author=None,
        metadata={"external_id": external_id, "external_conversation_id": thread},
        subject=body.get("subject"),
    )
    return {"status": "accepted", "message_uid": message["uid"]}


@router.post("/channels/{channel_id}/inbound_messages", status_code=202)
async def sync_inbound(channel_id: str, request: Request, world: WorldDep) -> JSON:
    return _sync(world, channel_id, await _json(request), inbound=True)


@router.post("/channels/{channel_id}/outbound_messages", status_code=202)
async def sync_outbound(channel_id: str, request: Request, world: WorldDep) -> JSON:
    return _sync(world, channel_id, await _json(request), inbound=False)


@router.get("/messages/{message_id}")
async def get_message(message_id: str, world: WorldDep) -> JSON:
    """By id, or by the uid a sync answered with (`alt:uid:<uid>`)."""
    uid = message_id.removeprefix("alt:uid:") if message_id.startswith("alt:uid:") else None
    for messages in world.front.messages.values():
        for message in messages:
            if (message["uid"] == uid) if uid is not None else (message["id"] == message_id):
                return public_message(message)
    raise _not_found("message")


# --------------------------------------------------------------------------- conversations


@router.get("/conversations/{conversation_id}")
async def get_conversation(conversation_id: str, world: WorldDep) -> JSON:
    return _conversation(world, conversation_id)


@router.patch("/conversations/{conversation_id}", status_code=204)
async def update_conversation(conversation_id: str, request: Request, world: WorldDep) -> Response:
    conversation = _conversation(world, conversation_id)
    body = await _json(request)
    if "assignee_id" in body:
        _assign(world, conversation, body["assignee_id"])
    status = body.get("status")
    if status is not None:
        if status not in STATUSES:
            raise _bad(f'"status" must be one of {", ".join(STATUSES)}')
        if status == "open":
            reopen(conversation)
        else:
            conversation["status"] = status
    return Response(status_code=204)


def _assign(world: World, conversation: JSON, assignee_id: Any) -> None:
    if assignee_id is None:
        conversation["assignee"] = None
        if conversation["status"] == "assigned":
            conversation["status"] = "unassigned"
        return
    teammate = world.front.teammates.get(str(assignee_id))
    if teammate is None:
        raise _not_found("teammate")
    conversation["assignee"] = teammate
    if conversation["status"] == "unassigned":
        conversation["status"] = "assigned"


@router.put("/conversations/{conversation_id}/assignee", status_code=204)
async def update_assignee(conversation_id: str, request: Request, world: WorldDep) -> Response:
    conversation = _conversation(world, conversation_id)
    body = await _json(request)
    if "assignee_id" not in body:
        raise _bad('"assignee_id" is required')
    _assign(world, conversation, body["assignee_id"])
    return Response(status_code=204)


@router.get("/conversations/{conversation_id}/messages")
async def list_messages(conversation_id: str, request: Request, world: WorldDep) -> JSON:
    conversation = _conversation(world, conversation_id)
    messages = world.front.messages[number_of(conversation["id"]) or 0]
    return _page(request, [public_message(m) for m in messages])


@router.get("/conversations/{conversation_id}/comments")
async def list_comments(conversation_id: str, request: Request, world: WorldDep) -> JSON:
    conversation = _conversation(world, conversation_id)
    return _page(request, list(world.front.comments[number_of(conversation["id"]) or 0]))


@router.post("/conversations/{conversation_id}/comments", status_code=201)
async def create_comment(conversation_id: str, request: Request, world: WorldDep) -> JSON:
    conversation = _conversation(world, conversation_id)
    body = await _json(request)
    text = _text(body, "body")
    author = None
    if body.get("author_id") is not None:
        author = world.front.teammates.get(str(body["author_id"]))
        if author is None:
            raise _not_found("teammate")
    return add_comment(world, conversation, body=text, author=author)


def _tag_ids(world: World, body: JSON) -> list[JSON]:
    ids = body.get("tag_ids")
    if not isinstance(ids, list) or not ids:
        raise _bad('"tag_ids" must be a non-empty list')
    tags = [world.front.tags.get(str(tag_id)) for tag_id in ids]
    if any(tag is None for tag in tags):
        raise _not_found("tag")
    return [tag for tag in tags if tag is not None]


@router.post("/conversations/{conversation_id}/tags", status_code=204)
async def tag_conversation(conversation_id: str, request: Request, world: WorldDep) -> Response:
    conversation = _conversation(world, conversation_id)
    for tag in _tag_ids(world, await _json(request)):
        add_tag(conversation, tag)
    return Response(status_code=204)


@router.delete("/conversations/{conversation_id}/tags", status_code=204)
async def untag_conversation(conversation_id: str, request: Request, world: WorldDep) -> Response:
    conversation = _conversation(world, conversation_id)
    unwanted = {tag["id"] for tag in _tag_ids(world, await _json(request))}
    conversation["tags"] = [t for t in conversation["tags"] if t["id"] not in unwanted]
    return Response(status_code=204)


# --------------------------------------------------------------------------- tags, teammates


@router.get("/tags")
async def list_tags(request: Request, world: WorldDep) -> JSON:
    return _page(request, list(world.front.tags.values()))


@router.post("/tags", status_code=201)
async def create_tag(request: Request, world: WorldDep) -> JSON:
    name = _text(await _json(request), "name").strip()
    if tag_named(world, name, create=False) is not None:
        raise VendorHTTPError(VENDOR, 409, f"A tag named {name} already exists")
    tag = tag_named(world, name, create=True)
    assert tag is not None
    return tag


@router.get("/teammates")
async def list_teammates(request: Request, world: WorldDep) -> JSON:
    return _page(request, list(world.front.teammates.values()))


@router.get("/me")
async def me(world: WorldDep) -> JSON:
    return {"_links": {"self": link("me")}, "name": "Sandbox company", "id": world.front.company_id}

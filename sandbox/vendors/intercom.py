"""Emulator of the Intercom REST API (2.x), mounted at `/intercom` (DESIGN.md §4).

What our client calls, as Intercom's API reference describes it: a bearer access token and an
`Intercom-Version` header (a version Intercom does not have is refused; none means the app's
default); contacts searched and created (a second contact with the same email is a 409); conversations
opened as a contact, read (with `display_as=plaintext`), searched (custom attributes among the
fields, `pages.next.starting_after` cursor pagination), replied to as the contact or an admin (comment
or note), closed / opened / snoozed / assigned through `/parts`, tagged and untagged; workspace tags
created or found by name. Errors are Intercom's `error.list` (`{"type": "error.list", "errors":
[{"code", "message"}]}`). The default private-app limit, 10,000 calls a minute spent in 10-second
windows of 1,666, is announced on every answer (`X-RateLimit-Limit`, `X-RateLimit-Remaining`,
`X-RateLimit-Reset` as Unix time); beyond it, 429 with the same headers and no `Retry-After`.

Records are built only through `sandbox.intercom_records`, which the control API's desk also uses.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute

from sandbox.http import VendorHTTPError, WorldDep, require_intercom
from sandbox.intercom_records import (
    add_part,
    apply_tag,
    contact_by_email,
    create_conversation,
    new_contact,
    person,
    remove_tag,
    render,
    set_state,
    tag_named,
)
from sandbox.vendors.gorgias import CallLimiter
from sandbox.world import JSON, World

VENDOR = "intercom"
LIMIT_HEADER = "X-RateLimit-Limit"
REMAINING_HEADER = "X-RateLimit-Remaining"
RESET_HEADER = "X-RateLimit-Reset"
WINDOW_LIMIT = 1666  # 10,000 a minute, per 10-second window
WINDOW_SECONDS = 10.0
VERSIONS = frozenset(["1.0", "1.1", "1.2", "1.3", "1.4"] + [f"2.{n}" for n in range(0, 15)] + ["Unstable"])
MAX_PER_PAGE = 150
DEFAULT_PER_PAGE = 20


# --------------------------------------------------------------------------- version and rate limit


def check_version(request: Request) -> None:
    version = request.headers.get("intercom-version")
    if version is not None and version.strip() not in VERSIONS:
        raise VendorHTTPError(
            VENDOR, 400, "The requested version could not be found", code="intercom_version_invalid"
        )


def call_limiter(state: Any) -> CallLimiter:
    """The app's Intercom limiter (`app.state.intercom_call_limiter`), made on first use; replace
    it to change the limit (e.g. a huge one for evals)."""
    limiter: CallLimiter | None = getattr(state, "intercom_call_limiter", None)
    if limiter is None:
        limiter = CallLimiter(limit=WINDOW_LIMIT, window_seconds=WINDOW_SECONDS)
        state.intercom_call_limiter = limiter
    return limiter


def count_call(request: Request, world: WorldDep) -> None:
    limiter = call_limiter(request.app.state)
    used, wait = limiter.hit(world, world.credentials.intercom_access_token)
    reset = math.ceil(time.time() + (wait if wait is not None else limiter.window))
    request.state.intercom_rate = {
        LIMIT_HEADER: str(limiter.limit),
        REMAINING_HEADER: str(max(0, limiter.limit - used)),
        RESET_HEADER: str(reset),
    }
    if wait is not None:
        raise VendorHTTPError(
            VENDOR,
            429,
            "You have exceeded the rate limit. Please try again later.",
            headers=dict(request.state.intercom_rate),
        )


class _RateHeadersRoute(APIRoute):
    """Puts the rate-limit headers on every answer of an authenticated call, errors included."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_headers(request: Request) -> Response:
            try:
                response = await handler(request)
            except VendorHTTPError as exc:
                rate = getattr(request.state, "intercom_rate", None)
                if rate is not None:
                    exc.headers = {**rate, **(exc.headers or {})}
                raise
            rate = getattr(request.state, "intercom_rate", None)
            if rate is not None:
                response.headers.update(rate)
            return response

        return with_headers


router = APIRouter(
    route_class=_RateHeadersRoute,
    dependencies=[Depends(require_intercom), Depends(check_version), Depends(count_call)],
)


# --------------------------------------------------------------------------- input and errors


def _invalid(message: str) -> VendorHTTPError:
    return VendorHTTPError(VENDOR, 400, message, code="parameter_invalid")


def _not_found(message: str = "Resource Not Found") -> VendorHTTPError:
    return VendorHTTPError(VENDOR, 404, message, code="not_found")


async def _json(request: Request) -> JSON:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        raise VendorHTTPError(
            VENDOR, 400, "There was a problem in the JSON you submitted", code="bad_request"
        ) from None
    if not isinstance(body, dict):
        raise VendorHTTPError(
            VENDOR, 400, "There was a problem in the JSON you submitted", code="bad_request"
        )
    return body


def _conversation(world: World, conversation_id: str) -> JSON:
    found = world.intercom.conversations.get(int(conversation_id)) if conversation_id.isdigit() else None
    if found is None:
        raise _not_found()
    return found


def _admin(world: World, admin_id: Any) -> JSON:
    admin = world.intercom.admins.get(str(admin_id)) if admin_id is not None else None
    if admin is None:
        raise _not_found("Admin Not Found")
    return admin


def _plaintext(request: Request) -> bool:
    return request.query_params.get("display_as") == "plaintext"


# --------------------------------------------------------------------------- searching


def _field(record: JSON, field: str) -> Any:
    if field == "contact_ids":
        return [c["id"] for c in record.get("contacts", {}).get("contacts", [])]
    if field == "tag_ids":
        return [t["id"] for t in record.get("tags", {}).get("tags", [])]
    value: Any = record
    for key in field.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _matches(record: JSON, query: Any) -> bool:
    if not isinstance(query, dict):
        raise _invalid("The query must be an object")
    operator = query.get("operator")
    if operator in ("AND", "OR"):
        parts = query.get("value")
        if not isinstance(parts, list) or not parts or len(parts) > 15:
            raise _invalid("AND / OR take a list of 1 to 15 filters")
        results = [_matches(record, part) for part in parts]
        return all(results) if operator == "AND" else any(results)
    field = query.get("field")
    if not isinstance(field, str):
        raise _invalid("Each filter needs a field")
    actual, wanted = _field(record, field), query.get("value")
    values = actual if isinstance(actual, list) else [actual]
    as_text = [str(v).lower() if isinstance(v, str) else v for v in values]
    target = wanted.lower() if isinstance(wanted, str) else wanted
    if operator == "=":
        return target in as_text or (wanted is None and actual is None)
    if operator == "!=":
        return target not in as_text
    if operator in ("IN", "NIN"):
        if not isinstance(wanted, list):
            raise _invalid(f"{operator} takes a list")
        inside = any(str(w).lower() in [str(v).lower() for v in values] for w in wanted)
        return inside if operator == "IN" else not inside
    if operator == "~":
        return any(isinstance(v, str) and str(target) in v for v in as_text)
    raise _invalid(f"Unsupported operator {operator!r}")


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _offset(cursor: Any) -> int:
    try:
        value = json.loads(base64.urlsafe_b64decode(str(cursor) + "=" * (-len(str(cursor)) % 4)))["o"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise _invalid("starting_after is invalid") from None
    if not isinstance(value, int) or value < 0:
        raise _invalid("starting_after is invalid")
    return value


def _page(items: list[JSON], pagination: Any, list_type: str, key: str) -> JSON:
    pagination = pagination if isinstance(pagination, dict) else {}
    per_page = pagination.get("per_page", DEFAULT_PER_PAGE)
    if not isinstance(per_page, int) or not 1 <= per_page <= MAX_PER_PAGE:
        raise _invalid(f"per_page must be between 1 and {MAX_PER_PAGE}")
    start = _offset(pagination["starting_after"]) if pagination.get("starting_after") else 0
    page = items[start : start + per_page]
    pages: JSON = {
        "type": "pages",
        "page": start // per_page + 1,
        "per_page": per_page,
        "total_pages": max(1, math.ceil(len(items) / per_page)),
    }
    if start + per_page < len(items):
        pages["next"] = {"page": start // per_page + 2, "starting_after": _cursor(start + per_page)}
    return {"type": list_type, key: page, "total_count": len(items), "pages": pages}


# --------------------------------------------------------------------------- admins and contacts


@router.get("/me")
async def me(world: WorldDep) -> JSON:
    admin = dict(_admin(world, world.credentials.intercom_bot_admin_id))
    admin["app"] = {"type": "app", "id_code": world.intercom.app_id, "name": "Sandbox", "region": "US"}
    return admin


@router.get("/admins")
async def list_admins(world: WorldDep) -> JSON:
    return {"type": "admin.list", "admins": list(world.intercom.admins.values())}


@router.post("/contacts/search")
async def search_contacts(request: Request, world: WorldDep) -> JSON:
    body = await _json(request)
    found = [c for c in world.intercom.contacts.values() if _matches(c, body.get("query"))]
    return _page(found, body.get("pagination"), "list", "data")


@router.post("/contacts")
async def create_contact(request: Request, world: WorldDep) -> JSON:
    body = await _json(request)
    role = body.get("role", "user")
    if role not in ("user", "lead"):
        raise _invalid("role must be user or lead")
    email = body.get("email")
    if email is not None and (not isinstance(email, str) or "@" not in email):
        raise _invalid("email is invalid")
    if not email and not body.get("external_id") and role == "user":
        raise _invalid("Creating a user requires an email or an external_id")
    if email and (existing := contact_by_email(world, email)) is not None:
        raise VendorHTTPError(
            VENDOR,
            409,
            f"A contact matching those details already exists with id={existing['id']}",
            code="conflict",
        )
    name = body.get("name")
    return new_contact(world, email=email, name=name if isinstance(name, str) else None, role=role)


# --------------------------------------------------------------------------- conversations


@router.post("/conversations")
async def create(request: Request, world: WorldDep) -> JSON:
    body = await _json(request)
    sender = body.get("from")
    text = body.get("body")
    if not isinstance(sender, dict) or sender.get("type") not in ("user", "lead", "contact"):
        raise _invalid("from must be a user, lead or contact")
    if not isinstance(text, str) or not text.strip():
        raise _invalid("body is required")
    contact = world.intercom.contacts.get(str(sender.get("id")))
    if contact is None:
        raise _not_found("User Not Found")
    conversation, message_id = create_conversation(world, contact=contact, body=text)
    return {
        "type": "user_message",
        "id": message_id,
        "created_at": conversation["created_at"],
        "body": text,
        "message_type": "inapp",
        "conversation_id": conversation["id"],
    }


@router.get("/conversations/{conversation_id}")
async def retrieve(conversation_id: str, request: Request, world: WorldDep) -> JSON:
    return render(world, _conversation(world, conversation_id), plaintext=_plaintext(request))


@router.put("/conversations/{conversation_id}")
async def update(conversation_id: str, request: Request, world: WorldDep) -> JSON:
    conversation = _conversation(world, conversation_id)
    body = await _json(request)
    attributes = body.get("custom_attributes")
    if attributes is not None:
        if not isinstance(attributes, dict):
            raise _invalid("custom_attributes must be an object")
        unknown = [name for name in attributes if name not in world.intercom.conversation_attributes]
        if unknown:
            raise _invalid(f"Custom attribute '{unknown[0]}' does not exist")
        conversation["custom_attributes"] = {**conversation["custom_attributes"], **attributes}
    if isinstance(body.get("read"), bool):
        conversation["read"] = body["read"]
    if isinstance(body.get("title"), str):
        conversation["title"] = body["title"]
    conversation["updated_at"] = int(world.now().timestamp())
    return render(world, conversation, plaintext=_plaintext(request))


@router.post("/conversations/search")
async def search(request: Request, world: WorldDep) -> JSON:
    body = await _json(request)
    ordered = [world.intercom.conversations[k] for k in sorted(world.intercom.conversations)]
    found = [render(world, c, parts=False) for c in ordered if _matches(c, body.get("query"))]
    return _page(found, body.get("pagination"), "conversation.list", "conversations")


@router.post("/conversations/{conversation_id}/reply")
async def reply(conversation_id: str, request: Request, world: WorldDep) -> JSON:
    conversation = _conversation(world, conversation_id)
    body = await _json(request)
    kind, message_type, text = body.get("type"), body.get("message_type"), body.get("body")
    if not isinstance(text, str) or not text.strip():
        raise _invalid("body is required")
    if kind == "user":
        if message_type != "comment":
            raise _invalid("A user can only reply with a comment")
        contact = world.intercom.contacts.get(str(body.get("intercom_user_id")))
        if contact is None and isinstance(body.get("email"), str):
            contact = contact_by_email(world, body["email"])
        if contact is None:
            raise _not_found("User Not Found")
        add_part(
            world,
            conversation,
            part_type="comment",
            author=person(contact, contact["role"]),
            body=text,
            via_api=True,
        )
    elif kind == "admin":
        if message_type not in ("comment", "note"):
            raise _invalid("message_type must be comment or note")
        admin = _admin(world, body.get("admin_id"))
        add_part(
            world,
            conversation,
            part_type=message_type,
            author=person(admin, "admin"),
            body=text,
            via_api=True,
        )
    else:
        raise _invalid("type must be user or admin")
    return render(world, conversation)


@router.post("/conversations/{conversation_id}/parts")
async def manage(conversation_id: str, request: Request, world: WorldDep) -> JSON:
    conversation = _conversation(world, conversation_id)
    body = await _json(request)
    admin = _admin(world, body.get("admin_id"))
    author = person(admin, "admin")
    action = body.get("message_type")
    if action == "close":
        set_state(conversation, "closed")
        add_part(world, conversation, part_type="close", author=author, body=body.get("body"), via_api=True)
    elif action == "open":
        set_state(conversation, "open")
        add_part(world, conversation, part_type="open", author=author, via_api=True)
    elif action == "snoozed":
        until = body.get("snoozed_until")
        if not isinstance(until, int) or until <= int(world.now().timestamp()):
            raise _invalid("snoozed_until must be a future Unix time")
        set_state(conversation, "snoozed", until)
        add_part(world, conversation, part_type="snoozed", author=author, via_api=True)
    elif action == "assignment":
        assignee = str(body.get("assignee_id", ""))
        if body.get("type") == "team":
            if assignee != "0" and assignee not in world.intercom.teams:
                raise _not_found("Team Not Found")
            conversation["team_assignee_id"] = None if assignee == "0" else assignee
        elif body.get("type") == "admin":
            if assignee != "0":
                _admin(world, assignee)
            conversation["admin_assignee_id"] = None if assignee == "0" else assignee
        else:
            raise _invalid("type must be admin or team")
        add_part(
            world,
            conversation,
            part_type="assignment",
            author=author,
            body=body.get("body"),
            via_api=True,
            assigned_to=None if assignee == "0" else {"type": body["type"], "id": assignee},
        )
    else:
        raise _invalid("message_type must be close, open, snoozed or assignment")
    return render(world, conversation, plaintext=_plaintext(request))


# --------------------------------------------------------------------------- tags


@router.get("/tags")
async def list_tags(world: WorldDep) -> JSON:
    return {"type": "list", "data": list(world.intercom.tags.values())}


@router.post("/tags")
async def create_or_update_tag(request: Request, world: WorldDep) -> JSON:
    body = await _json(request)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _invalid("name is required")
    tag = tag_named(world, name.strip(), create=True)
    assert tag is not None
    return tag


@router.post("/conversations/{conversation_id}/tags")
async def tag_conversation(conversation_id: str, request: Request, world: WorldDep) -> JSON:
    conversation = _conversation(world, conversation_id)
    body = await _json(request)
    tag = world.intercom.tags.get(str(body.get("id")))
    if tag is None:
        raise _not_found("Tag not found")
    apply_tag(world, conversation, tag, person(_admin(world, body.get("admin_id")), "admin"))
    return tag


@router.delete("/conversations/{conversation_id}/tags/{tag_id}")
async def untag_conversation(conversation_id: str, tag_id: str, request: Request, world: WorldDep) -> JSON:
    conversation = _conversation(world, conversation_id)
    body = await _json(request)
    _admin(world, body.get("admin_id"))
    tag = world.intercom.tags.get(tag_id)
    if tag is None or not remove_tag(world, conversation, tag_id):
        raise _not_found("Tag not found")
    return tag

"""Emulator of the Zendesk Support API v2, mounted at `/zendesk/api/v2` (DESIGN.md §4).

Users (matched or created by email), tickets with `external_id`, their comments (public and
private, one per update, with the audit's custom metadata), tags (`additional_tags` /
`remove_tags`), status and assignee, as Zendesk's API reference describes them: HTTP Basic with
`{email}/token` and an API token; error bodies `{"error", "description", "details"}` (401:
`{"error": "Couldn't authenticate you"}`); cursor pagination (`page[size]`, `page[after]`,
`meta.has_more` / `after_cursor`, `links.next`) or offset pagination (`next_page`, `count`); and
the plan's per-minute account limit (200, the Team plan, by default) announced in `X-Rate-Limit` /
`X-Rate-Limit-Remaining` (and `ratelimit-*`) on every answer, 429 + `Retry-After` beyond it.

Records are built only through `sandbox.zendesk_records`, which the control API's desk also uses.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from sandbox.http import VendorHTTPError, WorldDep, require_zendesk
from sandbox.vendors.gorgias import CallLimiter
from sandbox.world import JSON, World
from sandbox.zendesk_records import (
    STATUSES,
    add_comment,
    api_user,
    base_url,
    create_ticket,
    is_agent,
    new_user,
    unique_tags,
    user_by_email,
)

VENDOR = "zendesk"
LIMIT_HEADER = "X-Rate-Limit"
REMAINING_HEADER = "X-Rate-Limit-Remaining"
TEAM_PLAN_LIMIT = 200  # requests per minute
MAX_PAGE_SIZE = 100
DEFAULT_PER_PAGE = 100


# --------------------------------------------------------------------------- rate limit


def call_limiter(state: Any) -> CallLimiter:
    """The app's Zendesk account limiter (`app.state.zendesk_call_limiter`), made on first use;
    replace it to change the plan (e.g. a huge limit for evals)."""
    limiter: CallLimiter | None = getattr(state, "zendesk_call_limiter", None)
    if limiter is None:
        limiter = CallLimiter(limit=TEAM_PLAN_LIMIT, window_seconds=60.0)
        state.zendesk_call_limiter = limiter
    return limiter


def count_call(request: Request, world: WorldDep) -> None:
    limiter = call_limiter(request.app.state)
    used, wait = limiter.hit(world, world.credentials.zendesk_api_token)
    remaining = max(0, limiter.limit - used)
    request.state.zendesk_rate = {
        LIMIT_HEADER: str(limiter.limit),
        REMAINING_HEADER: str(remaining),
        "ratelimit-limit": str(limiter.limit),
        "ratelimit-remaining": str(remaining),
        "ratelimit-reset": str(math.ceil(limiter.window)),
    }
    if wait is not None:
        raise VendorHTTPError(
            VENDOR,
            429,
            "Number of allowed API requests per minute exceeded",
            headers={"Retry-After": str(math.ceil(wait)), **request.state.zendesk_rate},
        )


class _RateHeadersRoute(APIRoute):
    """Puts the rate-limit headers on every answer of an authenticated call, errors included."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_headers(request: Request) -> Response:
            try:
                response = await handler(request)
            except _Invalid as exc:
                response = JSONResponse(
                    {
                        "error": "RecordInvalid",
                        "description": "Record validation errors",
                        "details": exc.details,
                    },
                    status_code=422,
                )
            except VendorHTTPError as exc:
                rate = getattr(request.state, "zendesk_rate", None)
                if rate is not None:
                    exc.headers = {**rate, **(exc.headers or {})}
                raise
            rate = getattr(request.state, "zendesk_rate", None)
            if rate is not None:
                response.headers.update(rate)
            return response

        return with_headers


router = APIRouter(
    route_class=_RateHeadersRoute, dependencies=[Depends(require_zendesk), Depends(count_call)]
)


def _route(method: str, path: str, *, status_code: int = 200) -> Callable[[Any], Any]:
    """Register a route with and without `.json` (Zendesk serves both)."""

    def register(endpoint: Any) -> Any:
        router.add_api_route(path, endpoint, methods=[method], status_code=status_code)
        router.add_api_route(
            path + ".json", endpoint, methods=[method], status_code=status_code, include_in_schema=False
        )
        return endpoint

    return register


# --------------------------------------------------------------------------- errors and input


class _Invalid(VendorHTTPError):
    """422 RecordInvalid with Zendesk's per-field `details`."""

    def __init__(self, field: str, description: str, error: str = "InvalidValue") -> None:
        self.details = {field: [{"description": description, "error": error}]}
        super().__init__(VENDOR, 422, f"Record validation errors: {description}")


def _not_found() -> VendorHTTPError:
    return VendorHTTPError(VENDOR, 404, "Not found", code="RecordNotFound")


async def _json_object(request: Request, key: str) -> JSON:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        raise VendorHTTPError(VENDOR, 400, "Unprocessable JSON body", code="InvalidJSON") from None
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise VendorHTTPError(
            VENDOR, 400, f"Expected a JSON object with a {key!r} object", code="InvalidJSON"
        )
    item: JSON = body[key]
    return item


def _ticket_or_404(world: World, ticket_id: int) -> JSON:
    ticket = world.zendesk.tickets.get(ticket_id)
    if ticket is None:
        raise _not_found()
    return ticket


# --------------------------------------------------------------------------- pagination


def _cursor(value: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": value}).encode()).decode().rstrip("=")


def _offset(cursor: str) -> int:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["o"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise VendorHTTPError(VENDOR, 400, "Invalid cursor", code="InvalidPaginationParameter") from None
    if not isinstance(value, int) or value < 0:
        raise VendorHTTPError(VENDOR, 400, "Invalid cursor", code="InvalidPaginationParameter")
    return value


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise VendorHTTPError(VENDOR, 400, f"Invalid {name}", code="InvalidPaginationParameter")
    return int(raw)


def _page(request: Request, world: World, key: str, items: list[JSON]) -> JSON:
    """Cursor pagination when `page[size]` (or `page[after]`) is asked, offset pagination otherwise."""
    path = base_url(world) + request.url.path.split("/api/v2", 1)[-1]
    if "page[size]" in request.query_params or "page[after]" in request.query_params:
        size = _int_param(request, "page[size]", MAX_PAGE_SIZE)
        if size > MAX_PAGE_SIZE:
            raise VendorHTTPError(
                VENDOR, 400, f"page[size] must be at most {MAX_PAGE_SIZE}", code="InvalidPaginationParameter"
            )
        after = request.query_params.get("page[after]")
        start = _offset(after) if after else 0
        page = items[start : start + size]
        has_more = start + size < len(items)
        after_cursor = _cursor(start + size) if page else None
        before_cursor = _cursor(start) if page else None
        return {
            key: page,
            "meta": {"has_more": has_more, "after_cursor": after_cursor, "before_cursor": before_cursor},
            "links": {
                "next": f"{path}?page%5Bafter%5D={after_cursor}&page%5Bsize%5D={size}" if has_more else None,
                "prev": f"{path}?page%5Bbefore%5D={before_cursor}&page%5Bsize%5D={size}" if start else None,
            },
        }
    per_page = min(_int_param(request, "per_page", DEFAULT_PER_PAGE), MAX_PAGE_SIZE)
    number = _int_param(request, "page", 1)
    start = (number - 1) * per_page
    more = start + per_page < len(items)
    return {
        key: items[start : start + per_page],
        "next_page": f"{path}?page={number + 1}&per_page={per_page}" if more else None,
        "previous_page": f"{path}?page={number - 1}&per_page={per_page}" if number > 1 else None,
        "count": len(items),
    }


# --------------------------------------------------------------------------- users


@_route("GET", "/users/me")
async def show_me(world: WorldDep) -> JSON:
    return {"user": api_user(world)}


@_route("GET", "/users/search")
async def search_users(request: Request, world: WorldDep) -> JSON:
    """`query=email:someone@example.com` (or a bare email) finds that user."""
    query = (request.query_params.get("query") or "").strip()
    email = query.removeprefix("email:").strip().strip('"')
    found = user_by_email(world, email) if email else None
    return _page(request, world, "users", [found] if found else [])


@_route("GET", "/users/{user_id}")
async def show_user(user_id: int, world: WorldDep) -> JSON:
    user = world.zendesk.users.get(user_id)
    if user is None:
        raise _not_found()
    return {"user": user}


@_route("POST", "/users/create_or_update")
async def create_or_update_user(request: Request, response: Response, world: WorldDep) -> JSON:
    """Matches by email: updates the name of an existing user (200), creates an end user (201)."""
    body = await _json_object(request, "user")
    email = body.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise _Invalid("email", "Email: is invalid", "InvalidFormat")
    existing = user_by_email(world, email)
    if existing is not None:
        if isinstance(body.get("name"), str) and body["name"].strip() and existing.get("role") == "end-user":
            existing["name"] = body["name"].strip()
            existing["updated_at"] = world.now_iso()
        return {"user": existing}
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _Invalid("name", "Name: is too short (minimum one character)", "BlankValue")
    response.status_code = 201
    return {"user": new_user(world, email=email, name=name.strip())}


def _user(world: World, user_id: Any, field: str) -> JSON:
    user = world.zendesk.users.get(user_id) if isinstance(user_id, int) else None
    if user is None:
        raise _Invalid(field, f"{field}: is invalid")
    return user


# --------------------------------------------------------------------------- tickets


def _audit(world: World, ticket: JSON, author: JSON, custom: JSON | None) -> JSON:
    return {
        "id": world.new_int_id(),
        "ticket_id": ticket["id"],
        "created_at": world.now_iso(),
        "author_id": author["id"],
        "metadata": {"system": {}, "custom": dict(custom or {})},
        "events": [],
    }


@_route("GET", "/tickets")
async def list_tickets(request: Request, world: WorldDep) -> JSON:
    """Tickets by id; `external_id` lists only the tickets carrying it."""
    tickets = [world.zendesk.tickets[k] for k in sorted(world.zendesk.tickets)]
    external_id = request.query_params.get("external_id")
    if external_id is not None:
        tickets = [t for t in tickets if t.get("external_id") == external_id]
    return _page(request, world, "tickets", tickets)


@_route("GET", "/tickets/{ticket_id}")
async def show_ticket(ticket_id: int, world: WorldDep) -> JSON:
    return {"ticket": _ticket_or_404(world, ticket_id)}


def _metadata(body: JSON) -> JSON | None:
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise _Invalid("metadata", "Metadata: must be an object")
    if metadata is not None and len(json.dumps(metadata)) > 1024:
        raise _Invalid("metadata", "Metadata: is too large (1 kilobyte at most)")
    return metadata


def _comment_input(body: JSON) -> JSON | None:
    comment = body.get("comment")
    if comment is None:
        return None
    if (
        not isinstance(comment, dict)
        or not str(comment.get("body") or comment.get("html_body") or "").strip()
    ):
        raise _Invalid("comment", "Comment: body cannot be blank", "BlankValue")
    return comment


def _status(value: Any) -> str:
    if value not in STATUSES or value == "closed":
        raise _Invalid("status", f"Status: {value!r} is not a valid status")
    return str(value)


@_route("POST", "/tickets", status_code=201)
async def create(request: Request, world: WorldDep) -> JSON:
    body = await _json_object(request, "ticket")
    comment = _comment_input(body)
    if comment is None:
        raise _Invalid("description", "Description: cannot be blank", "BlankValue")
    submitter = api_user(world)
    if body.get("requester_id") is not None:
        requester = _user(world, body["requester_id"], "requester")
    elif isinstance(body.get("requester"), dict) and body["requester"].get("email"):
        ref = body["requester"]
        requester = user_by_email(world, str(ref["email"])) or new_user(
            world, email=str(ref["email"]), name=str(ref.get("name") or ref["email"]).strip()
        )
    else:
        requester = submitter  # Zendesk makes the caller the requester
    assignee_id = body.get("assignee_id")
    if assignee_id is not None and not is_agent(_user(world, assignee_id, "assignee")):
        raise _Invalid("assignee", "Assignee: is not an agent")
    tags = body.get("tags") or []
    if not isinstance(tags, list):
        raise _Invalid("tags", "Tags: must be a list")
    external_id = body.get("external_id")
    source_id = body.get("via_followup_source_id")
    source: JSON | None = None
    if source_id is not None:
        source = world.zendesk.tickets.get(source_id) if isinstance(source_id, int) else None
        if source is None or source["status"] != "closed":
            raise _Invalid("via_followup_source_id", "Via followup source: must be a closed ticket")
    metadata = _metadata(body)  # checked before anything is made
    ticket = create_ticket(
        world,
        requester=requester,
        submitter=submitter,
        subject=str(body.get("subject") or "")[:255] or str(comment.get("body"))[:50],
        tags=[str(t) for t in tags],
        external_id=str(external_id) if external_id is not None else None,
        status=_status(body["status"]) if body.get("status") is not None else None,
        assignee_id=assignee_id,
        channel="api",
    )
    if source is not None:
        ticket["via"] = {
            "channel": "api",
            "source": {
                "from": {"ticket_id": source["id"], "subject": source.get("subject")},
                "to": {},
                "rel": "follow_up",
            },
        }
    author = (
        _user(world, comment["author_id"], "author") if comment.get("author_id") is not None else submitter
    )
    initial = ticket["status"]
    first = add_comment(
        world,
        ticket,
        author=author,
        body=str(comment.get("body") or comment.get("html_body")),
        public=bool(comment.get("public", True)),
        channel="api",
        custom=metadata,
    )
    ticket["status"] = initial  # the opening comment is the ticket's description: it stays new
    ticket["description"] = first["body"]
    return {"ticket": ticket, "audit": _audit(world, ticket, submitter, metadata)}


@_route("PUT", "/tickets/{ticket_id}")
async def update(ticket_id: int, request: Request, world: WorldDep) -> JSON:
    ticket = _ticket_or_404(world, ticket_id)
    body = await _json_object(request, "ticket")
    if ticket["status"] == "closed":
        raise _Invalid("status", "Status: closed prevents ticket update")
    caller = api_user(world)
    metadata = _metadata(body)
    comment = _comment_input(body)
    if comment is not None:
        author = (
            _user(world, comment["author_id"], "author") if comment.get("author_id") is not None else caller
        )
        add_comment(
            world,
            ticket,
            author=author,
            body=str(comment.get("body") or comment.get("html_body")),
            public=bool(comment.get("public", True)),
            channel="api",
            custom=metadata,
        )
    if isinstance(body.get("tags"), list):
        ticket["tags"] = unique_tags([str(t) for t in body["tags"]])
    if isinstance(body.get("additional_tags"), list):
        ticket["tags"] = unique_tags([str(t) for t in body["additional_tags"]], ticket["tags"])
    if isinstance(body.get("remove_tags"), list):
        unwanted = set(unique_tags([str(t) for t in body["remove_tags"]]))
        ticket["tags"] = [t for t in ticket["tags"] if t not in unwanted]
    if body.get("assignee_id") is not None:
        if not is_agent(_user(world, body["assignee_id"], "assignee")):
            raise _Invalid("assignee", "Assignee: is not an agent")
        ticket["assignee_id"] = body["assignee_id"]
    if body.get("status") is not None:
        ticket["status"] = _status(body["status"])
    ticket["updated_at"] = world.now_iso()
    return {"ticket": ticket, "audit": _audit(world, ticket, caller, metadata)}


@_route("GET", "/tickets/{ticket_id}/comments")
async def list_comments(ticket_id: int, request: Request, world: WorldDep) -> JSON:
    _ticket_or_404(world, ticket_id)
    return _page(request, world, "comments", list(world.zendesk.comments.get(ticket_id, [])))

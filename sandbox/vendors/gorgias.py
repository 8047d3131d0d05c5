"""Emulator of the Gorgias REST API, mounted at `/gorgias/api` (DESIGN.md §4).

Customers, tickets with their messages, tags, assignment and helpdesk users, behaving like the
real API as the fixtures README describes it: HTTP Basic auth, cursor-paginated lists
(`{"data", "object", "uri", "meta": {"prev_cursor", "next_cursor"}}`), Gorgias-shaped error
bodies, and the account rate limit (40 calls per 20 s per API key) with its
`X-Gorgias-Account-Api-Call-Limit` header and 429 + `Retry-After`.

Tickets and messages are built only through `sandbox.helpdesk`, which the control API also uses
when a person plays the human agent, so both produce the same records.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
import weakref
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from sandbox.helpdesk import add_message, create_ticket, find_ticket, tag_objects
from sandbox.http import VendorHTTPError, WorldDep, require_gorgias
from sandbox.world import JSON, World

VENDOR = "gorgias"
CALL_LIMIT_HEADER = "X-Gorgias-Account-Api-Call-Limit"
DEFAULT_LIMIT = 30
MAX_LIMIT = 100
STATUSES = ("open", "closed")
MISSING = "Missing data for required field."
# Message channels Gorgias knows; a typo such as `internal_note` must fail loudly, not post publicly.
CHANNELS = frozenset(
    {
        "aircall", "api", "chat", "contact_form", "email", "facebook", "facebook-mention",
        "facebook-messenger", "facebook-recommendations", "help-center", "instagram-ad-comment",
        "instagram-comment", "instagram-direct-message", "instagram-mention", "internal-note", "phone",
        "sms", "twitter", "twitter-direct-message", "whatsapp", "yotpo-review",
    }
)  # fmt: skip


# --------------------------------------------------------------------------- rate limit


class CallLimiter:
    """40 calls per 20 seconds per API key, on the real monotonic clock (not the world's clock).

    Rate limiting is about wall time, not business state, so it lives in the app, not the World.
    A different World object (a reset, another test's world) is another account: a fresh budget.
    Replace `app.state.gorgias_call_limiter` to change the limits (e.g. a huge one for evals).
    """

    def __init__(
        self, limit: int = 40, window_seconds: float = 20.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._calls: dict[str, deque[float]] = {}
        self._world: weakref.ref[World] | None = None
        # 429s served since this limiter was made; never reset with the world, so a benchmark can
        # tell whether a client spent the budget deliberately (one 429 at most) or kept hammering.
        self.rejected = 0

    def hit(self, world: World, api_key: str) -> tuple[int, float | None]:
        """Count a call: `(calls in the window, None)`, or `(limit, seconds to wait)` when over."""
        if self._world is None or self._world() is not world:
            self._world = weakref.ref(world)
            self._calls.clear()
        now = self._clock()
        calls = self._calls.setdefault(api_key, deque())
        while calls and calls[0] <= now - self.window:
            calls.popleft()
        if len(calls) >= self.limit:
            self.rejected += 1
            return self.limit, max(1.0, calls[0] + self.window - now)
        calls.append(now)
        return len(calls), None

    def usage(self, world: World, api_key: str) -> int:
        """Calls counted in the current window for this key (0 for another world's account)."""
        if self._world is None or self._world() is not world:
            return 0
        now = self._clock()
        return sum(1 for at in self._calls.get(api_key, ()) if at > now - self.window)


def call_limiter(state: Any) -> CallLimiter:
    """The app's Gorgias call limiter (`app.state`), made on first use."""
    limiter: CallLimiter | None = getattr(state, "gorgias_call_limiter", None)
    if limiter is None:
        limiter = CallLimiter()
        state.gorgias_call_limiter = limiter
    return limiter


def count_call(request: Request, world: WorldDep) -> None:
    """Spend one call of the account's budget (runs after the credentials are checked)."""
    limiter = call_limiter(request.app.state)
    used, wait = limiter.hit(world, world.credentials.gorgias_api_key)
    usage = f"{used}/{limiter.limit}"
    request.state.gorgias_call_limit = usage
    if wait is not None:
        raise VendorHTTPError(
            VENDOR,
            429,
            "Too many requests: the account's API call limit is reached. Retry later.",
            headers={"Retry-After": str(math.ceil(wait)), CALL_LIMIT_HEADER: usage},
        )


class _CallLimitRoute(APIRoute):
    """Puts the call-limit header on every answer of an authenticated call, errors included."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_call_limit(request: Request) -> Response:
            try:
                response = await handler(request)
            except _Invalid as exc:
                # Rendered here: the app's generic handler would drop the per-field `data`.
                response = JSONResponse(
                    {"error": {"msg": "Validation error", "data": exc.data}, "message": exc.message},
                    status_code=400,
                )
            except VendorHTTPError as exc:
                usage = getattr(request.state, "gorgias_call_limit", None)
                if usage is not None:
                    exc.headers = {CALL_LIMIT_HEADER: usage, **(exc.headers or {})}
                raise
            usage = getattr(request.state, "gorgias_call_limit", None)
            if usage is not None:
                response.headers[CALL_LIMIT_HEADER] = usage
            return response

        return with_call_limit


router = APIRouter(route_class=_CallLimitRoute, dependencies=[Depends(require_gorgias), Depends(count_call)])


def _route(method: str, path: str, *, status_code: int = 200) -> Callable[[Any], Any]:
    """Register a route with and without the trailing slash (the 2016 spec's paths end in `/`)."""

    def register(endpoint: Any) -> Any:
        router.add_api_route(path, endpoint, methods=[method], status_code=status_code)
        router.add_api_route(
            path + "/", endpoint, methods=[method], status_code=status_code, include_in_schema=False
        )
        return endpoint

    return register


# --------------------------------------------------------------------------- errors and input


def _not_found(what: str) -> VendorHTTPError:
    return VendorHTTPError(VENDOR, 404, f"{what} not found.")


class _Invalid(VendorHTTPError):
    """A Gorgias validation error: 400 naming each bad field, as `{"error": {"msg", "data"}}`."""

    def __init__(self, data: JSON) -> None:
        self.data = data
        super().__init__(VENDOR, 400, f"Validation error: {_describe(data)}")


def _describe(data: Any, prefix: str = "") -> str:
    if isinstance(data, dict):
        return "; ".join(
            _describe(value, f"{prefix}{key}." if prefix or key else "") for key, value in data.items()
        )
    text = " ".join(str(v) for v in data) if isinstance(data, list) else str(data)
    return f"{prefix.rstrip('.')}: {text}"


async def _json_object(request: Request) -> JSON:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        raise _Invalid({"_schema": ["Invalid JSON body."]}) from None
    if not isinstance(body, dict):
        raise _Invalid({"_schema": ["Invalid input type: expected an object."]})
    return body


def _query_int(request: Request, name: str, default: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise _Invalid({name: ["Not a valid integer."]}) from None


# --------------------------------------------------------------------------- pagination


def _encode_cursor(direction: str, key: int) -> str:
    raw = json.dumps({"d": direction, "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        direction, key = data["d"], data["k"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise _Invalid({"cursor": ["Invalid cursor."]}) from None
    if direction not in ("next", "prev") or not isinstance(key, int):
        raise _Invalid({"cursor": ["Invalid cursor."]})
    return direction, key


def _paginate(request: Request, items: list[JSON], *, descending: bool) -> JSON:
    """One page of `items` (already in the endpoint's order, keyed by `id`), as Gorgias lists them."""
    limit = _query_int(request, "limit", DEFAULT_LIMIT)
    assert limit is not None
    if not 1 <= limit <= MAX_LIMIT:
        raise _Invalid(
            {"limit": [f"Must be greater than or equal to 1 and less than or equal to {MAX_LIMIT}."]}
        )

    def beyond(item: JSON, key: int) -> bool:  # comes after `key` in this list's order
        return bool(item["id"] < key) if descending else bool(item["id"] > key)

    cursor = request.query_params.get("cursor")
    if cursor:
        direction, key = _decode_cursor(cursor)
        if direction == "next":
            start = next((i for i, item in enumerate(items) if beyond(item, key)), len(items))
        else:
            before = [i for i, item in enumerate(items) if item["id"] != key and not beyond(item, key)]
            start = max(0, (before[-1] + 1 if before else 0) - limit)
    else:
        start = 0
    page = items[start : start + limit]
    more_after = start + limit < len(items)
    query = request.url.query
    return {
        "data": page,
        "object": "list",
        "uri": request.url.path + (f"?{query}" if query else ""),
        "meta": {
            "prev_cursor": _encode_cursor("prev", page[0]["id"]) if page and start > 0 else None,
            "next_cursor": _encode_cursor("next", page[-1]["id"]) if page and more_after else None,
        },
    }


# --------------------------------------------------------------------------- people


def _person(record: JSON) -> JSON:
    return {"id": record.get("id"), "email": record.get("email"), "name": record.get("name")}


def _customer_by_email(world: World, email: str) -> JSON | None:
    wanted = email.strip().lower()
    for customer in world.gorgias.customers.values():
        addresses = [customer.get("email") or ""] + [
            c.get("address", "") for c in customer.get("channels") or [] if c.get("type") == "email"
        ]
        if any(address.strip().lower() == wanted for address in addresses):
            return customer
    return None


def _new_customer(world: World, *, email: str | None, name: str | None, body: JSON) -> JSON:
    customer_id = world.new_int_id()
    firstname = body.get("firstname")
    lastname = body.get("lastname")
    if name and not (firstname or lastname):
        firstname, _, lastname = name.partition(" ")
    channels = body.get("channels") or ([{"type": "email", "address": email}] if email else [])
    customer: JSON = {
        "id": customer_id,
        "uri": f"/api/customers/{customer_id}/",
        "email": email,
        "name": name or " ".join(p for p in (firstname, lastname) if p) or None,
        "firstname": firstname or None,
        "lastname": lastname or None,
        "channels": [{"type": c["type"], "address": c["address"]} for c in channels],
        "external_id": body.get("external_id"),
        "created_datetime": world.now_iso(),
        "updated_datetime": world.now_iso(),
    }
    world.gorgias.customers[customer_id] = customer
    return customer


def _resolve_customer(world: World, ref: Any, field: str) -> JSON:
    """A customer from `{"id"}` (must exist) or `{"email"}` (created when unknown, as Gorgias does)."""
    if not isinstance(ref, dict):
        raise _Invalid({field: ["Invalid input type: expected an object with id or email."]})
    if ref.get("id") is not None:
        customer = world.gorgias.customers.get(ref["id"]) if isinstance(ref["id"], int) else None
        if customer is None:
            raise _Invalid({field: {"id": ["Customer does not exist."]}})
        return customer
    email = ref.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise _Invalid({field: {"email": [MISSING]}})
    return _customer_by_email(world, email) or _new_customer(
        world, email=email, name=ref.get("name"), body={}
    )


def _resolve_user(world: World, ref: Any, field: str) -> JSON:
    if not isinstance(ref, dict) or (ref.get("id") is None and not ref.get("email")):
        raise _Invalid({field: ["Invalid input type: expected an object with id or email."]})
    for user in world.gorgias.users.values():
        if user["id"] == ref.get("id") or (ref.get("email") and user.get("email") == ref.get("email")):
            return user
    raise _Invalid({field: ["User does not exist."]})


def _api_user(world: World) -> JSON:
    """The user the API key belongs to: who sends `from_agent` messages that name no sender."""
    email = world.credentials.gorgias_email
    for user in world.gorgias.users.values():
        if user.get("email") == email:
            return user
    return {"id": None, "email": email, "name": "API user"}


# --------------------------------------------------------------------------- messages


def _check_message(world: World, body: Any) -> JSON:
    """Field errors of one message payload (empty when valid), found before anything is stored."""
    if not isinstance(body, dict):
        return {"_schema": ["Invalid input type: expected an object."]}
    errors: JSON = {}
    channel = body.get("channel")
    if not isinstance(channel, str) or not channel:
        errors["channel"] = [MISSING]
    elif channel not in CHANNELS:
        errors["channel"] = [f"Must be one of: {', '.join(sorted(CHANNELS))}."]
    if not isinstance(body.get("via"), str) or not body.get("via"):
        errors["via"] = [MISSING]
    if not isinstance(body.get("from_agent"), bool):
        errors["from_agent"] = [MISSING if body.get("from_agent") is None else "Not a valid boolean."]
    if not isinstance(body.get("body_text"), str) and not isinstance(body.get("body_html"), str):
        errors["body_text"] = ["One of body_text or body_html is required."]
    for party in ("sender", "receiver"):
        ref = body.get(party)
        if ref is None:
            continue
        if not isinstance(ref, dict):
            errors[party] = ["Invalid input type: expected an object."]
        elif (party == "sender") != (body.get("from_agent") is True) and not _is_customer_ref(world, ref):
            errors[party] = ["Expected an existing customer id or an email address."]
    return errors


def _is_customer_ref(world: World, ref: JSON) -> bool:
    """Whether `_resolve_customer` will accept `ref` (checked up front so nothing half-happens)."""
    if ref.get("id") is not None:
        return isinstance(ref["id"], int) and ref["id"] in world.gorgias.customers
    return isinstance(ref.get("email"), str) and "@" in ref["email"]


def _store_message(world: World, ticket: JSON, body: JSON, customer: JSON) -> JSON:
    """Resolve sender and receiver, then append the (already checked) message to the ticket."""
    from_agent: bool = body["from_agent"]
    note = body["channel"] == "internal-note"
    if from_agent:
        sender_ref = body.get("sender")
        sender = _person(_agent_or_given(world, sender_ref) if sender_ref else _api_user(world))
        receiver_ref = body.get("receiver")
        receiver = (
            None
            if note
            else _person(_resolve_customer(world, receiver_ref, "receiver") if receiver_ref else customer)
        )
    else:
        sender_ref = body.get("sender")
        sender = _person(_resolve_customer(world, sender_ref, "sender") if sender_ref else customer)
        receiver = None
    text = body.get("body_text")
    if not isinstance(text, str):
        text = str(body.get("body_html") or "")
    external_id = body.get("external_id")
    return add_message(
        world,
        ticket,
        body_text=text,
        channel=body["channel"],
        via=body["via"],
        from_agent=from_agent,
        sender=sender,
        body_html=body.get("body_html") if isinstance(body.get("body_html"), str) else None,
        public=body.get("public") if isinstance(body.get("public"), bool) else None,
        receiver=receiver,
        external_id=str(external_id) if external_id is not None else None,
    )


def _agent_or_given(world: World, ref: JSON) -> JSON:
    for user in world.gorgias.users.values():
        if user["id"] == ref.get("id") or (ref.get("email") and user.get("email") == ref.get("email")):
            return user
    return {"id": ref.get("id"), "email": ref.get("email"), "name": ref.get("name")}


# --------------------------------------------------------------------------- customers


@_route("GET", "/customers")
async def list_customers(request: Request, world: WorldDep) -> JSON:
    customers = sorted(world.gorgias.customers.values(), key=lambda c: c["id"])
    email = request.query_params.get("email")
    if email:
        match = _customer_by_email(world, email)
        customers = [match] if match is not None else []
    external_id = request.query_params.get("external_id")
    if external_id:
        customers = [c for c in customers if str(c.get("external_id")) == external_id]
    return _paginate(request, customers, descending=False)


@_route("POST", "/customers", status_code=201)
async def create_customer(request: Request, world: WorldDep) -> JSON:
    body = await _json_object(request)
    channels = body.get("channels")
    if channels is not None and (
        not isinstance(channels, list)
        or not all(isinstance(c, dict) and c.get("type") and c.get("address") for c in channels)
    ):
        raise _Invalid({"channels": ["Each channel needs a type and an address."]})
    email = body.get("email")
    if email is None:
        email = next((c["address"] for c in channels or [] if c["type"] == "email"), None)
    if email is None and not channels:
        raise _Invalid({"email": ["An email or a channel is required."]})
    if email is not None and (not isinstance(email, str) or "@" not in email):
        raise _Invalid({"email": ["Not a valid email address."]})
    if email is not None and _customer_by_email(world, email) is not None:
        # Gorgias answers a duplicate email with 409 Conflict (its reference), not a validation error.
        raise VendorHTTPError(VENDOR, 409, "A customer with this email address already exists.")
    name = body.get("name") if isinstance(body.get("name"), str) else None
    return _new_customer(world, email=email, name=name, body=body)


@_route("GET", "/customers/{customer_id}")
async def get_customer(customer_id: int, world: WorldDep) -> JSON:
    customer = world.gorgias.customers.get(customer_id)
    if customer is None:
        raise _not_found("Customer")
    return customer


# --------------------------------------------------------------------------- users


@_route("GET", "/users")
async def list_users(request: Request, world: WorldDep) -> JSON:
    return _paginate(request, sorted(world.gorgias.users.values(), key=lambda u: u["id"]), descending=False)


# --------------------------------------------------------------------------- tickets


def _ticket_or_404(world: World, ticket_id: int) -> JSON:
    ticket = find_ticket(world, ticket_id)
    if ticket is None:
        raise _not_found("Ticket")
    return ticket


def _tag_names(value: Any, field: str = "tags") -> list[str]:
    if not isinstance(value, list) or not all(
        isinstance(t, dict) and isinstance(t.get("name"), str) and t["name"].strip() for t in value
    ):
        raise _Invalid({field: ['Expected a list of tags such as [{"name": "refund"}].']})
    return [t["name"].strip() for t in value]


def _set_status(world: World, ticket: JSON, status: Any) -> None:
    if status not in STATUSES:
        raise _Invalid({"status": [f"Must be one of: {', '.join(STATUSES)}."]})
    if status != ticket["status"]:
        ticket["status"] = status
        ticket["closed_datetime"] = world.now_iso() if status == "closed" else None


def _listed(ticket: JSON) -> JSON:
    # Ticket lists leave the messages out; GET /tickets/{id} has them.
    return {key: value for key, value in ticket.items() if key != "messages"}


@_route("GET", "/tickets")
async def list_tickets(request: Request, world: WorldDep) -> JSON:
    tickets = sorted(world.gorgias.tickets.values(), key=lambda t: t["id"], reverse=True)
    external_id = request.query_params.get("external_id")
    if external_id is not None:
        tickets = [
            t for t in tickets if t.get("external_id") is not None and str(t["external_id"]) == external_id
        ]
    customer_id = _query_int(request, "customer_id")
    if customer_id is not None:
        tickets = [t for t in tickets if (t.get("customer") or {}).get("id") == customer_id]
    email = request.query_params.get("customer_email")
    if email:
        customer = _customer_by_email(world, email)
        wanted = customer["id"] if customer else None
        tickets = [t for t in tickets if wanted is not None and (t.get("customer") or {}).get("id") == wanted]
    return _paginate(request, [_listed(t) for t in tickets], descending=True)


@_route("POST", "/tickets", status_code=201)
async def create_ticket_route(request: Request, world: WorldDep) -> JSON:
    body = await _json_object(request)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _Invalid(
            {"messages": [MISSING if messages is None else "A ticket needs at least one message."]}
        )
    errors = {str(i): e for i, m in enumerate(messages) if (e := _check_message(world, m))}
    if errors:
        raise _Invalid({"messages": errors})
    status = body.get("status", "open")
    if status not in STATUSES:
        raise _Invalid({"status": [f"Must be one of: {', '.join(STATUSES)}."]})
    tags = _tag_names(body["tags"]) if body.get("tags") is not None else []
    channel = body.get("channel") or messages[0]["channel"]
    if channel not in CHANNELS:
        raise _Invalid({"channel": [f"Must be one of: {', '.join(sorted(CHANNELS))}."]})
    assignee = (
        _resolve_user(world, body["assignee_user"], "assignee_user") if body.get("assignee_user") else None
    )

    customer_ref = body.get("customer")
    if customer_ref is None:
        # As Gorgias: without a customer, the sender of the first customer message is the customer.
        customer_ref = next(
            (m.get("sender") for m in messages if not m["from_agent"] and m.get("sender")), None
        )
        if customer_ref is None:
            raise _Invalid({"customer": [MISSING]})
    customer = _resolve_customer(world, customer_ref, "customer")
    external_id = body.get("external_id")
    via = body.get("via")
    ticket = create_ticket(
        world,
        customer=customer,
        subject=body.get("subject") if isinstance(body.get("subject"), str) else None,
        channel=channel,
        via=via if isinstance(via, str) and via else "api",
        tags=tags,
        external_id=str(external_id) if external_id is not None else None,
        status=status,
    )
    if status == "closed":
        ticket["closed_datetime"] = world.now_iso()
    if assignee is not None:
        ticket["assignee_user"] = _person(assignee)
    for message in messages:
        _store_message(world, ticket, message, customer)
    return ticket


@_route("GET", "/tickets/{ticket_id}")
async def get_ticket(ticket_id: int, world: WorldDep) -> JSON:
    return _ticket_or_404(world, ticket_id)


@_route("PUT", "/tickets/{ticket_id}")
async def update_ticket(ticket_id: int, request: Request, world: WorldDep) -> JSON:
    ticket = _ticket_or_404(world, ticket_id)
    body = await _json_object(request)
    # Check everything before changing anything: a rejected update leaves the ticket as it was.
    tags = _tag_names(body["tags"]) if "tags" in body else None
    if "status" in body and body["status"] not in STATUSES:
        raise _Invalid({"status": [f"Must be one of: {', '.join(STATUSES)}."]})
    assignee: JSON | None = None
    if body.get("assignee_user") is not None:
        assignee = _resolve_user(world, body["assignee_user"], "assignee_user")
    if "subject" in body and not isinstance(body["subject"], str):
        raise _Invalid({"subject": ["Not a valid string."]})

    if tags is not None:
        # Replace the list; tags kept by name keep their ids.
        existing = {tag["name"]: tag for tag in ticket.get("tags", [])}
        ticket["tags"] = [existing.get(name) or tag_objects([name])[0] for name in dict.fromkeys(tags)]
    if "status" in body:
        _set_status(world, ticket, body["status"])
    if "assignee_user" in body:
        ticket["assignee_user"] = _person(assignee) if assignee is not None else None
    if "subject" in body:
        ticket["subject"] = body["subject"]
    if "external_id" in body:
        ticket["external_id"] = None if body["external_id"] is None else str(body["external_id"])
    ticket["updated_datetime"] = world.now_iso()
    return ticket


@_route("GET", "/tickets/{ticket_id}/messages")
async def list_messages(ticket_id: int, request: Request, world: WorldDep) -> JSON:
    ticket = _ticket_or_404(world, ticket_id)
    messages = sorted(ticket.get("messages", []), key=lambda m: m["id"])
    return _paginate(request, messages, descending=False)


@_route("POST", "/tickets/{ticket_id}/messages", status_code=201)
async def create_message(ticket_id: int, request: Request, world: WorldDep) -> JSON:
    ticket = _ticket_or_404(world, ticket_id)
    body = await _json_object(request)
    errors = _check_message(world, body)
    if errors:
        raise _Invalid(errors)
    customer = (
        world.gorgias.customers.get((ticket.get("customer") or {}).get("id") or -1) or ticket["customer"]
    )
    message = _store_message(world, ticket, body, customer)
    if not message["from_agent"] and ticket["status"] == "closed":
        # A shopper writing on a closed ticket reopens it, as in Gorgias.
        _set_status(world, ticket, "open")
    return message

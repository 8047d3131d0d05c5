"""Gorgias helpdesk client: customers, tickets, messages, tags and assignment.

Handed an `httpx.AsyncClient` it did not create (see `gorgias_http_client`), so the same code
talks to Gorgias, the in-process sandbox, a `MockTransport` or a recorded cassette.

Retries: reads are retried under the shared policy. Writes are retried only when repeating them
is safe: `update_ticket` sets absolute values, and the creating calls re-read before they write
(customer by email, ticket by `external_id`, message by `external_id`) on every attempt, so a
write that succeeded before a timeout is found instead of repeated.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying

from integrations._http import (
    NotFound,
    RetryPolicyFactory,
    VendorError,
    build_async_client,
    request_json,
    with_retries,
)
from integrations.budget import CallBudget, used_of_allowed
from integrations.gorgias.models import (
    GorgiasCustomer,
    GorgiasMessage,
    GorgiasTicket,
    GorgiasUser,
    NewMessage,
)

VENDOR = "gorgias"
AUTH_SETTING = "GORGIAS_API_KEY"
CALL_LIMIT_HEADER = "X-Gorgias-Account-Api-Call-Limit"
DEFAULT_PAGE_SIZE = 30
MAX_PAGE_SIZE = 100
CONFLICT = 409  # creating a customer whose email exists
CALL_BUDGET = CallBudget(limit=40, window_seconds=20.0, read_usage=used_of_allowed(CALL_LIMIT_HEADER))
"""Gorgias's documented account limit: 40 calls per 20 s per API key (a larger plan's is announced)."""

logger = logging.getLogger("integrations.gorgias")

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def gorgias_http_client(
    base_url: str, email: str, api_key: str, *, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The HTTP client for one Gorgias account.

    `base_url` is `https://<domain>.gorgias.com/api` or `<sandbox>/gorgias/api`; authentication
    is HTTP Basic with the user's email and REST API key.
    """
    return build_async_client(
        base_url.rstrip("/") + "/",
        headers={"Accept": "application/json"},
        auth=(email, api_key),
        transport=transport,
    )


def _parse(model: type[M], body: Any, what: str) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        # Field names only: the values may hold customer data.
        fields = sorted({".".join(str(p) for p in error["loc"]) for error in exc.errors()})[:5]
        raise VendorError(VENDOR, f"unexpected {what} shape (fields: {', '.join(fields)})") from None


def _page_items(body: Any, what: str) -> tuple[list[Any], str | None]:
    """`(data, next_cursor)` of a cursor-paginated list response."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise VendorError(VENDOR, f"unexpected {what} list shape (no data array)")
    meta = body.get("meta")
    next_cursor = meta.get("next_cursor") if isinstance(meta, dict) else None
    return body["data"], (str(next_cursor) if next_cursor else None)


class GorgiasClient:
    """Async Gorgias REST client. Raises only the typed errors of `integrations._http`."""

    def __init__(self, http: httpx.AsyncClient, *, retry_policy: RetryPolicyFactory | None = None) -> None:
        self._http = http
        self._retry_policy = retry_policy
        self.call_limit: tuple[int, int] | None = None
        """The last `X-Gorgias-Account-Api-Call-Limit` seen: (calls used, calls allowed)."""

    # ------------------------------------------------------------------ plumbing

    def _policy(self) -> AsyncRetrying | None:
        return self._retry_policy() if self._retry_policy is not None else None

    async def _call(self, method: str, path: str, *, retry: bool, **kwargs: Any) -> Any:
        """One request; retried under the policy only when `retry` (reads, absolute updates)."""
        body, response = await request_json(
            self._http,
            VENDOR,
            method,
            path,
            auth_setting=AUTH_SETTING,
            idempotent=retry,
            policy=self._policy() if retry else None,
            **kwargs,
        )
        self._note_call_limit(response)
        return body

    def _note_call_limit(self, response: httpx.Response) -> None:
        used, _, allowed = response.headers.get(CALL_LIMIT_HEADER, "").partition("/")
        if used.isdigit() and allowed.isdigit():
            self.call_limit = (int(used), int(allowed))
            if int(used) >= int(allowed) - 2:
                logger.warning("gorgias API call budget nearly used: %s/%s", used, allowed)

    async def _safely_repeated(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Retry a whole read-then-write operation: each attempt re-reads before writing."""
        return await with_retries(attempt, idempotent=True, policy=self._policy())

    async def _pages(
        self, path: str, params: dict[str, Any], *, retry_inner: bool = True
    ) -> AsyncIterator[list[Any]]:
        """Each page's `data`, following `meta.next_cursor` until the last page."""
        query = dict(params)
        while True:
            body = await self._call("GET", path, retry=retry_inner, params=query)
            items, cursor = _page_items(body, path)
            yield items
            if cursor is None or not items:
                return
            query = {**params, "cursor": cursor}

    # ------------------------------------------------------------------ customers

    async def find_customer(self, email: str) -> GorgiasCustomer | None:
        """The customer reachable at `email`, if Gorgias has one."""
        return await self._find_customer(email, retry=True)

    async def _find_customer(self, email: str, *, retry: bool) -> GorgiasCustomer | None:
        body = await self._call("GET", "customers", retry=retry, params={"email": email, "limit": 10})
        items, _ = _page_items(body, "customers")
        for item in items:
            customer = _parse(GorgiasCustomer, item, "customer")
            # The filter is the API's; the exact match is ours, so a fuzzy search can't mix people up.
            if customer.has_email(email):
                return customer
        return None

    async def get_or_create_customer(self, email: str, name: str | None = None) -> GorgiasCustomer:
        """The customer with this email, created (with an email channel) when Gorgias has none.

        Another process (or Gorgias's own Shopify sync) may create the customer between the lookup
        and the create: Gorgias then answers 409 Conflict, and the existing customer is used.
        """

        async def attempt() -> GorgiasCustomer:
            found = await self._find_customer(email, retry=False)
            if found is not None:
                return found
            payload: dict[str, Any] = {"email": email, "channels": [{"type": "email", "address": email}]}
            if name:
                payload["name"] = name
            try:
                body = await self._call("POST", "customers", retry=False, json=payload)
            except VendorError as exc:
                if exc.status != CONFLICT:
                    raise
                existing = await self._find_customer(email, retry=False)
                if existing is None:
                    raise
                return existing
            return _parse(GorgiasCustomer, body, "customer")

        return await self._safely_repeated(attempt)

    # ------------------------------------------------------------------ users

    async def list_users(self) -> list[GorgiasUser]:
        """Every helpdesk user (agent) of the account."""
        users: list[GorgiasUser] = []
        async for page in self._pages("users", {"limit": MAX_PAGE_SIZE}):
            users.extend(_parse(GorgiasUser, item, "user") for item in page)
        return users

    async def find_user_by_email(self, email: str) -> GorgiasUser:
        """The helpdesk user with this email; `NotFound` when there is none."""
        wanted = email.strip().lower()
        for user in await self.list_users():
            if (user.email or "").strip().lower() == wanted:
                return user
        raise NotFound(VENDOR, "no helpdesk user with that email", status=404)

    # ------------------------------------------------------------------ tickets

    async def get_ticket(self, ticket_id: int) -> GorgiasTicket:
        """The ticket with its messages."""
        return await self._get_ticket(ticket_id, retry=True)

    async def _get_ticket(self, ticket_id: int, *, retry: bool) -> GorgiasTicket:
        body = await self._call("GET", f"tickets/{ticket_id}", retry=retry)
        return _parse(GorgiasTicket, body, "ticket")

    async def list_tickets(
        self,
        *,
        customer_email: str | None = None,
        external_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        max_items: int | None = None,
    ) -> AsyncIterator[GorgiasTicket]:
        """Tickets, newest first, page by page (`limit` per page, as Gorgias's own parameter).

        `customer_email` is resolved to the customer's id first (the API filters by id); no
        customer means no tickets. Stops after `max_items` when given.
        """
        params: dict[str, Any] = {"limit": max(1, min(limit, MAX_PAGE_SIZE))}
        if external_id is not None:
            params["external_id"] = external_id
        if customer_email is not None:
            customer = await self.find_customer(customer_email)
            if customer is None:
                return
            params["customer_id"] = customer.id
        yielded = 0
        async for page in self._pages("tickets", params):
            for item in page:
                if max_items is not None and yielded >= max_items:
                    return
                ticket = _parse(GorgiasTicket, item, "ticket")
                if external_id is not None and ticket.external_id != external_id:
                    continue  # the filter is the API's; the exact match is ours
                yield ticket
                yielded += 1

    async def find_ticket_by_external_id(self, external_id: str) -> GorgiasTicket | None:
        """The ticket we created with this `external_id` (with its messages), if any."""
        return await self._find_ticket_by_external_id(external_id, retry=True)

    async def _find_ticket_by_external_id(self, external_id: str, *, retry: bool) -> GorgiasTicket | None:
        body = await self._call(
            "GET", "tickets", retry=retry, params={"external_id": external_id, "limit": 10}
        )
        items, _ = _page_items(body, "tickets")
        for item in items:
            ticket = _parse(GorgiasTicket, item, "ticket")
            if ticket.external_id == external_id:
                # List items may leave messages out; the caller gets the whole ticket.
                return await self._get_ticket(ticket.id, retry=retry)
        return None

    async def create_ticket(
        self,
        *,
        customer_email: str,
        subject: str,
        messages: list[NewMessage],
        tags: list[str] | None = None,
        external_id: str | None = None,
        channel: str = "chat",
        status: str = "open",
        may_exist: bool = True,
    ) -> GorgiasTicket:
        """Open a ticket with its first messages (the customer is created from the email if new).

        With an `external_id` it is idempotent: an existing ticket with that id is returned
        instead of a second one being created, so the call is retried safely. With
        `may_exist=False` the caller knows no earlier attempt was made: one POST, not retried.
        """
        payload: dict[str, Any] = {
            "customer": {"email": customer_email},
            "subject": subject,
            "channel": channel,
            "via": "api",
            "status": status,
            "messages": [self._with_parties(m, customer_email) for m in messages],
            "tags": [{"name": name} for name in _unique(tags or [])],
        }
        if external_id is not None:
            payload["external_id"] = external_id

        async def create() -> GorgiasTicket:
            body = await self._call("POST", "tickets", retry=False, json=payload)
            return _parse(GorgiasTicket, body, "ticket")

        if external_id is None or not may_exist:
            return await create()

        async def attempt() -> GorgiasTicket:
            existing = await self._find_ticket_by_external_id(external_id, retry=False)
            return existing if existing is not None else await create()

        return await self._safely_repeated(attempt)

    async def update_ticket(
        self,
        ticket_id: int,
        *,
        status: str | None = None,
        tags: list[str] | None = None,
        assignee_email: str | None = None,
        assignee_user_id: int | None = None,
        subject: str | None = None,
    ) -> GorgiasTicket:
        """Set status, subject, the whole tag list (replacing it) and/or the assignee.

        Every value is absolute, so repeating the call changes nothing: it is retried.
        """
        payload: dict[str, Any] = {}
        if status is not None:
            payload["status"] = status
        if subject is not None:
            payload["subject"] = subject
        if tags is not None:
            payload["tags"] = [{"name": name} for name in _unique(tags)]
        if assignee_email is not None and assignee_user_id is None:
            assignee_user_id = (await self.find_user_by_email(assignee_email)).id
        if assignee_user_id is not None:
            payload["assignee_user"] = {"id": assignee_user_id}
        if not payload:
            return await self.get_ticket(ticket_id)
        body = await self._call("PUT", f"tickets/{ticket_id}", retry=True, json=payload)
        return _parse(GorgiasTicket, body, "ticket")

    async def add_tags(self, ticket_id: int, tags: list[str]) -> GorgiasTicket:
        """Add tags, keeping the ticket's existing ones (read, union, write: safe to repeat)."""
        return await self._edit_tags(ticket_id, lambda names: _unique(names + tags))

    async def remove_tags(self, ticket_id: int, tags: list[str]) -> GorgiasTicket:
        """Remove tags, keeping the others (read, difference, write: safe to repeat)."""
        unwanted = {name.strip() for name in tags}
        return await self._edit_tags(ticket_id, lambda names: [n for n in names if n not in unwanted])

    async def edit_tags(self, ticket_id: int, *, add: list[str], remove: list[str]) -> GorgiasTicket:
        """Add and remove tags in one read-change-write (a tag in both lists ends up added)."""
        unwanted = {name.strip() for name in remove} - {name.strip() for name in add}
        return await self._edit_tags(
            ticket_id, lambda names: _unique([n for n in names if n not in unwanted] + add)
        )

    async def _edit_tags(self, ticket_id: int, edit: Callable[[list[str]], list[str]]) -> GorgiasTicket:
        """Read the tags, change them, write them back only if they changed; retried whole."""

        async def attempt() -> GorgiasTicket:
            ticket = await self._get_ticket(ticket_id, retry=False)
            names = edit(ticket.tag_names)
            if names == ticket.tag_names:
                return ticket
            body = await self._call(
                "PUT", f"tickets/{ticket_id}", retry=False, json={"tags": [{"name": n} for n in names]}
            )
            return _parse(GorgiasTicket, body, "ticket")

        return await self._safely_repeated(attempt)

    async def close_ticket(self, ticket_id: int) -> GorgiasTicket:
        return await self.update_ticket(ticket_id, status="closed")

    # ------------------------------------------------------------------ messages

    async def list_messages(
        self, ticket_id: int, *, limit: int = MAX_PAGE_SIZE
    ) -> AsyncIterator[GorgiasMessage]:
        """The ticket's messages, oldest first, following the cursor across pages."""
        async for page in self._pages(f"tickets/{ticket_id}/messages", {"limit": limit}):
            for item in page:
                yield _parse(GorgiasMessage, item, "message")

    async def add_message(self, ticket_id: int, message: NewMessage) -> GorgiasMessage:
        """Append a message to a ticket.

        With `message.external_id` it is idempotent: the ticket's messages are read first and an
        existing message with that id is returned, so the call is retried safely. Without one it
        is sent once (a retry could post it twice).
        """
        needs_customer = (not message.from_agent and message.sender is None) or (
            message.from_agent and not message.is_internal_note and message.receiver is None
        )

        async def attempt() -> GorgiasMessage:
            outgoing = message
            existing: list[GorgiasMessage] | None = None
            if needs_customer:
                ticket = await self._get_ticket(ticket_id, retry=False)
                existing = ticket.messages
                if ticket.customer is not None and ticket.customer.email:
                    outgoing = NewMessage.model_validate(self._with_parties(message, ticket.customer.email))
            if message.external_id is not None:
                if existing is None:
                    existing = [m async for m in self._messages_once(ticket_id)]
                for old in existing:
                    if old.external_id == message.external_id:
                        return old
            body = await self._call(
                "POST", f"tickets/{ticket_id}/messages", retry=False, json=outgoing.payload()
            )
            return _parse(GorgiasMessage, body, "message")

        if message.external_id is None:
            return await attempt()
        return await self._safely_repeated(attempt)

    async def add_messages(self, ticket_id: int, messages: list[NewMessage]) -> list[GorgiasMessage]:
        """Append several messages with one read of the ticket (a transcript sync).

        Messages whose `external_id` the ticket already holds are not posted again, so a sync
        that failed half-way is simply repeated. Costs one GET plus one POST per new message,
        where `add_message` would read the ticket before each post.
        """

        async def attempt() -> list[GorgiasMessage]:
            ticket = await self._get_ticket(ticket_id, retry=False)
            existing = {m.external_id: m for m in ticket.messages if m.external_id}
            email = ticket.customer.email if ticket.customer is not None else None
            posted: list[GorgiasMessage] = []
            for message in messages:
                if message.external_id is not None and message.external_id in existing:
                    posted.append(existing[message.external_id])
                    continue
                outgoing = NewMessage.model_validate(self._with_parties(message, email)) if email else message
                body = await self._call(
                    "POST", f"tickets/{ticket_id}/messages", retry=False, json=outgoing.payload()
                )
                created = _parse(GorgiasMessage, body, "message")
                if message.external_id is not None:
                    existing[message.external_id] = created
                posted.append(created)
            return posted

        if not messages:
            return []
        return await self._safely_repeated(attempt)

    async def add_internal_note(
        self, ticket_id: int, text: str, *, html: str | None = None, external_id: str | None = None
    ) -> GorgiasMessage:
        """A note for the team on the ticket (`internal-note`): never shown to the shopper."""
        return await self.add_message(
            ticket_id, NewMessage.internal_note(text, html=html, external_id=external_id)
        )

    async def _messages_once(self, ticket_id: int) -> AsyncIterator[GorgiasMessage]:
        # Inside a retried operation the pages are fetched once each; the operation retries.
        async for page in self._pages(
            f"tickets/{ticket_id}/messages", {"limit": MAX_PAGE_SIZE}, retry_inner=False
        ):
            for item in page:
                yield _parse(GorgiasMessage, item, "message")

    @staticmethod
    def _with_parties(message: NewMessage, customer_email: str) -> dict[str, Any]:
        """The message's payload with the customer as sender (their messages) or receiver (ours)."""
        body = message.payload()
        if not message.from_agent and message.sender is None:
            body["sender"] = {"email": customer_email}
        if message.from_agent and not message.is_internal_note and message.receiver is None:
            body["receiver"] = {"email": customer_email}
        return body


def _unique(names: list[str]) -> list[str]:
    """Tag names in order, stripped, without blanks or duplicates."""
    seen: dict[str, None] = {}
    for name in names:
        if name.strip():
            seen.setdefault(name.strip(), None)
    return list(seen)

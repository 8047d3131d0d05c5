"""Zendesk Support client (`/api/v2`): users by email, tickets by external id, comments, tags, status.

Handed an `httpx.AsyncClient` it did not create (see `zendesk_http_client`), so the same code talks
to Zendesk, the in-process sandbox, a `MockTransport` or a recorded cassette.

Retries: reads are retried under the shared policy. Writes are retried only when repeating them is
safe: `create_or_update_user` matches by email, `update_ticket` adds and removes tags and sets a
status (absolute), and the creating calls re-read before they write (the ticket by `external_id`,
a comment by the external id kept in its audit's custom metadata), so a write that succeeded before
a timeout is found instead of repeated.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying

from integrations._http import (
    RetryPolicyFactory,
    VendorError,
    build_async_client,
    request_json,
    with_retries,
)
from integrations.budget import CallBudget, limit_and_remaining
from integrations.zendesk.models import NewComment, ZendeskComment, ZendeskTicket, ZendeskUser

VENDOR = "zendesk"
AUTH_SETTING = "ZENDESK_API_TOKEN"
LIMIT_HEADER = "X-Rate-Limit"
REMAINING_HEADER = "X-Rate-Limit-Remaining"
PAGE_SIZE = 100  # cursor pagination's largest page
CALL_BUDGET = CallBudget(
    limit=200, window_seconds=60.0, read_usage=limit_and_remaining(LIMIT_HEADER, REMAINING_HEADER)
)
"""Zendesk's per-plan account limit, per minute: Team 200, Growth and Professional 400, Enterprise 700,
High Volume add-on 2500. Paced at the smallest paid plan's until the account's own `X-Rate-Limit`
says more."""

logger = logging.getLogger("integrations.zendesk")

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def zendesk_http_client(
    base_url: str, email: str, api_token: str, *, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The HTTP client for one Zendesk account.

    `base_url` is `https://<subdomain>.zendesk.com/api/v2` or `<sandbox>/zendesk/api/v2`;
    authentication is an API token: HTTP Basic with `{email}/token` and the token.
    """
    return build_async_client(
        base_url.rstrip("/") + "/",
        headers={"Accept": "application/json"},
        auth=(f"{email}/token", api_token),
        transport=transport,
    )


def _parse(model: type[M], body: Any, key: str) -> M:
    item = body.get(key) if isinstance(body, dict) else None
    try:
        return model.model_validate(item)
    except ValidationError as exc:
        # Field names only: the values may hold customer data.
        fields = sorted({".".join(str(p) for p in error["loc"]) for error in exc.errors()})[:5]
        raise VendorError(VENDOR, f"unexpected {key} shape (fields: {', '.join(fields)})") from None


def _items(body: Any, key: str) -> list[Any]:
    if not isinstance(body, dict) or not isinstance(body.get(key), list):
        raise VendorError(VENDOR, f"unexpected {key} list shape (no {key} array)")
    items: list[Any] = body[key]
    return items


def _after_cursor(body: Any) -> str | None:
    """The cursor of the next page (cursor pagination's `meta`), None on the last page."""
    meta = body.get("meta") if isinstance(body, dict) else None
    if not isinstance(meta, dict) or not meta.get("has_more"):
        return None
    cursor = meta.get("after_cursor")
    return str(cursor) if cursor else None


class ZendeskClient:
    """Async Zendesk Support client. Raises only the typed errors of `integrations._http`."""

    def __init__(self, http: httpx.AsyncClient, *, retry_policy: RetryPolicyFactory | None = None) -> None:
        self._http = http
        self._retry_policy = retry_policy
        self.rate_limit: tuple[int, int] | None = None
        """The last (`X-Rate-Limit-Remaining`, `X-Rate-Limit`) seen."""
        self._me: ZendeskUser | None = None

    # ------------------------------------------------------------------ plumbing

    def _policy(self) -> AsyncRetrying | None:
        return self._retry_policy() if self._retry_policy is not None else None

    async def _call(self, method: str, path: str, *, retry: bool, **kwargs: Any) -> Any:
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
        used, allowed = CALL_BUDGET.usage(response.headers)
        if used is not None and allowed is not None:
            self.rate_limit = (allowed - used, allowed)
            if allowed - used <= 2:
                logger.warning("zendesk API rate limit nearly used: %s of %s left", allowed - used, allowed)
        return body

    async def _safely_repeated(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Retry a whole read-then-write operation: each attempt re-reads before writing."""
        return await with_retries(attempt, idempotent=True, policy=self._policy())

    async def _pages(self, path: str, key: str, *, retry_inner: bool = True) -> AsyncIterator[list[Any]]:
        """Each page's items under cursor pagination (`page[size]`, `page[after]`)."""
        params: dict[str, Any] = {"page[size]": PAGE_SIZE}
        while True:
            body = await self._call("GET", path, retry=retry_inner, params=params)
            yield _items(body, key)
            cursor = _after_cursor(body)
            if cursor is None:
                return
            params = {"page[size]": PAGE_SIZE, "page[after]": cursor}

    # ------------------------------------------------------------------ users

    async def me(self) -> ZendeskUser:
        """The user the API token belongs to (the author of the bot's comments and notes)."""
        if self._me is None:
            self._me = _parse(ZendeskUser, await self._call("GET", "users/me", retry=True), "user")
        return self._me

    async def user_by_email(self, email: str, name: str | None = None) -> ZendeskUser:
        """The user with this email, created (an end user) when Zendesk has none.

        Looked up first (`users/search`), so an existing customer keeps the name the team knows;
        created with `create_or_update`, which matches by email, so a retry or a concurrent creation
        never makes a second user."""
        found = await self._call("GET", "users/search", retry=True, params={"query": f"email:{email}"})
        wanted = email.strip().lower()
        for item in _items(found, "users"):
            user = _parse(ZendeskUser, {"user": item}, "user")
            if (user.email or "").strip().lower() == wanted:  # the search is the API's; the match is ours
                return user
        new = {"email": email, "name": name or email.split("@", 1)[0]}  # Zendesk requires a name
        body = await self._call("POST", "users/create_or_update", retry=True, json={"user": new})
        return _parse(ZendeskUser, body, "user")

    async def get_user(self, user_id: int) -> ZendeskUser:
        return _parse(ZendeskUser, await self._call("GET", f"users/{user_id}", retry=True), "user")

    # ------------------------------------------------------------------ tickets

    async def get_ticket(self, ticket_id: int) -> ZendeskTicket:
        return await self._get_ticket(ticket_id, retry=True)

    async def _get_ticket(self, ticket_id: int, *, retry: bool) -> ZendeskTicket:
        return _parse(ZendeskTicket, await self._call("GET", f"tickets/{ticket_id}", retry=retry), "ticket")

    async def find_ticket_by_external_id(self, external_id: str) -> ZendeskTicket | None:
        return await self._find_ticket_by_external_id(external_id, retry=True)

    async def _find_ticket_by_external_id(self, external_id: str, *, retry: bool) -> ZendeskTicket | None:
        body = await self._call("GET", "tickets", retry=retry, params={"external_id": external_id})
        found = [
            ticket
            for item in _items(body, "tickets")
            if (ticket := _parse(ZendeskTicket, {"ticket": item}, "ticket")).external_id == external_id
        ]  # the filter is the API's; the exact match is ours
        # A closed ticket may have a follow-up carrying the same external id: the newest open one wins.
        live = [t for t in found if t.status != "closed"]
        return max(live or found, key=lambda t: t.id, default=None)

    async def create_ticket(
        self,
        *,
        requester_id: int,
        subject: str,
        comment: NewComment,
        tags: Sequence[str] = (),
        external_id: str | None = None,
        may_exist: bool = True,
        follows: int | None = None,
    ) -> tuple[ZendeskTicket, bool]:
        """Open a ticket with its first comment: `(ticket, created)`.

        With an `external_id` it is idempotent: an existing ticket with that id is returned (not
        created) instead of a second one, so the call is retried safely. With `may_exist=False` the
        caller knows no earlier attempt was made: one POST, not retried. `follows` makes it the
        follow-up of a closed ticket.
        """
        ticket: dict[str, Any] = {
            "subject": subject,
            "requester_id": requester_id,
            "comment": comment.payload(),
            "tags": _unique(tags),
        }
        if follows is not None:
            ticket["via_followup_source_id"] = follows
        if external_id is not None:
            ticket["external_id"] = external_id
        if comment.external_id is not None:
            ticket["metadata"] = {"external_id": comment.external_id}

        async def create() -> tuple[ZendeskTicket, bool]:
            body = await self._call("POST", "tickets", retry=False, json={"ticket": ticket})
            return _parse(ZendeskTicket, body, "ticket"), True

        if external_id is None or not may_exist:
            return await create()

        async def attempt() -> tuple[ZendeskTicket, bool]:
            existing = await self._find_ticket_by_external_id(external_id, retry=False)
            return (existing, False) if existing is not None else await create()

        return await self._safely_repeated(attempt)

    async def update_ticket(
        self,
        ticket_id: int,
        *,
        status: str | None = None,
        add_tags: Sequence[str] = (),
        remove_tags: Sequence[str] = (),
        assignee_id: int | None = None,
    ) -> ZendeskTicket:
        """Set the status and assignee, add and remove tags (`additional_tags` / `remove_tags`, which
        keep the ticket's other tags): every change is absolute, so the call is retried."""
        ticket: dict[str, Any] = {}
        if status is not None:
            ticket["status"] = status
        if assignee_id is not None:
            ticket["assignee_id"] = assignee_id
        removed = set(_unique(remove_tags)) - set(_unique(add_tags))
        if add_tags:
            ticket["additional_tags"] = _unique(add_tags)
        if removed:
            ticket["remove_tags"] = sorted(removed)
        if not ticket:
            return await self.get_ticket(ticket_id)
        body = await self._call("PUT", f"tickets/{ticket_id}", retry=True, json={"ticket": ticket})
        return _parse(ZendeskTicket, body, "ticket")

    # ------------------------------------------------------------------ comments

    async def list_comments(self, ticket_id: int) -> list[ZendeskComment]:
        """The ticket's comments, oldest first, across every page."""
        return [c async for c in self._comments(ticket_id, retry_inner=True)]

    async def _comments(self, ticket_id: int, *, retry_inner: bool) -> AsyncIterator[ZendeskComment]:
        async for page in self._pages(f"tickets/{ticket_id}/comments", "comments", retry_inner=retry_inner):
            for item in page:
                yield _parse(ZendeskComment, {"comment": item}, "comment")

    async def add_comments(self, ticket_id: int, comments: Sequence[NewComment]) -> int:
        """Add comments with one read of the ticket's comments: one whose external id the ticket
        already holds is not added again, so a sync that failed half-way is simply repeated. One
        ticket update per new comment (Zendesk takes one comment per update). Returns how many
        were added."""

        async def attempt() -> int:
            existing = {c.external_id async for c in self._comments(ticket_id, retry_inner=False)}
            added = 0
            for comment in comments:
                if comment.external_id is not None and comment.external_id in existing:
                    continue
                await self._post_comment(ticket_id, comment)
                existing.add(comment.external_id)
                added += 1
            return added

        if not comments:
            return 0
        return await self._safely_repeated(attempt)

    async def _post_comment(self, ticket_id: int, comment: NewComment) -> None:
        ticket: dict[str, Any] = {"comment": comment.payload()}
        if comment.external_id is not None:
            ticket["metadata"] = {"external_id": comment.external_id}
        await self._call("PUT", f"tickets/{ticket_id}", retry=False, json={"ticket": ticket})


def _unique(names: Sequence[str]) -> list[str]:
    """Tag names in order, stripped, without blanks or duplicates."""
    seen: dict[str, None] = {}
    for name in names:
        if name.strip():
            seen.setdefault(name.strip(), None)
    return list(seen)

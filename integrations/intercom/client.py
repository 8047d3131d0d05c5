"""Intercom REST API client (an explicit `Intercom-Version` on every request, bearer access token):
contacts by email, conversations created as the user, admin replies and notes, tags, assignment,
close / open / snooze.

Handed an `httpx.AsyncClient` it did not create (see `intercom_http_client`), so the same code talks
to Intercom, the in-process sandbox, a `MockTransport` or a recorded cassette. httpx rather than the
`python-intercom` SDK: see README, "Intercom".

Which conversation mirrors which of ours is a conversation data attribute
(`custom_attributes.<CONVERSATION_ATTRIBUTE>`), found with the conversation search. Intercom keeps no
id of ours on a reply, so a batch of messages is made safe to repeat by reading the conversation
first: the batch's leading messages that already end the conversation (same author kind, same text)
were posted by an attempt whose answer was lost, and are not posted again.

Retries: reads (including the searches, which are POSTs) are retried under the shared policy;
tagging, untagging and state changes are absolute and retried; creating a conversation and posting
replies are retried only as whole read-then-write attempts.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

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
from integrations.budget import CallBudget, limit_and_remaining
from integrations.intercom.models import (
    CreatedMessage,
    IntercomAdmin,
    IntercomContact,
    IntercomConversation,
    IntercomTag,
)

VENDOR = "intercom"
AUTH_SETTING = "INTERCOM_ACCESS_TOKEN"
DEFAULT_API_VERSION = "2.14"
LIMIT_HEADER = "X-RateLimit-Limit"
REMAINING_HEADER = "X-RateLimit-Remaining"
RESET_HEADER = "X-RateLimit-Reset"
CONVERSATION_ATTRIBUTE = "support_agent_conversation_id"
SEARCH_PAGE_SIZE = 150  # the search's largest page
CALL_BUDGET = CallBudget(
    limit=1666, window_seconds=10.0, read_usage=limit_and_remaining(LIMIT_HEADER, REMAINING_HEADER)
)
"""Intercom's default for a private app: 10,000 calls a minute per app (25,000 per workspace), spent
in 10-second windows of a sixth each; `X-RateLimit-Limit` announces the window's allowance and
`X-RateLimit-Reset` (Unix time) when the next window starts."""

logger = logging.getLogger("integrations.intercom")

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
Role = Literal["user", "admin", "note"]


def intercom_http_client(
    base_url: str,
    access_token: str,
    *,
    api_version: str = DEFAULT_API_VERSION,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], float] = time.time,
) -> httpx.AsyncClient:
    """The HTTP client for one Intercom workspace: `https://api.intercom.io` (or the EU / AU
    regions' hosts) or `<sandbox>/intercom`; a bearer access token and an explicit API version.

    Intercom's 429 names no `Retry-After`; it says in `X-RateLimit-Reset` when the window resets.
    A response hook writes that as `Retry-After`, which the retry policy and the outbox's pacer
    already honour."""

    async def retry_after_from_reset(response: httpx.Response) -> None:
        if response.status_code != 429 or "retry-after" in response.headers:
            return
        reset = (response.headers.get(RESET_HEADER) or "").strip()
        if reset.isdigit():
            response.headers["Retry-After"] = str(max(1, math.ceil(int(reset) - clock())))

    client = build_async_client(
        base_url.rstrip("/") + "/",
        headers={
            "Accept": "application/json",
            "Authorization": f"Bearer {access_token}",
            "Intercom-Version": api_version,
        },
        transport=transport,
    )
    client.event_hooks["response"].append(retry_after_from_reset)
    return client


def _parse(model: type[M], body: Any, what: str) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        # Field names only: the values may hold customer data.
        fields = sorted({".".join(str(p) for p in error["loc"]) for error in exc.errors()})[:5]
        raise VendorError(VENDOR, f"unexpected {what} shape (fields: {', '.join(fields)})") from None


def _items(body: Any, key: str) -> list[Any]:
    if not isinstance(body, dict) or not isinstance(body.get(key), list):
        raise VendorError(VENDOR, f"unexpected list shape (no {key} array)")
    items: list[Any] = body[key]
    return items


def next_cursor(body: Any) -> str | None:
    """Cursor pagination: `pages.next.starting_after`, absent on the last page."""
    pages = body.get("pages") if isinstance(body, dict) else None
    following = pages.get("next") if isinstance(pages, dict) else None
    cursor = following.get("starting_after") if isinstance(following, dict) else None
    return str(cursor) if cursor else None


@dataclass(frozen=True)
class NewPart:
    """A message to add: the shopper's (`user`, a reply as the contact), the bot's (`admin`, an
    admin reply as the bot's admin) or a note for the team (`note`)."""

    role: Role
    body: str


def _key(role: str, text: str) -> tuple[str, str]:
    return role, " ".join(text.split())


class IntercomClient:
    """Async Intercom client. Raises only the typed errors of `integrations._http`.

    `admin_id` is the admin the bot's replies, notes, tags and state changes are made as (the
    token's own admin, from `GET /me`, when empty)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        admin_id: str = "",
        retry_policy: RetryPolicyFactory | None = None,
    ) -> None:
        self._http = http
        self._retry_policy = retry_policy
        self._admin_id = admin_id
        self.rate_limit: tuple[int, int] | None = None
        """The last (`X-RateLimit-Remaining`, `X-RateLimit-Limit`) seen."""

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
                logger.warning("intercom API rate limit nearly used: %s of %s left", allowed - used, allowed)
        return body

    async def _safely_repeated(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Retry a whole read-then-write operation: each attempt re-reads before writing."""
        return await with_retries(attempt, idempotent=True, policy=self._policy())

    async def _search(self, path: str, key: str, query: dict[str, Any], *, retry: bool = True) -> list[Any]:
        """Every result of a search, following `pages.next.starting_after`."""
        found: list[Any] = []
        pagination: dict[str, Any] = {"per_page": SEARCH_PAGE_SIZE}
        while True:
            body = await self._call(
                "POST", path, retry=retry, json={"query": query, "pagination": pagination}
            )
            found.extend(_items(body, key))
            cursor = next_cursor(body)
            if cursor is None:
                return found
            pagination = {"per_page": SEARCH_PAGE_SIZE, "starting_after": cursor}

    # ------------------------------------------------------------------ admins and contacts

    async def admin_id(self) -> str:
        """The admin the bot acts as: the setting, or the access token's own admin."""
        if not self._admin_id:
            self._admin_id = _parse(IntercomAdmin, await self._call("GET", "me", retry=True), "admin").id
        return self._admin_id

    async def contact_by_email(self, email: str, name: str | None = None) -> IntercomContact:
        """The contact with this email, created (a user) when the workspace has none. Searching first
        makes it safe to repeat; a 409 (created meanwhile) is answered by searching again."""
        query = {"field": "email", "operator": "=", "value": email}

        async def attempt() -> IntercomContact:
            for item in await self._search("contacts/search", "data", query, retry=False):
                contact = _parse(IntercomContact, item, "contact")
                if (contact.email or "").lower() == email.lower():
                    return contact
            new: dict[str, Any] = {"role": "user", "email": email}
            if name:
                new["name"] = name
            try:
                return _parse(
                    IntercomContact, await self._call("POST", "contacts", retry=False, json=new), "contact"
                )
            except VendorError as exc:
                if exc.status != 409:
                    raise
                raise VendorError(VENDOR, "contact created meanwhile", status=409, retryable=True) from None

        return await self._safely_repeated(attempt)

    # ------------------------------------------------------------------ conversations

    async def get_conversation(self, conversation_id: str) -> IntercomConversation:
        """The conversation with its parts (the 500 most recent), bodies as plain text."""
        body = await self._call(
            "GET", f"conversations/{conversation_id}", retry=True, params={"display_as": "plaintext"}
        )
        return _parse(IntercomConversation, body, "conversation")

    async def find_conversation(self, external_id: str, *, retry: bool = True) -> IntercomConversation | None:
        """The conversation whose data attribute holds this id of ours."""
        field = f"custom_attributes.{CONVERSATION_ATTRIBUTE}"
        query = {"field": field, "operator": "=", "value": external_id}
        for item in await self._search("conversations/search", "conversations", query, retry=retry):
            conversation = _parse(IntercomConversation, item, "conversation")
            if str(conversation.custom_attributes.get(CONVERSATION_ATTRIBUTE)) == external_id:
                return conversation
        return None

    async def create_conversation(
        self, *, contact_id: str, body: str, external_id: str, may_exist: bool = True
    ) -> tuple[IntercomConversation, bool]:
        """Open a conversation as the contact (`body` is their first message) and mark it with our
        id: `(conversation, created)`. With `may_exist`, one already marked is returned instead."""

        async def create() -> tuple[IntercomConversation, bool]:
            sent = {"from": {"type": "user", "id": contact_id}, "body": body}
            message = _parse(
                CreatedMessage, await self._call("POST", "conversations", retry=False, json=sent), "message"
            )
            marked = await self._call(
                "PUT",
                f"conversations/{message.conversation_id}",
                retry=True,
                params={"display_as": "plaintext"},
                json={"custom_attributes": {CONVERSATION_ATTRIBUTE: external_id}},
            )
            return _parse(IntercomConversation, marked, "conversation"), True

        if not may_exist:
            return await create()

        async def attempt() -> tuple[IntercomConversation, bool]:
            existing = await self.find_conversation(external_id, retry=False)
            return (existing, False) if existing is not None else await create()

        return await self._safely_repeated(attempt)

    async def reply(self, conversation_id: str, part: NewPart, *, contact_id: str | None = None) -> None:
        """One reply: as the contact (`user`), or as the bot's admin (`admin` comment, `note`). Not
        retried on its own: `add_parts` repeats it safely."""
        if part.role == "user":
            if contact_id is None:
                raise VendorError(VENDOR, f"conversation {conversation_id} has no contact to reply as")
            sent: dict[str, Any] = {
                "message_type": "comment",
                "type": "user",
                "intercom_user_id": contact_id,
                "body": part.body,
            }
        else:
            sent = {
                "message_type": "note" if part.role == "note" else "comment",
                "type": "admin",
                "admin_id": await self.admin_id(),
                "body": part.body,
            }
        await self._call("POST", f"conversations/{conversation_id}/reply", retry=False, json=sent)

    def _ours(self, conversation: IntercomConversation, admin_id: str) -> list[tuple[str, str]]:
        """What we have posted, oldest first: the contact's opening message and comments, and the
        bot admin's comments and notes (a person's parts and Intercom's events are left out)."""
        ours = (
            [_key("user", conversation.source.body or "")]
            if conversation.source.author.type != "admin"
            else []
        )
        for part in conversation.parts:
            if part.part_type not in ("comment", "note") or not part.text:
                continue
            if part.author.type in ("user", "lead", "contact"):
                ours.append(_key("user", part.text))
            elif part.author.id == admin_id and part.author.type in ("admin", "bot"):
                ours.append(_key("note" if part.part_type == "note" else "admin", part.text))
        return ours

    async def add_parts(self, conversation_id: str, parts: Sequence[NewPart]) -> int:
        """Post a batch in order, after one read of the conversation: the batch's leading parts
        that already end what we posted are the ones an earlier, interrupted attempt made, and are
        skipped. Returns how many were posted."""
        if not parts:
            return 0
        admin_id = await self.admin_id()

        async def attempt() -> int:
            conversation = await self.get_conversation(conversation_id)
            ours = self._ours(conversation, admin_id)
            wanted = [_key(p.role, p.body) for p in parts]
            done = 0
            for k in range(min(len(wanted), len(ours)), 0, -1):
                if ours[-k:] == wanted[:k]:
                    done = k
                    break
            for part in parts[done:]:
                await self.reply(conversation_id, part, contact_id=conversation.contact_id)
            return len(parts) - done

        return await self._safely_repeated(attempt)

    async def manage(self, conversation_id: str, message_type: str, **extra: Any) -> IntercomConversation:
        """Close, open, snooze (`snoozed_until`) or assign (`type`, `assignee_id`) as the bot's
        admin: an absolute change, retried."""
        sent = {"message_type": message_type, "type": "admin", "admin_id": await self.admin_id(), **extra}
        if message_type in ("open", "snoozed"):
            sent.pop("type")
        body = await self._call("POST", f"conversations/{conversation_id}/parts", retry=True, json=sent)
        return _parse(IntercomConversation, body, "conversation")

    async def close(self, conversation_id: str) -> IntercomConversation:
        return await self.manage(conversation_id, "close")

    async def open(self, conversation_id: str) -> IntercomConversation:
        return await self.manage(conversation_id, "open")

    async def snooze(self, conversation_id: str, until: int) -> IntercomConversation:
        return await self.manage(conversation_id, "snoozed", snoozed_until=until)

    async def assign(self, conversation_id: str, *, assignee_id: str, team: bool) -> IntercomConversation:
        return await self.manage(
            conversation_id, "assignment", type="team" if team else "admin", assignee_id=assignee_id
        )

    # ------------------------------------------------------------------ tags

    async def tag_id(self, name: str) -> str:
        """The workspace tag with this name, created when missing (`POST /tags` creates or finds it).
        Asked each time rather than cached: a tag deleted from the workspace, or a workspace
        started afresh, must not leave us applying a stale id."""
        tag = _parse(IntercomTag, await self._call("POST", "tags", retry=True, json={"name": name}), "tag")
        return tag.id

    async def _tag(self, conversation_id: str, name: str, admin_id: str) -> None:
        await self._call(
            "POST",
            f"conversations/{conversation_id}/tags",
            retry=True,
            json={"id": await self.tag_id(name), "admin_id": admin_id},
        )

    async def edit_tags(
        self,
        conversation_id: str,
        *,
        add: Sequence[str],
        remove: Sequence[str],
        current: IntercomConversation | None = None,
    ) -> IntercomConversation:
        """Tag and untag the conversation (one call per tag that changes, after one read, or none
        when the caller has just read it: `current`)."""
        admin_id = await self.admin_id()
        conversation = current or await self.get_conversation(conversation_id)
        present = {tag.name: tag.id for tag in conversation.tags}
        unwanted = [name for name in dict.fromkeys(remove) if name in present and name not in add]
        wanted = [name for name in dict.fromkeys(add) if name.strip() and name not in present]
        for name in wanted:
            await self._tag(conversation_id, name, admin_id)
        for name in unwanted:
            with contextlib.suppress(NotFound):  # untagged already: an earlier attempt's answer was lost
                await self._call(
                    "DELETE",
                    f"conversations/{conversation_id}/tags/{present[name]}",
                    retry=True,
                    json={"admin_id": admin_id},
                )
        if not wanted and not unwanted:
            return conversation
        return await self.get_conversation(conversation_id)

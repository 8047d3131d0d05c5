"""Front Core API client: a custom application channel's messages, conversations, comments, tags.

Handed an `httpx.AsyncClient` it did not create (see `front_http_client`), so the same code talks
to Front (`https://api2.frontapp.com`), the in-process sandbox, a `MockTransport` or a cassette.

The chat enters Front through an application channel: the shopper's messages are synced as
inbound messages and the bot's as outbound ones (`POST /channels/{id}/inbound_messages`,
`.../outbound_messages`), threaded into one conversation by `metadata.external_conversation_id`
(our conversation id). Front answers 202 with the imported message's uid; the message, and the
conversation through its `_links.related.conversation`, are then read by that uid
(`GET /messages/alt:uid:{uid}`).

Retries: reads are retried under the shared policy. Syncing a message is safe to repeat: Front
keeps one message per `metadata.external_id` in a channel. Tags are added and removed by id
(absolute), status changes are absolute; a comment is added after re-reading the comments, so one
already there (same body) is not repeated.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
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
from integrations.budget import CallBudget, limit_and_remaining
from integrations.front.models import (
    FrontComment,
    FrontConversation,
    FrontMessage,
    FrontTag,
    SyncAccepted,
    conversation_api_id,
)

VENDOR = "front"
AUTH_SETTING = "FRONT_API_TOKEN"
LIMIT_HEADER = "X-RateLimit-Limit"
REMAINING_HEADER = "X-RateLimit-Remaining"
IMPORT_ATTEMPTS = 5
IMPORT_WAIT_SECONDS = 0.25
PAGE_LIMIT = 100  # the largest `limit` Front's list endpoints take
CALL_BUDGET = CallBudget(
    limit=50, window_seconds=60.0, read_usage=limit_and_remaining(LIMIT_HEADER, REMAINING_HEADER)
)
"""Front's per-company limit, per minute (every token of the company shares it): Starter 50,
Growth 100, Scale 200 (dev.frontapp.com/docs/rate-limiting). Paced at Starter's until the account's
own `X-RateLimit-Limit` says more."""

logger = logging.getLogger("integrations.front")

M = TypeVar("M", bound=BaseModel)


def front_http_client(
    base_url: str, api_token: str, *, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The HTTP client for one Front company: `https://api2.frontapp.com` or `<sandbox>/front`,
    authenticated with an API token as a bearer token."""
    return build_async_client(
        base_url.rstrip("/") + "/",
        headers={"Accept": "application/json", "Authorization": f"Bearer {api_token}"},
        transport=transport,
    )


def _parse(model: type[M], item: Any, what: str) -> M:
    try:
        return model.model_validate(item)
    except ValidationError as exc:
        # Field names only: the values may hold customer data.
        fields = sorted({".".join(str(p) for p in error["loc"]) for error in exc.errors()})[:5]
        raise VendorError(VENDOR, f"unexpected {what} shape (fields: {', '.join(fields)})") from None


def _results(body: Any, what: str) -> list[Any]:
    if not isinstance(body, dict) or not isinstance(body.get("_results"), list):
        raise VendorError(VENDOR, f"unexpected {what} list shape (no _results array)")
    items: list[Any] = body["_results"]
    return items


def _next_page(body: Any) -> str | None:
    """The next page's URL (`_pagination.next`), None on the last page."""
    pagination = body.get("_pagination") if isinstance(body, dict) else None
    url = pagination.get("next") if isinstance(pagination, dict) else None
    return str(url) if url else None


def api_id(conversation: int | str) -> str:
    """A conversation's API id from its number (our ticket id) or from the id itself."""
    if isinstance(conversation, int) or conversation.isdigit():
        return conversation_api_id(int(conversation))
    return conversation


class FrontClient:
    """Async Front client for one application channel. Raises only the typed errors of
    `integrations._http`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        channel_id: str,
        retry_policy: RetryPolicyFactory | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._http = http
        self._sleep = sleep
        self.channel_id = channel_id
        self._retry_policy = retry_policy
        self.rate_limit: tuple[int, int] | None = None
        """The last (`X-RateLimit-Remaining`, `X-RateLimit-Limit`) seen."""
        self._tag_ids: dict[str, str] = {}

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
                logger.warning("front API rate limit nearly used: %s of %s left", allowed - used, allowed)
        return body

    async def _pages(self, path: str, what: str) -> AsyncIterator[list[Any]]:
        """Each page's `_results`, following `_pagination.next` (an absolute URL with its token)."""
        url: str = path
        params: dict[str, Any] | None = {"limit": PAGE_LIMIT}
        while True:
            body = await self._call("GET", url, retry=True, params=params)
            yield _results(body, what)
            following = _next_page(body)
            if following is None:
                return
            url, params = following, None

    # ------------------------------------------------------------------ the channel

    def _sync_body(
        self, *, text: str, external_id: str, conversation_ref: str, subject: str | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "body": text,
            "metadata": {"external_id": external_id, "external_conversation_id": conversation_ref},
        }
        if subject:
            body["subject"] = subject
        return body

    async def sync_inbound(
        self,
        *,
        handle: str,
        name: str | None,
        text: str,
        external_id: str,
        conversation_ref: str,
        subject: str | None = None,
    ) -> SyncAccepted:
        """The shopper's message, as received by the channel (`POST /channels/{id}/inbound_messages`)."""
        body = self._sync_body(
            text=text, external_id=external_id, conversation_ref=conversation_ref, subject=subject
        )
        body["sender"] = {"handle": handle, **({"name": name} if name else {})}
        answer = await self._call(
            "POST", f"channels/{self.channel_id}/inbound_messages", retry=True, json=body
        )
        return _parse(SyncAccepted, answer, "sync answer")

    async def sync_outbound(
        self,
        *,
        to_handle: str,
        to_name: str | None,
        sender_name: str,
        text: str,
        external_id: str,
        conversation_ref: str,
        subject: str | None = None,
    ) -> SyncAccepted:
        """The bot's message, as sent by the channel (`POST /channels/{id}/outbound_messages`)."""
        body = self._sync_body(
            text=text, external_id=external_id, conversation_ref=conversation_ref, subject=subject
        )
        body["to"] = [{"handle": to_handle, **({"name": to_name} if to_name else {})}]
        body["sender_name"] = sender_name
        answer = await self._call(
            "POST", f"channels/{self.channel_id}/outbound_messages", retry=True, json=body
        )
        return _parse(SyncAccepted, answer, "sync answer")

    async def message_by_uid(self, message_uid: str) -> FrontMessage:
        """A synced message by the uid its sync was answered with (`alt:uid:` resource alias).

        Front imports asynchronously: until the message exists the alias answers 404, so a 404 is
        read again a few times, waiting a little longer each time."""
        path = f"messages/alt:uid:{message_uid}"
        for attempt in range(IMPORT_ATTEMPTS):
            try:
                return _parse(FrontMessage, await self._call("GET", path, retry=True), "message")
            except NotFound:
                if attempt == IMPORT_ATTEMPTS - 1:
                    raise
                await self._sleep(IMPORT_WAIT_SECONDS * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ conversations

    async def get_conversation(self, conversation: int | str) -> FrontConversation:
        body = await self._call("GET", f"conversations/{api_id(conversation)}", retry=True)
        return _parse(FrontConversation, body, "conversation")

    async def list_messages(self, conversation: int | str) -> list[FrontMessage]:
        """The conversation's messages across every page."""
        path = f"conversations/{api_id(conversation)}/messages"
        return [
            _parse(FrontMessage, item, "message")
            async for page in self._pages(path, "messages")
            for item in page
        ]

    async def list_comments(self, conversation: int | str) -> list[FrontComment]:
        path = f"conversations/{api_id(conversation)}/comments"
        return [
            _parse(FrontComment, item, "comment")
            async for page in self._pages(path, "comments")
            for item in page
        ]

    async def add_comment(
        self, conversation: int | str, text: str, *, author_id: str | None = None
    ) -> FrontComment:
        """An internal comment for the team (`POST /conversations/{id}/comments`)."""
        body: dict[str, Any] = {"body": text}
        if author_id:
            body["author_id"] = author_id
        answer = await self._call(
            "POST", f"conversations/{api_id(conversation)}/comments", retry=False, json=body
        )
        return _parse(FrontComment, answer, "comment")

    async def add_comments(self, conversation: int | str, texts: Sequence[str]) -> int:
        """Add comments after one read of the existing ones: a text already there is not added again,
        so a sync that failed half-way is simply repeated. Returns how many were added."""

        async def attempt() -> int:
            existing = {c.body for c in await self.list_comments(conversation)}
            added = 0
            for text in texts:
                if text in existing:
                    continue
                await self.add_comment(conversation, text)
                existing.add(text)
                added += 1
            return added

        if not texts:
            return 0
        return await with_retries(attempt, idempotent=True, policy=self._policy())

    async def update_conversation(self, conversation: int | str, **fields: Any) -> None:
        """`PATCH /conversations/{id}`: e.g. `status="archived"` (close) or `"open"` (reopen)."""
        await self._call("PATCH", f"conversations/{api_id(conversation)}", retry=True, json=fields)

    async def assign(self, conversation: int | str, assignee_id: str | None) -> None:
        """`PUT /conversations/{id}/assignee`: a teammate, or nobody (`None` unassigns)."""
        await self._call(
            "PUT",
            f"conversations/{api_id(conversation)}/assignee",
            retry=True,
            json={"assignee_id": assignee_id},
        )

    # ------------------------------------------------------------------ tags

    async def list_tags(self) -> list[FrontTag]:
        return [_parse(FrontTag, item, "tag") async for page in self._pages("tags", "tags") for item in page]

    async def tag_ids(self, names: Sequence[str], *, create: bool = True) -> list[str]:
        """The ids of these tags (one read of the tags for names not seen before); a name the
        company has no tag for is created (`create`) or left out."""
        missing = [n for n in names if n not in self._tag_ids]
        if missing:
            for tag in await self.list_tags():
                self._tag_ids.setdefault(tag.name, tag.id)
        for name in names:
            if name not in self._tag_ids and create:
                # Safe to repeat only after a re-read: the tags were just read, so create once.
                tag = _parse(
                    FrontTag, await self._call("POST", "tags", retry=False, json={"name": name}), "tag"
                )
                self._tag_ids[tag.name] = tag.id
        return [self._tag_ids[n] for n in names if n in self._tag_ids]

    async def _tag_call(
        self, method: str, conversation: int | str, names: Sequence[str], *, create: bool
    ) -> None:
        """Add or remove tags by id; ids remembered from an earlier read may have gone (a tag
        deleted in Front): on a 404 the tags are read again and the call made once more."""
        path = f"conversations/{api_id(conversation)}/tags"
        for attempt in range(2):
            ids = await self.tag_ids(names, create=create)
            if not ids:
                return
            try:
                await self._call(method, path, retry=True, json={"tag_ids": ids})
                return
            except NotFound:
                if attempt or not self._tag_ids:
                    raise
                self._tag_ids.clear()

    async def add_tags(self, conversation: int | str, names: Sequence[str]) -> None:
        if names:
            await self._tag_call("POST", conversation, names, create=True)

    async def remove_tags(self, conversation: int | str, names: Sequence[str]) -> None:
        if names:
            await self._tag_call("DELETE", conversation, names, create=False)

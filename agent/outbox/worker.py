"""Delivering the helpdesk outbox: a background worker, off the shopper's path.

One conversation at a time, its pending items in order, coalesced: a new ticket is created with
every pending message and tag in one call; later messages go as one batch; tag changes are
merged into one read-change-write; the team email follows once the ticket exists. Everything is
idempotent at the vendor (ticket and message external ids, tag sets), so a redelivery after a
crash between the vendor call and the mark changes nothing.

Requests (`handoff`, `approval_requested`, `handback_consumed`) are vendor-neutral: the helpdesk's
adapter says what each means on its tickets (`Helpdesk.ticket_change`: notes and its own tags),
and those join the same batch and the same tag change. Items recorded by older versions as plain
`note` and `tags` (with the vendor's tag names in them) are delivered as they always were.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any

from pydantic import TypeAdapter, ValidationError

from agent.outbox.db import Backlog, Claim, OutboxDB, OutboxItem, StoredItem, TicketSeed
from integrations._http import IntegrationError, RateLimited
from integrations.domain import HelpdeskRequest, Ticket
from integrations.ports import Helpdesk, Notifier

logger = logging.getLogger(__name__)

MESSAGE_KINDS = ("message", "note")
# Emails to the team, sent once the conversation's ticket exists (its link goes in them).
EMAIL_KINDS = ("team_email", "team_alert")
# What the graph asks of the helpdesk, in its own words; the adapter maps them to its tickets.
REQUEST_KINDS = ("handoff", "approval_requested", "handback_consumed")
_REQUEST: TypeAdapter[HelpdeskRequest] = TypeAdapter(HelpdeskRequest)

TagChange = tuple[Sequence[Any], Sequence[Any]]


def merge_tag_changes(changes: Sequence[TagChange]) -> tuple[list[str], list[str]]:
    """The net effect of several (add, remove) tag changes, in order: (to add, to remove)."""
    final: dict[str, bool] = {}
    for add, remove in changes:
        for name in remove:
            final[str(name)] = False
        for name in add:
            final[str(name)] = True
    return [t for t, keep in final.items() if keep], [t for t, keep in final.items() if not keep]


def merged_tags(items: Sequence[StoredItem]) -> tuple[list[str], list[str]]:
    """The net effect of several `tags` items, in order: (to add, to remove)."""
    return merge_tag_changes([(i.payload.get("add") or [], i.payload.get("remove") or []) for i in items])


def helpdesk_request(item: StoredItem) -> HelpdeskRequest | None:
    """The request an item records (None when its payload is not one: logged, then skipped)."""
    try:
        return _REQUEST.validate_python({**item.payload, "kind": item.kind})
    except ValidationError:
        logger.error("outbox item %s (%s) is not a valid helpdesk request; skipped", item.id, item.kind)
        return None


class _Stopped(Exception):
    """Delivery stopped part-way; what was done so far is kept."""


class HelpdeskSync:
    """Records mirroring work and delivers it, within the helpdesk account's budget."""

    def __init__(
        self,
        db: OutboxDB,
        helpdesk: Helpdesk,
        notifier: Notifier,
        *,
        clock: Callable[[], float] = time.time,
        lease_seconds: float = 120.0,
        poll_seconds: float = 1.0,
        max_backoff_seconds: float = 300.0,
        backlog_warning: int = 200,
        worker_id: str | None = None,
    ) -> None:
        self.db = db
        self._helpdesk = helpdesk
        self._notifier = notifier
        self._clock = clock
        self._lease = lease_seconds
        self._poll = poll_seconds
        self._max_backoff = max_backoff_seconds
        self._backlog_warning = backlog_warning
        self.worker_id = worker_id or f"worker-{uuid.uuid4().hex[:12]}"
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_backlog = 0
        self._watched_at = 0.0
        self.delivered = 0
        self.failures = 0

    # ------------------------------------------------------------------ recording

    async def record(self, conversation_id: str, items: Sequence[OutboxItem], seed: TicketSeed) -> int:
        """Record work for a conversation (items already recorded are ignored) and wake the worker."""
        added = await self.db.record(conversation_id, items, seed, self._clock())
        if added:
            self._wake.set()
        return added

    async def ticket_id(self, conversation_id: str) -> str | None:
        return await self.db.ticket_id(conversation_id)

    async def backlog(self) -> Backlog:
        return await self.db.backlog()

    # ------------------------------------------------------------------ delivery

    async def deliver_next(self, *, due_by: float | None = None) -> bool:
        """Claim and deliver one conversation's pending work; False when nothing was due."""
        claim = await self.db.claim(self.worker_id, self._clock(), self._lease, due_by=due_by)
        if claim is None:
            return False
        await self._deliver(claim)
        return True

    async def drain(self, *, include_delayed: bool = True, limit: int = 100_000) -> int:
        """Deliver until nothing is due (with `include_delayed`, also what waits for a retry).

        For tests, evals and the CLI, which want the helpdesk up to date before they look.
        A conversation that fails again is left for later rather than retried in a loop.
        """
        rounds = 0
        failures_before = self.failures
        while rounds < limit:
            due_by = float("inf") if include_delayed and self.failures == failures_before else None
            if not await self.deliver_next(due_by=due_by):
                break
            rounds += 1
        return rounds

    async def _deliver(self, claim: Claim) -> None:
        delivered: list[int] = []
        progress: dict[str, str | None] = {"ticket_id": claim.ticket_id}
        try:
            await self._deliver_items(claim, delivered, progress)
        except (IntegrationError, _Stopped) as exc:
            self.failures += 1
            retry_in = (
                exc.retry_after
                if isinstance(exc, RateLimited) and exc.retry_after
                else min(self._max_backoff, 2.0 ** min(claim.attempts + 1, 12))
            )
            logger.warning(
                "helpdesk sync for a conversation stopped after %d of %d items (%s); retrying in %.0f s",
                len(delivered),
                len(claim.items),
                type(exc).__name__,
                retry_in,
            )
            await self.db.complete(
                claim.conversation_id,
                delivered,
                progress["ticket_id"],
                self._clock(),
                retry_at=self._clock() + retry_in,
                error=str(exc)[:300] or type(exc).__name__,
            )
            return
        except BaseException:
            # Cancelled (shutdown) or a bug: keep what was done and free the conversation for another
            # worker before going (a cancellation is delivered once; this await completes).
            await self._release(claim, delivered, progress["ticket_id"])
            raise
        self.delivered += len(delivered)
        await self.db.complete(claim.conversation_id, delivered, progress["ticket_id"], self._clock())

    async def _release(self, claim: Claim, delivered: list[int], ticket_id: str | None) -> None:
        with suppress(Exception):
            await self.db.complete(claim.conversation_id, delivered, ticket_id, self._clock())

    async def _deliver_items(
        self, claim: Claim, delivered: list[int], progress: dict[str, str | None]
    ) -> None:
        """Deliver in order; records each delivered item's id and the ticket id as it goes."""
        batch: list[tuple[str, str, str]] = []
        message_ids: list[int] = []  # delivered once the batch is posted
        tag_changes: list[TagChange] = []
        change_ids: list[int] = []  # tag changes and requests: delivered once the tags are changed
        emails: list[StoredItem] = []
        for item in claim.items:
            if item.kind in MESSAGE_KINDS:
                batch.append(self._as_message(item))
                message_ids.append(item.id)
            elif item.kind == "tags":
                tag_changes.append((item.payload.get("add") or [], item.payload.get("remove") or []))
                change_ids.append(item.id)
            elif item.kind in REQUEST_KINDS and (request := helpdesk_request(item)) is not None:
                change = self._helpdesk.ticket_change(request)
                batch.extend(("note", text, external_id) for text, external_id in change.notes)
                tag_changes.append((change.add_tags, change.remove_tags))
                change_ids.append(item.id)
            elif item.kind in EMAIL_KINDS:
                emails.append(item)
            else:
                delivered.append(item.id)  # from a newer version (or broken): nothing to do here
        add, remove = merge_tag_changes(tag_changes)
        ticket_id = claim.ticket_id
        ticket: Ticket | None = None
        if ticket_id is None:
            await self.db.ticket_requested(claim.conversation_id)
            ticket = await self._helpdesk.ensure_ticket(
                conversation_id=claim.conversation_id,
                customer_email=claim.seed.customer_email,
                subject=claim.seed.subject or "Chat",
                tags=add,
                messages=batch,
                may_exist=claim.ticket_requested,
            )
            ticket_id = progress["ticket_id"] = ticket.id
            if claim.ticket_requested and batch:
                # An earlier attempt may have made the ticket (then it was found, not created, and
                # holds only what that attempt sent): post what is missing, each message once.
                await self._helpdesk.post_messages(ticket_id, batch)
            delivered.extend(message_ids)
            if remove or any(t not in ticket.tags for t in add):
                # An existing ticket (a redelivery) keeps its messages; its tags still need the change.
                ticket = await self._helpdesk.edit_tags(ticket_id, add=add, remove=remove)
            delivered.extend(change_ids)
        else:
            if batch:
                await self._helpdesk.post_messages(ticket_id, batch)
                delivered.extend(message_ids)
            if add or remove:
                ticket = await self._helpdesk.edit_tags(ticket_id, add=add, remove=remove)
            delivered.extend(change_ids)
        for item in emails:
            if ticket is None:
                ticket = await self._helpdesk.get_ticket(ticket_id)
            if item.kind == "team_alert":
                await self._send_team_alert(ticket, item.payload)
            else:
                await self._send_team_email(ticket, item.payload)
            delivered.append(item.id)

    @staticmethod
    def _as_message(item: StoredItem) -> tuple[str, str, str]:
        payload = item.payload
        author = "note" if item.kind == "note" else str(payload.get("author") or "assistant")
        return author, str(payload.get("text") or ""), str(payload.get("external_id") or item.key)

    async def _send_team_email(self, ticket: Ticket, payload: dict[str, Any]) -> None:
        transcript = [(str(role), str(text)) for role, text in payload.get("transcript") or []]
        await self._notifier.send_escalation(
            ticket=ticket,
            customer_email=payload.get("customer_email"),
            order_number=payload.get("order_number"),
            reason=str(payload.get("reason") or "handed over"),
            summary=str(payload.get("summary") or ""),
            transcript=transcript,
        )

    async def _send_team_alert(self, ticket: Ticket, payload: dict[str, Any]) -> None:
        """A security alert (`team_alert`, recorded by a tool once per lock-out): the team learns who
        is targeted, with the ticket of the conversation it came from."""
        until = payload.get("locked_until")
        details = [
            f"Identity verification for these was locked until {until} UTC after "
            f"{payload.get('failures')} failed attempts across conversations "
            f"(lock-out number {payload.get('lockouts')}; each further one lasts twice as long).",
            "Shoppers see the same neutral reply as for a wrong email or order number. If the customer is "
            "genuine, a person can verify them in the ticket; otherwise consider contacting the customer.",
        ]
        await self._notifier.send_security_alert(
            ticket=ticket,
            reason=str(payload.get("reason") or "security alert"),
            targets=[str(t) for t in payload.get("targets") or []],
            details=details,
        )

    # ------------------------------------------------------------------ the background loop

    def start(self) -> None:
        """Run the worker in the background on the current event loop."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name=f"helpdesk-sync-{self.worker_id}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            # A delivery finishing its bookkeeping gets a moment; a stop never hangs on it.
            await asyncio.wait({task}, timeout=5.0)
            # Cancelled between a claim and its release, the worker would keep the conversation
            # leased until the lease ran out: free it now for the next worker (or this one restarted).
            with suppress(Exception):
                await self.db.release_worker(self.worker_id)

    async def run(self) -> None:
        """Deliver whatever is due, then wait for new work (woken in-process, polling otherwise:
        another process may have recorded it)."""
        while True:
            try:
                await self._watch_backlog()
                while await self.deliver_next():
                    if self._clock() - self._watched_at >= 10.0:
                        await self._watch_backlog()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not end the worker
                logger.exception("helpdesk sync worker error; continuing")
            self._wake.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)

    async def _watch_backlog(self) -> None:
        self._watched_at = self._clock()
        backlog = await self.db.backlog()
        if backlog.items >= self._backlog_warning and backlog.items > self._last_backlog:
            age = self._clock() - backlog.oldest_created_at if backlog.oldest_created_at else 0.0
            logger.warning(
                "helpdesk backlog growing: %d items in %d conversations, oldest %.0f s",
                backlog.items,
                backlog.conversations,
                age,
            )
        self._last_backlog = backlog.items

"""Zendesk as the project's `Helpdesk`: one ticket per conversation (its `external_id` is the
conversation id), the shopper as its requester, every message a comment (public for the shopper's
and the bot's, private for notes); its webhooks and tag conventions are `ZendeskProtocol`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from integrations._http import VendorError
from integrations.domain import HelpdeskRequest, Ticket, TicketChange
from integrations.events import HelpdeskEvent
from integrations.helpdesk_tags import APPROVED_TAG, DENIED_TAG, HANDBACK_TAG
from integrations.zendesk.client import ZendeskClient
from integrations.zendesk.models import NewComment, ZendeskTicket
from integrations.zendesk.protocol import ZendeskProtocol

T = TypeVar("T")
INVALID = 422  # RecordInvalid: among others, "Status: closed prevents ticket update"


def visitor_email(conversation_id: str) -> str:
    """A Zendesk ticket needs a requester; an unverified shopper gets a per-conversation placeholder."""
    return f"visitor-{conversation_id[:16]}@chat.invalid"


class ZendeskHelpdesk:
    """`Helpdesk` over the Zendesk Support API. `ticket_url` is a template with `{id}`; `protocol`
    checks and reads the triggers' webhooks and owns the tag conventions (without it, every
    delivery is refused)."""

    def __init__(
        self, client: ZendeskClient, *, ticket_url: str = "", protocol: ZendeskProtocol | None = None
    ) -> None:
        self._client = client
        self._ticket_url = ticket_url
        self.protocol = protocol or ZendeskProtocol(secret="")
        self._requesters: dict[str, int] = {}  # ticket id -> requester (the shopper's comments' author)
        self._followups: dict[str, int] = {}  # a closed ticket's id -> the follow-up now written to

    # ------------------------------------------------------------------ the protocol

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        self.protocol.verify_webhook(headers, raw_body)

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> list[HelpdeskEvent]:
        return self.protocol.parse_webhook(headers, raw_body)

    def dedupe_keys(self, headers: Mapping[str, str], raw_body: bytes) -> list[str]:
        return self.protocol.dedupe_keys(headers, raw_body)

    def ticket_change(self, request: HelpdeskRequest) -> TicketChange:
        return self.protocol.ticket_change(request)

    # ------------------------------------------------------------------ tickets

    def _ticket(self, ticket: ZendeskTicket) -> Ticket:
        if ticket.requester_id is not None:
            self._requesters[str(ticket.id)] = ticket.requester_id
        return Ticket(
            id=str(ticket.id),
            status=ticket.status,
            tags=tuple(ticket.tags),
            external_id=ticket.external_id,
            assignee=str(ticket.assignee_id) if ticket.assignee_id is not None else None,
            url=self._ticket_url.format(id=ticket.id) if self._ticket_url else None,
        )

    async def _writing(self, ticket_id: str, write: Callable[[int], Awaitable[T]]) -> T:
        """Write to the conversation's ticket, or to its follow-up once Zendesk has closed it.

        Zendesk closes solved tickets after some days and refuses every update to them (422); a
        shopper coming back to the chat then continues in a follow-up ticket (same external id,
        `via_followup_source_id`), found again after a restart by its external id."""
        target = self._followups.get(ticket_id, int(ticket_id))
        try:
            return await write(target)
        except VendorError as exc:
            if exc.status != INVALID:
                raise
            closed = await self._client.get_ticket(target)
            if closed.status != "closed":
                raise
        followup = await self._followup(closed)
        self._followups[ticket_id] = followup.id
        self._ticket(followup)
        return await write(followup.id)

    async def _followup(self, closed: ZendeskTicket) -> ZendeskTicket:
        if closed.external_id:
            live = await self._client.find_ticket_by_external_id(closed.external_id)
            if live is not None and live.status != "closed":
                return live
        decisions = {HANDBACK_TAG, APPROVED_TAG, DENIED_TAG}  # decided on the closed ticket, not this one
        note = NewComment(
            body=f"The chat went on after ticket #{closed.id} was closed; this ticket follows it.",
            public=False,
            external_id=f"{closed.external_id or closed.id}:follows:{closed.id}",
        )
        ticket, _ = await self._client.create_ticket(
            requester_id=closed.requester_id or (await self._client.me()).id,
            subject=closed.subject or "Chat",
            comment=note,
            tags=[t for t in closed.tags if t not in decisions],
            external_id=closed.external_id,
            may_exist=False,
            follows=closed.id,
        )
        return ticket

    async def _requester(self, ticket_id: str) -> int | None:
        if ticket_id not in self._requesters:
            self._ticket(await self._client.get_ticket(int(ticket_id)))
        return self._requesters.get(ticket_id)

    @staticmethod
    def _comment(author: str, text: str, external_id: str, requester_id: int | None) -> NewComment:
        if author == "note":
            return NewComment(body=text, public=False, external_id=external_id)
        if author == "shopper":
            return NewComment(body=text, public=True, author_id=requester_id, external_id=external_id)
        return NewComment(body=text, public=True, external_id=external_id)  # the bot: the API user

    async def ensure_ticket(
        self,
        *,
        conversation_id: str,
        customer_email: str | None,
        subject: str,
        tags: Sequence[str],
        messages: Sequence[tuple[str, str, str]] = (),
        may_exist: bool = True,
    ) -> Ticket:
        requester = await self._client.user_by_email(customer_email or visitor_email(conversation_id))
        opening = NewComment(
            body=f"Conversation {conversation_id} started in the chat widget; the AI assistant is handling it.",
            public=False,
            external_id=f"{conversation_id}:opened",
        )
        ticket, created = await self._client.create_ticket(
            requester_id=requester.id,
            subject=subject,
            comment=opening,
            tags=tags,
            external_id=conversation_id,
            may_exist=may_exist,
        )
        result = self._ticket(ticket)
        if created and messages:
            # Zendesk takes one comment per update: the transcript follows the opening note.
            comments = [self._comment(a, t, x, requester.id) for a, t, x in messages]
            await self._client.add_comments(ticket.id, comments)
        return result

    async def post_message(
        self, ticket_id: str, *, text: str, author: str, internal: bool, external_id: str
    ) -> None:
        await self.post_messages(ticket_id, [("note" if internal else author, text, external_id)])

    async def post_messages(self, ticket_id: str, messages: Sequence[tuple[str, str, str]]) -> None:
        requester = await self._requester(ticket_id)
        comments = [
            self._comment(author, text, external_id, requester) for author, text, external_id in messages
        ]
        await self._writing(ticket_id, lambda target: self._client.add_comments(target, comments))

    async def edit_tags(self, ticket_id: str, *, add: Sequence[str], remove: Sequence[str]) -> Ticket:
        updated = await self._writing(
            ticket_id, lambda target: self._client.update_ticket(target, add_tags=add, remove_tags=remove)
        )
        return self._ticket(updated)

    async def add_tags(self, ticket_id: str, tags: Sequence[str]) -> Ticket:
        return await self.edit_tags(ticket_id, add=tags, remove=())

    async def remove_tags(self, ticket_id: str, tags: Sequence[str]) -> Ticket:
        return await self.edit_tags(ticket_id, add=(), remove=tags)

    async def set_status(self, ticket_id: str, status: str) -> Ticket:
        """Zendesk's statuses (new, open, pending, hold, solved); `closed` means solved here, as a
        person closing a ticket in Zendesk solves it (Zendesk closes solved tickets itself)."""
        wanted = "solved" if status == "closed" else status
        return self._ticket(
            await self._writing(ticket_id, lambda target: self._client.update_ticket(target, status=wanted))
        )

    async def get_ticket(self, ticket_id: str) -> Ticket:
        target = self._followups.get(ticket_id, int(ticket_id))
        return self._ticket(await self._client.get_ticket(target))

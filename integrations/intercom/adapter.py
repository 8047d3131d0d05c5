"""Intercom as the project's `Helpdesk`: one conversation per chat, opened as the shopper (a contact
found or created by email) and marked with our conversation id in a conversation data attribute;
the shopper's messages are the contact's replies, the bot's are admin replies by the bot's admin,
notes are admin notes. A hand-off also opens the conversation and assigns it (to a team or an admin)
when the store names one. Its webhooks and tag conventions are `IntercomProtocol`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from integrations.domain import HelpdeskRequest, Ticket, TicketChange
from integrations.events import HelpdeskEvent
from integrations.helpdesk_tags import HANDOVER_TAG
from integrations.intercom.client import CONVERSATION_ATTRIBUTE, IntercomClient, NewPart, Role
from integrations.intercom.models import IntercomConversation
from integrations.intercom.protocol import IntercomProtocol


def visitor_email(conversation_id: str) -> str:
    """An unverified shopper still needs a contact: a per-conversation placeholder address."""
    return f"visitor-{conversation_id[:16]}@chat.invalid"


def _role(author: str) -> Role:
    return "user" if author == "shopper" else "note" if author == "note" else "admin"


class IntercomHelpdesk:
    """`Helpdesk` over the Intercom REST API. `ticket_url` is a template with `{id}`;
    `handoff_assignee` is `team:<id>`, `admin:<id>` or empty (no assignment on a hand-off)."""

    def __init__(
        self,
        client: IntercomClient,
        *,
        ticket_url: str = "",
        protocol: IntercomProtocol | None = None,
        handoff_assignee: str = "",
    ) -> None:
        self._client = client
        self._ticket_url = ticket_url
        self.protocol = protocol or IntercomProtocol(secret="")
        kind, _, assignee = handoff_assignee.partition(":")
        self._assignee = (kind == "team", assignee.strip()) if assignee.strip() else None

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

    def _ticket(self, conversation: IntercomConversation) -> Ticket:
        assignee = conversation.admin_assignee_id or conversation.team_assignee_id
        ours = conversation.custom_attributes.get(CONVERSATION_ATTRIBUTE)
        return Ticket(
            id=conversation.id,
            status=conversation.state,
            tags=tuple(conversation.tag_names),
            external_id=str(ours) if ours else None,
            assignee=assignee if assignee not in (None, "0") else None,
            url=self._ticket_url.format(id=conversation.id) if self._ticket_url else None,
        )

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
        contact = await self._client.contact_by_email(customer_email or visitor_email(conversation_id))
        # The conversation opens with the shopper's first message (Intercom's conversations are the
        # contact's); without one, with the subject.
        rest = list(messages)
        opening = subject or "Chat"
        if rest and rest[0][0] == "shopper" and rest[0][1].strip():
            opening = rest.pop(0)[1]
        conversation, created = await self._client.create_conversation(
            contact_id=contact.id, body=opening, external_id=conversation_id, may_exist=may_exist
        )
        if created and rest:
            await self._client.add_parts(conversation.id, [NewPart(_role(a), t) for a, t, _ in rest])
        if tags:
            return await self.edit_tags(conversation.id, add=tags, remove=())
        return self._ticket(conversation)

    async def post_message(
        self, ticket_id: str, *, text: str, author: str, internal: bool, external_id: str
    ) -> None:
        await self.post_messages(ticket_id, [("note" if internal else author, text, external_id)])

    async def post_messages(self, ticket_id: str, messages: Sequence[tuple[str, str, str]]) -> None:
        await self._client.add_parts(ticket_id, [NewPart(_role(a), t) for a, t, _ in messages if t.strip()])

    async def edit_tags(self, ticket_id: str, *, add: Sequence[str], remove: Sequence[str]) -> Ticket:
        before = await self._client.get_conversation(ticket_id)
        handover = HANDOVER_TAG in add and HANDOVER_TAG not in before.tag_names
        conversation = await self._client.edit_tags(ticket_id, add=add, remove=remove, current=before)
        if handover:
            # A person should see it: in the inbox (open) and, when the store says whose, assigned.
            if conversation.state != "open":
                conversation = await self._client.open(ticket_id)
            if self._assignee is not None:
                team, assignee = self._assignee
                conversation = await self._client.assign(ticket_id, assignee_id=assignee, team=team)
        return self._ticket(conversation)

    async def add_tags(self, ticket_id: str, tags: Sequence[str]) -> Ticket:
        return await self.edit_tags(ticket_id, add=tags, remove=())

    async def remove_tags(self, ticket_id: str, tags: Sequence[str]) -> Ticket:
        return await self.edit_tags(ticket_id, add=(), remove=tags)

    async def set_status(self, ticket_id: str, status: str) -> Ticket:
        """`closed` (or `solved`) closes the conversation; anything else opens it."""
        if status in ("closed", "solved"):
            return self._ticket(await self._client.close(ticket_id))
        return self._ticket(await self._client.open(ticket_id))

    async def get_ticket(self, ticket_id: str) -> Ticket:
        return self._ticket(await self._client.get_conversation(ticket_id))

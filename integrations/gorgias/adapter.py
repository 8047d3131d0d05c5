"""Gorgias as the project's `Helpdesk`: one ticket per conversation, messages mirrored once;
its webhooks and tag conventions are `GorgiasProtocol` (integrations/gorgias/protocol.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from integrations.domain import HelpdeskRequest, Ticket, TicketChange
from integrations.events import HelpdeskEvent
from integrations.gorgias.client import GorgiasClient
from integrations.gorgias.models import GorgiasTicket, NewMessage
from integrations.gorgias.protocol import GorgiasProtocol


def visitor_email(conversation_id: str) -> str:
    """Gorgias tickets need a customer; an unverified shopper gets a per-conversation placeholder."""
    return f"visitor-{conversation_id[:16]}@chat.invalid"


class GorgiasHelpdesk:
    """`Helpdesk` over the Gorgias REST API. `ticket_url` is a template with `{id}`; `protocol`
    checks and reads the HTTP integration's deliveries and owns the tag conventions (without it,
    every delivery is refused)."""

    def __init__(
        self, client: GorgiasClient, *, ticket_url: str = "", protocol: GorgiasProtocol | None = None
    ) -> None:
        self._client = client
        self._ticket_url = ticket_url
        self.protocol = protocol or GorgiasProtocol(secret="")
        self._customers: dict[str, str] = {}  # ticket id -> customer email, for mirrored replies

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

    def _ticket(self, ticket: GorgiasTicket) -> Ticket:
        assignee = ticket.assignee_user.email if ticket.assignee_user else None
        if ticket.customer and ticket.customer.email:
            self._customers[str(ticket.id)] = ticket.customer.email
        return Ticket(
            id=str(ticket.id),
            status=ticket.status,
            tags=tuple(ticket.tag_names),
            external_id=ticket.external_id,
            assignee=assignee,
            url=self._ticket_url.format(id=ticket.id) if self._ticket_url else None,
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
        # Gorgias creates the ticket's customer from its email when it is new: no customer call.
        email = customer_email or visitor_email(conversation_id)
        opening = NewMessage.internal_note(
            f"Conversation {conversation_id} started in the chat widget; the AI assistant is handling it.",
            external_id=f"{conversation_id}:opened",
        )
        ticket = await self._client.create_ticket(
            customer_email=email,
            subject=subject,
            messages=[opening, *(self._message(a, t, x, email) for a, t, x in messages)],
            tags=list(tags),
            external_id=conversation_id,
            channel="chat",
            may_exist=may_exist,
        )
        return self._ticket(ticket)

    async def post_message(
        self, ticket_id: str, *, text: str, author: str, internal: bool, external_id: str
    ) -> None:
        if internal or author == "note":
            message = NewMessage.internal_note(text, external_id=external_id)
        elif author == "shopper":
            message = NewMessage.from_customer(
                text, email=self._customers.get(ticket_id), external_id=external_id
            )
        else:
            message = NewMessage.from_bot(
                text, customer_email=self._customers.get(ticket_id), external_id=external_id
            )
        await self._client.add_message(int(ticket_id), message)

    @staticmethod
    def _message(author: str, text: str, external_id: str, email: str | None) -> NewMessage:
        if author == "note":
            return NewMessage.internal_note(text, external_id=external_id)
        if author == "shopper":
            return NewMessage.from_customer(text, email=email, external_id=external_id)
        return NewMessage.from_bot(text, customer_email=email, external_id=external_id)

    async def post_messages(self, ticket_id: str, messages: Sequence[tuple[str, str, str]]) -> None:
        email = self._customers.get(ticket_id)
        batch = [self._message(author, text, external_id, email) for author, text, external_id in messages]
        await self._client.add_messages(int(ticket_id), batch)

    async def edit_tags(self, ticket_id: str, *, add: Sequence[str], remove: Sequence[str]) -> Ticket:
        return self._ticket(await self._client.edit_tags(int(ticket_id), add=list(add), remove=list(remove)))

    async def add_tags(self, ticket_id: str, tags: Sequence[str]) -> Ticket:
        return self._ticket(await self._client.add_tags(int(ticket_id), list(tags)))

    async def remove_tags(self, ticket_id: str, tags: Sequence[str]) -> Ticket:
        return self._ticket(await self._client.remove_tags(int(ticket_id), list(tags)))

    async def set_status(self, ticket_id: str, status: str) -> Ticket:
        return self._ticket(await self._client.update_ticket(int(ticket_id), status=status))

    async def get_ticket(self, ticket_id: str) -> Ticket:
        return self._ticket(await self._client.get_ticket(int(ticket_id)))

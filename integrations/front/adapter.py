"""Front as the project's `Helpdesk`: one Front conversation per chat, in the store's application
channel. The shopper's messages are synced as inbound messages and the bot's as outbound ones,
threaded by our conversation id; notes are internal comments; tags and archive / reopen are the
Core API's. The ticket id the agent keeps is the conversation's number (the one in Front's app
URLs; `cnv_` + base 36 of it is the API id). Webhooks and tag conventions are `FrontProtocol`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from integrations.domain import HelpdeskRequest, Ticket, TicketChange
from integrations.events import HelpdeskEvent
from integrations.front.client import FrontClient
from integrations.front.models import FrontConversation
from integrations.front.protocol import FrontProtocol, chat_handle, conversation_of_handle

BOT_NAME = "AI assistant"


class FrontHelpdesk:
    """`Helpdesk` over Front's Core and Channel APIs. `ticket_url` is a template with `{id}` (the
    conversation number) or `{api_id}`; `protocol` checks and reads the app's webhooks (without it,
    every delivery is refused)."""

    def __init__(
        self, client: FrontClient, *, ticket_url: str = "", protocol: FrontProtocol | None = None
    ) -> None:
        self._client = client
        self._ticket_url = ticket_url
        self.protocol = protocol or FrontProtocol(secret="")
        self._chats: dict[str, str] = {}  # ticket id -> our conversation id
        self._names: dict[str, str] = {}  # ticket id -> the shopper's display name

    # ------------------------------------------------------------------ the protocol

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        self.protocol.verify_webhook(headers, raw_body)

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> list[HelpdeskEvent]:
        return self.protocol.parse_webhook(headers, raw_body)

    def dedupe_keys(self, headers: Mapping[str, str], raw_body: bytes) -> list[str]:
        return self.protocol.dedupe_keys(headers, raw_body)

    def ticket_change(self, request: HelpdeskRequest) -> TicketChange:
        return self.protocol.ticket_change(request)

    # ------------------------------------------------------------------ conversations

    def _ticket(self, conversation: FrontConversation) -> Ticket:
        ticket_id = str(conversation.number)
        chat = conversation_of_handle(conversation.recipient.handle if conversation.recipient else None)
        if chat is not None:
            self._chats[ticket_id] = chat
        status = "closed" if conversation.status == "archived" else conversation.status
        return Ticket(
            id=ticket_id,
            status=status,
            tags=tuple(t.name for t in conversation.tags),
            external_id=chat,
            assignee=conversation.assignee.id if conversation.assignee else None,
            url=self._ticket_url.format(id=ticket_id, api_id=conversation.id) if self._ticket_url else None,
        )

    async def _chat(self, ticket_id: str) -> str:
        if ticket_id not in self._chats:
            self._ticket(await self._client.get_conversation(ticket_id))
        chat = self._chats.get(ticket_id)
        if chat is None:
            raise ValueError(f"Front conversation {ticket_id} is not a chat of this channel")
        return chat

    async def _sync(
        self,
        chat: str,
        name: str | None,
        author: str,
        text: str,
        external_id: str,
        subject: str | None = None,
    ) -> str:
        """Sync one message of the chat into the channel; returns the imported message's uid."""
        if author == "shopper":
            accepted = await self._client.sync_inbound(
                handle=chat_handle(chat),
                name=name,
                text=text,
                external_id=external_id,
                conversation_ref=chat,
                subject=subject,
            )
        else:
            accepted = await self._client.sync_outbound(
                to_handle=chat_handle(chat),
                to_name=name,
                sender_name=BOT_NAME,
                text=text,
                external_id=external_id,
                conversation_ref=chat,
                subject=subject,
            )
        return accepted.message_uid

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
        """The chat's conversation: made (or, when it exists, found, as Front threads every message
        with the same external conversation id into it) by syncing its first message."""
        name = customer_email or "Chat visitor"
        first = next((m for m in messages if m[0] != "note"), None)
        if first is None:
            first = (
                "assistant",
                f"Chat {conversation_id} started; the AI assistant is handling it.",
                f"{conversation_id}:opened",
            )
        uid = await self._sync(conversation_id, name, *first, subject=subject)
        message = await self._client.message_by_uid(uid)
        if message.conversation_id is None:
            raise ValueError("Front's imported message names no conversation")
        conversation = await self._client.get_conversation(message.conversation_id)
        ticket_id = str(conversation.number)
        self._chats[ticket_id], self._names[ticket_id] = conversation_id, name
        rest = [m for m in messages if m is not first]
        if rest:
            await self._post(ticket_id, conversation_id, rest, check_existing=may_exist)
        if tags:
            await self._client.add_tags(conversation.id, tags)
            conversation = await self._client.get_conversation(conversation.id)
        return self._ticket(conversation)

    async def post_message(
        self, ticket_id: str, *, text: str, author: str, internal: bool, external_id: str
    ) -> None:
        await self.post_messages(ticket_id, [("note" if internal else author, text, external_id)])

    async def post_messages(self, ticket_id: str, messages: Sequence[tuple[str, str, str]]) -> None:
        await self._post(ticket_id, await self._chat(ticket_id), messages, check_existing=True)

    async def _post(
        self, ticket_id: str, chat: str, messages: Sequence[tuple[str, str, str]], *, check_existing: bool
    ) -> None:
        """In order: notes as comments, the rest synced; with `check_existing`, what the
        conversation already holds (by external id, a note by its text) is not sent again."""
        synced: set[str] = set()
        commented: set[str] = set()
        if check_existing:
            synced = {
                m.metadata.external_id
                for m in await self._client.list_messages(ticket_id)
                if m.metadata.external_id
            }
            if any(author == "note" for author, _, _ in messages):
                commented = {c.body for c in await self._client.list_comments(ticket_id)}
        name = self._names.get(ticket_id)
        for author, text, external_id in messages:
            if author == "note":
                if text not in commented:
                    await self._client.add_comment(ticket_id, text)
                    commented.add(text)
            elif external_id not in synced:
                await self._sync(chat, name, author, text, external_id)
                synced.add(external_id)

    async def edit_tags(self, ticket_id: str, *, add: Sequence[str], remove: Sequence[str]) -> Ticket:
        unwanted = [t for t in dict.fromkeys(remove) if t not in add]
        await self._client.remove_tags(ticket_id, unwanted)
        await self._client.add_tags(ticket_id, list(dict.fromkeys(add)))
        return await self.get_ticket(ticket_id)

    async def add_tags(self, ticket_id: str, tags: Sequence[str]) -> Ticket:
        return await self.edit_tags(ticket_id, add=tags, remove=())

    async def remove_tags(self, ticket_id: str, tags: Sequence[str]) -> Ticket:
        return await self.edit_tags(ticket_id, add=(), remove=tags)

    async def set_status(self, ticket_id: str, status: str) -> Ticket:
        """`closed` archives the conversation (as a teammate closing it in Front does); `open`
        reopens it."""
        wanted = "archived" if status in ("closed", "archived", "solved") else "open"
        await self._client.update_conversation(ticket_id, status=wanted)
        return await self.get_ticket(ticket_id)

    async def get_ticket(self, ticket_id: str) -> Ticket:
        return self._ticket(await self._client.get_conversation(ticket_id))

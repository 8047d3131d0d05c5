"""The Gorgias desk of the control API: a person acting in Gorgias, and the HTTP-integration
request Gorgias then sends (the body template this project documents, `sandbox/webhooks.py`, with
the shared secret in the header the store chose). Decisions are tags, as the protocol reads them
(`integrations/gorgias/protocol.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.helpdesk import add_message, find_ticket, tag_objects
from sandbox.helpdesks.desk import DeskError, Outgoing
from sandbox.webhooks import helpdesk_event
from sandbox.world import JSON, HelpdeskWebhook, World

HANDBACK_TAG = "ai_handback"
APPROVED_TAG = "refund-approved"
DENIED_TAG = "refund-denied"


def agent_user(world: World, email: str | None) -> JSON:
    """The helpdesk agent acting: the one with this email, or the first (a generic team one if none)."""
    for user in world.gorgias.users.values():
        if email is None or user["email"] == email:
            return user
    if email is not None:
        raise DeskError(404, f"No helpdesk agent {email}.")
    return {"id": 0, "name": "Support team", "email": "support@sandbox.test"}


class GorgiasDesk:
    name = "gorgias"

    def views(self, state: Mapping[str, Any]) -> list[JSON]:
        # Gorgias tickets are already in the neutral outline: it was drawn from them.
        tickets: Mapping[Any, JSON] = state.get("tickets") or {}
        return sorted(tickets.values(), key=lambda t: int(t["id"]))

    def view(self, world: World, ticket_id: int) -> JSON | None:
        return find_ticket(world, ticket_id)

    @staticmethod
    def _ticket(world: World, ticket_id: int) -> JSON:
        ticket = find_ticket(world, ticket_id)
        if ticket is None:
            raise DeskError(404, f"No ticket {ticket_id}.")
        return ticket

    def reply(self, world: World, ticket_id: int, text: str, agent_email: str | None) -> Outgoing:
        ticket = self._ticket(world, ticket_id)
        agent = agent_user(world, agent_email)
        if ticket.get("assignee_user") is None:
            ticket["assignee_user"] = {"id": agent["id"], "name": agent["name"], "email": agent["email"]}
        if ticket["status"] == "closed":
            ticket["status"] = "open"
            ticket["closed_datetime"] = None
        message = add_message(
            world,
            ticket,
            body_text=text,
            channel=ticket.get("channel") or "chat",
            via="helpdesk",
            from_agent=True,
            sender={"id": agent["id"], "name": agent["name"], "email": agent["email"]},
        )
        return Outgoing(
            "ticket-message-created", ticket["id"], helpdesk_event("ticket-message-created", ticket, message)
        )

    def close(self, world: World, ticket_id: int) -> Outgoing:
        ticket = self._ticket(world, ticket_id)
        ticket["status"] = "closed"
        ticket["closed_datetime"] = world.now_iso()
        ticket["updated_datetime"] = world.now_iso()
        return Outgoing("ticket-updated", ticket["id"], helpdesk_event("ticket-updated", ticket, None))

    def _tag(self, world: World, ticket_id: int, tag: str) -> Outgoing:
        """A person's decision expressed as a ticket tag, sent as Gorgias's `ticket-updated`."""
        ticket = self._ticket(world, ticket_id)
        ticket["tags"] = tag_objects([tag], ticket.get("tags"))
        ticket["updated_datetime"] = world.now_iso()
        return Outgoing("ticket-updated", ticket["id"], helpdesk_event("ticket-updated", ticket, None))

    def handback(self, world: World, ticket_id: int) -> Outgoing:
        return self._tag(world, ticket_id, HANDBACK_TAG)

    def approve(self, world: World, ticket_id: int) -> Outgoing:
        return self._tag(world, ticket_id, APPROVED_TAG)

    def deny(self, world: World, ticket_id: int) -> Outgoing:
        return self._tag(world, ticket_id, DENIED_TAG)

    def headers(self, hook: HelpdeskWebhook, raw_body: bytes, world: World) -> dict[str, str]:
        # An HTTP integration signs nothing: the store's chosen header carries the shared secret.
        return {hook.secret_header: hook.secret}

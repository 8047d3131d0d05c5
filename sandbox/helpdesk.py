"""Gorgias ticket records: the one place tickets and messages are built in the world.

Both the Gorgias emulator (API calls from our client) and the control API (a person playing
the human agent) go through these functions, so every ticket has the same shape.
"""

from __future__ import annotations

import html
import zlib
from typing import Any

from sandbox.world import JSON, World


def find_ticket(world: World, ticket_id: int) -> JSON | None:
    return world.gorgias.tickets.get(ticket_id)


def tag_objects(names: list[str], existing: list[JSON] | None = None) -> list[JSON]:
    """Tags as Gorgias returns them (`{"id", "name"}`), keeping order and dropping duplicates."""
    seen: dict[str, JSON] = {}
    for tag in existing or []:
        seen.setdefault(tag["name"], tag)
    for name in names:
        name = name.strip()
        if name and name not in seen:
            seen[name] = {"id": zlib.crc32(name.encode()) % 10_000_000, "name": name}
    return list(seen.values())


def add_message(
    world: World,
    ticket: JSON,
    *,
    body_text: str,
    channel: str,
    via: str,
    from_agent: bool,
    sender: JSON,
    body_html: str | None = None,
    public: bool | None = None,
    receiver: JSON | None = None,
    external_id: str | None = None,
) -> JSON:
    """Append a message to a ticket, as Gorgias stores it. Internal notes are never public."""
    message_id = world.new_int_id()
    is_note = channel == "internal-note"
    message: dict[str, Any] = {
        "id": message_id,
        "uri": f"/api/tickets/{ticket['id']}/messages/{message_id}/",
        "ticket_id": ticket["id"],
        "channel": channel,
        "via": via,
        "from_agent": from_agent,
        "public": False if is_note else (True if public is None else public),
        "sender": sender,
        "receiver": receiver,
        "subject": ticket.get("subject"),
        "body_text": body_text,
        "body_html": body_html if body_html is not None else f"<p>{html.escape(body_text)}</p>",
        "external_id": external_id,
        "created_datetime": world.now_iso(),
        "sent_datetime": world.now_iso(),
    }
    ticket.setdefault("messages", []).append(message)
    ticket["updated_datetime"] = world.now_iso()
    ticket["last_message_datetime"] = world.now_iso()
    if from_agent and not is_note:
        ticket["last_received_message_datetime"] = ticket.get("last_received_message_datetime")
    return message


def create_ticket(
    world: World,
    *,
    customer: JSON,
    subject: str | None,
    channel: str,
    via: str,
    tags: list[str],
    external_id: str | None,
    status: str = "open",
) -> JSON:
    ticket_id = world.new_int_id()
    ticket: JSON = {
        "id": ticket_id,
        "uri": f"/api/tickets/{ticket_id}/",
        "external_id": external_id,
        "channel": channel,
        "via": via,
        "status": status,
        "priority": "normal",
        "spam": False,
        "subject": subject,
        "customer": {"id": customer["id"], "email": customer.get("email"), "name": customer.get("name")},
        "assignee_user": None,
        "assignee_team": None,
        "tags": tag_objects(tags),
        "messages": [],
        "meta": {},
        "created_datetime": world.now_iso(),
        "updated_datetime": world.now_iso(),
        "opened_datetime": world.now_iso(),
        "closed_datetime": None,
        "last_message_datetime": None,
    }
    world.gorgias.tickets[ticket_id] = ticket
    return ticket

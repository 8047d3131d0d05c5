"""Intercom contact, conversation, part and tag records: the one place they are built in the world.

Both the Intercom emulator (our client's API calls) and the control API's Intercom desk (a teammate
acting in the inbox) go through these functions, so every record has the same shape: Intercom's
REST API 2.x objects. Bodies are stored as Intercom stores them, HTML (`<p>text</p>`); `render`
serves them as plain text when asked (`display_as=plaintext`).
"""

from __future__ import annotations

import copy
import html
import re
from typing import Any

from sandbox.world import JSON, World

APP_PACKAGE = "support-agent"  # `app_package_code` of what our app makes through the API
CONVERSATION_ATTRIBUTE = "support_agent_conversation_id"
_TAG = re.compile(r"<[^>]+>")


def unix(world: World) -> int:
    return int(world.now().timestamp())


def as_html(text: str) -> str:
    return "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n")) or "<p></p>"


def as_text(body: str | None) -> str:
    if not body:
        return ""
    return html.unescape(_TAG.sub("\n", body)).strip().replace("\n\n", "\n")


def person(record: JSON | None, kind: str) -> JSON:
    if record is None:
        return {"type": kind, "id": None, "name": None, "email": None}
    return {"type": kind, "id": record["id"], "name": record.get("name"), "email": record.get("email")}


# --------------------------------------------------------------------------- contacts


def contact_by_email(world: World, email: str) -> JSON | None:
    wanted = email.strip().lower()
    return next(
        (c for c in world.intercom.contacts.values() if (c.get("email") or "").strip().lower() == wanted),
        None,
    )


def new_contact(world: World, *, email: str | None, name: str | None, role: str = "user") -> JSON:
    contact_id = f"{world.new_int_id():024x}"
    contact: JSON = {
        "type": "contact",
        "id": contact_id,
        "workspace_id": world.intercom.app_id,
        "external_id": None,
        "role": role,
        "email": email,
        "phone": None,
        "name": name,
        "avatar": None,
        "owner_id": None,
        "has_hard_bounced": False,
        "marked_email_as_spam": False,
        "unsubscribed_from_emails": False,
        "created_at": unix(world),
        "updated_at": unix(world),
        "signed_up_at": unix(world) if role == "user" else None,
        "last_seen_at": None,
        "custom_attributes": {},
    }
    world.intercom.contacts[contact_id] = contact
    return contact


# --------------------------------------------------------------------------- conversations


def create_conversation(world: World, *, contact: JSON, body: str) -> tuple[JSON, str]:
    """A conversation the contact opened with `body` (through the API): `(conversation, message id)`."""
    conversation_id = world.new_int_id()
    message_id = str(world.new_int_id())
    conversation: JSON = {
        "type": "conversation",
        "id": str(conversation_id),
        "created_at": unix(world),
        "updated_at": unix(world),
        "waiting_since": unix(world),
        "snoozed_until": None,
        "source": {
            "type": "conversation",
            "id": message_id,
            "delivered_as": "customer_initiated",
            "subject": "",
            "body": as_html(body),
            "author": person(contact, "user"),
            "attachments": [],
            "url": None,
            "redacted": False,
        },
        "contacts": {
            "type": "contact.list",
            "contacts": [{"type": "contact", "id": contact["id"], "external_id": contact.get("external_id")}],
        },
        "first_contact_reply": {"created_at": unix(world), "type": "conversation", "url": None},
        "admin_assignee_id": None,
        "team_assignee_id": None,
        "open": True,
        "state": "open",
        "read": False,
        "tags": {"type": "tag.list", "tags": []},
        "priority": "not_priority",
        "sla_applied": None,
        "statistics": None,
        "conversation_rating": None,
        "teammates": None,
        "title": None,
        "custom_attributes": {},
        "topics": {},
        "ticket": None,
        "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": False},
        "ai_agent": None,
        "ai_agent_participated": False,
    }
    world.intercom.conversations[conversation_id] = conversation
    world.intercom.parts[conversation_id] = []
    return conversation, message_id


def add_part(
    world: World,
    conversation: JSON,
    *,
    part_type: str,
    author: JSON,
    body: str | None = None,
    via_api: bool,
    assigned_to: JSON | None = None,
) -> JSON:
    """Append a part, moving the conversation as Intercom does: a contact's reply reopens a closed or
    snoozed conversation and makes it wait for the team; a teammate's reply ends the waiting."""
    part: JSON = {
        "type": "conversation_part",
        "id": str(world.new_int_id()),
        "part_type": part_type,
        "body": as_html(body) if body is not None else None,
        "created_at": unix(world),
        "updated_at": unix(world),
        "notified_at": unix(world),
        "assigned_to": assigned_to,
        "author": author,
        "attachments": [],
        "external_id": None,
        "redacted": False,
        "email_message_metadata": None,
        "state": conversation["state"],
        "tags": [],
        "event_details": None,
        "app_package_code": APP_PACKAGE if via_api else None,
    }
    world.intercom.parts.setdefault(int(conversation["id"]), []).append(part)
    if part_type == "comment" and author["type"] in ("user", "lead"):
        if conversation["state"] != "open":
            set_state(conversation, "open")
        conversation["waiting_since"] = unix(world)
    elif part_type == "comment" and author["type"] == "admin":
        conversation["waiting_since"] = None
    conversation["updated_at"] = unix(world)
    part["state"] = conversation["state"]
    return part


def set_state(conversation: JSON, state: str, snoozed_until: int | None = None) -> None:
    conversation["state"] = state
    conversation["open"] = state != "closed"
    conversation["snoozed_until"] = snoozed_until if state == "snoozed" else None


# --------------------------------------------------------------------------- tags


def tag_named(world: World, name: str, *, create: bool) -> JSON | None:
    found = next((t for t in world.intercom.tags.values() if t["name"] == name), None)
    if found is None and create:
        tag_id = str(world.new_int_id())
        found = {"type": "tag", "id": tag_id, "name": name}
        world.intercom.tags[tag_id] = found
    return found


def apply_tag(world: World, conversation: JSON, tag: JSON, applied_by: JSON) -> None:
    tags: list[JSON] = conversation["tags"]["tags"]
    if any(t["id"] == tag["id"] for t in tags):
        return
    tags.append(
        {
            "type": "tag",
            "id": tag["id"],
            "name": tag["name"],
            "applied_at": unix(world),
            "applied_by": {"type": applied_by["type"], "id": applied_by["id"]},
        }
    )
    conversation["updated_at"] = unix(world)


def remove_tag(world: World, conversation: JSON, tag_id: str) -> bool:
    tags: list[JSON] = conversation["tags"]["tags"]
    kept = [t for t in tags if t["id"] != tag_id]
    conversation["tags"]["tags"] = kept
    conversation["updated_at"] = unix(world)
    return len(kept) != len(tags)


# --------------------------------------------------------------------------- serving


def render(world: World, conversation: JSON, *, plaintext: bool = False, parts: bool = True) -> JSON:
    """The conversation as the API serves it: with its parts (the 500 most recent), bodies as HTML
    or, with `plaintext`, as text."""
    served: JSON = copy.deepcopy(conversation)  # a snapshot: later changes must not reach a sent body
    served["admin_assignee_id"] = _number(conversation.get("admin_assignee_id"))
    served["team_assignee_id"] = _number(conversation.get("team_assignee_id"))
    source = dict(conversation["source"])
    if plaintext:
        source["body"] = as_text(source.get("body"))
    served["source"] = source
    if parts:
        stored = world.intercom.parts.get(int(conversation["id"]), [])
        listed: list[JSON] = []
        for part in stored[-500:]:
            served_part: JSON = copy.deepcopy(part)
            if plaintext and served_part.get("body") is not None:
                served_part["body"] = as_text(served_part["body"])
            listed.append(served_part)
        served["conversation_parts"] = {
            "type": "conversation_part.list",
            "conversation_parts": listed,
            "total_count": len(stored),
        }
    return served


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, str) and value.isdigit() else value

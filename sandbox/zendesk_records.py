"""Zendesk ticket, comment and user records: the one place they are built in the world.

Both the Zendesk emulator (our client's API calls) and the control API's Zendesk desk (a person
acting in the agent workspace) go through these functions, so every record has the same shape:
Zendesk's API v2 objects, comments kept per ticket as `GET /tickets/{id}/comments` serves them.
"""

from __future__ import annotations

import html
from typing import Any

from sandbox.world import JSON, World

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")


def base_url(world: World) -> str:
    return f"https://{world.zendesk.subdomain}.zendesk.com/api/v2"


def user_by_email(world: World, email: str) -> JSON | None:
    wanted = email.strip().lower()
    return next(
        (u for u in world.zendesk.users.values() if (u.get("email") or "").strip().lower() == wanted), None
    )


def api_user(world: World) -> JSON:
    """The user the sandbox's API token belongs to."""
    user = user_by_email(world, world.credentials.zendesk_email)
    if user is None:  # a seed without it: made on first use
        user = new_user(world, email=world.credentials.zendesk_email, name="Support assistant", role="admin")
    return user


def new_user(world: World, *, email: str, name: str, role: str = "end-user") -> JSON:
    user_id = world.new_int_id()
    user: JSON = {
        "id": user_id,
        "url": f"{base_url(world)}/users/{user_id}.json",
        "name": name,
        "email": email,
        "role": role,
        "active": True,
        "created_at": world.now_iso(),
        "updated_at": world.now_iso(),
    }
    world.zendesk.users[user_id] = user
    return user


def is_agent(user: JSON | None) -> bool:
    return user is not None and user.get("role") in ("agent", "admin")


def add_comment(
    world: World,
    ticket: JSON,
    *,
    author: JSON,
    body: str,
    public: bool,
    channel: str,
    custom: dict[str, Any] | None = None,
) -> JSON:
    """Append a comment as Zendesk stores it, and move the status as Zendesk does: an end user's
    comment reopens a pending or solved ticket; an agent's public comment opens a new one."""
    comment_id = world.new_int_id()
    comment: JSON = {
        "id": comment_id,
        "type": "Comment",
        "author_id": author["id"],
        "body": body,
        "html_body": f'<div class="zd-comment"><p>{html.escape(body)}</p></div>',
        "plain_body": body,
        "public": public,
        "attachments": [],
        "audit_id": world.new_int_id(),
        "via": {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}},
        "created_at": world.now_iso(),
        "metadata": {"system": {}, "custom": dict(custom or {})},
    }
    world.zendesk.comments.setdefault(ticket["id"], []).append(comment)
    if is_agent(author):
        if public and ticket["status"] == "new":
            ticket["status"] = "open"
    elif ticket["status"] in ("pending", "solved"):
        ticket["status"] = "open"
    if public:
        ticket["is_public"] = True
    ticket["updated_at"] = world.now_iso()
    return comment


def create_ticket(
    world: World,
    *,
    requester: JSON,
    submitter: JSON,
    subject: str,
    tags: list[str],
    external_id: str | None,
    status: str | None,
    assignee_id: int | None,
    channel: str,
) -> JSON:
    ticket_id = world.new_int_id()
    ticket: JSON = {
        "id": ticket_id,
        "url": f"{base_url(world)}/tickets/{ticket_id}.json",
        "external_id": external_id,
        "via": {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}},
        "created_at": world.now_iso(),
        "updated_at": world.now_iso(),
        "type": None,
        "subject": subject,
        "raw_subject": subject,
        "description": "",
        "priority": None,
        "status": status or ("open" if assignee_id is not None else "new"),
        "requester_id": requester["id"],
        "submitter_id": submitter["id"],
        "assignee_id": assignee_id,
        "organization_id": None,
        "group_id": None,
        "collaborator_ids": [],
        "follower_ids": [],
        "has_incidents": False,
        "is_public": False,
        "tags": unique_tags(tags),
        "custom_fields": [],
    }
    world.zendesk.tickets[ticket_id] = ticket
    return ticket


def unique_tags(names: list[str], existing: list[str] | None = None) -> list[str]:
    """Tags as Zendesk keeps them: lower case, no spaces (a space separates tags), no duplicates."""
    seen: dict[str, None] = dict.fromkeys(existing or [])
    for name in names:
        for part in str(name).lower().split():
            seen.setdefault(part, None)
    return list(seen)

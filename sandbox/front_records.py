"""Front records (Core API shapes): the one place the world's Front conversations, messages,
comments, tags and teammates are built.

Both the Front emulator (our client's API calls) and the control API's Front desk (a teammate
acting in Front) go through these functions, so every record has the same shape. Ids are Front's:
a prefix and base 36 of a number (`cnv_` + the conversation number the world keys them by).
"""

from __future__ import annotations

import html
from typing import Any

from integrations.front.models import conversation_api_id, conversation_number
from sandbox.world import JSON, World

API_ROOT = "https://api2.frontapp.com"


def base36(number: int) -> str:
    return conversation_api_id(number).removeprefix("cnv_")


def new_id(world: World, prefix: str) -> str:
    return f"{prefix}_{base36(world.new_int_id())}"


def number_of(api_id: str) -> int | None:
    """The world's key of a conversation from its API id (None for anything else)."""
    try:
        return conversation_number(api_id)
    except ValueError:
        return None


def timestamp(world: World) -> float:
    """Front's timestamps: seconds since the epoch, with decimals."""
    return round(world.now().timestamp(), 3)


def link(*parts: str) -> str:
    return "/".join((API_ROOT, *parts))


def teammate(world: World, *, name: str, email: str, number: int | None = None) -> JSON:
    """A teammate; a seed numbers its own (so the world's id counter is left as it was)."""
    first, _, last = name.partition(" ")
    teammate_id = f"tea_{base36(number)}" if number is not None else new_id(world, "tea")
    record: JSON = {
        "_links": {"self": link("teammates", teammate_id)},
        "id": teammate_id,
        "email": email,
        "username": email.split("@", 1)[0],
        "first_name": first,
        "last_name": last,
        "is_admin": False,
        "is_available": True,
        "is_blocked": False,
        "type": "user",
    }
    world.front.teammates[teammate_id] = record
    return record


def tag_named(world: World, name: str, *, create: bool) -> JSON | None:
    found = next((t for t in world.front.tags.values() if t["name"] == name), None)
    if found is None and create:
        tag_id = new_id(world, "tag")
        found = {
            "_links": {"self": link("tags", tag_id)},
            "id": tag_id,
            "name": name,
            "description": None,
            "highlight": None,
            "is_private": False,
            "is_visible_in_conversation_lists": True,
            "created_at": timestamp(world),
            "updated_at": timestamp(world),
        }
        world.front.tags[tag_id] = found
    return found


def add_tag(conversation: JSON, tag: JSON) -> bool:
    """Tag the conversation; False when it already had the tag."""
    if any(t["id"] == tag["id"] for t in conversation["tags"]):
        return False
    conversation["tags"].append({k: v for k, v in tag.items() if k in ("_links", "id", "name", "highlight")})
    return True


def new_conversation(world: World, *, subject: str, handle: str, name: str | None) -> JSON:
    number = world.new_int_id()
    api_id = conversation_api_id(number)
    conversation: JSON = {
        "_links": {
            "self": link("conversations", api_id),
            "related": {
                "events": link("conversations", api_id, "events"),
                "followers": link("conversations", api_id, "followers"),
                "messages": link("conversations", api_id, "messages"),
                "comments": link("conversations", api_id, "comments"),
                "inboxes": link("conversations", api_id, "inboxes"),
            },
        },
        "id": api_id,
        "subject": subject,
        "status": "unassigned",
        "assignee": None,
        "recipient": {
            "_links": {"related": {"contact": None}},
            "name": name,
            "handle": handle,
            "role": "from",
        },
        "tags": [],
        "links": [],
        "custom_fields": {},
        "created_at": timestamp(world),
        "is_private": False,
        "scheduled_reminders": [],
        "metadata": {},
    }
    world.front.conversations[number] = conversation
    world.front.messages[number] = []
    world.front.comments[number] = []
    return conversation


def reopen(conversation: JSON) -> None:
    """An archived conversation that gets a message is back in the inbox."""
    if conversation["status"] == "archived":
        conversation["status"] = "assigned" if conversation.get("assignee") else "unassigned"


def add_message(
    world: World,
    conversation: JSON,
    *,
    text: str,
    inbound: bool,
    handle: str,
    name: str | None,
    author: JSON | None,
    metadata: dict[str, Any] | None,
    subject: str | None = None,
) -> JSON:
    """A message in the channel: the shopper's (inbound, from `handle`), or one sent to them (by
    a teammate, `author`, or synced from the chat as sent by the bot)."""
    message_id = new_id(world, "msg")
    api_id = conversation["id"]
    recipients = [
        {
            "_links": {"related": {"contact": None}},
            "name": name,
            "handle": handle,
            "role": "from" if inbound else "to",
        }
    ]
    message: JSON = {
        "_links": {
            "self": link("messages", message_id),
            "related": {"conversation": link("conversations", api_id), "message_replied_to": None},
        },
        "id": message_id,
        "uid": f"{base36(world.new_int_id())}sbx",
        "type": "custom",
        "is_inbound": inbound,
        "draft_mode": None,
        "error_type": None,
        "version": None,
        "created_at": timestamp(world),
        "subject": subject or conversation.get("subject") or "",
        "blurb": text[:100],
        "author": author,
        "recipients": recipients,
        "body": f"<p>{html.escape(text)}</p>",
        "text": text,
        "attachments": [],
        "signature": None,
        "metadata": dict(metadata or {}),
    }
    world.front.messages[conversation_number(api_id)].append(message)
    reopen(conversation)
    return message


def public_message(message: JSON) -> JSON:
    """A message as the API serves it (the uid is only reachable through its `alt:uid:` alias)."""
    return {k: v for k, v in message.items() if k != "uid"}


def add_comment(world: World, conversation: JSON, *, body: str, author: JSON | None) -> JSON:
    comment_id = new_id(world, "com")
    comment: JSON = {
        "_links": {
            "self": link("comments", comment_id),
            "related": {"conversation": link("conversations", conversation["id"]), "mentions": None},
        },
        "id": comment_id,
        "author": author,
        "body": body,
        "posted_at": timestamp(world),
        "attachments": [],
        "is_pinned": False,
    }
    world.front.comments[conversation_number(conversation["id"])].append(comment)
    return comment

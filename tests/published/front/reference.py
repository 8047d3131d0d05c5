"""Front's published API examples, reduced.

Source: Front's API documentation as published from github.com/frontapp/api-documentation
(`source/includes/_endpoints.md` and `source/index.html.md`; read at commit d98d246 of the copy
at github.com/xdmnl/api-documentation): the response examples of "List teammate conversations"
(its one conversation, whose `last_message` is the message below), "Create comment", "List tags",
"Receive custom message" and "Get event", and the documented `_error` object. Kept: the fields our
client and protocol read and their neighbours; attachments, `children` links and the teammates'
`related` links are left out. Ids, names and timestamps are the documentation's own.
"""

from __future__ import annotations

from typing import Any

TEAMMATE: dict[str, Any] = {
    "_links": {"self": "https://api2.frontapp.com/teammates/tea_55c8c149"},
    "id": "tea_55c8c149",
    "email": "leela@planet-express.com",
    "username": "leela",
    "first_name": "Leela",
    "last_name": "Turanga",
    "is_admin": True,
    "is_available": True,
    "is_blocked": False,
}

TAG: dict[str, Any] = {
    "_links": {"self": "https://api2.frontapp.com/tags/tag_55c8c149"},
    "id": "tag_55c8c149",
    "name": "Robots",
    "highlight": "blue",
    "is_private": False,
}

MESSAGE: dict[str, Any] = {
    "_links": {
        "self": "https://api2.frontapp.com/messages/msg_55c8c149",
        "related": {
            "conversation": "https://api2.frontapp.com/conversations/cnv_55c8c149",
            "message_replied_to": "https://api2.frontapp.com/messages/msg_1ab23cd4",
        },
    },
    "id": "msg_55c8c149",
    "type": "email",
    "is_inbound": True,
    "is_draft": False,
    "created_at": 1453770984.123,
    "blurb": "Anything less than immortality is a...",
    "author": TEAMMATE,
    "recipients": [
        {
            "_links": {"related": {"contact": "https://api2.frontapp.com/contacts/crd_55c8c149"}},
            "handle": "calculon@momsbot.com",
            "role": "to",
        }
    ],
    "body": "Anything less than immortality is a complete waste of time.",
    "text": "Anything less than immortality is a complete waste of time.",
    "attachments": [],
    "metadata": {},
}

CONVERSATION: dict[str, Any] = {
    "_links": {
        "self": "https://api2.frontapp.com/conversations/cnv_55c8c149",
        "related": {
            "events": "https://api2.frontapp.com/conversations/cnv_55c8c149/events",
            "messages": "https://api2.frontapp.com/conversations/cnv_55c8c149/messages",
            "comments": "https://api2.frontapp.com/conversations/cnv_55c8c149/comments",
        },
    },
    "id": "cnv_55c8c149",
    "subject": "You broke my heart, Hubert.",
    "status": "archived",
    "assignee": TEAMMATE,
    "recipient": {
        "_links": {"related": {"contact": "https://api2.frontapp.com/contacts/crd_55c8c149"}},
        "handle": "calculon@momsbot.com",
        "role": "to",
    },
    "tags": [TAG],
    "last_message": MESSAGE,
    "created_at": 1453770984.123,
    "is_private": False,
}

COMMENT: dict[str, Any] = {
    "_links": {
        "self": "https://api2.frontapp.com/comments/inb_55c8c149",
        "related": {
            "conversation": "https://api2.frontapp.com/conversations/cnv_55c8c149",
            "mentions": "https://api2.frontapp.com/comments/com_55c8c149/mentions",
        },
    },
    "id": "com_55c8c149",
    "author": TEAMMATE,
    "body": "@bender, I thought you were supposed to be cooking for this party.",
    "posted_at": 1453770984.123,
}

TAGS_PAGE: dict[str, Any] = {
    "_links": {"self": "https://api2.frontapp.com/tags"},
    "_results": [{**TAG, "created_at": 0, "updated_at": 0}],
}

RECEIVED_CUSTOM_MESSAGE: dict[str, Any] = {"message_uid": "3b1q41d8"}
"""The 202 answer of `POST /channels/{channel_id}/incoming_messages`: the uid, usable as the
message's id alias `alt:uid:3b1q41d8` once Front has imported it (404 until then)."""

EVENT: dict[str, Any] = {
    "_links": {"self": "https://api2.frontapp.com/events/evt_55c8c149"},
    "id": "evt_55c8c149",
    "type": "assign",
    "emitted_at": 1453770984.123,
    "source": {"_meta": {"type": "rule"}, "data": {"id": "rul_55c8c149", "name": "Important deliveries"}},
    "target": {"_meta": {"type": "teammate"}, "data": TEAMMATE},
    "conversation": CONVERSATION,
}

ERROR: dict[str, Any] = {"_error": {"status": 404, "title": "Not found", "message": "Unknown conversation"}}
"""The documented error object (`status`, `title`, `message`); the values are ours (the page shows none)."""

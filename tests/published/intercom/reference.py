"""Intercom's published API examples, reduced.

Sources, all Intercom's own:
- the REST API reference for version 2.14 (Intercom's OpenAPI description, `descriptions/2.14/
  api.intercom.io.yaml` in the intercom/Intercom-OpenAPI repository, which the reference pages at
  developers.intercom.com are built from):
  - CONVERSATION: "Retrieve a conversation", its `conversation found` example (the custom-action
    and attribute-updated parts, `linked_objects`, `topics` and the empty statistics dropped);
  - CREATED_MESSAGE: "Creates a conversation", its `conversation created` example, with the
    request that made it (CREATE_REQUEST);
  - CONTACT: "Create contact", its `successful` example (the device, location and list fields
    dropped);
  - ERROR_401, ERROR_404: the `Unauthorized` and `Not found` examples of the same pages;
  - ADMIN_REPLY, ADMIN_NOTE, USER_REPLY: "Reply to a conversation", its request examples (the
    note's HTML shortened);
- the "Rate limiting" page of the REST API reference: RATE_HEADERS, its example response headers;
- the "Webhook models" / "Setting up webhooks" pages: the `notification_event` envelope's fields
  (NOTIFICATION wraps the published conversation as its `data.item`) and `X-Hub-Signature`,
  `sha1=` followed by the hex HMAC-SHA1 of the body keyed by the app's client secret.
"""

from __future__ import annotations

from typing import Any

CONVERSATION: dict[str, Any] = {
    "type": "conversation",
    "id": "503",
    "created_at": 1734537511,
    "updated_at": 1734537511,
    "waiting_since": None,
    "snoozed_until": None,
    "source": {
        "type": "conversation",
        "id": "403918334",
        "delivered_as": "admin_initiated",
        "subject": "",
        "body": "<p>this is the message body</p>",
        "author": {
            "type": "admin",
            "id": "991267645",
            "name": "Ciaran176 Lee",
            "email": "admin176@email.com",
        },
        "attachments": [],
        "url": None,
        "redacted": False,
    },
    "contacts": {
        "type": "contact.list",
        "contacts": [{"type": "contact", "id": "6762f1261bb69f9f2193bba7", "external_id": "70"}],
    },
    "first_contact_reply": None,
    "admin_assignee_id": 991267715,
    "team_assignee_id": 5017691,
    "open": False,
    "state": "closed",
    "read": False,
    "tags": {
        "type": "tag.list",
        "tags": [
            {
                "type": "tag",
                "id": "123456",
                "name": "Test tag",
                "applied_at": 1663597223,
                "applied_by": {"type": "contact", "id": "1a2b3c"},
            }
        ],
    },
    "priority": "not_priority",
    "title": None,
    "custom_attributes": {},
    "ai_agent_participated": False,
    "conversation_parts": {
        "type": "conversation_part.list",
        "conversation_parts": [
            {
                "type": "conversation_part",
                "id": 1,
                "part_type": "comment",
                "body": "<p>Okay!</p>",
                "created_at": 1663597223,
                "updated_at": 1663597260,
                "notified_at": 1663597260,
                "assigned_to": {"type": "contact", "id": "1a2b3c"},
                "author": {
                    "type": "admin",
                    "id": "274",
                    "name": "Operator",
                    "email": "operator+abcd1234@intercom.io",
                },
                "attachments": [],
                "external_id": "abcd1234",
                "redacted": False,
                "email_message_metadata": None,
                "state": "open",
                "tags": [{"type": "tag", "id": "123456", "name": "Test tag"}],
                "event_details": None,
                "app_package_code": None,
            }
        ],
        "total_count": 1,
    },
}

CREATE_REQUEST: dict[str, Any] = {
    "from": {"type": "user", "id": "6762f11b1bb69f9f2193bba3"},
    "body": "Hello there",
}

CREATED_MESSAGE: dict[str, Any] = {
    "type": "user_message",
    "id": "403918330",
    "created_at": 1734537501,
    "body": "Hello there",
    "message_type": "inapp",
    "conversation_id": "499",
}

CONTACT: dict[str, Any] = {
    "type": "contact",
    "id": "6762f0dd1bb69f9f2193bb83",
    "workspace_id": "this_is_an_id303_that_should_be_at_least_",
    "external_id": None,
    "role": "user",
    "email": "joebloggs@intercom.io",
    "phone": None,
    "name": None,
    "avatar": None,
    "owner_id": None,
    "has_hard_bounced": False,
    "marked_email_as_spam": False,
    "unsubscribed_from_emails": False,
    "created_at": 1734537437,
    "updated_at": 1734537437,
    "signed_up_at": None,
    "last_seen_at": None,
    "custom_attributes": {},
}

ADMIN_REPLY: dict[str, Any] = {
    "message_type": "comment",
    "type": "admin",
    "body": "Hello there!",
    "admin_id": "3156780",
}
ADMIN_NOTE: dict[str, Any] = {
    "message_type": "note",
    "type": "admin",
    "body": "<html> <body> <h2>An Unordered HTML List</h2> <ul> <li>Coffee</li> </ul> </body> </html>",
    "admin_id": "3156780",
}
USER_REPLY: dict[str, Any] = {
    "message_type": "comment",
    "type": "user",
    "body": "Thanks again :)",
    "intercom_user_id": "667d60f18a68186f43bafdf4",
}

ERROR_401: dict[str, Any] = {
    "type": "error.list",
    "request_id": "b14d75ab-7d26-4191-b33f-77ca0a4d4ede",
    "errors": [{"code": "unauthorized", "message": "Access Token Invalid"}],
}
ERROR_404: dict[str, Any] = {
    "type": "error.list",
    "request_id": "8c288c4f-b699-4209-9de4-064398f02785",
    "errors": [{"code": "not_found", "message": "Resource Not Found"}],
}

RATE_HEADERS: dict[str, str] = {
    "X-RateLimit-Limit": "100",
    "X-RateLimit-Remaining": "99",
    "X-RateLimit-Reset": "1487332510",
}

NOTIFICATION_FIELDS = (
    "type",
    "app_id",
    "data",
    "links",
    "id",
    "topic",
    "delivery_status",
    "delivery_attempts",
    "delivered_at",
    "first_sent_at",
    "created_at",
    "self",
)


def notification(topic: str, item: dict[str, Any]) -> dict[str, Any]:
    """A `notification_event` as the webhook models page lays it out, carrying `item`."""
    return {
        "type": "notification_event",
        "app_id": "a86dr8yl",
        "data": {"type": "notification_event_data", "item": item},
        "links": {},
        "id": "notif_ccd8a4d2-c9ae-4d0b-9bd7-1d5a3d26d6b8",
        "topic": topic,
        "delivery_status": "pending",
        "delivery_attempts": 1,
        "delivered_at": 0,
        "first_sent_at": 1734537600,
        "created_at": 1734537600,
        "self": None,
    }

"""The Intercom desk of the control API: a teammate acting in Intercom's inbox, and the webhook
notification Intercom then sends (`notification_event`, the conversation as `data.item`), signed as
Intercom signs it: `X-Hub-Signature: sha1=` and the hex HMAC-SHA1 of the body, keyed by the app's
client secret.

Replying is `conversation.admin.replied`, closing `conversation.admin.closed`; handing back and the
refund decisions are tags (`conversation_part.tag.created`), as the protocol reads them
(`integrations/intercom/protocol.py`).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping
from typing import Any

from sandbox.helpdesks.desk import DeskError, Outgoing
from sandbox.intercom_records import (
    CONVERSATION_ATTRIBUTE,
    add_part,
    apply_tag,
    as_text,
    person,
    render,
    set_state,
    tag_named,
    unix,
)
from sandbox.world import JSON, HelpdeskWebhook, World

HANDBACK_TAG = "ai_handback"
APPROVED_TAG = "refund-approved"
DENIED_TAG = "refund-denied"


def sign(secret: str, raw_body: bytes) -> str:
    return "sha1=" + hmac.new(secret.encode(), raw_body, hashlib.sha1).hexdigest()


def _who(record: JSON | None) -> JSON | None:
    if record is None:
        return None
    return {"id": record["id"], "name": record.get("name"), "email": record.get("email")}


class IntercomDesk:
    name = "intercom"

    # ------------------------------------------------------------------ the neutral view

    def views(self, state: Mapping[str, Any]) -> list[JSON]:
        conversations = {int(k): v for k, v in (state.get("conversations") or {}).items()}
        parts = {int(k): v for k, v in (state.get("parts") or {}).items()}
        return [
            self._view(
                conversations[k], parts.get(k, []), state.get("admins") or {}, state.get("contacts") or {}
            )
            for k in sorted(conversations)
        ]

    def view(self, world: World, ticket_id: int) -> JSON | None:
        conversation = world.intercom.conversations.get(ticket_id)
        if conversation is None:
            return None
        return self._view(
            conversation,
            world.intercom.parts.get(ticket_id, []),
            world.intercom.admins,
            world.intercom.contacts,
        )

    @staticmethod
    def _view(
        conversation: JSON, parts: list[JSON], admins: Mapping[str, JSON], contacts: Mapping[str, JSON]
    ) -> JSON:
        """The conversation in the neutral outline: its opening message and its comments and notes
        (notes are `internal-note`); what our app made through the API carries an `external_id`."""
        source = conversation["source"]
        messages: list[JSON] = [
            {
                "id": source["id"],
                "channel": "chat",
                "via": "api",
                "from_agent": source["author"]["type"] == "admin",
                "public": True,
                "sender": {k: source["author"].get(k) for k in ("id", "name", "email")},
                "body_text": as_text(source.get("body")),
                "external_id": f"source-{source['id']}",
                "created_datetime": conversation.get("created_at"),
            }
        ]
        for part in parts:
            if part["part_type"] not in ("comment", "note"):
                continue
            author = part["author"]
            messages.append(
                {
                    "id": part["id"],
                    "channel": "internal-note" if part["part_type"] == "note" else "chat",
                    "via": "api" if part.get("app_package_code") else "inbox",
                    "from_agent": author["type"] in ("admin", "bot"),
                    "public": part["part_type"] != "note",
                    "sender": {k: author.get(k) for k in ("id", "name", "email")},
                    "body_text": as_text(part.get("body")),
                    "external_id": f"part-{part['id']}" if part.get("app_package_code") else None,
                    "created_datetime": part.get("created_at"),
                }
            )
        contact_ids = [c["id"] for c in conversation["contacts"]["contacts"]]
        return {
            "vendor": "intercom",
            "id": int(conversation["id"]),
            "external_id": conversation["custom_attributes"].get(CONVERSATION_ATTRIBUTE),
            "status": conversation["state"],
            "subject": conversation.get("title"),
            "tags": [{"name": tag["name"]} for tag in conversation["tags"]["tags"]],
            "customer": _who(contacts.get(contact_ids[0])) if contact_ids else None,
            "assignee_user": _who(admins.get(str(conversation.get("admin_assignee_id")))),
            "assignee_team": conversation.get("team_assignee_id"),
            "messages": messages,
            "created_datetime": conversation.get("created_at"),
            "updated_datetime": conversation.get("updated_at"),
        }

    # ------------------------------------------------------------------ a teammate acting

    @staticmethod
    def _conversation(world: World, ticket_id: int) -> JSON:
        conversation = world.intercom.conversations.get(ticket_id)
        if conversation is None:
            raise DeskError(404, f"No ticket {ticket_id}.")
        return conversation

    @staticmethod
    def _teammate(world: World, email: str | None) -> JSON:
        """The teammate acting: the one with this email, or the first of the team (not the bot)."""
        admins = list(world.intercom.admins.values())
        if email is not None:
            found = next((a for a in admins if a.get("email") == email), None)
            if found is None:
                raise DeskError(404, f"No helpdesk agent {email}.")
            return found
        team = [a for a in admins if a["id"] != world.credentials.intercom_bot_admin_id]
        if not team:
            raise DeskError(409, "The Intercom workspace has no teammate.")
        return team[0]

    def _notification(self, world: World, topic: str, conversation: JSON) -> Outgoing:
        body: JSON = {
            "type": "notification_event",
            "app_id": world.intercom.app_id,
            "data": {"type": "notification_event_data", "item": render(world, conversation)},
            "links": {},
            "id": f"notif_{uuid.uuid4()}",
            "topic": topic,
            "delivery_status": "pending",
            "delivery_attempts": 1,
            "delivered_at": 0,
            "first_sent_at": unix(world),
            "created_at": unix(world),
            "self": None,
        }
        return Outgoing(topic, int(conversation["id"]), body)

    def reply(self, world: World, ticket_id: int, text: str, agent_email: str | None) -> Outgoing:
        conversation = self._conversation(world, ticket_id)
        teammate = self._teammate(world, agent_email)
        if conversation.get("admin_assignee_id") in (None, world.credentials.intercom_bot_admin_id):
            conversation["admin_assignee_id"] = teammate["id"]  # replying from the inbox takes it
        if conversation["state"] != "open":
            set_state(conversation, "open")
        add_part(
            world,
            conversation,
            part_type="comment",
            author=person(teammate, "admin"),
            body=text,
            via_api=False,
        )
        return self._notification(world, "conversation.admin.replied", conversation)

    def close(self, world: World, ticket_id: int) -> Outgoing:
        conversation = self._conversation(world, ticket_id)
        teammate = self._teammate(world, None)
        set_state(conversation, "closed")
        add_part(world, conversation, part_type="close", author=person(teammate, "admin"), via_api=False)
        return self._notification(world, "conversation.admin.closed", conversation)

    def _tag(self, world: World, ticket_id: int, name: str) -> Outgoing:
        conversation = self._conversation(world, ticket_id)
        tag = tag_named(world, name, create=True)
        assert tag is not None
        apply_tag(world, conversation, tag, person(self._teammate(world, None), "admin"))
        return self._notification(world, "conversation_part.tag.created", conversation)

    def handback(self, world: World, ticket_id: int) -> Outgoing:
        return self._tag(world, ticket_id, HANDBACK_TAG)

    def approve(self, world: World, ticket_id: int) -> Outgoing:
        return self._tag(world, ticket_id, APPROVED_TAG)

    def deny(self, world: World, ticket_id: int) -> Outgoing:
        return self._tag(world, ticket_id, DENIED_TAG)

    def headers(self, hook: HelpdeskWebhook, raw_body: bytes, world: World) -> dict[str, str]:
        return {"X-Hub-Signature": sign(hook.secret, raw_body), "User-Agent": "Intercom-Webhooks"}

"""The Front desk of the control API: a teammate acting in Front, and what the store's Front app
then sends, signed as Front signs an application's requests: base64 HMAC-SHA256 of the request
timestamp (milliseconds), a colon and the body, keyed by the app secret.

- A reply is a message the teammate sends in the channel: Front hands it to the channel's
  webhook (`{"type": "message", "payload": <message>}`) for the chat to deliver.
- Closing archives the conversation; handing back, approving and denying are tags the teammate
  adds: the application webhook's `archive` and `tag` events.

The timestamp is the wall clock's, not the world's: it is transport, like the rate limits, and the
receiver compares it with its own clock.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

from sandbox.front_records import add_message, add_tag, link, new_id, public_message, tag_named, timestamp
from sandbox.helpdesks.desk import DeskError, Outgoing
from sandbox.world import JSON, HelpdeskWebhook, World

HANDBACK_TAG = "ai_handback"
APPROVED_TAG = "refund-approved"
DENIED_TAG = "refund-denied"
NEUTRAL_STATUS = {"archived": "closed", "assigned": "open", "unassigned": "open"}


def sign(secret: str, stamp: str, raw_body: bytes) -> str:
    digest = hmac.new(secret.encode(), stamp.encode() + b":" + raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _person(teammate: JSON | None) -> JSON | None:
    if teammate is None:
        return None
    name = " ".join(p for p in (teammate.get("first_name"), teammate.get("last_name")) if p)
    return {"id": teammate["id"], "name": name or None, "email": teammate.get("email")}


class FrontDesk:
    name = "front"

    # ------------------------------------------------------------------ the neutral view

    def views(self, state: Mapping[str, Any]) -> list[JSON]:
        conversations = {int(k): v for k, v in (state.get("conversations") or {}).items()}
        messages = {int(k): v for k, v in (state.get("messages") or {}).items()}
        comments = {int(k): v for k, v in (state.get("comments") or {}).items()}
        return [
            self._view(k, conversations[k], messages.get(k, []), comments.get(k, []))
            for k in sorted(conversations)
        ]

    def view(self, world: World, ticket_id: int) -> JSON | None:
        conversation = world.front.conversations.get(ticket_id)
        if conversation is None:
            return None
        return self._view(
            ticket_id,
            conversation,
            world.front.messages.get(ticket_id, []),
            world.front.comments.get(ticket_id, []),
        )

    @staticmethod
    def _view(number: int, conversation: JSON, messages: list[JSON], comments: list[JSON]) -> JSON:
        """The conversation in the neutral outline (the Gorgias ticket's): comments are the notes,
        messages and comments in the order they were written."""
        entries: list[tuple[float, int, JSON]] = []
        for index, message in enumerate(messages):
            recipient = (message.get("recipients") or [{}])[0]
            shopper = {"id": None, "name": recipient.get("name"), "email": recipient.get("handle")}
            entries.append(
                (
                    float(message.get("created_at") or 0),
                    index,
                    {
                        "id": message["id"],
                        "channel": "chat",
                        "via": "api" if message.get("author") is None else "helpdesk",
                        "from_agent": not message.get("is_inbound"),
                        "public": True,
                        "sender": shopper if message.get("is_inbound") else _person(message.get("author")),
                        "body_text": message.get("text"),
                        "external_id": (message.get("metadata") or {}).get("external_id"),
                        "created_datetime": message.get("created_at"),
                    },
                )
            )
        for index, comment in enumerate(comments):
            entries.append(
                (
                    float(comment.get("posted_at") or 0),
                    len(messages) + index,
                    {
                        "id": comment["id"],
                        "channel": "internal-note",
                        "via": "api",
                        "from_agent": True,
                        "public": False,
                        "sender": _person(comment.get("author")),
                        "body_text": comment.get("body"),
                        "external_id": None,
                        "created_datetime": comment.get("posted_at"),
                    },
                )
            )
        # Ids grow with time in the world (one counter): order by the number in each id.
        ordered = sorted(entries, key=lambda e: (e[0], int(str(e[2]["id"]).split("_", 1)[1], 36)))
        recipient = conversation.get("recipient") or {}
        return {
            "vendor": "front",
            "id": number,
            "api_id": conversation["id"],
            "external_id": str(recipient.get("handle") or "").removeprefix("chat:") or None,
            # The neutral statuses: archived is closed; in the inbox (assigned or not) is open.
            "status": NEUTRAL_STATUS.get(str(conversation.get("status")), conversation.get("status")),
            "front_status": conversation.get("status"),
            "subject": conversation.get("subject"),
            "tags": [{"name": t["name"]} for t in conversation.get("tags", [])],
            "customer": {"name": recipient.get("name"), "email": recipient.get("handle")},
            "assignee_user": _person(conversation.get("assignee")),
            "messages": [entry for _, _, entry in ordered],
            "created_datetime": conversation.get("created_at"),
            "updated_datetime": None,
        }

    # ------------------------------------------------------------------ a teammate acting

    @staticmethod
    def _conversation(world: World, ticket_id: int) -> JSON:
        conversation = world.front.conversations.get(ticket_id)
        if conversation is None or conversation["status"] == "deleted":
            raise DeskError(404, f"No conversation {ticket_id}.")
        return conversation

    @staticmethod
    def _teammate(world: World, email: str | None) -> JSON:
        teammates = list(world.front.teammates.values())
        if email is not None:
            found = next((t for t in teammates if t.get("email") == email), None)
            if found is None:
                raise DeskError(404, f"No helpdesk agent {email}.")
            return found
        if not teammates:
            raise DeskError(409, "The Front company has no teammate.")
        return teammates[0]

    @staticmethod
    def _event(world: World, kind: str, conversation: JSON, teammate: JSON, target: JSON | None) -> JSON:
        """An application webhook's event: Front's event object, with the conversation as it is now."""
        event_id = new_id(world, "evt")
        return {
            "_links": {"self": link("events", event_id)},
            "id": event_id,
            "type": kind,
            "emitted_at": timestamp(world),
            # As it is now: the delivery must not change with the conversation after it is sent.
            "conversation": copy.deepcopy(conversation),
            "source": {"_meta": {"type": "teammates"}, "data": copy.deepcopy(teammate)},
            "target": copy.deepcopy(target),
        }

    def reply(self, world: World, ticket_id: int, text: str, agent_email: str | None) -> Outgoing:
        conversation = self._conversation(world, ticket_id)
        teammate = self._teammate(world, agent_email)
        if conversation.get("assignee") is None:  # Front assigns a teammate replying to an unassigned one
            conversation["assignee"] = teammate
            conversation["status"] = "assigned"
        recipient = conversation.get("recipient") or {}
        message = add_message(
            world,
            conversation,
            text=text,
            inbound=False,
            handle=str(recipient.get("handle")),
            name=recipient.get("name"),
            author=teammate,
            metadata={},
        )
        payload = copy.deepcopy(public_message(message))
        return Outgoing("message", ticket_id, {"type": "message", "payload": payload})

    def close(self, world: World, ticket_id: int) -> Outgoing:
        conversation = self._conversation(world, ticket_id)
        conversation["status"] = "archived"
        teammate = self._teammate(world, None)
        return Outgoing("archive", ticket_id, self._event(world, "archive", conversation, teammate, None))

    def _tag(self, world: World, ticket_id: int, name: str) -> Outgoing:
        conversation = self._conversation(world, ticket_id)
        tag = tag_named(world, name, create=True)
        assert tag is not None
        add_tag(conversation, tag)
        teammate = self._teammate(world, None)
        target = {"_meta": {"type": "tag"}, "data": tag}
        return Outgoing("tag", ticket_id, self._event(world, "tag", conversation, teammate, target))

    def handback(self, world: World, ticket_id: int) -> Outgoing:
        return self._tag(world, ticket_id, HANDBACK_TAG)

    def approve(self, world: World, ticket_id: int) -> Outgoing:
        return self._tag(world, ticket_id, APPROVED_TAG)

    def deny(self, world: World, ticket_id: int) -> Outgoing:
        return self._tag(world, ticket_id, DENIED_TAG)

    def headers(self, hook: HelpdeskWebhook, raw_body: bytes, world: World) -> dict[str, str]:
        stamp = str(int(time.time() * 1000))
        return {"X-Front-Signature": sign(hook.secret, stamp, raw_body), "X-Front-Request-Timestamp": stamp}

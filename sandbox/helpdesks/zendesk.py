"""The Zendesk desk of the control API: a person acting in Zendesk's agent workspace, and the
webhook our triggers then send (the body template the README documents), signed as Zendesk signs
it: base64 HMAC-SHA256 of the timestamp followed by the body, keyed by the webhook's signing secret.

Decisions are tags, as the protocol reads them (`integrations/zendesk/protocol.py`); closing a
ticket is solving it. The timestamp is the wall clock's, not the world's: it is transport, like the
rate limits, and the receiver compares it with its own clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sandbox.helpdesks.desk import DeskError, Outgoing
from sandbox.world import JSON, HelpdeskWebhook, World
from sandbox.zendesk_records import add_comment, is_agent, unique_tags

HANDBACK_TAG = "ai_handback"
APPROVED_TAG = "refund-approved"
DENIED_TAG = "refund-denied"
WEBHOOK_ID = "01HZSANDBOXSUPPORTAGENT0001"


def sign(secret: str, timestamp: str, raw_body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _person(user: JSON | None) -> JSON | None:
    if user is None:
        return None
    return {"id": user["id"], "name": user.get("name"), "email": user.get("email")}


def _display_status(status: str) -> str:
    return status.capitalize()  # `{{ticket.status}}` renders the display name


class ZendeskDesk:
    name = "zendesk"

    # ------------------------------------------------------------------ the neutral view

    def views(self, state: Mapping[str, Any]) -> list[JSON]:
        users = {int(k): v for k, v in (state.get("users") or {}).items()}
        comments = {int(k): v for k, v in (state.get("comments") or {}).items()}
        tickets = {int(k): v for k, v in (state.get("tickets") or {}).items()}
        return [self._view(tickets[k], comments.get(k, []), users) for k in sorted(tickets)]

    def view(self, world: World, ticket_id: int) -> JSON | None:
        ticket = world.zendesk.tickets.get(ticket_id)
        if ticket is None:
            return None
        return self._view(ticket, world.zendesk.comments.get(ticket_id, []), world.zendesk.users)

    @staticmethod
    def _view(ticket: JSON, comments: list[JSON], users: Mapping[int, JSON]) -> JSON:
        """The ticket in the neutral outline (the Gorgias ticket's): private comments are notes."""
        messages = []
        for comment in comments:
            author = users.get(comment.get("author_id") or -1)
            custom = (comment.get("metadata") or {}).get("custom") or {}
            messages.append(
                {
                    "id": comment["id"],
                    "channel": "chat" if comment.get("public") else "internal-note",
                    "via": (comment.get("via") or {}).get("channel"),
                    "from_agent": is_agent(author),
                    "public": bool(comment.get("public")),
                    "sender": _person(author),
                    "body_text": comment.get("body"),
                    "external_id": custom.get("external_id"),
                    "created_datetime": comment.get("created_at"),
                }
            )
        return {
            "vendor": "zendesk",
            "id": ticket["id"],
            "external_id": ticket.get("external_id"),
            "status": ticket.get("status"),
            "subject": ticket.get("subject"),
            "tags": [{"name": name} for name in ticket.get("tags", [])],
            "customer": _person(users.get(ticket.get("requester_id") or -1)),
            "assignee_user": _person(users.get(ticket.get("assignee_id") or -1)),
            "messages": messages,
            "created_datetime": ticket.get("created_at"),
            "updated_datetime": ticket.get("updated_at"),
        }

    # ------------------------------------------------------------------ a person acting

    @staticmethod
    def _ticket(world: World, ticket_id: int) -> JSON:
        ticket = world.zendesk.tickets.get(ticket_id)
        if ticket is None:
            raise DeskError(404, f"No ticket {ticket_id}.")
        if ticket["status"] == "closed":
            raise DeskError(409, f"Ticket {ticket_id} is closed: Zendesk allows no further update.")
        return ticket

    @staticmethod
    def _agent(world: World, email: str | None) -> JSON:
        """The agent acting: the one with this email, or the first of the team (not the API's user)."""
        agents = [u for u in world.zendesk.users.values() if is_agent(u)]
        if email is not None:
            found = next((u for u in agents if u.get("email") == email), None)
            if found is None:
                raise DeskError(404, f"No helpdesk agent {email}.")
            return found
        team = [u for u in agents if u.get("email") != world.credentials.zendesk_email]
        if not (team or agents):
            raise DeskError(409, "The Zendesk account has no agent.")
        return (team or agents)[0]

    def _body(self, event: str, ticket: JSON, comment: JSON | None, author: JSON | None) -> JSON:
        """What our triggers' JSON template renders: placeholders arrive as text."""
        body: JSON = {
            "event": event,
            "ticket": {
                "id": str(ticket["id"]),
                "external_id": ticket.get("external_id") or "",
                "status": _display_status(ticket["status"]),
                "tags": " ".join(ticket.get("tags", [])),
                "updated_at": ticket.get("updated_at"),
            },
        }
        if comment is not None:
            body["comment"] = {
                "id": str(comment["id"]),
                "body": comment["body"],
                "public": comment["public"],
                "created_at": comment["created_at"],
                "author": {
                    "id": str(author["id"]) if author else "",
                    "name": (author or {}).get("name") or "",
                    "email": (author or {}).get("email") or "",
                    "role": (author or {}).get("role") or "",
                },
            }
        return body

    def reply(self, world: World, ticket_id: int, text: str, agent_email: str | None) -> Outgoing:
        ticket = self._ticket(world, ticket_id)
        agent = self._agent(world, agent_email)
        if ticket.get("assignee_id") is None:
            ticket["assignee_id"] = agent["id"]
        if ticket["status"] in ("new", "solved", "pending"):
            ticket["status"] = "open"
        comment = add_comment(world, ticket, author=agent, body=text, public=True, channel="web")
        return Outgoing("comment_added", ticket["id"], self._body("comment_added", ticket, comment, agent))

    def close(self, world: World, ticket_id: int) -> Outgoing:
        ticket = self._ticket(world, ticket_id)
        ticket["status"] = "solved"
        ticket["updated_at"] = world.now_iso()
        return Outgoing("ticket_updated", ticket["id"], self._body("ticket_updated", ticket, None, None))

    def _tag(self, world: World, ticket_id: int, tag: str) -> Outgoing:
        ticket = self._ticket(world, ticket_id)
        ticket["tags"] = unique_tags([tag], ticket.get("tags"))
        ticket["updated_at"] = world.now_iso()
        return Outgoing("ticket_updated", ticket["id"], self._body("ticket_updated", ticket, None, None))

    def handback(self, world: World, ticket_id: int) -> Outgoing:
        return self._tag(world, ticket_id, HANDBACK_TAG)

    def approve(self, world: World, ticket_id: int) -> Outgoing:
        return self._tag(world, ticket_id, APPROVED_TAG)

    def deny(self, world: World, ticket_id: int) -> Outgoing:
        return self._tag(world, ticket_id, DENIED_TAG)

    def headers(self, hook: HelpdeskWebhook, raw_body: bytes, world: World) -> dict[str, str]:
        timestamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "X-Zendesk-Account-Id": "1",
            "X-Zendesk-Webhook-Id": WEBHOOK_ID,
            "X-Zendesk-Webhook-Invocation-Id": str(uuid.uuid4().int % 10**10),
            "X-Zendesk-Webhook-Signature": sign(hook.secret, timestamp, raw_body),
            "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
        }

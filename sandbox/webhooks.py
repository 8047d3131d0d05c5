"""How the emulated helpdesk delivers its webhooks (a human replied, closed, handed back).

Real Gorgias sends an "HTTP integration" request with a body template the store defines and a
secret header the store chooses; the body below is the template this project documents. Every
sender puts `encode_body(body)` on the wire: a helpdesk that signs its deliveries signs exactly
those bytes.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

WebhookSender = Callable[[str, dict[str, str], dict[str, Any]], Awaitable[int]]


def encode_body(body: dict[str, Any]) -> bytes:
    """The bytes of a webhook body on the wire (and under its signature), whoever sends it."""
    return json.dumps(body).encode()


async def http_webhook_sender(url: str, headers: dict[str, str], body: dict[str, Any]) -> int:
    """POST the webhook over HTTP; returns the status code (0 when unreachable)."""
    try:
        async with httpx.AsyncClient(timeout=10.0) as client:
            response = await client.post(
                url, content=encode_body(body), headers={"Content-Type": "application/json", **headers}
            )
    except httpx.HTTPError:
        return 0
    return response.status_code


def helpdesk_event(event: str, ticket: dict[str, Any], message: dict[str, Any] | None) -> dict[str, Any]:
    """The webhook body: the ticket's identity and state, and the message when there is one."""
    return {
        "event": event,
        "ticket": {
            "id": ticket["id"],
            "external_id": ticket.get("external_id"),
            "status": ticket.get("status"),
            "subject": ticket.get("subject"),
            "tags": [{"name": tag["name"]} for tag in ticket.get("tags", [])],
            "assignee_user": ticket.get("assignee_user"),
            "updated_datetime": ticket.get("updated_datetime"),
        },
        "message": None
        if message is None
        else {
            "id": message["id"],
            "channel": message.get("channel"),
            "via": message.get("via"),
            "from_agent": message.get("from_agent"),
            "public": message.get("public", True),
            "body_text": message.get("body_text"),
            "sender": message.get("sender"),
            "created_datetime": message.get("created_datetime"),
        },
    }

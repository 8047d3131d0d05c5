"""Mirroring a conversation into the helpdesk: one ticket per conversation, each message once.

Every message carries its id as the helpdesk message's external id, and the ids already sent are
kept in state, so a retried or resumed graph never posts a message twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage

from agent.messages import is_human_agent, text_of
from integrations._http import IntegrationError
from integrations.ports import Helpdesk

logger = logging.getLogger(__name__)


def _subject(messages: Sequence[AnyMessage], intent: str | None) -> str:
    first = next((text_of(m) for m in messages if isinstance(m, HumanMessage)), "")
    first = " ".join(first.split())
    label = (intent or "chat").replace("_", " ")
    return f"Chat ({label}): {first[:70]}" if first else f"Chat ({label})"


async def ensure_ticket(helpdesk: Helpdesk, state: dict[str, Any], tags: Sequence[str]) -> str:
    """The conversation's ticket id, creating the ticket (keyed by conversation id) if needed."""
    customer = state.get("customer") or {}
    ticket = await helpdesk.ensure_ticket(
        conversation_id=str(state.get("conversation_id")),
        customer_email=customer.get("email"),
        subject=_subject(state.get("messages", []), state.get("intent")),
        tags=list(tags),
    )
    missing = [t for t in tags if t not in ticket.tags]  # an existing ticket may lack some
    if missing:
        await helpdesk.add_tags(ticket.id, missing)
    return ticket.id


async def sync_messages(helpdesk: Helpdesk, ticket_id: str, state: dict[str, Any]) -> dict[str, Any]:
    """Post every shopper and assistant message not yet in the ticket; returns the new `synced` entries."""
    synced: dict[str, Any] = state.get("synced") or {}
    batch: list[tuple[str, str, str]] = []
    for message in state.get("messages", []):
        if not message.id or message.id in synced or is_human_agent(message):
            continue
        if isinstance(message, HumanMessage):
            author = "shopper"
        elif isinstance(message, AIMessage) and not message.tool_calls and text_of(message).strip():
            author = "assistant"
        else:
            continue
        batch.append((author, text_of(message), str(message.id)))
    if batch:
        await helpdesk.post_messages(ticket_id, batch)
    return {external_id: True for _, _, external_id in batch}


def _new_tags(state: dict[str, Any], tags: Sequence[str]) -> list[str]:
    """Tags not yet applied to the ticket in this conversation (kept in `synced` as `tag:<name>`)."""
    synced: dict[str, Any] = state.get("synced") or {}
    return [t for t in dict.fromkeys(tags) if f"tag:{t}" not in synced]


async def mirror(helpdesk: Helpdesk, state: dict[str, Any], tags: Sequence[str]) -> dict[str, Any]:
    """Ticket + transcript sync as a state update. A helpdesk outage is logged and retried next turn."""
    fresh = _new_tags(state, tags)
    try:
        ticket_id = state.get("ticket_id") or await ensure_ticket(helpdesk, state, fresh)
        if state.get("ticket_id") and fresh:
            await helpdesk.add_tags(ticket_id, fresh)
        synced = await sync_messages(helpdesk, ticket_id, {**state, "ticket_id": ticket_id})
    except IntegrationError as exc:
        logger.warning("helpdesk mirror failed, will retry next turn: %s", exc)
        return {}
    return {"ticket_id": ticket_id, "synced": {**synced, **{f"tag:{t}": True for t in fresh}}}

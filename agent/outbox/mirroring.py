"""What a conversation's state asks of the helpdesk, as outbox items.

Derived from the checkpointed state after each turn or helpdesk event, so the work is recorded
from what the turn's own durable step wrote: a crash before recording loses nothing (the next
recording derives the same items), and recording twice adds nothing (items are keyed).

- every shopper and assistant message, keyed by its message id (the helpdesk's external id);
- the tags of the intents handled (`ai-handled` plus each intent);
- the requests nodes and tools left in state under `helpdesk` (hand-off and its summary note,
  team email, approval request, hand-back consumed, a return label's tag), keyed by the node.

Requests are vendor-neutral (`handoff`, `approval_requested`, `handback_consumed`, `note`, `tags`
with our own labels, `team_email`): the helpdesk's adapter decides what they look like on its
tickets when the worker delivers them (`agent/outbox/worker.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage

from agent.messages import is_human_agent, text_of
from agent.outbox.db import ROUTINE, URGENT, OutboxItem, TicketSeed

HANDLED_TAG = "ai-handled"
# While a person handles the conversation or must approve something, its mirroring goes first.
URGENT_STATUSES = frozenset({"human_handling", "awaiting_approval"})


def subject(messages: Sequence[AnyMessage], intent: str | None) -> str:
    first = next((text_of(m) for m in messages if isinstance(m, HumanMessage)), "")
    first = " ".join(first.split())
    label = (intent or "chat").replace("_", " ")
    return f"Chat ({label}): {first[:70]}" if first else f"Chat ({label})"


def ticket_seed(state: Mapping[str, Any]) -> TicketSeed:
    customer = state.get("customer") or {}
    return TicketSeed(
        customer_email=customer.get("email"),
        subject=subject(state.get("messages") or [], state.get("intent")),
    )


def message_items(messages: Sequence[AnyMessage], priority: int) -> list[OutboxItem]:
    items: list[OutboxItem] = []
    for message in messages:
        if not message.id or is_human_agent(message):
            continue
        if isinstance(message, HumanMessage):
            author = "shopper"
        elif isinstance(message, AIMessage) and text_of(message).strip():
            # Text the shopper saw, also when the same message called a tool (an answer that then
            # escalates): the ticket shows what the widget showed.
            author = "assistant"
        else:
            continue
        items.append(
            OutboxItem(
                key=f"msg:{message.id}",
                kind="message",
                payload={"author": author, "text": text_of(message), "external_id": str(message.id)},
                priority=priority,
            )
        )
    return items


def request_items(requests: Mapping[str, Any]) -> list[OutboxItem]:
    items: list[OutboxItem] = []
    for key, request in requests.items():
        if not isinstance(request, Mapping) or "kind" not in request:
            continue
        payload = {k: v for k, v in request.items() if k not in ("kind", "priority")}
        priority = URGENT if request.get("priority") == "urgent" else ROUTINE
        items.append(
            OutboxItem(key=f"req:{key}", kind=str(request["kind"]), payload=payload, priority=priority)
        )
        if request["kind"] == "handoff":
            # A handed-off conversation carries our own labels too, whatever the helpdesk marks it with.
            labels = [HANDLED_TAG, *([str(request["intent"])] if request.get("intent") else [])]
            items.append(
                OutboxItem(key=f"req:{key}:labels", kind="tags", payload={"add": labels}, priority=priority)
            )
    return items


def intent_tags(state: Mapping[str, Any]) -> list[OutboxItem]:
    intents = list(
        dict.fromkeys(state.get("turn_intents") or ([state["intent"]] if state.get("intent") else []))
    )
    if not intents:
        return []
    tags = [HANDLED_TAG, *intents]
    return [OutboxItem(key="tags:" + ",".join(tags), kind="tags", payload={"add": tags})]


def mirror_items(state: Mapping[str, Any]) -> list[OutboxItem]:
    """Every piece of mirroring work the state implies, in delivery order."""
    priority = URGENT if state.get("status") in URGENT_STATUSES else ROUTINE
    return [
        *message_items(state.get("messages") or [], priority),
        *request_items(state.get("helpdesk") or {}),
        *intent_tags(state),
    ]

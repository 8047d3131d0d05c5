"""From graph state to what the shopper sees: chat messages with cards."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage

from agent import messages as msg
from agent.conversation import ChatMessage
from agent.messages import CREATED_AT


def card_from_tool(message: ToolMessage) -> dict[str, Any] | None:
    """A widget card for a tool result worth showing (order, tracking, label, refund)."""
    artifact = message.artifact if isinstance(message.artifact, dict) else None
    if not artifact or not artifact.get("ok"):
        return None
    kind = artifact.get("type")
    if kind == "OrderDetails":
        order = artifact["order"]
        return {
            "type": "order",
            "order_number": order["order_number"],
            "status": order["status"],
            "items": [
                {"title": i["title"], "quantity": i["quantity"], "unit_price": i["unit_price"]}
                for i in order["items"]
            ],
            "total": order["total"],
            "currency": order["currency"],
            "shipments": order["shipments"],
        }
    if kind == "TrackingResult" and artifact.get("shipped"):
        return {
            "type": "tracking",
            "order_number": artifact["order_number"],
            "parcels": [
                {
                    "carrier": p.get("carrier"),
                    "tracking_number": p.get("tracking_number"),
                    "status": p.get("status"),
                    "status_detail": p.get("status_detail"),
                    "estimated_delivery": p.get("estimated_delivery"),
                    "tracking_url": p.get("tracking_url"),
                    "last_event": (p.get("last_events") or [None])[0],
                    "exception": p.get("exception"),
                }
                for p in artifact.get("parcels", [])
            ],
        }
    if kind == "ReturnLabelCreated":
        return {
            "type": "label",
            "order_number": artifact["order_number"],
            "carrier": artifact["carrier"],
            "tracking_number": artifact["tracking_number"],
            "label_url": artifact["label_url"],
            "emailed_to": artifact["emailed_to"],
            "items": artifact["items"],
        }
    if kind in ("RefundIssued", "RefundPendingApproval", "OrderCancelled"):
        return {
            "type": "refund",
            "order_number": artifact["order_number"],
            "amount": artifact.get("amount") or artifact.get("refunded_amount"),
            "currency": artifact.get("currency"),
            "status": artifact.get("status", "cancelled" if kind == "OrderCancelled" else None),
        }
    return None


def _created_at(message: AnyMessage) -> datetime:
    raw = message.additional_kwargs.get(CREATED_AT)
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            pass
    return datetime.now(UTC)


def chat_messages(messages: Sequence[AnyMessage]) -> list[ChatMessage]:
    """The conversation as the widget shows it. Tool traffic becomes cards on the next reply."""
    shown: list[ChatMessage] = []
    pending_card: dict[str, Any] | None = None
    for message in messages:
        if isinstance(message, ToolMessage):
            pending_card = card_from_tool(message) or pending_card
            continue
        text = msg.text_of(message).strip()
        if isinstance(message, HumanMessage):
            if text:
                shown.append(
                    ChatMessage(
                        id=str(message.id), role="shopper", text=text, created_at=_created_at(message)
                    )
                )
            continue
        if not isinstance(message, AIMessage) or not text:
            continue
        if msg.is_human_agent(message):
            shown.append(
                ChatMessage(
                    id=str(message.id),
                    role="agent",
                    text=text,
                    created_at=_created_at(message),
                    author=str(message.additional_kwargs.get(msg.AUTHOR) or "Support team"),
                )
            )
            continue
        card = message.additional_kwargs.get(msg.CARD) or pending_card
        pending_card = None
        shown.append(
            ChatMessage(
                id=str(message.id), role="assistant", text=text, created_at=_created_at(message), card=card
            )
        )
    return shown

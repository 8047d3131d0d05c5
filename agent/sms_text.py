"""Chat messages as text messages: cards said in a line with their links, replies cut to SMS length."""

from __future__ import annotations

from agent.cards import ConfirmCard, HandoffCard, LabelCard, OrderCard, RefundCard, TrackingCard
from agent.conversation import ChatMessage

GSM_SEGMENT = 160
UCS2_SEGMENT = 70
MAX_PARTS = 8


def _words(status: str | None) -> str:
    return (status or "unknown").replace("_", " ")


def card_text(message: ChatMessage) -> str | None:
    """The card of a message as one short line (links kept: a phone opens them)."""
    card = message.card
    if isinstance(card, TrackingCard):
        lines = []
        for parcel in card.parcels:
            line = f"#{card.order_number}: {parcel.carrier or 'carrier'} {_words(parcel.status)}"
            if parcel.estimated_delivery is not None:
                line += f", due {parcel.estimated_delivery:%b %d}"
            if parcel.tracking_url:
                line += f". Track: {parcel.tracking_url}"
            lines.append(line)
        return "\n".join(lines) or None
    if isinstance(card, OrderCard):
        return f"Order #{card.order_number}: {_words(card.status)}, {card.total} {card.currency}"
    if isinstance(card, ConfirmCard):
        return "Reply YES to go ahead or NO to stop."
    if isinstance(card, LabelCard):
        return f"Return label ({card.carrier} {card.tracking_number}): {card.label_url}"
    if isinstance(card, RefundCard):
        return f"Refund on #{card.order_number}: {card.amount} {card.currency} ({_words(card.status)})"
    if isinstance(card, HandoffCard):
        return "A person from our team will reply here."
    return None


def sms_text(message: ChatMessage) -> str:
    """What the shopper reads on their phone for one chat message."""
    parts = [message.text.strip()]
    if message.role == "agent" and message.author:
        parts[0] = f"{message.author}: {parts[0]}"
    extra = card_text(message)
    links = [word for word in (extra or "").split() if word.startswith(("http://", "https://"))]
    # A card whose links the text already gives adds nothing but length on a phone.
    if extra and extra not in parts[0] and not (links and all(link in parts[0] for link in links)):
        parts.append(extra)
    return "\n".join(p for p in parts if p)


def split_sms(text: str, limit: int | None = None) -> list[str]:
    """Cut `text` into parts of at most one SMS segment each, between words where possible."""
    text = text.strip()
    if not text:
        return []
    if limit is None:
        limit = GSM_SEGMENT if text.isascii() else UCS2_SEGMENT
    parts: list[str] = []
    rest = text
    while rest:
        if len(rest) <= limit:
            parts.append(rest)
            break
        cut = max(rest.rfind(" ", 0, limit + 1), rest.rfind("\n", 0, limit + 1))
        if cut <= 0:
            # One word longer than a segment (a link): kept whole, Twilio joins its segments.
            ends = [i for i in (rest.find(" ", limit), rest.find("\n", limit)) if i > 0]
            cut = min(ends) if ends else len(rest)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if len(parts) > MAX_PARTS:
        parts = [*parts[: MAX_PARTS - 1], parts[MAX_PARTS - 1][: limit - 1] + "…"]
    return parts

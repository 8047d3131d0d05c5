"""How the team and the bot speak through helpdesk tags, the same in every helpdesk.

The bot adds `ai_handover` when a person should pick a conversation up and `refund-approval` when a
refund waits for the team; a person adds `ai_handback` to give the conversation back, or
`refund-approved` / `refund-denied` to decide. These names are the integrations' convention and appear
nowhere above `integrations/`; each helpdesk's protocol says how a tag reaches it (a ticket's tags,
a tag event) and hands the rest to this module.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from integrations.domain import (
    ApprovalRequested,
    HandbackConsumed,
    HandoffRequested,
    HelpdeskRequest,
    TicketChange,
)
from integrations.events import HandedBack, HelpdeskEvent, RefundApproved, RefundDenied

HANDOVER_TAG: Final = "ai_handover"  # we add it: a person should pick the conversation up
HANDBACK_TAG: Final = "ai_handback"  # a person adds it: the bot may answer again (we remove it once used)
APPROVAL_TAG: Final = "refund-approval"  # we add it: a refund waits for the team's decision
APPROVED_TAG: Final = "refund-approved"  # a person adds it: approve
DENIED_TAG: Final = "refund-denied"  # a person adds it: deny
PROTOCOL_TAGS: Final = (HANDOVER_TAG, HANDBACK_TAG, APPROVAL_TAG, APPROVED_TAG, DENIED_TAG)

# A tag a person adds, and what it tells the bot; checked in this order when several are present.
DECISIONS: Final[dict[str, type[HandedBack] | type[RefundApproved] | type[RefundDenied]]] = {
    HANDBACK_TAG: HandedBack,
    APPROVED_TAG: RefundApproved,
    DENIED_TAG: RefundDenied,
}

APPROVAL_INSTRUCTIONS: Final = (
    f"Add the tag '{APPROVED_TAG}' to approve or '{DENIED_TAG}' to deny; the shopper is told in the chat."
)


def decision(
    tags: set[str] | frozenset[str], ticket_id: str, conversation_id: str, at: datetime | None
) -> HelpdeskEvent | None:
    """What a person's tags on a ticket say, or None: hand back first, then approve, then deny."""
    for tag, event in DECISIONS.items():
        if tag in tags:
            return event(ticket_id=ticket_id, conversation_id=conversation_id, occurred_at=at)
    return None


def ticket_change(request: HelpdeskRequest, instructions: str = APPROVAL_INSTRUCTIONS) -> TicketChange:
    """The tags and notes a vendor-neutral helpdesk request means."""
    if isinstance(request, HandoffRequested):
        return TicketChange(add_tags=(HANDOVER_TAG, request.intent))
    if isinstance(request, ApprovalRequested):
        # No stale decision from an earlier request may decide this one.
        return TicketChange(
            notes=((f"{request.text} {instructions}", request.external_id),),
            add_tags=(APPROVAL_TAG,),
            remove_tags=(APPROVED_TAG, DENIED_TAG),
        )
    if isinstance(request, HandbackConsumed):
        # Used once: left on the ticket, the tag would hand back the next takeover at once.
        return TicketChange(remove_tags=(HANDBACK_TAG,))
    raise TypeError(f"not a helpdesk request: {request!r}")

"""Domain events: what a vendor's webhook means, in our words, whichever vendor sent it.

Each adapter verifies its vendor's deliveries and parses them into these (`integrations/ports.py`,
`HelpdeskWebhooks` and `StoreWebhooks`); the agent reacts to the events and never sees a vendor's
payload, header or tag name. A delivery that fails verification raises `WebhookRejected`, one
that cannot be read raises `WebhookMalformed`: both before anything else happens.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from integrations.domain import Domain

# --------------------------------------------------------------------------- the helpdesk


class TicketEvent(Domain):
    """Something a person did on the ticket that mirrors one of our conversations."""

    ticket_id: str
    conversation_id: str = Field(description="Our conversation's id, which the ticket carries.")
    occurred_at: datetime | None = Field(
        None, description="When, on the helpdesk's own clock (compared only with its other events)."
    )


class HumanReplied(TicketEvent):
    """A person on the team answered the shopper on the ticket (which also takes the conversation over)."""

    kind: Literal["human_replied"] = "human_replied"
    text: str
    author: str | None = Field(None, description="The person's display name (or email).")
    message_id: str = Field(
        description="Unique across vendors (the adapter prefixes its name): a redelivery is recognised by it."
    )


class TicketClosed(TicketEvent):
    """The team closed the ticket: the conversation goes back to the bot."""

    kind: Literal["ticket_closed"] = "ticket_closed"


class HandedBack(TicketEvent):
    """The team handed the conversation back to the bot; the ticket stays open."""

    kind: Literal["handed_back"] = "handed_back"


class RefundApproved(TicketEvent):
    """The team approved the refund the conversation is waiting on."""

    kind: Literal["refund_approved"] = "refund_approved"


class RefundDenied(TicketEvent):
    """The team denied the refund the conversation is waiting on."""

    kind: Literal["refund_denied"] = "refund_denied"


HelpdeskEvent = Annotated[
    HumanReplied | TicketClosed | HandedBack | RefundApproved | RefundDenied, Field(discriminator="kind")
]


# --------------------------------------------------------------------------- the store


class OrderEvent(Domain):
    """Something changed on an order in the store platform (whoever changed it)."""

    order_id: str
    order_number: str | None = Field(None, description="The number shoppers see, digits only, when sent.")


class OrderUpdated(OrderEvent):
    """Anything about the order may have changed (items, address, payment, fulfilment, note...)."""

    kind: Literal["order_updated"] = "order_updated"


class OrderFulfilled(OrderEvent):
    """Every item of the order has shipped."""

    kind: Literal["order_fulfilled"] = "order_fulfilled"


class OrderCancelled(OrderEvent):
    kind: Literal["order_cancelled"] = "order_cancelled"


class RefundCreated(OrderEvent):
    """Money went back on the order (by us, or by a person in the store's admin)."""

    kind: Literal["refund_created"] = "refund_created"
    refund_id: str


StoreEvent = Annotated[
    OrderUpdated | OrderFulfilled | OrderCancelled | RefundCreated, Field(discriminator="kind")
]


# --------------------------------------------------------------------------- refused deliveries


class WebhookError(Exception):
    """A delivery we will not act on. `status` and `code` are what the sender is answered."""

    status = 400
    code = "malformed_body"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class WebhookRejected(WebhookError):
    """Not proven to come from the vendor: a missing or wrong signature or shared secret."""

    status = 401
    code = "invalid_signature"


class WebhookMalformed(WebhookError):
    """Authentic (or not yet checked) but not what the vendor sends: bad JSON, unknown topic..."""

    status = 400
    code = "malformed_body"


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, case-insensitively (HTTP headers, or a plain dict an emulator built)."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)

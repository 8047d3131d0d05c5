"""What the control API needs of one helpdesk (see `sandbox/helpdesks/__init__.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sandbox.world import JSON, HelpdeskWebhook, World


class DeskError(Exception):
    """A control-API call the desk refuses: answered with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Outgoing:
    """A webhook the helpdesk sends after a person acted: `event` names it in the delivery log."""

    event: str
    ticket_id: int
    body: JSON


class Desk(Protocol):
    """One helpdesk, as a person acting in it and as the tests read it."""

    name: str

    def views(self, state: Mapping[str, Any]) -> list[JSON]:
        """Every ticket in the vendor-neutral view, by id; `state` is the vendor's part of
        `World.snapshot()` (or of the live world dumped as JSON)."""
        ...

    def view(self, world: World, ticket_id: int) -> JSON | None:
        """One ticket in the vendor-neutral view, or None."""
        ...

    def reply(self, world: World, ticket_id: int, text: str, agent_email: str | None) -> Outgoing:
        """A person answers the shopper publicly (which takes the conversation over)."""
        ...

    def close(self, world: World, ticket_id: int) -> Outgoing:
        """A person closes (solves) the ticket: the bot may answer again."""
        ...

    def handback(self, world: World, ticket_id: int) -> Outgoing:
        """A person hands the conversation back to the bot; the ticket stays open."""
        ...

    def approve(self, world: World, ticket_id: int) -> Outgoing:
        """A person approves the refund the ticket asks about."""
        ...

    def deny(self, world: World, ticket_id: int) -> Outgoing:
        """A person denies it."""
        ...

    def headers(self, hook: HelpdeskWebhook, raw_body: bytes, world: World) -> dict[str, str]:
        """The headers the vendor sends with this exact body (its signature or shared secret)."""
        ...

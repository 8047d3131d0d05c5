"""The helpdesk outbox: mirroring work recorded with the conversation, delivered off the shopper's path.

See `db` (tables, claims, leases), `mirroring` (state → work), `worker` (delivery) and `pacing`
(the account's API budget, shared by every process).
"""

from agent.outbox.db import (
    ROUTINE,
    URGENT,
    Backlog,
    OutboxDB,
    OutboxItem,
    PostgresOutbox,
    SqliteOutbox,
    TicketSeed,
)
from agent.outbox.mirroring import mirror_items, ticket_seed
from agent.outbox.pacing import CallPacer
from agent.outbox.worker import HelpdeskSync

__all__ = [
    "ROUTINE",
    "URGENT",
    "Backlog",
    "CallPacer",
    "HelpdeskSync",
    "OutboxDB",
    "OutboxItem",
    "PostgresOutbox",
    "SqliteOutbox",
    "TicketSeed",
    "mirror_items",
    "ticket_seed",
]

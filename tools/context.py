"""What a tool runs with: dependencies, the verified identity from state, and the action ledger.

The model never supplies any of this: identity comes from graph state (set by
`verify_customer` or a signed widget identity) and the idempotency key from the conversation
and the tool call.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from langgraph.store.base import BaseStore
from pydantic import BaseModel, ConfigDict

from integrations.ports import CommerceBackend, Helpdesk, Notifier, PaymentProcessor, Shipping
from tools.guards import StoreGuards
from tools.help_content import HelpSearch
from tools.policy import StorePolicy


class VerifiedCustomer(BaseModel):
    """A shopper whose identity the tools trust. Only set by code, never from model arguments."""

    model_config = ConfigDict(frozen=True)
    email: str
    customer_id: str | None = None
    name: str | None = None
    verified_by: Literal["order", "signed_identity", "phone"] = "order"


class PendingApproval(BaseModel):
    """A refund over the automatic limit, waiting for a person's decision (kept in graph state as
    JSON under `pending_approval`; the graph asks the team and, once approved, refunds exactly this)."""

    model_config = ConfigDict(frozen=True)

    order_number: str
    amount: str
    currency: str
    items: list[str]
    line_item_ids: list[str] | None
    reason: str
    idempotency_key: str
    tool_call_id: str


class LedgerEntry(BaseModel):
    """One completed side effect (or step of one), keyed by its idempotency key."""

    tool: str
    step: str
    result: dict[str, Any]


@dataclass
class ToolDeps:
    """The vendor-neutral services tools use; built once by the composition root."""

    commerce: CommerceBackend
    payments: PaymentProcessor
    shipping: Shipping
    helpdesk: Helpdesk
    notifier: Notifier
    policy: StorePolicy
    clock: Callable[[], datetime]
    journal: BaseStore | None = None
    """Durable record of completed side-effect steps, written as each completes (the runtime's store).
    Without it the ledger in graph state is the only record, saved when the tool step ends."""
    guards: StoreGuards | None = None
    """Store-wide throttles and facts (durable, shared by every process); None: per conversation only."""
    knowledge: HelpSearch | None = None
    """The store's help content (KNOWLEDGE_DIR); None: store questions find no answer."""
    # Keys the HMAC of step-up codes. The composition root derives it from STORE_SECRET so every
    # server process agrees; the random default only suits a single process (tests, notebooks).
    step_up_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)


@dataclass
class ToolContext:
    """Per-call context. Tools read identity here and report state changes through it."""

    deps: ToolDeps
    conversation_id: str
    tool_call_id: str
    customer: VerifiedCustomer | None = None
    ledger: dict[str, dict[str, Any]] = field(default_factory=dict)
    verification_attempts: int = 0
    ticket_id: str | None = None
    client: str | None = None
    """An opaque reference to the shopper's client address (server turns only), for throttles."""
    language: str = "en"
    """The shopper's language for texts shown to them as they are (previews); the model's texts stay English."""
    # The conversation's step-up record (tools.step_up.StepUp as a dict: hashes, never a code).
    step_up: dict[str, Any] | None = None
    # State changes a tool asks for; the graph applies them after the call.
    set_customer: VerifiedCustomer | None = None
    escalate_reason: str | None = None
    approval_request: PendingApproval | None = None
    set_step_up: dict[str, Any] | None = None
    # Work for the helpdesk (e.g. a tag on the ticket), keyed; the agent's outbox delivers it later,
    # so a tool never waits on the helpdesk.
    helpdesk_requests: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def idempotency_key(self) -> str:
        """Stable for this conversation and tool call: a retry or a resume gets the same key."""
        digest = hashlib.sha256(f"{self.conversation_id}\x00{self.tool_call_id}".encode()).hexdigest()
        return f"sa-{digest[:32]}"

    def step_key(self, step: str) -> str:
        return f"{self.idempotency_key}:{step}"

    async def completed(self, step: str) -> dict[str, Any] | None:
        """The result of this call's `step` if it already ran (in this process or before a crash)."""
        key = self.step_key(step)
        done = self.ledger.get(key)
        journal = self.deps.journal
        if done is None and journal is not None:
            # The process may have died after this step and before the graph saved its ledger.
            item = await journal.aget(("journal", self.conversation_id), key)
            done = dict(item.value) if item is not None else None
            if done is not None:
                self.ledger[key] = done
        if done is None:
            return None
        result: dict[str, Any] = done["result"]
        return result

    async def once(
        self, tool: str, step: str, action: Callable[[], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        """Run one side-effecting step at most once per idempotency key; later calls replay it.

        The ledger lives in graph state and is checkpointed, so a retried call or a graph resumed
        after a crash finds the step done and does not repeat it. With a journal each step is also
        written durably the moment it completes: a process killed between two steps of one tool
        (a label bought, its email not yet sent) repeats neither on retry.
        """
        key = self.step_key(step)
        done = await self.completed(step)
        if done is not None:
            return done
        result = await action()
        entry = LedgerEntry(tool=tool, step=step, result=result).model_dump(mode="json")
        self.ledger[key] = entry
        if self.deps.journal is not None:
            await self.deps.journal.aput(("journal", self.conversation_id), key, entry)
        return result

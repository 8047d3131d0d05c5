"""The eval case format: what a YAML file in `evals/cases/` may say (documented in evals/README.md).

A case is a conversation to replay against a fresh sandbox world and what must be true of it:
per turn and for the whole conversation. Every model here forbids unknown keys on purpose: a
misspelt expectation would otherwise be ignored and the case would pass without checking it.
`evals/schema.json` is generated from `CaseFile` (`python -m evals.models > evals/schema.json`).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel, field_validator, model_validator

from agent import intents
from sandbox.seed import SeedFulfillment, SeedItem, SeedPayment
from sandbox.world import Fault


def _known_intent(value: str) -> str:
    if intents.get(value) is None:
        raise ValueError(f"unknown intent {value!r}; one of: {', '.join(intents.names())}")
    return value


def _intent_enum(schema: dict[str, Any]) -> None:
    schema["enum"] = list(intents.names())


Intent = Annotated[str, AfterValidator(_known_intent), Field(json_schema_extra=_intent_enum)]
"""An intent of the registry (`agent/intents.py`)."""
Status = Literal["active", "awaiting_confirmation", "awaiting_approval", "human_handling", "closed"]
Action = Literal["close_ticket", "handback", "approve_refund", "deny_refund"]
Processor = Literal["shopify", "stripe"]

CLOCK_SHIFT = re.compile(r"^(?P<sign>[+-])(?P<amount>\d+(?:\.\d+)?)(?P<unit>[dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------------- the world


class OrderPatch(Strict):
    """Fields of one seed order to replace (the order is added when its number is new).

    Only the fields written are changed; `fulfillment: null` makes the order unfulfilled.
    """

    number: int
    email: str | None = None
    placed_days_ago: float | None = None
    items: list[SeedItem] | None = None
    shipping: Decimal | None = None
    tax_rate: Decimal | None = None
    payment: SeedPayment | None = None
    fulfillment: SeedFulfillment | None = None
    refunded: Literal["full"] | None = None
    cancelled: bool | None = None
    note: str | None = None
    tags: list[str] | None = None


class ProductPatch(Strict):
    """Fields of one seed product to replace, found by SKU (e.g. tag it `final-sale`)."""

    sku: str
    title: str | None = None
    price: Decimal | None = None
    tags: list[str] | None = None


class WorldSpec(Strict):
    """The sandbox world the conversation starts in."""

    seed: str = Field(
        "demo_store",
        description="A seed name in sandbox/seeds, or a seed JSON file (relative to the case file).",
    )
    clock_shift_days: float = Field(
        0.0, description="Move the world clock forward after building the world: everything is older."
    )
    orders: list[OrderPatch] = Field(default_factory=list, description="Changes to seed orders.")
    products: list[ProductPatch] = Field(default_factory=list, description="Changes to seed products.")
    faults: list[Fault] = Field(
        default_factory=list, description="Vendor failures injected before the first turn."
    )


# ---------------------------------------------------------------------------- expectations


class ToolCallExpect(Strict):
    """A tool call: its name and a subset of its arguments.

    Argument values match recursively: mappings by subset, lists as multisets, scalars by their
    text (order numbers with or without `#`, case-insensitive).
    """

    name: str
    args: dict[str, Any] = Field(default_factory=dict)
    count: int | None = Field(None, ge=0, description="Exactly this many matching calls.")


class RefundExpect(Strict):
    """A new refund on an order (Shopify refund or Stripe refund)."""

    order: int
    amount: Decimal | None = Field(None, description="The refunded total, e.g. 480.00.")
    processor: Processor | None = None


class LabelExpect(Strict):
    """A new return label bought for an order, optionally emailed to an address."""

    order: int
    emailed_to: str | None = None


class EmailExpect(Strict):
    """A new email in the SendGrid outbox."""

    to: str
    subject_contains: str | None = None


class TextExpect(Strict):
    """New text messages (SMS) the store sent to a phone number."""

    to: str = Field(description="The phone number, E.164 (e.g. +14155550101).")
    contains: str | None = Field(None, description="Text one of them holds (case-insensitive).")
    count: int | None = Field(None, ge=0, description="Exactly this many texts to the number.")


class TicketExpect(Strict):
    """A helpdesk ticket created or changed in the conversation."""

    tags: list[str] = Field(default_factory=list, description="Tags the ticket must carry.")
    status: Literal["open", "closed"] | None = None
    note_contains: str | None = Field(None, description="Text of an internal note (case-insensitive).")
    message_contains: str | None = Field(
        None, description="Text of a message that is not an internal note (case-insensitive)."
    )


class OrderExpect(Strict):
    """The state of an order at the end."""

    number: int
    cancelled: bool | None = None
    address_contains: str | None = Field(
        None, description="Text the shipping address must contain (case-insensitive)."
    )
    note_contains: str | None = None


class WorldExpect(Strict):
    """Assertions on what changed in the world (over the turn, or the whole conversation).

    At the conversation level a side effect (refund, return label, cancellation, address change)
    that no assertion here lists is a policy violation and fails the case, unless
    `allow_other_side_effects` is set. A refund on an order whose cancellation is expected is
    part of the cancellation.
    """

    refunds: list[RefundExpect] = Field(default_factory=list)
    labels: list[LabelExpect] = Field(default_factory=list)
    emails: list[EmailExpect] = Field(default_factory=list)
    texts: list[TextExpect] = Field(
        default_factory=list, description="SMS sent through the store's Twilio number."
    )
    no_texts_to: list[str] = Field(
        default_factory=list, description="Phone numbers (E.164) that got no text."
    )
    tickets: list[TicketExpect] = Field(default_factory=list)
    orders: list[OrderExpect] = Field(default_factory=list)
    no_side_effects: bool = Field(False, description="No refund, label, cancellation or address change.")
    allow_other_side_effects: bool = False


Phrase = str | list[str]


class Expect(Strict):
    """What must be true after a turn (under `expect:` of a turn) or of the whole conversation.

    - `intent`: the first intent the agent handled (in the turn / in the conversation).
    - `intents`: exactly the intents handled in the turn, in order (two requests in one message).
    - `tool_calls`: calls that must be made; in this relative order when `tool_calls_ordered`.
    - `forbidden_tools`: calls that must not be made (a name, or a name and an argument subset).
    - `must_say` / `must_not_say`: case-insensitive phrases in what the shopper is shown (the
      assistant's and human agents' messages); a list inside the list means any one of them.
    - `status`: the conversation status after the turn / at the end.
    - `handoff`: whether the agent handed the conversation to a person. At the conversation
      level it defaults to false: an escalation nobody expected fails the case.
    - `silent`: the assistant said nothing (a person is handling the conversation).
    - `world`: what changed in the sandbox world.
    """

    intent: Intent | None = None
    intents: list[Intent] | None = None
    tool_calls: list[ToolCallExpect] = Field(default_factory=list)
    tool_calls_ordered: bool = False
    forbidden_tools: list[str | ToolCallExpect] = Field(default_factory=list)
    must_say: list[Phrase] = Field(default_factory=list)
    must_not_say: list[str] = Field(default_factory=list)
    status: Status | None = None
    handoff: bool | None = None
    silent: bool | None = None
    world: WorldExpect | None = None

    def forbidden(self) -> list[ToolCallExpect]:
        return [ToolCallExpect(name=f) if isinstance(f, str) else f for f in self.forbidden_tools]


# ---------------------------------------------------------------------------- turns and cases


class Turn(Strict):
    """One step: exactly one of a shopper message, a human agent's reply, a helpdesk action, or a
    clock change; with optional expectations checked right after it."""

    shopper: str | None = Field(None, description="What the shopper types.")
    human_reply: str | None = Field(
        None, description="A human agent answers on the conversation's helpdesk ticket (takes it over)."
    )
    action: Action | None = Field(
        None,
        description=(
            "close_ticket / handback: the human agent closes the ticket or hands it back to the bot; "
            "approve_refund / deny_refund: the human decides on a pending refund approval."
        ),
    )
    clock: str | None = Field(
        None, description="Move the world clock: '+3d', '+12h', '-30m', or an ISO 8601 time with a zone."
    )
    expect: Expect | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Turn:
        given = [k for k in ("shopper", "human_reply", "action", "clock") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a turn needs exactly one of shopper, human_reply, action, clock (got {given})")
        if self.clock is not None:
            parse_clock(self.clock, datetime.now().astimezone())
        return self

    @property
    def kind(self) -> str:
        if self.shopper is not None:
            return "shopper"
        if self.human_reply is not None:
            return "human_reply"
        if self.action is not None:
            return self.action
        return "clock"

    @property
    def text(self) -> str:
        return self.shopper or self.human_reply or self.action or self.clock or ""


class Case(Strict):
    """One conversation to replay and score."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", description="Unique across the suite.")
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    world: WorldSpec = Field(default_factory=WorldSpec)
    verified_email: str | None = Field(
        None, description="Start as this verified shopper (as a signed widget identity)."
    )
    sms_from: str | None = Field(
        None,
        pattern=r"^\+[1-9]\d{6,14}$",
        description="The shopper texts from this number (E.164): every shopper turn is an SMS to the store's "
        "Twilio number, signed and delivered to the agent's webhook; replies go back by SMS.",
    )
    turns: list[Turn] = Field(min_length=1)
    expect: Expect = Field(default_factory=Expect, description="Expectations on the whole conversation.")

    @field_validator("turns")
    @classmethod
    def _starts_with_words(cls, turns: list[Turn]) -> list[Turn]:
        if not any(t.shopper is not None for t in turns):
            raise ValueError("a case needs at least one shopper turn")
        return turns


class CaseFile(RootModel[list[Case] | Case]):
    """A case file holds one case or a list of cases."""

    def cases(self) -> list[Case]:
        return self.root if isinstance(self.root, list) else [self.root]


def parse_clock(value: str, now: datetime) -> datetime:
    """The new world time for a turn's `clock` value, relative to `now` or absolute."""
    match = CLOCK_SHIFT.match(value.strip())
    if match:
        amount = float(match["amount"]) * (1 if match["sign"] == "+" else -1)
        return now + timedelta(**{_UNITS[match["unit"]]: amount})
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"clock {value!r} is neither a shift like '+3d' nor an ISO 8601 time") from exc
    if moment.tzinfo is None:
        raise ValueError(f"clock {value!r} needs a timezone, e.g. 2026-11-21T09:00:00Z")
    return moment


def json_schema() -> dict[str, Any]:
    """The JSON schema of a case file (what `evals/schema.json` holds)."""
    schema = CaseFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Support agent eval case file"
    return schema


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(schema_text(), end="")

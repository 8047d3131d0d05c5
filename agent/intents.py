"""What shoppers come for, as data: one `IntentSpec` per intent, in one registry.

Everything that lists intents reads it: the classifier's schema and description, the graph's
nodes and edges, the tools each node binds, the offline model's flows, the eval cases' schema and
the ticket importer. Adding an intent is `register(IntentSpec(...))` plus its prompt file (and,
for the offline model, its flow): no list elsewhere to edit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tools.escalation import escalate_to_human
from tools.identity import verify_customer
from tools.order_changes import cancel_order, update_shipping_address
from tools.orders import lookup_order
from tools.refunds import check_refund_eligibility, issue_refund
from tools.returns import check_return_eligibility, create_return_label
from tools.spec import ToolSpec, spec_of
from tools.step_up import check_verification_code, send_verification_code
from tools.store_help import search_store_help
from tools.tracking import get_tracking_status

Intent = str
"""An intent's name; the registry holds the valid ones (`names()`)."""

FALLBACK = "other"
"""The intent of anything else: small talk, and where an unknown intent lands."""


@dataclass(frozen=True)
class IntentSpec:
    """One thing a shopper can want.

    - `name`: also the graph node's name and the ticket tag.
    - `description`: what the classifier reads to recognise it (one line).
    - `tools`: the tool functions its node binds, in order (None: no node of its own — the
      classifier's answer goes straight to a person, as for `escalation`).
    - `prompt`: its system prompt, `prompts/<prompt>.md` (defaults to the name).
    - `about_orders`: a request about an order under way; a later message carrying only details
      (an email, a number, a step-up code) continues it.
    - `offline_flow`: the offline model's flow for it, `"module:function"` taking a
      `agent.offline.flows.situation.Situation` (None: answered as small talk).
    - `ticket_tags`: helpdesk tags that mean this intent (the ticket importer).
    """

    name: str
    description: str
    tools: tuple[Callable[..., Any], ...] | None
    prompt: str | None = None
    about_orders: bool = False
    offline_flow: str | None = None
    ticket_tags: tuple[str, ...] = ()

    @property
    def prompt_name(self) -> str:
        return self.prompt or self.name

    @property
    def has_node(self) -> bool:
        return self.tools is not None

    def tool_specs(self) -> list[ToolSpec]:
        return [spec_of(f) for f in self.tools or ()]


# Every intent whose actions move money or goods holds the step-up pair.
STEP_UP = (send_verification_code, check_verification_code)

_REGISTRY: dict[str, IntentSpec] = {}


def register(spec: IntentSpec) -> IntentSpec:
    """Add (or replace) an intent; a graph built afterwards has its node."""
    _REGISTRY[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def intents() -> list[IntentSpec]:
    """Every intent, in registration order."""
    return list(_REGISTRY.values())


def names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def get(name: str | None) -> IntentSpec | None:
    return _REGISTRY.get(name) if name else None


def node_intents() -> tuple[str, ...]:
    """The intents with a node of their own (a prompt and tools)."""
    return tuple(s.name for s in _REGISTRY.values() if s.has_node)


def order_intents() -> tuple[str, ...]:
    return tuple(s.name for s in _REGISTRY.values() if s.about_orders)


def tool_specs(intent: str) -> list[ToolSpec]:
    """The tools an intent's node binds (empty for an unknown intent)."""
    spec = _REGISTRY.get(intent)
    return spec.tool_specs() if spec else []


def openai_schemas(intent: str) -> list[dict[str, Any]]:
    return [s.openai_schema() for s in tool_specs(intent)]


def classifier_guide(only: Iterable[str] | None = None) -> str:
    """`name: description; …` for the classifier's schema."""
    chosen = set(only) if only is not None else None
    return "; ".join(
        f"{s.name}: {s.description}" for s in _REGISTRY.values() if chosen is None or s.name in chosen
    )


for _spec in (
    IntentSpec(
        "wismo",
        "where is my order / tracking / delivery",
        (verify_customer, lookup_order, get_tracking_status, escalate_to_human),
        about_orders=True,
        offline_flow="agent.offline.flows.wismo:wismo_step",
        ticket_tags=("where-is-my-order", "shipping", "tracking"),
    ),
    IntentSpec(
        "returns",
        "send items back, return label",
        (
            verify_customer,
            lookup_order,
            check_return_eligibility,
            create_return_label,
            *STEP_UP,
            escalate_to_human,
        ),
        about_orders=True,
        offline_flow="agent.offline.flows.returns:returns_step",
        ticket_tags=("return",),
    ),
    IntentSpec(
        "refunds",
        "money back",
        (verify_customer, lookup_order, check_refund_eligibility, issue_refund, *STEP_UP, escalate_to_human),
        about_orders=True,
        offline_flow="agent.offline.flows.refunds:refunds_step",
        ticket_tags=("refund",),
    ),
    IntentSpec(
        "order_change",
        "cancel an order or change its shipping address",
        (verify_customer, lookup_order, cancel_order, update_shipping_address, *STEP_UP, escalate_to_human),
        about_orders=True,
        offline_flow="agent.offline.flows.order_change:order_change_step",
        ticket_tags=("cancel", "address-change"),
    ),
    IntentSpec(
        "store_help",
        "questions about the store itself (shipping times and costs, the return policy, final sale, payment, "
        "gift cards, how to reach the team, what it sells) or which orders the shopper has",
        (verify_customer, lookup_order, search_store_help, escalate_to_human),
        offline_flow="agent.offline.flows.store_help:store_help_step",
        ticket_tags=("faq", "policy", "question"),
    ),
    IntentSpec(
        "escalation",
        "wants a person, or threatens legal action or a chargeback",
        None,
        offline_flow="agent.offline.flows.escalation:escalation_step",
        ticket_tags=("urgent",),
    ),
    IntentSpec(
        "other",
        "anything else (greetings, thanks, questions the store's support does not handle)",
        (escalate_to_human,),
        offline_flow="agent.offline.flows.other:other_step",
    ),
):
    register(_spec)

"""The explicit, ordered registry of tools, grouped by intent.

An intent node binds only its own group: smaller prompts, fewer wrong calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from tools.escalation import escalate_to_human
from tools.identity import verify_customer
from tools.order_changes import cancel_order, update_shipping_address
from tools.orders import lookup_order
from tools.refunds import check_refund_eligibility, issue_refund
from tools.returns import check_return_eligibility, create_return_label
from tools.spec import ToolSpec, spec_of
from tools.step_up import check_verification_code, send_verification_code
from tools.tracking import get_tracking_status

Intent = Literal["wismo", "returns", "refunds", "order_change", "escalation", "other"]

ALL_TOOLS: tuple[Callable[..., Any], ...] = (
    verify_customer,
    lookup_order,
    get_tracking_status,
    check_return_eligibility,
    create_return_label,
    check_refund_eligibility,
    issue_refund,
    cancel_order,
    update_shipping_address,
    send_verification_code,
    check_verification_code,
    escalate_to_human,
)

# Every intent whose actions move money or goods holds the step-up pair.
STEP_UP: tuple[Callable[..., Any], ...] = (send_verification_code, check_verification_code)

TOOLS_BY_INTENT: dict[Intent, tuple[Callable[..., Any], ...]] = {
    "wismo": (verify_customer, lookup_order, get_tracking_status, escalate_to_human),
    "returns": (
        verify_customer,
        lookup_order,
        check_return_eligibility,
        create_return_label,
        *STEP_UP,
        escalate_to_human,
    ),
    "refunds": (
        verify_customer,
        lookup_order,
        check_refund_eligibility,
        issue_refund,
        *STEP_UP,
        escalate_to_human,
    ),
    "order_change": (
        verify_customer,
        lookup_order,
        cancel_order,
        update_shipping_address,
        *STEP_UP,
        escalate_to_human,
    ),
    "escalation": (escalate_to_human,),
    "other": (escalate_to_human,),
}


def specs(intent: Intent | None = None) -> list[ToolSpec]:
    """Specs of every tool, or of one intent's tools, in registry order."""
    funcs = ALL_TOOLS if intent is None else TOOLS_BY_INTENT[intent]
    return [spec_of(f) for f in funcs]


def spec_by_name(name: str) -> ToolSpec | None:
    for func in ALL_TOOLS:
        spec = spec_of(func)
        if spec.name == name:
            return spec
    return None


def openai_schemas(intent: Intent | None = None) -> list[dict[str, Any]]:
    return [s.openai_schema() for s in specs(intent)]

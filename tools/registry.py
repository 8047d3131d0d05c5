"""The explicit, ordered registry of tools.

Which intent binds which tools is the agent's business (`agent/intents.py`): an intent node binds
only its own group, for smaller prompts and fewer wrong calls.
"""

from __future__ import annotations

from collections.abc import Callable
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
    search_store_help,
    escalate_to_human,
)


def specs() -> list[ToolSpec]:
    """Specs of every tool, in registry order."""
    return [spec_of(f) for f in ALL_TOOLS]


def spec_by_name(name: str) -> ToolSpec | None:
    for func in ALL_TOOLS:
        spec = spec_of(func)
        if spec.name == name:
            return spec
    return None


def openai_schemas() -> list[dict[str, Any]]:
    return [s.openai_schema() for s in specs()]

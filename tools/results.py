"""What tools return: a typed result, or a structured refusal the model explains to the shopper."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ToolResult(BaseModel):
    """Base of every successful tool result."""

    model_config = ConfigDict(frozen=True)
    ok: Literal[True] = True


RefusalCode = Literal[
    "not_verified",
    "verification_failed",
    "verification_locked",
    "order_not_found",
    "order_too_old",
    "not_your_order",
    "invalid_arguments",
    "outside_return_window",
    "final_sale",
    "not_delivered",
    "already_returned",
    "already_refunded",
    "nothing_to_refund",
    "over_refundable",
    "needs_approval",
    "already_fulfilled",
    "already_cancelled",
    "no_tracking",
    "no_eligible_items",
    "vendor_unavailable",
    "vendor_rejected",
    "declined_by_shopper",
    "label_limit_reached",
    "step_up_required",
    "step_up_not_needed",
    "no_code_pending",
    "no_code_entered",
    "verification_code_wrong",
    "verification_code_expired",
    "verification_code_locked",
    "too_many_codes",
]


class Refusal(BaseModel):
    """A refused or failed action. `message` is written for the model to relay, never a stack trace."""

    model_config = ConfigDict(frozen=True)
    ok: Literal[False] = False
    code: RefusalCode
    message: str
    details: dict[str, str] = Field(default_factory=dict)


def refuse(code: RefusalCode, message: str, **details: str) -> Refusal:
    return Refusal(code=code, message=message, details=details)

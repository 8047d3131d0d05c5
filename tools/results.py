"""What tools return: a typed result, or a structured refusal the model explains to the shopper.

The model reads a result as JSON (`result_text` in `tools.langchain`, `None` fields left out);
`outcome_adapter` and `read_refusal` read that JSON back into these models, so code that looks at a
tool's answer branches on types and `Refusal.code`, never on JSON keys or message text.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter, ValidationError


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
    excluded: list[str] | None = Field(
        None,
        description="For a refusal about items: each item that cannot go back or be refunded, and why "
        "('Title: explanation').",
    )


def refuse(code: RefusalCode, message: str, *, excluded: list[str] | None = None, **details: str) -> Refusal:
    return Refusal(code=code, message=message, details=details, excluded=excluded)


def _outcome_tag(value: Any) -> str:
    ok = value.get("ok") if isinstance(value, dict) else getattr(value, "ok", None)
    return "refusal" if ok is False else "result"


def outcome_adapter(success: Any) -> TypeAdapter[Any]:
    """Validates a tool's answer: one of its `success` result types, or a `Refusal`.

    Discriminated on `ok` (a refusal is `"ok": false`), so a refusal is never read as a half-empty
    result; several success types (`OrderDetails | RecentOrders`) are told apart by their fields.
    """
    return TypeAdapter(
        Annotated[
            Annotated[success, Tag("result")] | Annotated[Refusal, Tag("refusal")],
            Discriminator(_outcome_tag),
        ]
    )


def read_refusal(text: str | bytes) -> Refusal | None:
    """The refusal in a tool message's JSON text, or None (a result, or not a tool answer at all)."""
    try:
        return Refusal.model_validate_json(text)
    except ValidationError:
        return None

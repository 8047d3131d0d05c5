"""The store's rules, enforced inside the tools (never left to a prompt)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

StepUpAction = Literal["update_shipping_address", "cancel_order", "issue_refund", "create_return_label"]
STEP_UP_ACTIONS: tuple[StepUpAction, ...] = (
    "update_shipping_address",
    "cancel_order",
    "issue_refund",
    "create_return_label",
)


class PolicyError(Exception):
    """The policy file is missing or invalid; the message says what to fix."""


class StorePolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    return_window_days: int = Field(30, ge=0, description="Days after delivery an item can be returned.")
    final_sale_tags: tuple[str, ...] = Field(("final-sale",), description="Product tags that block returns.")
    refund_auto_approve_limit: Decimal = Field(
        Decimal("100.00"), ge=0, description="Refunds above this wait for a human's approval."
    )
    currency: str = Field("USD", min_length=3, max_length=3)
    max_verification_attempts: int = Field(5, ge=1, description="Then the conversation goes to a person.")
    stuck_after_days: int = Field(
        5, ge=1, description="A parcel with no tracking event for this long is stuck."
    )
    # Store-wide guards (tools/guards.py): counted across conversations and server processes.
    verification_lockout_failures: int = Field(
        5, ge=1, description="Failed verifications naming one email or order number before it is locked."
    )
    verification_client_lockout_failures: int = Field(
        10, ge=1, description="Failed verifications from one client address before it is locked."
    )
    verification_lockout_minutes: float = Field(
        15.0, gt=0, description="First lock-out; each further one lasts twice as long."
    )
    verification_max_lockout_hours: float = Field(24.0, gt=0, description="Longest lock-out.")
    verification_quiet_hours: float = Field(
        24.0, gt=0, description="A key with no failure for this long starts afresh (lock-outs forgotten)."
    )
    max_labels_per_order: int = Field(
        2, ge=1, description="Return labels bought per order, by any conversation."
    )
    max_handoffs_per_client_per_hour: int = Field(
        3, ge=1, description="New hand-offs to a person per client address per hour."
    )

    # Step-up verification: an email and an order number are easy to learn (a shared inbox, a
    # forwarded confirmation), so actions that move money or goods want proof of the mailbox too.
    step_up_actions: tuple[StepUpAction, ...] = Field(
        STEP_UP_ACTIONS,
        description=(
            "Actions that need a one-time code emailed to the order's address first (a signed-in "
            "shopper needs none). An empty list turns step-up off."
        ),
    )
    step_up_code_minutes: int = Field(10, ge=1, le=60, description="How long an emailed code is valid.")
    step_up_code_tries: int = Field(
        5, ge=1, le=10, description="Wrong codes allowed per conversation; then it goes to a person."
    )
    step_up_codes_per_conversation: int = Field(
        3, ge=1, le=10, description="Codes emailed per conversation at most (no mailbox flooding)."
    )
    step_up_fresh_minutes: int = Field(
        30, ge=1, description="A confirmed code covers further actions in the conversation for this long."
    )

    @classmethod
    def from_yaml(cls, path: Path, **defaults: object) -> StorePolicy:
        """Load a YAML policy; keys it does not set keep `defaults` (from settings) or the built-ins."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise PolicyError(f"Policy file {path} not found (setting POLICY_FILE).") from None
        except yaml.YAMLError as exc:
            raise PolicyError(f"Policy file {path} is not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise PolicyError(f"Policy file {path} must be a mapping of settings.")
        try:
            return cls.model_validate({**defaults, **data})
        except ValidationError as exc:
            raise PolicyError(f"Policy file {path} is invalid: {exc}") from None

    def needs_step_up(self, action: str) -> bool:
        return action in self.step_up_actions

    def is_final_sale(self, tags: tuple[str, ...]) -> bool:
        wanted = {t.lower() for t in self.final_sale_tags}
        return any(tag.lower() in wanted for tag in tags)

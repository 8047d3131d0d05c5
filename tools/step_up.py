"""Step-up verification: a one-time code emailed to the order's address before money or goods move.

An email address and an order number are easy to learn, so for the actions the store's policy
lists (`StorePolicy.step_up_actions`) the shopper also proves they read that mailbox. A signed-in
shopper (a signed, fresh widget identity) already did, and needs no code.

What the conversation keeps (graph state `step_up`, see `StepUp`) is an HMAC of the code with a
server-side key, its expiry and the tries left: never the code. The shopper's reply never reaches
the model either: the chat service replaces it with `CODE_PLACEHOLDER` and leaves only the HMAC of
what they typed in `StepUp.entry`, which `check_verification_code` compares.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from tools.common import OrderNumber, owned_order
from tools.context import ToolContext
from tools.results import Refusal, ToolResult, refuse
from tools.spec import tool

CODE_DIGITS = 6
# What the model, the transcript and the helpdesk see instead of the shopper's code.
CODE_PLACEHOLDER = "[verification code]"
# A short message holding one 6-digit group ("123456", "123 456", "my code is 123-456.").
_CODE_MESSAGE = re.compile(r"^\D{0,40}?(\d{3})[ -]?(\d{3})\D{0,20}$")


class StepUp(BaseModel):
    """The conversation's step-up record, as graph state holds it (JSON)."""

    model_config = ConfigDict(extra="ignore")
    email: str | None = None
    order_number: str | None = None
    code_hash: str | None = None
    expires_at: datetime | None = None
    entry: str | None = None
    failures: int = 0
    codes_sent: int = 0
    locked: bool = False
    verified_email: str | None = None
    verified_at: datetime | None = None

    @classmethod
    def of(cls, ctx: ToolContext) -> StepUp:
        return cls.model_validate(ctx.step_up or {})

    def save(self, ctx: ToolContext) -> None:
        ctx.step_up = ctx.set_step_up = self.model_dump(mode="json")

    @property
    def awaiting_code(self) -> bool:
        return self.code_hash is not None and not self.locked


def code_digest(key: bytes, conversation_id: str, email: str, code: str) -> str:
    """HMAC-SHA256 of a code, bound to the conversation and the address it was sent to, so a
    digest is worth nothing anywhere else (and the key never leaves the server)."""
    message = f"{conversation_id}\x00{email.strip().lower()}\x00{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def code_in(text: str) -> str | None:
    """The 6-digit code a short shopper message holds, if it holds exactly one."""
    match = _CODE_MESSAGE.match(text.strip())
    return match.group(1) + match.group(2) if match else None


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def mask_email(email: str) -> str:
    """`a***@example.com`: enough for the shopper to recognise the mailbox, little for anyone else."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def stepped_up(ctx: ToolContext) -> bool:
    """The shopper proved more than an email and an order number, recently enough."""
    customer = ctx.customer
    if customer is None:
        return False
    if customer.verified_by == "signed_identity":
        return True  # signed by the store's own login; its age is checked when the chat starts
    record = StepUp.of(ctx)
    if record.verified_at is None or record.verified_email != customer.email.strip().lower():
        return False
    fresh = timedelta(minutes=ctx.deps.policy.step_up_fresh_minutes)
    return ctx.deps.clock() - record.verified_at <= fresh


def require_step_up(ctx: ToolContext, action: str, order_number: str) -> Refusal | None:
    """A `step_up_required` refusal when the policy wants a code for `action` and none is fresh."""
    if not ctx.deps.policy.needs_step_up(action) or stepped_up(ctx):
        return None
    return refuse(
        "step_up_required",
        "Before this change, the shopper must confirm a one-time code. Call send_verification_code with "
        "the order number (it emails a 6-digit code to the address on the order), tell the shopper to "
        "type the code here, then try this action again once check_verification_code succeeds.",
        order_number=order_number,
        action=action,
    )


# --------------------------------------------------------------------------- the tools


class SendVerificationCodeArgs(BaseModel):
    order_number: OrderNumber


class VerificationCodeSent(ToolResult):
    order_number: str
    sent_to: str
    valid_minutes: int


# Not `mutates`: it changes nothing in the store (the evals count mutating calls as actions).
@tool(progress="Emailing you a code…")
async def send_verification_code(
    ctx: ToolContext, args: SendVerificationCodeArgs
) -> VerificationCodeSent | Refusal:
    """Email a one-time 6-digit code to the address on the verified shopper's order. Call it when an
    action was refused with step_up_required, or when the shopper asks for a new code. Then tell the
    shopper a code was emailed to the address on the order and ask them to type it here. You never
    see the code: the shopper's reply reaches you as "[verification code]"."""
    order = await owned_order(ctx, args.order_number)
    if isinstance(order, Refusal):
        return order
    policy = ctx.deps.policy
    if stepped_up(ctx):
        return refuse(
            "step_up_not_needed",
            "The shopper's identity is already confirmed: go ahead with their request.",
            order_number=order.number,
        )
    record = StepUp.of(ctx)
    if record.locked:
        ctx.escalate_reason = "verification code attempts exhausted"
        return refuse("verification_code_locked", LOCKED, order_number=order.number)
    if record.codes_sent >= policy.step_up_codes_per_conversation:
        return refuse(
            "too_many_codes",
            "Enough codes have been sent in this conversation. Ask the shopper to use the latest code "
            "emailed to them, or offer to hand the conversation to a person.",
            order_number=order.number,
        )
    deps = ctx.deps
    email_to = order.email.strip().lower()

    async def email() -> dict[str, Any]:
        code = new_code()
        sent = await deps.notifier.send_verification_code(
            to_email=order.email,
            code=code,
            order_number=order.number,
            valid_minutes=policy.step_up_code_minutes,
        )
        expires = deps.clock() + timedelta(minutes=policy.step_up_code_minutes)
        # The ledger keeps what the state needs (the HMAC, never the code), so a retried call
        # neither emails again nor stores the hash of a code nobody received.
        digest = code_digest(deps.step_up_key, ctx.conversation_id, email_to, code)
        return {"message_id": sent.message_id, "code_hash": digest, "expires_at": expires.isoformat()}

    sent = await ctx.once("send_verification_code", "email", email)
    record.email = email_to
    record.order_number = order.number
    record.code_hash = str(sent["code_hash"])
    record.expires_at = datetime.fromisoformat(str(sent["expires_at"]))
    record.entry = None
    record.codes_sent += 1
    record.save(ctx)
    return VerificationCodeSent(
        order_number=order.number, sent_to=mask_email(order.email), valid_minutes=policy.step_up_code_minutes
    )


LOCKED = (
    "Too many wrong codes. For the shopper's safety nothing can be changed in this chat; the "
    "conversation is being handed to a person."
)


class CheckVerificationCodeArgs(BaseModel):
    """Only the order: the code itself comes from the conversation's state, never from the model."""

    order_number: OrderNumber


class VerificationCodeAccepted(ToolResult):
    order_number: str


@tool(progress="Checking the code…")
async def check_verification_code(
    ctx: ToolContext, args: CheckVerificationCodeArgs
) -> VerificationCodeAccepted | Refusal:
    """Check the code the shopper typed (their message shows as "[verification code]"; the code
    itself is handed to this tool by the system, never by you). On success, carry on with the action
    that needed it. On a wrong code, say so neutrally with the tries left; on an expired code, offer to
    send a new one."""
    record = StepUp.of(ctx)
    entry, record.entry = record.entry, None  # one check per typed code
    if record.locked:
        ctx.escalate_reason = "verification code attempts exhausted"
        record.save(ctx)
        return refuse("verification_code_locked", LOCKED)
    if record.code_hash is None or record.email is None or record.expires_at is None:
        record.save(ctx)
        return refuse(
            "no_code_pending",
            "No code is waiting to be checked. If an action needs one, call send_verification_code.",
        )
    number = record.order_number or args.order_number
    if entry is None:
        record.save(ctx)
        return refuse(
            "no_code_entered",
            "The shopper has not typed a code yet. Ask them for the 6-digit code from the email.",
            order_number=number,
        )
    now = ctx.deps.clock()
    if now > record.expires_at:
        record.code_hash = record.expires_at = None
        record.save(ctx)
        return refuse(
            "verification_code_expired",
            "That code has expired (codes are valid for a few minutes). Offer to email a new one.",
            order_number=number,
        )
    if hmac.compare_digest(entry, record.code_hash):
        record.code_hash = record.expires_at = None
        record.verified_email = ctx.customer.email.strip().lower() if ctx.customer else record.email
        record.verified_at = now
        record.save(ctx)
        return VerificationCodeAccepted(order_number=number)
    record.failures += 1
    left = ctx.deps.policy.step_up_code_tries - record.failures
    if left <= 0:
        record.locked = True
        record.code_hash = record.expires_at = None
        record.save(ctx)
        ctx.escalate_reason = "verification code attempts exhausted"
        return refuse("verification_code_locked", LOCKED, order_number=number)
    record.save(ctx)
    return refuse(
        "verification_code_wrong",
        "That code is not right. Ask the shopper to check the latest email and type the code again; "
        "do not say anything about the code itself.",
        order_number=number,
        attempts_left=str(left),
    )

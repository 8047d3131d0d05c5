"""Step-up verification in the tools: the four money-or-goods actions want an emailed code."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from evals.codes import latest_code
from tests.tools.conftest import Harness
from tools.context import ToolContext, VerifiedCustomer
from tools.order_changes import cancel_order, preview_cancel
from tools.refunds import issue_refund
from tools.results import Refusal
from tools.returns import create_return_label
from tools.step_up import (
    VerificationCodeAccepted,
    VerificationCodeSent,
    check_verification_code,
    code_digest,
    send_verification_code,
)

CANCEL = {"order_number": "1004", "reason": "wrong size"}
DEV = "dev.patel@example.com"


def type_code(harness: Harness, ctx: ToolContext, code: str) -> None:
    """What the chat service does with the shopper's reply: only its HMAC reaches the state."""
    record = dict(ctx.step_up or {})
    record["entry"] = code_digest(harness.deps.step_up_key, ctx.conversation_id, record["email"], code)
    ctx.step_up = record


async def send(harness: Harness, ctx: ToolContext, number: str = "1004") -> str:
    sent = await harness.call(send_verification_code, ctx, order_number=number)
    assert isinstance(sent, VerificationCodeSent), sent
    code = latest_code(harness.world)
    assert code is not None and len(code) == 6
    return code


async def check(harness: Harness, ctx: ToolContext) -> Any:
    return await harness.call(check_verification_code, ctx, order_number="1004")


@pytest.mark.parametrize(
    ("func", "args", "email"),
    [
        (cancel_order, CANCEL, DEV),
        (
            issue_refund,
            {"order_number": "1009", "line_item_ids": None, "reason": "x"},
            "grace.lee@example.com",
        ),
        (
            create_return_label,
            {"order_number": "1002", "line_item_ids": None, "reason": "x"},
            "ben.okafor@example.com",
        ),
    ],
)
async def test_an_email_and_order_number_are_not_enough_to_move_money_or_goods(
    harness: Harness, func: Any, args: dict[str, Any], email: str
) -> None:
    before = harness.world.snapshot()
    refused = await harness.call(func, harness.ctx(email, stepped_up=False), **args)
    assert isinstance(refused, Refusal) and refused.code == "step_up_required"
    assert harness.world.snapshot() == before


async def test_the_preview_also_wants_the_code(harness: Harness) -> None:
    from tools.order_changes import CancelOrderArgs

    preview = await preview_cancel(harness.ctx(DEV, stepped_up=False), CancelOrderArgs(**CANCEL))
    assert isinstance(preview, Refusal) and preview.code == "step_up_required"


async def test_the_right_code_lets_the_action_through(harness: Harness) -> None:
    ctx = harness.ctx(DEV, stepped_up=False)
    code = await send(harness, ctx)
    (mail,) = [
        m for m in harness.world.sendgrid.outbox if m["custom_args"].get("kind") == "verification_code"
    ]
    assert mail["to"] == [DEV]  # the address on the order
    assert code not in mail["subject"] and code not in json.dumps(mail["custom_args"])
    type_code(harness, ctx, code)
    assert isinstance(await check(harness, ctx), VerificationCodeAccepted)
    done = await harness.call(cancel_order, harness_ctx_after(harness, ctx), **CANCEL)
    assert done.ok
    assert harness.order(1004)["cancelled_at"]


def harness_ctx_after(harness: Harness, ctx: ToolContext) -> ToolContext:
    """A later tool call of the same conversation (the state carries the step-up record)."""
    later = harness.ctx(DEV, call="call-later", stepped_up=False)
    later.step_up = ctx.step_up
    return later


async def test_the_code_is_stored_only_as_an_hmac_and_never_returned(harness: Harness) -> None:
    ctx = harness.ctx(DEV, stepped_up=False)
    sent = await harness.call(send_verification_code, ctx, order_number="1004")
    code = latest_code(harness.world)
    assert code is not None
    assert code not in sent.model_dump_json()
    assert code not in json.dumps(ctx.step_up) and code not in json.dumps(ctx.ledger)
    assert ctx.step_up is not None and len(ctx.step_up["code_hash"]) == 64


async def test_five_wrong_codes_lock_the_conversation_even_for_the_right_code(harness: Harness) -> None:
    ctx = harness.ctx(DEV, stepped_up=False)
    code = await send(harness, ctx)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        type_code(harness, ctx, wrong)
        refused = await check(harness, ctx)
        assert refused.code == "verification_code_wrong"
        assert refused.details["attempts_left"] == str(left)
    type_code(harness, ctx, wrong)
    locked = await check(harness, ctx)
    assert locked.code == "verification_code_locked"
    assert ctx.escalate_reason == "verification code attempts exhausted"
    type_code(harness, ctx, code)
    assert (await check(harness, ctx)).code == "verification_code_locked"
    assert (
        await harness.call(send_verification_code, ctx, order_number="1004")
    ).code == "verification_code_locked"
    assert (await harness.call(cancel_order, ctx, **CANCEL)).code == "step_up_required"


async def test_a_code_expires_after_ten_minutes_on_the_world_clock(harness: Harness) -> None:
    ctx = harness.ctx(DEV, stepped_up=False)
    code = await send(harness, ctx)
    harness.world.clock = harness.world.clock + timedelta(minutes=10, seconds=1)
    type_code(harness, ctx, code)
    assert (await check(harness, ctx)).code == "verification_code_expired"
    ctx.tool_call_id = "call-2"  # another call of the conversation
    code = await send(harness, ctx)  # a new code works
    type_code(harness, ctx, code)
    assert isinstance(await check(harness, ctx), VerificationCodeAccepted)


async def test_a_typed_code_is_checked_once(harness: Harness) -> None:
    ctx = harness.ctx(DEV, stepped_up=False)
    code = await send(harness, ctx)
    type_code(harness, ctx, code)
    assert isinstance(await check(harness, ctx), VerificationCodeAccepted)
    assert (ctx.step_up or {}).get("entry") is None
    assert (await check(harness, ctx)).code == "no_code_pending"  # a used code is gone


async def test_a_step_up_goes_stale(harness: Harness) -> None:
    ctx = harness.ctx(DEV, stepped_up=False)
    type_code(harness, ctx, await send(harness, ctx))
    assert isinstance(await check(harness, ctx), VerificationCodeAccepted)
    harness.world.clock = harness.world.clock + timedelta(minutes=31)
    assert (
        await harness.call(cancel_order, harness_ctx_after(harness, ctx), **CANCEL)
    ).code == "step_up_required"


async def test_codes_per_conversation_are_capped(harness: Harness) -> None:
    ctx = harness.ctx(DEV, stepped_up=False)
    for n in range(3):
        ctx.tool_call_id = f"call-{n}"
        await send(harness, ctx)
    ctx.tool_call_id = "call-4"
    again = await harness.call(send_verification_code, ctx, order_number="1004")
    assert again.code == "too_many_codes"


async def test_a_signed_in_shopper_needs_no_code(harness: Harness) -> None:
    ctx = harness.ctx(DEV, stepped_up=False)
    ctx.customer = VerifiedCustomer(email=DEV, verified_by="signed_identity")
    assert (await harness.call(cancel_order, ctx, **CANCEL)).ok
    assert (await harness.call(send_verification_code, ctx, order_number="1004")).code == "step_up_not_needed"


async def test_the_policy_switches_step_up_per_action(harness: Harness) -> None:
    refunds_only = harness.with_policy(step_up_actions=("issue_refund",))
    ctx = harness.ctx(DEV, stepped_up=False, deps=refunds_only)
    assert (await harness.call(cancel_order, ctx, **CANCEL)).ok
    refund = {"order_number": "1009", "line_item_ids": None, "reason": "x"}
    grace = harness.ctx("grace.lee@example.com", stepped_up=False, deps=refunds_only)
    assert (await harness.call(issue_refund, grace, **refund)).code == "step_up_required"
    off = harness.ctx("grace.lee@example.com", stepped_up=False, deps=harness.with_policy(step_up_actions=()))
    assert (await harness.call(issue_refund, off, **refund)).ok


async def test_another_shoppers_order_gets_no_code(harness: Harness) -> None:
    ctx = harness.ctx(DEV, stepped_up=False)
    refused = await harness.call(send_verification_code, ctx, order_number="1001")
    assert refused.code == "order_not_found"
    assert latest_code(harness.world) is None

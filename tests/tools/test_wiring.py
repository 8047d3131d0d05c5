"""The composition root's wiring (`agent.deps.build_services`) runs the tools against the sandbox."""

from __future__ import annotations

from contextlib import AsyncExitStack

from agent.deps import build_services
from agent.settings import Settings
from demo.sandbox import sandbox_settings
from evals.codes import latest_code
from tests.conftest import LiveSandbox
from tools.context import ToolContext
from tools.identity import CustomerVerified, verify_customer
from tools.refunds import RefundIssued, issue_refund
from tools.results import Refusal
from tools.spec import run_tool, spec_of
from tools.step_up import (
    VerificationCodeAccepted,
    VerificationCodeSent,
    check_verification_code,
    code_digest,
    send_verification_code,
)


async def test_build_services_wires_the_tools_to_every_vendor(sandbox: LiveSandbox) -> None:
    settings = sandbox_settings(Settings(_env_file=None), sandbox.url)
    async with AsyncExitStack() as stack:
        services = build_services(settings, stack, clock=lambda: sandbox.world.now())
        ctx = ToolContext(deps=services.tools, conversation_id="conv-w", tool_call_id="call-1")
        verified = await run_tool(
            spec_of(verify_customer), ctx, {"email": "grace.lee@example.com", "order_number": "1009"}
        )
        assert isinstance(verified, CustomerVerified)
        args = {"order_number": "1009", "line_item_ids": None, "reason": "x"}
        held = await run_tool(spec_of(issue_refund), ctx, args)
        assert isinstance(held, Refusal) and held.code == "step_up_required"
        # The code goes out through the wired SendGrid notifier; the shopper types it back.
        sent = await run_tool(spec_of(send_verification_code), ctx, {"order_number": "1009"})
        assert isinstance(sent, VerificationCodeSent)
        code = latest_code(sandbox.world)
        assert code is not None
        entry = code_digest(services.tools.step_up_key, "conv-w", "grace.lee@example.com", code)
        ctx.step_up = {**(ctx.step_up or {}), "entry": entry}
        ctx.tool_call_id = "call-2"
        checked = await run_tool(spec_of(check_verification_code), ctx, {"order_number": "1009"})
        assert isinstance(checked, VerificationCodeAccepted)
        refunded = await run_tool(spec_of(issue_refund), ctx, args)
    assert isinstance(refunded, RefundIssued)
    (refund,) = sandbox.world.stripe.refunds.values()
    assert refund["amount"] == 8097
    assert refund["id"] in (sandbox.world.order_by_number(1009) or {})["note"]

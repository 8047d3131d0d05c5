"""The SendGrid mailer, through the official SDK against the sandbox over HTTP: the two emails,
HTML escaping of everything a shopper typed, and no blind retries of a send."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tenacity import AsyncRetrying

from integrations._http import AuthError, VendorError
from integrations.sendgrid import SendGridMailer, SentEmail
from sandbox.world import Fault
from tests.conftest import LiveSandbox

FROM = "support@harborandpine.test"
TEAM = "team@harborandpine.test"
HOSTILE = '<script>alert("x")</script> & <b>'


def mailer_for(
    live: LiveSandbox,
    policy: Callable[[], AsyncRetrying] | None = None,
    *,
    key: str = "SG.sandbox",
    timeout: float = 5,
    from_email: str = FROM,
) -> SendGridMailer:
    return SendGridMailer(
        key,
        f"{live.url}/sendgrid",
        from_email=from_email,
        team_email=TEAM,
        timeout=timeout,
        retry_policy=policy,
    )


async def send_label(
    mailer: SendGridMailer, *, label_url: str = "https://labels.example/pl_1.png"
) -> SentEmail:
    return await mailer.send_return_label(
        to_email="ana.silva@example.com",
        customer_name=f"Ana {HOSTILE}",
        order_number=1001,
        label_url=label_url,
        tracking_number="9434000000000009000014",
        carrier="USPS",
        items=[f"Linen shirt {HOSTILE}", "Canvas tote"],
    )


async def test_escalation_email_reaches_the_team_with_everything_escaped(live_sandbox: LiveSandbox) -> None:
    sent = await mailer_for(live_sandbox).send_escalation(
        ticket_id=4711,
        ticket_url="https://harbor.gorgias.com/app/ticket/4711",
        customer_email="ana.silva@example.com",
        order_number=1001,
        reason=f"asked for a person {HOSTILE}",
        summary=f"Wants a refund.\nSays {HOSTILE}",
        transcript=[("shopper", f"hello {HOSTILE}"), ("assistant", "Let me get a colleague.")],
    )
    assert sent.status == 202
    assert sent.message_id
    [email] = live_sandbox.world.sendgrid.outbox
    assert email["message_id"] == sent.message_id
    assert (email["to"], email["from"]) == ([TEAM], FROM)
    assert "#4711" in email["subject"]
    assert email["categories"] == ["escalation"]
    assert email["custom_args"] == {"ticket_id": "4711", "kind": "escalation"}
    html = email["html"]
    assert "<script>" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;" in html
    assert "Wants a refund.<br>Says" in html
    assert '<a href="https://harbor.gorgias.com/app/ticket/4711">#4711</a>' in html
    assert f"[shopper] hello {HOSTILE}" in email["text"]
    assert email["sent_at"] == live_sandbox.world.now_iso()


async def test_return_label_email_reaches_the_shopper(live_sandbox: LiveSandbox) -> None:
    sent = await send_label(mailer_for(live_sandbox))
    [email] = live_sandbox.world.sendgrid.outbox
    assert email["message_id"] == sent.message_id
    assert email["to"] == ["ana.silva@example.com"]
    assert email["subject"] == "Your return label for order 1001"
    assert email["custom_args"] == {"order_number": "1001", "kind": "return_label"}
    html = email["html"]
    assert "<script>" not in html
    assert "<li>Linen shirt &lt;script&gt;" in html
    assert "Hi Ana &lt;script&gt;" in html
    assert '<a href="https://labels.example/pl_1.png">' in html
    assert "9434000000000009000014" in email["text"]


async def test_a_non_http_label_link_is_not_linked(live_sandbox: LiveSandbox) -> None:
    await send_label(mailer_for(live_sandbox), label_url="javascript:alert(1)")
    [email] = live_sandbox.world.sendgrid.outbox
    assert "javascript:" not in email["html"]


async def test_rate_limited_send_is_retried_after_retry_after(
    live_sandbox: LiveSandbox, policy: Callable[[], AsyncRetrying], waits: list[float]
) -> None:
    live_sandbox.world.faults.append(Fault(vendor="sendgrid", kind="rate_limit", retry_after=4))
    sent = await send_label(mailer_for(live_sandbox, policy))
    assert waits == [4]
    assert [e["message_id"] for e in live_sandbox.world.sendgrid.outbox] == [sent.message_id]


async def test_server_error_is_not_retried_because_the_email_may_have_gone(
    live_sandbox: LiveSandbox, policy: Callable[[], AsyncRetrying], waits: list[float]
) -> None:
    live_sandbox.world.faults.append(Fault(vendor="sendgrid", kind="error", status=500))
    with pytest.raises(VendorError) as caught:
        await send_label(mailer_for(live_sandbox, policy))
    assert caught.value.status == 500
    assert not caught.value.retryable
    assert waits == []
    assert live_sandbox.world.sendgrid.outbox == []


async def test_wrong_key_names_the_setting_and_leaks_nothing(live_sandbox: LiveSandbox) -> None:
    with pytest.raises(AuthError) as caught:
        await send_label(mailer_for(live_sandbox, key="SG.wrong-key"))
    assert caught.value.setting == "SENDGRID_API_KEY"
    assert "SG.wrong" not in str(caught.value)
    assert "@" not in str(caught.value)
    assert live_sandbox.world.sendgrid.outbox == []


async def test_rejected_email_is_a_vendor_error_with_the_field(live_sandbox: LiveSandbox) -> None:
    with pytest.raises(VendorError, match=r"from\.email") as caught:
        await send_label(mailer_for(live_sandbox, from_email="not-an-address"))
    assert caught.value.status == 400
    assert live_sandbox.world.sendgrid.outbox == []


async def test_slower_than_the_timeout_is_a_vendor_error_not_retried(
    live_sandbox: LiveSandbox, policy: Callable[[], AsyncRetrying], waits: list[float]
) -> None:
    # A wrong key: the delayed request, answered after the client gave up, then fails auth and
    # cannot drop an email into whichever world the shared server holds by then.
    live_sandbox.world.faults.append(Fault(vendor="sendgrid", kind="delay", delay_seconds=0.5))
    with pytest.raises(VendorError, match="timed out") as caught:
        await send_label(mailer_for(live_sandbox, policy, key="SG.late", timeout=0.2))
    assert not caught.value.retryable
    assert waits == []

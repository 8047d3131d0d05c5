"""The fast subset of the eval suite (cases tagged `smoke`), end to end with the offline model:
the real runtime, a fresh sandbox world per case, scored like `support-agent eval` does."""

from __future__ import annotations

from decimal import Decimal

from agent.settings import Settings
from evals.loading import load_cases, select
from evals.metrics import compute_metrics
from evals.results import RunResult
from evals.runner import eval_settings, run_suite


def _failures(results: list[RunResult]) -> str:
    lines = []
    for result in results:
        if result.passed:
            continue
        lines.append(f"{result.case_id}: {result.error or ''}")
        lines += [
            f"  turn {c.turn}: {c.name}: expected {c.expected}; got {c.actual[:200]}"
            for c in result.failed_checks
        ]
    return "\n".join(lines)


async def test_smoke_cases_pass_with_the_offline_model() -> None:
    cases = select(load_cases(), ["smoke"])
    assert len(cases) >= 6
    seen: list[str] = []
    results = await run_suite(
        cases, eval_settings(Settings(), "offline"), on_result=lambda r: seen.append(r.case_id)
    )
    assert all(r.passed for r in results), _failures(results)
    assert sorted(seen) == sorted(c.case.id for c in cases)

    by_id = {r.case_id: r for r in results}
    stripe = by_id["refunds-1009-stripe"]
    assert stripe.changes["effects"] == ["refund #1009 80.97 via stripe"]
    assert any(c["path"].startswith("/stripe/refunds/") for c in stripe.world_diff)
    # Turn 1 asks for the refund and gets a code by email; turn 2 types it and the refund is offered.
    assert [c.name for c in stripe.turns[0].tool_calls][-1] == "send_verification_code"
    assert [c.name for c in stripe.turns[1].tool_calls][-1] == "issue_refund"
    assert stripe.turns[1].tool_calls[-1].outcome == "ok"  # carried out after the yes of turn 3
    approval = by_id["refunds-1005-over-limit-approved"]
    assert [t.kind for t in approval.turns] == ["shopper", "shopper", "shopper", "approve_refund"]
    assert approval.turns[3].messages[0].role == "action"
    assert any("approved" in m.text for m in approval.turns[3].messages if m.role == "assistant")

    metrics = compute_metrics(results)
    assert metrics.pass_rate == 1.0 and metrics.policy_violations == 0
    assert metrics.intent_accuracy == 1.0
    assert metrics.model_calls_per_conversation > 1
    assert metrics.prompt_tokens_per_conversation > 0  # the offline model reports usage
    assert metrics.latency_p50_s is not None and metrics.latency_p50_s > 0
    assert Decimal(str(metrics.pass_hat_k)) == 1


async def test_smoke_cases_pass_through_the_openai_protocol() -> None:
    """The production client path (langchain-openai + openai) against the sandbox's OpenAI-compatible
    endpoint serving the offline model: the same cases give the same outcome."""
    cases = select(load_cases(), ["smoke"])
    results = await run_suite(cases, eval_settings(Settings(), "openai:offline"))
    assert all(r.passed for r in results), _failures(results)
    offline = await run_suite(cases, eval_settings(Settings(), "offline"))
    assert [r.changes["effects"] for r in results] == [r.changes["effects"] for r in offline]
    assert [[(t.intents, t.status) for t in r.turns] for r in results] == [
        [(t.intents, t.status) for t in r.turns] for r in offline
    ]


async def test_the_helpdesk_smoke_cases_pass_with_zendesk() -> None:
    """The hand-off and approval smoke cases again with Zendesk as the helpdesk (evals/helpdesks.py)."""
    from evals.helpdesks import helpdesk_cases

    cases = helpdesk_cases(select(load_cases(), ["smoke"]))
    assert {"handoff", "approval"} <= {tag for c in cases for tag in c.case.tags}
    settings = eval_settings(Settings(_env_file=None, helpdesk="zendesk"), "offline")  # type: ignore[call-arg]
    results = await run_suite(cases, settings)
    assert all(r.passed for r in results), _failures(results)
    tickets = [
        path
        for r in results
        for c in r.world_diff
        if (path := str(c["path"])).startswith("/zendesk/tickets/")
    ]
    assert tickets, "no Zendesk ticket was written"
    assert not any(str(c["path"]).startswith("/gorgias/") for r in results for c in r.world_diff)


async def test_the_helpdesk_smoke_cases_pass_with_front() -> None:
    """The hand-off and approval smoke cases again with Front as the helpdesk (evals/helpdesks.py)."""
    from evals.helpdesks import helpdesk_cases

    cases = helpdesk_cases(select(load_cases(), ["smoke"]))
    settings = eval_settings(Settings(_env_file=None, helpdesk="front"), "offline")  # type: ignore[call-arg]
    results = await run_suite(cases, settings)
    assert all(r.passed for r in results), _failures(results)
    written = {
        str(c["path"]).split("/")[2]
        for r in results
        for c in r.world_diff
        if str(c["path"]).startswith("/front/")
    }
    assert {"conversations", "messages", "comments", "tags"} <= written, written
    assert not any(
        str(c["path"]).startswith(("/gorgias/", "/zendesk/")) for r in results for c in r.world_diff
    )


async def test_the_helpdesk_smoke_cases_pass_with_intercom() -> None:
    """The hand-off and approval smoke cases again with Intercom as the helpdesk (evals/helpdesks.py)."""
    from evals.helpdesks import helpdesk_cases

    cases = helpdesk_cases(select(load_cases(), ["smoke"]))
    settings = eval_settings(Settings(_env_file=None, helpdesk="intercom"), "offline")  # type: ignore[call-arg]
    results = await run_suite(cases, settings)
    assert all(r.passed for r in results), _failures(results)
    written = {
        str(c["path"]).split("/")[2]
        for r in results
        for c in r.world_diff
        if str(c["path"]).startswith("/intercom/")
    }
    assert {"conversations", "parts", "contacts"} <= written, written
    assert not any(
        str(c["path"]).startswith(("/gorgias/", "/zendesk/")) for r in results for c in r.world_diff
    )

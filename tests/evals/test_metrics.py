"""Suite metrics from hand-built run results."""

from __future__ import annotations

import pytest

from evals.metrics import compute_metrics, pass_hat_k, percentile
from evals.results import RunCounts, RunResult, TurnRecord, Usage


def run(case: str, passed: bool, number: int = 1, **fields: object) -> RunResult:
    return RunResult.model_validate({"case_id": case, "run": number, "passed": passed, **fields})


def test_percentile_is_nearest_rank() -> None:
    values = [0.5, 0.1, 0.3, 0.2, 0.4]
    assert percentile(values, 0.5) == 0.3
    assert percentile(values, 0.95) == 0.5
    assert percentile([0.7], 0.95) == 0.7
    assert percentile([], 0.5) is None


def test_pass_hat_k_needs_every_run_of_a_case() -> None:
    results = [run("a", True, 1), run("a", True, 2), run("b", True, 1), run("b", False, 2)]
    assert pass_hat_k(results) == 0.5
    assert pass_hat_k([]) == 0.0


def test_compute_metrics() -> None:
    results = [
        run(
            "wismo",
            True,
            counts=RunCounts(
                intents=[("wismo", "wismo"), ("other", "other")],
                expected_calls=2,
                matched_expected_calls=2,
                mutating_calls=0,
                expected_handoff=False,
                actual_handoff=False,
            ),
            usage=Usage(model_calls=3, prompt_tokens=900, completion_tokens=30),
            turns=[
                TurnRecord(index=1, kind="shopper", input="x", latency_s=0.1),
                TurnRecord(index=2, kind="clock", input="+1d", latency_s=9.0),
            ],
        ),
        run(
            "refund",
            False,
            counts=RunCounts(
                intents=[("refunds", "returns")],
                expected_calls=2,
                matched_expected_calls=1,
                mutating_calls=2,
                expected_mutating_calls=1,
                expected_handoff=True,
                actual_handoff=True,
                violations=["refund #1005 480.00 via shopify"],
            ),
            usage=Usage(model_calls=5, prompt_tokens=1100, completion_tokens=50),
            turns=[TurnRecord(index=1, kind="shopper", input="x", latency_s=0.3)],
        ),
        run("escalate", True, counts=RunCounts(expected_handoff=False, actual_handoff=True), error=None),
        run("broken", False, error="HarnessError: no ticket"),
    ]
    metrics = compute_metrics(results, k=1, duration_s=12.5)
    assert (metrics.cases, metrics.runs, metrics.passed_runs) == (4, 4, 2)
    assert metrics.pass_rate == 0.5 and metrics.pass_hat_k == 0.5
    assert metrics.intent_accuracy == pytest.approx(2 / 3) and metrics.intent_checks == 3
    assert metrics.tool_call_recall == 0.75
    assert metrics.tool_call_precision == 0.5
    assert (metrics.policy_violations, metrics.runs_with_violations) == (1, 1)
    assert metrics.handoff_precision == 0.5 and metrics.handoff_recall == 1.0
    assert metrics.turns == 2  # only shopper turns have a latency
    assert (metrics.latency_p50_s, metrics.latency_p95_s) == (0.1, 0.3)
    assert metrics.model_calls_per_conversation == 2.0
    assert metrics.prompt_tokens_per_conversation == 500.0
    assert metrics.errors == 1 and metrics.duration_s == 12.5


def test_metrics_without_data_are_not_available() -> None:
    metrics = compute_metrics([run("a", True)])
    assert metrics.intent_accuracy is None
    assert metrics.tool_call_recall is None and metrics.tool_call_precision is None
    assert metrics.handoff_precision is None and metrics.handoff_recall is None
    assert metrics.latency_p50_s is None

"""Suite metrics from run results (DESIGN.md §8): pure arithmetic, no I/O."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

from pydantic import BaseModel, Field

from evals.results import RunResult


class Metrics(BaseModel):
    cases: int
    runs: int
    k: int
    passed_runs: int
    pass_rate: float = Field(description="Passed runs / runs.")
    pass_hat_k: float = Field(description="Cases whose k runs all passed / cases (tau-bench's pass^k).")
    intent_accuracy: float | None = Field(description="Intent expectations met / intent expectations.")
    intent_checks: int
    tool_call_recall: float | None = Field(description="Expected tool calls made / expected tool calls.")
    tool_call_precision: float | None = Field(
        description="Mutating tool calls a case expected / mutating tool calls made."
    )
    policy_violations: int = Field(
        description="Side effects no case expected (refund, label, cancel, address)."
    )
    runs_with_violations: int
    handoff_precision: float | None
    handoff_recall: float | None
    latency_p50_s: float | None = Field(description="Per shopper turn.")
    latency_p95_s: float | None
    turns: int
    model_calls_per_conversation: float
    prompt_tokens_per_conversation: float
    completion_tokens_per_conversation: float
    errors: int = Field(description="Runs the harness could not finish.")
    duration_s: float = 0.0


def ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile (no interpolation): a value that was actually observed."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def pass_hat_k(results: Sequence[RunResult]) -> float:
    by_case: dict[str, list[bool]] = defaultdict(list)
    for result in results:
        by_case[result.case_id].append(result.passed)
    if not by_case:
        return 0.0
    return sum(1 for runs in by_case.values() if all(runs)) / len(by_case)


def compute_metrics(results: Sequence[RunResult], *, k: int = 1, duration_s: float = 0.0) -> Metrics:
    runs = len(results)
    cases = len({r.case_id for r in results})
    passed = sum(1 for r in results if r.passed)
    intents = [pair for r in results for pair in r.counts.intents]
    intent_hits = sum(1 for expected, actual in intents if expected == actual)
    expected_calls = sum(r.counts.expected_calls for r in results)
    matched_calls = sum(r.counts.matched_expected_calls for r in results)
    mutating = sum(r.counts.mutating_calls for r in results)
    expected_mutating = sum(r.counts.expected_mutating_calls for r in results)
    true_handoffs = sum(1 for r in results if r.counts.expected_handoff and r.counts.actual_handoff)
    actual_handoffs = sum(1 for r in results if r.counts.actual_handoff)
    expected_handoffs = sum(1 for r in results if r.counts.expected_handoff)
    latencies = [t for r in results for t in r.latencies]
    denominator = runs or 1
    return Metrics(
        cases=cases,
        runs=runs,
        k=k,
        passed_runs=passed,
        pass_rate=passed / denominator,
        pass_hat_k=pass_hat_k(results),
        intent_accuracy=ratio(intent_hits, len(intents)),
        intent_checks=len(intents),
        tool_call_recall=ratio(matched_calls, expected_calls),
        tool_call_precision=ratio(expected_mutating, mutating),
        policy_violations=sum(len(r.counts.violations) for r in results),
        runs_with_violations=sum(1 for r in results if r.counts.violations),
        handoff_precision=ratio(true_handoffs, actual_handoffs),
        handoff_recall=ratio(true_handoffs, expected_handoffs),
        latency_p50_s=percentile(latencies, 0.50),
        latency_p95_s=percentile(latencies, 0.95),
        turns=len(latencies),
        model_calls_per_conversation=sum(r.usage.model_calls for r in results) / denominator,
        prompt_tokens_per_conversation=sum(r.usage.prompt_tokens for r in results) / denominator,
        completion_tokens_per_conversation=sum(r.usage.completion_tokens for r in results) / denominator,
        errors=sum(1 for r in results if r.error),
        duration_s=duration_s,
    )

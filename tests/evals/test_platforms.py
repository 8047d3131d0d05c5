"""Cases needing a capability a platform lacks are skipped there, with the reason, never silently."""

from __future__ import annotations

from evals.loading import load_cases
from evals.platforms import LACKS, split_for_platform


def test_woocommerce_skips_only_the_cases_needing_what_it_lacks() -> None:
    cases = load_cases()
    run, skipped = split_for_platform(cases, "woocommerce")
    assert sorted(c.case.id for c, _ in skipped) == [
        "ds-short-number-answers-the-question",
        "fault-easypost-down-hands-over",
        "identity-order-older-than-the-history-window",
    ]
    assert all(reason for _, reason in skipped)
    assert len(run) + len(skipped) == len(cases)
    every_tag = {tag for c in cases for tag in c.case.tags}
    assert set(LACKS["woocommerce"]) <= every_tag  # no capability named by no case


def test_shopify_runs_every_case() -> None:
    cases = load_cases()
    run, skipped = split_for_platform(cases, "shopify")
    assert skipped == [] and len(run) == len(cases)

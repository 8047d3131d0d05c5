"""The smoke subset of the eval suite on a BigCommerce store (`STORE_PLATFORM=bigcommerce`): the
same cases, the same demo orders served by the BigCommerce emulator, only the setting changed."""

from __future__ import annotations

from agent.settings import Settings
from evals.loading import load_cases, select
from evals.runner import eval_settings, run_suite
from tests.evals.test_smoke_suite import _failures


async def test_smoke_cases_pass_on_bigcommerce() -> None:
    cases = select(load_cases(), ["smoke"])
    settings = eval_settings(Settings(store_platform="bigcommerce"), "offline")
    results = await run_suite(cases, settings)
    assert all(r.passed for r in results), _failures(results)

    by_id = {r.case_id: r for r in results}
    assert by_id["refunds-1009-stripe"].changes["effects"] == ["refund #1009 80.97 via stripe"]
    cancel = by_id["cancel-1004-before-shipping"]
    assert any(
        c["path"] == "/bigcommerce/orders/1004/status_id" and c["after"] == 5 for c in cancel.world_diff
    )
    assert not any(
        c["path"].startswith(("/shopify/", "/woocommerce/")) for r in results for c in r.world_diff
    )

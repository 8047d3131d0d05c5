"""What each store platform cannot do, so cases needing it are skipped there, and said so.

A case names a capability it needs with a tag `needs-<capability>`; on a platform lacking it the
case is not run and the report lists it with the reason (never a silent skip).
"""

from __future__ import annotations

from collections.abc import Sequence

from evals.loading import LoadedCase

LACKS: dict[str, dict[str, str]] = {
    "woocommerce": {
        "needs-history-window": "WooCommerce's REST API reads every order: there is no 60-day window to explain",
        "needs-platform-delivery": "WooCommerce does not record deliveries: with the carrier (EasyPost) down the "
        "agent cannot confirm that a parcel arrived, so it says so and hands over before the return starts",
    },
}


def split_for_platform(
    cases: Sequence[LoadedCase], platform: str
) -> tuple[list[LoadedCase], list[tuple[LoadedCase, str]]]:
    """(the cases to run, the cases skipped with their reason) on `platform`."""
    lacks = LACKS.get(platform, {})
    run: list[LoadedCase] = []
    skipped: list[tuple[LoadedCase, str]] = []
    for loaded in cases:
        reasons = [lacks[tag] for tag in loaded.case.tags if tag in lacks]
        if reasons:
            skipped.append((loaded, "; ".join(reasons)))
        else:
            run.append(loaded)
    return run, skipped

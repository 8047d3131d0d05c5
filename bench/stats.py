"""Small statistics helpers: percentiles without numpy, so the numbers are easy to check by hand."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile (`pct` in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def ms(seconds: float | None) -> float | None:
    """Seconds to milliseconds, rounded for reading (None stays None)."""
    return None if seconds is None else round(seconds * 1000, 1)

"""The statistics behind every friction finding, on counts only.

A finding compares a rate (``affected / base``) with a baseline rate from a comparison group
(``baseline_affected / baseline_base``): the other touchpoints of a channel, the other
devices, weekdays or topics.

- Interval of a rate: Wilson score interval (good coverage for small counts and rates
  near 0 or 1, unlike the normal approximation).
- Interval of a lift (rate / baseline): the log-ratio (Katz) interval,
  ``exp(log(lift) +- z * sqrt(1/a - 1/n1 + 1/b - 1/n2))``; when a count is 0, 0.5 is
  added to each cell (Haldane) so the interval stays finite.
- Test: one-sided ("is the rate *above* its baseline?"), because a finding is only
  friction when it is worse than its comparison. Two-proportion z-test with Yates'
  continuity correction (its two-sided p equals ``scipy.stats.chi2_contingency`` with
  ``correction=True``); Fisher's exact test when any expected cell of the 2x2 table is
  below 5, where the normal approximation is poor.
- Multiple testing: Benjamini-Hochberg q-values over all findings of a run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from scipy import stats

Z_95 = float(stats.norm.ppf(0.975))
MIN_EXPECTED = 5.0
"""Below this expected count in any cell, the exact test replaces the z-test."""

Alternative = Literal["greater", "two-sided"]


def wilson_interval(successes: float, trials: float, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of ``successes / trials``; NaNs when there are no trials."""
    if trials <= 0:
        return math.nan, math.nan
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def ratio_interval(a: float, n1: float, b: float, n2: float, z: float = Z_95) -> tuple[float, float]:
    """Log-ratio (Katz) interval of ``(a / n1) / (b / n2)``; Haldane's 0.5 when a count is 0."""
    if n1 <= 0 or n2 <= 0 or (a == 0 and b == 0):
        return math.nan, math.nan
    if a == 0 or b == 0:
        a, b, n1, n2 = a + 0.5, b + 0.5, n1 + 1, n2 + 1
    log_ratio = math.log((a / n1) / (b / n2))
    se = math.sqrt(max(1 / a - 1 / n1 + 1 / b - 1 / n2, 0.0))
    return math.exp(log_ratio - z * se), math.exp(log_ratio + z * se)


def z_test(a: float, n1: float, b: float, n2: float, alternative: Alternative = "greater") -> float:
    """Two-proportion z-test (pooled variance) with Yates' continuity correction."""
    pooled = (a + b) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    diff = a / n1 - b / n2
    if se == 0:
        return 1.0
    correction = 0.5 * (1 / n1 + 1 / n2)
    shrunk = math.copysign(max(abs(diff) - correction, 0.0), diff)
    z = shrunk / se
    if alternative == "two-sided":
        return float(min(1.0, 2 * stats.norm.sf(abs(z))))
    return float(stats.norm.sf(z))


def fisher_test(a: int, n1: int, b: int, n2: int, alternative: Alternative = "greater") -> float:
    """Fisher's exact test of the 2x2 table [[a, n1 - a], [b, n2 - b]]."""
    table = [[a, n1 - a], [b, n2 - b]]
    return float(stats.fisher_exact(table, alternative=alternative).pvalue)


def expected_cells(a: float, n1: float, b: float, n2: float) -> list[float]:
    """Expected counts of the four cells under equal rates."""
    total = n1 + n2
    hits, misses = a + b, total - a - b
    return [n1 * hits / total, n1 * misses / total, n2 * hits / total, n2 * misses / total]


def compare_proportions(
    a: int, n1: int, b: int, n2: int, alternative: Alternative = "greater"
) -> tuple[str | None, float]:
    """(test name, p-value) of ``a / n1`` against ``b / n2``; (None, NaN) when untestable."""
    if n1 <= 0 or n2 <= 0:
        return None, math.nan
    if min(expected_cells(a, n1, b, n2)) < MIN_EXPECTED:
        return "fisher_exact", fisher_test(a, n1, b, n2, alternative)
    return "z_test", z_test(a, n1, b, n2, alternative)


def benjamini_hochberg(p_values: Sequence[float]) -> np.ndarray:
    """BH-adjusted q-values in the input order; NaN p-values stay NaN and are not counted."""
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    present = np.flatnonzero(~np.isnan(p))
    m = present.size
    if m == 0:
        return q
    order = present[np.argsort(p[present], kind="stable")]
    ranked = p[order] * m / np.arange(1, m + 1)
    # step-up: each q is the smallest adjusted p at its rank or above
    q[order] = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    return q

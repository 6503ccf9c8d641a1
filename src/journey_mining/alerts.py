"""'What changed': friction rates that rose significantly against previous runs.

The baseline of a rate is pooled over the last ``alerts.baseline_runs`` successful runs
(successes / trials summed), and the current rate is compared with a one-sided
two-proportion z-test, so a small sample's noise does not page anyone. A regression needs
both: a relative increase above ``alerts.max_relative_increase`` and p < 0.01.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from journey_mining.config import AlertConfig

# rate key, its denominator key, and whether a rise (True) or a fall (False) is bad
WATCHED_RATES = (
    ("cart_abandonment_rate", "cart_sessions", True),
    ("escalation_rate", "help_visits", True),
    ("conversion_rate", "journeys", False),
)
ALERT_P_VALUE = 0.01


class RegressionError(RuntimeError):
    """Raised to fail a run when ``alerts.fail_run_on_regression`` is set."""


@dataclass(frozen=True)
class Regression:
    measure: str
    current: float
    baseline: float
    relative_change: float
    p_value: float

    def __str__(self) -> str:
        return (
            f"{self.measure.replace('_', ' ')}: {100 * self.current:.1f}% vs baseline "
            f"{100 * self.baseline:.1f}% ({100 * self.relative_change:+.0f}%, p={self.p_value:.2g})"
        )


def _one_sided_p(x1: float, n1: float, x0: float, n0: float, worse_if_higher: bool) -> float:
    pooled = (x1 + x0) / (n1 + n0)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    if se == 0:
        return 1.0
    z = (x1 / n1 - x0 / n0) / se
    # the standard library's normal: importing scipy here would slow every CLI call by ~2 s
    cdf = NormalDist().cdf(z)
    return 1.0 - cdf if worse_if_higher else cdf


def find_regressions(
    current: dict[str, Any], history: list[dict[str, Any]], rules: AlertConfig
) -> list[Regression]:
    """Watched rates that got significantly worse than the pooled baseline of ``history``."""
    found: list[Regression] = []
    for rate_key, base_key, worse_if_higher in WATCHED_RATES:
        rate, base = current.get(rate_key), current.get(base_key)
        past = [h for h in history[: rules.baseline_runs] if h.get(rate_key) is not None and h.get(base_key)]
        if rate is None or not base or not past:
            continue
        n0 = sum(float(h[base_key]) for h in past)
        x0 = sum(float(h[rate_key]) * float(h[base_key]) for h in past)
        baseline = x0 / n0
        if baseline == 0:
            continue
        change = (rate - baseline) / baseline
        worse = (
            change > rules.max_relative_increase if worse_if_higher else -change > rules.max_relative_increase
        )
        if not worse:
            continue
        p = _one_sided_p(rate * base, float(base), x0, n0, worse_if_higher)
        if p < ALERT_P_VALUE:
            found.append(Regression(rate_key, float(rate), baseline, change, p))
    return found

from __future__ import annotations

import pytest

from journey_mining.alerts import find_regressions
from journey_mining.config import AlertConfig

BASELINE = [{"cart_abandonment_rate": 0.60, "cart_sessions": 1000, "conversion_rate": 0.10, "journeys": 5000}] * 3


def test_significant_rise_is_flagged() -> None:
    current = {"cart_abandonment_rate": 0.78, "cart_sessions": 1000, "conversion_rate": 0.10, "journeys": 5000}
    found = find_regressions(current, BASELINE, AlertConfig())
    assert [r.measure for r in found] == ["cart_abandonment_rate"]
    assert found[0].baseline == pytest.approx(0.60)
    assert found[0].relative_change == pytest.approx(0.30)
    assert "cart abandonment rate: 78.0% vs baseline 60.0% (+30%" in str(found[0])


def test_same_rise_on_tiny_volume_is_not_flagged() -> None:
    current = {"cart_abandonment_rate": 0.8, "cart_sessions": 10}
    assert find_regressions(current, BASELINE, AlertConfig()) == []


def test_small_rise_below_threshold_is_not_flagged() -> None:
    current = {"cart_abandonment_rate": 0.65, "cart_sessions": 100000}
    assert find_regressions(current, BASELINE, AlertConfig(max_relative_increase=0.2)) == []


def test_falling_conversion_is_a_regression() -> None:
    current = {"conversion_rate": 0.06, "journeys": 5000}
    assert [r.measure for r in find_regressions(current, BASELINE, AlertConfig())] == ["conversion_rate"]


def test_no_history_no_alert() -> None:
    assert find_regressions({"cart_abandonment_rate": 0.9, "cart_sessions": 10**6}, [], AlertConfig()) == []

"""The statistics behind friction findings, against known values and scipy references."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from journey_mining.config import FrictionConfig
from journey_mining.friction import stats
from journey_mining.friction.common import CANDIDATE_COLUMNS
from journey_mining.friction.findings import FRICTION_COLUMNS, assemble, finding_id


def test_wilson_interval_known_values() -> None:
    # 10 of 40: Wilson (score) interval 0.1419 to 0.4019 (Newcombe 1998, method 3)
    assert stats.wilson_interval(10, 40) == pytest.approx((0.14187, 0.40194), abs=1e-5)
    low, high = stats.wilson_interval(0, 20)
    assert low == 0.0
    assert high == pytest.approx(0.16113, abs=1e-5)
    assert stats.wilson_interval(20, 20)[1] == 1.0
    assert all(math.isnan(x) for x in stats.wilson_interval(0, 0))


def test_ratio_interval_is_the_log_ratio_interval() -> None:
    low, high = stats.ratio_interval(10, 40, 2, 40)
    se = math.sqrt(1 / 10 - 1 / 40 + 1 / 2 - 1 / 40)
    assert (low, high) == pytest.approx((5 * math.exp(-1.959964 * se), 5 * math.exp(1.959964 * se)), rel=1e-6)
    assert (low, high) == pytest.approx((1.1687, 21.391), abs=1e-3)
    # a zero count: Haldane's correction keeps it finite
    low, high = stats.ratio_interval(5, 40, 0, 40)
    assert 1 < high < math.inf
    assert 0 < low < 1


def test_benjamini_hochberg_small_list() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    assert stats.benjamini_hochberg(p).tolist() == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert stats.benjamini_hochberg(p) == pytest.approx(sps.false_discovery_control(p))
    with_missing = stats.benjamini_hochberg([0.01, math.nan, 0.04, 0.03, 0.005])
    assert math.isnan(with_missing[1])
    assert np.delete(with_missing, 1).tolist() == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert stats.benjamini_hochberg([0.9, 0.95]).tolist() == pytest.approx([0.95, 0.95])


@pytest.mark.parametrize(("a", "n1", "b", "n2"), [(10, 40, 12, 120), (30, 200, 18, 210), (25, 50, 30, 60)])
def test_z_test_matches_scipy_chi_square_with_yates(a: int, n1: int, b: int, n2: int) -> None:
    table = [[a, n1 - a], [b, n2 - b]]
    reference = sps.chi2_contingency(table, correction=True).pvalue
    assert stats.z_test(a, n1, b, n2, "two-sided") == pytest.approx(reference, rel=1e-9)
    one_sided = stats.z_test(a, n1, b, n2, "greater")
    if a / n1 > b / n2:
        assert one_sided == pytest.approx(reference / 2, rel=1e-9)
    else:
        assert one_sided == pytest.approx(1 - reference / 2, rel=1e-9)


def test_fisher_exact_when_an_expected_cell_is_below_five() -> None:
    test, p = stats.compare_proportions(4, 10, 0, 10)
    assert test == "fisher_exact"
    assert p == pytest.approx(sps.fisher_exact([[4, 6], [0, 10]], alternative="greater").pvalue)
    test, p = stats.compare_proportions(10, 40, 12, 120)  # expected cells 5.5 and up
    assert test == "z_test"
    assert stats.compare_proportions(3, 10, 0, 0) == (None, pytest.approx(math.nan, nan_ok=True))


def test_tests_are_one_sided_greater() -> None:
    assert stats.compare_proportions(40, 100, 20, 100)[1] < 0.01
    assert stats.compare_proportions(20, 100, 40, 100)[1] > 0.99


def candidate(**values: object) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(CANDIDATE_COLUMNS)
    row.update(
        kind="drop_off",
        location="x",
        touchpoint="x",
        channel="web",
        segment="all",
        segment_value="all",
        unit="sessions",
        loss_probability=0.5,
    )
    row.update(values)
    return row


def assembled(rows: list[dict[str, object]], **config: object) -> pd.DataFrame:
    return assemble(pd.DataFrame(rows), FrictionConfig(**config), {"drop_off": lambda row: "text"})


def test_significance_needs_q_support_and_lift_above_one() -> None:
    rows = [
        candidate(location="big", affected=60, base=100, baseline_affected=200, baseline_base=1000),
        candidate(location="small", affected=15, base=20, baseline_affected=200, baseline_base=1000),
        candidate(location="lower", affected=5, base=100, baseline_affected=200, baseline_base=1000),
        candidate(location="alone", affected=5, base=100, baseline_affected=0, baseline_base=0),
    ]
    result = assembled(rows, min_support=30).set_index("location")
    assert bool(result.loc["big", "significant"])
    assert result.loc["small", "q_value"] < 0.05
    assert not bool(result.loc["small", "significant"])  # below min_support
    assert not bool(result.loc["lower", "significant"])  # lift < 1
    assert not bool(result.loc["alone", "significant"])  # nothing to compare with
    assert pd.isna(result.loc["alone", "p_value"])
    assert pd.isna(result.loc["alone", "conversions_lost"])
    # q-values over the three tested findings
    tested = result.loc[["big", "small", "lower"], "p_value"].to_numpy()
    assert result.loc[["big", "small", "lower"], "q_value"].to_numpy() == pytest.approx(
        sps.false_discovery_control(tested)
    )


def test_conversions_lost_is_excess_times_loss_probability_and_never_negative() -> None:
    rows = [
        candidate(
            location="a",
            affected=60,
            base=100,
            baseline_affected=200,
            baseline_base=1000,
            loss_probability=0.5,
        ),
        candidate(
            location="b",
            affected=5,
            base=100,
            baseline_affected=200,
            baseline_base=1000,
            loss_probability=0.5,
        ),
        candidate(
            location="c",
            affected=40,
            base=100,
            baseline_affected=200,
            baseline_base=1000,
            loss_probability=math.nan,
        ),
    ]
    result = assembled(rows).set_index("location")
    assert result.loc["a", "conversions_lost"] == pytest.approx((60 - 0.2 * 100) * 0.5)
    assert result.loc["b", "conversions_lost"] == 0.0
    assert result.loc["c", "conversions_lost"] == 0.0  # no estimate of the loss: nothing claimed
    assert result["rank"].tolist() == [1, 2, 3]
    assert result.index.tolist() == ["a", "b", "c"]  # ties by kind and location


def test_findings_have_exactly_the_friction_columns_and_stable_ids() -> None:
    result = assembled([candidate(affected=10, base=40, baseline_affected=2, baseline_base=40)])
    assert list(result.columns) == list(FRICTION_COLUMNS)
    row = result.iloc[0]
    assert row["finding_id"] == finding_id("drop_off", "x", "all", "all")
    assert (row["rate_ci_low"], row["rate_ci_high"]) == pytest.approx(stats.wilson_interval(10, 40))
    assert row["lift"] == pytest.approx(5.0)
    assert (row["lift_ci_low"], row["lift_ci_high"]) == pytest.approx(stats.ratio_interval(10, 40, 2, 40))
    assert row["test"] == "z_test"
    assert row["p_value"] == pytest.approx(stats.z_test(10, 40, 2, 40))
    empty = assemble(pd.DataFrame(), FrictionConfig(), {})
    assert list(empty.columns) == list(FRICTION_COLUMNS)
    assert empty.empty

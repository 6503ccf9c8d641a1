"""From candidates (counts) to ranked findings: statistics, significance, loss, wording.

For every candidate: the rate and its Wilson interval, the baseline rate, the lift with
its log-ratio interval, a one-sided test against the baseline (``stats``), then
Benjamini-Hochberg q-values across all candidates of the run. A finding is significant
when q < ``alpha``, ``base >= min_support`` and lift > 1.

conversions_lost = max(affected - baseline_rate * base, 0) * loss_probability (each kind
documents its loss probability; 0 when it cannot be estimated, e.g. no session continued
past the touchpoint); null when the candidate has no baseline to define an excess.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from journey_mining.config import FrictionConfig
from journey_mining.friction import stats

Explainer = Callable[[dict[str, Any]], str]

FRICTION_COLUMNS: dict[str, str] = {
    "finding_id": "varchar",
    "kind": "varchar",
    "location": "varchar",
    "touchpoint": "varchar",
    "channel": "varchar",
    "segment": "varchar",
    "segment_value": "varchar",
    "unit": "varchar",
    "affected": "bigint",
    "base": "bigint",
    "rate": "double",
    "rate_ci_low": "double",
    "rate_ci_high": "double",
    "baseline_rate": "double",
    "lift": "double",
    "lift_ci_low": "double",
    "lift_ci_high": "double",
    "test": "varchar",
    "p_value": "double",
    "q_value": "double",
    "significant": "boolean",
    "conversions_lost": "double",
    "recovered": "bigint",
    "example_ids": "varchar",
    "explanation": "varchar",
    "rank": "integer",
}
"""The ``friction`` table, in column order."""


def finding_id(kind: str, location: str, segment: str, segment_value: str) -> str:
    """Deterministic id: the same finding gets the same id in every run."""
    return hashlib.md5(f"{kind}|{location}|{segment}|{segment_value}".encode()).hexdigest()


def _statistics(affected: int, base: int, baseline_affected: int, baseline_base: int) -> dict[str, Any]:
    low, high = stats.wilson_interval(affected, base)
    has_baseline = baseline_base > 0
    baseline = baseline_affected / baseline_base if has_baseline else math.nan
    rate = affected / base if base > 0 else math.nan
    if not has_baseline or (rate == 0 and baseline == 0):
        lift = math.nan
    elif baseline == 0:
        lift = math.inf
    else:
        lift = rate / baseline
    lift_low, lift_high = (
        stats.ratio_interval(affected, base, baseline_affected, baseline_base)
        if has_baseline
        else (math.nan,) * 2
    )
    test, p_value = stats.compare_proportions(affected, base, baseline_affected, baseline_base)
    return {
        "rate": rate,
        "rate_ci_low": low,
        "rate_ci_high": high,
        "baseline_rate": baseline,
        "lift": lift,
        "lift_ci_low": lift_low,
        "lift_ci_high": lift_high,
        "test": test,
        "p_value": p_value,
    }


def assemble(
    candidates: pd.DataFrame, config: FrictionConfig, explainers: Mapping[str, Explainer]
) -> pd.DataFrame:
    """Ranked findings with exactly :data:`FRICTION_COLUMNS` from the candidates of all kinds."""
    if candidates.empty:
        return pd.DataFrame({name: pd.Series(dtype="object") for name in FRICTION_COLUMNS})
    frame = candidates.reset_index(drop=True)
    computed = pd.DataFrame(
        [
            _statistics(int(a), int(n), int(b), int(m))
            for a, n, b, m in zip(
                frame["affected"],
                frame["base"],
                frame["baseline_affected"],
                frame["baseline_base"],
                strict=True,
            )
        ]
    )
    frame = pd.concat([frame, computed], axis=1)
    frame["q_value"] = stats.benjamini_hochberg(frame["p_value"].to_numpy(dtype=float))
    frame["significant"] = (
        (frame["q_value"] < config.alpha) & (frame["base"] >= config.min_support) & (frame["lift"] > 1)
    )
    # no excess, or no unit left to estimate the loss from: nothing measurably lost
    excess = (frame["affected"] - frame["baseline_rate"] * frame["base"]).clip(lower=0.0)
    loss = frame["loss_probability"].clip(lower=0.0, upper=1.0).fillna(0.0)
    frame["conversions_lost"] = excess * loss
    frame["finding_id"] = [
        finding_id(*map(str, key))
        for key in zip(
            frame["kind"], frame["location"], frame["segment"], frame["segment_value"], strict=True
        )
    ]
    frame["explanation"] = [explainers[row["kind"]](row) for row in _records(frame)]
    frame = frame.sort_values(
        ["conversions_lost", "kind", "location", "segment", "segment_value"],
        ascending=[False, True, True, True, True],
        na_position="last",
        kind="stable",
        ignore_index=True,
    )
    frame["rank"] = np.arange(1, len(frame) + 1)
    return frame.loc[:, list(FRICTION_COLUMNS)]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts (NaN kept as float NaN, so formatting helpers can test it)."""
    return [dict(zip(frame.columns, values, strict=True)) for values in frame.itertuples(index=False)]


def materialise(con: duckdb.DuckDBPyConnection, findings: pd.DataFrame) -> int:
    """Replace the warehouse table ``friction`` with ``findings``; returns its rows."""
    columns = ", ".join(f'cast("{name}" as {kind}) as "{name}"' for name, kind in FRICTION_COLUMNS.items())
    frame = findings.loc[:, list(FRICTION_COLUMNS)].astype(object).where(findings.notna(), None)
    con.register("_friction_findings", frame)
    try:
        con.execute(f"create or replace table friction as select {columns} from _friction_findings")
    finally:
        con.unregister("_friction_findings")
    rows = con.execute("select count(*) from friction").fetchall()
    return int(rows[0][0])

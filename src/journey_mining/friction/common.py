"""What the friction kinds share: SQL fragments over the marts, parameters, candidate rows.

Every kind runs one SQL query that returns *candidates*: aggregated counts per location
and segment, never events. The queries read the narrow temp tables of ``prepared``
(built once per run from the marts), not the wide ``session_touchpoints`` mart. Config
values reach the SQL only as named bound parameters (``$name``), built once by
:func:`sql_parameters`.

A candidate compares ``affected / base`` with ``baseline_affected / baseline_base`` and
carries ``loss_probability``: the chance that one *excess* affected unit is a conversion
lost. :func:`pool_others` fills the baseline from the other rows of a comparison family;
:func:`outcome_gap` is the usual loss probability.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from journey_mining.config import Config

CANDIDATE_COLUMNS = (
    "kind",
    "location",
    "touchpoint",
    "channel",
    "segment",
    "segment_value",
    "unit",
    "affected",
    "base",
    "baseline_affected",
    "baseline_base",
    "loss_probability",
    "recovered",
    "example_ids",
    "detail",
)
"""``detail`` is kind-specific context for the explanation (a comparison's name, a step)."""


def sql_parameters(config: Config) -> dict[str, Any]:
    """Every named parameter a friction query may use, from the config."""
    friction = config.friction
    contact_channels = sorted({t.split(":", 1)[0] for t in friction.contact_touchpoints})
    return {
        "help_prefix": friction.help_touchpoint_prefix,
        "drop_off_channels": list(friction.drop_off_channels),
        "escalation_channels": list(friction.escalation_channels),
        "escalation_window_seconds": friction.escalation_window_minutes * 60,
        "contact_touchpoints": list(friction.contact_touchpoints),
        "contact_channels": contact_channels,
        "contact_transfer_touchpoints": list(friction.contact_transfer_touchpoints),
        "abandoned_contact_touchpoints": list(friction.abandoned_contact_touchpoints),
        "repeat_window_seconds": friction.repeat_contact_window_days * 86400,
        "recovery_window_seconds": friction.cart_recovery_window_hours * 3600,
        "long_wait_seconds": friction.long_wait_seconds,
        "error_patterns": [p.lower() for p in friction.error_patterns],
        "low_satisfaction_max": friction.low_satisfaction_max,
        "time_zone": friction.time_zone,
    }


def query(con: duckdb.DuckDBPyConnection, sql: str, parameters: Mapping[str, Any]) -> pd.DataFrame:
    """Run ``sql`` with the named parameters it mentions (DuckDB refuses unused ones)."""
    names = set(re.findall(r"\$([a-z_]+)", sql))
    missing = names - set(parameters)
    if missing:
        raise KeyError(f"friction SQL needs parameters {sorted(missing)}")
    return con.execute(sql, {name: parameters[name] for name in names}).df()


def rate(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, NaN where the denominator is 0."""
    num = numerator.astype("float64")
    den = denominator.astype("float64")
    return num.div(den.where(den > 0))


def outcome_gap(
    affected: pd.Series, base: pd.Series, affected_converted: pd.Series, unaffected_converted: pd.Series
) -> pd.Series:
    """max(conversion rate of unaffected units - that of affected units, 0).

    The chance that one affected unit, had it been unaffected, would have converted: the
    loss probability of kinds where the friction happens to a unit that may still convert.
    """
    gap = rate(unaffected_converted, base - affected) - rate(affected_converted, affected)
    return gap.clip(lower=0.0)


def pool_others(frame: pd.DataFrame, family: Sequence[str]) -> pd.DataFrame:
    """Baseline of each row = the pooled counts of the other rows of its family."""
    out = frame.copy()
    grouped = out.groupby(list(family), dropna=False)
    out["baseline_affected"] = grouped["affected"].transform("sum") - out["affected"]
    out["baseline_base"] = grouped["base"].transform("sum") - out["base"]
    return out


def candidates(frame: pd.DataFrame, **constants: Any) -> pd.DataFrame:
    """A candidate frame with exactly :data:`CANDIDATE_COLUMNS` (missing ones null)."""
    out = frame.copy()
    for name, value in constants.items():
        out[name] = value
    for name in CANDIDATE_COLUMNS:
        if name not in out.columns:
            out[name] = None
    out = out.loc[:, list(CANDIDATE_COLUMNS)]
    for name in ("affected", "base", "baseline_affected", "baseline_base"):
        out[name] = out[name].astype("int64")
    out["loss_probability"] = out["loss_probability"].astype("float64")
    return out.reset_index(drop=True)


def other_devices(names: Sequence[str], name: str) -> str:
    """'on desktop' when there is one other device, 'on other devices' otherwise."""
    rest = [n for n in names if n != name]
    return f"on {rest[0]}" if len(rest) == 1 else "on other devices"


def empty_candidates() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype="object") for name in CANDIDATE_COLUMNS})


def percent(value: float) -> str:
    """0.41 -> '41%'; small rates keep a decimal: 0.036 -> '3.6%'."""
    if value is None or np.isnan(value):
        return "n/a"
    shown = 100 * value
    return f"{shown:.1f}%" if 0 < shown < 10 else f"{shown:.0f}%"


def times(lift: float) -> str:
    """1.83 -> '1.8x', 20.4 -> '20x'; no lift when the baseline is 0."""
    if lift is None or np.isnan(lift):
        return ""
    if np.isinf(lift):
        return " (none there)"
    return f" ({lift:.1f}x)" if lift < 10 else f" ({lift:.0f}x)"


def lost(row: Mapping[str, Any]) -> str:
    """'; ~57 conversions lost' or nothing when no estimate exists."""
    value = row.get("conversions_lost")
    if value is None or pd.isna(value):
        return ""
    shown = f"{value:.0f}" if value >= 0.95 or value == 0 else f"{value:.1f}"
    return f"; ~{shown} conversions lost"


def against(row: Mapping[str, Any], where: str) -> str:
    """', vs 2.0% on desktop (20x)' or nothing when there is no baseline."""
    baseline = row.get("baseline_rate")
    if baseline is None or pd.isna(baseline):
        return ""
    return f", vs {percent(baseline)} {where}{times(row.get('lift'))}"


def against_the_rest(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Each row against all other rows of its kind, losing the conversion-rate gap.

    For kinds whose affected units may still convert (escalation, repeat contact, low
    satisfaction): baseline = the pooled other rows, loss probability = the outcome gap.
    """
    pooled = pool_others(frame.assign(family=kind), ["family"])
    pooled["loss_probability"] = outcome_gap(
        pooled["affected"], pooled["base"], pooled["affected_converted"], pooled["unaffected_converted"]
    )
    return pooled

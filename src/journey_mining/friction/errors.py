"""error_touchpoint: errors customers hit (a touchpoint named like 'error' or 'failed').

Each error touchpoint E gets a *context* P: the touchpoint that most often comes right
before it (``web:add_payment_info`` before ``web:payment_error``); all sessions when E
has none. Unit: sessions that reached P; a session *hit* E when E follows its first P.

Rows:
- 'all': an outcome comparison. ``base`` = sessions that hit E, ``affected`` = those of
  them that did not convert after P; baseline = the same failure rate of sessions that
  reached P without hitting E. conversions_lost = max(affected - baseline_rate * base, 0).
- one per device (when sessions have more than one): ``base`` = the device's sessions
  that reached P, ``affected`` = those that hit E, against the pooled other devices.
  conversions_lost = max(affected - baseline_rate * base, 0) * max(c_clean - c_hit, 0),
  c_* being the device's conversion rates after P without / with the error.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from journey_mining.friction.common import (
    SESSION_FACTS,
    against,
    candidates,
    empty_candidates,
    examples,
    lost,
    other_devices,
    outcome_gap,
    percent,
    pool_others,
    query,
)

KIND = "error_touchpoint"

ERROR_TOUCHPOINTS = """
error_touchpoints as (
    select distinct touchpoint, channel
    from session_touchpoints
    where not is_conversion
        and len(list_filter(cast($error_patterns as varchar[]), lambda p: contains(lower(touchpoint), p))) > 0
)"""

SQL = f"""
with {SESSION_FACTS},

{ERROR_TOUCHPOINTS},

predecessors as (
    select next_touchpoint as error_touchpoint, touchpoint as context, count(*) as transitions
    from session_touchpoints
    where next_touchpoint in (select touchpoint from error_touchpoints)
        and touchpoint <> next_touchpoint
    group by next_touchpoint, touchpoint
),

contexts as (
    select e.touchpoint as error_touchpoint, e.channel, p.context
    from error_touchpoints as e
    left join predecessors as p on p.error_touchpoint = e.touchpoint
    qualify row_number() over (
        partition by e.touchpoint order by p.transitions desc nulls last, p.context
    ) = 1
),

context_reached as (
    select c.error_touchpoint, t.session_id, min(t.step) as context_step
    from contexts as c
    inner join session_touchpoints as t on t.touchpoint = c.context
    group by c.error_touchpoint, t.session_id
    union all
    select c.error_touchpoint, s.session_id, 0 as context_step
    from contexts as c
    cross join session_facts as s
    where c.context is null
),

error_hits as (
    select r.error_touchpoint, r.session_id, r.context_step, min(t.step) as error_step
    from context_reached as r
    left join session_touchpoints as t
        on t.session_id = r.session_id and t.touchpoint = r.error_touchpoint and t.step > r.context_step
    group by r.error_touchpoint, r.session_id, r.context_step
),

units as (
    select
        h.error_touchpoint,
        s.device,
        s.journey_id,
        h.error_step is not null as hit,
        coalesce(s.last_conversion_step > h.context_step, false) as converted
    from error_hits as h
    inner join session_facts as s on s.session_id = h.session_id
)

select
    u.error_touchpoint,
    min(c.context) as context,
    min(c.channel) as channel,
    u.device,
    count(*) as reached,
    count(*) filter (where hit) as hits,
    count(*) filter (where hit and converted) as hit_converted,
    count(*) filter (where not hit and converted) as clean_converted,
    {examples("hit")} as hit_examples,
    {examples("hit and not converted")} as failed_examples
from units as u
inner join contexts as c on c.error_touchpoint = u.error_touchpoint
group by u.error_touchpoint, u.device
"""


def find(con: duckdb.DuckDBPyConnection, parameters: dict[str, Any]) -> pd.DataFrame:
    """Per error touchpoint: its cost in conversions, and devices that hit it more often."""
    frame = query(con, SQL, parameters)
    if frame.empty:
        return empty_candidates()
    frame["context"] = frame["context"].fillna("the start of a session")
    rows = [_overall(frame)]
    for _, devices in frame.groupby("error_touchpoint", sort=True):
        if len(devices) > 1:
            rows.append(_by_device(devices))
    out = pd.concat(rows, ignore_index=True)
    return candidates(out, kind=KIND, unit="sessions")


def _overall(frame: pd.DataFrame) -> pd.DataFrame:
    sums = frame.groupby("error_touchpoint", as_index=False, sort=True).agg(
        context=("context", "min"),
        channel=("channel", "min"),
        reached=("reached", "sum"),
        hits=("hits", "sum"),
        hit_converted=("hit_converted", "sum"),
        clean_converted=("clean_converted", "sum"),
        example_ids=("failed_examples", merge_examples),
    )
    clean = sums["reached"] - sums["hits"]
    return sums.assign(
        location=sums["error_touchpoint"],
        touchpoint=sums["error_touchpoint"],
        segment="all",
        segment_value="all",
        base=sums["hits"],
        affected=sums["hits"] - sums["hit_converted"],
        baseline_base=clean,
        baseline_affected=clean - sums["clean_converted"],
        loss_probability=1.0,
        detail=[{"context": context} for context in sums["context"]],
    )


def _by_device(devices: pd.DataFrame) -> pd.DataFrame:
    rows = devices.assign(
        location=devices["error_touchpoint"],
        touchpoint=devices["error_touchpoint"],
        segment="device",
        segment_value=devices["device"],
        base=devices["reached"],
        affected=devices["hits"],
        example_ids=devices["hit_examples"],
    )
    rows = pool_others(rows, ["segment"])
    rows["loss_probability"] = outcome_gap(
        rows["affected"], rows["base"], rows["hit_converted"], rows["clean_converted"]
    )
    names = rows["segment_value"].tolist()
    rows["detail"] = [
        {"context": context, "others": other_devices(names, name)}
        for context, name in zip(rows["context"], names, strict=True)
    ]
    return rows


def merge_examples(values: pd.Series) -> str | None:
    """The three smallest ids among several comma-separated lists of smallest ids."""
    ids = sorted({i for value in values.dropna() for i in str(value).split(",") if i})
    return ",".join(ids[:3]) or None


def explain(row: dict[str, Any]) -> str:
    error, context = row["touchpoint"], row["detail"]["context"]
    if row["segment"] == "all":
        return (
            f"{percent(row['rate'])} of {row['base']:,} sessions that hit {error} after {context} did not "
            f"convert{against(row, 'of sessions that reached ' + str(context) + ' without it')}{lost(row)}."
        )
    return (
        f"On {row['segment_value']}, {percent(row['rate'])} of {row['base']:,} sessions that reached "
        f"{context} hit {error}{against(row, row['detail']['others'])}{lost(row)}."
    )

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
    against,
    candidates,
    empty_candidates,
    lost,
    other_devices,
    outcome_gap,
    percent,
    pool_others,
    query,
)
from journey_mining.friction.prepared import examples, journey_examples

KIND = "error_touchpoint"

ERROR_TOUCHPOINTS = """
error_touchpoints as (
    select distinct t.tp, p.touchpoint, h.channel
    from _fr_steps as t
    inner join _fr_touchpoints as p on p.tp = t.tp
    left join _fr_channels as h on h.ch = t.ch
    where not t.is_conversion
        and t.tp in (
            select tp
            from _fr_touchpoints
            where len(
                list_filter(cast($error_patterns as varchar[]), lambda p: contains(lower(touchpoint), p))
            ) > 0
        )
)"""
"""Error touchpoints (code ``tp``, name, channel) of the prepared ``_fr_steps``."""

SQL = f"""
with {ERROR_TOUCHPOINTS},

predecessors as (
    select ntp as error_tp, tp as context, count(*) as transitions
    from _fr_steps
    where ntp in (select tp from error_touchpoints)
        and tp <> ntp
    group by ntp, tp
),

contexts as (
    select e.tp as error_tp, e.channel, p.context
    from error_touchpoints as e
    left join predecessors as p on p.error_tp = e.tp
    qualify row_number() over (
        partition by e.tp order by p.transitions desc nulls last, p.context
    ) = 1
),

context_reached as (
    select c.error_tp, t.sid, min(t.step) as context_step
    from contexts as c
    inner join _fr_steps as t on t.tp = c.context
    group by c.error_tp, t.sid
    union all
    select c.error_tp, s.sid, 0 as context_step
    from contexts as c
    cross join _fr_session_facts as s
    where c.context is null
),

error_steps as (
    select sid, tp, step
    from _fr_steps
    where tp in (select error_tp from contexts)
),

error_hits as (
    select r.error_tp, r.sid, r.context_step, min(t.step) as error_step
    from context_reached as r
    left join error_steps as t
        on t.sid = r.sid and t.tp = r.error_tp and t.step > r.context_step
    group by r.error_tp, r.sid, r.context_step
),

units as (
    select
        h.error_tp,
        s.device,
        s.jid,
        h.error_step is not null as hit,
        coalesce(s.last_conversion_step > h.context_step, false) as converted
    from error_hits as h
    inner join _fr_session_facts as s on s.sid = h.sid
),

counted as (
    select
        u.error_tp,
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
    inner join contexts as c on c.error_tp = u.error_tp
    group by u.error_tp, u.device
)

select
    e.touchpoint as error_touchpoint, p.touchpoint as context, x.channel, x.device, x.reached, x.hits,
    x.hit_converted, x.clean_converted, x.hit_examples, x.failed_examples
from counted as x
inner join _fr_touchpoints as e on e.tp = x.error_tp
left join _fr_touchpoints as p on p.tp = x.context
"""
"""Over the prepared ``_fr_*`` tables (see ``prepared``); touchpoint codes are in name
order, so ordering contexts by code orders them by name."""


def find(con: duckdb.DuckDBPyConnection, parameters: dict[str, Any]) -> pd.DataFrame:
    """Per error touchpoint: its cost in conversions, and devices that hit it more often."""
    frame = journey_examples(con, query(con, SQL, parameters), "hit_examples", "failed_examples")
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

"""drop_off: touchpoints where sessions end without a conversion more often than elsewhere.

Unit: sessions. For a non-conversion touchpoint T, ``base`` = sessions that reached T
before their first conversion (or never converted); ``affected`` = those that ended at T
without converting (their exit: equals ``touchpoint_stats.exits`` of T minus exits after a
conversion). Baseline: the pooled exits / sessions of the other non-conversion touchpoints
of T's channel (a session reaching several of them counts in each). Only channels in
``friction.drop_off_channels`` (default web, app) are tested: a resolved chat or an ended
call closes a session by nature, so an exit there is not a drop-off.

conversions_lost = max(affected - baseline_rate * base, 0) * c, where c is the
conversion rate of the sessions that continued from T (reached T, did not end there).
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
    outcome_gap,
    percent,
    pool_others,
    query,
)
from journey_mining.friction.prepared import examples, journey_examples

KIND = "drop_off"

SQL = f"""
with reached as (
    select
        t.tp,
        min(t.ch) as ch,
        t.sid,
        min(s.jid) as jid,
        bool_or(s.first_conversion_step is not null) as converted,
        bool_or(s.first_conversion_step is null and s.last_tp = t.tp) as exited
    from _fr_steps as t
    inner join _fr_session_facts as s on s.sid = t.sid
    where not t.is_conversion
        and t.ch in (select ch from _fr_channels where list_contains($drop_off_channels, channel))
        and (s.first_conversion_step is null or t.step < s.first_conversion_step)
    group by t.tp, t.sid
),

counted as (
    select
        tp,
        min(ch) as ch,
        count(*) as base,
        count(*) filter (where exited) as affected,
        count(*) filter (where converted) as unaffected_converted,
        {examples("exited")} as example_ids
    from reached
    group by tp
)

select p.touchpoint, c.channel, x.base, x.affected, x.unaffected_converted, x.example_ids
from counted as x
inner join _fr_touchpoints as p on p.tp = x.tp
left join _fr_channels as c on c.ch = x.ch
"""
"""Over the prepared ``_fr_*`` tables (see ``prepared``)."""


def find(con: duckdb.DuckDBPyConnection, parameters: dict[str, Any]) -> pd.DataFrame:
    """One candidate per non-conversion touchpoint, against its channel's other touchpoints."""
    frame = journey_examples(con, query(con, SQL, parameters), "example_ids")
    if frame.empty:
        return empty_candidates()
    frame = pool_others(frame, ["channel"])
    # sessions that ended at T never converted: their conversion rate is 0
    frame["loss_probability"] = outcome_gap(
        frame["affected"], frame["base"], frame["affected"] * 0, frame["unaffected_converted"]
    )
    return candidates(
        frame.assign(location=frame["touchpoint"]),
        kind=KIND,
        segment="all",
        segment_value="all",
        unit="sessions",
    )


def explain(row: dict[str, Any]) -> str:
    return (
        f"{percent(row['rate'])} of {row['base']:,} sessions that reached {row['touchpoint']} ended there "
        f"without converting{against(row, 'at other ' + str(row['channel']) + ' touchpoints')}{lost(row)}."
    )

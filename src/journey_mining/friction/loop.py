"""loop: back and forth inside a session (A -> B -> A), and what it does to conversion.

Unit: sessions that reached A (a non-conversion touchpoint). A session *loops* through
(A, B) when three consecutive steps are A, B, A (B another non-conversion touchpoint).
This kind compares outcomes, so ``affected`` counts the loop sessions that did **not**
convert after their first A and ``base`` the loop sessions; the baseline is the same
failure rate among sessions with A and no (A, B) loop.

conversions_lost = max(affected - baseline_rate * base, 0): each excess failure of a
looping session is one conversion lost.
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
    percent,
    query,
)

KIND = "loop"

LOOPS = """
conversion_touchpoints as (
    select distinct touchpoint from session_touchpoints where is_conversion
),

loop_steps as (
    select session_id, journey_id, step, touchpoint as a, next_touchpoint as b
    from (
        select
            session_id, journey_id, step, touchpoint, next_touchpoint,
            lead(next_touchpoint) over (partition by session_id order by step) as third
        from session_touchpoints
    ) as t
    where third = touchpoint
        and next_touchpoint <> touchpoint
        and touchpoint not in (select touchpoint from conversion_touchpoints)
        and next_touchpoint not in (select touchpoint from conversion_touchpoints)
)"""
"""Every A -> B -> A: the step of the first A (the return to A is ``step + 2``)."""

SQL = f"""
with {SESSION_FACTS},

{LOOPS},

first_a as (
    select t.touchpoint as a, t.session_id, min(t.channel) as channel, min(t.step) as first_step
    from session_touchpoints as t
    where t.touchpoint in (select a from loop_steps)
    group by t.touchpoint, t.session_id
),

a_sessions as (
    select f.*, s.journey_id, coalesce(s.last_conversion_step > f.first_step, false) as converted
    from first_a as f
    inner join session_facts as s on s.session_id = f.session_id
),

a_totals as (
    select a, count(*) as sessions, count(*) filter (where not converted) as failed
    from a_sessions
    group by a
),

looped as (
    select distinct l.a, l.b, s.session_id, s.journey_id, s.channel, s.converted
    from loop_steps as l
    inner join a_sessions as s on s.a = l.a and s.session_id = l.session_id
)

select
    l.a,
    l.b,
    min(l.channel) as channel,
    count(*) as base,
    count(*) filter (where not l.converted) as affected,
    min(t.sessions) - count(*) as baseline_base,
    min(t.failed) - count(*) filter (where not l.converted) as baseline_affected,
    {examples("not converted")} as example_ids
from looped as l
inner join a_totals as t on t.a = l.a
group by l.a, l.b
"""


def find(con: duckdb.DuckDBPyConnection, parameters: dict[str, Any]) -> pd.DataFrame:
    """One candidate per (A, B) loop, against sessions with A that do not loop through B."""
    frame = query(con, SQL, parameters)
    if frame.empty:
        return empty_candidates()
    frame["location"] = frame["a"] + " -> " + frame["b"] + " -> " + frame["a"]
    return candidates(
        frame.assign(touchpoint=frame["a"], detail=frame["a"]),
        kind=KIND,
        segment="all",
        segment_value="all",
        unit="sessions",
        loss_probability=1.0,
    )


def explain(row: dict[str, Any]) -> str:
    return (
        f"{percent(row['rate'])} of {row['base']:,} sessions that went {row['location']} did not convert"
        f"{against(row, 'of sessions with ' + str(row['detail']) + ' and no such loop')}{lost(row)}."
    )

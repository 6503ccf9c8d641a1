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
    against,
    candidates,
    empty_candidates,
    lost,
    percent,
    query,
)
from journey_mining.friction.prepared import examples, journey_examples

KIND = "loop"

LOOPS = """
conversion_touchpoints as (
    select distinct tp from _fr_events where is_conversion
),

loop_steps as (
    select t.sid, t.jid, t.step, t.tp as a, t.ntp as b
    from _fr_steps as t
    inner join _fr_steps as u
        on u.sid = t.sid and u.step = t.step + 1 and u.ntp = t.tp and u.tp = t.ntp
    where t.ntp <> t.tp
        and t.tp not in (select tp from conversion_touchpoints)
        and t.ntp not in (select tp from conversion_touchpoints)
        -- implied by the conditions on t (u is B with A next): filtering both sides before
        -- the self-join keeps steps that cannot be part of a loop out of its hash table
        and u.step > 1
        and u.ntp <> u.tp
        and u.tp not in (select tp from conversion_touchpoints)
        and u.ntp not in (select tp from conversion_touchpoints)
)"""
"""Every A -> B -> A: the step of the first A (the return to A is ``step + 2``), as
touchpoint codes of the prepared ``_fr_steps``. Steps are numbered 1, 2, ... without gaps
in a session, so the row at ``step + 1`` is the next one (the B: its ``tp`` is the first
row's ``ntp``) and its ``ntp`` the third. The self-join is the kind's cost (100M steps at
the benchmark's largest size): with both sides filtered it took 24.1 s against 28.0 s."""

SQL = f"""
with {LOOPS},

first_a as (
    select t.tp as a, t.sid, min(t.ch) as ch, min(t.step) as first_step
    from _fr_steps as t
    where t.tp in (select a from loop_steps)
    group by t.tp, t.sid
),

a_sessions as (
    select f.*, s.jid, coalesce(s.last_conversion_step > f.first_step, false) as converted
    from first_a as f
    inner join _fr_session_facts as s on s.sid = f.sid
),

a_totals as (
    select a, count(*) as sessions, count(*) filter (where not converted) as failed
    from a_sessions
    group by a
),

looped as (
    select distinct l.a, l.b, s.sid, s.jid, s.ch, s.converted
    from loop_steps as l
    inner join a_sessions as s on s.a = l.a and s.sid = l.sid
),

counted as (
    select
        l.a,
        l.b,
        min(l.ch) as ch,
        count(*) as base,
        count(*) filter (where not l.converted) as affected,
        min(t.sessions) - count(*) as baseline_base,
        min(t.failed) - count(*) filter (where not l.converted) as baseline_affected,
        {examples("not converted")} as example_ids
    from looped as l
    inner join a_totals as t on t.a = l.a
    group by l.a, l.b
)

select
    pa.touchpoint as a, pb.touchpoint as b, h.channel, x.base, x.affected, x.baseline_base,
    x.baseline_affected, x.example_ids
from counted as x
inner join _fr_touchpoints as pa on pa.tp = x.a
inner join _fr_touchpoints as pb on pb.tp = x.b
left join _fr_channels as h on h.ch = x.ch
"""
"""Over the prepared ``_fr_*`` tables (see ``prepared``)."""


def find(con: duckdb.DuckDBPyConnection, parameters: dict[str, Any]) -> pd.DataFrame:
    """One candidate per (A, B) loop, against sessions with A that do not loop through B."""
    frame = journey_examples(con, query(con, SQL, parameters), "example_ids")
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

"""Funnels: how many sessions (or journeys) pass configured steps in order.

A unit reaches step k when it has step k's touchpoint after the position where it reached
step k-1 (other touchpoints may come between); the earliest match is taken, which is
optimal for ordered funnels. Counts are distinct sessions/journeys, so they reconcile with
session counts everywhere else.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pandas as pd

from journey_mining.segments import Filter, Level, unit_columns, units_sql


def _step_ctes(count: int, pos: str, unit: str) -> str:
    ctes = [
        f"st as (select {unit} as unit_id, {pos} as pos, ts, touchpoint from session_touchpoints"
        " where touchpoint in (select touchpoint from _funnel_steps))",
        "s1 as (select unit_id, min(pos) as pos, arg_min(ts, pos) as ts from st"
        " where touchpoint = (select touchpoint from _funnel_steps where step_number = 1)"
        " group by unit_id)",
    ]
    for k in range(2, count + 1):
        ctes.append(
            f"s{k} as (select st.unit_id, min(st.pos) as pos, arg_min(st.ts, st.pos) as ts"
            f" from st join s{k - 1} p on st.unit_id = p.unit_id and st.pos > p.pos"
            f" where st.touchpoint = (select touchpoint from _funnel_steps where step_number = {k})"
            " group by st.unit_id)"
        )
    reached = ["select 1 as step_number, unit_id, cast(null as double) as seconds from s1"]
    for k in range(2, count + 1):
        reached.append(
            f"select {k}, s{k}.unit_id, epoch(s{k}.ts) - epoch(s{k - 1}.ts)"
            f" from s{k} join s{k - 1} using (unit_id)"
        )
    ctes.append("reached as (" + " union all ".join(reached) + ")")
    return ",\n".join(ctes)


def funnel(
    con: duckdb.DuckDBPyConnection,
    steps: Sequence[str],
    *,
    level: Level = "session",
    segment: str | None = None,
    where: Filter | None = None,
) -> pd.DataFrame:
    """Per segment and step: units entering, reaching, conversion from previous, drop-off, time."""
    if not steps:
        raise ValueError("a funnel needs at least one step")
    unit, pos = unit_columns(level)
    con.execute("create or replace temp table _funnel_steps (step_number integer, touchpoint varchar)")
    con.executemany("insert into _funnel_steps values (?, ?)", [[i + 1, s] for i, s in enumerate(steps)])
    units, params = units_sql(level, where or Filter(), segment)
    sql = f"""
        with units as ({units}),
        {_step_ctes(len(steps), pos, unit)},
        entered as (select segment, count(*) as units from units group by segment),
        counted as (
            select u.segment, r.step_number, count(*) as reached, median(r.seconds) as median_seconds
            from reached r join units u using (unit_id)
            group by u.segment, r.step_number
        ),
        grid as (
            select e.segment, e.units, f.step_number, f.touchpoint
            from entered e cross join _funnel_steps f
        )
        select g.segment, g.step_number, g.touchpoint, g.units as units_total,
               coalesce(c.reached, 0) as reached, c.median_seconds
        from grid g left join counted c using (segment, step_number)
        order by g.segment, g.step_number
    """
    frame = con.execute(sql, params).df()
    previous = frame.groupby("segment")["reached"].shift(1)
    frame["rate_from_previous"] = (frame["reached"] / previous).where(previous > 0)
    frame["rate_from_first"] = frame["reached"] / frame.groupby("segment")["reached"].transform("first")
    frame["dropped"] = (previous - frame["reached"]).fillna(0).astype("int64")
    frame["reached"] = frame["reached"].astype("int64")
    return frame

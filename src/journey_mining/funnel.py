"""Funnels: how many sessions (or journeys) pass configured steps in order.

A unit reaches step k when it has step k's touchpoint after the position where it reached
step k-1 (other touchpoints may come between); the earliest match is taken, which is
optimal for ordered funnels. Counts are distinct sessions/journeys, so they reconcile with
session counts everywhere else.

One pass over ``session_touchpoints`` gives each unit its segment and the list of its
steps' touchpoints (as small codes, with their times) in position order; the steps are
then matched on that list (``list_position`` after the previous match), one projection
per step over one row per unit, instead of one join over the events per step.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pandas as pd

from journey_mining.segments import Filter, Level, unit_columns, units_sql

CODE = "list_position((select list(touchpoint order by code) from _funnel_codes), touchpoint)"
"""A row's touchpoint as its step code (1, 2, ... per distinct step touchpoint), null otherwise."""


def _hits(pos: str) -> str:
    """Aggregate: the unit's step touchpoints as {pos, code, ts}, sorted by position."""
    return (
        f"list_sort(list({{'pos': {pos}, 'code': {CODE}, 'ts': ts}})"
        " filter (where touchpoint in (select touchpoint from _funnel_codes))) as hits"
    )


def _match_ctes(count: int) -> str:
    """m1..m{count}: i{k} = index in ``codes`` where step k matched (null: not reached).

    ``codes`` spells the unit's step touchpoints as one character each (code 1 = 'A'), so
    the next match after index i is a ``strpos`` in its suffix: no list is copied per step.
    """
    ctes = [
        "m0 as (select segment, array_to_string([chr(64 + h.code) for h in hits], '') as codes,"
        " [h.ts for h in hits] as times, 0 as i0 from units)"
    ]
    for k in range(1, count + 1):
        ctes.append(
            f"m{k} as (select *, i{k - 1} + nullif(strpos(substr(codes, i{k - 1} + 1),"
            f" (select chr(64 + code) from _funnel_steps where step_number = {k})), 0) as i{k} from m{k - 1})"
        )
    reached = [
        f"select segment, 1 as step_number, cast(null as double) as seconds from m{count} where i1 > 0"
    ]
    for k in range(2, count + 1):
        reached.append(
            f"select segment, {k}, epoch(times[i{k}]) - epoch(times[i{k - 1}]) from m{count} where i{k} > 0"
        )
    ctes.append("reached as (" + " union all ".join(reached) + ")")
    return ",\n".join(ctes)


def _register_steps(con: duckdb.DuckDBPyConnection, steps: Sequence[str]) -> None:
    """_funnel_steps (step_number, touchpoint, code) and _funnel_codes (code, touchpoint)."""
    codes: dict[str, int] = {}
    for step in steps:
        codes.setdefault(step, len(codes) + 1)
    con.execute(
        "create or replace temp table _funnel_steps (step_number integer, touchpoint varchar, code integer)"
    )
    con.executemany(
        "insert into _funnel_steps values (?, ?, ?)", [[i + 1, s, codes[s]] for i, s in enumerate(steps)]
    )
    con.execute("create or replace temp table _funnel_codes (code integer, touchpoint varchar)")
    con.executemany("insert into _funnel_codes values (?, ?)", [[c, s] for s, c in codes.items()])


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
    _, pos = unit_columns(level)
    _register_steps(con, steps)
    units, params = units_sql(level, where or Filter(), segment, [_hits(pos)])
    sql = f"""
        with units as materialized ({units}),
        {_match_ctes(len(steps))},
        entered as (select segment, count(*) as units from units group by segment),
        counted as (
            select segment, step_number, count(*) as reached, median(seconds) as median_seconds
            from reached
            group by segment, step_number
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

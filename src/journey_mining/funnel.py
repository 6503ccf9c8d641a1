"""Funnels: how many sessions (or journeys) pass configured steps in order.

A unit reaches step k when it has step k's touchpoint after the position where it reached
step k-1 (other touchpoints may come between); the earliest match is taken, which is
optimal for ordered funnels. Counts are distinct sessions/journeys, so they reconcile with
session counts everywhere else.

The units in scope come with their segment(s) from a group-by over ``session_touchpoints``
(from the level's mart when there is no filter or segment, or from a units table another
pass made); a second group-by, over the rows of a step touchpoint only, gives each unit
the list of its steps' touchpoints (as small codes, with their times) in position order,
and the two are joined by unit. The steps are then matched on that list (``strpos`` after
the previous match), one projection per step over one row per unit. What is kept per unit
is only how far it got (``depth``: the steps reached are always a prefix) and the seconds
between its steps, so a breakdown is one group-by over one row per unit.
``prepare_funnel`` keeps those rows in a table with several segments' values, and
``funnel_of`` breaks them down by each segment in turn without scanning
``session_touchpoints`` again (the dashboard's views do this).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd

from journey_mining.scratch import scratch_table
from journey_mining.segments import (
    SEGMENT_SQL,
    UNIT_HASH,
    UNIT_ID,
    UNIT_TABLES,
    Filter,
    Level,
    UnitsTable,
    unit_columns,
    unit_hashes_are_distinct,
    units_sql,
)
from journey_mining.warehouse import table_exists


@dataclass(frozen=True)
class FunnelUnits:
    """One row per unit in scope: its segment values, depth and step seconds (a working table,
    see ``scratch``).

    Its ``segment`` column ('all') is what ``funnel_of(..., segment=None)`` breaks down by;
    each name of ``segments`` is a column of that segment's values.
    """

    table: str
    steps: tuple[str, ...]
    level: Level
    segments: tuple[str, ...]

    def drop(self, con: duckdb.DuckDBPyConnection) -> None:
        """Drop the table (a dashboard does this once its funnels are drawn)."""
        con.execute(f"drop table if exists {self.table}")


def _hits_sql(level: Level, width: int, key: str) -> str:
    """Per unit with a step touchpoint: ``hits``, its step touchpoints as {k: position * width
    + code, ts}, sorted by k.

    Only the rows of a step touchpoint are grouped (about a third of them for the default
    four steps), not every row: the units come from elsewhere (``_units``). Two fields, not
    three, because sorting the list is much of a funnel's cost; ``code`` is below ``width``,
    so the order is that of (position, code).
    """
    unit, pos = unit_columns(level)
    unit_id = key.format(unit=unit)
    return (
        f"select {unit_id} as unit_id, list_sort(list({{'k': {pos} * {width} + c.code, 'ts': ts}})) as hits"
        f" from session_touchpoints inner join _funnel_codes as c using (touchpoint) group by {unit_id}"
    )


def _letter(code: int) -> str:
    """A step code as the one character that stands for it in ``codes``."""
    return chr(64 + code)


def _matched_sql(units: str, steps: Sequence[str]) -> str:
    """Per unit of ``units``: its segment columns, ``depth`` (steps reached) and ``seconds``.

    i{k} = index in ``codes`` where step k matched (null: not reached, and then every later
    step is null too, so the non-null ones, ``idx``, are the steps reached). ``codes`` spells
    the unit's step touchpoints as one character each (code 1 = 'A'), so the next match after
    index i is a ``strpos`` in its suffix: no list is copied per step. ``seconds`` has one
    entry per step reached: null for step 1, then the seconds since the previous step.
    """
    codes = _codes(steps)
    width = len(codes) + 1
    count = len(steps)
    ctes = [
        f"m0 as (select * exclude (unit_id, hits),"
        f" array_to_string([chr(64 + cast(h.k % {width} as integer)) for h in hits], '') as codes,"
        f" [h.ts for h in hits] as times, 0 as i0 from ({units}))"
    ]
    for k, step in enumerate(steps, start=1):
        letter = _letter(codes[step]).replace("'", "''")  # never a quote (64 + code > 39): kept safe anyway
        ctes.append(
            f"m{k} as (select *, i{k - 1} + nullif(strpos(substr(codes, i{k - 1} + 1), '{letter}'), 0)"
            f" as i{k} from m{k - 1})"
        )
    indexes = ", ".join(f"i{k}" for k in range(count + 1))
    matched = ", ".join(f"i{k}" for k in range(1, count + 1))
    ctes.append(
        f"deep as (select * exclude ({indexes}),"
        f" list_filter([{matched}], lambda i: i is not null) as idx from m{count})"
    )
    return (
        "with " + ",\n".join(ctes) + "\nselect * exclude (codes, times, idx), array_length(idx) as depth,"
        # indexes cast to integer: only then does sqlglot shift them to Spark's 0-based lists
        " [case when j = 1 then cast(null as double) else epoch(times[cast(i as integer)])"
        " - epoch(times[cast(idx[cast(j - 1 as integer)] as integer)]) end for i, j in idx] as seconds"
        " from deep"
    )


def _codes(steps: Sequence[str]) -> dict[str, int]:
    """Each distinct step touchpoint's code: 1, 2, ... in order of first appearance."""
    codes: dict[str, int] = {}
    for step in steps:
        codes.setdefault(step, len(codes) + 1)
    return codes


def _register_steps(con: duckdb.DuckDBPyConnection, steps: Sequence[str]) -> None:
    """_funnel_steps (step_number, touchpoint, code) and _funnel_codes (code, touchpoint)."""
    codes = _codes(steps)
    con.execute(
        "create or replace temp table _funnel_steps (step_number integer, touchpoint varchar, code integer)"
    )
    con.executemany(
        "insert into _funnel_steps values (?, ?, ?)", [[i + 1, s, codes[s]] for i, s in enumerate(steps)]
    )
    con.execute("create or replace temp table _funnel_codes (code integer, touchpoint varchar)")
    con.executemany("insert into _funnel_codes values (?, ?)", [[c, s] for s, c in codes.items()])


def _units(
    con: duckdb.DuckDBPyConnection,
    level: Level,
    steps: Sequence[str],
    where: Filter | None,
    segment: str | None,
    segments: Sequence[str],
    units: UnitsTable | None = None,
) -> tuple[str, list[object]]:
    """Units passing ``where`` with their ``segment`` column, one column per ``segments`` and
    their hits (an empty list for a unit without a step touchpoint).

    The units and their segments are one group-by over every row, the hits another over
    the rows of a step touchpoint only, joined by unit. Without a filter or a segment the
    units are the rows of the level's mart (no group-by); with ``units`` they are that
    table's rows. At 100M events, alternating runs of a 4-step funnel took 19.9 and 21.7 s
    against 22.2 and 23.7 s, and the dashboard's (from the Sankey's units) 17.9 s instead of 32.3 s.
    Grouped by hashed ids when that is exact (much of a funnel's time is its group-bys).
    """
    unit, pos = unit_columns(level)
    for name in segments:
        if name not in SEGMENT_SQL:  # a column name below: only names we know
            raise ValueError(f"unknown segment {name!r}; known: {', '.join(SEGMENT_SQL)}")
    flt = where or Filter()
    params: list[object] = []
    if units is not None:
        key = units.unit_key
        columns = "".join(f", {name}" for name in segments)
        base = f"select unit_id, 'all' as segment{columns} from {units.table}"
    else:
        key = UNIT_HASH if unit_hashes_are_distinct(con, level) else UNIT_ID
        hashed = key == UNIT_HASH
        if flt == Filter() and segment is None and not segments and table_exists(con, UNIT_TABLES[level]):
            base = f"select {key.format(unit=unit)} as unit_id, 'all' as segment from {UNIT_TABLES[level]}"
        else:
            columns = [f"{SEGMENT_SQL[name].format(pos=pos)} as {name}" for name in segments]
            base, params = units_sql(level, flt, segment, columns, hashed=hashed)
    hits = _hits_sql(level, len(_codes(steps)) + 1, key)
    sql = (
        f"select u.*, coalesce(h.hits, []) as hits"
        f" from ({base}) as u left join ({hits}) as h on h.unit_id = u.unit_id"
    )
    return sql, params


def _breakdown_sql(matched: str, segment: str) -> str:
    """Per segment value and step: units entering, reaching, median seconds (``matched`` rows)."""
    return f"""
        with matched as ({matched}),
        entered as (select {segment} as segment, count(*) as units from matched group by all),
        reached as (  -- seconds has one entry per step reached; one unnest (Spark would
                      -- multiply two in one select, DuckDB zips them)
            select {segment} as segment,
                unnest([{{'step_number': j, 'seconds': s}} for s, j in seconds]) as step
            from matched
        ),
        counted as (
            select segment, step.step_number, count(*) as reached, median(step.seconds) as median_seconds
            from reached
            group by segment, step.step_number
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


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> pd.DataFrame:
    """The breakdown's rows with rates and drop-off per segment value."""
    frame = con.execute(sql, params).df()
    previous = frame.groupby("segment")["reached"].shift(1)
    frame["rate_from_previous"] = (frame["reached"] / previous).where(previous > 0)
    frame["rate_from_first"] = frame["reached"] / frame.groupby("segment")["reached"].transform("first")
    frame["dropped"] = (previous - frame["reached"]).fillna(0).astype("int64")
    frame["reached"] = frame["reached"].astype("int64")
    return frame


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
    _register_steps(con, steps)
    units, params = _units(con, level, steps, where, segment, ())
    return _frame(con, _breakdown_sql(_matched_sql(units, steps), "segment"), params)


def prepare_funnel(
    con: duckdb.DuckDBPyConnection,
    steps: Sequence[str],
    *,
    level: Level = "session",
    segments: Sequence[str] = (),
    where: Filter | None = None,
    name: str = "_funnel_units",
    units: UnitsTable | None = None,
) -> FunnelUnits:
    """Match ``steps`` once for every unit into ``name``.

    ``funnel_of(con, prepared, segment=s)`` for ``s`` in ``segments`` (or None) then gives
    what ``funnel(con, steps, level=level, segment=s, where=where)`` gives, from one row per
    unit. ``name`` must be an identifier we chose (it names a table), never data.
    ``units``: the units in scope with their segment values, already grouped (the Sankey
    rows' units table); the funnel then groups only the rows of its step touchpoints.
    """
    if not steps:
        raise ValueError("a funnel needs at least one step")
    if units is not None:
        if units.level != level:
            raise ValueError(f"the units table holds {units.level}s, not {level}s")
        if where is not None and where != Filter():
            raise ValueError("a units table is the scope: filter it when it is made, not here")
        missing = [name for name in segments if name not in units.segments]
        if missing:
            known = ", ".join(units.segments)
            raise ValueError(f"the units table has no segment {missing[0]!r}; it has: {known}")
    _register_steps(con, steps)
    units_sql_text, params = _units(con, level, steps, where, None, tuple(segments), units)
    kind = scratch_table(con)  # stored compressed where the connection may write
    con.execute(f"create or replace {kind} {name} as {_matched_sql(units_sql_text, steps)}", params)
    return FunnelUnits(name, tuple(steps), level, tuple(segments))


def funnel_of(
    con: duckdb.DuckDBPyConnection, prepared: FunnelUnits, *, segment: str | None = None
) -> pd.DataFrame:
    """The funnel of ``prepare_funnel``'s units broken down by ``segment`` (one of its segments)."""
    if segment is not None and segment not in prepared.segments:
        raise ValueError(f"segment {segment!r} was not prepared; prepared: {', '.join(prepared.segments)}")
    _register_steps(con, prepared.steps)  # another funnel may have registered other steps since
    return _frame(con, _breakdown_sql(f"select * from {prepared.table}", segment or "segment"), [])

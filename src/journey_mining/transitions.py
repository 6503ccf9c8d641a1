"""Transition and touchpoint aggregates for any subset of sessions or journeys.

The marts hold the aggregates over everything; a filtered view (date range, channel,
segment) or the journey level is aggregated here, in SQL, from ``session_touchpoints``,
with the same definitions as the marts (``(start)``/``(exit)`` nodes, exit rate = exits /
occurrences), so numbers agree whichever way they were computed.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from journey_mining.segments import Filter, Level, unit_columns, units_sql


def _ordered_steps(level: Level, flt: Filter) -> tuple[str, list[object]]:
    unit, pos = unit_columns(level)
    units, params = units_sql(level, flt, None)
    sql = f"""
        with units as ({units}),
        steps as (
            select st.{unit} as unit_id, st.{pos} as pos, st.touchpoint, st.customer_key, st.ts
            from session_touchpoints st join units u on st.{unit} = u.unit_id
        ),
        ordered as (
            select *,
                   lead(touchpoint) over w as next_touchpoint,
                   epoch(lead(ts) over w) - epoch(ts) as seconds_to_next,
                   row_number() over w as rn
            from steps window w as (partition by unit_id order by pos)
        )"""
    return sql, params


def transitions(
    con: duckdb.DuckDBPyConnection, *, level: Level = "session", where: Filter | None = None
) -> pd.DataFrame:
    """from_touchpoint, to_touchpoint, transitions, customers, median_seconds, p90_seconds."""
    head, params = _ordered_steps(level, where or Filter())
    sql = f"""{head},
        edges as (
            select '(start)' as from_touchpoint, touchpoint as to_touchpoint, customer_key,
                   cast(null as double) as seconds
            from ordered where rn = 1
            union all
            select touchpoint, coalesce(next_touchpoint, '(exit)'), customer_key, seconds_to_next
            from ordered
        )
        select from_touchpoint, to_touchpoint, count(*) as transitions,
               count(distinct customer_key) as customers,
               -- rounded to 0.1 µs as in the marts: the last bits differ between engines
               round(median(seconds), 7) as median_seconds,
               round(quantile_cont(seconds, 0.9), 7) as p90_seconds
        from edges group by from_touchpoint, to_touchpoint
        order by from_touchpoint, to_touchpoint"""
    return con.execute(sql, params).df()


def touchpoint_stats(
    con: duckdb.DuckDBPyConnection, *, level: Level = "session", where: Filter | None = None
) -> pd.DataFrame:
    """touchpoint, occurrences, sessions (units containing it), exits, exit_rate."""
    head, params = _ordered_steps(level, where or Filter())
    sql = f"""{head}
        select touchpoint, count(*) as occurrences, count(distinct unit_id) as sessions,
               count(*) filter (where next_touchpoint is null) as exits,
               cast(count(*) filter (where next_touchpoint is null) as double) / count(*) as exit_rate
        from ordered group by touchpoint order by touchpoint"""
    return con.execute(sql, params).df()


def top_paths(
    con: duckdb.DuckDBPyConnection,
    *,
    level: Level = "session",
    where: Filter | None = None,
    top: int = 20,
    max_steps: int = 12,
) -> pd.DataFrame:
    """Most frequent touchpoint sequences (first ``max_steps`` steps) with conversion rates."""
    unit, pos = unit_columns(level)
    units, params = units_sql(level, where or Filter(), None)
    sql = f"""
        with units as ({units}),
        paths as (
            select st.{unit} as unit_id,
                   string_agg(st.touchpoint, ' > ' order by st.{pos})
                       filter (where st.{pos} <= ?) as path,
                   max(st.{pos}) as steps,
                   bool_or(st.is_conversion) as converted
            from session_touchpoints st join units u on st.{unit} = u.unit_id
            group by st.{unit}
        )
        select path, count(*) as units, avg(steps) as mean_steps,
               avg(cast(converted as double)) as conversion_rate
        from paths group by path
        order by units desc, path limit ?"""
    frame = con.execute(sql, [*params, max_steps, top]).df()
    total = con.execute(f"select count(*) from ({units})", params).fetchone()
    frame["share"] = frame["units"] / (total[0] if total and total[0] else 1)
    return frame

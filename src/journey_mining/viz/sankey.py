"""Path-true Sankey journey maps: where sessions (or journeys) go, step by step.

A node is a *path prefix* at a step, not a touchpoint: the node ``web:cart`` at step 3
under ``web:home > web:product`` holds exactly the units whose first three steps were
home, product, cart. Every ribbon therefore carries units that really took the route drawn
up to it, and following ribbons across several steps gives the exact share of units that
took that route (a "touchpoint per step" Sankey mixes routes and cannot).

To stay readable, each step keeps its ``top_k`` largest prefixes among those whose parent
was kept; the rest are folded into one ``other paths`` node per step, which they never
leave (a folded unit's later steps stay in ``other``). Units that end are drawn into a
drop-off node per step (``exited after step k``); units that ended after converting go to
a separate node, and cart/checkout sessions that ended without converting are marked as
abandonment. With ``focus``, step 1 is the first occurrence of that touchpoint and the map
shows the steps after it (or, with ``direction='before'``, the steps that led to it).

Every number is a count of distinct units computed in SQL; Python only lays them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import duckdb
import pandas as pd
import plotly.graph_objects as go

from journey_mining.scratch import scratch_table
from journey_mining.segments import (
    SEGMENT_SQL,
    UNIT_HASH,
    UNIT_ID,
    Filter,
    Level,
    UnitsTable,
    unit_columns,
    unit_hashes_are_distinct,
    units_sql,
)
from journey_mining.viz import style

Direction = Literal["after", "before"]
ASSISTED_CHANNELS = ("chat", "call")
"""Channels a customer escalates to from self-service; a ribbon into one is an escalation."""
HIGH_DROPOFF_RATIO = 1.5
"""A node is flagged when its drop-off rate is this many times the map's average."""

NODE_COLUMNS = [
    "node",
    "step",
    "column",
    "branch",
    "kind",
    "touchpoint",
    "channel",
    "label",
    "path",
    "units",
    "continued",
    "ended",
    "ended_converted",
    "ended_abandoned",
    "beyond",
    "exit_rate",
    "median_seconds_to_next",
    "is_loop",
    "is_conversion",
    "folded",
    "other_top",
]
LINK_COLUMNS = ["source", "target", "step", "kind", "units", "median_seconds"]


@dataclass(frozen=True)
class SankeyData:
    """Nodes, links and per-step bookkeeping of one map; counts are distinct units.

    ``nodes.kind``: ``touchpoint`` (a kept prefix), ``other`` (folded prefixes), and the
    terminals ``exit``, ``converted`` (ended after a conversion), ``start`` (before-maps:
    the unit began here) and ``more`` (continues past the last step shown).
    ``links.kind``: ``continue``, ``escalation`` (into chat/call from another channel),
    ``fold``/``other`` (into or inside ``other``), ``exit``, ``abandon`` (ended after cart or
    checkout without converting), ``converted``, ``start``, ``more``.
    """

    nodes: pd.DataFrame
    links: pd.DataFrame
    steps: pd.DataFrame
    level: Level
    direction: Direction
    focus: str | None
    step_count: int
    top_k: int
    units: int
    units_in_scope: int
    collapse_repeats: bool
    collapsed_events: int

    @property
    def unit_name(self) -> str:
        return "sessions" if self.level == "session" else "journeys"


MAX_KEY = 2**126
"""Prefix keys are integers while ``distinct touchpoints ** steps`` stays below this (and
below a connection's ``max_integer_key``: Spark has no HUGEINT)."""
BIGINT_KEY = 2**63
"""Below this, a BIGINT holds the keys."""


@dataclass(frozen=True)
class MapRows:
    """The step rows of every unit in scope, computed once, from which maps are drawn.

    Rows are per unit and step (steps 1..``steps``) with the unit's path prefix as a key,
    so a map only groups them: the tree is chosen on prefix counts, and no per-unit work
    is repeated per map. With ``segments``, each row carries its unit's segment values
    and one prepared table serves the maps of every segment value (see ``prepare_rows``).
    """

    table: str
    units_table: str
    level: Level
    steps: int
    focus: str | None
    direction: Direction
    collapse_repeats: bool
    segments: tuple[str, ...]
    unit_key: str = UNIT_ID
    """How a ``session_touchpoints`` row's unit id is keyed in the units table (a template)."""

    def units(self) -> UnitsTable:
        """The units table (one row per unit in scope with its segment values), for a funnel."""
        return UnitsTable(self.units_table, self.level, self.unit_key, self.segments)

    def drop(self, con: duckdb.DuckDBPyConnection) -> None:
        """Drop the tables (a dashboard does this once its maps are drawn)."""
        for table in (self.table, self.units_table):
            con.execute(f"drop table if exists {table}")


def _check_arguments(steps: int, top_k: int, direction: str) -> None:
    if steps < 1 or top_k < 1:
        raise ValueError("steps and top_k must be at least 1")
    if direction not in ("after", "before"):
        raise ValueError(f"direction must be 'after' or 'before', not {direction!r}")


def _units_table_sql(
    level: Level, where: Filter | None, segments: tuple[str, ...], unit_key: str
) -> tuple[str, list[object]]:
    """SQL of the units in scope (``unit_id``, their ``length`` in steps, then one column per
    segment) and its parameters; ``unit_key`` is ``UNIT_HASH`` or ``UNIT_ID``."""
    hashed = unit_key == UNIT_HASH
    if not segments:
        sql, params = units_sql(level, where or Filter(), None, ("count(*) as length",), hashed=hashed)
        return f"select unit_id, length from ({sql})", params
    if where is not None and where != Filter():
        raise ValueError("rows with segment columns are prepared for all units; filter each map instead")
    unknown = [name for name in segments if name not in SEGMENT_SQL]
    if unknown:
        raise ValueError(f"unknown segment {unknown[0]!r}; known: {', '.join(SEGMENT_SQL)}")
    unit, pos = unit_columns(level)
    key = unit_key.format(unit=unit)
    columns = ", ".join(f"{SEGMENT_SQL[name].format(pos=pos)} as {name}" for name in segments)
    sql = f"select {key} as unit_id, count(*) as length, {columns} from session_touchpoints group by {key}"
    return sql, []


def _touchpoint_codes(con: duckdb.DuckDBPyConnection, steps: int) -> int | None:
    """Number the touchpoints and channels; the base of HUGEINT keys, or None if too many.

    The window over every row then carries small integers, not strings; names are joined
    back once the rows are cut to the steps of the map.
    """
    for table, column in (("_sankey_codes", "touchpoint"), ("_sankey_channel_codes", "channel")):
        con.execute(
            f"create or replace temp table {table} as"
            f" select {column}, cast(row_number() over (order by {column}) as integer) as code"
            f" from (select distinct {column} from session_touchpoints where {column} is not null)"
        )
    row = con.execute("select count(*) from _sankey_codes").fetchone()
    base = (int(row[0]) if row else 0) + 1  # digit 0: a null touchpoint
    return base if base**steps < min(MAX_KEY, getattr(con, "max_integer_key", MAX_KEY)) else None


def _key_sql(base: int | None, steps: int) -> tuple[str, str]:
    """SQL of the path prefix up to a row (``prefix_key``, from its list of ``codes``) and of its parent.

    Codes are the digits of an integer in ``base`` (keys are only compared within a step, so
    paths of equal length): a BIGINT when it holds ``base ** steps``, else a HUGEINT; with
    too many touchpoints the key is the list of codes itself.
    """
    if base is not None:
        kind = "bigint" if base**steps < BIGINT_KEY else "hugeint"
        return f"list_reduce(cast(codes as {kind}[]), lambda a, b: a * {base} + b)", f"prefix_key // {base}"
    return "codes", "list_slice(prefix_key, 1, array_length(prefix_key) - 1)"


COLLAPSED_SQL = """
        marked as (
            select *, coalesce(code = lead(code) over (partition by uid order by pos), false) as repeats_next
            from source
        ),
        collapsed as (select * from marked where not repeats_next),"""
PREFIX_COLUMNS = """,
                bool_or(is_conversion) over upto as converted_by,
                bool_or(is_cart) over upto as carted_by,
                list(coalesce(code, 0)) over {frame} as codes"""


def _rows_sql(
    level: Level,
    focus: str | None,
    direction: Direction,
    *,
    steps: int,
    collapse_repeats: bool,
    table: str,
    units_table: str,
    segments: tuple[str, ...],
    base: int | None,
    table_kind: str = "temp table",
    unit_key: str = UNIT_ID,
) -> str:
    """One row per unit and step 1..``steps``: what happened there and the path that led there.

    Units are the integer ``uid`` of ``units_table`` and touchpoints and channels are codes
    (null for a null name) until the last select, so the window sorts narrow rows.
    """
    unit, pos = unit_columns(level)
    if focus is None:  # the anchor is the first or the last step: no pass to find it
        anchors, anchor_join = "", ""
        anchor = "1" if direction == "after" else "length"
    else:
        anchors = "anchors as (select uid, min(seq) as anchor from sequenced"
        anchors += " where code = (select code from _sankey_codes where touchpoint = $focus) group by uid),"
        anchor, anchor_join = "anchor", "inner join anchors as a using (uid)"
    step = f"seq - {anchor} + 1" if direction == "after" else f"{anchor} - seq + 1"
    is_end = "seq = length" if direction == "after" else "seq = 1"
    # time of the ribbon into this step: from the previous step in time order
    link_seconds = "seconds_from_previous" if direction == "after" else "seconds_to_next"
    # from the first step, the running values need no second sort: steps are the first rows in order
    # (the list frame is bounded so long units cost no more than short ones)
    at_start = focus is None and direction == "after"
    early = PREFIX_COLUMNS.format(frame=f"(w rows between {int(steps) - 1} preceding and current row)")
    late = PREFIX_COLUMNS.format(frame="upto")
    key, parent = _key_sql(base, steps)
    numbered, length, near = "pos as seq,", ", u.length", ""
    if collapse_repeats:  # the steps left after collapsing are numbered and counted again
        numbered, length = "row_number() over w as seq, count(*) over (partition by uid) as length,", ""
    elif focus is None:
        # session_touchpoints numbers a unit's steps 1..n without gaps and the units table
        # counts them, so no window numbers or counts them, and a map from the first (last)
        # step reads only the rows it draws and the one after (before) them
        bound = "<= $steps + 1" if direction == "after" else ">= u.length - $steps"
        near = f"where t.{pos} {bound}"
    return f"""
        create or replace {table_kind} {table} as
        with source as (
            select
                u.uid, t.{pos} as pos, t.ts, c.code, h.code as channel_code,
                coalesce(t.is_conversion, false) as is_conversion,
                coalesce(t.is_cart, false) or coalesce(t.is_checkout, false) as is_cart
                {length}{"".join(f", u.{name}" for name in segments)}
            from session_touchpoints as t
            inner join {units_table} as u on u.unit_id = {unit_key.format(unit=f"t.{unit}")}
            left join _sankey_codes as c on c.touchpoint = t.touchpoint
            left join _sankey_channel_codes as h on h.channel = t.channel
            {near}
        ),
        {COLLAPSED_SQL if collapse_repeats else ""}
        sequenced as (
            select
                *,
                {numbered}
                epoch(lead(ts) over w) - epoch(ts) as seconds_to_next,
                epoch(ts) - epoch(lag(ts) over w) as seconds_from_previous{early if at_start else ""}
            from {"collapsed" if collapse_repeats else "source"}
            window w as (partition by uid order by pos),
                upto as (w rows between unbounded preceding and current row)
        ),
        {anchors}
        relative as (
            select s.*, {step} as step, {is_end} as is_end
            from sequenced as s {anchor_join}
        ),
        final as (
            select
                step, code, channel_code, is_conversion, is_end,
                {link_seconds} as link_seconds,
                seconds_to_next{", converted_by, carted_by, codes" if at_start else late}
                {"".join(f", {name}" for name in segments)}
            from relative
            where step between 1 and $steps
            window upto as (
                partition by uid order by step rows between unbounded preceding and current row
            )
        ),
        keyed as (
            select
                * exclude (codes),
                -- a loop: this touchpoint is already on the path
                list_position(codes, coalesce(code, 0)) < array_length(codes) as is_loop,
                {key} as prefix_key
            from final
        )
        select k.* exclude (code, channel_code), c.touchpoint, h.channel, {parent} as parent_key
        from keyed as k
        left join _sankey_codes as c on c.code = k.code
        left join _sankey_channel_codes as h on h.code = k.channel_code
    """


def prepare_rows(
    con: duckdb.DuckDBPyConnection,
    *,
    level: Level = "session",
    steps: int = 10,
    focus: str | None = None,
    direction: Direction = "after",
    where: Filter | None = None,
    collapse_repeats: bool = False,
    segments: tuple[str, ...] = (),
    name: str = "_sankey_prepared_rows",
) -> MapRows:
    """Compute the step rows once (one pass over ``session_touchpoints``) for one or more maps.

    With ``segments`` (names from ``segments.SEGMENT_SQL``) the rows cover every unit and
    ``sankey_data(..., rows=prepared, where=Filter(segment=..., segment_value=...))`` draws
    each segment's map from them, as it would from ``session_touchpoints`` directly.
    """
    _check_arguments(steps, 1, direction)
    # grouping 100M steps by a 64-bit hash of the unit id, not the 35-character id itself,
    # halved the units table's time at 100M events (28 -> 14 s); exact only without collisions
    unit_key = UNIT_HASH if unit_hashes_are_distinct(con, level) else UNIT_ID
    units, params = _units_table_sql(level, where, segments, unit_key)
    units_table = f"{name}_units"
    kind = scratch_table(con)  # the rows (one per unit and step) outgrow memory at scale
    con.execute(
        f"create or replace {kind} {units_table} as select row_number() over () as uid, * from ({units})",
        params,
    )
    base = _touchpoint_codes(con, steps)
    bind: dict[str, object] = {"steps": steps}
    if focus is not None:
        bind["focus"] = focus
    sql = _rows_sql(
        level,
        focus,
        direction,
        steps=steps,
        collapse_repeats=collapse_repeats,
        table=name,
        units_table=units_table,
        segments=segments,
        base=base,
        table_kind=kind,
        unit_key=unit_key,
    )
    con.execute(sql, bind)
    for table in ("_sankey_codes", "_sankey_channel_codes"):
        con.execute(f"drop table if exists {table}")
    return MapRows(name, units_table, level, steps, focus, direction, collapse_repeats, segments, unit_key)


def _collapsed_events(
    con: duckdb.DuckDBPyConnection, rows: MapRows, units: str, params: list[object]
) -> dict[object, int]:
    """Immediate repeats collapsed, per part of ``units`` (``unit_id``, ``part``)."""
    unit, pos = unit_columns(rows.level)
    key = rows.unit_key.format(unit=unit)
    sql = f"""
        with units as ({units}),
        marked as (
            select {key} as unit_id,
                coalesce(touchpoint = lead(touchpoint) over (partition by {unit} order by {pos}), false)
                as repeats_next
            from session_touchpoints where {key} in (select unit_id from units)
        )
        select u.part, count(*) filter (where repeats_next)
        from marked as m inner join units as u using (unit_id)
        group by u.part
    """
    return {part: int(count) for part, count in con.execute(sql, params).fetchall()}


# Every map of one call is a part (all units, or one segment value); each part has its own tree.
PREFIXES_SQL = """
    create or replace temp table _sankey_prefixes as
    select {part} as part, step, prefix_key, any_value(parent_key) as parent_key,
        any_value(touchpoint) as touchpoint, count(*) as units
    from {table} as r {where}
    group by all
"""
KEEP_SQL = """
    insert into _sankey_kept
    select part, $k, branch, parent_branch, touchpoint, units, prefix_key from (
        select p.part, p.touchpoint, p.units, p.prefix_key, coalesce(k.branch, 0) as parent_branch,
            row_number() over (
                partition by p.part order by p.units desc, coalesce(k.branch, 0), p.touchpoint
            ) as branch
        from _sankey_prefixes as p
        left join _sankey_kept as k
            on k.part = p.part and k.step = $k - 1 and k.prefix_key = p.parent_key
        where p.step = $k and ($k = 1 or k.branch is not null)
    ) where branch <= $top_k
"""


def _choose_branches(
    con: duckdb.DuckDBPyConnection, rows: MapRows, part: str, where: str, bind: dict[str, object], top_k: int
) -> None:
    """Step by step: keep the top K prefixes whose parent was kept; the rest become branch 0.

    A unit's branch at a step depends only on its path prefix, so the choice is made on
    the counts per prefix, not per unit.
    """
    con.execute(PREFIXES_SQL.format(part=part, table=rows.table, where=where), bind)
    con.execute(
        "create or replace temp table _sankey_kept as select part, cast(0 as integer) as step,"
        " cast(0 as integer) as branch, cast(0 as integer) as parent_branch, touchpoint, units, prefix_key"
        " from _sankey_prefixes limit 0"
    )
    for k in range(1, rows.steps + 1):
        con.execute(KEEP_SQL, {"k": k, "top_k": top_k})


BRANCHED_SQL = """
    with r as (select {part} as part, * from {table} as r {where}),
    b as (
        select r.*, coalesce(k.branch, 0) as branch, coalesce(p.branch, 0) as parent_branch
        from r
        left join _sankey_kept as k on k.part = r.part and k.step = r.step and k.prefix_key = r.prefix_key
        left join _sankey_kept as p
            on p.part = r.part and p.step = r.step - 1 and p.prefix_key = r.parent_key
    )
"""
NODES_SQL = """
    select
        part, step, branch,
        count(*) as units,
        count(*) filter (where is_end) as ended,
        count(*) filter (where is_end and converted_by) as ended_converted,
        count(*) filter (where is_end and carted_by and not converted_by) as ended_abandoned,
        count(*) filter (where not is_end and step = $steps) as beyond,
        median(seconds_to_next) as median_seconds_to_next,
        bool_or(is_loop) as is_loop,
        bool_or(is_conversion) as is_conversion,
        any_value(channel) as channel,
        count(*) filter (where branch = 0 and (step = 1 or parent_branch > 0)) as folded
    from b
    group by part, step, branch
"""
LINKS_SQL = """
    select part, step, parent_branch, branch, count(*) as units, median(link_seconds) as median_seconds
    from b
    where step > 1
    group by part, step, parent_branch, branch
"""
OTHER_TOP_SQL = """
    select part, step, touchpoint, units from (
        select part, step, touchpoint, count(*) as units,
            row_number() over (partition by part, step order by count(*) desc, touchpoint) as position
        from b
        where branch = 0
        group by part, step, touchpoint
    ) where position <= 3
    order by part, step, position
"""
ALL_PART = "'all'"
"""The part of a map of every unit in scope (an SQL literal)."""


@dataclass(frozen=True)
class _Parts:
    """How one call splits the prepared rows into maps: SQL fragments, never data."""

    part: str  # SQL of the part of a row ``r`` or of a unit
    where: str  # filter on ``r``
    bind: dict[str, object]
    units: str  # (unit_id, part) of the units in scope
    params: list[object]


def _parts(rows: MapRows, where: Filter | None, segment: str | None) -> _Parts:
    """One map per value of ``segment`` (or one map), of the units ``where`` selects."""
    for name in (segment, where.segment if where is not None else None):
        if name is not None and name not in rows.segments:
            prepared = ", ".join(rows.segments) or "none"
            raise ValueError(f"segment {name!r} was not prepared; prepared: {prepared}")
    part = segment or ALL_PART  # a prepared segment name (checked above): a column we made
    units = f"select unit_id, {part} as part from {rows.units_table}"
    if where is None or where == Filter():
        return _Parts(part, "", {}, units, [])
    if where.segment is None or (where.start, where.end, where.channel) != (None, None, None):
        raise ValueError("maps from prepared rows filter by one segment value only")
    column = where.segment
    return _Parts(
        part,
        f"where {column} = $segment_value",
        {"segment_value": where.segment_value},
        f"{units} where {column} = ?",
        [where.segment_value],
    )


def sankey_data(
    con: duckdb.DuckDBPyConnection,
    *,
    level: Level = "session",
    steps: int = 10,
    top_k: int = 10,
    focus: str | None = None,
    direction: Direction = "after",
    where: Filter | None = None,
    collapse_repeats: bool = False,
    rows: MapRows | None = None,
) -> SankeyData:
    """The path-true prefix tree of the first ``steps`` steps, top ``top_k`` branches per step.

    ``rows`` (from ``prepare_rows`` with the same level, steps, focus, direction and
    collapse) saves the pass over ``session_touchpoints`` when several maps are drawn.
    """
    _check_arguments(steps, top_k, direction)
    if rows is None:
        prepared = prepare_rows(
            con,
            level=level,
            steps=steps,
            focus=focus,
            direction=direction,
            where=where,
            collapse_repeats=collapse_repeats,
            name="_sankey_rows",
        )
        try:
            return _draw(con, prepared, _parts(prepared, None, None), top_k)["all"]
        finally:
            prepared.drop(con)
    if (rows.level, rows.steps, rows.focus, rows.direction, rows.collapse_repeats) != (
        level,
        steps,
        focus,
        direction,
        collapse_repeats,
    ):
        raise ValueError("the rows were prepared for another map: level, steps, focus, direction or collapse")
    return _draw(con, rows, _parts(rows, where, None), top_k)["all"]


def segment_maps(
    con: duckdb.DuckDBPyConnection, rows: MapRows, segment: str, *, top_k: int = 10
) -> dict[str, SankeyData]:
    """The map of every value of a prepared ``segment``, from one pass over the rows.

    Each equals ``sankey_data(..., where=Filter(segment=segment, segment_value=value))``.
    """
    _check_arguments(rows.steps, top_k, rows.direction)
    return {str(value): data for value, data in _draw(con, rows, _parts(rows, None, segment), top_k).items()}


def _draw(con: duckdb.DuckDBPyConnection, rows: MapRows, parts: _Parts, top_k: int) -> dict[Any, SankeyData]:
    """Choose the trees and count nodes and links, in SQL, over the prepared rows: a map per part."""
    in_scope = dict(
        con.execute(f"select part, count(*) from ({parts.units}) group by part", parts.params).fetchall()
    )
    if parts.part == ALL_PART:  # one map, even with no unit in scope
        in_scope = {"all": in_scope.get("all", 0)}
    collapsed = _collapsed_events(con, rows, parts.units, parts.params) if rows.collapse_repeats else {}
    _choose_branches(con, rows, parts.part, parts.where, parts.bind, top_k)
    branched = BRANCHED_SQL.format(part=parts.part, table=rows.table, where=parts.where)
    nodes = con.execute(branched + NODES_SQL, {"steps": rows.steps, **parts.bind}).df()
    links = con.execute(branched + LINKS_SQL, parts.bind).df()
    kept = con.execute("select part, step, branch, parent_branch, touchpoint, units from _sankey_kept").df()
    other_top = con.execute(branched + OTHER_TOP_SQL, parts.bind).df()
    for table in ("_sankey_prefixes", "_sankey_kept"):
        con.execute(f"drop table if exists {table}")

    def of(frame: pd.DataFrame, part: Any) -> pd.DataFrame:
        return frame[frame["part"] == part].drop(columns="part").reset_index(drop=True)

    return {
        part: _assemble(
            of(nodes, part),
            of(links, part),
            of(kept, part),
            of(other_top, part),
            level=rows.level,
            direction=rows.direction,
            focus=rows.focus,
            steps=rows.steps,
            top_k=top_k,
            units_in_scope=int(units),
            collapse_repeats=rows.collapse_repeats,
            collapsed=collapsed.get(part, 0),
        )
        for part, units in in_scope.items()
    }


def _paths(kept: pd.DataFrame) -> dict[tuple[int, int], tuple[str, ...]]:
    """Each kept branch's full prefix, from its parents."""
    paths: dict[tuple[int, int], tuple[str, ...]] = {}
    for row in kept.sort_values(["step", "branch"]).itertuples(index=False):
        step, branch, parent = int(row.step), int(row.branch), int(row.parent_branch)
        paths[(step, branch)] = (*paths.get((step - 1, parent), ()), str(row.touchpoint))
    return paths


def _terminal_label(kind: str, step: int, direction: Direction, unit_name: str) -> str:
    if kind == "exit":
        return f"exited after step {step}"
    if kind == "converted":
        return f"converted, ended at step {step}"
    if kind == "start":
        return f"{unit_name[:-1]} started"
    return f"continues after step {step}" if direction == "after" else "earlier steps not shown"


INNER_KINDS = ("touchpoint", "other")
VERTICAL_ORDER = {"touchpoint": 0, "other": 1, "converted": 2, "exit": 3, "start": 3, "more": 4}


def _inner_nodes(
    nodes: pd.DataFrame,
    links: pd.DataFrame,
    kept: pd.DataFrame,
    other_top: pd.DataFrame,
    *,
    steps: int,
    direction: Direction,
) -> list[dict[str, Any]]:
    """Kept prefixes in tree order (children under their parent, largest first), then 'other'."""
    paths = _paths(kept)
    kept_by_key = {(int(r.step), int(r.branch)): r for r in kept.itertuples(index=False)}
    tops: dict[int, list[tuple[str, int]]] = {}
    for row in other_top.itertuples(index=False):
        tops.setdefault(int(row.step), []).append((str(row.touchpoint), int(row.units)))
    continued = links.groupby(["step", "parent_branch"])["units"].sum().to_dict() if len(links) else {}
    by_key = {(int(r.step), int(r.branch)): r for r in nodes.itertuples(index=False)}
    order: dict[tuple[int, int], int] = {}
    rows: list[dict[str, Any]] = []
    for step in range(1, steps + 1):
        present = [key for key in by_key if key[0] == step]

        def position(key: tuple[int, int], step: int = step) -> tuple[int, int, int, int]:
            if key[1] == 0:
                return (1, 0, 0, 0)
            parent = int(kept_by_key[key].parent_branch)
            return (0, order.get((step - 1, parent), 0), -int(by_key[key].units), key[1])

        for rank, key in enumerate(sorted(present, key=position)):
            order[key] = rank
            agg = by_key[key]
            is_other = key[1] == 0
            touchpoint = None if is_other else str(kept_by_key[key].touchpoint)
            label = "other paths" if is_other else str(touchpoint)
            if not is_other and bool(agg.is_loop):
                label += " ↺"
            if not is_other and bool(agg.is_conversion):
                label += " ✓"
            path = paths.get(key)
            if path is not None and direction == "before":
                path = tuple(reversed(path))
            converted = int(agg.ended_converted) if direction == "after" else 0
            median_next = None if direction == "before" and step == 1 else agg.median_seconds_to_next
            rows.append(
                {
                    "step": step,
                    "branch": key[1],
                    "kind": "other" if is_other else "touchpoint",
                    "touchpoint": touchpoint,
                    "channel": None if is_other else str(agg.channel),
                    "label": label,
                    "path": path,
                    "units": int(agg.units),
                    "continued": int(continued.get((step + 1, key[1]), 0)),
                    "ended": int(agg.ended),
                    "ended_converted": converted,
                    "ended_abandoned": int(agg.ended_abandoned) if direction == "after" else 0,
                    "beyond": int(agg.beyond),
                    "exit_rate": (int(agg.ended) - converted) / int(agg.units),
                    "median_seconds_to_next": None if pd.isna(median_next) else float(median_next),
                    "is_loop": bool(agg.is_loop) and not is_other,
                    "is_conversion": bool(agg.is_conversion) and not is_other,
                    "folded": int(agg.folded) if is_other else 0,
                    "other_top": tuple(tops.get(step, ())) if is_other else (),
                }
            )
    return rows


def _link_kind(
    source: dict[str, Any], target: dict[str, Any], direction: Direction
) -> Literal["continue", "escalation", "fold", "other"]:
    if source["kind"] == "other":
        return "other"
    if target["kind"] == "other":
        return "fold"
    earlier, later = (source, target) if direction == "after" else (target, source)
    if later["channel"] in ASSISTED_CHANNELS and earlier["channel"] != later["channel"]:
        return "escalation"
    return "continue"


def _terminal_flows(node: dict[str, Any], direction: Direction) -> list[tuple[str, str, int]]:
    """(terminal kind, link kind, units) leaving a node: ends, and continuing past the map."""
    if direction == "before":
        flows = [("start", "start", node["ended"])]
    else:
        plain = node["ended"] - node["ended_converted"] - node["ended_abandoned"]
        flows = [
            ("converted", "converted", node["ended_converted"]),
            ("exit", "abandon", node["ended_abandoned"]),
            ("exit", "exit", plain),
        ]
    flows.append(("more", "more", node["beyond"]))
    return [flow for flow in flows if flow[2] > 0]


def _assemble(
    nodes: pd.DataFrame,
    links: pd.DataFrame,
    kept: pd.DataFrame,
    other_top: pd.DataFrame,
    *,
    level: Level,
    direction: Direction,
    focus: str | None,
    steps: int,
    top_k: int,
    units_in_scope: int,
    collapse_repeats: bool,
    collapsed: int,
) -> SankeyData:
    unit_name = "sessions" if level == "session" else "journeys"
    rows = _inner_nodes(nodes, links, kept, other_top, steps=steps, direction=direction)
    index = {(row["step"], row["branch"]): i for i, row in enumerate(rows)}
    link_rows: list[dict[str, Any]] = []
    for row in links.itertuples(index=False):
        step = int(row.step)
        source, target = index[(step - 1, int(row.parent_branch))], index[(step, int(row.branch))]
        link_rows.append(
            {
                "source": source,
                "target": target,
                "step": step,
                "kind": _link_kind(rows[source], rows[target], direction),
                "units": int(row.units),
                "median_seconds": None if pd.isna(row.median_seconds) else float(row.median_seconds),
            }
        )
    terminals: dict[tuple[str, int], int] = {}
    for i, node in enumerate(list(rows)):
        for terminal_kind, link_kind, units in _terminal_flows(node, direction):
            key = (terminal_kind, node["step"])
            if key not in terminals:
                terminals[key] = len(rows)
                rows.append(
                    {
                        "step": node["step"],
                        "branch": -1,
                        "kind": terminal_kind,
                        "label": _terminal_label(terminal_kind, node["step"], direction, unit_name),
                        "units": 0,
                        "is_loop": False,
                        "is_conversion": terminal_kind == "converted",
                        "other_top": (),
                    }
                )
            rows[terminals[key]]["units"] += units
            link_rows.append(
                {
                    "source": i,
                    "target": terminals[key],
                    "step": node["step"],
                    "kind": link_kind,
                    "units": units,
                    "median_seconds": None,
                }
            )

    # Plotly draws a column's nodes top to bottom in input order: kept, other, then terminals.
    # A terminal of step k sits in the column of step k+1 (its depth in the tree).
    def sort_key(i: int) -> tuple[int, int, int]:
        row = rows[i]
        column = row["step"] - 1 + (0 if row["kind"] in INNER_KINDS else 1)
        return (column, VERTICAL_ORDER[row["kind"]], i)

    order = sorted(range(len(rows)), key=sort_key)
    remap = {old: new for new, old in enumerate(order)}
    node_frame = pd.DataFrame([rows[i] for i in order]).reindex(columns=NODE_COLUMNS[1:])
    node_frame.insert(0, "node", range(len(node_frame)))
    node_frame["column"] = node_frame["step"] - 1 + (~node_frame["kind"].isin(INNER_KINDS)).astype("int64")
    for column in ("units", "continued", "ended", "ended_converted", "ended_abandoned", "beyond", "folded"):
        node_frame[column] = node_frame[column].fillna(0).astype("int64")
    link_frame = pd.DataFrame(link_rows, columns=LINK_COLUMNS)
    link_frame["source"] = link_frame["source"].map(remap)
    link_frame["target"] = link_frame["target"].map(remap)
    link_frame = link_frame.sort_values(["step", "source", "target"], ignore_index=True)
    step_one = node_frame[(node_frame["step"] == 1) & node_frame["kind"].isin(INNER_KINDS)]
    return SankeyData(
        nodes=node_frame,
        links=link_frame,
        steps=_step_table(node_frame),
        level=level,
        direction=direction,
        focus=focus,
        step_count=steps,
        top_k=top_k,
        units=int(step_one["units"].sum()),
        units_in_scope=units_in_scope,
        collapse_repeats=collapse_repeats,
        collapsed_events=collapsed,
    )


def _step_table(nodes: pd.DataFrame) -> pd.DataFrame:
    """Per step: units, kept nodes, units in 'other', newly folded, ended, continuing past the map."""
    columns = ["step", "units", "kept_nodes", "in_other", "folded", "ended", "beyond"]
    inner = nodes[nodes["kind"].isin(INNER_KINDS)]
    if inner.empty:
        return pd.DataFrame(columns=columns, dtype="int64")
    kept = inner["kind"] == "touchpoint"
    table = (
        inner.assign(
            kept_nodes=kept.astype("int64"),
            in_other=inner["units"].where(~kept, 0),
        )
        .groupby("step", as_index=False)[columns[1:]]
        .sum()
    )
    return table[columns].astype("int64")


LINK_COLORS = {
    "continue": None,  # the target's channel colour
    "escalation": style.rgba(style.ESCALATION_COLOR, 0.6),
    "fold": style.rgba(style.OTHER_COLOR, 0.3),
    "other": style.rgba(style.OTHER_COLOR, 0.3),
    "exit": style.rgba(style.WARNING_COLOR, 0.22),
    "abandon": style.rgba(style.WARNING_COLOR, 0.55),
    "converted": style.rgba(style.GOOD_COLOR, 0.45),
    "start": style.rgba(style.OTHER_COLOR, 0.3),
    "more": style.rgba(style.OTHER_COLOR, 0.18),
}
NODE_COLORS = {
    "other": style.OTHER_COLOR,
    "exit": style.WARNING_COLOR,
    "converted": style.GOOD_COLOR,
    "start": "#7F7F7F",
    "more": style.MUTED_COLOR,
}
HIGH_DROPOFF_COLOR = "#F28E8C"
LINK_NOTES = {
    "escalation": "escalation to an assisted channel",
    "abandon": "ended after cart or checkout without converting",
    "converted": "ended after converting",
    "more": "continue beyond the steps shown",
}


def friction_notes(friction: pd.DataFrame | None) -> dict[str, str]:
    """The most important finding per touchpoint (significant first, overall before segments)."""
    if friction is None or friction.empty or "touchpoint" not in friction:
        return {}
    frame = friction[friction["touchpoint"].notna()].copy()
    significant = frame["significant"] if "significant" in frame else pd.Series(False, index=frame.index)
    segment = frame["segment"] if "segment" in frame else pd.Series("all", index=frame.index)
    frame["not_significant"] = ~significant.fillna(False).astype(bool)
    frame["segmented"] = segment.fillna("all") != "all"
    frame = frame.sort_values(["not_significant", "segmented", "rank"], kind="stable")
    notes: dict[str, str] = {}
    for row in frame.itertuples(index=False):
        touchpoint = str(row.touchpoint)
        if touchpoint not in notes and isinstance(row.explanation, str) and row.explanation:
            prefix = "Friction" if not row.not_significant else "Possible friction (not significant)"
            notes[touchpoint] = f"{prefix} #{int(row.rank)}: {row.explanation}"
    return notes


def _average_exit_rate(nodes: pd.DataFrame) -> float:
    inner = nodes[nodes["kind"].isin(INNER_KINDS)]
    total = inner["units"].sum()
    return float((inner["ended"] - inner["ended_converted"]).sum() / total) if total else 0.0


def high_dropoff_nodes(data: SankeyData, *, min_units: int = 20) -> set[int]:
    """Kept nodes whose exit rate is HIGH_DROPOFF_RATIO times the map's average or more."""
    if data.direction != "after" or data.nodes.empty:
        return set()
    average = _average_exit_rate(data.nodes)
    floor = max(min_units, 0.01 * data.units)
    flagged = data.nodes[
        (data.nodes["kind"] == "touchpoint")
        & (data.nodes["units"] >= floor)
        & (data.nodes["exit_rate"] >= HIGH_DROPOFF_RATIO * average)
        & (data.nodes["exit_rate"] > 0)
    ]
    return set(flagged["node"].astype(int))


def _short_path(path: tuple[str, ...] | None, keep: int = 6) -> str:
    if not path:
        return ""
    shown = path if len(path) <= keep else ("…", *path[-keep:])
    return " → ".join(shown)


def _node_hover(node: Any, data: SankeyData, *, flagged: bool, average: float, note: str | None) -> str:
    units, unit_name = int(node.units), data.unit_name
    share = units / data.units if data.units else 0.0
    lines = [f"<b>{style.plot_text(node.label)}</b>"]
    if node.kind in INNER_KINDS:
        lines.append(f"Step {int(node.step)}" + _step_suffix(data))
        if node.kind == "touchpoint":
            lines.append("Path: " + style.wrap_text(_short_path(node.path), 80))
        lines.append(f"{units:,} {unit_name} ({style.format_percent(share)} of the map)")
        if data.direction == "after":
            continued = int(node.continued)
            lines.append(f"Continued: {continued:,} ({style.format_percent(continued / units)})")
            exits = int(node.ended) - int(node.ended_converted)
            lines.append(f"Exited here: {exits:,} ({style.format_percent(exits / units)})")
            if node.ended_abandoned:
                lines.append(f"  of which after cart or checkout: {int(node.ended_abandoned):,}")
            if node.ended_converted:
                lines.append(f"Converted and ended: {int(node.ended_converted):,}")
        else:
            lines.append(f"Came from an earlier step: {int(node.continued):,}")
            lines.append(f"Started here: {int(node.ended):,} ({style.format_percent(node.ended / units)})")
        if node.beyond:
            lines.append(f"Continue past the last step shown: {int(node.beyond):,}")
        lines.append("Median time to next step: " + style.format_duration(node.median_seconds_to_next))
        if node.kind == "other":
            lines.append(f"Newly folded at this step: {int(node.folded):,}")
            if node.other_top:
                mostly = ", ".join(f"{tp} ({n:,})" for tp, n in node.other_top)
                lines.append("Mostly: " + style.wrap_text(mostly, 80))
        if node.is_loop:
            lines.append("↺ repeats a touchpoint already on this path (a loop)")
        if flagged:
            lines.append(
                f"⚠ High drop-off: {style.format_percent(node.exit_rate)} exit here"
                f" (map average {style.format_percent(average)})"
            )
        if note:
            lines.append("⚠ " + style.wrap_text(note, 80))
    else:
        lines.append(f"{units:,} {unit_name} ({style.format_percent(share)} of the map)")
    return "<br>".join(lines)


def _step_suffix(data: SankeyData) -> str:
    if data.focus is None:
        return " from the start" if data.direction == "after" else " back from the end"
    where = "from" if data.direction == "after" else "back from"
    return f" {where} the first {style.plot_text(data.focus)}"


def _link_hover(link: Any, nodes: dict[int, Any], data: SankeyData) -> str:
    source, target = nodes[link.source], nodes[link.target]
    earlier, later = (source, target) if data.direction == "after" else (target, source)
    units = int(link.units)
    lines = [
        f"<b>{style.plot_text(earlier.label)} → {style.plot_text(later.label)}</b>",
        f"{units:,} {data.unit_name}: {style.format_percent(units / int(source.units))}"
        f" of {style.plot_text(source.label)}, {style.format_percent(units / data.units)} of the map",
    ]
    if link.kind in LINK_NOTES:
        lines.append(LINK_NOTES[link.kind])
    if link.median_seconds is not None and not pd.isna(link.median_seconds):
        lines.append("Median time between the steps: " + style.format_duration(link.median_seconds))
    return "<br>".join(lines)


def _title(data: SankeyData) -> str:
    what = f"{data.unit_name.capitalize()}, step by step"
    if data.focus is not None:
        side = "after" if data.direction == "after" else "before"
        what = f"{data.unit_name.capitalize()} {side} their first {style.plot_text(data.focus)}"
    elif data.direction == "before":
        what = f"How {data.unit_name} end: the last steps"
    detail = f"{data.units:,} {data.unit_name}; top {data.top_k} paths per step, the rest in 'other paths'"
    if data.collapse_repeats:
        detail += f"; {data.collapsed_events:,} immediate repeats collapsed"
    return f"{what}<br><span style='font-size:12px;color:#555'>{detail}</span>"


def _legend() -> str:
    def swatch(color: str, text: str) -> str:
        return f"<span style='color:{color}'>■</span> {text}"

    items = [
        swatch(style.CHANNEL_COLORS["web"], "web"),
        swatch(style.CHANNEL_COLORS["chat"], "chat"),
        swatch(style.CHANNEL_COLORS["call"], "call"),
        swatch(style.OTHER_COLOR, "other paths"),
        swatch(style.WARNING_COLOR, "drop-off (dark: after cart)"),
        swatch(HIGH_DROPOFF_COLOR, "high drop-off"),
        swatch(style.ESCALATION_COLOR, "escalation"),
        swatch(style.GOOD_COLOR, "converted"),
        "↺ loop · ✓ conversion · ⚠ friction finding",
    ]
    return "   ".join(items)


SHORT_TERMINAL_LABELS = {
    "exit": "exited",
    "converted": "converted ✓",
    "start": "started",
    "more": "more steps",
}


def _column_header(column: int, data: SankeyData) -> str:
    if data.focus is None and data.direction == "after":
        return f"step {column + 1}"
    if column == 0:
        return "end" if data.focus is None else "focus"
    return f"+{column}" if data.direction == "after" else f"-{column}"


def sankey_figure(
    data: SankeyData,
    friction: pd.DataFrame | None = None,
    *,
    min_units: int = 20,
    label_share: float = 0.012,
    height: int | None = None,
) -> go.Figure:
    """Plotly Sankey of a map: channel colours, warnings on drop-off and escalation, rich hover.

    Nodes smaller than ``label_share`` of the map keep their hover text but show no label,
    so the labels of the main routes stay readable.
    """
    nodes = data.nodes.set_index("node", drop=False)
    if nodes.empty:
        figure = go.Figure(layout=style.base_layout(_title(data), height=height or 300))
        figure.add_annotation(
            text=f"No {data.unit_name} to show", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper"
        )
        figure.update_xaxes(visible=False)
        figure.update_yaxes(visible=False)
        return figure
    notes = friction_notes(friction)
    flagged = high_dropoff_nodes(data, min_units=min_units)
    average = _average_exit_rate(data.nodes)
    labels, colors, hovers = [], [], []
    by_node: dict[int, Any] = {}  # for the links: a dict, not a DataFrame lookup per link
    for node in nodes.itertuples(index=False):
        by_node[int(node.node)] = node
        note = notes.get(node.touchpoint) if isinstance(node.touchpoint, str) else None
        label = SHORT_TERMINAL_LABELS.get(node.kind, str(node.label)) + (" ⚠" if note else "")
        labels.append(style.plot_text(label) if node.units >= label_share * data.units else "")
        if node.kind == "touchpoint":
            colors.append(HIGH_DROPOFF_COLOR if node.node in flagged else style.channel_color(node.channel))
        else:
            colors.append(NODE_COLORS[node.kind])
        hovers.append(_node_hover(node, data, flagged=node.node in flagged, average=average, note=note))
    link_colors, link_hovers = [], []
    for link in data.links.itertuples(index=False):
        color = LINK_COLORS[link.kind]
        if color is None:
            color = style.rgba(style.channel_color(by_node[link.target].channel), 0.35)
        link_colors.append(color)
        link_hovers.append(_link_hover(link, by_node, data))
    columns = int(data.nodes["column"].max()) + 1
    per_column = int(data.nodes.groupby("column")["node"].count().max())
    figure = go.Figure(
        go.Sankey(
            arrangement="snap",
            direction="forward" if data.direction == "after" else "reversed",
            valueformat=",d",
            node={
                "label": labels,
                "color": colors,
                "customdata": hovers,
                "hovertemplate": "%{customdata}<extra></extra>",
                "pad": 12,
                "thickness": 14,
                "line": {"color": "white", "width": 0.5},
                "align": "left",
                "sort": "input",
            },
            link={
                "source": data.links["source"].tolist(),
                "target": data.links["target"].tolist(),
                "value": data.links["units"].tolist(),
                "color": link_colors,
                "customdata": link_hovers,
                "hovertemplate": "%{customdata}<extra></extra>",
            },
            textfont={"size": 11, "color": style.TEXT_COLOR},
        ),
        layout=style.base_layout(_title(data), height=height or max(520, 44 * per_column + 140)),
    )
    figure.update_layout(margin={"l": 10, "r": 10, "t": 90, "b": 60})
    for column in range(min(columns, data.step_count)):
        x = column / max(columns - 1, 1)
        forward = data.direction == "after"
        figure.add_annotation(
            text=_column_header(column, data),
            x=x if forward else 1 - x,
            xanchor="left" if forward == (column < columns - 1) else "right",
            y=1.0,
            yshift=18,
            xref="paper",
            yref="paper",
            showarrow=False,
            font={"size": 11, "color": "#666"},
        )
    figure.add_annotation(
        text=_legend(), x=0, y=0, yshift=-40, xref="paper", yref="paper", xanchor="left", showarrow=False
    )
    return figure

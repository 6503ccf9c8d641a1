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

from journey_mining.segments import Filter, Level, unit_columns, units_sql
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


def _rows_sql(level: Level, focus: str | None, direction: Direction, units: str) -> str:
    unit, pos = unit_columns(level)
    if focus is None:
        anchor = "1" if direction == "after" else "max(seq)"
        anchor_filter = ""
    else:
        anchor, anchor_filter = "min(seq)", "where touchpoint = $focus"
    step = "seq - anchor + 1" if direction == "after" else "anchor - seq + 1"
    is_end = "seq = length" if direction == "after" else "seq = 1"
    # time of the ribbon into this step: from the previous step in time order
    link_seconds = "seconds_from_previous" if direction == "after" else "seconds_to_next"
    return f"""
        create or replace temp table _sankey_rows as
        with units as ({units}),
        source as (
            select
                t.{unit} as unit_id, t.{pos} as pos, t.ts, t.touchpoint, t.channel,
                coalesce(t.is_conversion, false) as is_conversion,
                coalesce(t.is_cart, false) or coalesce(t.is_checkout, false) as is_cart
            from session_touchpoints as t
            where t.{unit} in (select unit_id from units)
        ),
        marked as (
            select *, coalesce(touchpoint = lead(touchpoint) over (partition by unit_id order by pos), false)
                as repeats_next
            from source
        ),
        collapsed as (select * from marked where not ($collapse and repeats_next)),
        sequenced as (
            select
                *,
                row_number() over w as seq,
                count(*) over (partition by unit_id) as length,
                epoch(lead(ts) over w) - epoch(ts) as seconds_to_next,
                epoch(ts) - epoch(lag(ts) over w) as seconds_from_previous
            from collapsed
            window w as (partition by unit_id order by pos)
        ),
        anchors as (select unit_id, {anchor} as anchor from sequenced {anchor_filter} group by unit_id),
        relative as (
            select s.*, {step} as step, {is_end} as is_end
            from sequenced as s inner join anchors as a using (unit_id)
        ),
        final as (
            select
                unit_id, step, touchpoint, channel, is_conversion, is_end,
                {link_seconds} as link_seconds,
                seconds_to_next,
                bool_or(is_conversion) over upto as converted_by,
                bool_or(is_cart) over upto as carted_by,
                row_number() over (partition by unit_id, touchpoint order by step) > 1 as is_loop
            from relative
            where step between 1 and $steps
            window upto as (
                partition by unit_id order by step rows between unbounded preceding and current row
            )
        )
        select * from final
    """


def _collapsed_events(con: duckdb.DuckDBPyConnection, level: Level, units: str, params: list[object]) -> int:
    unit, pos = unit_columns(level)
    sql = f"""
        with units as ({units}),
        marked as (
            select coalesce(touchpoint = lead(touchpoint) over (partition by {unit} order by {pos}), false)
                as repeats_next
            from session_touchpoints where {unit} in (select unit_id from units)
        )
        select count(*) filter (where repeats_next) from marked
    """
    row = con.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


def _choose_branches(con: duckdb.DuckDBPyConnection, steps: int, top_k: int) -> None:
    """Step by step: keep the top K prefixes whose parent was kept; the rest become branch 0."""
    con.execute(
        "create or replace temp table _sankey_kept"
        " (step integer, branch integer, parent_branch integer, touchpoint varchar, units bigint)"
    )
    con.execute(
        "create or replace temp table _sankey_branch"
        " (unit_id varchar, step integer, parent_branch integer, branch integer)"
    )
    for k in range(1, steps + 1):
        con.execute(
            """
            create or replace temp table _sankey_candidates as
            select r.unit_id, r.touchpoint, coalesce(p.branch, 0) as parent_branch
            from _sankey_rows as r
            left join _sankey_branch as p on p.unit_id = r.unit_id and p.step = r.step - 1
            where r.step = $k
            """,
            {"k": k},
        )
        con.execute(
            """
            insert into _sankey_kept
            select $k, branch, parent_branch, touchpoint, units from (
                select parent_branch, touchpoint, units,
                    row_number() over (order by units desc, parent_branch, touchpoint) as branch
                from (
                    select parent_branch, touchpoint, count(*) as units
                    from _sankey_candidates
                    where $k = 1 or parent_branch > 0
                    group by parent_branch, touchpoint
                )
            ) where branch <= $top_k
            """,
            {"k": k, "top_k": top_k},
        )
        con.execute(
            """
            insert into _sankey_branch
            select c.unit_id, $k, c.parent_branch, coalesce(k.branch, 0)
            from _sankey_candidates as c
            left join _sankey_kept as k
                on k.step = $k and k.parent_branch = c.parent_branch and k.touchpoint = c.touchpoint
            """,
            {"k": k},
        )


NODES_SQL = """
    select
        r.step, b.branch,
        count(*) as units,
        count(*) filter (where r.is_end) as ended,
        count(*) filter (where r.is_end and r.converted_by) as ended_converted,
        count(*) filter (where r.is_end and r.carted_by and not r.converted_by) as ended_abandoned,
        count(*) filter (where not r.is_end and r.step = $steps) as beyond,
        median(r.seconds_to_next) as median_seconds_to_next,
        bool_or(r.is_loop) as is_loop,
        bool_or(r.is_conversion) as is_conversion,
        any_value(r.channel) as channel,
        count(*) filter (where b.branch = 0 and (r.step = 1 or b.parent_branch > 0)) as folded
    from _sankey_rows as r
    inner join _sankey_branch as b using (unit_id, step)
    group by r.step, b.branch
"""
LINKS_SQL = """
    select b.step, b.parent_branch, b.branch, count(*) as units, median(r.link_seconds) as median_seconds
    from _sankey_branch as b
    inner join _sankey_rows as r using (unit_id, step)
    where b.step > 1
    group by b.step, b.parent_branch, b.branch
"""
OTHER_TOP_SQL = """
    select step, touchpoint, units from (
        select r.step, r.touchpoint, count(*) as units,
            row_number() over (partition by r.step order by count(*) desc, r.touchpoint) as position
        from _sankey_rows as r
        inner join _sankey_branch as b using (unit_id, step)
        where b.branch = 0
        group by r.step, r.touchpoint
    ) where position <= 3
    order by step, position
"""


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
) -> SankeyData:
    """The path-true prefix tree of the first ``steps`` steps, top ``top_k`` branches per step."""
    if steps < 1 or top_k < 1:
        raise ValueError("steps and top_k must be at least 1")
    if direction not in ("after", "before"):
        raise ValueError(f"direction must be 'after' or 'before', not {direction!r}")
    units, params = units_sql(level, where or Filter(), None)
    named = {f"p{i}": value for i, value in enumerate(params)}
    units_named = units
    for i in range(len(params)):
        units_named = units_named.replace("?", f"$p{i}", 1)
    bind: dict[str, object] = {"collapse": collapse_repeats, "steps": steps, **named}
    if focus is not None:
        bind["focus"] = focus
    con.execute(_rows_sql(level, focus, direction, units_named), bind)
    in_scope = con.execute(f"select count(*) from ({units})", params).fetchone()
    collapsed = _collapsed_events(con, level, units, params) if collapse_repeats else 0
    _choose_branches(con, steps, top_k)
    nodes = con.execute(NODES_SQL, {"steps": steps}).df()
    links = con.execute(LINKS_SQL).df()
    kept = con.execute("select * from _sankey_kept").df()
    other_top = con.execute(OTHER_TOP_SQL).df()
    for table in ("_sankey_rows", "_sankey_kept", "_sankey_branch", "_sankey_candidates"):
        con.execute(f"drop table if exists {table}")
    return _assemble(
        nodes,
        links,
        kept,
        other_top,
        level=level,
        direction=direction,
        focus=focus,
        steps=steps,
        top_k=top_k,
        units_in_scope=int(in_scope[0]) if in_scope else 0,
        collapse_repeats=collapse_repeats,
        collapsed=collapsed,
    )


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


def _link_hover(link: Any, nodes: pd.DataFrame, data: SankeyData) -> str:
    source, target = nodes.loc[link.source], nodes.loc[link.target]
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
    for node in nodes.itertuples(index=False):
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
            color = style.rgba(style.channel_color(nodes.loc[link.target].channel), 0.35)
        link_colors.append(color)
        link_hovers.append(_link_hover(link, nodes, data))
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

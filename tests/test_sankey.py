"""Path-true Sankey maps: prefix nodes, exact counts, folding, exits, loops, focus, the figure."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any, Literal

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journey_mining.funnel import funnel
from journey_mining.segments import SEGMENTS, UNIT_HASH, Filter, units_sql
from journey_mining.viz import sankey as sankey_module
from journey_mining.viz import style
from journey_mining.viz.sankey import SankeyData, prepare_rows, sankey_data, sankey_figure, segment_maps

T0 = datetime(2026, 11, 2, 9, 0)
CONVERSIONS = {"web:purchase", "call:order_placed"}
CARTS = {"web:add_to_cart", "web:begin_checkout"}


def session_touchpoints(
    sessions: dict[str, list[str]],
    *,
    devices: dict[str, str] | None = None,
    journeys: dict[str, str] | None = None,
) -> duckdb.DuckDBPyConnection:
    """A ``session_touchpoints`` table: one minute between steps; journey = 'j' + session id."""
    con = duckdb.connect()
    con.execute(
        "create table session_touchpoints (session_id varchar, journey_id varchar, customer_key varchar,"
        " session_number integer, step integer, journey_step integer, ts timestamp, touchpoint varchar,"
        " channel varchar, device varchar, is_conversion boolean, is_cart boolean, is_checkout boolean)"
    )
    journey_steps: Counter[str] = Counter()
    rows = []
    for number, (sid, path) in enumerate(sessions.items()):
        journey = (journeys or {}).get(sid, "j" + sid)
        for i, tp in enumerate(path, start=1):
            journey_steps[journey] += 1
            rows.append(
                [
                    sid,
                    journey,
                    "c" + journey,
                    1,
                    i,
                    journey_steps[journey],
                    T0 + timedelta(days=number, minutes=i),
                    tp,
                    tp.split(":")[0],
                    (devices or {}).get(sid, "desktop"),
                    tp in CONVERSIONS,
                    tp == "web:add_to_cart",
                    tp == "web:begin_checkout",
                ]
            )
    con.executemany("insert into session_touchpoints values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return con


def node_counts(data: SankeyData) -> dict[tuple[int, tuple[str, ...] | str], int]:
    """(step, path or kind) -> units, for exact comparisons."""
    result: dict[tuple[int, tuple[str, ...] | str], int] = {}
    for row in data.nodes.itertuples(index=False):
        key = tuple(row.path) if row.kind == "touchpoint" else row.kind
        result[(int(row.step), key)] = int(row.units)
    return result


def links_by_path(data: SankeyData) -> dict[tuple[object, object, str], int]:
    nodes = data.nodes.set_index("node")

    def name(node: int) -> object:
        row = nodes.loc[node]
        return tuple(row.path) if row.kind == "touchpoint" else (row.kind, int(row.step))

    return {
        (name(link.source), name(link.target), link.kind): int(link.units)
        for link in data.links.itertuples(index=False)
    }


def assert_flows_balance(data: SankeyData) -> None:
    """Step 1 holds every unit; every node's inflow equals its outflow (continue + exit)."""
    inner = data.nodes[data.nodes["kind"].isin(["touchpoint", "other"])]
    assert int(inner.loc[inner["step"] == 1, "units"].sum()) == data.units
    out = data.links.groupby("source")["units"].sum()
    into = data.links.groupby("target")["units"].sum()
    for row in data.nodes.itertuples(index=False):
        if row.kind in ("touchpoint", "other"):
            assert int(out.get(row.node, 0)) == row.units, row
            if row.step > 1:
                assert int(into.get(row.node, 0)) == row.units, row
        else:
            assert int(into.get(row.node, 0)) == row.units, row
            assert row.node not in out.index
    for step in data.steps.itertuples(index=False):
        following = data.steps.loc[data.steps["step"] == step.step + 1, "units"].sum()
        assert step.units == following + step.ended + step.beyond


PATHS = {
    "s1": ["web:home", "web:product", "web:cart"],
    "s2": ["web:home", "web:product", "web:help"],
    "s3": ["web:home", "chat:started"],
    "s4": ["web:category", "web:product", "web:cart"],
    "s5": ["web:home", "web:product", "web:cart"],
}


def test_nodes_are_path_prefixes_with_exact_counts() -> None:
    data = sankey_data(session_touchpoints(PATHS), steps=3, top_k=10)
    assert node_counts(data) == {
        (1, ("web:home",)): 4,
        (1, ("web:category",)): 1,
        (2, ("web:home", "web:product")): 3,
        (2, ("web:home", "chat:started")): 1,
        (2, ("web:category", "web:product")): 1,  # a second web:product node: another route
        (3, ("web:home", "web:product", "web:cart")): 2,
        (3, ("web:home", "web:product", "web:help")): 1,
        (3, ("web:category", "web:product", "web:cart")): 1,
        (2, "exit"): 1,  # exited after step 2: s3
        (3, "exit"): 4,
    }
    links = links_by_path(data)
    assert links[(("web:home",), ("web:home", "web:product"), "continue")] == 3
    assert links[(("web:home",), ("web:home", "chat:started"), "escalation")] == 1
    assert links[(("web:home", "chat:started"), ("exit", 2), "exit")] == 1
    assert data.units == data.units_in_scope == 5
    assert_flows_balance(data)


def test_labels_and_exit_nodes_per_step() -> None:
    data = sankey_data(session_touchpoints(PATHS), steps=3)
    labels = data.nodes.set_index("node")["label"]
    exits = data.nodes[data.nodes["kind"] == "exit"]
    assert sorted(labels[exits["node"]]) == ["exited after step 2", "exited after step 3"]
    # a drop-off node sits one column right of the step it leaves
    assert (exits["column"] == exits["step"]).all()


def test_top_k_folds_the_rest_into_one_other_node_per_step() -> None:
    data = sankey_data(session_touchpoints(PATHS), steps=3, top_k=1)
    assert node_counts(data) == {
        (1, ("web:home",)): 4,
        (1, "other"): 1,  # web:category
        (2, ("web:home", "web:product")): 3,
        (2, "other"): 2,  # home > chat (newly folded) + category > product (already in other)
        (3, ("web:home", "web:product", "web:cart")): 2,
        (3, "other"): 2,  # home > product > help (newly folded) + category > product > cart
        (2, "exit"): 1,
        (3, "exit"): 4,
    }
    assert data.steps[["step", "kept_nodes", "in_other", "folded"]].to_numpy().tolist() == [
        [1, 1, 1, 1],
        [2, 1, 2, 1],
        [3, 1, 2, 1],
    ]
    links = links_by_path(data)
    assert links[(("web:home",), ("other", 2), "fold")] == 1
    assert links[(("other", 1), ("other", 2), "other")] == 1
    other = data.nodes[(data.nodes["kind"] == "other") & (data.nodes["step"] == 3)].iloc[0]
    assert dict(other.other_top) == {"web:cart": 1, "web:help": 1}
    assert_flows_balance(data)


def test_conversions_and_cart_abandonment_end_in_their_own_links() -> None:
    con = session_touchpoints(
        {
            "a": ["web:product", "web:add_to_cart"],  # abandoned cart
            "b": ["web:product", "web:add_to_cart", "web:purchase"],  # converted
            "c": ["web:product"],  # plain exit
            "d": ["web:product", "web:add_to_cart", "web:purchase", "web:home"],  # converted, then more
        }
    )
    data = sankey_data(con, steps=3)
    links = links_by_path(data)
    assert links[(("web:product",), ("exit", 1), "exit")] == 1
    assert links[(("web:product", "web:add_to_cart"), ("exit", 2), "abandon")] == 1
    assert links[(("web:product", "web:add_to_cart", "web:purchase"), ("converted", 3), "converted")] == 1
    assert links[(("web:product", "web:add_to_cart", "web:purchase"), ("more", 3), "more")] == 1
    purchase = data.nodes[data.nodes["touchpoint"] == "web:purchase"].iloc[0]
    assert purchase.is_conversion
    assert purchase.label == "web:purchase ✓"
    assert_flows_balance(data)


def test_loops_are_marked_and_repeats_can_be_collapsed() -> None:
    con = session_touchpoints(
        {
            "a": ["web:home", "web:product", "web:home"],
            "b": ["web:home", "web:home", "web:product", "web:product", "web:product"],
        }
    )
    data = sankey_data(con, steps=5)
    loops = data.nodes[data.nodes["is_loop"]]
    assert {tuple(p) for p in loops["path"]} == {
        ("web:home", "web:product", "web:home"),
        ("web:home", "web:home"),
        ("web:home", "web:home", "web:product", "web:product"),
        ("web:home", "web:home", "web:product", "web:product", "web:product"),
    }
    assert all(label.endswith("↺") for label in loops["label"])
    assert data.collapsed_events == 0

    collapsed = sankey_data(con, steps=5, collapse_repeats=True)
    assert collapsed.collapsed_events == 3
    assert node_counts(collapsed) == {
        (1, ("web:home",)): 2,
        (2, ("web:home", "web:product")): 2,
        (3, ("web:home", "web:product", "web:home")): 1,
        (2, "exit"): 1,
        (3, "exit"): 1,
    }
    assert_flows_balance(collapsed)


def test_focus_after_starts_at_the_first_occurrence() -> None:
    con = session_touchpoints(
        {
            "a": ["web:home", "web:help", "chat:started", "web:help"],
            "b": ["web:help", "web:home"],
            "c": ["web:home"],
        }
    )
    data = sankey_data(con, focus="web:help", steps=3)
    assert data.units == 2
    assert data.units_in_scope == 3
    assert node_counts(data) == {
        (1, ("web:help",)): 2,
        (2, ("web:help", "chat:started")): 1,
        (2, ("web:help", "web:home")): 1,
        (3, ("web:help", "chat:started", "web:help")): 1,
        (2, "exit"): 1,
        (3, "exit"): 1,
    }
    assert_flows_balance(data)


def test_focus_before_shows_the_steps_that_led_there() -> None:
    con = session_touchpoints(
        {
            "a": ["web:home", "web:help", "call:queued", "call:answered"],
            "b": ["call:queued"],
            "c": ["web:product", "web:help", "call:queued"],
        }
    )
    data = sankey_data(con, focus="call:queued", direction="before", steps=3)
    # paths are shown in time order, ending at the focus
    assert node_counts(data) == {
        (1, ("call:queued",)): 3,
        (2, ("web:help", "call:queued")): 2,
        (3, ("web:home", "web:help", "call:queued")): 1,
        (3, ("web:product", "web:help", "call:queued")): 1,
        (1, "start"): 1,
        (3, "start"): 2,
    }
    links = links_by_path(data)
    # in time order web:help comes before call:queued: an escalation into the call channel
    assert links[(("call:queued",), ("web:help", "call:queued"), "escalation")] == 2
    assert_flows_balance(data)


def test_sessions_longer_than_the_map_continue_into_a_more_node() -> None:
    data = sankey_data(session_touchpoints({"a": ["web:home"] * 4, "b": ["web:home"]}), steps=2)
    assert node_counts(data)[(2, "more")] == 1
    assert data.steps["beyond"].tolist() == [0, 1]
    assert_flows_balance(data)


def test_two_step_funnel_equals_the_matching_prefix_ribbon() -> None:
    con = session_touchpoints(
        {
            "a": ["web:product", "web:add_to_cart", "web:purchase"],
            "b": ["web:product", "web:add_to_cart"],
            "c": ["web:home", "web:add_to_cart"],  # cart at step 2 without product: not in the ribbon
            "d": ["web:product", "web:home"],
            "e": ["web:add_to_cart"],
        }
    )
    steps = ["web:product", "web:add_to_cart"]
    reached = funnel(con, steps)["reached"].tolist()
    data = sankey_data(con, steps=2)
    links = links_by_path(data)
    assert node_counts(data)[(1, ("web:product",))] == reached[0] == 3
    assert links[(("web:product",), ("web:product", "web:add_to_cart"), "continue")] == reached[1] == 2
    # a touchpoint-per-step map would have shown 3 sessions at "step 2: web:add_to_cart"
    at_step_two = data.nodes[(data.nodes["step"] == 2) & (data.nodes["touchpoint"] == "web:add_to_cart")]
    assert at_step_two["units"].tolist() == [2, 1]
    focused = links_by_path(sankey_data(con, steps=2, focus="web:product"))
    assert focused[(("web:product",), ("web:product", "web:add_to_cart"), "continue")] == reached[1]


def test_journey_level_follows_steps_across_sessions() -> None:
    con = session_touchpoints(
        {"s1": ["web:home", "web:product"], "s2": ["call:queued"], "s3": ["web:home"]},
        journeys={"s1": "j1", "s2": "j1", "s3": "j2"},
    )
    data = sankey_data(con, level="journey", steps=3)
    assert data.unit_name == "journeys"
    assert node_counts(data)[(3, ("web:home", "web:product", "call:queued"))] == 1
    assert data.units == 2
    assert_flows_balance(data)


def test_segment_filter_restricts_the_units() -> None:
    con = session_touchpoints(PATHS, devices={"s1": "mobile", "s3": "mobile"})
    data = sankey_data(con, steps=3, where=Filter(segment="device", segment_value="mobile"))
    assert data.units == data.units_in_scope == 2
    assert node_counts(data)[(1, ("web:home",))] == 2


def test_no_units_gives_an_empty_map_and_a_figure_saying_so() -> None:
    data = sankey_data(session_touchpoints(PATHS), focus="web:nowhere")
    assert data.units == 0
    assert data.nodes.empty
    assert data.links.empty
    figure = sankey_figure(data)
    assert "No sessions" in figure.layout.annotations[0].text


def test_arguments_are_checked() -> None:
    con = session_touchpoints(PATHS)
    with pytest.raises(ValueError, match="at least 1"):
        sankey_data(con, steps=0)
    with pytest.raises(ValueError, match="direction"):
        sankey_data(con, direction="sideways")  # type: ignore[arg-type]


sessions_strategy = st.lists(
    st.lists(st.sampled_from(["web:a", "web:b", "chat:c", "web:purchase"]), min_size=1, max_size=7),
    min_size=1,
    max_size=40,
)


@settings(max_examples=80, deadline=None)
@given(
    paths=sessions_strategy,
    top_k=st.integers(1, 4),
    collapse=st.booleans(),
    direction=st.sampled_from(["after", "before"]),
    by_journey=st.booleans(),
)
def test_counts_match_a_reference_and_flows_balance(
    paths: list[list[str]], top_k: int, collapse: bool, direction: sankey_module.Direction, by_journey: bool
) -> None:
    sessions = {f"s{i}": path for i, path in enumerate(paths)}
    journeys = {sid: f"j{i // 2}" for i, sid in enumerate(sessions)}  # two sessions each
    con = session_touchpoints(sessions, journeys=journeys)
    level = "journey" if by_journey else "session"
    data = sankey_data(con, level=level, steps=5, top_k=top_k, collapse_repeats=collapse, direction=direction)
    assert_flows_balance(data)
    units = paths
    if by_journey:
        units = [paths[i] + (paths[i + 1] if i + 1 < len(paths) else []) for i in range(0, len(paths), 2)]
    assert data.units == len(units)
    # per step: at most top_k kept nodes and one 'other'
    inner = data.nodes[data.nodes["kind"].isin(["touchpoint", "other"])]
    assert (inner.groupby(["step", "kind"]).size().xs("touchpoint", level="kind") <= top_k).all()
    # every kept node holds exactly the units whose first (after) or last (before) k steps
    # are its path, shown in time order
    if collapse:
        units = [[tp for i, tp in enumerate(p) if i + 1 == len(p) or p[i + 1] != tp] for p in units]
    shown = Counter(
        tuple(p[:k] if direction == "after" else p[-k:]) for p in units for k in range(1, min(len(p), 5) + 1)
    )
    for row in inner[inner["kind"] == "touchpoint"].itertuples(index=False):
        assert row.units == shown[tuple(row.path)]
    # a node whose units go on (in time order) has their time to the next step: a minute
    # within a session; more across collapsed repeats or between a journey's sessions
    for row in inner.itertuples(index=False):
        if (row.units > row.ended) if direction == "after" else row.step > 1:
            assert row.median_seconds_to_next >= 60
            assert row.median_seconds_to_next == 60 or collapse or by_journey
    # units end at their length (exit or converted; 'start' when the map runs backwards) and
    # longer ones go beyond the last step
    counts = node_counts(data)
    ends = ("exit", "converted") if direction == "after" else ("start",)
    for k in range(1, 6):
        assert sum(counts.get((k, end), 0) for end in ends) == sum(len(p) == k for p in units)
    assert data.steps["beyond"].tolist()[-1] == sum(len(p) > 5 for p in units)


def test_figure_colours_warnings_hover_and_escaping() -> None:
    evil = "web:<script>window.__pwned=1</script>"
    con = session_touchpoints(
        {
            "a": ["web:product", "web:add_to_cart"],
            "b": ["web:product", "chat:started"],
            "c": ["web:product", evil],
            "d": ["web:product", "web:add_to_cart", "web:purchase"],
        }
    )
    data = sankey_data(con, steps=3)
    friction = pd.DataFrame(
        {
            "rank": [1, 2],
            "touchpoint": ["chat:started", "chat:started"],
            "explanation": ["Chats <b>started</b> here end unresolved often.", "Less important"],
            "significant": [True, True],
            "segment": ["all", "all"],
        }
    )
    figure = sankey_figure(data, friction, min_units=1)
    trace = figure.data[0]
    assert trace.type == "sankey"
    assert len(trace.node.label) == len(data.nodes)
    assert len(trace.link.value) == len(data.links)
    labels = list(trace.node.label)
    assert "web:&lt;script&gt;window.__pwned=1&lt;/script&gt;" in labels
    assert not any("<script" in text for text in [*labels, *trace.node.customdata, *trace.link.customdata])
    nodes = data.nodes.set_index("node")
    colors = dict(zip(nodes.index, trace.node.color, strict=True))
    exit_node = int(nodes.index[nodes["kind"] == "exit"][0])
    assert colors[exit_node] == style.WARNING_COLOR
    chat = int(nodes.index[nodes["touchpoint"] == "chat:started"][0])
    assert "Chats &lt;b&gt;started&lt;/b&gt; here" in trace.node.customdata[chat]
    assert "Friction #1" in trace.node.customdata[chat]
    assert labels[chat].endswith("⚠")
    link_colors = dict(zip(data.links["kind"], trace.link.color, strict=False))
    assert link_colors["abandon"] == style.rgba(style.WARNING_COLOR, 0.55)
    assert link_colors["escalation"] == style.rgba(style.ESCALATION_COLOR, 0.6)
    assert "Median time between the steps: 1 min" in trace.link.customdata[0]


def assert_same_map(left: SankeyData, right: SankeyData) -> None:
    pd.testing.assert_frame_equal(left.nodes, right.nodes)
    pd.testing.assert_frame_equal(left.links, right.links)
    pd.testing.assert_frame_equal(left.steps, right.steps)
    assert (left.units, left.units_in_scope, left.collapsed_events) == (
        right.units,
        right.units_in_scope,
        right.collapsed_events,
    )


SEGMENTED_PATHS = {
    **PATHS,
    "s6": ["web:home", "web:home", "web:product", "call:queued", "web:purchase"],
    "s7": ["web:category", "web:add_to_cart", "web:begin_checkout"],
    "s8": ["chat:started", "web:home", "web:product", "web:cart"],
}
SEGMENTED_DEVICES = {"s1": "mobile", "s3": "mobile", "s6": "mobile", "s8": "tablet"}
MAP_KINDS = [
    (None, "after", False),
    (None, "before", False),
    ("web:product", "after", True),
    ("web:cart", "before", False),
]
"""(focus, direction, collapse_repeats) of the maps the prepared-rows tests draw."""


def map_options(focus: str | None, direction: str, collapse: bool) -> dict[str, Any]:
    """The keyword arguments of a 4-step map of one of ``MAP_KINDS``."""
    return {"steps": 4, "focus": focus, "direction": direction, "collapse_repeats": collapse}


@pytest.mark.parametrize(("focus", "direction", "collapse"), MAP_KINDS)
def test_maps_from_prepared_rows_equal_maps_filtered_directly(
    focus: str | None, direction: Literal["after", "before"], collapse: bool
) -> None:
    """What the dashboard does: one pass for every segment value's map."""
    con = session_touchpoints(SEGMENTED_PATHS, devices=SEGMENTED_DEVICES)
    options = map_options(focus, direction, collapse)
    rows = prepare_rows(con, segments=("device", "customer_type"), **options)
    by_device = segment_maps(con, rows, "device", top_k=2)
    assert set(by_device) == {"mobile", "desktop", "tablet"}
    for where in [None, *(Filter(segment="device", segment_value=d) for d in by_device)]:
        direct = sankey_data(con, top_k=2, where=where, **options)
        assert_same_map(sankey_data(con, top_k=2, where=where, rows=rows, **options), direct)
        if where is not None:
            assert_same_map(by_device[str(where.segment_value)], direct)
    for value, data in segment_maps(con, rows, "customer_type", top_k=2).items():
        where = Filter(segment="customer_type", segment_value=value)
        assert_same_map(data, sankey_data(con, top_k=2, where=where, **options))
    rows.drop(con)


@pytest.mark.parametrize("level", ["session", "journey"])
def test_prepared_rows_carry_each_units_segment_values_null_ones_too(level: Literal["session", "journey"]) -> None:
    """Each step row carries its unit's segment values, a null one as null."""
    con = session_touchpoints(SEGMENTED_PATHS, devices=SEGMENTED_DEVICES, journeys={"s2": "js1"})
    con.execute("update session_touchpoints set channel = null where session_id = 's8'")
    rows = prepare_rows(con, level=level, steps=4, segments=SEGMENTS)
    for segment in SEGMENTS:
        units, params = units_sql(level, Filter(), segment)
        expected = con.execute(f"select segment, count(*) from ({units}) group by all order by all", params).fetchall()
        in_rows = f"select {segment}, count(*) from {rows.table} where step = 1 group by all order by all"
        assert con.execute(in_rows).fetchall() == expected
    first_channels = con.execute(f"select distinct first_channel from {rows.table} order by all").fetchall()
    assert first_channels == [("web",), (None,)]  # s8 has no channel
    rows.drop(con)
    assert not [t for (t,) in con.execute("show tables").fetchall() if t.startswith("_sankey")]


@pytest.mark.parametrize(("focus", "direction", "collapse"), MAP_KINDS)
def test_units_keyed_by_a_hash_of_their_id_give_the_same_maps(
    monkeypatch: pytest.MonkeyPatch, focus: str | None, direction: Literal["after", "before"], collapse: bool
) -> None:
    """Where no two unit ids share a 64-bit hash, the units are grouped by the hash instead."""
    con = session_touchpoints(SEGMENTED_PATHS, devices=SEGMENTED_DEVICES)
    options = map_options(focus, direction, collapse)

    def maps(level: Literal["session", "journey"]) -> tuple[str, list[SankeyData]]:
        rows = prepare_rows(con, level=level, segments=("device",), **options)
        drawn = [sankey_data(con, level=level, top_k=2, rows=rows, **options)]
        drawn += [m for _, m in sorted(segment_maps(con, rows, "device", top_k=2).items())]
        drawn.append(sankey_data(con, level=level, top_k=2, **options))
        rows.drop(con)
        return rows.unit_key, drawn

    by_id = {level: maps(level) for level in ("session", "journey")}
    monkeypatch.setattr(sankey_module, "unit_hashes_are_distinct", lambda con, level: True)
    for level, (key, expected) in by_id.items():
        assert key == sankey_module.UNIT_ID  # no sessions mart here to check the hashes against
        hashed_key, hashed = maps(level)
        assert hashed_key == UNIT_HASH
        assert len(hashed) == len(expected) == 5
        for left, right in zip(hashed, expected, strict=True):
            assert_same_map(left, right)


def test_prepared_rows_are_checked_against_the_map_asked_for() -> None:
    con = session_touchpoints(PATHS)
    rows = prepare_rows(con, steps=3, segments=("device",))
    with pytest.raises(ValueError, match="prepared for another map"):
        sankey_data(con, steps=4, rows=rows)
    with pytest.raises(ValueError, match="one segment value only"):
        sankey_data(con, steps=3, rows=rows, where=Filter(channel="web"))
    with pytest.raises(ValueError, match="was not prepared"):
        sankey_data(con, steps=3, rows=rows, where=Filter(segment="channels", segment_value="web"))
    with pytest.raises(ValueError, match="all units"):
        prepare_rows(con, where=Filter(channel="web"), segments=("device",))


def test_many_touchpoints_use_list_keys_with_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prefix keys are BIGINTs, or HUGEINTs, while they fit, else lists of codes: the map is the same."""
    con = session_touchpoints(SEGMENTED_PATHS)
    packed = sankey_data(con, steps=5, top_k=2)
    monkeypatch.setattr(sankey_module, "BIGINT_KEY", 2)
    assert sankey_module._key_sql(9, 5)[0].startswith("list_reduce(cast(codes as hugeint[])")
    assert_same_map(sankey_data(con, steps=5, top_k=2), packed)
    monkeypatch.setattr(sankey_module, "MAX_KEY", 2)
    assert_same_map(sankey_data(con, steps=5, top_k=2), packed)

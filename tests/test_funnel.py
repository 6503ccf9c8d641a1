from __future__ import annotations

import random
from datetime import datetime, timedelta

import duckdb
import pandas as pd
import pytest

from journey_mining import funnel as funnel_module
from journey_mining import segments
from journey_mining.funnel import funnel, funnel_of, prepare_funnel
from journey_mining.segments import SEGMENTS, Filter, Level
from journey_mining.viz import sankey

T0 = datetime(2026, 11, 2, 9, 0)
STEPS = ["web:product", "web:add_to_cart", "web:begin_checkout", "web:purchase"]


def session_touchpoints(sessions: dict[str, tuple[str, int, list[str]]]) -> duckdb.DuckDBPyConnection:
    """sessions: id -> (device, session_number, touchpoints); one minute between steps."""
    con = duckdb.connect()
    con.execute(
        "create table session_touchpoints (session_id varchar, journey_id varchar, session_number integer,"
        " step integer, journey_step integer, ts timestamp, touchpoint varchar, channel varchar, device varchar)"
    )
    for sid, (device, number, path) in sessions.items():
        for i, tp in enumerate(path, start=1):
            con.execute(
                "insert into session_touchpoints values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [sid, "j" + sid, number, i, i, T0 + timedelta(minutes=i), tp, tp.split(":")[0], device],
            )
    return con


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return session_touchpoints(
        {
            "s1": ("mobile", 1, ["web:home", "web:product", "web:add_to_cart", "web:begin_checkout", "web:purchase"]),
            "s2": ("mobile", 2, ["web:product", "web:add_to_cart", "web:product", "web:add_to_cart"]),
            "s3": ("desktop", 1, ["web:add_to_cart", "web:product", "web:begin_checkout"]),  # cart before product
            "s4": ("desktop", 1, ["web:product", "chat:started", "web:add_to_cart", "web:begin_checkout"]),
            "s5": ("desktop", 3, ["web:home"]),
        }
    )


def test_counts_in_order_with_steps_between(con: duckdb.DuckDBPyConnection) -> None:
    result = funnel(con, STEPS)
    assert result["reached"].tolist() == [4, 3, 2, 1]
    assert result["units_total"].tolist() == [5] * 4
    assert result["dropped"].tolist() == [0, 1, 1, 1]
    assert result["rate_from_previous"].tolist()[1:] == pytest.approx([3 / 4, 2 / 3, 1 / 2])
    # s1: product at minute 2, cart at 3 -> 60 s; s2 60 s; s4 120 s (chat between)
    assert result["median_seconds"].tolist()[1] == 60.0


def test_breakdown_by_segment(con: duckdb.DuckDBPyConnection) -> None:
    result = funnel(con, STEPS, segment="device").set_index(["segment", "step_number"])["reached"]
    assert result["mobile"].tolist() == [2, 2, 1, 1]
    assert result["desktop"].tolist() == [2, 1, 1, 0]


def test_filter_by_segment_value_and_customer_type(con: duckdb.DuckDBPyConnection) -> None:
    desktop = funnel(con, STEPS, where=Filter(segment="device", segment_value="desktop"))
    assert desktop["reached"].tolist() == [2, 1, 1, 0]
    new = funnel(con, STEPS, segment="customer_type").set_index(["segment", "step_number"])["reached"]
    assert new["new"].tolist() == [3, 2, 2, 1]
    assert new["returning"].tolist() == [1, 1, 0, 0]


def test_repeated_steps_take_the_earliest_match_after_the_previous_one(
    con: duckdb.DuckDBPyConnection,
) -> None:
    steps = ["web:product", "web:add_to_cart", "web:product", "web:add_to_cart"]
    result = funnel(con, steps)
    # s2 goes product, cart, product, cart; s1 and s4 stop after the first cart; s3 has no cart after product
    assert result["reached"].tolist() == [4, 3, 1, 1]
    assert result["median_seconds"].tolist()[2:] == [60.0, 60.0]


def test_a_step_nobody_reaches_stops_the_funnel(con: duckdb.DuckDBPyConnection) -> None:
    result = funnel(con, ["web:product", "web:nowhere", "web:add_to_cart"], level="journey")
    assert result["reached"].tolist() == [4, 0, 0]
    assert result["units_total"].tolist() == [5] * 3


def test_unknown_segment_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown segment"):
        Filter(segment="device; drop table x", segment_value="x")


def _greedy_reference(sessions: dict[str, tuple[str, int, list[str]]], steps: list[str]) -> list[int]:
    """Units reaching each step, by matching each session's path in Python."""
    reached = [0] * len(steps)
    for _, _, path in sessions.values():
        at = 0
        for k, step in enumerate(steps):
            try:
                at = path.index(step, at) + 1
            except ValueError:
                break
            reached[k] += 1
    return reached


def test_counts_equal_a_plain_greedy_match_on_random_paths() -> None:
    rng = random.Random(7)
    pages = ["web:home", "web:product", "web:add_to_cart", "web:begin_checkout", "web:purchase", "chat:started"]
    sessions = {
        f"s{n}": (rng.choice(["mobile", "desktop"]), rng.randint(1, 3), rng.choices(pages, k=rng.randint(1, 9)))
        for n in range(60)
    }
    con = session_touchpoints(sessions)
    for steps in (STEPS, ["web:product", "web:add_to_cart"] * 3, ["web:home", "web:home", "web:purchase"]):
        result = funnel(con, steps)
        assert result["reached"].tolist() == _greedy_reference(sessions, steps)
        assert result["units_total"].tolist() == [len(sessions)] * len(steps)


@pytest.mark.parametrize("level", ["session", "journey"])
def test_prepared_units_give_each_breakdown_as_funnel_does(con: duckdb.DuckDBPyConnection, level: Level) -> None:
    steps = ["web:product", "web:add_to_cart", "web:product", "web:begin_checkout"]
    for where in (None, Filter(channel="chat"), Filter(segment="device", segment_value="desktop")):
        prepared = prepare_funnel(con, steps, level=level, segments=SEGMENTS, where=where, name="_test_funnel")
        funnel(con, ["web:home"])  # another funnel in between registers other steps
        for segment in (None, *SEGMENTS):
            expected = funnel(con, steps, level=level, segment=segment, where=where)
            pd.testing.assert_frame_equal(funnel_of(con, prepared, segment=segment), expected, check_exact=True)
        prepared.drop(con)
        with pytest.raises(duckdb.CatalogException):
            con.execute("select * from _test_funnel")


def test_prepared_units_refuse_segments_they_do_not_have(con: duckdb.DuckDBPyConnection) -> None:
    prepared = prepare_funnel(con, STEPS, segments=["device"])
    with pytest.raises(ValueError, match="not prepared"):
        funnel_of(con, prepared, segment="customer_type")
    with pytest.raises(ValueError, match="unknown segment"):
        prepare_funnel(con, STEPS, segments=["device; drop table x"])
    with pytest.raises(ValueError, match="at least one step"):
        prepare_funnel(con, [])


@pytest.mark.parametrize("level", ["session", "journey"])
def test_prepared_units_from_the_sankey_units_table_are_those_of_one_pass(
    con: duckdb.DuckDBPyConnection, level: Level
) -> None:
    for column in ("is_conversion", "is_cart", "is_checkout"):
        con.execute(f"alter table session_touchpoints add column {column} boolean default false")
    con.execute("update session_touchpoints set is_conversion = touchpoint = 'web:purchase'")
    with_unit_marts(con)
    rows = sankey.prepare_rows(con, level=level, steps=4, segments=SEGMENTS, name="_test_rows")
    assert rows.units().segments == SEGMENTS
    steps = ["web:product", "web:add_to_cart", "web:product", "web:begin_checkout"]
    from_rows = prepare_funnel(con, steps, level=level, segments=SEGMENTS, name="_from_rows", units=rows.units())
    own = prepare_funnel(con, steps, level=level, segments=SEGMENTS, name="_own")
    for segment in (None, *SEGMENTS):
        expected = funnel(con, steps, level=level, segment=segment)
        pd.testing.assert_frame_equal(funnel_of(con, from_rows, segment=segment), expected, check_exact=True)
        pd.testing.assert_frame_equal(funnel_of(con, own, segment=segment), expected, check_exact=True)
    # s5 has none of the steps: still a unit that entered
    assert funnel_of(con, from_rows)["units_total"].tolist() == [5] * 4
    other = "journey" if level == "session" else "session"
    with pytest.raises(ValueError, match=f"holds {level}s, not {other}s"):
        prepare_funnel(con, steps, level=other, units=rows.units())
    with pytest.raises(ValueError, match="filter it when it is made"):
        prepare_funnel(con, steps, level=level, where=Filter(channel="chat"), units=rows.units())
    device_only = sankey.prepare_rows(con, level=level, steps=4, segments=("device",), name="_device_rows")
    with pytest.raises(ValueError, match="no segment 'customer_type'; it has: device"):
        prepare_funnel(con, steps, level=level, segments=SEGMENTS, units=device_only.units())


@pytest.mark.parametrize("level", ["session", "journey"])
def test_without_filter_or_segment_the_units_are_the_marts_rows(
    con: duckdb.DuckDBPyConnection, level: Level, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = funnel(con, STEPS, level=level)  # no mart: every row grouped
    with_unit_marts(con)
    grouped: list[object] = []
    monkeypatch.setattr(funnel_module, "units_sql", lambda *args, **kwargs: grouped.append(args))
    pd.testing.assert_frame_equal(funnel(con, STEPS, level=level), expected, check_exact=True)
    assert grouped == []
    assert expected["units_total"].tolist() == [5] * 4


def with_unit_marts(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """The sessions and journeys marts beside session_touchpoints (their ids only)."""
    con.execute("create table sessions as select distinct session_id from session_touchpoints")
    con.execute("create table journeys as select distinct journey_id from session_touchpoints")
    return con


@pytest.mark.parametrize("level", ["session", "journey"])
def test_units_are_grouped_by_hashed_ids_only_when_no_two_hashes_are_equal(
    con: duckdb.DuckDBPyConnection, level: Level, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not segments.unit_hashes_are_distinct(con, level), "no mart to check the ids on"
    exact = funnel(con, STEPS, level=level, segment="device")
    exact_prepared = funnel_of(con, prepare_funnel(con, STEPS, level=level, segments=("device",)), segment="device")
    with_unit_marts(con)
    assert segments.unit_hashes_are_distinct(con, level)
    grouped: list[bool] = []
    units_sql = segments.units_sql

    def recording_units_sql(*args: object, hashed: bool = False, **kwargs: object) -> tuple[str, list[object]]:
        grouped.append(hashed)
        return units_sql(*args, hashed=hashed, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(funnel_module, "units_sql", recording_units_sql)
    hashed = funnel(con, STEPS, level=level, segment="device")
    hashed_prepared = funnel_of(con, prepare_funnel(con, STEPS, level=level, segments=("device",)), segment="device")
    assert grouped == [True, True]
    pd.testing.assert_frame_equal(hashed, exact)
    pd.testing.assert_frame_equal(hashed_prepared, exact_prepared)
    # ids are two or three characters long here: with this "hash" units share keys
    monkeypatch.setattr(segments, "UNIT_HASH", "length({unit})")
    assert not segments.unit_hashes_are_distinct(con, level)
    pd.testing.assert_frame_equal(funnel(con, STEPS, level=level, segment="device"), exact)
    assert grouped == [True, True, False]

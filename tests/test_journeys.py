"""Journeys: sessions grouped until a conversion or a long inactivity; the build entry point."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import duckdb

from journey_mining.engines import DuckDBEngine
from journey_mining.journeys import build_journeys
from journey_mining.sqlmodels import discover
from tests.conftest import insert_touchpoints, make_config

MODEL_SQL = {model.name: re.sub(r"--[^\n]*", "", model.sql) for model in discover()}  # without comments

T0 = datetime(2026, 6, 1, 8)


def at(hours: float, touchpoint: str, customer: str = "c1") -> dict[str, Any]:
    return {"ts": T0 + timedelta(hours=hours), "touchpoint": touchpoint, "anonymous_id": customer}


def journeys(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return con.execute(
        "select journey_number, sessions, touchpoint_sequence, converted, conversion_touchpoint, "
        "split_reason, end_reason from journeys order by customer_key, journey_number"
    ).fetchall()


def test_journey_ends_with_the_session_that_converts(warehouse, tmp_path) -> None:
    insert_touchpoints(
        warehouse,
        [
            at(0, "web:product"),
            at(5, "web:add_to_cart"),
            at(5.1, "web:purchase"),
            at(5.2, "web:home"),  # same session as the purchase: still this journey
            at(30, "web:product"),
        ],
    )
    build_journeys(warehouse, make_config(tmp_path))
    assert journeys(warehouse) == [
        (
            1,
            2,
            "web:product > web:add_to_cart > web:purchase > web:home",
            True,
            "web:purchase",
            "first",
            "conversion",
        ),
        (2, 1, "web:product", False, None, "conversion", "open"),
    ]
    conversion = warehouse.execute("select conversion_ts from journeys where converted").fetchall()
    assert conversion == [(T0 + timedelta(hours=5.1),)]


def test_journey_ends_after_inactivity_strictly_longer_than_the_limit(warehouse, tmp_path) -> None:
    seven_days = 7 * 24
    insert_touchpoints(
        warehouse,
        [
            at(0, "web:home"),
            at(seven_days, "web:home"),  # exactly 7 days after: same journey
            at(2 * seven_days + 0.5, "web:home"),  # more than 7 days: a new one
        ],
    )
    build_journeys(warehouse, make_config(tmp_path))
    assert journeys(warehouse) == [
        (1, 2, "web:home > web:home", False, None, "first", "inactivity"),
        (2, 1, "web:home", False, None, "inactivity", "open"),
    ]


def test_inactivity_is_configurable(warehouse, tmp_path) -> None:
    insert_touchpoints(warehouse, [at(0, "web:home"), at(30, "web:home")])
    build_journeys(warehouse, make_config(tmp_path, journey={"inactivity_days": 1}))
    assert [row[5] for row in journeys(warehouse)] == ["first", "inactivity"]


def test_conversion_touchpoints_are_configurable(warehouse, tmp_path) -> None:
    insert_touchpoints(warehouse, [at(0, "chat:resolved"), at(2, "web:home")])
    build_journeys(warehouse, make_config(tmp_path, conversion_touchpoints=["chat:resolved"]))
    assert [row[3:5] for row in journeys(warehouse)] == [(True, "chat:resolved"), (False, None)]


def test_journey_columns_and_channels_crossed(warehouse, tmp_path) -> None:
    rows = [
        {"ts": T0, "touchpoint": "web:help", "anonymous_id": "c1", "user_id_hash": "u1"},
        {"ts": T0 + timedelta(hours=2), "touchpoint": "chat:started", "user_id_hash": "u1"},
        {"ts": T0 + timedelta(hours=26), "touchpoint": "call:order_placed", "user_id_hash": "u1"},
    ]
    insert_touchpoints(warehouse, rows)
    build_journeys(warehouse, make_config(tmp_path))
    row = warehouse.execute(
        "select journey_id, customer_key, journey_start, journey_end, duration_seconds, sessions, "
        "touchpoints, channels, channel_count, first_touchpoint, last_touchpoint from journeys"
    ).fetchall()
    key = row[0][1]
    assert row == [
        (
            f"{key}-j1",
            key,
            T0,
            T0 + timedelta(hours=26),
            26 * 3600.0,
            3,
            3,
            "call,chat,web",
            3,
            "web:help",
            "call:order_placed",
        )
    ]
    in_sessions = warehouse.execute("select distinct journey_id from sessions").fetchall()
    assert in_sessions == [(f"{key}-j1",)]


def test_customers_have_their_own_journeys(warehouse, tmp_path) -> None:
    insert_touchpoints(
        warehouse, [at(0, "web:home", "a"), at(0, "web:purchase", "b"), at(1, "web:home", "b")]
    )
    build_journeys(warehouse, make_config(tmp_path))
    assert warehouse.execute("select count(*) from journeys").fetchall() == [(3,)]


def test_build_returns_row_counts_for_every_table(warehouse, tmp_path) -> None:
    insert_touchpoints(warehouse, [at(0, "web:home"), at(0.1, "web:product"), at(50, "web:home")])
    counts = build_journeys(warehouse, make_config(tmp_path))
    assert counts["sessions"] == 2
    assert counts["journeys"] == 1
    assert counts["session_touchpoints"] == 3
    assert counts["cfg_session"] == 1
    for table in (
        "identity_map",
        "identity_links",
        "identity_groups",
        "identity_super_nodes",
        "session_transitions",
        "journey_transitions",
        "touchpoint_stats",
    ):
        assert table in counts
    # the connection is left usable: no half-read result holds it
    assert warehouse.sql("select count(*) from sessions").fetchall() == [(2,)]


def test_rebuild_is_idempotent(warehouse, tmp_path) -> None:
    insert_touchpoints(warehouse, [at(0, "web:home"), at(0.1, "web:purchase"), at(50, "web:home")])
    config = make_config(tmp_path)
    build_journeys(warehouse, config)
    first = warehouse.execute("select * from journeys order by journey_id").fetchall()
    build_journeys(warehouse, config)
    assert warehouse.execute("select * from journeys order by journey_id").fetchall() == first


def test_intermediate_models_are_built_as_their_headers_say_and_released_once_read(warehouse, tmp_path, monkeypatch) -> None:
    insert_touchpoints(warehouse, [at(0, "web:home"), at(0.1, "web:purchase"), at(50, "web:home")])
    # an older build stored its intermediate tables persistently: they must not linger, stale
    warehouse.execute("create table int_touchpoints__sessionized as select 1 as stale")
    built: dict[str, bool] = {}
    released: list[str] = []
    materialise, release = DuckDBEngine.materialise, DuckDBEngine.release

    def recording_materialise(self, table: str, sql: str, *, temporary: bool = False, **hints: Any) -> int:
        built[table] = temporary
        return materialise(self, table, sql, temporary=temporary, **hints)

    def recording_release(self, table: str) -> None:
        # released only after every model reading it was built
        readers = [name for name in MODEL_SQL if name not in built and table in MODEL_SQL[name]]
        assert not readers, f"{table} released before {readers}"
        released.append(table)
        release(self, table)

    monkeypatch.setattr(DuckDBEngine, "materialise", recording_materialise)
    monkeypatch.setattr(DuckDBEngine, "release", recording_release)
    counts = build_journeys(warehouse, make_config(tmp_path))
    intermediate = {name for name in counts if name.startswith("int_") and name in built}
    assert {"int_touchpoints__stitched", "int_touchpoints__sessionized"} <= intermediate
    # temp tables, but for those whose header asks to be stored (re-read many times)
    stored_ones = {name for name, temporary in built.items() if name in intermediate and not temporary}
    assert stored_ones == {m.name for m in discover() if m.is_intermediate and not m.is_temporary}
    assert "int_touchpoints__stitched" not in stored_ones
    assert intermediate <= set(released)
    stored = warehouse.execute("select table_name, temporary from duckdb_tables()").fetchall()
    assert not {name for name, _ in stored} & intermediate, "no intermediate is left, stale or spent"
    persistent = {name for name, temporary in stored if not temporary}
    assert {"sessions", "journeys", "session_touchpoints", "session_transitions"} <= persistent


def test_a_persistent_table_replaces_a_temporary_one_of_the_same_name(warehouse) -> None:
    engine = DuckDBEngine(warehouse)
    assert engine.materialise("t", "select 1 as a", temporary=True) == 1
    assert engine.materialise("t", "select 2 as a union all select 3") == 2
    assert warehouse.execute(
        "select table_name, temporary from duckdb_tables() where table_name = 't'"
    ).fetchall() == [("t", False)]
    assert engine.materialise("t", "select 4 as a", temporary=True) == 1
    assert warehouse.execute(
        "select table_name, temporary from duckdb_tables() where table_name = 't'"
    ).fetchall() == [("t", True)]
    assert warehouse.execute("select a from t").fetchall() == [(4,)]

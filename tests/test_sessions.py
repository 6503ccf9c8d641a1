"""Sessions: timeout (strictly greater), tie order, UTC order, and every split option."""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from journey_mining.journeys import build_journeys
from journey_mining.warehouse import connect
from tests.conftest import insert_touchpoints, make_config

T0 = datetime(2026, 3, 2, 9, 15, 0, 123457)  # microseconds, so float rounding would show


def build(con: duckdb.DuckDBPyConnection, tmp_path: Path, **sections: Any) -> dict[str, int]:
    return build_journeys(con, make_config(tmp_path, **sections))


def sessions(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    """(customer-local session number, sequence, split_reason) in order."""
    return con.execute(
        "select session_number, touchpoint_sequence, split_reason from sessions "
        "order by customer_key, session_number"
    ).fetchall()


def web(minutes: float, touchpoint: str = "web:product", **extra: Any) -> dict[str, Any]:
    return {"ts": T0 + timedelta(minutes=minutes), "touchpoint": touchpoint, "anonymous_id": "c1", **extra}


def test_gap_of_exactly_the_timeout_stays_in_the_session(warehouse, tmp_path) -> None:
    insert_touchpoints(warehouse, [web(0, "web:home"), web(30, "web:cart")])
    build(warehouse, tmp_path)
    assert sessions(warehouse) == [(1, "web:home > web:cart", "first")]


def test_one_microsecond_more_than_the_timeout_starts_a_session(warehouse, tmp_path) -> None:
    later = {"ts": T0 + timedelta(minutes=30, microseconds=1), "touchpoint": "web:cart", "anonymous_id": "c1"}
    insert_touchpoints(warehouse, [web(0, "web:home"), later])
    build(warehouse, tmp_path)
    assert sessions(warehouse) == [(1, "web:home", "first"), (2, "web:cart", "timeout")]


def test_timeout_is_configurable(warehouse, tmp_path) -> None:
    insert_touchpoints(warehouse, [web(0, "web:home"), web(11, "web:cart")])
    build(warehouse, tmp_path, session={"timeout_minutes": 10})
    assert [row[2] for row in sessions(warehouse)] == ["first", "timeout"]


def test_equal_timestamps_are_ordered_by_ingest_seq(warehouse, tmp_path) -> None:
    insert_touchpoints(
        warehouse,
        [
            web(0, "web:cart", ingest_seq=7),
            web(0, "web:home", ingest_seq=3),
            web(1, "web:checkout", ingest_seq=5),
        ],
    )
    build(warehouse, tmp_path)
    assert sessions(warehouse) == [(1, "web:home > web:cart > web:checkout", "first")]
    steps = warehouse.execute("select step, touchpoint from session_touchpoints order by step").fetchall()
    assert steps == [(1, "web:home"), (2, "web:cart"), (3, "web:checkout")]


def test_shuffled_input_gives_the_same_sessions(tmp_path) -> None:
    rng = random.Random(7)
    minutes = 0.0
    rows = []
    for i in range(300):
        minutes += rng.choice([1, 5, 29, 31, 90, 600])
        rows.append(
            {
                "ts": T0 + timedelta(minutes=minutes, microseconds=i),
                "touchpoint": rng.choice(["web:home", "web:product", "chat:message", "call:inbound"]),
                "anonymous_id": f"c{i % 4}",
            }
        )
    results = []
    for attempt, ordered in enumerate([rows, rng.sample(rows, len(rows))]):
        con = connect(tmp_path / f"w{attempt}.duckdb")
        insert_touchpoints(con, ordered)
        build(con, tmp_path)
        results.append(
            con.execute(
                "select session_id, session_start, session_end, touchpoints, touchpoint_sequence, "
                "split_reason, journey_id from sessions order by session_id"
            ).fetchall()
        )
        con.close()
    assert results[0] == results[1]
    assert len(results[0]) > 10


def test_order_uses_utc_not_local_wall_clock(warehouse, tmp_path) -> None:
    new_york = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("America/New_York"))  # 14:00 UTC
    berlin = datetime(2026, 3, 2, 14, 30, tzinfo=ZoneInfo("Europe/Berlin"))  # 13:30 UTC
    insert_touchpoints(
        warehouse,
        [
            {"ts": new_york, "touchpoint": "call:inbound", "user_id_hash": "u1"},
            {"ts": berlin, "touchpoint": "chat:started", "user_id_hash": "u1"},
        ],
    )
    build(warehouse, tmp_path)
    assert sessions(warehouse) == [(1, "chat:started > call:inbound", "first")]
    duration = warehouse.execute("select duration_seconds from sessions").fetchall()
    assert duration == [(1800.0,)]


def test_per_channel_timeout_uses_the_later_touchpoints_channel(warehouse, tmp_path) -> None:
    insert_touchpoints(
        warehouse,
        [
            web(0, "web:home"),
            {"ts": T0 + timedelta(minutes=90), "touchpoint": "chat:started", "anonymous_id": "c1"},
            {"ts": T0 + timedelta(minutes=200), "touchpoint": "chat:message", "anonymous_id": "c1"},
            web(290, "web:home"),
        ],
    )
    build(warehouse, tmp_path, session={"channel_timeout_minutes": {"chat": 120}})
    assert sessions(warehouse) == [
        (1, "web:home > chat:started > chat:message", "first"),
        (2, "web:home", "timeout"),
    ]


def test_max_length_cuts_sessions_into_windows_from_their_start(warehouse, tmp_path) -> None:
    insert_touchpoints(warehouse, [web(m, f"web:p{m}") for m in range(0, 160, 20)])
    build(warehouse, tmp_path, session={"max_length_minutes": 60})
    assert sessions(warehouse) == [
        (1, "web:p0 > web:p20 > web:p40 > web:p60", "first"),
        (2, "web:p80 > web:p100 > web:p120", "max_length"),
        (3, "web:p140", "max_length"),
    ]
    steps = warehouse.execute(
        "select session_number, step, next_touchpoint from session_touchpoints "
        "where session_number = 2 order by step"
    ).fetchall()
    assert steps == [(2, 1, "web:p100"), (2, 2, "web:p120"), (2, 3, None)]


def test_max_length_restarts_after_a_timeout(warehouse, tmp_path) -> None:
    minutes = [0, 20, 40, 70, 120, 140]  # 70 -> 120 is a timeout: a fresh window starts at 120
    insert_touchpoints(warehouse, [web(m, f"web:p{m}") for m in minutes])
    build(warehouse, tmp_path, session={"max_length_minutes": 60})
    assert sessions(warehouse) == [
        (1, "web:p0 > web:p20 > web:p40", "first"),
        (2, "web:p70", "max_length"),
        (3, "web:p120 > web:p140", "timeout"),
    ]


def test_sessions_span_channels_by_default(warehouse, tmp_path) -> None:
    insert_touchpoints(
        warehouse,
        [
            web(0, "web:help"),
            {"ts": T0 + timedelta(minutes=2), "touchpoint": "chat:started", "anonymous_id": "c1"},
            web(4),
        ],
    )
    build(warehouse, tmp_path)
    row = warehouse.execute("select channels, channel_count, touchpoints from sessions").fetchall()
    assert row == [("chat,web", 2, 3)]  # distinct channels, alphabetically


def test_split_by_channel(warehouse, tmp_path) -> None:
    insert_touchpoints(
        warehouse,
        [
            web(0, "web:help"),
            {"ts": T0 + timedelta(minutes=2), "touchpoint": "chat:started", "anonymous_id": "c1"},
            web(4),
        ],
    )
    build(warehouse, tmp_path, session={"split_by_channel": True})
    assert sessions(warehouse) == [
        (1, "web:help", "first"),
        (2, "chat:started", "channel"),
        (3, "web:product", "channel"),
    ]


def test_source_session_id_splits_when_enabled(warehouse, tmp_path) -> None:
    rows = [
        web(0, "web:home", source_session_id="s1"),
        web(1, "web:product", source_session_id="s1"),
        web(2, "web:home", source_session_id="s2"),
    ]
    insert_touchpoints(warehouse, rows)
    build(warehouse, tmp_path)
    assert len(sessions(warehouse)) == 1
    build(warehouse, tmp_path, session={"use_source_session_id": True})
    assert sessions(warehouse) == [
        (1, "web:home > web:product", "first"),
        (2, "web:home", "source_session"),
    ]


def test_excluded_touchpoints_are_not_steps_and_do_not_bridge_gaps(warehouse, tmp_path) -> None:
    insert_touchpoints(
        warehouse,
        [web(0, "web:home"), web(20, "web:scroll"), web(40, "web:user_engagement"), web(50, "web:cart")],
    )
    build(warehouse, tmp_path)
    assert sessions(warehouse) == [(1, "web:home", "first"), (2, "web:cart", "timeout")]


def test_session_columns(warehouse, tmp_path) -> None:
    insert_touchpoints(
        warehouse,
        [
            web(0, "web:product"),
            web(1, "web:add_to_cart"),
            web(2, "web:begin_checkout"),
            web(3, "web:purchase"),
            web(4.5, "web:home"),
        ],
    )
    build(warehouse, tmp_path)
    row = warehouse.execute(
        "select session_id, journey_id, customer_key, duration_seconds, touchpoints, channels, converted, "
        "conversion_touchpoint, reached_cart, reached_checkout, first_touchpoint, last_touchpoint "
        "from sessions"
    ).fetchall()
    key = row[0][2]
    assert row == [
        (
            f"{key}-s1",
            f"{key}-j1",
            key,
            270.0,
            5,
            "web",
            True,
            "web:purchase",
            True,
            True,
            "web:product",
            "web:home",
        )
    ]


def test_rows_without_identifiers_group_by_source_session(warehouse, tmp_path) -> None:
    rows = [
        {"ts": T0, "touchpoint": "chat:started", "source_session_id": "conv-1"},
        {"ts": T0 + timedelta(minutes=1), "touchpoint": "chat:message", "source_session_id": "conv-1"},
        {"ts": T0 + timedelta(minutes=2), "touchpoint": "call:inbound"},
    ]
    insert_touchpoints(warehouse, rows)
    build(warehouse, tmp_path)
    assert sorted(row[1] for row in sessions(warehouse)) == ["call:inbound", "chat:started > chat:message"]


def test_unidentified_customers_are_kept_apart_by_source(warehouse, tmp_path) -> None:
    rows = [
        {"ts": T0, "touchpoint": "chat:started", "source": "intercom", "source_session_id": "1"},
        {
            "ts": T0 + timedelta(minutes=1),
            "touchpoint": "call:inbound",
            "source": "connect",
            "source_session_id": "1",
        },
        {
            "ts": T0 + timedelta(minutes=2),
            "touchpoint": "chat:message",
            "source": "intercom",
            "source_session_id": "1",
        },
    ]
    insert_touchpoints(warehouse, rows)
    build(warehouse, tmp_path)
    got = warehouse.execute("select customer_key, touchpoint_sequence from sessions order by 2").fetchall()
    assert [row[1] for row in got] == ["call:inbound", "chat:started > chat:message"]
    assert got[1][0] == hashlib.md5(b"source_session:intercom:1").hexdigest()

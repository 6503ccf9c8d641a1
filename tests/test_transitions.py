"""Transition tables, touchpoint statistics and the session_touchpoints mart, exactly."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey_mining.journeys import build_journeys
from journey_mining.sqlmodels import discover
from tests.conftest import insert_touchpoints, make_config

T0 = datetime(2026, 7, 1, 10)


def steps(customer: str, start_hours: float, *pairs: tuple[float, str]) -> list[dict[str, Any]]:
    """Touchpoints at start + seconds for one customer."""
    start = T0 + timedelta(hours=start_hours)
    return [
        {"ts": start + timedelta(seconds=seconds), "touchpoint": touchpoint, "anonymous_id": customer}
        for seconds, touchpoint in pairs
    ]


def two_customers() -> list[dict[str, Any]]:
    return [
        # a: A > B > B > C, then (next day, same journey) A
        *steps("a", 0, (0, "web:a"), (10, "web:b"), (40, "web:b"), (100, "web:c")),
        *steps("a", 24, (0, "web:a")),
        # b: A > C, then A > C again two hours later
        *steps("b", 0, (0, "web:a"), (20, "web:c")),
        *steps("b", 2, (0, "web:a"), (30, "web:c")),
    ]


def transitions(con: duckdb.DuckDBPyConnection, table: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    rows = con.execute(
        f"select from_touchpoint, to_touchpoint, transitions, customers, median_seconds, p90_seconds "
        f"from {table}"
    ).fetchall()
    return {(row[0], row[1]): row[2:] for row in rows}


def test_session_transitions_with_start_and_exit(warehouse, tmp_path) -> None:
    insert_touchpoints(warehouse, two_customers())
    build_journeys(warehouse, make_config(tmp_path))
    assert transitions(warehouse, "session_transitions") == {
        ("(start)", "web:a"): (4, 2, None, None),
        ("web:a", "web:b"): (1, 1, 10.0, 10.0),
        ("web:b", "web:b"): (1, 1, 30.0, 30.0),
        ("web:b", "web:c"): (1, 1, 60.0, 60.0),
        ("web:c", "(exit)"): (3, 2, None, None),
        ("web:a", "web:c"): (2, 1, 25.0, pytest.approx(29.0)),
        ("web:a", "(exit)"): (1, 1, None, None),
    }


def test_collapse_repeats_counts_a_run_once_timed_from_its_last_step(warehouse, tmp_path) -> None:
    insert_touchpoints(warehouse, two_customers())
    build_journeys(warehouse, make_config(tmp_path, session={"collapse_repeats": True}))
    table = transitions(warehouse, "session_transitions")
    assert ("web:b", "web:b") not in table
    assert table[("web:a", "web:b")] == (1, 1, 10.0, 10.0)
    assert table[("web:b", "web:c")] == (1, 1, 60.0, 60.0)


def test_journey_transitions_cross_session_boundaries(warehouse, tmp_path) -> None:
    insert_touchpoints(warehouse, two_customers())
    build_journeys(warehouse, make_config(tmp_path))
    table = transitions(warehouse, "journey_transitions")
    assert table[("(start)", "web:a")] == (2, 2, None, None)
    gaps = (2 * 3600.0 - 20, 24 * 3600.0 - 100)  # b: two hours later; a: the next day
    median, p90 = sum(gaps) / 2, gaps[0] + 0.9 * (gaps[1] - gaps[0])
    assert table[("web:c", "web:a")] == (2, 2, median, pytest.approx(p90))
    assert table[("web:c", "(exit)")] == (1, 1, None, None)
    assert table[("web:a", "(exit)")] == (1, 1, None, None)
    assert sum(row[0] for key, row in table.items() if key[0] == "(start)") == 2


def test_journey_transitions_restart_after_a_conversion(warehouse, tmp_path) -> None:
    rows = steps("a", 0, (0, "web:a"), (10, "web:purchase")) + steps("a", 3, (0, "web:a"))
    insert_touchpoints(warehouse, rows)
    build_journeys(warehouse, make_config(tmp_path))
    table = transitions(warehouse, "journey_transitions")
    assert table[("web:purchase", "(exit)")][0] == 1
    assert table[("(start)", "web:a")][0] == 2


def test_touchpoint_stats(warehouse, tmp_path) -> None:
    insert_touchpoints(warehouse, two_customers())
    build_journeys(warehouse, make_config(tmp_path))
    rows = warehouse.execute(
        "select touchpoint, occurrences, sessions, customers, entries, exits, exit_rate "
        "from touchpoint_stats order by touchpoint"
    ).fetchall()
    assert rows == [
        ("web:a", 4, 4, 2, 4, 1, 0.25),
        ("web:b", 2, 1, 1, 0, 0, 0.0),
        ("web:c", 3, 3, 2, 0, 3, 1.0),
    ]


def test_session_touchpoints_mart(warehouse, tmp_path) -> None:
    rows = [
        {
            "ts": T0,
            "touchpoint": "web:help",
            "anonymous_id": "c",
            "user_id_hash": "u",
            "page": "/help/returns",
            "device": "mobile",
        },
        {
            "ts": T0 + timedelta(seconds=90),
            "touchpoint": "chat:started",
            "user_id_hash": "u",
            "wait_seconds": 45.0,
            "topic": "returns",
        },
        {
            "ts": T0 + timedelta(seconds=400),
            "touchpoint": "chat:closed",
            "user_id_hash": "u",
            "outcome": "resolved",
            "satisfaction": 2.0,
        },
    ]
    insert_touchpoints(warehouse, rows)
    build_journeys(warehouse, make_config(tmp_path))
    got = warehouse.execute(
        "select step, journey_step, touchpoint, channel, device, page, wait_seconds, outcome, topic, "
        "satisfaction, next_touchpoint, seconds_to_next from session_touchpoints order by step"
    ).fetchall()
    assert got == [
        (1, 1, "web:help", "web", "mobile", "/help/returns", None, None, None, None, "chat:started", 90.0),
        (2, 2, "chat:started", "chat", None, None, 45.0, None, "returns", None, "chat:closed", 310.0),
        (3, 3, "chat:closed", "chat", None, None, None, "resolved", None, 2.0, None, None),
    ]
    ids = warehouse.execute(
        "select distinct session_id, journey_id, customer_key from session_touchpoints"
    ).fetchall()
    assert len(ids) == 1


# --- the transition models' counts and quantiles, against a plain sort ---------------------------

# the model finds each quantile's bucket of seconds from a histogram: values on both sides
# of every bucket edge (0.1 s below 1000 s, 10 s below 100000 s, 1000 s above), and ties
seconds_values = st.one_of(
    st.sampled_from(
        [
            0.0,
            0.1,
            0.099999,
            999.9,
            999.999999,
            1000.0,
            1000.000001,
            99999.999999,
            100000.0,
            100000.000001,
            2_591_999.5,
            2_592_000.0,
        ]
    ),
    st.floats(min_value=0, max_value=3e6, allow_nan=False).map(lambda x: round(x, 6)),
    st.integers(min_value=0, max_value=3).map(float),
)
# (from, to, customer, seconds, in_session); a timed move is always a journey move
moves_lists = st.lists(
    st.tuples(
        st.sampled_from(["web:a", "web:b"]),
        st.sampled_from(["web:b", "chat:c"]),
        st.integers(min_value=1, max_value=4),
        st.one_of(st.none(), seconds_values),
        st.booleans(),
    ),
    min_size=1,
    max_size=120,
)


def plain_quantile(values: list[float], p: float) -> float | None:
    """Linear interpolation between the closest ranks (quantile_cont, numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * p
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def in_journey(move: tuple[str, str, int, float | None, bool]) -> bool:
    """The generated moves' journey flag: a session move or a timed move always is one; the
    others (a session's '(start)' or '(exit)') are for customers with even numbers."""
    _, _, customer, seconds, in_session = move
    return in_session or seconds is not None or customer % 2 == 0


def expected_transitions(moves: list[tuple[str, str, int, float | None, bool]]) -> dict[tuple, tuple]:
    expected: dict[tuple, tuple] = {}
    for unit, member in (("session", lambda m: m[4]), ("journey", in_journey)):
        for edge in sorted({(m[0], m[1]) for m in moves}):
            unit_moves = [m for m in moves if (m[0], m[1]) == edge and member(m)]
            if not unit_moves:
                continue
            timed = [m[3] for m in unit_moves if m[3] is not None]
            expected[(unit, *edge)] = (
                len(unit_moves),
                len({m[2] for m in unit_moves}),
                plain_quantile(timed, 0.5),
                plain_quantile(timed, 0.9),
            )
    return expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(moves=moves_lists)
def test_transition_quantiles_are_exact(moves: list[tuple[str, str, int, float | None, bool]]) -> None:
    """Counts, customers, medians and p90s equal a sort of each edge's moves."""
    models = {m.name: m for m in discover(("intermediate",))}
    con = duckdb.connect()
    # the moves hold touchpoint codes: a name's 0-based position in name order
    names = sorted({name for move in moves for name in move[:2]})
    con.execute("create table int_touchpoint_names__coded (touchpoint varchar, code integer)")
    con.executemany(
        "insert into int_touchpoint_names__coded values (?, ?)",
        [(name, code) for code, name in enumerate(names)],
    )
    con.execute(
        "create table int_transition_moves__listed (from_code integer, to_code integer, "
        "customer_number bigint, seconds double, in_session boolean, in_journey boolean)"
    )
    con.executemany(
        "insert into int_transition_moves__listed values (?, ?, ?, ?, ?, ?)",
        [[names.index(move[0]), names.index(move[1]), *move[2:], in_journey(move)] for move in moves],
    )
    con.execute(
        f"create table int_transition_edges__counted as {models['int_transition_edges__counted'].sql}"
    )
    rows = con.execute(
        "select unit, from_touchpoint, to_touchpoint, transitions, customers, median_seconds, p90_seconds "
        f"from ({models['int_transitions__aggregated'].sql})"
    ).fetchall()
    expected = expected_transitions(moves)
    got = {(unit, f, t): (n, customers, median, p90) for unit, f, t, n, customers, median, p90 in rows}
    assert got.keys() == expected.keys()
    for key, (n, customers, median, p90) in expected.items():
        assert got[key][:2] == (n, customers), key
        for found, want in zip(got[key][2:], (median, p90), strict=True):
            assert (found is None) == (want is None), key
            if want is not None:
                assert found == pytest.approx(want, rel=0, abs=1e-7), key

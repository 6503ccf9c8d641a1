"""Properties that hold for any touchpoint log, checked on random ones."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey_mining.journeys import build_journeys
from journey_mining.warehouse import connect
from tests.conftest import insert_touchpoints, make_config

T0 = datetime(2026, 1, 1)
TOUCHPOINTS = ["web:home", "web:product", "web:purchase", "web:scroll", "chat:message", "call:inbound"]
EXCLUDED = {"web:scroll"}

events = st.lists(
    st.fixed_dictionaries(
        {
            "customer": st.sampled_from(["a", "b", "c", None]),  # None: no identifier at all
            "minutes": st.integers(min_value=0, max_value=60 * 24 * 20),
            "touchpoint": st.sampled_from(TOUCHPOINTS),
            "session": st.sampled_from([None, "s1", "s2"]),
        }
    ),
    min_size=1,
    max_size=40,
)
options = st.fixed_dictionaries(
    {
        "collapse_repeats": st.booleans(),
        "split_by_channel": st.booleans(),
        "use_source_session_id": st.booleans(),
        "max_length_minutes": st.sampled_from([None, 20, 240]),
        "channel_timeout_minutes": st.sampled_from([{}, {"chat": 5}, {"call": 600}]),
    }
)


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchall()[0][0] or 0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log=events, session=options)
def test_transition_tables_balance(log: list[dict], session: dict) -> None:
    con = connect(":memory:", memory_limit="512MB", threads=1)
    try:
        rows = [
            {
                "ts": T0 + timedelta(minutes=e["minutes"]),
                "touchpoint": e["touchpoint"],
                "anonymous_id": e["customer"],
                "source_session_id": e["session"],
            }
            for e in log
        ]
        insert_touchpoints(con, rows)
        config = make_config(Path(), session={**session, "exclude_touchpoints": sorted(EXCLUDED)})
        build_journeys(con, config)
        steps = sum(1 for e in log if e["touchpoint"] not in EXCLUDED)
        sessions = scalar(con, "select count(*) from sessions")
        journeys = scalar(con, "select count(*) from journeys")

        assert scalar(con, "select sum(touchpoints) from sessions") == steps
        assert scalar(con, "select sum(touchpoints) from journeys") == steps
        assert scalar(con, "select sum(sessions) from journeys") == sessions
        assert scalar(con, "select count(distinct journey_id) from sessions") == journeys
        assert (
            scalar(con, "select count(*) from journeys where converted and end_reason <> 'conversion'") == 0
        )
        assert scalar(con, "select count(*) from session_touchpoints") == steps
        for table, units in (("session_transitions", sessions), ("journey_transitions", journeys)):
            out_of_start = scalar(
                con, f"select sum(transitions) from {table} where from_touchpoint = '(start)'"
            )
            into_exit = scalar(con, f"select sum(transitions) from {table} where to_touchpoint = '(exit)'")
            assert out_of_start == units == into_exit

        # per touchpoint, transitions out = occurrences (runs of one touchpoint when collapsing)
        nxt = "next_touchpoint"
        counted = (
            f"count(*) filter (where {nxt} is null or {nxt} <> touchpoint)"
            if session["collapse_repeats"]
            else "count(*)"
        )
        mismatches = con.execute(
            f"""
            with occurrences as (
                select touchpoint, {counted} as n from session_touchpoints group by touchpoint
            ),
            outgoing as (
                select from_touchpoint as touchpoint, sum(transitions) as n
                from session_transitions where from_touchpoint <> '(start)' group by 1
            )
            select * from occurrences full join outgoing using (touchpoint)
            where occurrences.n is distinct from outgoing.n
            """
        ).fetchall()
        assert mismatches == []
        assert scalar(con, "select sum(occurrences) from touchpoint_stats") == steps
        assert scalar(con, "select sum(exits) from touchpoint_stats") == sessions
        # touchpoint_stats, counted on the sessionized steps, is what its columns mean on the mart
        meaning = """select touchpoint, count(*), count(distinct session_id), count(distinct customer_key),
                count(*) filter (where step = 1), count(*) filter (where next_touchpoint is null),
                cast(count(*) filter (where next_touchpoint is null) as double) / count(*)
            from session_touchpoints group by touchpoint"""
        stored = "select touchpoint, occurrences, sessions, customers, entries, exits, exit_rate from touchpoint_stats"
        differences = con.execute(
            f"({meaning} except all {stored}) union all ({stored} except all {meaning})"
        ).fetchall()
        assert differences == []
        # every step carries its session's ids (formed in two models), and every session has steps
        ids = "select distinct session_id, journey_id, customer_key from {}"
        assert (
            con.execute(
                f"({ids.format('session_touchpoints')} except {ids.format('sessions')}) "
                f"union all ({ids.format('sessions')} except {ids.format('session_touchpoints')})"
            ).fetchall()
            == []
        )
        # steps are numbered 1..n in every session and sessions never overlap within a customer
        assert (
            scalar(
                con,
                "select count(*) from sessions s join (select session_id, max(step) "
                "as n, count(distinct step) as d from session_touchpoints group by 1) t "
                "using (session_id) where t.n <> s.touchpoints or t.d <> s.touchpoints",
            )
            == 0
        )
        assert (
            scalar(
                con,
                """
            select count(*) from (
                select session_start, lag(session_end) over (
                    partition by customer_key order by session_number) as previous_end
                from sessions)
            where session_start < previous_end""",
            )
            == 0
        )
    finally:
        con.close()

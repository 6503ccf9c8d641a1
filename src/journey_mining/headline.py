"""The handful of numbers a stakeholder reads first, computed from the marts."""

from __future__ import annotations

from typing import Any

import duckdb

from journey_mining.warehouse import table_exists

HEADLINE_SQL = """
with s as (
    select
        count(distinct customer_key) as customers,
        count(*) as sessions,
        count(*) filter (where reached_cart) as cart_sessions,
        count(*) filter (where reached_cart and not converted) as cart_sessions_unconverted,
        min(session_start) as period_start,
        max(session_end) as period_end
    from sessions
),
j as (
    select count(*) as journeys, count(*) filter (where converted) as converted_journeys from journeys
),
w as (
    select median(wait_seconds) as median_call_wait_seconds
    from session_touchpoints where touchpoint = 'call:queued' and wait_seconds is not null
)
select * from s cross join j cross join w
"""


def headline_numbers(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Customers, sessions, journeys, conversion, cart abandonment, escalation, call wait."""
    cursor = con.execute(HEADLINE_SQL)
    names = [d[0] for d in cursor.description]
    row = dict(zip(names, cursor.fetchone() or (), strict=True))
    journeys = row["journeys"] or 0
    carts = row["cart_sessions"] or 0
    numbers: dict[str, Any] = {
        "customers": int(row["customers"] or 0),
        "sessions": int(row["sessions"] or 0),
        "journeys": int(journeys),
        "conversion_rate": (row["converted_journeys"] / journeys) if journeys else None,
        "cart_sessions": int(carts),
        "cart_abandonment_rate": (row["cart_sessions_unconverted"] / carts) if carts else None,
        "median_call_wait_seconds": row["median_call_wait_seconds"],
        "period_start": str(row["period_start"]) if row["period_start"] else None,
        "period_end": str(row["period_end"]) if row["period_end"] else None,
    }
    numbers["escalation_rate"], numbers["help_visits"] = _escalation(con)
    return numbers


def _escalation(con: duckdb.DuckDBPyConnection) -> tuple[float | None, int]:
    """Share of help-page visits followed by chat or call (from the friction table)."""
    if not table_exists(con, "friction"):
        return None, 0
    row = con.execute(
        "select sum(affected), sum(base) from friction where kind = 'escalation' and segment = 'all'"
    ).fetchone()
    if not row or not row[1]:
        return None, 0
    return float(row[0]) / float(row[1]), int(row[1])

"""Config values as small typed tables, the only way definitions reach the SQL models.

The models in ``sql/`` stay plain SELECTs that read ``cfg_*`` tables; values are written
here with bound parameters, never formatted into SQL text, so a touchpoint name or a
channel from a config file cannot change what a query does.
"""

from __future__ import annotations

import duckdb

from journey_mining.config import Config

ROLES = ("conversion", "cart", "checkout", "excluded")
"""Roles a touchpoint can play in ``cfg_touchpoint_roles``; one touchpoint may have several."""

PARAMETER_DDL: dict[str, str] = {
    "cfg_session": """
        create or replace table cfg_session (
            timeout_seconds double not null,
            max_length_seconds double,
            split_by_channel boolean not null,
            use_source_session_id boolean not null,
            collapse_repeats boolean not null
        )""",
    "cfg_channel_timeouts": """
        create or replace table cfg_channel_timeouts (
            channel varchar primary key,
            timeout_seconds double not null
        )""",
    "cfg_journey": """
        create or replace table cfg_journey (
            inactivity_seconds double not null
        )""",
    "cfg_touchpoint_roles": """
        create or replace table cfg_touchpoint_roles (
            touchpoint varchar not null,
            role varchar not null,
            primary key (touchpoint, role)
        )""",
    "cfg_identity": """
        create or replace table cfg_identity (
            max_customers_per_identifier bigint not null,
            max_devices_per_identifier bigint not null
        )""",
}


def _seconds(minutes: float) -> float:
    """Minutes as seconds, rounded to microseconds like the gaps they are compared with."""
    return round(minutes * 60, 6)


def touchpoint_roles(config: Config) -> list[tuple[str, str]]:
    """(touchpoint, role) pairs from the config, deduplicated and sorted."""
    pairs = {
        *(("conversion", t) for t in config.conversion_touchpoints),
        *(("cart", t) for t in config.cart_touchpoints),
        *(("checkout", t) for t in config.checkout_touchpoints),
        *(("excluded", t) for t in config.session.exclude_touchpoints),
    }
    return sorted((touchpoint, role) for role, touchpoint in pairs)


def write_parameter_tables(con: duckdb.DuckDBPyConnection, config: Config) -> dict[str, int]:
    """(Re)create every ``cfg_*`` table from ``config``; returns rows per table."""
    session, journey, identity = config.session, config.journey, config.identity
    for ddl in PARAMETER_DDL.values():
        con.execute(ddl)
    con.execute(
        "insert into cfg_session values (?, ?, ?, ?, ?)",
        [
            _seconds(session.timeout_minutes),
            None if session.max_length_minutes is None else _seconds(session.max_length_minutes),
            session.split_by_channel,
            session.use_source_session_id,
            session.collapse_repeats,
        ],
    )
    timeouts = sorted(session.channel_timeout_minutes.items())
    if timeouts:
        con.executemany(
            "insert into cfg_channel_timeouts values (?, ?)",
            [[channel, _seconds(minutes)] for channel, minutes in timeouts],
        )
    con.execute("insert into cfg_journey values (?)", [round(journey.inactivity_days * 86400, 6)])
    roles = touchpoint_roles(config)
    if roles:
        con.executemany("insert into cfg_touchpoint_roles values (?, ?)", [list(r) for r in roles])
    con.execute(
        "insert into cfg_identity values (?, ?)",
        [identity.max_customers_per_identifier, identity.max_devices_per_identifier],
    )
    counts: dict[str, int] = {}
    for table in PARAMETER_DDL:
        counts[table] = int(con.execute(f"select count(*) from {table}").fetchall()[0][0])
    return counts

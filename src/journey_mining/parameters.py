"""Config values as small typed tables, the only way definitions reach the SQL models.

The models in ``sql/`` stay plain SELECTs that read ``cfg_*`` tables; values are written
with bound parameters (DuckDB) or as data (Spark), never formatted into SQL text, so a
touchpoint name or a channel from a config file cannot change what a query does.
"""

from __future__ import annotations

import duckdb

from journey_mining.config import Config
from journey_mining.engines import Engine, as_engine

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


def parameter_rows(config: Config) -> dict[str, list[tuple[object, ...]]]:
    """The rows of every ``cfg_*`` table for ``config``, in ``PARAMETER_DDL``'s column order."""
    session, journey, identity = config.session, config.journey, config.identity
    return {
        "cfg_session": [
            (
                _seconds(session.timeout_minutes),
                None if session.max_length_minutes is None else _seconds(session.max_length_minutes),
                session.split_by_channel,
                session.use_source_session_id,
                session.collapse_repeats,
            )
        ],
        "cfg_channel_timeouts": [
            (channel, _seconds(minutes))
            for channel, minutes in sorted(session.channel_timeout_minutes.items())
        ],
        "cfg_journey": [(round(journey.inactivity_days * 86400, 6),)],
        "cfg_touchpoint_roles": touchpoint_roles(config),
        "cfg_identity": [(identity.max_customers_per_identifier, identity.max_devices_per_identifier)],
    }


def write_parameter_tables(target: duckdb.DuckDBPyConnection | Engine, config: Config) -> dict[str, int]:
    """(Re)create every ``cfg_*`` table from ``config`` on the engine; returns rows per table."""
    engine = as_engine(target)
    rows = parameter_rows(config)
    return {table: engine.write_table(table, ddl, rows[table]) for table, ddl in PARAMETER_DDL.items()}

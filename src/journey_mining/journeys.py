"""From loaded touchpoints to sessions, journeys and transition tables, in one call.

Order: parameter tables from the config, identity stitching (an iterative SQL step), then
every remaining model of ``sql/intermediate`` and ``sql/marts`` in dependency order, on
the engine given: a DuckDB connection (the warehouse) or any ``journey_mining.engines`` engine.
"""

from __future__ import annotations

import duckdb

from journey_mining.builds import record_build
from journey_mining.config import Config
from journey_mining.engines import Engine, as_engine
from journey_mining.engines.duckdb_engine import DuckDBEngine
from journey_mining.identity import stitch_identities
from journey_mining.parameters import write_parameter_tables
from journey_mining.sqlmodels import discover, run_models


def build_journeys(target: duckdb.DuckDBPyConnection | Engine, config: Config) -> dict[str, int]:
    """Rebuild every intermediate and mart table from ``touchpoints``; rows per table."""
    engine = as_engine(target)
    counts = write_parameter_tables(engine, config)
    stitched = stitch_identities(engine, config)
    counts |= stitched.tables
    remaining = [model for model in discover() if model.name not in stitched.tables]
    # identity intermediates too are released once the last model reading them is built
    spent = frozenset(name for name in stitched.tables if name.startswith("int_"))
    counts |= run_models(engine, remaining, release=spent)
    if isinstance(engine, DuckDBEngine):
        # the warehouse's marts are this build's now (a Spark build records itself when
        # its marts reach the warehouse)
        record_build(engine.con, "duckdb")
    return counts

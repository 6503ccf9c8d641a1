"""From loaded touchpoints to sessions, journeys and transition tables, in one call.

Order: parameter tables from the config, identity stitching (an iterative SQL step), then
every remaining model of ``sql/intermediate`` and ``sql/marts`` in dependency order.
"""

from __future__ import annotations

import duckdb

from journey_mining.config import Config
from journey_mining.identity import stitch_identities
from journey_mining.parameters import write_parameter_tables
from journey_mining.sqlmodels import discover, run_models


def build_journeys(con: duckdb.DuckDBPyConnection, config: Config) -> dict[str, int]:
    """Rebuild every intermediate and mart table from ``touchpoints``; rows per table."""
    counts = write_parameter_tables(con, config)
    stitched = stitch_identities(con, config)
    counts |= stitched.tables
    remaining = [model for model in discover() if model.name not in stitched.tables]
    counts |= run_models(con, remaining)
    return counts

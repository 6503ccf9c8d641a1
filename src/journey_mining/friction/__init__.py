"""Friction: where customers get stuck, ranked by the conversions it costs.

Each kind (one module each) aggregates the marts in DuckDB into *candidates*: counts
per location and segment against a comparison group. The same queries run on Spark
through ``engines.spark_connection`` (``scale_out.friction_on_spark``); only the
candidates come back. ``findings`` adds the statistics
(Wilson intervals, one-sided z or Fisher test, Benjamini-Hochberg over all candidates of
the run), the conversions-lost estimate and one plain sentence, and ranks them.

Kinds: drop_off, cart_abandonment, checkout_abandonment, escalation, repeat_contact,
long_wait, abandoned_contact, loop, error_touchpoint, low_satisfaction. Each module's
docstring states its unit, definition and conversions_lost formula.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import pandas as pd

from journey_mining.config import Config
from journey_mining.friction import (
    abandonment,
    drop_off,
    errors,
    escalation,
    loop,
    repeat_contact,
    satisfaction,
    waits,
)
from journey_mining.friction.common import sql_parameters
from journey_mining.friction.findings import FRICTION_COLUMNS, assemble, materialise
from journey_mining.friction.prepared import friction_tables
from journey_mining.friction.states import friction_state_effects

__all__ = ["EXPLAINERS", "FRICTION_COLUMNS", "detect_friction", "find_candidates", "friction_state_effects"]

Finder = Callable[[duckdb.DuckDBPyConnection, dict[str, Any]], pd.DataFrame]

FINDERS: tuple[Finder, ...] = (
    drop_off.find,
    abandonment.find,
    escalation.find,
    repeat_contact.find,
    waits.find,
    loop.find,
    errors.find,
    satisfaction.find,
)

EXPLAINERS = {
    drop_off.KIND: drop_off.explain,
    **dict.fromkeys(abandonment.KINDS.values(), abandonment.explain),
    escalation.KIND: escalation.explain,
    repeat_contact.KIND: repeat_contact.explain,
    **dict.fromkeys(waits.KINDS, waits.explain),
    loop.KIND: loop.explain,
    errors.KIND: errors.explain,
    satisfaction.KIND: satisfaction.explain,
}


def find_candidates(con: duckdb.DuckDBPyConnection, config: Config) -> pd.DataFrame:
    """Counts of every kind, before statistics: one row per location and segment."""
    parameters = sql_parameters(config)
    with friction_tables(con, parameters):
        frames = [finder(con, parameters) for finder in FINDERS]
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def detect_friction(con: duckdb.DuckDBPyConnection, config: Config) -> pd.DataFrame:
    """All findings, ranked by conversions lost; also (re)written as the table ``friction``."""
    findings = assemble(find_candidates(con, config), config.friction, EXPLAINERS)
    materialise(con, findings)
    return findings

"""Engines that run the shared ``sql/`` models: DuckDB (default, in the warehouse) and Spark.

Per-engine differences live here and nowhere else: how a model becomes a table, how a
table is read back, how parameter tables are written, and (for Spark) how the DuckDB
dialect of ``sql/`` is translated. ``spark_engine`` needs the ``spark`` extra and is
imported only when used.
"""

from __future__ import annotations

from journey_mining.engines.base import Engine, SliceKey, rows, scalar
from journey_mining.engines.duckdb_engine import DuckDBEngine, as_engine

ENGINES = ("duckdb", "spark")

__all__ = ["ENGINES", "DuckDBEngine", "Engine", "SliceKey", "as_engine", "rows", "scalar"]

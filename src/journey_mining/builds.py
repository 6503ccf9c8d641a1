"""Which build the warehouse's marts come from.

Friction on Spark reads the Parquet marts a Spark build wrote, not the warehouse's tables.
Those files outlive the build: after a later DuckDB build, or a Spark build whose marts
never reached the warehouse, they no longer match it. Every build therefore records its
engine and a fresh id in ``marts_build`` (one row, written in the build's transaction), and
a Spark build also writes that id beside its marts; friction on Spark runs only when both
ids are the same.
"""

from __future__ import annotations

import uuid

import duckdb

from journey_mining.schema import TABLE_DDL
from journey_mining.warehouse import table_exists

STAMP_FOLDER = "_build"
"""``<output_path>/marts/_build``: the id of the Spark build whose marts are there (JSON)."""


def new_build_id() -> str:
    return uuid.uuid4().hex


def record_build(con: duckdb.DuckDBPyConnection, engine: str, build_id: str | None = None) -> str:
    """Record that the marts now come from ``engine``'s build ``build_id``; returns the id."""
    build_id = build_id or new_build_id()
    con.execute(TABLE_DDL["marts_build"])  # a warehouse from before the table existed
    con.execute("delete from marts_build")
    con.execute(
        "insert into marts_build values (?, ?, now()::timestamp)",
        [engine, build_id],
    )
    return build_id


def latest_build(con: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    """(engine, build id) of the build the marts come from; None before the first build."""
    if not table_exists(con, "marts_build"):
        return None
    row = con.execute("select engine, build_id from marts_build").fetchone()
    return (str(row[0]), str(row[1])) if row else None


def check_spark_marts(
    latest: tuple[str, str] | None, stamped: str | None, marts: str, task: str = "detecting friction"
) -> None:
    """Fail unless the warehouse's marts come from the Spark build whose id is ``stamped``
    (read from ``marts``); the message says which build they come from instead, and ``task``."""
    if latest is None:
        raise ValueError(
            f"no build is recorded in the warehouse: build on Spark before {task} "
            f"over the Spark marts in {marts}"
        )
    engine, build_id = latest
    if engine != "spark":
        raise ValueError(
            f"the warehouse's marts come from a {engine} build, not from the Spark marts in {marts}: "
            f"build on Spark first, or use that engine for {task}"
        )
    if stamped != build_id:
        raise ValueError(
            f"the Spark marts in {marts} are from build {stamped}, the warehouse's from build "
            f"{build_id}: build on Spark again"
        )


def check_duckdb_marts(con: duckdb.DuckDBPyConnection, task: str) -> None:
    """Fail, saying so, when the warehouse's marts come from a Spark build: it keeps only the
    aggregate marts, the others (a row per event, session or customer) stay in its Parquet."""
    latest = latest_build(con)
    if latest is not None and latest[0] == "spark":
        raise ValueError(
            "the warehouse's marts come from a spark build, whose marts with a row per event, "
            f"session or customer stay in its Parquet output: use the spark engine for {task}, "
            "or build on DuckDB"
        )

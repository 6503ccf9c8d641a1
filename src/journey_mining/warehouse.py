"""Opening the DuckDB warehouse with the settings every step needs.

One read-write process per file (DuckDB's rule): steps receive the *path* and open the
warehouse themselves, so nothing holds a connection across task boundaries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from journey_mining.config import Config
from journey_mining.schema import create_schema_sql


class WarehouseBusyError(RuntimeError):
    """Another process holds the warehouse file."""


def connect(
    path: Path | str,
    *,
    memory_limit: str = "4GB",
    threads: int = 2,
    temp_directory: Path | str | None = None,
    read_only: bool = False,
) -> duckdb.DuckDBPyConnection:
    """Open (and create) a warehouse with UTC session time and bounded memory."""
    target = Path(path)
    if str(target) != ":memory:":
        target.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(target), read_only=read_only)
    except duckdb.IOException as err:
        if "lock" in str(err).lower():
            raise WarehouseBusyError(
                f"warehouse {target} is in use by another process; wait for it to finish"
            ) from None
        raise
    con.execute("set TimeZone = 'UTC'")
    con.execute("set memory_limit = ?", [memory_limit])
    con.execute("set threads = ?", [threads])
    if temp_directory is not None:
        con.execute("set temp_directory = ?", [str(temp_directory)])
    if not read_only:
        for ddl in create_schema_sql():
            con.execute(ddl)
    return con


@contextmanager
def open_warehouse(config: Config, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """The configured warehouse, closed on exit."""
    wh = config.warehouse
    temp = config.resolve(wh.temp_directory) if wh.temp_directory else None
    con = connect(
        config.warehouse_path,
        memory_limit=wh.memory_limit,
        threads=wh.threads,
        temp_directory=temp,
        read_only=read_only,
    )
    try:
        yield con
    finally:
        con.close()


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the warehouse has a table ``name`` (in ``main``: an optional mart, say).

    A connection that is not DuckDB's (``SparkConnection``) answers with its ``has_table``.
    """
    if not isinstance(con, duckdb.DuckDBPyConnection):
        return bool(con.has_table(name))
    row = con.execute(
        "select count(*) from information_schema.tables where table_name = ? and table_schema = 'main'",
        [name],
    ).fetchone()
    return bool(row and row[0])

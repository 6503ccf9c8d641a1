"""The default engine: the shared SQL runs inside the DuckDB warehouse, as tables.

Also the warehouse side of a build on another engine: the canonical tables go out as
Parquet, and the marts come back from Parquet as ordinary warehouse tables.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from journey_mining.engines.base import Engine


class DuckDBEngine:
    """Models as ``create or replace table`` in one DuckDB connection.

    Temporary models are ``temp`` tables: they live only as long as the connection, and
    writing one costs about a third of a persistent table (no compression, no checkpoint).
    A table of the same name in the other storage (an older build's) is dropped first, so
    the name never refers to a stale copy.
    """

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def materialise(self, table: str, sql: str, *, temporary: bool = False) -> int:
        if temporary:
            self.con.execute(f"drop table if exists {self._persistent(table)}")
            self.con.execute(f'create or replace temp table "{table}" as {sql}')
        else:
            self.con.execute(f'drop table if exists temp.main."{table}"')
            self.con.execute(f"create or replace table {self._persistent(table)} as {sql}")
        return self._count(table)

    def release(self, table: str) -> None:
        # at 100M events the build's temp tables spill tens of GB to the temp directory
        self.con.execute(f'drop table if exists temp.main."{table}"')

    def rename(self, table: str, new_name: str) -> None:
        self.con.execute(f'drop table if exists "{new_name}"')
        self.con.execute(f'alter table "{table}" rename to "{new_name}"')

    def write_table(self, table: str, ddl: str, rows: Sequence[Sequence[Any]]) -> int:
        self.con.execute(ddl)
        if rows:
            marks = ", ".join("?" for _ in rows[0])
            self.con.executemany(f'insert into "{table}" values ({marks})', [list(row) for row in rows])
        return self._count(table)

    def to_arrow(self, sql: str) -> pa.Table:
        # a materialised table, not a streaming reader: DuckDB 2.0's reader holds the connection
        return self.con.sql(sql).to_arrow_table()

    def _persistent(self, table: str) -> str:
        """``table`` in the connection's own database: ``main.<table>`` alone would also
        name a temp table (the temp catalog's schema is ``main`` too)."""
        database, schema = self.con.execute("select current_database(), current_schema()").fetchall()[0]
        return ".".join('"' + str(part).replace('"', '""') + '"' for part in (database, schema, table))

    def _count(self, table: str) -> int:
        # fetchall, not fetchone: DuckDB 2.0 keeps a partly fetched result open on the
        # connection, and the caller's next con.sql()/register() would fail
        rows = self.con.execute(f'select count(*) from "{table}"').fetchall()
        return int(rows[0][0]) if rows else 0


def as_engine(target: duckdb.DuckDBPyConnection | Engine) -> Engine:
    """An engine for ``target``: a DuckDB connection is wrapped, an engine passed through."""
    if isinstance(target, duckdb.DuckDBPyConnection):
        return DuckDBEngine(target)
    return target


def _quoted(path: str) -> str:
    return "'" + path.replace("'", "''") + "'"


def export_tables(con: duckdb.DuckDBPyConnection, tables: Iterable[str], folder: Path) -> Path:
    """Write each table as ``folder/<table>/part-0.parquet`` (the folder is replaced)."""
    for table in tables:
        target = folder / table
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        con.execute(f'copy "{table}" to {_quoted(str(target / "part-0.parquet"))} (format parquet)')
    return folder


def attach_parquet(con: duckdb.DuckDBPyConnection, tables: Mapping[str, str]) -> dict[str, int]:
    """(Re)create each table from the Parquet files in its folder; returns rows per table.

    Runs inside the caller's transaction, so the tables are replaced all together or not at all.
    """
    engine = DuckDBEngine(con)
    counts = {}
    for table, folder in tables.items():
        files = _quoted(folder.rstrip("/") + "/*.parquet")
        counts[table] = engine.materialise(table, f"select * from read_parquet({files})")
    return counts

"""The default engine: the shared SQL runs inside the DuckDB warehouse, as tables.

Also the warehouse side of a build on another engine: the canonical tables go out as
Parquet, and the marts come back from Parquet as ordinary warehouse tables.
"""

from __future__ import annotations

import math
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from journey_mining.engines.base import Engine, SliceKey

# memory_limit bytes per row of a model built in slices: session_touchpoints' join holds
# each step's touchpoint columns in a hash table, which spills uncompressed once it
# outgrows memory (more than 30 GiB at 100M events with a 4GB limit). With 4GB, a range of
# more than about 10M rows spills its joins and slows down more than in proportion: at 100M events,
# 10 ranges of 10M took 151-152 s, 8 of 12.5M 206 s, 5 of 20M 220 s (26 s a range
# against 15 s); 20 ranges of 5M 179-201 s (each range re-reads the 17.8M sessions)
BYTES_PER_SLICED_ROW = 400

_SIZE_UNITS = {
    "bytes": 1,
    "KiB": 2**10,
    "MiB": 2**20,
    "GiB": 2**30,
    "TiB": 2**40,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
}


class DuckDBEngine:
    """Models as ``create or replace table`` in one DuckDB connection.

    Temporary models are ``temp`` tables: they live only as long as the connection, and
    writing one costs about a third of a persistent table (no compression, no checkpoint).
    But a temp table spills uncompressed once the build outgrows memory, so a model re-read
    by many others is stored persistently (``Model.is_temporary``) and dropped once read.
    A table of the same name in the other storage (an older build's) is dropped first, so
    the name never refers to a stale copy.
    """

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection, *, rows_per_slice: int | None = None) -> None:
        """``rows_per_slice``: how many rows a model with a slice key builds at a time
        (default: the connection's memory_limit / ``BYTES_PER_SLICED_ROW``)."""
        self.con = con
        self.rows_per_slice = rows_per_slice

    def materialise(
        self,
        table: str,
        sql: str,
        *,
        temporary: bool = False,
        slice_key: SliceKey | None = None,
        zstd_columns: Sequence[str] = (),
    ) -> int:
        if temporary:
            self.con.execute(f"drop table if exists {self._persistent(table)}")
            create, target = "create or replace temp table", f'temp.main."{table}"'
        else:
            self.con.execute(f'drop table if exists temp.main."{table}"')
            create, target = "create or replace table", self._persistent(table)
        ranges = self.slice_ranges(slice_key) if slice_key is not None else []
        queries = [f"select * from ({sql}) where {condition}" for condition in ranges] or [sql]
        # a temp table is stored uncompressed whatever its columns say
        if zstd_columns and not temporary:
            self.con.execute(f"{create} {target} ({self._columns_ddl(sql, zstd_columns)})")
        else:
            # each range is its own query: its joins hold only that range's rows
            self.con.execute(f"{create} {target} as {queries.pop(0)}")
        for query in queries:
            self.con.execute(f"insert into {target} {query}")
        return self._count(table)

    def _columns_ddl(self, sql: str, zstd_columns: Sequence[str]) -> str:
        """The result columns of ``sql`` as table columns, ``zstd_columns`` stored with zstd:
        DuckDB's default for text (DICT_FSST) spends its write looking for a dictionary that
        values which rarely repeat do not have."""
        described = self.con.execute(f"describe ({sql})").fetchall()
        missing = set(zstd_columns) - {str(row[0]) for row in described}
        if missing:
            raise ValueError(f"zstd columns not in the query's result: {sorted(missing)}")
        return ", ".join(
            '"{}" {}{}'.format(
                str(name).replace('"', '""'),
                kind,
                " using compression zstd" if name in zstd_columns else "",
            )
            for name, kind, *_ in described
        )

    def slice_ranges(self, key: SliceKey) -> list[str]:
        """Conditions on ``key.column`` that split its rows into disjoint, covering ranges of
        about ``rows_per_slice`` rows each (none when one range would hold them all).

        The key is an integer column (bounds are written as integer literals). The bounds
        are approximate quantiles of the key's table (one streaming pass); the
        ranges cover every value whatever the bounds are, NULL included, so the table built
        range by range holds exactly the rows built at once.
        """
        column = '"' + key.column.replace('"', '""') + '"'
        source = '"' + key.table.replace('"', '""') + '"'
        total = int(self.con.execute(f"select count(*) from {source}").fetchall()[0][0])
        slices = math.ceil(total / max(1, self._rows_per_slice()))
        if slices <= 1:
            return []
        fractions = [index / slices for index in range(1, slices)]
        quantiles = f"select approx_quantile({column}, {fractions}) from {source}"
        found = self.con.execute(quantiles).fetchall()[0][0]
        bounds = sorted({int(value) for value in found or [] if value is not None})
        if not bounds:
            return []
        ranges = [f"({column} < {bounds[0]} or {column} is null)"]
        ranges += [f"{column} >= {low} and {column} < {high}" for low, high in pairwise(bounds)]
        ranges.append(f"{column} >= {bounds[-1]}")
        return ranges

    def _rows_per_slice(self) -> int:
        if self.rows_per_slice is not None:
            return self.rows_per_slice
        setting = str(self.con.execute("select current_setting('memory_limit')").fetchall()[0][0])
        return memory_bytes(setting) // BYTES_PER_SLICED_ROW

    def release(self, table: str) -> None:
        # at 100M events the build's temp tables spill tens of GB to the temp directory; an
        # intermediate stored persistently (``-- storage: persistent``) goes the same way
        self.con.execute(f'drop table if exists temp.main."{table}"')
        self.con.execute(f"drop table if exists {self._persistent(table)}")

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


def memory_bytes(setting: str) -> int:
    """Bytes in a DuckDB size setting as DuckDB shows it (``3.7 GiB``, ``400.0 MB``)."""
    match = re.fullmatch(r"\s*([\d.]+)\s*([A-Za-z]+)\s*", setting)
    if not match or match.group(2) not in _SIZE_UNITS:
        raise ValueError(f"not a DuckDB size: {setting!r}")
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2)])


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


def attach_arrow(con: duckdb.DuckDBPyConnection, tables: Mapping[str, pa.Table]) -> dict[str, int]:
    """(Re)create each table from its Arrow rows; returns rows per table.

    Runs inside the caller's transaction, so the tables are replaced all together or not at all.
    """
    engine = DuckDBEngine(con)
    counts = {}
    for table, rows in tables.items():
        con.register("_arriving_rows", rows)
        try:
            counts[table] = engine.materialise(table, "select * from _arriving_rows")
        finally:
            con.unregister("_arriving_rows")
    return counts

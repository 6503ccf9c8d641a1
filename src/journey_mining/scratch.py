"""Where the dashboard keeps its large working tables: in the warehouse file when it can.

The Sankey maps and the funnel are drawn from working tables with a row per session and
step (about 136 bytes a row in memory: 1.1 GiB for the 8.5M rows of 10M events) that the
maps then read many times. A temp table lives in memory until it outgrows DuckDB's
``memory_limit``; then it is spilled, uncompressed, to the temp directory, and every later
read brings it back from disk. A table in the database file is written compressed. At 100M
events the dashboard took 178 s instead of 232 s and spilled 4.9 GiB instead of 10.9; at
10M (no spill) it took the same time. Friction's working tables are narrower and stay temp
tables: stored, they cost 25% more at 10M and saved 5% at 100M (benchmarks/README.md).
A read-only connection (the notebook API) cannot create a table, and an in-memory database
gains nothing, so those keep temp tables.
"""

from __future__ import annotations

import duckdb


def scratch_table(con: duckdb.DuckDBPyConnection) -> str:
    """``table`` when the connection's database is a writable file, else ``temp table``.

    The caller creates and drops the table itself (``create or replace``, then ``drop table
    if exists``), so a run that died half-way leaves nothing a later run trips over. A
    connection that is not DuckDB's (``SparkConnection``) names its own (``scratch_kind``).
    """
    if not isinstance(con, duckdb.DuckDBPyConnection):
        return str(con.scratch_kind)
    row = con.execute(
        "select readonly, path from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    writable_file = row is not None and not row[0] and row[1] is not None
    return "table" if writable_file else "temp table"

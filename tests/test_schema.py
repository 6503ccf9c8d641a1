"""The warehouse's DDL: how the canonical touchpoints are stored, and its portable form."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp

from journey_mining.schema import TABLE_DDL, TOUCHPOINT_COLUMNS, UNIQUE_TEXT_COLUMNS
from journey_mining.warehouse import connect
from tests.conftest import insert_touchpoints


def _compression_by_column(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for column, compression in con.execute(
        f"select column_name, compression from pragma_storage_info('{table}') where segment_type <> 'VALIDITY'"
    ).fetchall():
        found.setdefault(column, set()).add(compression)
    return found


def test_unique_text_columns_are_stored_with_zstd(warehouse: duckdb.DuckDBPyConnection) -> None:
    rows = [
        {
            "ts": datetime(2026, 11, 2, 10, minute),
            "touchpoint": "web:page_view",
            "anonymous_id": f"cookie-{minute}",
            "user_id_hash": f"{minute:064x}",
            "email_hash": f"{minute + 100:064x}",
            "phone_hash": f"{minute + 200:064x}",
        }
        for minute in range(60)
    ]
    insert_touchpoints(warehouse, rows)
    warehouse.execute("checkpoint")
    stored = _compression_by_column(warehouse, "touchpoints")
    for column in UNIQUE_TEXT_COLUMNS:
        assert stored[column] == {"ZSTD"}, column
    # the other text columns keep DuckDB's own choice
    assert "ZSTD" not in stored["touchpoint"]
    assert "ZSTD" not in stored["channel"]


def test_portable_ddl_has_the_same_columns_and_no_duckdb_storage_clause() -> None:
    ddl = TABLE_DDL["touchpoints"]
    assert "compression" not in ddl
    columns = [column.name for column in sqlglot.parse_one(ddl, read="duckdb").find_all(exp.ColumnDef)]
    assert columns == list(TOUCHPOINT_COLUMNS)


def test_a_warehouse_created_before_keeps_its_touchpoints(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(TABLE_DDL["touchpoints"])
    con = connect(path)
    try:
        insert_touchpoints(con, [{"ts": datetime(2026, 11, 2, 10), "touchpoint": "web:page_view"}])
        assert con.execute("select count(*) from touchpoints").fetchall() == [(1,)]
    finally:
        con.close()

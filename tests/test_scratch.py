"""Working tables are stored in a writable warehouse file, temp tables elsewhere."""

from __future__ import annotations

from pathlib import Path

import duckdb

from journey_mining.scratch import scratch_table
from journey_mining.warehouse import connect


def test_a_writable_warehouse_file_stores_working_tables(tmp_path: Path) -> None:
    con = connect(tmp_path / "warehouse.duckdb")
    try:
        assert scratch_table(con) == "table"
        con.execute(f"create or replace {scratch_table(con)} _work as select 1 as x")
        assert con.execute("select temporary from duckdb_tables() where table_name = '_work'").fetchall() == [
            (False,)
        ]
    finally:
        con.close()


def test_a_read_only_warehouse_keeps_working_tables_in_temp(tmp_path: Path) -> None:
    connect(tmp_path / "warehouse.duckdb").close()
    con = connect(tmp_path / "warehouse.duckdb", read_only=True)
    try:
        kind = scratch_table(con)
        assert kind == "temp table"
        con.execute(f"create or replace {kind} _work as select 1 as x")  # a stored table would fail here
        assert con.execute("select temporary from duckdb_tables() where table_name = '_work'").fetchall() == [
            (True,)
        ]
    finally:
        con.close()


def test_an_in_memory_database_keeps_working_tables_in_temp() -> None:
    con = duckdb.connect()
    try:
        assert scratch_table(con) == "temp table"
    finally:
        con.close()

"""Which build the marts come from: recorded by every build, checked before friction on Spark."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from journey_mining.builds import check_spark_marts, latest_build, record_build
from journey_mining.journeys import build_journeys
from tests.conftest import insert_touchpoints, make_config


def test_a_duckdb_build_records_itself_and_replaces_the_record(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    from datetime import datetime

    assert latest_build(warehouse) is None
    record_build(warehouse, "spark", "abc")
    assert latest_build(warehouse) == ("spark", "abc")
    insert_touchpoints(
        warehouse, [{"ts": datetime(2026, 11, 2, 9), "touchpoint": "web:home", "anonymous_id": "a"}]
    )
    build_journeys(warehouse, make_config(tmp_path))
    engine, build_id = latest_build(warehouse) or ("", "")
    assert engine == "duckdb"
    assert len(build_id) == 32
    assert warehouse.execute("select count(*) from marts_build").fetchall() == [(1,)]
    build_journeys(warehouse, make_config(tmp_path))
    assert latest_build(warehouse) != ("duckdb", build_id), "each build has its own id"


def test_a_warehouse_without_the_table_has_no_build() -> None:
    con = duckdb.connect()
    assert latest_build(con) is None
    record_build(con, "duckdb", "x")  # creates it
    assert latest_build(con) == ("duckdb", "x")


def test_spark_marts_are_checked_against_the_recorded_build() -> None:
    check_spark_marts(("spark", "b1"), "b1", "out/marts")  # the same build: fine
    with pytest.raises(ValueError, match="no build is recorded"):
        check_spark_marts(None, "b1", "out/marts")
    with pytest.raises(
        ValueError, match="marts come from a duckdb build, not from the Spark marts in out/marts"
    ):
        check_spark_marts(("duckdb", "b2"), "b1", "out/marts")
    with pytest.raises(ValueError, match="from build b0, the warehouse's from build b1"):
        check_spark_marts(("spark", "b1"), "b0", "out/marts")

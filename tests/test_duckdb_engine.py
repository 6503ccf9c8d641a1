"""The DuckDB engine's model building: sizes, slice ranges, and models built range by range."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from journey_mining.engines import DuckDBEngine
from journey_mining.engines.base import SliceKey
from journey_mining.engines.duckdb_engine import BYTES_PER_SLICED_ROW, memory_bytes
from journey_mining.generate.bulk import write_bulk_events
from journey_mining.journeys import build_journeys
from journey_mining.pipeline import load_step
from journey_mining.sqlmodels import Model, discover, materialise
from journey_mining.warehouse import open_warehouse
from tests.conftest import MARTS, SampleCopy, make_config


@pytest.mark.parametrize(
    ("setting", "expected"),
    [("3.7 GiB", int(3.7 * 2**30)), ("381.4 MiB", int(381.4 * 2**20)), ("400MB", 400 * 10**6), ("0 bytes", 0)],
)
def test_memory_bytes_reads_the_sizes_duckdb_shows(setting: str, expected: int) -> None:
    assert memory_bytes(setting) == expected


def test_memory_bytes_rejects_what_is_not_a_size() -> None:
    with pytest.raises(ValueError, match="not a DuckDB size"):
        memory_bytes("4 parsecs")


def keyed_table(rows: int, nulls: int = 0) -> duckdb.DuckDBPyConnection:
    """A table ``t(k)`` of ``rows`` keys with long runs of equal values, and ``nulls`` NULL keys."""
    con = duckdb.connect()
    con.execute(f"create table t as select (i // 7) * 1000 as k from range({rows}) r(i)")
    con.execute(f"insert into t select null from range({nulls})")
    return con


def test_ranges_split_the_rows_disjointly_and_cover_every_row_with_null_keys() -> None:
    con = keyed_table(10_000, nulls=5)
    ranges = DuckDBEngine(con, rows_per_slice=2_600).slice_ranges(SliceKey("t", "k"))
    assert len(ranges) == 4
    matched = " + ".join(f"case when {condition} then 1 else 0 end" for condition in ranges)
    per_row = con.execute(f"select {matched} as hits, count(*) from t group by hits").fetchall()
    assert per_row == [(1, 10_005)], "every row, NULL keys included, falls in exactly one range"
    sizes = [con.execute(f"select count(*) from t where {condition}").fetchall()[0][0] for condition in ranges]
    assert all(1_500 < size < 3_500 for size in sizes), sizes


def test_no_ranges_when_one_slice_holds_every_row() -> None:
    con = keyed_table(1_000)
    assert DuckDBEngine(con, rows_per_slice=1_000).slice_ranges(SliceKey("t", "k")) == []
    assert DuckDBEngine(con, rows_per_slice=999).slice_ranges(SliceKey("t", "k")) != []


def test_rows_per_slice_follows_the_connections_memory_limit() -> None:
    con = keyed_table(35_000)
    con.execute("set memory_limit = '4MB'")
    per_slice = memory_bytes(con.execute("select current_setting('memory_limit')").fetchall()[0][0])
    per_slice //= BYTES_PER_SLICED_ROW
    assert 9_000 < per_slice < 11_000
    assert len(DuckDBEngine(con).slice_ranges(SliceKey("t", "k"))) == 4
    con.execute("set memory_limit = '1GB'")
    assert DuckDBEngine(con).slice_ranges(SliceKey("t", "k")) == []


def test_a_table_built_in_slices_holds_the_rows_built_at_once() -> None:
    con = keyed_table(5_000, nulls=3)
    engine = DuckDBEngine(con, rows_per_slice=1_000)
    sql = "select k, k % 3 as r from t"
    assert engine.materialise("whole", sql) == 5_003
    assert engine.materialise("sliced", sql, slice_key=SliceKey("t", "k")) == 5_003
    assert engine.materialise("sliced_temp", sql, temporary=True, slice_key=SliceKey("t", "k")) == 5_003
    for table in ("sliced", "sliced_temp"):
        differ = f"(select * from whole except all select * from {table}) union all "
        differ += f"(select * from {table} except all select * from whole)"
        assert con.execute(f"select count(*) from ({differ})").fetchall() == [(0,)]
    assert con.execute("select temporary from duckdb_tables() where table_name = 'sliced_temp'").fetchall() == [
        (True,)
    ]


class _RangeCountingEngine(DuckDBEngine):
    """Records how many ranges each model with a slice key was built in."""

    def __init__(self, con: duckdb.DuckDBPyConnection, *, rows_per_slice: int) -> None:
        super().__init__(con, rows_per_slice=rows_per_slice)
        self.ranges: dict[SliceKey, int] = {}

    def slice_ranges(self, key: SliceKey) -> list[str]:
        ranges = super().slice_ranges(key)
        self.ranges[key] = len(ranges)
        return ranges


def test_models_built_in_slices_equal_the_marts_built_at_once(small_sample: SampleCopy) -> None:
    config = small_sample.config
    load_step(config)
    with open_warehouse(config) as con:
        build_journeys(DuckDBEngine(con, rows_per_slice=10**12), config)
        for mart in MARTS[:-1]:  # friction is built by its own step
            con.execute(f"create temp table whole_{mart} as select * from {mart}")
        sliced = _RangeCountingEngine(con, rows_per_slice=150)
        build_journeys(sliced, config)
        keys = {model.slice_key for model in discover() if model.slice_key is not None}
        assert {SliceKey("touchpoints", "ingest_seq"), SliceKey("int_touchpoints__sessionized", "customer_number")} <= keys
        assert set(sliced.ranges) == keys
        assert min(sliced.ranges.values()) > 3, sliced.ranges
        for mart in MARTS[:-1]:
            differ = f"(select * from whole_{mart} except all select * from {mart}) union all "
            differ += f"(select * from {mart} except all select * from whole_{mart})"
            assert con.execute(f"select count(*) from ({differ})").fetchall() == [(0,)], mart
        assert con.execute("select count(*) from session_touchpoints").fetchall()[0][0] > 2_000


def test_a_slice_key_is_a_table_its_model_reads() -> None:
    """The key's table must still be there when the model is built: intermediates are
    released after the last model that reads them."""
    sliced = [model for model in discover() if model.slice_key is not None]
    assert {model.name for model in sliced} >= {"session_touchpoints", "int_sessions__aggregated", "int_transition_moves__listed"}
    for model in sliced:
        assert model.slice_key is not None
        assert re.search(rf"\b{model.slice_key.table}\b", re.sub(r"--[^\n]*", "", model.sql)), model.name


class _KeepingEngine(DuckDBEngine):
    """Keeps every intermediate after the build, so a model's plan can be explained."""

    def release(self, table: str) -> None:
        return None


def _build_side_scans(node: dict, join_on: str) -> list[str] | None:
    """Tables scanned under the build (right) side of the hash join whose condition names
    ``join_on``, in a plan of ``explain (format json)``; None when there is no such join."""
    extra = node.get("extra_info", {})
    if node.get("name") == "HASH_JOIN" and join_on in str(extra.get("Conditions", "")):
        return _scans(node["children"][1])
    for child in node.get("children", []):
        found = _build_side_scans(child, join_on)
        if found is not None:
            return found
    return None


def _scans(node: dict) -> list[str]:
    own = [str(node["extra_info"].get("Table", ""))] if node.get("name") == "SEQ_SCAN" else []
    return own + [table for child in node.get("children", []) for table in _scans(child)]


def test_session_touchpoints_streams_the_steps_through_a_hash_table_of_the_touchpoints(tmp_path: Path) -> None:
    """Performance guard, on a log where every event is a journey step (the benchmark
    generator's, as at 100M): the join by ingest_seq builds its hash table from
    ``touchpoints`` and streams the sessionized steps through it, so the mart is written in
    the steps' (customer) order, where a session's ids repeat and compress (built the other
    way round, it was written in touchpoint order: 16.6 against 9.8 s at 10M events)."""
    manifest = write_bulk_events(tmp_path / "bulk", 20_000, seed=1)
    config = make_config(tmp_path, sources=[manifest.source("bulk")])
    load_step(config)
    with open_warehouse(config) as con:
        build_journeys(_KeepingEngine(con), config)
        counts = con.execute(
            "select (select count(*) from touchpoints), (select count(*) from int_touchpoints__sessionized)"
        ).fetchall()
        model = {m.name: m for m in discover()}["session_touchpoints"]
        plan = json.loads(con.execute(f"explain (format json) {model.sql}").fetchall()[0][1])
    assert counts == [(20_000, 20_000)]
    build_side = _build_side_scans(plan[0], "ingest_seq = ingest_seq")
    assert build_side is not None
    assert [table.rsplit(".", 1)[-1] for table in build_side] == ["touchpoints"]


@pytest.mark.parametrize(
    ("layer", "header", "temporary"),
    [
        ("intermediate", "", True),
        ("intermediate", "-- storage: persistent (re-read many times)\n", False),
        ("marts", "", False),
        ("intermediate", "-- not a storage: persistent header\n", True),
    ],
)
def test_an_intermediate_model_is_a_temp_table_unless_its_header_asks_to_be_stored(
    tmp_path: Path, layer: str, header: str, temporary: bool
) -> None:
    path = tmp_path / "int_example.sql"
    path.write_text(f"-- grain: one row\n{header}select 1 as a\n", encoding="utf-8")
    model = Model("int_example", layer, path)
    assert model.is_temporary is temporary
    con = duckdb.connect()
    assert materialise(DuckDBEngine(con), model) == 1
    assert con.execute("select temporary from duckdb_tables() where table_name = 'int_example'").fetchall() == [
        (temporary,)
    ]
    DuckDBEngine(con).release("int_example")
    assert con.execute("select count(*) from duckdb_tables() where table_name = 'int_example'").fetchall() == [(0,)]


def _compressions(con: duckdb.DuckDBPyConnection, table: str, column: str) -> set[str]:
    rows = con.execute(
        f"select distinct compression from pragma_storage_info('{table}') "
        "where column_name = ? and segment_type <> 'VALIDITY'",
        [column],
    ).fetchall()
    return {row[0] for row in rows}


@pytest.mark.parametrize("rows_per_slice", [None, 1_000])
def test_zstd_columns_are_stored_with_zstd_and_the_rows_are_the_same(
    tmp_path: Path, rows_per_slice: int | None
) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create table t as select range as k, md5(range::varchar) as id, 'web' as channel from range(5000)")
    engine = DuckDBEngine(con, rows_per_slice=rows_per_slice)
    sql = "select k, id, channel from t"
    key = SliceKey("t", "k") if rows_per_slice else None
    assert engine.materialise("packed", sql, slice_key=key, zstd_columns=("id",)) == 5_000
    assert engine.materialise("plain", sql, slice_key=key) == 5_000
    con.execute("checkpoint")
    assert _compressions(con, "packed", "id") == {"ZSTD"}
    assert "ZSTD" not in _compressions(con, "packed", "channel")
    assert "ZSTD" not in _compressions(con, "plain", "id")
    assert con.execute("describe packed").fetchall() == con.execute("describe plain").fetchall()
    differ = "(select * from plain except all select * from packed) union all "
    differ += "(select * from packed except all select * from plain)"
    assert con.execute(f"select count(*) from ({differ})").fetchall() == [(0,)]
    # a temp table is stored uncompressed anyway: the hint is ignored, the rows are the same
    assert engine.materialise("packed_temp", sql, temporary=True, zstd_columns=("id",)) == 5_000


def test_a_zstd_column_missing_from_the_result_fails_naming_it() -> None:
    con = duckdb.connect()
    with pytest.raises(ValueError, match="event_id"):
        DuckDBEngine(con).materialise("t", "select 1 as a", zstd_columns=("event_id",))


def test_the_zstd_columns_header_names_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "example.sql"
    path.write_text("-- grain: one row\n-- zstd columns: event_id, record_key\nselect 1 as a\n", encoding="utf-8")
    assert Model("example", "marts", path).zstd_columns == ("event_id", "record_key")
    path.write_text("-- grain: one row\nselect 1 as a\n", encoding="utf-8")
    assert Model("example", "marts", path).zstd_columns == ()

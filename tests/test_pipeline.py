"""The nightly run's guarantees on data (GitHub issue 6): a re-run changes nothing, the same
input gives the same warehouse, and late files give what one run over everything gives.

Every test works on its own copy of a small generated sample (``small_sample``) and compares
content checksums of the marts and of the loaded data (``tests/conftest.py``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import duckdb

from journey_mining.config import load_config
from journey_mining.pipeline import run_pipeline
from tests.conftest import (
    MARTS,
    SampleCopy,
    consistency_problems,
    warehouse_checksums,
    write_sample_config,
)

Checksums = dict[str, tuple[int, str]]


def query(warehouse: Path, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_rerun_loads_nothing_new_and_changes_nothing(small_sample: SampleCopy) -> None:
    config = small_sample.config
    first = run_pipeline(config, dashboard=False)
    assert {f.status for f in first.load.files} == {"loaded"}
    before = warehouse_checksums(config.warehouse_path)
    files_before = query(
        config.warehouse_path, "select * exclude (loaded_at) from loaded_files order by file_id"
    )

    second = run_pipeline(config, dashboard=False)

    assert len(second.load.files) == len(first.load.files)
    assert {f.status for f in second.load.files} == {"skipped"}
    for source, counts in second.load.by_source().items():
        assert counts["skipped"] == counts["files"], source
        assert counts["read"] == counts["loaded"] == counts["touchpoints"] == 0, source
    assert second.tables == first.tables
    assert warehouse_checksums(config.warehouse_path) == before
    assert all(before[t][0] > 0 for t in MARTS), before
    files_after = query(
        config.warehouse_path, "select * exclude (loaded_at) from loaded_files order by file_id"
    )
    assert files_after == files_before
    assert query(config.warehouse_path, "select status from runs order by started_at") == [
        ("success",),
        ("success",),
    ]
    assert consistency_problems(config.warehouse_path) == []


def test_the_same_input_gives_the_same_warehouse(
    small_sample: SampleCopy, reference_checksums: Checksums
) -> None:
    """A fresh warehouse elsewhere, with one thread instead of two, equals the reference
    build to the checksum: nothing depends on paths, parallelism or timing."""
    one_thread = write_sample_config(
        small_sample.root,
        name="one-thread.yaml",
        warehouse={"path": "one-thread/warehouse.duckdb", "threads": 1, "memory_limit": "512MB"},
    )
    config = load_config(one_thread)
    run_pipeline(config, dashboard=False)
    assert warehouse_checksums(config.warehouse_path) == reference_checksums


# --- late data --------------------------------------------------------------------------------


def _split_off_late_events(day_file: Path) -> bytes:
    """Keep two thirds of the day's web visitors in ``day_file``; return the rest (gzip
    NDJSON): their events arrive late, in a file of their own."""
    with gzip.open(day_file, "rb") as handle:
        lines = handle.read().splitlines(keepends=True)

    def late(line: bytes) -> bool:
        visitor = json.loads(line)["user_pseudo_id"]
        return int(hashlib.md5(visitor.encode()).hexdigest(), 16) % 3 == 0

    on_time = [line for line in lines if not late(line)]
    held = [line for line in lines if late(line)]
    assert on_time
    assert held
    with gzip.open(day_file, "wb") as handle:
        handle.writelines(on_time)
    return gzip.compress(b"".join(held), mtime=0)


def _resend_contact(day_file: Path) -> tuple[str, str]:
    """A Connect record of ``day_file`` re-sent a day later: the resolved call now placed an
    order. Returns (ContactId, new LastUpdateTimestamp)."""
    for line in day_file.read_text("utf-8").splitlines():
        record = json.loads(line)
        if record["Agent"] and record["Attributes"].get("outcome") == "resolved":
            break
    else:
        raise AssertionError(f"no answered, resolved call in {day_file}")
    record["Attributes"] |= {"outcome": "order_placed", "order_value": "99.50"}
    record["LastUpdateTimestamp"] = "2026-11-03T08:00:00Z"
    resent = day_file.with_name("connect_ctr_20261103_resent.jsonl")
    resent.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return record["ContactId"], record["LastUpdateTimestamp"]


def test_late_data_gives_what_one_run_over_everything_gives(small_sample: SampleCopy) -> None:
    small_sample.hold_back(4, 5)  # days 1-3 delivered
    late_events = _split_off_late_events(small_sample.data / "ga4" / "events_20261102.jsonl.gz")
    config = small_sample.config
    first = run_pipeline(config, dashboard=False)
    assert not first.load.failures

    # late: day 1's held-back web events, and a day-1 call's record re-sent with a newer version
    (small_sample.data / "ga4" / "events_20261102_late.jsonl.gz").write_bytes(late_events)
    contact_id, updated = _resend_contact(small_sample.data / "call" / "connect_ctr_20261102.jsonl")
    second = run_pipeline(config, dashboard=False)

    loaded = {Path(f.path).name: f for f in second.load.files if f.status == "loaded"}
    assert sorted(loaded) == ["connect_ctr_20261103_resent.jsonl", "events_20261102_late.jsonl.gz"]
    late = loaded["events_20261102_late.jsonl.gz"]
    assert late.rows_loaded == late.rows_read == len(gzip.decompress(late_events).splitlines())
    assert loaded["connect_ctr_20261103_resent.jsonl"].rows_loaded == 1  # replaced the older version
    versions = query(
        config.warehouse_path,
        "select distinct record_version, list(touchpoint order by ts) over () from touchpoints where record_key = ?",
        [f"connect:{contact_id}"],
    )
    assert len(versions) == 1, "only the newest version of the record is kept"
    assert str(versions[0][0]).replace(" ", "T") + "Z" == updated
    assert "call:order_placed" in versions[0][1]
    assert consistency_problems(config.warehouse_path) == []

    # a fresh warehouse from the same files in one run
    fresh = load_config(
        write_sample_config(
            small_sample.root, name="fresh.yaml", warehouse={"path": "fresh/warehouse.duckdb"}
        )
    )
    run_pipeline(fresh, dashboard=False)
    incremental = warehouse_checksums(config.warehouse_path)
    assert incremental == warehouse_checksums(fresh.warehouse_path)
    # and the late data did change the results
    assert query(
        config.warehouse_path,
        "select count(*) from session_touchpoints where touchpoint = 'call:order_placed' and event_id in"
        " (select event_id from touchpoints where record_key = ?)",
        [f"connect:{contact_id}"],
    ) == [(1,)]

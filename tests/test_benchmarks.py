"""Smoke test of the benchmark harness: ``--quick`` end to end in a temp folder.

Checks the harness works (every stage ran or says why not, times are positive, the report
renders), not how fast anything is. The bulk generator's guarantees are checked on a tiny log.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from benchmarks.run import TARGETS, evaluate_targets

from journey_mining.generate.bulk import BulkManifest, parse_count, write_bulk_events
from journey_mining.ingest.loader import load_sources
from journey_mining.warehouse import connect
from tests.conftest import make_config

ROOT = Path(__file__).resolve().parents[1]
STAGES = (
    "floor",
    "load",
    "build",
    "graph",
    "funnel_4",
    "funnel_20",
    "friction",
    "dashboard",
    "profile",
    "increment",
    "pm4py",
)


def test_bulk_log_is_deterministic_exact_and_shuffled(tmp_path: Path) -> None:
    first = write_bulk_events(tmp_path / "a", 30_000, seed=3, rows_per_file=10_000, row_group_size=4_000)
    again = write_bulk_events(tmp_path / "b", 30_000, seed=3, rows_per_file=10_000, row_group_size=4_000)
    other = write_bulk_events(tmp_path / "c", 30_000, seed=4, rows_per_file=10_000, row_group_size=4_000)
    assert len(first.files) == 3
    assert [p.read_bytes() for p in first.files] == [p.read_bytes() for p in again.files]
    assert first.files[0].read_bytes() != other.files[0].read_bytes()
    assert BulkManifest.read(tmp_path / "a") == first
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    glob = first.glob
    total, customers, cookies, users, emails, lo, hi = con.execute(
        """select count(*), count(distinct customer_id), count(customer_id), count(user_id), count(email),
                  min(ts), max(ts) from read_parquet(?)""",
        [glob],
    ).fetchall()[0]
    assert total == 30_000 == sum(first.channel_events.values())
    assert customers <= first.customers
    assert 0 < users < cookies < total  # logged-in sessions and cookie-less calls
    assert emails > 0
    assert lo.isoformat() >= first.start
    assert hi.isoformat() < first.end
    shares = {k: v / total for k, v in first.channel_events.items()}
    assert shares["web"] == pytest.approx(0.85, abs=0.04)
    assert shares["chat"] == pytest.approx(0.08, abs=0.03)
    assert shares["call"] == pytest.approx(0.07, abs=0.03)
    meta = pq.ParquetFile(first.files[0]).metadata
    assert meta.num_row_groups == 3  # 10,000 rows in groups of 4,000
    # not sorted by customer or time
    ordered = con.execute(
        "select count(*) filter (where customer_id >= lag_c) * 1.0 / count(*) from "
        "(select customer_id, lag(customer_id) over () as lag_c from read_parquet(?))",
        [str(first.files[0])],
    ).fetchall()[0][0]
    assert 0.3 < ordered < 0.7


def test_bulk_log_loads_as_an_events_source(tmp_path: Path) -> None:
    manifest = write_bulk_events(tmp_path / "bulk", 5_000, seed=1)
    config = make_config(tmp_path, sources=[manifest.source("bulk")])
    con = connect(config.warehouse_path)
    report = load_sources(con, config)
    totals = report.by_source()["bulk"]
    assert totals["read"] == 5_000
    assert totals["rejected"] == 0
    assert totals["loaded"] + totals["duplicate"] == 5_000
    channels = dict(con.execute("select channel, count(*) from touchpoints group by channel").fetchall())
    assert set(channels) == {"web", "chat", "call"}
    named = con.execute("select count(*) from touchpoints where touchpoint = 'web:page_view'").fetchall()[0][
        0
    ]
    assert named == 0  # every generated page matches a default page rule
    con.close()


def test_parse_count() -> None:
    assert parse_count("100k") == 100_000
    assert parse_count("1.5M") == 1_500_000
    assert parse_count("7") == 7
    with pytest.raises(ValueError, match="not a"):
        parse_count("1.5")


@pytest.mark.slow
def test_quick_benchmark_end_to_end(tmp_path: Path) -> None:
    results = tmp_path / "results"
    readme = tmp_path / "README.md"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--quick",
            "--data-dir",
            str(tmp_path / "data"),
            "--results-dir",
            str(results),
            "--readme",
            str(readme),
            "--profile",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (path,) = results.glob("*-100k.json")
    record = json.loads(path.read_text())
    assert record["events"] == 100_000
    assert record["machine"]["cores"] >= 1
    assert record["machine"]["ram_bytes"] > 0
    for stage in STAGES:
        result = record["stages"][stage]
        if result["status"] == "ok":
            assert result["seconds"] > 0, stage
            assert result["peak_rss_bytes"] > 0, stage
            assert result["spill_peak_bytes"] >= 0, stage
        else:  # an optional module or PM4Py not installed: said so, never silently missing
            assert result["status"] in ("not available", "skipped"), (stage, result)
            assert result["reason"]
    for stage in ("floor", "load", "build", "graph", "funnel_4", "funnel_20", "increment"):
        assert record["stages"][stage]["status"] == "ok", stage
    assert record["stages"]["load"]["detail"]["load"]["events"]["loaded"] > 0
    assert record["stages"]["increment"]["detail"]["files_skipped"] >= 1
    # friction and dashboard say where their time went: every part timed, none counted twice
    for stage, expected in (
        (
            "friction",
            {"prepare the _fr_* tables", "kind loop", "kind drop_off", "statistics and ranking (assemble)"},
        ),
        ("dashboard", {"sankey step rows (prepare_rows)", "funnel units (prepare_funnel)", "segment views"}),
    ):
        result = record["stages"][stage]
        assert result["status"] == "ok", (stage, result)
        parts = result["detail"]["parts"]
        assert expected <= set(parts), (stage, parts)
        assert all(parts[name] > 0 for name in expected), (stage, parts)
        assert min(parts.values()) >= 0, (stage, parts)  # the rest: the stage's time outside the parts
    derived = record["derived"]
    assert derived["end_to_end_seconds"] > 0
    assert derived["ratio_sessionize_vs_sort"] > 0
    # the sort floor is the faster sort; the bare copy is reported beside it, not in it
    floor_parts = record["stages"]["floor"]["detail"]["parts"]
    assert floor_parts["copy"] > 0
    assert record["stages"]["floor"]["seconds"] == min(floor_parts["sort"], floor_parts["sort_window"])
    assert derived["ratio_load_vs_copy"] == round(
        record["stages"]["load"]["seconds"] / floor_parts["copy"], 2
    )
    assert "| load / bare copy of the Parquet files into a table |" in proc.stdout
    assert "| funnel, 20 steps |" in proc.stdout
    text = readme.read_text()
    assert "100k" in text
    assert "| target | measured | met |" in text
    assert list(results.glob("*-100k-profile.txt"))


def test_a_failed_100m_build_fails_the_end_to_end_target_with_its_reason() -> None:
    failure = "Traceback ...\n  IO Error: No space left on device\n"
    record = {
        "size": "100M",
        "events": 100_000_000,
        "stages": {
            "load": {"status": "ok", "seconds": 300.0},
            "build": {"status": "failed", "error": failure},
        },
        "derived": {},
        "settings": {"memory_limit": "4GB"},
    }
    rows = {row["target"]: row for row in evaluate_targets({"100M": record})}
    e2e = rows[TARGETS["e2e_100m"]]
    assert e2e["met"] is False
    assert e2e["measured"] == "failed: build: IO Error: No space left on device"

from __future__ import annotations

from datetime import date
from pathlib import Path

from journey_mining.ingest.files import path_patterns, source_files
from tests.conftest import make_config


def test_date_placeholder_selects_the_run_day_and_lookback(tmp_path: Path) -> None:
    for day in ("20261101", "20261102", "20261103", "20261104"):
        (tmp_path / f"events_{day}.csv").write_text("x\n")
    config = make_config(
        tmp_path,
        sources=[{"name": "web", "kind": "events", "path": "events_{date:%Y%m%d}.csv", "lookback_days": 1}],
    )
    source = config.sources[0]
    assert [p.name for p in source_files(config, source, date(2026, 11, 3))] == [
        "events_20261102.csv",
        "events_20261103.csv",
    ]
    assert len(source_files(config, source)) == 4


def test_paths_without_placeholder_ignore_the_run_date() -> None:
    assert path_patterns("chat/*.jsonl", date(2026, 11, 3), 5) == ["chat/*.jsonl"]
    assert path_patterns("day={date}/x.parquet", date(2026, 11, 3)) == ["day=2026-11-03/x.parquet"]

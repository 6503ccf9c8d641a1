"""The ``journey-mining`` command as a user runs it (the installed console script, in a
child process): errors are one clear line, ``--debug`` shows the traceback, ``run`` prints
per-source counts and where the outputs are, ``backfill`` loads each day's files once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import SampleCopy, write_sample_config

PROJECT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).with_name("journey-mining")


def journey_mining(
    *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "journey_mining.cli"]
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout, check=False
    )


BAD_CONFIGS = {
    "unknown key": ("sesion:\n  timeout_minutes: 30\n", r"sesion: Extra inputs are not permitted"),
    "bad value": (
        "session:\n  timeout_minutes: -5\n",
        r"session\.timeout_minutes: Input should be greater than 0",
    ),
    "bad source": (
        "sources:\n  - name: web\n    kind: omniture\n    path: web/*.csv\n",
        r"sources\.0\.kind: Input should be 'ga4'",
    ),
    "two mistakes": (
        "warehouse:\n  threads: 0\nsources:\n  - name: Web Site\n    kind: ga4\n    path: x.jsonl\n",
        r"warehouse\.threads: .*; sources\.0\.name: ",
    ),
    "not YAML": ("sources: [\n", r"not valid YAML at line 2, column 1: "),
}


def _check_one_line(returncode: int, stdout: str, stderr: str, bad: Path, key: str) -> None:
    assert returncode == 1
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("journey-mining: error: ")
    assert str(bad) in lines[0]
    assert re.search(key, lines[0]), lines[0]
    assert "Traceback" not in stderr


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_validate_config_error_is_one_line_naming_file_and_key(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from journey_mining.cli import main

    text, key = BAD_CONFIGS[case]
    bad = tmp_path / "bad-config.yaml"
    bad.write_text(text, encoding="utf-8")
    returncode = main(["validate-config", str(bad)])
    captured = capsys.readouterr()
    _check_one_line(returncode, captured.out, captured.err, bad, key)


def test_the_installed_command_prints_the_same_one_line(tmp_path: Path) -> None:
    text, key = BAD_CONFIGS["two mistakes"]
    bad = tmp_path / "bad-config.yaml"
    bad.write_text(text, encoding="utf-8")
    done = journey_mining("validate-config", str(bad))
    _check_one_line(done.returncode, done.stdout, done.stderr, bad, key)


def test_validate_config_with_debug_shows_the_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad-config.yaml"
    bad.write_text(BAD_CONFIGS["bad value"][0], encoding="utf-8")
    done = journey_mining("--debug", "validate-config", str(bad))
    assert done.returncode == 1
    assert done.stderr.startswith("Traceback (most recent call last):")
    assert "journey_mining.config.ConfigError" in done.stderr
    assert done.stderr.splitlines()[-1].startswith("journey-mining: error: invalid configuration in ")


def test_validate_config_on_a_missing_file_and_a_good_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from journey_mining.cli import main

    assert main(["validate-config", str(tmp_path / "nowhere.yaml")]) == 1
    missing = capsys.readouterr()
    assert missing.err == (
        f"journey-mining: error: cannot read config file {tmp_path / 'nowhere.yaml'}: No such file or directory\n"
    )
    assert main(["validate-config", str(PROJECT / "data" / "sample" / "config.yaml")]) == 0
    good = capsys.readouterr()
    assert re.fullmatch(r".*config\.yaml: valid \(4 sources, fingerprint [0-9a-f]{16}\)\n", good.out)


def _loaded(warehouse: Path) -> list[tuple[str, int, int, int, int, int, int]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            """select source, count(*)::int, sum(rows_read)::int, sum(rows_loaded)::int,
                      sum(rows_duplicate)::int, sum(rows_rejected)::int, sum(touchpoints_written)::int
               from loaded_files group by source order by source"""
        ).fetchall()
    finally:
        con.close()


def test_run_prints_counts_per_source_and_where_the_outputs_are(small_sample: SampleCopy) -> None:
    done = journey_mining("run", str(small_sample.config_path), cwd=small_sample.root)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    # progress on stderr, one line per step
    steps = [line.split("] ", 1)[1] for line in done.stderr.splitlines()]
    assert steps[0] == "loading sources ..."
    assert steps[-1] == "writing the dashboard ..."
    # the counts table: one row per source, equal to what the warehouse recorded
    rows = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 8 and fields[0] in ("web", "chat", "calls", "crm"):
            rows[fields[0]] = tuple(int(v) for v in fields[1:])
    assert sorted(rows) == ["calls", "chat", "crm", "web"]
    for source, files, read, loaded, duplicate, rejected, touchpoints in _loaded(small_sample.warehouse_path):
        assert rows[source] == (files, 0, read, loaded, duplicate, rejected, touchpoints)
        assert read == loaded + duplicate + rejected
    assert rows["calls"][4] > 0, "the sample's re-sent call records are counted as duplicates"
    dashboard = re.search(r"^dashboard: (.+)$", out, re.MULTILINE)
    assert dashboard is not None
    assert Path(dashboard.group(1)).is_file()
    assert Path(dashboard.group(1)).parent == small_sample.config.output_path / "dashboards"
    assert f"warehouse: {small_sample.warehouse_path}" in out.splitlines()


def test_run_refuses_a_warehouse_in_use_with_one_line(small_sample: SampleCopy) -> None:
    from journey_mining.runs import run_lock

    with run_lock(small_sample.config):
        done = journey_mining("run", str(small_sample.config_path))
    assert done.returncode == 1
    last = done.stderr.splitlines()[-1]
    assert re.fullmatch(
        rf"journey-mining: error: another run \(pid {os.getpid()} since .* UTC\) is using warehouse "
        rf"{re.escape(str(small_sample.warehouse_path))}; try again when it has finished",
        last,
    ), done.stderr
    assert "Traceback" not in done.stderr


def test_backfill_loads_each_days_files_once(small_sample: SampleCopy) -> None:
    # dated sources: a run reads its day's GA4 and Connect files (web also the day before)
    sources = [dict(s) for s in _dated_sources()]
    config = write_sample_config(small_sample.root, name="dated.yaml", dated=True, sources=sources)
    first = journey_mining("backfill", str(config), "--start", "2026-11-02", "--end", "2026-11-03")
    assert first.returncode == 0, first.stderr
    days = re.findall(r"^(2026-11-0\d): run (\S+), dashboard (\S+)$", first.stdout, re.MULTILINE)
    assert [d for d, _, _ in days] == ["2026-11-02", "2026-11-03"]
    assert all(Path(page).is_file() for _, _, page in days)
    # overlapping the first: day 3 again (and, by lookback, day 2), then day 4
    second = journey_mining("backfill", str(config), "--start", "2026-11-03", "--end", "2026-11-04")
    assert second.returncode == 0, second.stderr

    con = duckdb.connect(str(small_sample.warehouse_path), read_only=True)
    try:
        files = con.execute("select path, count(*) from loaded_files group by path").fetchall()
        runs = con.execute("select run_date::varchar, status from runs order by started_at").fetchall()
    finally:
        con.close()
    names = sorted(Path(path).name for path, _ in files)
    assert all(n == 1 for _, n in files), files
    assert names == [
        "connect_ctr_20261102.jsonl",
        "connect_ctr_20261103.jsonl",
        "connect_ctr_20261104.jsonl",
        "customers.csv",
        "events_20261102.jsonl.gz",
        "events_20261103.jsonl.gz",
        "events_20261104.jsonl.gz",
        "intercom_conversations.jsonl",
    ]
    assert runs == [
        ("2026-11-02", "success"),
        ("2026-11-03", "success"),
        ("2026-11-03", "success"),
        ("2026-11-04", "success"),
    ]


def _dated_sources() -> list[dict[str, object]]:
    from tests.conftest import sample_sources

    sources = sample_sources(dated=True)
    for source in sources:
        if source["name"] == "web":
            source["lookback_days"] = 1
    return sources

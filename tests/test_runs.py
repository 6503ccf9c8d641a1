from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from journey_mining.runs import RunInProgressError, finish_run, previous_headlines, run_lock, start_run
from journey_mining.warehouse import connect
from tests.conftest import make_config

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from journey_mining.config import parse_config
    from journey_mining.runs import run_lock
    config = parse_config({"warehouse": {"path": "warehouse.duckdb"}}, base_dir=Path(sys.argv[1]))
    with run_lock(config):
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


def hold_lock(tmp_path: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process holding the run lock for ``seconds`` (its pipe already read)."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    with process.stdout:
        assert process.stdout.readline().strip() == "locked"
    return process


def test_second_run_fails_with_a_clear_message(tmp_path: Path) -> None:
    holder = hold_lock(tmp_path, 30)
    try:
        with (
            pytest.raises(RunInProgressError, match=rf"another run \(pid {holder.pid} since"),
            run_lock(make_config(tmp_path)),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_second_run_waits_for_the_first(tmp_path: Path) -> None:
    holder = hold_lock(tmp_path, 1.0)
    started = time.monotonic()
    with run_lock(make_config(tmp_path), wait_seconds=30):
        waited = time.monotonic() - started
    holder.wait()
    assert 0.3 < waited < 30


def test_killed_run_does_not_block_the_next(tmp_path: Path) -> None:
    holder = hold_lock(tmp_path, 60)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with run_lock(make_config(tmp_path)) as lock_path:
        assert lock_path.exists()


def test_runs_table_records_status_and_history(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    con = connect(config.warehouse_path)
    start_run(con, config, "r1", None)
    finish_run(con, "r1", status="success", headline={"sessions": 10})
    start_run(con, config, "r2", None)
    finish_run(con, "r2", status="failed", error="boom")
    start_run(con, config, "r3", None)
    assert previous_headlines(con, "r3") == [{"sessions": 10}]
    rows = con.execute(
        "select run_id, status, error, config_fingerprint from runs order by run_id"
    ).fetchall()
    assert rows == [
        ("r1", "success", None, config.fingerprint()),
        ("r2", "failed", "boom", config.fingerprint()),
        ("r3", "running", None, config.fingerprint()),
    ]

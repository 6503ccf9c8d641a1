"""Run bookkeeping: one run at a time per warehouse, and a ``runs`` row for each.

Two runs on one warehouse must not interleave: DuckDB locks the file per open, but a run
opens it once per step, so a run holds an advisory lock file for its whole length. The
kernel releases the lock when the process dies (even by SIGKILL), so a killed run never
blocks the next one.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import duckdb

from journey_mining import __version__
from journey_mining.config import Config

RUNS_DDL = """
create table if not exists runs (
    run_id varchar primary key,
    run_date date,
    started_at timestamp not null,
    finished_at timestamp,
    status varchar not null,
    config_fingerprint varchar not null,
    code_version varchar not null,
    counts json,
    headline json,
    error varchar
)"""


class RunInProgressError(RuntimeError):
    """Another run holds this warehouse."""


@contextmanager
def run_lock(config: Config, *, wait_seconds: float = 0.0) -> Iterator[Path]:
    """Hold the warehouse's run lock; wait up to ``wait_seconds`` for another run to finish."""
    lock_path = config.warehouse_path.with_name(config.warehouse_path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_path.open("a+")
    deadline = time.monotonic() + wait_seconds
    locked = False
    try:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                locked = True
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RunInProgressError(
                        f"another run ({_lock_holder(handle)}) is using warehouse {config.warehouse_path}; "
                        "try again when it has finished"
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC")
        handle.flush()
        yield lock_path
    finally:
        if locked:  # leave no stale holder for the next run's message
            handle.seek(0)
            handle.truncate()
        handle.close()  # closing releases the flock


def _lock_holder(handle: IO[str]) -> str:
    """Who holds the lock, as it wrote just after taking it (allowing it a moment to)."""
    for _ in range(20):
        handle.seek(0)
        holder = handle.read().strip()
        if holder:
            return holder
        time.sleep(0.05)
    return "another process"


def utc_now() -> datetime:
    """Naive UTC now, matching the warehouse's timestamps."""
    return datetime.now(UTC).replace(tzinfo=None)


def start_run(con: duckdb.DuckDBPyConnection, config: Config, run_id: str, run_date: Any) -> None:
    """Record a run as ``running``. The caller holds the run lock, so a run still marked
    ``running`` died without recording its end (killed): it is marked ``interrupted``."""
    con.execute(RUNS_DDL)
    con.execute(
        "update runs set status = 'interrupted', finished_at = ?,"
        " error = coalesce(error, 'the run ended without recording a result (process killed?)')"
        " where status = 'running'",
        [utc_now()],
    )
    con.execute(
        "insert into runs (run_id, run_date, started_at, status, config_fingerprint, code_version)"
        " values (?, ?, ?, 'running', ?, ?)",
        [run_id, run_date, utc_now(), config.fingerprint(), __version__],
    )


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    status: str,
    counts: dict[str, Any] | None = None,
    headline: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    con.execute(RUNS_DDL)
    con.execute(
        "update runs set finished_at = ?, status = ?, counts = ?, headline = ?, error = ? where run_id = ?",
        [
            utc_now(),
            status,
            json.dumps(counts or {}, sort_keys=True, default=str),
            json.dumps(headline or {}, sort_keys=True, default=str),
            error,
            run_id,
        ],
    )


def previous_headlines(con: duckdb.DuckDBPyConnection, run_id: str, limit: int = 7) -> list[dict[str, Any]]:
    """Headline numbers of the last successful runs before this one, newest first."""
    con.execute(RUNS_DDL)
    rows = con.execute(
        "select headline from runs where status = 'success' and run_id <> ? and headline is not null"
        " order by started_at desc limit ?",
        [run_id, limit],
    ).fetchall()
    return [json.loads(row[0]) for row in rows]

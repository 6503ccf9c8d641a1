"""Faults during a run: concurrent runs, kill -9 at every stage, a full disk, a source file
replaced while it is read. After each, the warehouse is consistent (every file loaded whole
or not at all, counts reconcile) and a re-run ends equal to an uninterrupted run.

Crashes are placed deterministically: a child process runs the real pipeline with one
library function wrapped to SIGKILL the process at that point (nothing test-only in src).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from journey_mining.ingest import files as ingest_files
from journey_mining.ingest import loader
from journey_mining.ingest.loader import LoadError
from journey_mining.pipeline import load_step, run_pipeline
from tests import corpus
from tests.conftest import (
    MARTS,
    SampleCopy,
    consistency_problems,
    table_checksums,
    warehouse_checksums,
    write_sample_config,
)

PROJECT = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).with_name("journey-mining")


def fault_point() -> None:
    """Count one fault point in the session summary (``tests/corpus.py``)."""
    corpus.count("fault points")


def child_env() -> dict[str, str]:
    """The environment for a child run: this one's (hash key included), no Prefect API."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT), env.get("PYTHONPATH", "")) if p)
    return env


def run_states(warehouse: Path) -> list[tuple[str, str | None]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select status, error from runs order by started_at").fetchall()
    finally:
        con.close()


def loaded_file_count(warehouse: Path) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        row = con.execute("select count(*) from loaded_files").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def dashboards(sample: SampleCopy) -> dict[str, bytes]:
    """Every file in the dashboard folder, by name, with its bytes."""
    folder = sample.config.output_path / "dashboards"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


# --- the state before a fault: days 1-3 loaded and published, days 4-5 not delivered yet --------


@pytest.fixture(scope="module")
def days_1_to_3(tmp_path_factory: pytest.TempPathFactory, small_sample_master: Path) -> Path:
    """A sample copy whose days 1-3 were run (dashboard written), days 4-5 held back."""
    from tests.conftest import TEST_HASH_KEY

    sample = SampleCopy.create(tmp_path_factory.mktemp("days-1-to-3"), small_sample_master)
    sample.hold_back(4, 5)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JOURNEY_MINING_HASH_KEY", TEST_HASH_KEY)
        run_pipeline(sample.config)
    return sample.root


@pytest.fixture
def after_days_1_to_3(tmp_path: Path, days_1_to_3: Path) -> SampleCopy:
    """This test's own copy of the days 1-3 state, with days 4-5 now delivered."""
    sample = SampleCopy(days_1_to_3).clone(tmp_path / "copy")
    sample.deliver()
    return sample


# --- a source file replaced while it is being read -------------------------------------------


def _rewrite_first_half(path: Path) -> bytes:
    """Replace ``path`` with the first half of its records (a re-export); returns the old bytes."""
    old = path.read_bytes()
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        lines = handle.read().splitlines(keepends=True)
    with opener(path, "wb") as handle:
        handle.writelines(lines[: len(lines) // 2])
    return old


@pytest.mark.parametrize(
    ("target", "moment"),
    [
        # gzip: checksummed, then decompressed into a scratch copy (read twice)
        ("ga4/events_20261102.jsonl.gz", "after the checksum"),
        # plain UTF-8: checksummed, then read in place by the engine
        ("call/connect_ctr_20261102.jsonl", "after prepare"),
    ],
)
def test_file_replaced_while_read_fails_that_file_and_loses_nothing(
    small_sample: SampleCopy, target: str, moment: str
) -> None:
    fault_point()
    small_sample.hold_back(2, 3, 4, 5)
    path = small_sample.data / target
    replaced: list[bytes] = []

    def replace_once() -> None:
        if not replaced:
            replaced.append(_rewrite_first_half(path))

    monkeypatch = pytest.MonkeyPatch()
    if moment == "after the checksum":
        real_sha = ingest_files.sha256_of

        def sha_then_replace(p: Path) -> str:
            digest = real_sha(p)
            if p == path:
                replace_once()
            return digest

        monkeypatch.setattr(ingest_files, "sha256_of", sha_then_replace)
    else:
        real_prepare = loader.prepare

        def prepare_then_replace(p: Path, *args: Any) -> Any:
            prepared = real_prepare(p, *args)
            if p == path:
                replace_once()
            return prepared

        monkeypatch.setattr(loader, "prepare", prepare_then_replace)

    config = small_sample.config
    with pytest.raises(LoadError, match="changed while") as failed:
        load_step(config)
    assert replaced, "the file was not replaced: the fault was not injected"
    assert str(path) in str(failed.value)
    assert failed.value.transient, "a retry reads the new version: the failure is transient"
    assert consistency_problems(config.warehouse_path) == []
    con = duckdb.connect(str(config.warehouse_path), read_only=True)
    recorded = {r[0] for r in con.execute("select path from loaded_files").fetchall()}
    con.close()
    assert str(path) not in recorded, "nothing of a file read inconsistently may be recorded"
    monkeypatch.undo()

    # the next run loads the new version; the old bytes delivered again load too (their
    # checksum was never recorded for other content)
    load_step(config)
    stem, suffixes = path.name.split(".", 1)
    (path.parent / f"{stem}_again.{suffixes}").write_bytes(replaced[0])
    load_step(config)
    con = duckdb.connect(str(config.warehouse_path), read_only=True)
    shas = dict(con.execute("select path, sha256 from loaded_files").fetchall())
    con.close()
    assert shas[str(path)] == ingest_files.sha256_of(path)
    assert consistency_problems(config.warehouse_path) == []

    # equal to loading the final files in one go
    fresh = write_sample_config(small_sample.root, name="fresh.yaml", warehouse={"path": "fresh/w.duckdb"})
    from journey_mining.config import load_config

    load_step(load_config(fresh))
    loaded = ("touchpoints", "identities", "rejected_rows")
    assert table_checksums(config.warehouse_path, loaded) == table_checksums(
        load_config(fresh).warehouse_path, loaded
    )


# --- kill -9 at every stage ----------------------------------------------------------------

CRASHING_RUN = textwrap.dedent(
    """
    import os, signal, sys
    from journey_mining import pipeline
    from journey_mining.config import load_config

    config_path, stage = sys.argv[1], sys.argv[2]

    def die():
        print("killing", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    def after(module, name, on_call=1):
        # wrap module.name: run the real function, then die on its on_call-th call
        real, calls = getattr(module, name), []
        def wrapped(*args, **kwargs):
            result = real(*args, **kwargs)
            calls.append(1)
            if len(calls) == on_call:
                die()
            return result
        setattr(module, name, wrapped)

    if stage == "load":
        # the second new file's touchpoints are inserted, its loaded_files row not yet
        from journey_mining.ingest import loader
        after(loader, "_commit_touchpoints", on_call=2)
    elif stage == "build":
        # half of the models rebuilt (sessions, not journeys yet), nothing committed
        from journey_mining import sqlmodels
        after(sqlmodels, "materialise", on_call=10)
    elif stage == "friction":
        import journey_mining.friction as friction
        after(friction, "detect_friction")  # findings computed, not committed
    elif stage == "dashboard":
        from journey_mining.viz import dashboard
        real_write = dashboard.write_atomic
        def write_atomic(path, chunks):
            if path.name.startswith("dashboard-") and path.suffix == ".html":
                def cut_short():
                    for number, chunk in enumerate(chunks):
                        if number == 2:
                            die()  # part of the page is in the temp file
                        yield chunk
                return real_write(path, cut_short())
            return real_write(path, chunks)
        dashboard.write_atomic = write_atomic
    # stage "external": nothing here; the test kills this process from outside

    pipeline.run_pipeline(
        load_config(config_path),
        dashboard=stage in ("dashboard", "external"),
        progress=lambda step: print(step, flush=True),
    )
    print("finished", flush=True)
    """
)

STAGE_LINE = {
    "load": "loading sources",
    "build": "stitching identities, building sessions, journeys and marts",
    "friction": "detecting friction",
    "dashboard": "writing the dashboard",
    "external": "stitching identities, building sessions, journeys and marts",
}


def crash_run(sample: SampleCopy, stage: str) -> list[str]:
    """Run the pipeline in a child process that is SIGKILLed at ``stage``; its progress lines."""
    child = subprocess.Popen(
        [sys.executable, "-c", CRASHING_RUN, str(sample.config_path), stage],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=child_env(),
        cwd=sample.root,
    )
    assert child.stdout is not None
    lines: list[str] = []
    try:
        with child.stdout:
            for line in child.stdout:
                lines.append(line.rstrip("\n"))
                if stage == "external" and lines[-1] == STAGE_LINE[stage]:
                    time.sleep(0.2)  # somewhere inside the build transaction
                    os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=300)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL, "not killed:\n" + "\n".join(lines[-40:])
    assert "finished" not in lines
    assert STAGE_LINE[stage] in lines, lines
    return lines


@pytest.mark.parametrize("stage", ["load", "build", "friction", "dashboard", "external"])
def test_kill_9_at_any_stage_then_rerun_equals_an_uninterrupted_run(
    after_days_1_to_3: SampleCopy, stage: str, reference_checksums: dict[str, tuple[int, str]]
) -> None:
    fault_point()
    sample = after_days_1_to_3
    warehouse = sample.warehouse_path
    before = warehouse_checksums(warehouse)
    files_before = loaded_file_count(warehouse)
    pages_before = dashboards(sample)
    assert any(name.startswith("dashboard-") for name in pages_before)

    crash_run(sample, stage)

    # consistent right after the crash: every file whole or absent, counts reconcile
    assert consistency_problems(warehouse) == []
    crashed = warehouse_checksums(warehouse)
    marts = list(MARTS)
    if stage == "load":
        # the first new file committed, the one being loaded when killed left no trace
        new_files = len(sample.daily_files(4, 5))
        assert files_before < loaded_file_count(warehouse) < files_before + new_files
        assert {t: crashed[t] for t in marts} == {t: before[t] for t in marts}
    elif stage == "build":
        # every file loaded; the rebuild never committed: the previous marts stand
        assert crashed["touchpoints"] == reference_checksums["touchpoints"]
        assert {t: crashed[t] for t in marts} == {t: before[t] for t in marts}
    elif stage == "external":
        # killed from outside during the build (or, on a fast machine, just after it):
        # journeys are all as before or all rebuilt, never a mix
        assert crashed["touchpoints"] == reference_checksums["touchpoints"]
        journeys = [t for t in marts if t != "friction"]
        assert {t: crashed[t] for t in journeys} in (
            {t: before[t] for t in journeys},
            {t: reference_checksums[t] for t in journeys},
        )
    elif stage == "friction":
        # journeys committed, the findings not: the previous findings stand
        assert {t: crashed[t] for t in marts if t != "friction"} == {
            t: reference_checksums[t] for t in marts if t != "friction"
        }
        assert crashed["friction"] == before["friction"]
    else:
        assert crashed == reference_checksums
    # the previous dashboard and index survive; no partial page is published
    pages_after = dashboards(sample)
    published = {n: b for n, b in pages_after.items() if not n.startswith(".")}
    assert published == pages_before
    assert run_states(warehouse)[-1][0] == "running"  # nothing recorded its end
    killed_temps = sorted(n for n in pages_after if n.startswith(".dashboard-") and n.endswith(".tmp"))
    if stage == "dashboard":
        assert killed_temps, "the kill left the page's temp file behind"
        # files of others in the folder, named alike but not as a dashboard write names its temp files
        others = {".dashboard-notes.tmp": b"mine", "notes.tmp": b"mine too"}
        for name, data in others.items():
            (sample.config.output_path / "dashboards" / name).write_bytes(data)

    summary = run_pipeline(sample.config, dashboard=stage == "dashboard")
    assert consistency_problems(warehouse) == []
    assert warehouse_checksums(warehouse) == reference_checksums
    states = [status for status, _ in run_states(warehouse)]
    assert states == ["success", "interrupted", "success"]
    if stage == "dashboard":
        assert summary.outputs["dashboard"].exists()
        index = (summary.outputs["dashboard"].parent / "index.html").read_text("utf-8")
        assert summary.outputs["dashboard"].name in index
        assert all(name in index for name in published if name.endswith(".html") and name != "index.html")
        # the next successful write removed the killed write's temp file, and nothing else
        pages = dashboards(sample)
        assert not [name for name in killed_temps if name in pages]
        assert {name: pages.get(name) for name in others} == others


# --- two runs at once ------------------------------------------------------------------------

RACING_RUN = textwrap.dedent(
    """
    import json, sys
    from journey_mining.config import load_config
    from journey_mining.pipeline import run_pipeline
    from journey_mining.runs import RunInProgressError

    config = load_config(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    try:
        summary = run_pipeline(config, wait_seconds=float(sys.argv[2]), dashboard=False)
    except RunInProgressError as err:
        print(json.dumps({"error": str(err)}), flush=True)
        sys.exit(3)
    loaded = sum(f.status == "loaded" for f in summary.load.files)
    print(json.dumps({"run_id": summary.run_id, "files_loaded": loaded}), flush=True)
    """
)


def race(sample: SampleCopy, wait_seconds: float) -> list[tuple[int, dict[str, Any], int]]:
    """Two processes start ``run_pipeline`` on one warehouse at the same moment."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", RACING_RUN, str(sample.config_path), str(wait_seconds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        for _ in range(2)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        results = []
        for child in children:
            out, err = child.communicate(timeout=300)
            assert out.strip(), err[-3000:]
            results.append((child.returncode, json.loads(out.strip().splitlines()[-1]), child.pid))
        return results
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()


def test_two_runs_at_once_one_fails_clearly_and_nothing_is_corrupted(
    small_sample: SampleCopy, reference_checksums: dict[str, tuple[int, str]]
) -> None:
    fault_point()
    results = sorted(race(small_sample, wait_seconds=0), key=lambda r: r[0])
    (ok, winner, winner_pid), (refused, loser, _) = results
    assert (ok, refused) == (0, 3), results
    assert winner["files_loaded"] == len(
        [p for p in small_sample.data.rglob("*") if p.suffix in (".gz", ".jsonl", ".csv")]
    )
    assert loser["error"].startswith(f"another run (pid {winner_pid} since ")
    assert (
        f"is using warehouse {small_sample.warehouse_path}; try again when it has finished" in loser["error"]
    )
    # the refused run never touched the warehouse: one run recorded
    assert run_states(small_sample.warehouse_path) == [("success", None)]
    assert consistency_problems(small_sample.warehouse_path) == []
    run_pipeline(small_sample.config, dashboard=False)
    assert warehouse_checksums(small_sample.warehouse_path) == reference_checksums


def test_a_finished_run_leaves_no_stale_holder_in_the_lock_file(tmp_path: Path) -> None:
    """The refusal names the process holding the lock, never one that has finished."""
    from journey_mining.runs import run_lock
    from tests.conftest import make_config

    config = make_config(tmp_path)
    with run_lock(config) as lock_path:
        assert lock_path.read_text().startswith(f"pid {os.getpid()} since ")
    assert lock_path.read_text() == ""


def test_two_runs_at_once_the_second_waits_then_loads_nothing_new(
    small_sample: SampleCopy, reference_checksums: dict[str, tuple[int, str]]
) -> None:
    fault_point()
    results = race(small_sample, wait_seconds=240)
    assert [code for code, _, _ in results] == [0, 0], results
    assert sorted(r["files_loaded"] for _, r, _ in results)[0] == 0  # the later run found it all loaded
    assert run_states(small_sample.warehouse_path) == [("success", None), ("success", None)]
    assert consistency_problems(small_sample.warehouse_path) == []
    assert warehouse_checksums(small_sample.warehouse_path) == reference_checksums


# --- a full disk ----------------------------------------------------------------------------


def mount_tmpfs(folder: Path, size: str) -> None:
    """Put ``folder`` (keeping its files) on a tmpfs of ``size``; skip where mounting is not
    allowed (not root, or a container without CAP_SYS_ADMIN)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a size-limited tmpfs needs root")
    kept = folder.with_name(folder.name + ".kept")
    folder.rename(kept)
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if done.returncode != 0:
        folder.rmdir()
        kept.rename(folder)
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    for path in kept.iterdir():
        shutil.move(str(path), str(folder / path.name))
    kept.rmdir()


def unmount(folder: Path) -> None:
    if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill(folder: Path, leave: int) -> Path:
    """Fill the file system of ``folder`` until ``leave`` bytes are free."""
    stats = os.statvfs(folder)
    filler = folder / "filler"
    with filler.open("wb") as handle:
        remaining = stats.f_bavail * stats.f_frsize - leave
        while remaining > 0:
            remaining -= handle.write(b"\0" * min(remaining, 1 << 20))
    return filler


def limit_file_size(limit: int) -> Any:
    """preexec_fn: files may not grow past ``limit`` bytes (writes fail with EFBIG)."""
    import resource

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize("where", ["warehouse-tmpfs", "dashboard-tmpfs", "warehouse-rlimit"])
def test_disk_full_fails_clearly_and_keeps_the_previous_state(
    after_days_1_to_3: SampleCopy, where: str, reference_checksums: dict[str, tuple[int, str]]
) -> None:
    fault_point()
    sample = after_days_1_to_3
    warehouse = sample.warehouse_path
    before = warehouse_checksums(warehouse)
    pages_before = dashboards(sample)
    page_size = max(len(b) for n, b in pages_before.items() if n.endswith(".html"))
    mounted: list[Path] = []
    filler: Path | None = None
    preexec = None
    try:
        if where == "warehouse-tmpfs":
            mount_tmpfs(warehouse.parent, "64m")
            mounted.append(warehouse.parent)
            filler = fill(warehouse.parent, leave=256 << 10)
        elif where == "dashboard-tmpfs":
            out = sample.config.output_path
            mount_tmpfs(out, "32m")
            mounted.append(out)
            filler = fill(out, leave=page_size // 2)
        else:
            preexec = limit_file_size(1 << 20)
        failed = subprocess.run(
            [str(CLI), "run", str(sample.config_path)],
            capture_output=True,
            text=True,
            env=child_env(),
            preexec_fn=preexec,
            timeout=300,
        )
        # one clear line, no traceback
        assert failed.returncode == 1, failed.stderr[-3000:]
        assert "Traceback" not in failed.stderr
        last = failed.stderr.strip().splitlines()[-1]
        problem = "File too large" if where.endswith("rlimit") else "No space left on device"
        assert last.startswith("journey-mining: error: "), failed.stderr[-3000:]
        assert problem in last
        if where == "dashboard-tmpfs":
            assert "dashboard-" in last, "the message names the file that could not be written"

        # the previous state stands: consistent, marts (and dashboards) as before
        assert consistency_problems(warehouse) == []
        after = warehouse_checksums(warehouse)
        if where == "dashboard-tmpfs":
            assert after == reference_checksums  # only the page was not written
        else:
            assert {t: after[t] for t in MARTS} == {t: before[t] for t in MARTS}
        assert dashboards(sample) == pages_before, "the previous dashboard survives, no partial page is left"
        states = run_states(warehouse)
        assert states[0] == ("success", None)
        assert states[-1][0] != "success"

        # with room again, the next run completes and equals an uninterrupted run
        if filler is not None:
            filler.unlink()
        summary = run_pipeline(sample.config, dashboard=where == "dashboard-tmpfs")
        assert consistency_problems(warehouse) == []
        assert warehouse_checksums(warehouse) == reference_checksums
        assert run_states(warehouse)[-1] == ("success", None)
        if where == "dashboard-tmpfs":
            assert summary.outputs["dashboard"].stat().st_size > page_size // 2
    finally:
        for folder in mounted:
            unmount(folder)

"""The Prefect flows (GitHub issue 9): the nightly flow in-process against Prefect's test
harness (records its run, publishes its artifacts, retries I/O trouble but never bad data),
and the real deployment: ``prefect server start``, the project's ``prefect.yaml`` deployed
on a process work pool, its schedule, and a run picked up by a worker.

No Prefect setting leaks into other tests: the harness restores its settings on exit and
the real server is only ever named in the environment of child processes.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import duckdb
import pytest

from journey_mining.ingest.loader import LoadError
from tests.conftest import SampleCopy

pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parents[1]
PREFECT = Path(sys.executable).with_name("prefect")
DEPLOYMENT = "journey-mining-nightly/nightly"


@pytest.fixture(scope="module")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A temporary Prefect API (SQLite in a temp dir) for this module; its server process
    sends no telemetry and keeps its files out of the project.

    Module scope, not session: while the harness lives, Prefect's events client keeps a
    websocket open whose keepalive pings draw from the global ``random`` from a background
    thread every 20 s. Hypothesis checks that the global ``random`` does not change during a
    draw, so a ping landing in a later fuzz test's draw failed it (CI, 2026-12-06). Leaving
    the harness drains the events worker and closes that socket."""
    from prefect.testing.utilities import prefect_test_harness

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect-home")))
        patch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        patch.delenv("PREFECT_API_URL", raising=False)
        with prefect_test_harness(server_startup_timeout=180):
            yield


def runs_rows(warehouse: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select run_id, run_date, status, error from runs order by started_at").fetchall()
    finally:
        con.close()


def task_attempts(flow_run_id: UUID, task_name: str) -> list[int]:
    """``run_count`` of each run of ``task_name`` in the flow run, read back from the API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        task_runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    return [t.run_count for t in task_runs if t.name.startswith(task_name)]


# --- the nightly flow, in-process ----------------------------------------------------------------


def test_nightly_flow_records_its_run_and_publishes_artifacts(
    prefect_harness: None, small_sample: SampleCopy
) -> None:
    from pipelines.nightly import nightly
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    state = nightly(config_path=str(small_sample.config_path), run_date=date(2026, 11, 6), return_state=True)
    assert state.is_completed(), state
    result = state.result()
    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None

    # the run is recorded in the warehouse, with the flow's run id
    assert runs_rows(small_sample.warehouse_path) == [(result["run_id"], date(2026, 11, 6), "success", None)]
    assert {counts["failed"] for counts in result["load"].values()} == {0}
    assert Path(result["dashboard"]).is_file()

    # the artifacts, read back from the API
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    by_key = {a.key: a for a in artifacts}
    assert sorted(by_key) == ["journey-mining-dashboard", "journey-mining-friction", "journey-mining-summary"]
    summary = by_key["journey-mining-summary"]
    assert summary.type == "markdown"
    assert result["run_id"] in str(summary.data)
    table = by_key["journey-mining-friction"]
    assert table.type == "table"
    rows = json.loads(table.data) if isinstance(table.data, str) else table.data
    assert 0 < len(rows) <= 10
    assert [r["kind"] for r in rows] == [r["kind"] for r in result["top_friction"]]
    link = by_key["journey-mining-dashboard"]  # Prefect stores a link artifact as markdown
    assert link.type in ("link", "markdown")
    assert Path(result["dashboard"]).resolve().as_uri() in str(link.data)
    assert task_attempts(flow_run_id, "load_sources_task") == [1]


def test_nightly_flow_on_spark_runs_every_step_there(prefect_harness: None, small_sample: SampleCopy) -> None:
    """The flow's ``engine`` parameter: build, friction, headline, manifest and dashboard on
    Spark; the warehouse gets only the aggregate marts, and the same numbers as DuckDB's."""
    pytest.importorskip("pyspark", reason="the Spark engine needs the 'spark' extra")
    from pipelines.nightly import nightly

    from journey_mining.config import load_config
    from journey_mining.pipeline import identity_stats
    from journey_mining.scale_out import RETURNED_MARTS

    on_duckdb = nightly(config_path=str(small_sample.config_path), run_date=date(2026, 11, 6))
    identity = identity_stats(load_config(small_sample.config_path))
    with duckdb.connect(str(small_sample.warehouse_path), read_only=True) as con:
        duck_friction = con.execute("select * exclude (finding_id) from friction order by rank").fetchall()
    state = nightly(
        config_path=str(small_sample.config_path), run_date=date(2026, 11, 6), engine="spark", return_state=True
    )
    assert state.is_completed(), state
    result = state.result()
    assert result["headline"] | {"alerts": []} == on_duckdb["headline"] | {"alerts": []}
    assert result["top_friction"] == on_duckdb["top_friction"]
    page = Path(result["dashboard"]).read_text()
    assert f"Customer journeys: run {result['run_id']}" in page
    for name in ("identifiers", "customers"):  # the manifest's identity counts, from the Spark marts
        assert f"&quot;{name}&quot;: {identity[name]}," in page
    with duckdb.connect(str(small_sample.warehouse_path), read_only=True) as con:
        tables = {row[0] for row in con.execute("select table_name from duckdb_tables()").fetchall()}
        spark_friction = con.execute("select * exclude (finding_id) from friction order by rank").fetchall()
        engines = con.execute("select engine from marts_build").fetchall()
    assert spark_friction == duck_friction
    assert engines == [("spark",)]
    assert set(RETURNED_MARTS) <= tables
    assert not tables & {"sessions", "journeys", "session_touchpoints", "identity_map"}, "per-row marts stay"


def test_nightly_flow_does_not_retry_bad_data_and_records_the_failure(
    prefect_harness: None, small_sample: SampleCopy, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipelines.nightly as module

    broken = small_sample.data / "ga4" / "events_20261107.jsonl.gz"
    broken.write_bytes(bytes(range(256)) * 64)  # not gzip, not text
    monkeypatch.setattr(
        module, "load_sources_task", module.load_sources_task.with_options(retry_delay_seconds=0)
    )
    calls = count_calls(monkeypatch, module, "load_step")

    state = module.nightly(config_path=str(small_sample.config_path), return_state=True)

    assert state.is_failed()
    assert len(calls) == 1, "bad data is not retried"
    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    assert task_attempts(flow_run_id, "load_sources_task") == [1]
    [(_, _, status, error)] = runs_rows(small_sample.warehouse_path)
    assert status == "failed"
    assert f"{broken}: not a text file" in error
    # the good files still loaded
    con = duckdb.connect(str(small_sample.warehouse_path), read_only=True)
    loaded = con.execute("select count(*) from loaded_files").fetchall()
    con.close()
    assert loaded == [(12,)]


def count_calls(
    monkeypatch: pytest.MonkeyPatch, module: Any, name: str, fail_first: BaseException | None = None
) -> list[int]:
    """Wrap ``module.name``: count its calls; the first raises ``fail_first`` if given."""
    real: Callable[..., Any] = getattr(module, name)
    calls: list[int] = []

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if fail_first is not None and len(calls) == 1:
            raise fail_first
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapped)
    return calls


def _load_only(config_path: str) -> dict[str, dict[str, int]]:
    import pipelines.nightly as module

    return module.load_sources_task(config_path, None)


@pytest.mark.parametrize(
    ("error", "attempts"),
    [
        (OSError(errno.EIO, "Input/output error"), 2),
        (LoadError("x.jsonl: cannot read file (Stale file handle)", transient=True), 2),
        (LoadError("x.jsonl: not a text file", transient=False), 1),
        (ValueError("a bug"), 1),
    ],
    ids=["OSError", "transient LoadError", "bad-data LoadError", "other error"],
)
def test_load_task_retries_only_io_trouble(
    prefect_harness: None,
    small_sample: SampleCopy,
    monkeypatch: pytest.MonkeyPatch,
    error: BaseException,
    attempts: int,
) -> None:
    import pipelines.nightly as module
    from prefect import flow

    monkeypatch.setattr(
        module, "load_sources_task", module.load_sources_task.with_options(retry_delay_seconds=0)
    )
    calls = count_calls(monkeypatch, module, "load_step", fail_first=error)
    small_sample.hold_back(2, 3, 4, 5)

    state = flow(name="load-only")(_load_only)(str(small_sample.config_path), return_state=True)

    assert len(calls) == attempts
    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    assert task_attempts(flow_run_id, "load_sources_task") == [attempts]
    if attempts == 2:
        assert state.is_completed(), state
        assert state.result()["web"]["loaded"] > 0
    else:
        assert state.is_failed()
        with pytest.raises(type(error)):
            state.result()


# --- the real deployment: server, work pool, prefect.yaml, schedule, worker ----------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop(process: subprocess.Popen[bytes] | None) -> None:
    """Stop a child started in its own session, and its children."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_healthy(api: str, server: subprocess.Popen[bytes], log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, "prefect server exited:\n" + log.read_text(errors="replace")[-3000:]
        try:
            with urllib.request.urlopen(f"{api}/health", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    raise AssertionError(
        f"prefect server not healthy after {timeout} s:\n" + log.read_text(errors="replace")[-3000:]
    )


def test_deployment_on_a_real_server_runs_on_a_worker(tmp_path: Path, small_sample: SampleCopy) -> None:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    api = f"http://127.0.0.1:{free_port()}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    }
    log = tmp_path / "server.log"
    server: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None

    def prefect(*args: str, timeout: float = 180) -> str:
        done = subprocess.run(
            [str(PREFECT), *args], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=timeout
        )
        assert done.returncode == 0, (
            f"prefect {' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
        return done.stdout

    project_file = (PROJECT / "prefect.yaml").read_bytes()
    try:
        port = api.split(":")[2].split("/")[0]
        with log.open("wb") as sink:
            server = subprocess.Popen(
                [str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", port],
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_healthy(api, server, log)

        prefect("work-pool", "create", "journey-mining", "--type", "process")
        prefect("--no-prompt", "deploy", "--all")
        assert (PROJECT / "prefect.yaml").read_bytes() == project_file, (
            "deploying must not rewrite prefect.yaml"
        )

        with SyncPrefectClient(api) as client:
            deployment = client.read_deployment_by_name(DEPLOYMENT)
            assert deployment.work_pool_name == "journey-mining"
            assert deployment.entrypoint == "pipelines/nightly.py:nightly"
            assert deployment.parameters == {"config_path": "data/sample/config.yaml"}
            [schedule] = deployment.schedules
            assert schedule.active
            assert getattr(schedule.schedule, "cron", None) == "0 3 * * *"
            assert getattr(schedule.schedule, "timezone", None) == "UTC"

            # a run of the deployment on the small sample (the default is the bundled one)
            flow_run = client.create_flow_run_from_deployment(
                deployment.id, parameters={"config_path": str(small_sample.config_path)}
            )
            # only that run may be picked up (not a scheduled one, whatever the time of day)
            for other in client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id]))
            ):
                if other.id != flow_run.id:
                    client.delete_flow_run(other.id)

        with (tmp_path / "worker.log").open("wb") as sink:
            worker = subprocess.Popen(
                [str(PREFECT), "worker", "start", "--pool", "journey-mining", "--run-once"],
                cwd=PROJECT,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 300
        with SyncPrefectClient(api) as client:
            while True:
                state = client.read_flow_run(flow_run.id).state
                if state is not None and state.is_final():
                    break
                assert time.monotonic() < deadline, f"flow run still {state} after 5 min"
                time.sleep(2)
        worker_log = (tmp_path / "worker.log").read_text(errors="replace")
        assert state.is_completed(), f"{state}\n{worker_log[-4000:]}"
        worker.wait(timeout=60)

        [(_, _, status, error)] = runs_rows(small_sample.warehouse_path)
        assert (status, error) == ("success", None)
        assert list((small_sample.config.output_path / "dashboards").glob("dashboard-*.html"))
    finally:
        stop(worker)
        stop(server)

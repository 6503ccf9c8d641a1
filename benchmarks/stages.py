"""One benchmark stage, run in a fresh process so its peak RSS is its own.

``benchmarks.run`` starts each stage as a new process forked from a server process that
has only imported these modules (``multiprocessing`` forkserver), so a stage starts in
milliseconds at the import baseline (about 200 MB) and ``VmHWM`` is that stage's peak.
The result: wall seconds of the stage's work, peak RSS, the largest size the DuckDB temp
directory reached while the stage ran (sampled), its size afterwards, and details.

    python -m benchmarks.stages <stage> <params.json>    # one stage by hand, for debugging
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
import threading
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import duckdb

from journey_mining.config import Config, parse_config

RESULT_MARKER = "BENCH-RESULT "
FUNNEL_20 = (
    "web:home",
    "web:category",
    "web:product",
    "web:category",
    "web:product",
    "web:add_to_cart",
    "web:cart",
    "web:product",
    "web:add_to_cart",
    "web:cart",
    "web:begin_checkout",
    "web:checkout",
    "web:add_payment_info",
    "web:purchase",
    "web:home",
    "web:category",
    "web:product",
    "web:add_to_cart",
    "web:begin_checkout",
    "web:purchase",
)
"""A long funnel with repeated steps: a second purchase in the same session, 20 joins deep."""
SESSION_GAP = "30min"


class NotAvailableError(Exception):
    """The stage's module is not there (yet): reported as 'not available', not a failure."""


def proc_status_bytes(field: str, pid: str = "self") -> int:
    """A ``kB`` field of ``/proc/<pid>/status`` (VmHWM, VmRSS) in bytes."""
    with Path(f"/proc/{pid}/status").open(encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def tree_bytes(path: Path) -> int:
    """Total size of the files under ``path`` (0 when it does not exist)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(root) / name).stat().st_size
    return total


class SpillSampler:
    """Samples the size of a folder in a thread; ``peak`` is the largest size seen."""

    def __init__(self, path: Path | None, interval: float = 0.2) -> None:
        self.path, self.interval, self.peak = path, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.path is not None:
                self.peak = max(self.peak, tree_bytes(self.path))
            self._stop.wait(self.interval)

    def __enter__(self) -> SpillSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if self.path is not None:
            self.peak = max(self.peak, tree_bytes(self.path))


class Timings:
    """Accumulated seconds per label, filled by wrappers around library functions."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    @contextlib.contextmanager
    def measure(self, label: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[label] += time.perf_counter() - start
            self.calls[label] += 1

    def timed(self, function: Callable[..., Any], label: Callable[..., str] | str) -> Callable[..., Any]:
        """``function``, timed under ``label`` (a string, or a function of its arguments)."""

        def timed(*args: Any, **kwargs: Any) -> Any:
            key = label(*args, **kwargs) if callable(label) else label
            with self.measure(key):
                return function(*args, **kwargs)

        return timed

    def wrap(self, owner: Any, name: str, label: Callable[..., str] | str | None = None) -> None:
        """Replace ``owner.name`` by a timed wrapper (instrumentation of this process only)."""
        setattr(owner, name, self.timed(getattr(owner, name), label or name))

    def rounded(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in sorted(self.seconds.items(), key=lambda kv: -kv[1])}

    def with_rest(self, seconds: float, rest: str) -> dict[str, float]:
        """The parts, and under ``rest`` what of ``seconds`` (a whole stage, the parts not
        nested) no part timed."""
        parts = self.rounded()
        parts[rest] = round(seconds - sum(parts.values()), 3)
        return parts


# --- stages -------------------------------------------------------------------------------


def _settings(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    wh = config.warehouse
    con.execute("set TimeZone = 'UTC'")
    con.execute("set memory_limit = ?", [wh.memory_limit])
    con.execute("set threads = ?", [wh.threads])
    if wh.temp_directory:
        con.execute("set temp_directory = ?", [str(config.resolve(wh.temp_directory))])


def stage_floor(config: Config, params: dict[str, Any]) -> dict[str, Any]:
    """The floor any sessionizer pays: sort the raw events by customer and time.

    ``sort``: materialise every row ordered by (customer_id, ts), in a fresh database file
    with the warehouse's settings. ``sort_window``: the same plus one window over that order
    (the gap to the previous event), the shape of a one-pass sessionizer. ``copy``: every row
    into a table as it is, the floor any loader pays (not part of the sort floor).
    """
    path = Path(params["work_dir"]) / "floor.duckdb"
    path.unlink(missing_ok=True)
    glob = params["parquet_glob"]
    con = duckdb.connect(str(path))
    try:
        _settings(con, config)
        timings = Timings()
        # untimed: the files into the page cache, as they are for the load stage
        con.execute("select count(*), max(customer_id), max(ts), max(page) from read_parquet(?)", [glob])
        with timings.measure("sort"):
            con.execute(
                "create table floor_sorted as select * from read_parquet(?) order by customer_id, ts", [glob]
            )
        with timings.measure("sort_window"):
            con.execute(
                """create table floor_window as
                   select *, epoch(ts) - epoch(lag(ts) over (partition by customer_id order by ts)) as gap
                   from read_parquet(?)""",
                [glob],
            )
        with timings.measure("copy"):
            con.execute("create table floor_copy as select * from read_parquet(?)", [glob])
        rows = con.execute("select count(*) from floor_sorted").fetchall()[0][0]
        copied = con.execute("select count(*) from floor_copy").fetchall()[0][0]
    finally:
        con.close()
        path.unlink(missing_ok=True)
    if copied != rows:
        raise RuntimeError(f"floor: the copy holds {copied} rows, the sort {rows}")
    # the floor is the faster of the two sorts: both pay the sort by (customer, ts)
    sort_floor = min(timings.seconds["sort"], timings.seconds["sort_window"])
    return {"seconds": sort_floor, "parts": timings.rounded(), "rows": int(rows)}


def stage_load(config: Config, params: dict[str, Any]) -> dict[str, Any]:
    from journey_mining import pipeline
    from journey_mining.ingest import loader
    from journey_mining.ingest.adapters import Adapter

    timings = Timings()
    timings.wrap(loader, "prepare", "checksum and prepare")
    timings.wrap(Adapter, "prepare_input", "read parquet, map columns (_input)")
    timings.wrap(loader, "_stage_and_commit", "per-file total")
    timings.wrap(loader, "_check_nothing_dropped", "check nothing dropped")
    timings.wrap(loader, "_store_rejects", "store rejects")
    timings.wrap(loader, "_name_pages", "name pages")
    timings.wrap(loader, "_commit_touchpoints", "dedupe and insert touchpoints")
    timings.wrap(pipeline, "load_sources", "load_sources (total)")
    start = time.perf_counter()
    report = pipeline.load_step(config, raise_on_failure=True)
    seconds = time.perf_counter() - start
    parts = timings.rounded()
    named = sum(v for k, v in parts.items() if "total" not in k and k != "checksum and prepare")
    parts["staging SQL and counts (rest)"] = round(parts.get("per-file total", 0.0) - named, 3)
    parts["open, commit, close (rest)"] = round(seconds - parts["load_sources (total)"], 3)
    totals = report.by_source()
    return {
        "seconds": seconds,
        "parts": parts,
        "load": totals,
        "files_loaded": sum(1 for f in report.files if f.status == "loaded"),
        "files_skipped": sum(1 for f in report.files if f.status == "skipped"),
        "warehouse_bytes": config.warehouse_path.stat().st_size,
    }


def stage_build(config: Config, params: dict[str, Any]) -> dict[str, Any]:
    from journey_mining import identity, journeys, pipeline, sqlmodels

    timings = Timings()
    timings.wrap(sqlmodels, "materialise", lambda con, model: model.name)
    timings.wrap(identity, "materialise", lambda con, model: model.name)
    timings.wrap(identity, "_propagate", "identity label propagation")
    timings.wrap(journeys, "stitch_identities", "stitch_identities (total)")
    timings.wrap(journeys, "write_parameter_tables", "parameter tables")
    timings.wrap(pipeline, "build_journeys", "build_journeys (total)")
    start = time.perf_counter()
    counts = pipeline.build_step(config)
    seconds = time.perf_counter() - start
    parts = timings.rounded()
    parts["open, commit, close (rest)"] = round(seconds - parts["build_journeys (total)"], 3)
    return {
        "seconds": seconds,
        "parts": parts,
        "sessionize_models": sessionize_models(),
        "rows": {k: int(v) for k, v in counts.items()},
        "propagation_rounds": timings.calls.get("identity label propagation", 0),
        "warehouse_bytes": config.warehouse_path.stat().st_size,
    }


def sessionize_models(
    start: str = "int_touchpoints__stitched", end: str = "session_transitions"
) -> list[str]:
    """The models between stitched touchpoints and the session transitions: what the sort
    floor is compared with. Read from the SQL's dependencies, so renames follow."""
    import re

    from journey_mining.sqlmodels import discover

    models = {m.name: re.sub(r"--[^\n]*", "", m.sql) for m in discover()}
    needs = {
        name: {other for other in models if other != name and re.search(rf"\b{other}\b", body)}
        for name, body in models.items()
    }

    def ancestors(name: str) -> set[str]:
        seen: set[str] = set()
        todo = list(needs.get(name, ()))
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(needs.get(current, ()))
        return seen

    if end not in models or start not in models:
        return []
    return sorted(m for m in ancestors(end) | {end} if start in ancestors(m))


def stage_graph(config: Config, params: dict[str, Any]) -> dict[str, Any]:
    from journey_mining.graph import build_graph, conversion_probabilities
    from journey_mining.warehouse import open_warehouse

    timings = Timings()
    start = time.perf_counter()
    with open_warehouse(config, read_only=True) as con, timings.measure("read transitions"):
        transitions = con.execute("select * from session_transitions").df()
        stats = con.execute("select * from touchpoint_stats").df()
    with timings.measure("build graph"):
        graph = build_graph(transitions, stats)
    with timings.measure("conversion probabilities"):
        probability = conversion_probabilities(graph, config.conversion_touchpoints)
    return {
        "seconds": time.perf_counter() - start,
        "parts": timings.rounded(),
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "p_convert_from_start": round(probability.get("(start)", 0.0), 5),
    }


def _funnel(config: Config, steps: tuple[str, ...]) -> dict[str, Any]:
    from journey_mining.funnel import funnel
    from journey_mining.warehouse import open_warehouse

    with open_warehouse(config) as con:
        start = time.perf_counter()
        frame = funnel(con, steps)
        seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "steps": len(steps),
        "entered": int(frame["units_total"].iloc[0]),
        "reached": [int(v) for v in frame["reached"]],
    }


def stage_funnel_4(config: Config, params: dict[str, Any]) -> dict[str, Any]:
    return _funnel(config, tuple(config.funnel.steps))


def stage_funnel_20(config: Config, params: dict[str, Any]) -> dict[str, Any]:
    return _funnel(config, FUNNEL_20)


def stage_friction(config: Config, params: dict[str, Any]) -> dict[str, Any]:
    """Friction, with ``parts``: the shared ``_fr_*`` tables, each kind's finder, the ranking."""
    try:
        from journey_mining.friction import detect_friction  # noqa: F401
    except ImportError as err:
        raise NotAvailableError(f"journey_mining.friction.detect_friction: {err}") from None
    import journey_mining.friction as friction
    from journey_mining.friction import prepared
    from journey_mining.pipeline import friction_step

    timings = Timings()
    timings.wrap(prepared, "prepare", "prepare the _fr_* tables")
    # the finders are called from this tuple: each is timed under its module's name
    friction.FINDERS = tuple(
        timings.timed(finder, f"kind {finder.__module__.rsplit('.', 1)[-1]}") for finder in friction.FINDERS
    )
    timings.wrap(friction, "assemble", "statistics and ranking (assemble)")
    timings.wrap(friction, "materialise", "store the friction table")
    start = time.perf_counter()
    findings = friction_step(config)
    seconds = time.perf_counter() - start
    parts = timings.with_rest(seconds, "open, commit, close (rest)")
    return {"seconds": seconds, "findings": findings, "parts": parts}


def stage_dashboard(config: Config, params: dict[str, Any]) -> dict[str, Any]:
    """The dashboard, with ``parts``: the Sankey step rows and maps, the funnel units and
    breakdowns, the segment views; the rest is charts, headline numbers and HTML."""
    try:
        from journey_mining.viz.dashboard import write_dashboard, write_index  # noqa: F401
    except ImportError as err:
        raise NotAvailableError(f"journey_mining.viz.dashboard: {err}") from None
    from journey_mining.pipeline import dashboard_step
    from journey_mining.viz import dashboard, sankey

    timings = Timings()
    timings.wrap(sankey, "prepare_rows", "sankey step rows (prepare_rows)")
    timings.wrap(sankey, "segment_maps", "sankey maps per segment")
    timings.wrap(sankey, "sankey_data", "sankey map of all sessions")
    timings.wrap(dashboard, "prepare_funnel", "funnel units (prepare_funnel)")
    timings.wrap(dashboard, "funnel_of", "funnel breakdowns")
    timings.wrap(dashboard, "segment_views", "segment views")
    start = time.perf_counter()
    path = dashboard_step(config, run_id=params.get("run_id", "benchmark"))
    seconds = time.perf_counter() - start
    parts = timings.with_rest(seconds, "charts, headline, HTML (rest)")
    return {"seconds": seconds, "bytes": path.stat().st_size, "parts": parts}


def stage_increment(config: Config, params: dict[str, Any]) -> dict[str, Any]:
    """Load one more file (about 1% of the events) into the loaded warehouse."""
    result = stage_load(config, params)
    result["increment_events"] = params["increment_events"]
    return result


def profile_query(con: duckdb.DuckDBPyConnection, sql: str, path: Path, top: int = 12) -> tuple[float, str]:
    """Run ``sql`` with DuckDB's JSON profiler on; wall seconds and its costliest operators."""
    con.execute("set enable_profiling = 'json'")
    con.execute("set profiling_output = ?", [str(path)])
    start = time.perf_counter()
    try:
        con.execute(sql)
    finally:
        seconds = time.perf_counter() - start
        con.execute("set enable_profiling = 'no_output'")
    tree = json.loads(path.read_text(encoding="utf-8"))
    path.unlink(missing_ok=True)
    rows: list[tuple[float, str, int, str]] = []

    def walk(node: dict[str, Any]) -> None:
        extra = node.get("extra_info") or {}
        info = "; ".join(
            f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
            for k, v in extra.items()
            if k not in ("Estimated Cardinality",)
        )
        rows.append(
            (
                float(node.get("timing") or 0.0),
                str(node.get("type")),
                int(node.get("intermediate_rows") or 0),
                info,
            )
        )
        for child in node.get("children", []):
            walk(child)

    for root in tree.get("operator", []):
        walk(root)
    total = sum(r[0] for r in rows) or 1.0
    lines = [f"wall {seconds:.2f} s; operator time (all threads) {total:.2f} s; costliest operators:"]
    lines += [
        f"  {t:8.2f} s {t / total:5.0%}  {kind:<22} {n:>12,} rows  {info[:150]}"
        for t, kind, n, info in sorted(rows, reverse=True)[:top]
    ]
    return seconds, "\n".join(lines)


def stage_profile(config: Config, params: dict[str, Any]) -> dict[str, Any]:
    """DuckDB's profiler on the slowest build models and on one file's staging SQL: the
    costliest operators of each.

    The build runs again, and just before each of those models is built its SELECT is run
    once more, profiled, into a scratch temp table: intermediate models are temp tables that
    live only while their build's connection is open, so a model can only be profiled there.
    """
    from journey_mining import pipeline, sqlmodels

    wanted = set(params["models"])
    out = Path(params["profile_path"])
    scratch = Path(params["work_dir"]) / "profile.json"
    sections: list[str] = []
    materialise = sqlmodels.materialise

    def profiled(target: Any, model: Any) -> int:
        con = target if isinstance(target, duckdb.DuckDBPyConnection) else getattr(target, "con", None)
        if model.name in wanted and isinstance(con, duckdb.DuckDBPyConnection):
            sql = f"create or replace temp table _bench_profile as {model.sql}"
            _, text = profile_query(con, sql, scratch)
            con.execute("drop table if exists _bench_profile")
            sections.append(f"=== build model {model.name} ===\n{text}")
        return materialise(target, model)

    start = time.perf_counter()
    sqlmodels.materialise = profiled
    try:
        pipeline.build_step(config)
    finally:
        sqlmodels.materialise = materialise
    if params.get("staging_file"):
        sections.append(_profile_staging(config, Path(params["staging_file"]), scratch))
    out.write_text("\n\n".join(sections) + "\n", encoding="utf-8")
    return {"seconds": time.perf_counter() - start, "profile": str(out), "models": params["models"]}


def _profile_staging(config: Config, path: Path, scratch_file: Path) -> str:
    """One file through the loader's steps on an in-memory warehouse, the staging SQL profiled."""
    import tempfile

    from journey_mining.ingest import loader
    from journey_mining.ingest.files import prepare
    from journey_mining.ingest.macros import register_macros
    from journey_mining.ingest.registry import adapter_for
    from journey_mining.sqlmodels import sql_root
    from journey_mining.warehouse import connect

    source = config.sources[0]
    adapter = adapter_for(source.kind)
    wh = config.warehouse
    temp = config.resolve(wh.temp_directory) if wh.temp_directory else None
    con = connect(":memory:", memory_limit=wh.memory_limit, threads=wh.threads, temp_directory=temp)
    timings = Timings()
    try:
        register_macros(con, config.privacy)
        loader._write_page_rules(con, config)
        with tempfile.TemporaryDirectory() as scratch:
            with timings.measure("checksum and prepare"):
                prepared = prepare(path, source, Path(scratch))
            with timings.measure("read parquet, map columns (_input)"):
                adapter.prepare_input(con, prepared, source)
            con.execute(
                "create or replace temp table _load_context as select ? as source, ? as time_zone,"
                " ? as channel, 1 as file_id",
                [source.name, source.time_zone, source.channel],
            )
            staging = (sql_root() / "staging" / f"{adapter.staging_model}.sql").read_text("utf-8")
            seconds, text = profile_query(
                con, f"create or replace temp table _staged as {staging}", scratch_file
            )
            timings.seconds["staging SQL (create temp table _staged)"] = seconds
            with timings.measure("check nothing dropped"):
                loader._check_nothing_dropped(con, prepared)
            with timings.measure("store rejects"):
                loader._store_rejects(con, source, prepared, 1)
            with timings.measure("name pages"):
                loader._name_pages(con)
            with timings.measure("dedupe and insert touchpoints"):
                loader._commit_touchpoints(con, source, 1)
    finally:
        con.close()
    lines = [f"=== load: one file ({path.name}) through the loader's steps, in-memory warehouse ==="]
    lines += [f"  {seconds:8.2f} s  {label}" for label, seconds in timings.rounded().items()]
    lines.append("--- staging SQL ---")
    lines.append(text)
    return "\n".join(lines)


def stage_pm4py(config: Config, params: dict[str, Any]) -> dict[str, Any]:
    """PM4Py's directly-follows graph on the same events, sessionized with pandas."""
    try:
        import pm4py
    except ImportError as err:
        raise NotAvailableError(f"pm4py is not installed (pip install -e '.[bench]'): {err}") from None
    import pandas as pd

    timings = Timings()
    start = time.perf_counter()
    with timings.measure("read parquet (pandas)"):
        frame = pd.read_parquet(
            params["parquet_files"], columns=["customer_id", "email", "ts", "channel", "event_name"]
        )
    with timings.measure("sessionize (pandas, 30 min)"):
        # calls carry no cookie: their email is the case key, as a naive analyst would do
        frame["customer"] = frame["customer_id"].fillna(frame["email"])
        frame = frame.drop(columns=["customer_id", "email"]).sort_values(
            ["customer", "ts"], ignore_index=True
        )
        new_customer = frame["customer"].ne(frame["customer"].shift())
        new_session = new_customer | frame["ts"].diff().gt(pd.Timedelta(SESSION_GAP))
        frame["case_id"] = frame["customer"] + "-" + new_session.cumsum().astype("string")
        frame["activity"] = frame["channel"] + ":" + frame["event_name"]
    with timings.measure("pm4py.format_dataframe"):
        log = pm4py.format_dataframe(frame, case_id="case_id", activity_key="activity", timestamp_key="ts")
    with timings.measure("pm4py.discover_dfg"):
        dfg, _starts, _ends = pm4py.discover_dfg(log)
    seconds = time.perf_counter() - start
    parts = timings.rounded()
    return {
        "seconds": seconds,
        "parts": parts,
        "sessionize_and_dfg_seconds": round(seconds - parts["read parquet (pandas)"], 3),
        "edges": len(dfg),
        "cases": int(new_session.sum()),
        "pm4py_version": getattr(pm4py, "__version__", "?"),
    }


def stage_generate(config: Config, params: dict[str, Any]) -> dict[str, Any]:
    """Write the synthetic log (in its own process: the generator's peak RSS is measured too)."""
    import datetime as dt

    from journey_mining.generate.bulk import write_bulk_events

    options = dict(params["generate"])
    if "start" in options:
        options["start"] = dt.datetime.fromisoformat(options["start"])
    start = time.perf_counter()
    manifest = write_bulk_events(**options)
    return {"seconds": time.perf_counter() - start, "bytes": manifest.bytes, "files": len(manifest.files)}


STAGES: dict[str, Callable[[Config, dict[str, Any]], dict[str, Any]]] = {
    "generate": stage_generate,
    "floor": stage_floor,
    "load": stage_load,
    "build": stage_build,
    "graph": stage_graph,
    "funnel_4": stage_funnel_4,
    "funnel_20": stage_funnel_20,
    "friction": stage_friction,
    "dashboard": stage_dashboard,
    "increment": stage_increment,
    "profile": stage_profile,
    "pm4py": stage_pm4py,
}


def run_stage(name: str, params: dict[str, Any]) -> dict[str, Any]:
    config = parse_config(params["config"], base_dir=Path(params["base_dir"]), origin="benchmark")
    temp = config.resolve(config.warehouse.temp_directory) if config.warehouse.temp_directory else None
    rss_before = proc_status_bytes("VmHWM")
    load_before = load_average()
    stall_before, wall_before = cpu_stall_us(), time.perf_counter()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    with SpillSampler(temp) as spill:
        try:
            detail = STAGES[name](config, params)
        except NotAvailableError as err:
            return {"status": "not available", "reason": str(err)}
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    stall_after, wall_after = cpu_stall_us(), time.perf_counter()
    stalled = None
    if stall_before is not None and stall_after is not None:
        stalled = round((stall_after - stall_before) / 1e6 / (wall_after - wall_before), 3)
    seconds = float(detail.pop("seconds"))
    return {
        "status": "ok",
        "seconds": round(seconds, 3),
        "cpu_seconds": round(
            cpu_after.ru_utime - cpu_before.ru_utime + cpu_after.ru_stime - cpu_before.ru_stime, 3
        ),
        "peak_rss_bytes": proc_status_bytes("VmHWM"),
        "rss_after_imports_bytes": rss_before,
        "spill_peak_bytes": spill.peak,
        "temp_after_bytes": tree_bytes(temp) if temp else 0,
        "load_average_before_after": [load_before, load_average()],
        "cpu_pressure": stalled,
        "detail": detail,
    }


def cpu_stall_us() -> int | None:
    """Total microseconds some runnable task waited for a CPU (Linux PSI), if available."""
    try:
        text = Path("/proc/pressure/cpu").read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("some "):
            return int(line.rsplit("total=", 1)[1])
    return None


def load_average() -> float:
    """The machine's 1-minute load average: other processes competing for the cores."""
    return float(Path("/proc/loadavg").read_text(encoding="ascii").split()[0])


def child_entry(name: str, params: dict[str, Any], conn: Connection) -> None:
    """Target of the stage process: run the stage, send its result (or the error) back.

    The stage's own output (warnings, DuckDB progress bars) goes to ``<work>/logs/<stage>.log``.
    """
    log = Path(params["work_dir"]) / "logs" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as handle:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
        try:
            result = run_stage(name, params)
        except BaseException:
            result = {"status": "failed", "error": "".join(traceback.format_exc().splitlines(True)[-15:])}
        result["log"] = str(log)
        sys.stdout.flush()
        sys.stderr.flush()
    conn.send(result)
    conn.close()


def main(argv: list[str]) -> int:
    name, params_path = argv
    params = json.loads(Path(params_path).read_text(encoding="utf-8"))
    result = run_stage(name, params)
    print(RESULT_MARKER + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

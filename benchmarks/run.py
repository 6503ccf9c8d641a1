"""Benchmark harness: every pipeline stage on large synthetic logs, against two references.

    .venv/bin/python -m benchmarks.run --sizes 1M,10M
    .venv/bin/python -m benchmarks.run --sizes 100M
    .venv/bin/python -m benchmarks.run --quick          # 100k events, the smoke test

Per size: the event log is generated once into ``benchmarks/data/<size>/`` (reused while
the generator's arguments and version match), a fresh warehouse is built in a work folder,
and each stage runs in a new process (``benchmarks.stages``, forked from a server that has
only imported the code), so the peak RSS reported is the stage's own. Stages: the sort
floor (bare DuckDB sort of the raw events), load, build (stitch + sessionize + marts),
graph, 4- and 20-step funnels, friction, dashboard, a DuckDB profile of the slowest models,
a 1% incremental load, and PM4Py's DFG (up to 10M events). Stages read the Python code
once, at the first stage, and the SQL files when they run: measure a copy of the code
(``git archive``) when the checkout may change during the run. Results go to
``benchmarks/results/<date>-<size>.json``; the summary table is printed and written into
``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import multiprocessing.context
import os
import platform
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from journey_mining.generate.bulk import GENERATOR_VERSION, BulkManifest, parse_count

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "benchmarks"
QUICK_SIZE = "100k"
PM4PY_MAX_EVENTS = 10_000_000
INCREMENT_SHARE = 0.01
BENCH_HASH_KEY = "benchmark-key-not-secret"
README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"

PIPELINE_STAGES = ("load", "build", "friction", "dashboard")
"""What ``run_pipeline`` does (headline numbers aside): their sum is 'end to end'."""
ANALYSIS_STAGES = ("graph", "funnel_4", "funnel_20")
STAGE_ORDER = (
    "floor",
    "load",
    "build",
    *ANALYSIS_STAGES,
    "friction",
    "dashboard",
    "profile",
    "increment",
    "pm4py",
)
SESSIONIZE_MODELS = ("int_touchpoints__sessionized", "session_transitions")
"""From stitched touchpoints to session transitions: what the sort floor is compared with
(the build stage reads the actual list from the SQL's dependencies; this is the fallback)."""

TARGETS = {
    "e2e_100m": "100M end to end < 10 min (memory_limit 4GB)",
    "rss_100m": "100M peak RSS < 6 GB",
    "sort_floor": "sessionize + transitions <= 1.5x the bare sort",
    "pm4py": ">= 5x faster than PM4Py at 10M",
    "scaling": "10M -> 100M end to end <= 11x",
    "funnel_100m": "20-step funnel on 100M < 60 s",
    "increment": "1% increment load on 100M proportional to new data (<= 2x its share of the full load)",
}


# --- machine and data ---------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    model = "unknown"
    with Path("/proc/cpuinfo").open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with Path("/proc/meminfo").open(encoding="ascii") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    import duckdb

    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "ram_bytes": mem_kb * 1024,
        "os": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
    }


def code_info() -> dict[str, Any]:
    """Which code was measured: the imported package and SQL folder, a hash of their
    contents, and the checkout's commit (read-only git queries; None outside a checkout)."""
    import hashlib
    import subprocess

    import journey_mining
    from journey_mining.sqlmodels import sql_root

    package = Path(journey_mining.__file__).resolve().parent
    sql = sql_root().resolve()
    digest = hashlib.sha256()
    for root, pattern in ((package, "*.py"), (sql, "*.sql")):
        for path in sorted(root.rglob(pattern)):
            digest.update(f"{root.name}/{path.relative_to(root)}".encode())
            digest.update(path.read_bytes())

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", "--no-optional-locks", *args],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
                timeout=30,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip()

    info: dict[str, Any] = {
        "package": str(package),
        "sql_dir": str(sql),
        "content_sha256": digest.hexdigest()[:16],
    }
    if ROOT.resolve() in package.parents and ROOT.resolve() in sql.parents:
        status = git("status", "--porcelain", "--untracked-files=no")
        info["git_head"] = git("rev-parse", "--short", "HEAD")
        info["git_tracked_files_modified"] = None if status is None else len(status.splitlines())
    else:  # a copy of the code (PYTHONPATH / JOURNEY_MINING_SQL_DIR): the checkout's commit says nothing
        info["git_head"] = None
        info["git_tracked_files_modified"] = None
    return info


def size_label(events: int) -> str:
    for unit, scale in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if events >= scale and events % scale == 0:
            return f"{events // scale}{unit}"
    return str(events)


def ensure_data(
    folder: Path, events: int, *, seed: int, work: Path, file_prefix: str = "events", **kwargs: Any
) -> tuple[BulkManifest, dict[str, Any] | None]:
    """The cached log in ``folder``, or a freshly written one (and the generate stage's result)."""
    cached = BulkManifest.read(folder, file_prefix)
    wanted_customers = kwargs.get("customers")
    if (
        cached is not None
        and cached.events == events
        and cached.seed == seed
        and cached.version == GENERATOR_VERSION
        and (wanted_customers is None or cached.customers == wanted_customers)
        and all(p.is_file() for p in cached.files)
    ):
        return cached, None
    options = {"out_dir": str(folder), "events": events, "seed": seed, "file_prefix": file_prefix, **kwargs}
    if "start" in options:
        options["start"] = options["start"].isoformat()
    params = {"config": {}, "base_dir": str(work), "work_dir": str(work), "generate": options}
    result = run_stage("generate", params)
    if result.get("status") != "ok":
        raise RuntimeError(f"generating {events} events failed:\n{result.get('error')}")
    manifest = BulkManifest.read(folder, file_prefix)
    assert manifest is not None
    return manifest, result


def increment_data(folder: Path, main: BulkManifest, work: Path) -> BulkManifest:
    """About 1% more events from the same customers, on the day after the main log."""
    manifest, _ = ensure_data(
        folder,
        max(1, round(main.events * INCREMENT_SHARE)),
        seed=main.seed + 1,
        work=work,
        file_prefix="increment",
        customers=main.customers,
        days=1,
        start=dt.datetime.fromisoformat(main.end),
        rows_per_file=10**12,
    )
    return manifest


# --- running stages -----------------------------------------------------------------------


_CONTEXT: multiprocessing.context.ForkServerContext | None = None


def stage_context() -> multiprocessing.context.ForkServerContext:
    """Stages are forked from a server that has imported the pipeline once (fast starts)."""
    global _CONTEXT
    if _CONTEXT is None:
        os.environ.setdefault("JOURNEY_MINING_HASH_KEY", BENCH_HASH_KEY)
        _CONTEXT = multiprocessing.get_context("forkserver")
        _CONTEXT.set_forkserver_preload(["benchmarks.stages"])
    return _CONTEXT


def run_stage(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Run one stage in a new process and return its result record."""
    from benchmarks.stages import child_entry

    ctx = stage_context()
    receive, send = ctx.Pipe(duplex=False)
    start = time.perf_counter()
    process = ctx.Process(target=child_entry, args=(name, params, send), name=f"bench-{name}")
    process.start()
    send.close()
    try:
        result = receive.recv()
    except EOFError:
        result = {"status": "failed", "error": "the stage process died without a result"}
    process.join()
    if process.exitcode:
        result.setdefault("error", "")
        result["status"] = "failed"
        result["error"] += f" (exit code {process.exitcode})"
    result["process_seconds"] = round(time.perf_counter() - start, 3)
    return result


def bench_config(work: Path, glob: str, source: dict[str, Any], memory_limit: str, threads: int) -> dict:
    return {
        "warehouse": {
            "path": str(work / "warehouse.duckdb"),
            "memory_limit": memory_limit,
            "threads": threads,
            "temp_directory": str(work / "duckdb-tmp"),
        },
        "output_dir": str(work / "out"),
        "sources": [{**source, "path": glob}],
    }


def benchmark_size(events: int, args: argparse.Namespace, machine: dict[str, Any]) -> dict[str, Any]:
    label = size_label(events)
    data_dir = args.data_dir / label
    work = (args.work_dir or args.data_dir / "work") / label
    print(f"\n== {label} events ==", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    (work / "duckdb-tmp").mkdir(parents=True)
    manifest, generated = ensure_data(data_dir, events, seed=args.seed, work=work)
    if generated is not None:
        print(f"  generate   {_one_line(generated, events)} ({manifest.bytes / 1e9:.2f} GB)", flush=True)
    source = manifest.source("events")
    config = bench_config(work, manifest.glob, source, args.memory_limit, args.threads)
    common = {
        "config": config,
        "base_dir": str(work),
        "work_dir": str(work),
        "parquet_glob": manifest.glob,
        "parquet_files": [str(p) for p in manifest.files],
        "events": events,
        "run_id": f"benchmark-{label}",
    }
    wanted = [s for s in STAGE_ORDER if s in args.stages]
    results: dict[str, Any] = {}
    for name in wanted:
        params = dict(common)
        skip = _skip_reason(name, results, events, args)
        if skip:
            results[name] = {"status": "skipped", "reason": skip}
            continue
        if name == "increment":
            extra = increment_data(data_dir, manifest, work)
            glob = str(data_dir / "*.parquet")  # the loaded files (skipped unread) and the new one
            params["config"] = bench_config(work, glob, source, args.memory_limit, args.threads)
            params["increment_events"] = extra.events
        if name == "profile":
            parts = results["build"]["detail"]["parts"]
            models = [m for m, _ in sorted(parts.items(), key=lambda kv: -kv[1]) if " " not in m]
            params["models"] = models[: args.profile]
            params["profile_path"] = str(args.results_dir / f"{args.date}-{label}-profile.txt")
            params["staging_file"] = str(manifest.files[0])
            args.results_dir.mkdir(parents=True, exist_ok=True)
        print(f"  {name:<10}", end=" ", flush=True)
        results[name] = run_stage(name, params)
        print(_one_line(results[name], events), flush=True)
    if not args.keep_work:
        shutil.rmtree(work, ignore_errors=True)
    record = {
        "date": args.date,
        "size": label,
        "events": events,
        "machine": machine,
        "code": code_info(),
        "settings": {"memory_limit": args.memory_limit, "threads": args.threads, "seed": args.seed},
        "data": {**manifest.to_json(), "generate": generated or "cached"},
        "stages": results,
    }
    for result in results.values():
        if result.get("status") == "ok" and result.get("seconds"):
            result["events_per_second"] = round(events / result["seconds"])
    record["derived"] = derive(record)
    return record


def _skip_reason(name: str, results: dict[str, Any], events: int, args: argparse.Namespace) -> str | None:
    def ok(stage: str) -> bool:
        return results.get(stage, {}).get("status") == "ok"

    if name in ("build", *ANALYSIS_STAGES, "friction", "dashboard", "profile", "increment") and not ok(
        "load"
    ):
        return "needs a successful load"
    if name in (*ANALYSIS_STAGES, "friction", "dashboard", "profile") and not ok("build"):
        return "needs a successful build"
    if name == "profile" and args.profile <= 0:
        return "disabled (--profile 0)"
    if name == "pm4py" and args.no_pm4py:
        return "disabled (--no-pm4py)"
    if name == "pm4py" and events > PM4PY_MAX_EVENTS:
        return f"PM4Py is only run up to {size_label(PM4PY_MAX_EVENTS)} events"
    return None


def _one_line(result: dict[str, Any], events: int) -> str:
    if result.get("status") != "ok":
        text = (result.get("reason") or result.get("error") or "").splitlines()
        errors = [line for line in text if "Error" in line] or text[-1:]
        return f"{result.get('status')}: {errors[0].strip() if errors else ''}"
    seconds = result["seconds"]
    return (
        f"{seconds:8.2f} s  cpu {result.get('cpu_seconds', 0):7.1f} s  "
        f"cpu pressure {result.get('cpu_pressure') or 0:4.0%}  {events / seconds / 1e6:6.2f} M ev/s  "
        f"peak RSS {result['peak_rss_bytes'] / 2**30:5.2f} GiB  "
        f"spill {result['spill_peak_bytes'] / 2**30:5.2f} GiB"
    )


# --- derived numbers, targets, report -----------------------------------------------------


def _ok(record: dict[str, Any], stage: str) -> dict[str, Any] | None:
    result = record["stages"].get(stage)
    return result if result and result.get("status") == "ok" else None


def derive(record: dict[str, Any]) -> dict[str, Any]:
    derived: dict[str, Any] = {}
    pipeline = [_ok(record, s) for s in PIPELINE_STAGES]
    if _ok(record, "load") and _ok(record, "build"):
        derived["end_to_end_seconds"] = round(sum(r["seconds"] for r in pipeline if r), 3)
        derived["end_to_end_stages"] = [s for s, r in zip(PIPELINE_STAGES, pipeline, strict=True) if r]
        derived["end_to_end_peak_rss_bytes"] = max(r["peak_rss_bytes"] for r in pipeline if r)
    build = _ok(record, "build")
    if build:
        parts = build["detail"]["parts"]
        path = build["detail"].get("sessionize_models") or SESSIONIZE_MODELS
        derived["sessionize_models"] = list(path)
        derived["sessionize_transitions_seconds"] = round(sum(parts.get(m, 0.0) for m in path), 3)
        derived["sessionized_model_seconds"] = parts.get("int_touchpoints__sessionized")
        # stitching (the identity look-up that gives each event its customer) comes before the
        # path above; the bare sort has its customer id already, so both ratios are reported
        derived["stitch_sessionize_transitions_seconds"] = round(
            derived["sessionize_transitions_seconds"] + parts.get("int_touchpoints__stitched", 0.0), 3
        )
        models = {name: seconds for name, seconds in parts.items() if " " not in name}
        slowest = max(models, key=models.__getitem__)
        derived["slowest_build_model"] = {"name": slowest, "seconds": models[slowest]}
    floor = _ok(record, "floor")
    if floor and build:
        # the floor: the faster of the bare sort and sort + one window (both sort by customer, ts)
        sort_seconds = floor["seconds"]
        derived["sort_floor_seconds"] = sort_seconds
        derived["sort_only_seconds"] = floor["detail"]["parts"].get("sort")
        derived["sort_window_seconds"] = floor["detail"]["parts"].get("sort_window")
        derived["ratio_sessionize_vs_sort"] = round(
            derived["sessionize_transitions_seconds"] / sort_seconds, 2
        )
        derived["ratio_stitch_sessionize_vs_sort"] = round(
            derived["stitch_sessionize_transitions_seconds"] / sort_seconds, 2
        )
        derived["ratio_sessionized_model_vs_sort"] = round(
            (derived["sessionized_model_seconds"] or 0.0) / sort_seconds, 2
        )
    pm4py = _ok(record, "pm4py")
    if pm4py and build:
        derived["pm4py_seconds"] = pm4py["seconds"]
        derived["pm4py_sessionize_and_dfg_seconds"] = pm4py["detail"]["sessionize_and_dfg_seconds"]
        derived["speedup_build_vs_pm4py_dfg"] = round(
            pm4py["detail"]["sessionize_and_dfg_seconds"] / build["seconds"], 2
        )
        # like for like: PM4Py's sessionize + DFG against our stitch + sessionize + transitions
        ours = derived["stitch_sessionize_transitions_seconds"]
        derived["speedup_sessionize_vs_pm4py_dfg"] = round(
            pm4py["detail"]["sessionize_and_dfg_seconds"] / ours, 2
        )
        if "end_to_end_seconds" in derived:
            derived["speedup_e2e_vs_pm4py_total"] = round(pm4py["seconds"] / derived["end_to_end_seconds"], 2)
    increment, load = _ok(record, "increment"), _ok(record, "load")
    copy_seconds = floor["detail"]["parts"].get("copy") if floor else None
    if copy_seconds and load:
        # the bare copy of the Parquet files into a table: what any loader pays at least
        derived["copy_floor_seconds"] = copy_seconds
        derived["ratio_load_vs_copy"] = round(load["seconds"] / copy_seconds, 2)
    if increment and load:
        share = increment["detail"]["increment_events"] / record["events"]
        derived["increment_seconds"] = increment["seconds"]
        derived["increment_share_of_events"] = round(share, 4)
        derived["increment_share_of_load_time"] = round(increment["seconds"] / load["seconds"], 4)
        derived["increment_cost_multiple"] = round(increment["seconds"] / (share * load["seconds"]), 2)
    return derived


def latest_records(results_dir: Path) -> dict[str, dict[str, Any]]:
    """The newest result per size in ``results_dir`` (by date, then file time), re-derived."""
    latest: dict[str, dict[str, Any]] = {}
    for path in sorted(results_dir.glob("*.json"), key=lambda p: (p.name[:10], p.stat().st_mtime)):
        record = json.loads(path.read_text(encoding="utf-8"))
        if "stages" in record and "size" in record:
            record["derived"] = derive(record)
            latest[record["size"]] = record
    return dict(sorted(latest.items(), key=lambda kv: kv[1]["events"]))


def _failed_stages(record: dict[str, Any] | None) -> str:
    """Pipeline stages of ``record`` that failed, each with the last line of its error."""
    if not record:
        return ""
    failures = []
    for stage in PIPELINE_STAGES:
        result = record["stages"].get(stage) or {}
        if result.get("status") == "failed":
            lines = [line.strip() for line in str(result.get("error", "")).splitlines() if line.strip()]
            failures.append(f"{stage}: {lines[-1] if lines else 'no error recorded'}")
    return "; ".join(failures)


def evaluate_targets(records: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target: what was measured and whether it is met (None: not measured yet)."""
    by_events = {r["events"]: r for r in records.values()}
    r10, r100 = by_events.get(10_000_000), by_events.get(100_000_000)
    d10 = r10["derived"] if r10 else {}
    d100 = r100["derived"] if r100 else {}
    rows: list[dict[str, Any]] = []

    def add(key: str, measured: str, met: bool | None) -> None:
        rows.append({"target": TARGETS[key], "measured": measured, "met": met})

    e2e = d100.get("end_to_end_seconds")
    ml = r100["settings"]["memory_limit"] if r100 else "?"
    failed = _failed_stages(r100)
    if failed and not e2e:
        add("e2e_100m", f"failed: {failed}", False)
    else:
        stages = ", ".join(d100.get("end_to_end_stages", []))
        add(
            "e2e_100m",
            f"{e2e:.0f} s ({stages}; memory_limit {ml})" if e2e else "not measured",
            None if e2e is None else e2e < 600,
        )
    rss = d100.get("end_to_end_peak_rss_bytes")
    add(
        "rss_100m",
        f"{rss / 2**30:.2f} GiB" if rss else "not measured",
        None if rss is None else rss < 6 * 2**30,
    )
    ratios = {r["size"]: r["derived"].get("ratio_sessionize_vs_sort") for r in records.values()}
    ratios = {k: v for k, v in ratios.items() if v is not None}
    stitched = {r["size"]: r["derived"].get("ratio_stitch_sessionize_vs_sort") for r in records.values()}
    add(
        "sort_floor",
        ", ".join(
            f"{k}: {v:.2f}x" + (f" ({stitched[k]:.2f}x with stitching)" if stitched.get(k) else "")
            for k, v in ratios.items()
        )
        or "not measured",
        None if not ratios else all(v <= 1.5 for v in ratios.values()),
    )
    speedup = d10.get("speedup_build_vs_pm4py_dfg")
    add(
        "pm4py",
        (
            f"PM4Py sessionize + DFG takes {speedup:.2f}x our whole build's time and "
            f"{d10.get('speedup_sessionize_vs_pm4py_dfg', float('nan')):.2f}x our stitch + sessionize + "
            f"transitions; PM4Py read + sessionize + DFG takes "
            f"{d10.get('speedup_e2e_vs_pm4py_total', float('nan')):.2f}x our end to end"
        )
        if speedup
        else "not measured",
        None if speedup is None else speedup >= 5,
    )
    scale = e2e / d10["end_to_end_seconds"] if e2e and d10.get("end_to_end_seconds") else None
    add("scaling", f"{scale:.1f}x" if scale else "not measured", None if scale is None else scale <= 11)
    f20 = _ok(r100, "funnel_20") if r100 else None
    add(
        "funnel_100m",
        f"{f20['seconds']:.1f} s" if f20 else "not measured",
        None if f20 is None else f20["seconds"] < 60,
    )
    multiple = d100.get("increment_cost_multiple")
    add(
        "increment",
        (
            f"{d100['increment_seconds']:.1f} s for {d100['increment_share_of_events']:.1%} of the events = "
            f"{d100['increment_share_of_load_time']:.1%} of the full load time ({multiple:.1f}x proportional)"
        )
        if multiple
        else "not measured",
        None if multiple is None else multiple <= 2,
    )
    return rows


def _cell(record: dict[str, Any], stage: str) -> str:
    result = record["stages"].get(stage)
    if stage == "generate":
        generated = record.get("data", {}).get("generate")
        result = generated if isinstance(generated, dict) else None
        if generated == "cached":
            return "cached"
    if not result:
        return ""
    if result.get("status") != "ok":
        return str(result.get("status"))
    seconds, events = result["seconds"], record["events"]
    throughput = (
        f" · {events / seconds / 1e6:.2f} M ev/s"
        if stage in ("generate", "floor", "load", "build", "pm4py")
        else ""
    )
    spill = result.get("spill_peak_bytes", 0)
    spilled = f" · spill {spill / 2**30:.1f} GiB" if spill > 2**26 else ""
    cpu = f" (cpu {result['cpu_seconds']:.0f} s)" if result.get("cpu_seconds", 0) >= 1 else ""
    if cpu and result.get("cpu_pressure") is not None:
        cpu = cpu[:-1] + f", stall {result['cpu_pressure']:.0%})"
    return f"{seconds:.1f} s{cpu}{throughput} · {result['peak_rss_bytes'] / 2**30:.2f} GiB{spilled}"


STAGE_LABELS = {
    "generate": "generate the log (Parquet; cached afterwards)",
    "floor": "reference: bare DuckDB sort by customer, ts",
    "load": "load (Parquet -> touchpoints)",
    "build": "build (stitch + sessionize + marts)",
    "graph": "graph (NetworkX from session_transitions)",
    "funnel_4": "funnel, 4 steps",
    "funnel_20": "funnel, 20 steps",
    "friction": "friction",
    "dashboard": "dashboard",
    "increment": "1% increment load",
    "pm4py": "reference: PM4Py read + sessionize + DFG",
    "profile": "profile (DuckDB profiler on the slowest models)",
}


def render_markdown(records: dict[str, dict[str, Any]]) -> str:
    if not records:
        return "No results yet.\n"
    sizes = list(records)
    first = next(iter(records.values()))
    m = first["machine"]
    lines = [
        f"Machine: {m['cpu_model']}, {m['cores']} cores, {m['ram_bytes'] / 2**30:.1f} GiB RAM; "
        f"Python {m['python']}, DuckDB {m['duckdb']}; "
        + "; ".join(
            f"{s}: {r['date']}, memory_limit {r['settings']['memory_limit']}, "
            f"threads {r['settings']['threads']}"
            for s, r in records.items()
        )
        + ".",
        "",
        "Code: " + "; ".join(f"{z}: {_code_label(r.get('code', {}))}" for z, r in records.items()) + ".",
        "",
        "Each cell: wall seconds of the stage's work (CPU seconds of its process, all threads; "
        "stall: share of the wall time some task on the machine waited for a CPU, Linux PSI) · "
        "events/s (whole-log stages) · peak RSS of the stage's own process (VmHWM) · "
        "peak DuckDB spill when over 64 MiB.",
        "",
        "| stage | " + " | ".join(sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    stages = ["generate"] + [s for s in STAGE_ORDER if any(s in r["stages"] for r in records.values())]
    lines += [
        f"| {STAGE_LABELS.get(s, s)} | " + " | ".join(_cell(records[z], s) for z in sizes) + " |"
        for s in stages
    ]

    def derived_row(label: str, key: str, fmt: str) -> str:
        values = [records[z]["derived"].get(key) for z in sizes]
        return f"| {label} | " + " | ".join("" if v is None else fmt.format(v) for v in values) + " |"

    lines += [
        derived_row(
            "**end to end** (load + build + friction + dashboard, where available)",
            "end_to_end_seconds",
            "**{:.1f} s**",
        ),
        derived_row(
            "sessionize + transitions (models from stitched touchpoints to session_transitions;"
            " since 33c5ea3 one pass builds session and journey transitions, so this includes journeys)",
            "sessionize_transitions_seconds",
            "{:.1f} s",
        ),
        derived_row("... / bare sort (1.5x wanted)", "ratio_sessionize_vs_sort", "{:.2f}x"),
        derived_row("sessionized model alone / bare sort", "ratio_sessionized_model_vs_sort", "{:.2f}x"),
        derived_row(
            "stitch + sessionize + transitions (adds int_touchpoints__stitched)",
            "stitch_sessionize_transitions_seconds",
            "{:.1f} s",
        ),
        derived_row("... / bare sort", "ratio_stitch_sessionize_vs_sort", "{:.2f}x"),
        derived_row(
            "PM4Py sessionize + DFG / our build (5x wanted)", "speedup_build_vs_pm4py_dfg", "{:.2f}x"
        ),
        derived_row(
            "PM4Py sessionize + DFG / our stitch + sessionize + transitions",
            "speedup_sessionize_vs_pm4py_dfg",
            "{:.2f}x",
        ),
        derived_row(
            "PM4Py read + sessionize + DFG / our end to end", "speedup_e2e_vs_pm4py_total", "{:.2f}x"
        ),
        derived_row("load / bare copy of the Parquet files into a table", "ratio_load_vs_copy", "{:.2f}x"),
        derived_row("1% increment / its share of the full load", "increment_cost_multiple", "{:.1f}x"),
    ]
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    for row in evaluate_targets(records):
        met = {True: "yes", False: "**no**", None: "not measured"}[row["met"]]
        lines.append(f"| {row['target']} | {row['measured']} | {met} |")
    return "\n".join(lines) + "\n"


def _code_label(code: dict[str, Any]) -> str:
    where = (
        f"commit {code['git_head']} ({code.get('git_tracked_files_modified')} tracked files modified)"
        if code.get("git_head")
        else f"code from {code.get('package')} and {code.get('sql_dir')}"
    )
    return f"{where}, content hash {code.get('content_sha256')}"


def write_readme(readme: Path, markdown: str) -> None:
    block = f"{README_START}\n{markdown}{README_END}"
    text = (
        readme.read_text(encoding="utf-8")
        if readme.is_file()
        else f"# Benchmarks\n\n{README_START}\n{README_END}\n"
    )
    if README_START in text and README_END in text:
        head, rest = text.split(README_START, 1)
        _, tail = rest.split(README_END, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    readme.write_text(text, encoding="utf-8")


# --- command line -------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--sizes", default="1M,10M", help="comma-separated event counts: 1M,10M,100M")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SIZE} events only (smoke test)")
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB memory_limit (default 4GB)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-dir", type=Path, default=BENCH_DIR / "data", help="generated logs (cache)")
    parser.add_argument("--work-dir", type=Path, default=None, help="warehouses (default: <data-dir>/work)")
    parser.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results")
    parser.add_argument(
        "--readme",
        type=Path,
        default=None,
        help="README to update (default: benchmarks/README.md; not with --quick)",
    )
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--stages", default=",".join(STAGE_ORDER), help="subset of: " + ",".join(STAGE_ORDER))
    parser.add_argument("--no-pm4py", action="store_true", help="skip the PM4Py reference")
    parser.add_argument(
        "--profile", type=int, default=2, help="explain-analyze this many slowest models (0: off)"
    )
    parser.add_argument("--keep-work", action="store_true", help="keep the warehouse after the run")
    parser.add_argument(
        "--render-only", action="store_true", help="only re-derive and re-render the stored results"
    )
    args = parser.parse_args(argv)
    sizes = [QUICK_SIZE] if args.quick else [s for s in args.sizes.split(",") if s.strip()]
    args.events = [parse_count(s) for s in sizes]
    args.stages = {s.strip() for s in args.stages.split(",") if s.strip()}
    unknown = args.stages - set(STAGE_ORDER)
    if unknown:
        parser.error(f"unknown stages: {', '.join(sorted(unknown))}")
    if args.readme is None and not args.quick:
        args.readme = BENCH_DIR / "README.md"
    if args.no_readme:
        args.readme = None
    args.date = dt.datetime.now(dt.UTC).date().isoformat()
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    machine = machine_info()
    print(
        f"machine: {machine['cpu_model']}, {machine['cores']} cores, {machine['ram_bytes'] / 2**30:.1f} GiB; "
        f"memory_limit {args.memory_limit}, threads {args.threads}",
        flush=True,
    )
    args.results_dir.mkdir(parents=True, exist_ok=True)
    failed = False
    for events in [] if args.render_only else args.events:
        record = benchmark_size(events, args, machine)
        path = args.results_dir / f"{args.date}-{record['size']}.json"
        path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        print(f"results: {path}")
        failed |= any(r.get("status") == "failed" for r in record["stages"].values())
    markdown = render_markdown(latest_records(args.results_dir))
    print("\n" + markdown)
    if args.readme is not None:
        write_readme(args.readme, markdown)
        print(f"updated {args.readme}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

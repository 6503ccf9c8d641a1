"""The whole pipeline as plain functions: what the CLI, the Prefect flow and notebooks call.

Each step takes the config and opens the warehouse itself (DuckDB allows one writer per
file), so steps can run as separate tasks or processes. ``run_pipeline`` holds the run lock
for the whole run and records it in the ``runs`` table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from journey_mining import __version__
from journey_mining.alerts import RegressionError, find_regressions
from journey_mining.builds import check_duckdb_marts
from journey_mining.config import Config
from journey_mining.engines import ENGINES
from journey_mining.headline import headline_numbers
from journey_mining.ingest.loader import LoadReport, load_sources
from journey_mining.journeys import build_journeys
from journey_mining.report import friction_rows
from journey_mining.runs import finish_run, previous_headlines, run_lock, start_run, utc_now
from journey_mining.warehouse import open_warehouse


@dataclass
class RunSummary:
    run_id: str
    config_fingerprint: str
    load: LoadReport
    tables: dict[str, int] = field(default_factory=dict)
    headline: dict[str, Any] = field(default_factory=dict)
    friction_findings: int = 0
    top_friction: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, Path] = field(default_factory=dict)


def new_run_id(config: Config, run_date: date | None) -> str:
    """Sortable and unique: start time, run date and config fingerprint."""
    stamp = utc_now().strftime("%Y%m%dT%H%M%S%f")
    label = run_date.isoformat() if run_date else "all"
    return f"{stamp}-{label}-{config.fingerprint()[:6]}"


def load_step(config: Config, *, run_date: date | None = None, raise_on_failure: bool = True) -> LoadReport:
    """Load every source's new files into the warehouse (files seen before are skipped).

    With ``run_date``, sources whose path has a ``{date:...}`` placeholder read that day's
    files (plus their lookback days); other sources read every file they match.
    """
    with open_warehouse(config) as con:
        return load_sources(con, config, run_date=run_date, raise_on_failure=raise_on_failure)


def _engine_name(config: Config, engine: str | None) -> str:
    """``engine``, or the config's ``engine.name``; an unknown name fails."""
    name = engine or config.engine.name
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}: use one of {', '.join(ENGINES)}")
    return name


@contextmanager
def engine_session(config: Config, engine: str | None = None) -> Iterator[None]:
    """On Spark, one session for the steps of a run (``scale_out.run_session``); nothing on
    DuckDB, whose steps each open the warehouse."""
    if _engine_name(config, engine) != "spark":
        yield
        return
    from journey_mining.scale_out import run_session

    with run_session(config):
        yield


def build_step(config: Config, engine: str | None = None) -> dict[str, int]:
    """Rebuild identities, sessions, journeys and marts from touchpoints, all or nothing.

    ``engine`` (``duckdb`` or ``spark``) overrides ``engine.name`` of the config.
    """
    if _engine_name(config, engine) == "spark":
        from journey_mining.scale_out import build_on_spark

        return build_on_spark(config)
    with open_warehouse(config) as con:
        con.execute("begin transaction")
        try:
            counts = build_journeys(con, config)
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")
        return counts


def friction_step(config: Config, engine: str | None = None) -> int:
    """Detect and rank friction; returns the number of findings stored in ``friction``.

    ``engine`` (``duckdb`` or ``spark``) overrides ``engine.name`` of the config. On Spark
    the kinds run over the marts of the last Spark build; only their candidate rows come back.
    """
    from journey_mining.friction import detect_friction

    if _engine_name(config, engine) == "spark":
        from journey_mining.scale_out import friction_on_spark

        return friction_on_spark(config)

    with open_warehouse(config) as con:
        check_duckdb_marts(con, "detecting friction")
        con.execute("begin transaction")
        try:
            findings = detect_friction(con, config)
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")
        return len(findings)


def headline_step(config: Config, run_id: str, engine: str | None = None) -> dict[str, Any]:
    """Headline numbers, with ``alerts``: regressions against the previous runs' baseline.

    ``engine`` as for ``build_step``: on Spark the numbers come from the Spark build's marts.
    """
    on_spark = _engine_name(config, engine) == "spark"
    if on_spark:
        from journey_mining.scale_out import headline_on_spark

        numbers = headline_on_spark(config)
    with open_warehouse(config) as con:
        if not on_spark:
            check_duckdb_marts(con, "computing the headline numbers")
            numbers = headline_numbers(con)
        history = previous_headlines(con, run_id, limit=config.alerts.baseline_runs)
    numbers["alerts"] = [str(r) for r in find_regressions(numbers, history, config.alerts)]
    return numbers


def top_friction_step(config: Config, limit: int = 10) -> list[dict[str, Any]]:
    """The top significant findings, ranked by estimated conversions lost."""
    with open_warehouse(config) as con:
        return friction_rows(con, limit=limit)


def enforce_alerts(config: Config, headline: dict[str, Any]) -> None:
    """Fail the run on a regression when configured, so the scheduler alerts the team."""
    if config.alerts.fail_run_on_regression and headline.get("alerts"):
        raise RegressionError("friction regression: " + "; ".join(headline["alerts"]))


def dashboard_step(
    config: Config, run_id: str, manifest: dict[str, Any] | None = None, engine: str | None = None
) -> Path:
    """Write this run's dashboard and refresh the index of past runs.

    ``engine`` as for ``build_step``: on Spark the dashboard's queries run there.
    """
    from journey_mining.viz.dashboard import write_dashboard, write_index

    out_dir = config.output_path / "dashboards"
    if _engine_name(config, engine) == "spark":
        from journey_mining.scale_out import dashboard_on_spark

        with open_warehouse(config) as con:
            history = previous_headlines(con, run_id, limit=1)
        path = dashboard_on_spark(
            config, out_dir, run_id=run_id, previous=history[0] if history else None, manifest=manifest
        )
    else:
        with open_warehouse(config) as con:
            check_duckdb_marts(con, "writing the dashboard")
            history = previous_headlines(con, run_id, limit=1)
            previous = history[0] if history else None
            path = write_dashboard(con, config, out_dir, run_id=run_id, previous=previous, manifest=manifest)
    write_index(out_dir)
    return path


IDENTITY_STATS_SQL = """
select
    (select count(*) from identity_map) as identifiers,
    (select count(*) from identity_groups) as customers,
    (select count(*) from identity_groups where identifiers > 1) as customers_with_linked_identifiers,
    (select max(identifiers) from identity_groups) as largest_group,
    (select count(*) from identity_super_nodes) as super_nodes_not_linked
"""


def identity_stats(config: Config, engine: str | None = None) -> dict[str, int]:
    """How identity stitching merged identifiers: for the run manifest (``engine`` as for
    ``build_step``: the identity marts of a Spark build stay there)."""
    if _engine_name(config, engine) == "spark":
        from journey_mining.scale_out import spark_marts

        with spark_marts(config, task="counting identities") as connection:
            return _identity_counts(connection)
    with open_warehouse(config) as con:
        check_duckdb_marts(con, "counting identities")
        return _identity_counts(con)


def _identity_counts(con: Any) -> dict[str, int]:
    cursor = con.execute(IDENTITY_STATS_SQL)
    names = [d[0] for d in cursor.description]
    return {n: int(v or 0) for n, v in zip(names, cursor.fetchone() or (), strict=True)}


def run_manifest(
    config: Config,
    run_id: str,
    run_date: date | None,
    tables: dict[str, int],
    headline: dict[str, Any],
    load: LoadReport | None = None,
    engine: str | None = None,
) -> dict[str, Any]:
    """What the dashboard embeds: parameters, data fingerprint, counts, identity merges, alerts.

    ``load`` is this run's load report; without it, the totals of every loaded file.
    ``engine`` as for ``build_step``.
    """
    return {
        "run_id": run_id,
        "run_date": run_date.isoformat() if run_date else None,
        "config_fingerprint": config.fingerprint(),
        "data_fingerprint": data_fingerprint(config),
        "code_version": __version__,
        "load": load.by_source() if load is not None else loaded_file_totals(config),
        "tables": {t: n for t, n in tables.items() if not t.startswith(("cfg_", "int_"))},
        "identity": identity_stats(config, engine),
        "alerts": headline.get("alerts", []),
    }


def loaded_file_totals(config: Config) -> dict[str, dict[str, int]]:
    """Files and rows per source over everything loaded so far."""
    with open_warehouse(config) as con:
        rows = con.execute(
            """select source, count(*), sum(rows_read), sum(rows_loaded), sum(rows_duplicate),
                      sum(rows_rejected), sum(touchpoints_written)
               from loaded_files group by source order by source"""
        ).fetchall()
    keys = ("files", "read", "loaded", "duplicate", "rejected", "touchpoints")
    return {row[0]: dict(zip(keys, (int(v) for v in row[1:]), strict=True)) for row in rows}


def data_fingerprint(config: Config) -> str:
    """Hash of the loaded files' checksums: same input files, same fingerprint."""
    with open_warehouse(config) as con:
        rows = con.execute("select sha256 from loaded_files order by sha256").fetchall()
    return hashlib.sha256("".join(r[0] for r in rows).encode()).hexdigest()[:16]


def _quiet(step: str) -> None:
    """Default progress reporter: says nothing."""


def run_pipeline(
    config: Config,
    *,
    run_date: date | None = None,
    wait_seconds: float = 0.0,
    dashboard: bool = True,
    progress: Callable[[str], None] = _quiet,
) -> RunSummary:
    """Load, build, detect friction and write the dashboard, as one recorded run.

    ``progress`` is called with each step's name as it starts (the CLI prints it).
    """
    run_id = new_run_id(config, run_date)
    with run_lock(config, wait_seconds=wait_seconds):
        with open_warehouse(config) as con:
            start_run(con, config, run_id, run_date)
        try:
            progress("loading sources")
            report = load_step(config, run_date=run_date)
            summary = RunSummary(run_id, config.fingerprint(), report)
            with engine_session(config):
                progress("stitching identities, building sessions, journeys and marts")
                summary.tables = build_step(config)
                progress("detecting friction")
                summary.friction_findings = friction_step(config)
                progress("computing headline numbers")
                summary.headline = headline_step(config, run_id)
                summary.top_friction = top_friction_step(config)
                if dashboard:
                    tables, headline = summary.tables, summary.headline
                    manifest = run_manifest(config, run_id, run_date, tables, headline, report)
                    progress("writing the dashboard")
                    summary.outputs["dashboard"] = dashboard_step(config, run_id, manifest)
            enforce_alerts(config, summary.headline)
        except BaseException as err:
            with open_warehouse(config) as con:
                finish_run(con, run_id, status="failed", error=str(err)[:2000])
            raise
        with open_warehouse(config) as con:
            counts = {
                "load": report.by_source(),
                "tables": summary.tables,
                "friction": summary.friction_findings,
            }
            finish_run(con, run_id, status="success", counts=counts, headline=summary.headline)
    return summary

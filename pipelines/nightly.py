"""The nightly journey-mining flow: load new files, rebuild journeys, find friction, report.

Thin by design: every task calls one library function from ``journey_mining.pipeline``
and passes only small values (paths, dates, counts). Run it once, with no server:

    python -m pipelines.nightly --config data/sample/config.yaml [--run-date 2026-11-15]
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

from journey_mining.config import load_config
from journey_mining.engines import ENGINES
from journey_mining.ingest.loader import LoadError
from journey_mining.pipeline import (
    build_step,
    dashboard_step,
    enforce_alerts,
    engine_session,
    friction_step,
    headline_step,
    load_step,
    new_run_id,
    run_manifest,
    top_friction_step,
)
from journey_mining.report import format_source_counts, friction_rows, summary_markdown
from journey_mining.runs import finish_run, run_lock, start_run, utc_now
from journey_mining.warehouse import open_warehouse


def retry_only_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry reading files on I/O trouble, never on bad data (that must fail clearly)."""
    try:
        state.result()
    except LoadError as err:
        return err.transient
    except OSError:
        return True
    except Exception:
        return False
    return False


@task(retries=3, retry_delay_seconds=[10, 60, 300], retry_condition_fn=retry_only_transient)
def load_sources_task(config_path: str, run_date: date | None) -> dict[str, dict[str, int]]:
    return load_step(load_config(config_path), run_date=run_date).by_source()


@task
def build_journeys_task(config_path: str, engine: str | None = None) -> dict[str, int]:
    return build_step(load_config(config_path), engine=engine)


@task
def detect_friction_task(config_path: str, engine: str | None = None) -> int:
    return friction_step(load_config(config_path), engine=engine)


@task
def headline_task(config_path: str, run_id: str, engine: str | None = None) -> dict[str, Any]:
    return headline_step(load_config(config_path), run_id, engine=engine)


@task
def manifest_task(
    config_path: str,
    run_id: str,
    run_date: date,
    tables: dict[str, int],
    headline: dict[str, Any],
    engine: str | None = None,
) -> dict[str, Any]:
    return run_manifest(load_config(config_path), run_id, run_date, tables, headline, engine=engine)


@task
def dashboard_task(config_path: str, run_id: str, manifest: dict[str, Any], engine: str | None = None) -> str:
    return str(dashboard_step(load_config(config_path), run_id, manifest, engine=engine))


@task
def publish_summary_task(config_path: str, run_id: str, headline: dict[str, Any], dashboard: str) -> None:
    config = load_config(config_path)
    with open_warehouse(config, read_only=True) as con:
        top = friction_rows(con, limit=10)
    create_markdown_artifact(summary_markdown(run_id, headline, top), key="journey-mining-summary")
    if top:
        create_table_artifact(top, key="journey-mining-friction", description="Top friction findings")
    create_link_artifact(Path(dashboard).resolve().as_uri(), key="journey-mining-dashboard")


@flow(name="journey-mining-nightly", log_prints=True)
def nightly(
    config_path: str = "data/sample/config.yaml", run_date: date | None = None, engine: str | None = None
) -> dict[str, Any]:
    """One run: a day's new files in, every derived table and the dashboard out.

    ``engine`` (``duckdb`` or ``spark``) overrides the config's ``engine.name`` for the build,
    friction detection, the headline numbers and the dashboard.
    """
    logger = get_run_logger()
    run_date = run_date or utc_now().date() - timedelta(days=1)
    config = load_config(config_path)
    run_id = new_run_id(config, run_date)
    with run_lock(config, wait_seconds=0):
        with open_warehouse(config) as con:
            start_run(con, config, run_id, run_date)
        try:
            loaded = load_sources_task(config_path, run_date)
            with engine_session(config, engine):  # on Spark, one session for these tasks
                tables = build_journeys_task(config_path, engine)
                findings = detect_friction_task(config_path, engine)
                headline = headline_task(config_path, run_id, engine)
                manifest = manifest_task(config_path, run_id, run_date, tables, headline, engine)
                dashboard = dashboard_task(config_path, run_id, manifest, engine)
            publish_summary_task(config_path, run_id, headline, dashboard)
            enforce_alerts(config, headline)
        except BaseException as err:
            with open_warehouse(config) as con:
                finish_run(con, run_id, status="failed", error=str(err)[:2000])
            raise
        with open_warehouse(config) as con:
            counts = {"load": loaded, "tables": tables, "friction": findings}
            finish_run(con, run_id, status="success", counts=counts, headline=headline)
    logger.info("dashboard: %s", dashboard)
    return {
        "run_id": run_id,
        "dashboard": dashboard,
        "headline": headline,
        "load": loaded,
        "top_friction": top_friction_step(config),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default="data/sample/config.yaml")
    parser.add_argument("--run-date", type=date.fromisoformat, default=None)
    parser.add_argument("--engine", choices=ENGINES, default=None, help="overrides engine.name")
    args = parser.parse_args()
    result = nightly(config_path=args.config, run_date=args.run_date, engine=args.engine)
    print(format_source_counts(result["load"]))
    print()
    print(summary_markdown(result["run_id"], result["headline"], result["top_friction"]))
    print()
    print(f"dashboard: {result['dashboard']}")


if __name__ == "__main__":
    main()

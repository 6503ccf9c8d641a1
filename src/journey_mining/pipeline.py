"""The whole pipeline as plain functions: what the CLI, the Prefect flow and notebooks call.

Each step opens the warehouse itself from the config (DuckDB allows one writer per file),
so steps can run in separate processes or tasks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from journey_mining.config import Config
from journey_mining.ingest.loader import LoadReport, load_sources
from journey_mining.warehouse import open_warehouse


@dataclass
class RunSummary:
    config_fingerprint: str
    load: LoadReport
    tables: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, Path] = field(default_factory=dict)


def load_step(config: Config, *, raise_on_failure: bool = True) -> LoadReport:
    """Load every source's new files into the warehouse."""
    with open_warehouse(config) as con:
        return load_sources(con, config, raise_on_failure=raise_on_failure)


def run_pipeline(config: Config) -> RunSummary:
    """Load, then build every derived table the installed steps provide."""
    report = load_step(config)
    return RunSummary(config.fingerprint(), report)

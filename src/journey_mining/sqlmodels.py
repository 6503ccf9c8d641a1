"""Runs the layered SQL models in ``sql/`` in dependency order and materialises them.

Each ``.sql`` file is one plain SELECT named for the table it builds; this module owns
the ``create or replace table`` so the SQL itself stays engine-neutral. Dependencies are
read from the files: a model depends on every other model whose name it mentions.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb

LAYERS = ("staging", "intermediate", "marts")


def sql_root() -> Path:
    """The ``sql/`` folder: ``JOURNEY_MINING_SQL_DIR`` or the project checkout's."""
    override = os.environ.get("JOURNEY_MINING_SQL_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "sql"


@dataclass(frozen=True)
class Model:
    name: str
    layer: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")


def discover(layers: tuple[str, ...] = ("intermediate", "marts"), root: Path | None = None) -> list[Model]:
    """All models of the given layers, in dependency order (ties by name)."""
    base = root or sql_root()
    models = {
        path.stem: Model(path.stem, layer, path)
        for layer in layers
        for path in sorted((base / layer).glob("*.sql"))
    }
    graph: dict[str, set[str]] = {}
    for model in models.values():
        body = _strip_comments(model.sql)
        graph[model.name] = {
            other for other in models if other != model.name and re.search(rf"\b{other}\b", body)
        }
    sorter = TopologicalSorter(graph)
    sorter.prepare()
    ordered: list[Model] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        ordered.extend(models[name] for name in ready)
        sorter.done(*ready)
    return ordered


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


def materialise(con: duckdb.DuckDBPyConnection, model: Model) -> int:
    """Build one model as a table (replacing the old one atomically) and return its rows."""
    con.execute(f'create or replace table "{model.name}" as {model.sql}')
    # fetchall, not fetchone: DuckDB 2.0 keeps a partly fetched result open on the
    # connection, and the caller's next con.sql()/register() would fail
    rows = con.execute(f'select count(*) from "{model.name}"').fetchall()
    return int(rows[0][0]) if rows else 0


def run_models(con: duckdb.DuckDBPyConnection, models: list[Model] | None = None) -> dict[str, int]:
    """Materialise models in order; returns rows per table."""
    counts: dict[str, int] = {}
    for model in models if models is not None else discover():
        counts[model.name] = materialise(con, model)
    return counts

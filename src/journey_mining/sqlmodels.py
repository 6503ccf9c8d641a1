"""Runs the layered SQL models in ``sql/`` in dependency order and materialises them.

Each ``.sql`` file is one plain SELECT named for the table it builds; the engine
(``journey_mining.engines``: DuckDB by default, or Spark) owns how it becomes a table, so
the SQL itself stays engine-neutral. Dependencies are
read from the files: a model depends on every other model whose name it mentions.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb

from journey_mining.engines import Engine, SliceKey, as_engine

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
    def is_intermediate(self) -> bool:
        return self.layer == "intermediate"

    @property
    def is_temporary(self) -> bool:
        """Intermediate models are temp tables unless their header says ``-- storage:
        persistent``: a model re-read many times is cheaper to re-read compressed from the
        database file than from an uncompressed spill once the build outgrows memory."""
        persistent = re.search(r"^-- storage: persistent\b", self.sql, flags=re.MULTILINE)
        return self.is_intermediate and persistent is None

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def slice_key(self) -> SliceKey | None:
        """The header's ``-- slice key: table.column``: the model may be built in ranges of it."""
        found = re.search(r"^-- slice key: (\w+)\.(\w+)\b", self.sql, flags=re.MULTILINE)
        return SliceKey(found.group(1), found.group(2)) if found else None

    @property
    def zstd_columns(self) -> tuple[str, ...]:
        """The header's ``-- zstd columns: a, b``: text columns whose values rarely repeat (ids,
        hashes, long sequences), which the engine may store with zstd."""
        found = re.search(r"^-- zstd columns: ([\w, ]+)$", self.sql, flags=re.MULTILINE)
        return tuple(name.strip() for name in found.group(1).split(",")) if found else ()


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


def materialise(target: duckdb.DuckDBPyConnection | Engine, model: Model) -> int:
    """Build one model as a table on the engine (replacing the old one) and return its rows.

    Intermediate models are temporary (see ``Model.is_temporary``): only later models of the
    same build read them, and a persistent copy costs about three times as much to write.
    """
    return as_engine(target).materialise(
        model.name,
        model.sql,
        temporary=model.is_temporary,
        slice_key=model.slice_key,
        zstd_columns=model.zstd_columns,
    )


def run_models(
    target: duckdb.DuckDBPyConnection | Engine,
    models: list[Model] | None = None,
    *,
    release: frozenset[str] = frozenset(),
) -> dict[str, int]:
    """Materialise models in order; returns rows per table.

    Each table named in ``release`` (temporary ones: intermediate models) is released right
    after the last of ``models`` that reads it, so a build holds only the intermediates still
    to be read: at 100M events all of them at once spill more than the disk may hold.
    """
    engine = as_engine(target)
    ordered = models if models is not None else discover()
    spent = _spent_after(ordered, release | {m.name for m in ordered if m.is_intermediate})
    counts: dict[str, int] = {}
    for table in spent.get(-1, []):
        engine.release(table)
    for index, model in enumerate(ordered):
        counts[model.name] = materialise(engine, model)
        for table in spent.get(index, []):
            engine.release(table)
    return counts


def _spent_after(models: list[Model], tables: set[str]) -> dict[int, list[str]]:
    """For each model's position, the ``tables`` it is the last reader of (-1: read by none)."""
    last_reader = dict.fromkeys(tables, -1)
    for index, model in enumerate(models):
        body = _strip_comments(model.sql)
        for table in tables:
            if table != model.name and re.search(rf"\b{table}\b", body):
                last_reader[table] = index
    spent: dict[int, list[str]] = {}
    for table, index in sorted(last_reader.items()):
        spent.setdefault(index, []).append(table)
    return spent

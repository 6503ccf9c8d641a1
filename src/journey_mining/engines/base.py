"""What an engine must do to run the shared SQL in ``sql/``: the few per-engine operations.

Every query handed to an engine is written in DuckDB's dialect (the dialect of ``sql/``);
an engine that speaks another dialect translates it. Tables are named, and each engine
decides what a table is (a DuckDB table, a Spark temp view over materialised data).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa


@dataclass(frozen=True)
class SliceKey:
    """A model's output column that copies ``table.column``: the model's rows split into
    disjoint ranges of it build independently, so an engine may build the model range by
    range (each range's joins then fit in memory instead of spilling)."""

    table: str
    column: str


@runtime_checkable
class Engine(Protocol):
    """Builds and reads named tables from DuckDB-dialect SQL."""

    name: str

    def materialise(
        self,
        table: str,
        sql: str,
        *,
        temporary: bool = False,
        slice_key: SliceKey | None = None,
        zstd_columns: Sequence[str] = (),
    ) -> int:
        """Build ``table`` from the SELECT ``sql``, replacing any previous one; returns its rows.

        ``temporary``: the table is needed only until the end of this build (an intermediate
        model), so the engine may keep it out of persistent storage.
        ``slice_key``: the engine may build the table in ranges of this key (a hint).
        ``zstd_columns``: text columns whose values rarely repeat, which the engine may store
        with zstd (a hint).
        """
        ...

    def rename(self, table: str, new_name: str) -> None:
        """Rename ``table`` to ``new_name``, replacing any table of that name."""
        ...

    def release(self, table: str) -> None:
        """Free an intermediate table no later model reads (its memory, spill or file space)."""
        ...

    def write_table(self, table: str, ddl: str, rows: Sequence[Sequence[Any]]) -> int:
        """(Re)create ``table`` from a DuckDB ``create table`` statement and fill it with
        ``rows`` (values bound, never formatted into SQL); returns the rows written."""
        ...

    def to_arrow(self, sql: str) -> pa.Table:
        """The result of a query, as an Arrow table (small results: reports, tests)."""
        ...


def scalar(engine: Engine, sql: str) -> int:
    """The first column of the first row of ``sql`` as an int (0 when empty or NULL)."""
    result = engine.to_arrow(sql)
    if result.num_rows == 0:
        return 0
    value = result.column(0)[0].as_py()
    return 0 if value is None else int(value)


def rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    """The result of ``sql`` as a list of tuples (small results)."""
    result = engine.to_arrow(sql)
    columns = [column.to_pylist() for column in result.columns]
    return list(zip(*columns, strict=True)) if columns else []

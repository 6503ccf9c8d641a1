"""The slice of DuckDB's connection API that friction and the dashboard use, run on Spark.

Friction's and the dashboard's queries are written once, in DuckDB's dialect, against a
connection: they create temp tables, insert into them, drop them and fetch small results
(candidate rows, map nodes and links, funnel steps). On a Spark cluster the marts are too
big to bring back to one machine, so the same queries run where the marts are:
:class:`SparkConnection` inlines the parameters (``$name`` or ``?``) as literals,
translates each statement with sqlglot (``to_spark_sql``), stores a ``create or replace
temp table`` as a checkpointed session view (an ``insert`` replaces it with the union)
and hands back only the rows a ``select`` returns, as pandas. Nothing but those
aggregates leaves the cluster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlglot
from pyspark.sql import SparkSession
from sqlglot import exp
from sqlglot.tokens import TokenType

from journey_mining.engines.spark_engine import SparkEngine, to_spark_sql


class SparkResult:
    """What ``execute`` returns: the rows of a ``select`` (nothing for a statement)."""

    def __init__(self, frame: pd.DataFrame | None) -> None:
        self._frame = frame

    @property
    def description(self) -> list[tuple[str, None, None, None, None, None, None]] | None:
        """The result's column names, as DB-API (and DuckDB) describe them."""
        if self._frame is None:
            return None
        return [(str(name), None, None, None, None, None, None) for name in self._frame.columns]

    def df(self) -> pd.DataFrame:
        return self._frame.copy() if self._frame is not None else pd.DataFrame()

    def fetchall(self) -> list[tuple[Any, ...]]:
        if self._frame is None:
            return []
        return [tuple(_plain(value) for value in row) for row in self._frame.itertuples(index=False)]

    def fetchone(self) -> tuple[Any, ...] | None:
        rows = self.fetchall()
        return rows[0] if rows else None


class SparkConnection:
    """``execute(sql, parameters)`` of a DuckDB connection, on ``spark`` (see the module)."""

    def __init__(self, spark: SparkSession, *, work_path: str | None = None) -> None:
        self.engine = SparkEngine(spark, work_path=work_path)
        self.spark = spark

    scratch_kind = "temp table"
    """What ``scratch.scratch_table`` creates here: every table is a session view."""
    max_integer_key = 2**63
    """Spark has no 128-bit integer: the Sankey's path keys above a BIGINT are lists."""

    def execute(self, sql: str, parameters: Mapping[str, Any] | Sequence[Any] | None = None) -> SparkResult:
        """Run one statement; ``parameters`` fill ``$name`` (a mapping) or ``?`` (a sequence)."""
        statement = parse_with_parameters(sql, parameters)
        if isinstance(statement, exp.Drop):
            self.spark.catalog.dropTempView(statement.find(exp.Table).name)
            return SparkResult(None)
        if isinstance(statement, exp.Create):
            self._create(statement)
            return SparkResult(None)
        if isinstance(statement, exp.Insert):
            self._insert(statement)
            return SparkResult(None)
        # through Arrow (toPandas() warns about pandas 3 on every call)
        rows = self.spark.sql(to_spark_sql(statement.sql(dialect="duckdb"))).toArrow()
        return SparkResult(as_duckdb_frame(rows))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """``insert into t values (?, ...)`` for each row, run as one insert of all the rows."""
        template = sqlglot.parse_one(sql, read="duckdb")
        values = template.expression if isinstance(template, exp.Insert) else None
        if not isinstance(values, exp.Values) or len(values.expressions) != 1:
            raise ValueError("executemany runs only 'insert into ... values (?, ...)' on Spark here")
        one_row = values.expressions[0].sql(dialect="duckdb")
        tuples = [parse_with_parameters(f"select {one_row}", row).expressions[0] for row in rows]
        if tuples:
            template.set("expression", exp.Values(expressions=tuples))
            self._insert(template)

    def has_table(self, name: str) -> bool:
        """Whether a table (a session view here) ``name`` exists: ``warehouse.table_exists``."""
        return bool(self.spark.catalog.tableExists(name))

    def _create(self, statement: exp.Create) -> None:
        if not _is_temp(statement):
            raise ValueError("only temp tables are created on Spark here")
        table = statement.find(exp.Table).name  # ``this`` is a Schema when columns are listed
        if statement.expression is None:  # create temp table t (column type, ...): empty
            self.engine.write_table(table, statement.sql(dialect="duckdb"), [])
        else:
            self.engine.materialise(table, statement.expression.sql(dialect="duckdb"))

    def _insert(self, statement: exp.Insert) -> None:
        """The rows of a select or of ``values``, added by position (``SparkEngine.append``)."""
        if isinstance(statement.this, exp.Schema):
            raise ValueError("an insert with a column list does not run on Spark here")
        table = statement.this.name
        rows = statement.expression
        source = (
            f"select * from ({rows.sql(dialect='duckdb')})"
            if isinstance(rows, exp.Values)
            else rows.sql(dialect="duckdb")
        )
        self.engine.append(table, source)

    def close(self) -> None:
        """Drop the views this connection created."""
        self.engine.close()


def _is_temp(statement: exp.Create) -> bool:
    properties = statement.args.get("properties")
    return properties is not None and any(
        isinstance(p, exp.TemporaryProperty) for p in properties.expressions
    )


def parse_with_parameters(sql: str, parameters: Mapping[str, Any] | Sequence[Any] | None) -> exp.Expression:
    """One DuckDB-dialect statement with its parameters inlined: ``$name`` from a mapping,
    each ``?`` (in the order written) from a sequence."""
    if parameters is None or isinstance(parameters, Mapping):
        statement = sqlglot.parse_one(sql, read="duckdb")
        return inline_parameters(statement, parameters) if parameters else statement
    named = _positional_as_named(sql)
    return inline_parameters(
        sqlglot.parse_one(named, read="duckdb"), {f"p{i}": value for i, value in enumerate(parameters)}
    )


def _positional_as_named(sql: str) -> str:
    """``?`` placeholders renamed ``$p0``, ``$p1``, ... in the order written (found by the
    tokenizer, so a ``?`` inside a string stays)."""
    marks = [t for t in sqlglot.tokenize(sql, read="duckdb") if t.token_type == TokenType.PLACEHOLDER]
    for index in reversed(range(len(marks))):
        mark = marks[index]
        sql = f"{sql[: mark.start]}$p{index}{sql[mark.end + 1 :]}"
    return sql


def inline_parameters(statement: exp.Expression, parameters: Mapping[str, Any]) -> exp.Expression:
    """``$name`` placeholders replaced by SQL literals of their values (Spark SQL binds no
    lists); a placeholder without a value fails naming it."""

    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder) and node.name:
            if node.name not in parameters:
                raise KeyError(f"no value for the SQL parameter ${node.name}")
            return literal(parameters[node.name])
        return node

    return statement.transform(replace)


def literal(value: Any) -> exp.Expression:
    """A DuckDB-dialect literal of a parameter value (text, number, bool, date/time, list)."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "timestamp")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "date")
    if isinstance(value, Sequence):
        return exp.Array(expressions=[literal(item) for item in value])
    raise TypeError(f"no SQL literal for a parameter of type {type(value).__name__}")


def as_duckdb_frame(table: pa.Table) -> pd.DataFrame:
    """``table`` as pandas with the dtypes DuckDB's ``df()`` gives: an integer column with
    nulls as a nullable integer (not float, which would round large ids), the text columns
    of an empty result as object."""
    frame = table.to_pandas()
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_integer(column.type) and column.null_count:
            mask = column.is_null().to_numpy()
            frame[name] = pd.arrays.IntegerArray(column.fill_null(0).to_numpy(), mask)
        elif table.num_rows == 0 and pa.types.is_string(column.type):
            frame[name] = frame[name].astype(object)
    return frame


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as Python values and lists, as DuckDB's fetchall gives them."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value

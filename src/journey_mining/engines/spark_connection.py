"""The slice of DuckDB's connection API that the friction kinds use, run on a Spark session.

Friction's queries are written once, in DuckDB's dialect, against a connection: they
create temp tables, drop them and fetch small results (candidate rows). On a Spark
cluster the marts are too big to bring back to one machine, so the same queries run
where the marts are: :class:`SparkConnection` inlines the ``$name`` parameters as
literals, translates each statement with sqlglot (``to_spark_sql``), stores a
``create or replace temp table`` as a checkpointed session view and hands back only the
rows a ``select`` returns, as pandas. Nothing but those aggregates leaves the cluster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlglot
from pyspark.sql import SparkSession
from sqlglot import exp

from journey_mining.engines.spark_engine import SparkEngine, to_spark_sql


class SparkResult:
    """What ``execute`` returns: the rows of a ``select`` (nothing for a statement)."""

    def __init__(self, frame: pd.DataFrame | None) -> None:
        self._frame = frame

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

    def execute(self, sql: str, parameters: Mapping[str, Any] | None = None) -> SparkResult:
        statement = sqlglot.parse_one(sql, read="duckdb")
        if parameters:
            statement = inline_parameters(statement, parameters)
        if isinstance(statement, exp.Drop):
            self.spark.catalog.dropTempView(statement.find(exp.Table).name)
            return SparkResult(None)
        if isinstance(statement, exp.Create):
            if not _is_temp(statement) or statement.expression is None:
                raise ValueError("only 'create temp table ... as select' runs on Spark here")
            self.engine.materialise(statement.this.name, statement.expression.sql(dialect="duckdb"))
            return SparkResult(None)
        # through Arrow, as DuckDB's df() (toPandas() warns about pandas 3 on every call)
        frame = self.spark.sql(to_spark_sql(statement.sql(dialect="duckdb"))).toArrow().to_pandas()
        return SparkResult(frame)

    def close(self) -> None:
        """Drop the views this connection created."""
        self.engine.close()


def _is_temp(statement: exp.Create) -> bool:
    properties = statement.args.get("properties")
    return properties is not None and any(
        isinstance(p, exp.TemporaryProperty) for p in properties.expressions
    )


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


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as Python values and lists, as DuckDB's fetchall gives them."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value

"""The Spark engine: the same ``sql/`` models, translated by sqlglot, as Spark temp views.

Each model's DuckDB-dialect SELECT is transpiled to Spark SQL and its result materialised
(in executor memory with its lineage cut, or as Parquet under a work folder) and registered
as a temp view under the model's name, so the next model reads it like a table. Lineage
must be cut: the identity loop reads the previous round's labels three times per round,
so uncut plans would grow threefold each round.

Where sqlglot's DuckDB -> Spark translation is silently wrong, ``SparkSQL`` below fixes it
(listed in ``TRANSLATION_FIXES``); everything else in ``sql/`` translates as is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

import pyarrow as pa
import sqlglot
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ByteType, IntegerType, LongType, ShortType
from sqlglot import exp
from sqlglot.dialects.spark import Spark
from sqlglot.errors import ErrorLevel

from journey_mining.engines.base import SliceKey

REQUIRED_CONF = {
    # timestamps are UTC wall-clock values without zone, as in the warehouse
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
}
"""Set on every session the engine uses: results depend on them."""

LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.showConsoleProgress": "false",
}
"""Defaults for a ``local[...]`` master (a laptop, CI); ``engine.spark.conf`` overrides them."""

TRANSLATION_FIXES = {
    "epoch(ts)": "sqlglot writes unix_timestamp(ts): whole seconds, the microseconds are lost; "
    "written as unix_micros(ts) / 1e6, DuckDB's exact double",
    "quantile_cont(x, q)": "sqlglot writes percentile_cont(x, q), which Spark rejects; "
    "written as percentile(x, q), the same linear interpolation (its last bits differ, so "
    "sql/marts rounds quantiles to 0.1 microsecond)",
    "json (type)": "Spark has no JSON type: string",
    "as not materialized (cte)": "a DuckDB hint (a CTE read several times stays a pipeline, "
    "not an in-memory buffer that cannot spill); Spark has no such hint and plans CTEs itself: dropped",
}


class SparkSQL(Spark):
    """Spark SQL as sqlglot writes it, with the fixes in ``TRANSLATION_FIXES``."""

    class Generator(Spark.Generator):
        TRANSFORMS = {  # noqa: RUF012 (sqlglot's extension point is a class attribute)
            **Spark.Generator.TRANSFORMS,
            exp.TimeToUnix: lambda self, e: f"(UNIX_MICROS({self.sql(e, 'this')}) / 1e6)",
            exp.PercentileCont: lambda self, e: self.func("PERCENTILE", e.this, e.expression),
            exp.CTE: lambda self, e: self.cte_sql(_without_materialized_hint(e)),
        }
        TYPE_MAPPING = {  # noqa: RUF012
            **Spark.Generator.TYPE_MAPPING,
            exp.DataType.Type.JSON: "STRING",
        }


def _without_materialized_hint(cte: exp.CTE) -> exp.CTE:
    plain = cte.copy()
    plain.set("materialized", None)
    return plain


@cache
def to_spark_sql(sql: str) -> str:
    """One DuckDB-dialect statement in Spark SQL; constructs sqlglot cannot translate raise."""
    statements = sqlglot.transpile(sql, read="duckdb", write=SparkSQL, unsupported_level=ErrorLevel.RAISE)
    if len(statements) != 1:
        raise ValueError(f"expected one SQL statement, got {len(statements)}")
    return statements[0]


def spark_columns(ddl: str) -> list[tuple[str, str]]:
    """(name, Spark type) of each column of a DuckDB ``create table`` statement."""
    columns = sqlglot.parse_one(ddl, read="duckdb").find_all(exp.ColumnDef)
    return [(column.name, column.args["kind"].sql(dialect=SparkSQL)) for column in columns]


def spark_schema(ddl: str) -> str:
    """The columns of a DuckDB ``create table`` statement as a Spark DDL schema string."""
    return ", ".join(f"`{name}` {kind}" for name, kind in spark_columns(ddl))


def start_session(master: str, conf: Mapping[str, Any] | None = None) -> SparkSession:
    """A Spark session for ``master`` with ``conf`` (over local defaults) and the required settings."""
    settings = {**(LOCAL_CONF if master.startswith("local") else {}), **(conf or {}), **REQUIRED_CONF}
    builder = SparkSession.builder.master(master).appName("journey-mining")
    for key, value in settings.items():
        builder = builder.config(key, str(value).lower() if isinstance(value, bool) else str(value))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _widened(frame: DataFrame) -> DataFrame:
    """32-bit and smaller integers as bigint: Spark's row_number() is an int, DuckDB's a bigint."""
    small = (ByteType, ShortType, IntegerType)
    if not any(isinstance(field.dataType, small) for field in frame.schema.fields):
        return frame
    return frame.select(
        *(
            F.col(f"`{field.name}`").cast(LongType()).alias(field.name)
            if isinstance(field.dataType, small)
            else F.col(f"`{field.name}`")
            for field in frame.schema.fields
        )
    )


def _coerced(value: Any, spark_type: str) -> Any:
    if value is not None and spark_type == "DOUBLE":
        return float(value)
    return value


class SparkEngine:
    """Models as Spark temp views over materialised results, in one Spark session.

    ``work_path``: when given, intermediate results are written there as Parquet (a folder
    or object-store URI every executor can reach); otherwise they are kept in executor
    memory (spilling to local disk) with their lineage cut.
    """

    name = "spark"

    def __init__(self, spark: SparkSession, *, work_path: str | None = None) -> None:
        self.spark = spark
        self.work_path = work_path.rstrip("/") if work_path else None
        self._writes = 0
        self._views: set[str] = set()
        for key, value in REQUIRED_CONF.items():
            spark.conf.set(key, value)

    # --- the Engine protocol ----------------------------------------------------------------

    def materialise(
        self,
        table: str,
        sql: str,
        *,
        temporary: bool = False,
        slice_key: SliceKey | None = None,
        zstd_columns: Sequence[str] = (),
    ) -> int:
        # every table here is a session temp view already: ``temporary`` changes nothing;
        # Spark partitions a join across tasks itself, so ``slice_key`` is not needed either,
        # and a view stores nothing, so ``zstd_columns`` neither
        frame = _widened(self.spark.sql(to_spark_sql(sql)))
        return self._register(table, frame)

    def release(self, table: str) -> None:
        # a session view holds nothing itself, and later views may be planned on top of it
        return None

    def rename(self, table: str, new_name: str) -> None:
        self.spark.table(table).createOrReplaceTempView(new_name)
        self.spark.catalog.dropTempView(table)
        self._views.discard(table)
        self._views.add(new_name)

    def write_table(self, table: str, ddl: str, rows: Sequence[Sequence[Any]]) -> int:
        types = [kind for _, kind in spark_columns(ddl)]
        data = [tuple(_coerced(v, t) for v, t in zip(row, types, strict=True)) for row in rows]
        self._views.add(table)
        self.spark.createDataFrame(data, schema=spark_schema(ddl)).createOrReplaceTempView(table)
        return len(data)

    def to_arrow(self, sql: str) -> pa.Table:
        return self.spark.sql(to_spark_sql(sql)).toArrow()

    # --- input and output -------------------------------------------------------------------

    def read_parquet(self, table: str, location: str, ddl: str) -> None:
        """Register ``table`` over the Parquet data at ``location`` (a file or folder), cast to
        the columns and types of its DuckDB ``ddl``; a missing column fails naming it."""
        frame = self.spark.read.parquet(location)
        wanted = spark_columns(ddl)
        present = {name.lower() for name in frame.columns}
        missing = [name for name, _ in wanted if name.lower() not in present]
        if missing:
            raise ValueError(f"{location}: {table} lacks the column(s) {', '.join(missing)}")
        typed = frame.selectExpr(*(f"cast(`{name}` as {kind}) as `{name}`" for name, kind in wanted))
        self._views.add(table)
        typed.createOrReplaceTempView(table)

    def write_parquet(self, tables: Iterable[str], location: str) -> dict[str, str]:
        """Write each table to ``<location>/<table>`` as Parquet (replacing it); table -> folder."""
        written = {}
        for table in tables:
            folder = f"{location.rstrip('/')}/{table}"
            self.spark.table(table).write.mode("overwrite").parquet(folder)
            written[table] = folder
        return written

    def _register(self, table: str, frame: DataFrame) -> int:
        if self.work_path is None:
            stored = frame.localCheckpoint(eager=True)
        else:
            # a fresh folder per write: the identity loop reads a table while writing its successor
            self._writes += 1
            folder = f"{self.work_path}/{self._writes:05d}-{table}"
            frame.write.mode("overwrite").parquet(folder)
            stored = self.spark.read.parquet(folder)
        self._views.add(table)
        stored.createOrReplaceTempView(table)
        return stored.count()

    def close(self) -> None:
        """Drop every view this engine registered (freeing what they hold) and its work folder."""
        for table in sorted(self._views):
            self.spark.catalog.dropTempView(table)
        self._views.clear()
        if self.work_path is not None:
            jvm_path = self.spark._jvm.org.apache.hadoop.fs.Path(self.work_path)
            jvm_path.getFileSystem(self.spark._jsc.hadoopConfiguration()).delete(jvm_path, True)

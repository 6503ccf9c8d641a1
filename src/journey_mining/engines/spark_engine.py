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
    "min(x, n)": "DuckDB's n smallest values as a list: a sorted, sliced collect_list (collect_set "
    "for distinct), null when empty",
    "string_agg(distinct x, sep order by x)": "Spark's LISTAGG DISTINCT fails under GROUPING SETS: "
    "array_join(array_sort(collect_set(x)), sep)",
    "timezone(zone, timezone('UTC', ts))": "from_utc_timestamp(ts, zone)",
    "dayname(ts)": "Spark 4's dayname gives 'Mon', DuckDB's 'Monday': date_format(ts, 'EEEE')",
    "len(list)": "Spark's length takes text only: size",
    "row_number() over ()": "Spark wants an order, which would put every row in one task; an "
    "arbitrary numbering used as a key: monotonically_increasing_id()",
    "over (w rows ...)": "a window built on a named one: Spark takes a name only alone, so the "
    "named window's partition and order are written in",
    "[f(x) for x, i in xs if p(x)]": "sqlglot passes DuckDB's list comprehension through: "
    "transform(filter(xs, ...), (x, i) -> ...), with Spark's 0-based index made 1-based",
    "hash(x)": "DuckDB's hash has 64 bits, Spark's hash 32 (many more collisions): xxhash64",
    "list_position, list_slice, list_reduce": "sqlglot passes them through by name: "
    "array_position (0, not null, when absent, so nullif), slice (a length, not an end), "
    "aggregate (starting from the first element, as DuckDB's does)",
}


class SparkSQL(Spark):
    """Spark SQL as sqlglot writes it, with the fixes in ``TRANSLATION_FIXES``."""

    class Generator(Spark.Generator):
        TRANSFORMS = {  # noqa: RUF012 (sqlglot's extension point is a class attribute)
            **Spark.Generator.TRANSFORMS,
            exp.TimeToUnix: lambda self, e: f"(UNIX_MICROS({self.sql(e, 'this')}) / 1e6)",
            exp.PercentileCont: lambda self, e: self.func("PERCENTILE", e.this, e.expression),
            exp.CTE: lambda self, e: self.cte_sql(_without_materialized_hint(e)),
            exp.Min: lambda self, e: _min_sql(self, e),
            exp.Filter: lambda self, e: _filter_sql(self, e),
            exp.Window: lambda self, e: _window_sql(self, e),
            exp.GroupConcat: lambda self, e: _group_concat_sql(self, e),
            exp.Anonymous: lambda self, e: _anonymous_sql(self, e),
            # DuckDB's len() also counts a list's elements; Spark's LENGTH takes text only
            exp.Length: lambda self, e: (
                self.func("SIZE", e.this)
                if isinstance(e.this, exp.ArrayFilter | exp.Array)
                else self.func("LENGTH", e.this)
            ),
            # Spark 4's DAYNAME gives 'Mon', DuckDB's 'Monday'
            exp.Dayname: lambda self, e: self.func("DATE_FORMAT", e.this, exp.Literal.string("EEEE")),
            exp.Cast: lambda self, e: _cast_sql(self, e),
            exp.Array: lambda self, e: _array_sql(self, e),
        }
        TYPE_MAPPING = {  # noqa: RUF012
            **Spark.Generator.TYPE_MAPPING,
            exp.DataType.Type.JSON: "STRING",
        }


def _is_bare_row_number(node: exp.Expression) -> bool:
    """``row_number() over ()``: an arbitrary numbering, used only as a join key."""
    return (
        isinstance(node, exp.Window)
        and isinstance(node.this, exp.RowNumber)
        and not node.args.get("partition_by")
        and not node.args.get("order")
        and not node.args.get("spec")
        and not node.args.get("alias")  # ``over w``: a named window, ordered there
    )


def _window_sql(generator: Spark.Generator, node: exp.Window) -> str:
    # Spark refuses row_number() without an order, and ordering would move every row into
    # one task: a unique id per row (not dense, a bigint) serves the same purpose
    if _is_bare_row_number(node):
        return "MONOTONICALLY_INCREASING_ID()"
    return generator.window_sql(_resolved_window(node))


def _resolved_window(node: exp.Window) -> exp.Window:
    """A window built on a named one (``over (w rows ...)``, ``upto as (w rows ...)``) with
    that window's partition, order and frame written in: Spark takes a name only alone."""
    base_name = node.alias
    adds = any(node.args.get(arg) for arg in ("partition_by", "order", "spec"))
    select = node.find_ancestor(exp.Select)
    if not base_name or not adds or select is None:
        return node
    named = {window.this.name: window for window in select.args.get("windows") or []}
    if base_name not in named:
        return node
    base = _resolved_window(named[base_name])
    # in place (sqlglot generates from its own copy of the tree): a definition stays one
    node.set("alias", None)
    for arg in ("partition_by", "order", "spec"):
        if not node.args.get(arg) and base.args.get(arg):
            value = base.args[arg]
            node.set(arg, [v.copy() for v in value] if isinstance(value, list) else value.copy())
    return node


def _array_sql(generator: Spark.Generator, node: exp.Array) -> str:
    """DuckDB's list comprehension ``[f(x) for x, i in xs if p(x)]`` as Spark's
    ``transform(filter(xs, x -> p(x)), (x, i) -> f(x))``, its 1-based ``i`` from Spark's
    0-based one."""
    if len(node.expressions) != 1 or not isinstance(node.expressions[0], exp.Comprehension):
        return generator.function_fallback_sql(node)
    loop = node.expressions[0].copy()
    item, position, items = loop.args["expression"], loop.args.get("position"), loop.args["iterator"]
    body = loop.this
    if loop.args.get("condition") is not None:
        if position is not None:  # DuckDB's index counts the unfiltered list
            generator.unsupported("a list comprehension with both an index and a condition")
        items = exp.Anonymous(
            this="FILTER", expressions=[items, exp.Lambda(this=loop.args["condition"], expressions=[item])]
        )
    parameters = [item]
    if position is not None:
        zero_based = exp.to_identifier(f"{position.name}_from_0")
        parameters.append(zero_based)
        body = body.transform(
            lambda n: exp.Paren(this=exp.Add(this=exp.column(zero_based), expression=exp.Literal.number(1)))
            if isinstance(n, exp.Column) and not n.table and n.name == position.name
            else n
        )
    return generator.func("TRANSFORM", items, exp.Lambda(this=body, expressions=parameters))


def _cast_sql(generator: Spark.Generator, node: exp.Cast) -> str:
    if _is_bare_row_number(node.this):
        return "MONOTONICALLY_INCREASING_ID()"  # not narrowed: the ids outgrow an integer
    return generator.cast_sql(node)


def _anonymous_sql(generator: Spark.Generator, node: exp.Anonymous) -> str:
    """``timezone(zone, timezone('UTC', ts))``, DuckDB's wall-clock time in ``zone`` of a
    naive UTC timestamp, is Spark's ``from_utc_timestamp(ts, zone)``; DuckDB's list
    functions sqlglot passes through by name become Spark's, with DuckDB's meaning."""
    inner = node.expressions[1] if len(node.expressions) == 2 else None
    if (
        node.name.lower() == "timezone"
        and isinstance(inner, exp.Anonymous)
        and inner.name.lower() == "timezone"
        and len(inner.expressions) == 2
        and inner.expressions[0] == exp.Literal.string("UTC")
    ):
        return generator.func("FROM_UTC_TIMESTAMP", inner.expressions[1], node.expressions[0])
    name, args = node.name.lower(), node.expressions
    if name == "hash" and len(args) == 1:  # DuckDB's is 64 bits, Spark's hash 32
        return generator.func("XXHASH64", *args)
    if name == "list_position" and len(args) == 2:  # DuckDB: null when absent, Spark: 0
        return f"NULLIF({generator.func('ARRAY_POSITION', *args)}, 0)"
    if name == "list_slice" and len(args) == 3:  # DuckDB: from, to (inclusive); Spark: from, length
        start, end = (generator.sql(arg) for arg in args[1:])
        return f"SLICE({generator.sql(args[0])}, {start}, ({end}) - ({start}) + 1)"
    if name == "list_reduce" and len(args) == 2:  # DuckDB starts from the first element
        items, step = generator.sql(args[0]), generator.sql(args[1])
        return f"AGGREGATE(SLICE({items}, 2, SIZE({items})), ELEMENT_AT({items}, 1), {step})"
    return generator.anonymous_sql(node)


def _group_concat_sql(generator: Spark.Generator, node: exp.GroupConcat) -> str:
    """``string_agg(distinct x, sep order by x)``: Spark's LISTAGG(DISTINCT) WITHIN GROUP
    fails under GROUPING SETS (a ClassCastException in Spark 4.0), so the distinct values
    are collected, sorted and joined (NULL when there are none, as in DuckDB)."""
    ordered = node.this
    if (
        isinstance(ordered, exp.Order)
        and isinstance(ordered.this, exp.Distinct)
        and len(ordered.this.expressions) == 1
        and len(ordered.expressions) == 1
        and not ordered.expressions[0].args.get("desc")
        and ordered.expressions[0].this == ordered.this.expressions[0]
    ):
        values = f"ARRAY_SORT(COLLECT_SET({generator.sql(ordered.this.expressions[0])}))"
        separator = generator.sql(node, "separator") or "','"
        return f"IF(SIZE({values}) = 0, NULL, ARRAY_JOIN({values}, {separator}))"
    return Spark.Generator.TRANSFORMS[exp.GroupConcat](generator, node)


def _min_sql(generator: Spark.Generator, node: exp.Min) -> str:
    if node.args.get("count") is None:
        return Spark.Generator.TRANSFORMS[exp.Min](generator, node)
    return _smallest_sql(generator, node, None)


def _filter_sql(generator: Spark.Generator, node: exp.Filter) -> str:
    aggregate = node.this
    if isinstance(aggregate, exp.Min) and aggregate.args.get("count") is not None:
        return _smallest_sql(generator, aggregate, generator.sql(node, "expression"))
    return generator.filter_sql(node)


def _smallest_sql(generator: Spark.Generator, node: exp.Min, where: str | None) -> str:
    """DuckDB's ``min(x, n)`` (the n smallest values, ascending; NULL when there are none)
    and ``min(distinct x, n)``: Spark has no such aggregate, so the values are collected,
    sorted and cut. Nulls are skipped by both."""
    value = node.this
    distinct = isinstance(value, exp.Distinct)
    if distinct:
        value = value.expressions[0]
    collected = f"{'COLLECT_SET' if distinct else 'COLLECT_LIST'}({generator.sql(value)})"
    if where:
        collected = f"{collected} FILTER({where})"
    smallest = f"SLICE(ARRAY_SORT({collected}), 1, {generator.sql(node, 'count')})"
    return f"IF(SIZE({smallest}) = 0, NULL, {smallest})"


def _without_materialized_hint(cte: exp.CTE) -> exp.CTE:
    plain = cte.copy()
    plain.set("materialized", None)
    return plain


@cache
def to_spark_sql(sql: str) -> str:
    """One DuckDB-dialect statement in Spark SQL; constructs sqlglot cannot translate raise."""
    statements = sqlglot.parse(sql, read="duckdb")
    if len(statements) != 1 or statements[0] is None:
        raise ValueError(f"expected one SQL statement, got {len(statements)}")
    for select in statements[0].find_all(exp.Select):
        if sum(isinstance(column.unalias(), exp.Explode | exp.Unnest) for column in select.expressions) > 1:
            # DuckDB zips two unnests of one select; Spark's explodes multiply: silently wrong
            raise ValueError(f"two unnests in one select do not translate to Spark: {select.sql()[:200]}")
    return statements[0].sql(dialect=SparkSQL, unsupported_level=ErrorLevel.RAISE)


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

    def append(self, table: str, sql: str) -> int:
        """Add the rows of ``sql`` (DuckDB dialect) to ``table``, by position and in its column
        types, as DuckDB's ``insert into``: a view takes no rows, so the union is stored anew."""
        current = self.spark.table(table)
        added = self.spark.sql(to_spark_sql(sql))
        fields = current.schema.fields
        union = current.union(added).select(
            *(F.col(f"`{field.name}`").cast(field.dataType).alias(field.name) for field in fields)
        )
        return self._register(table, union)

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

    def read_parquet(self, table: str, location: str, ddl: str | None = None) -> None:
        """Register ``table`` over the Parquet data at ``location`` (a file or folder): cast to
        the columns and types of its DuckDB ``ddl`` (a missing column fails naming it), or as
        written without one (the marts this engine wrote). A missing path fails naming it."""
        try:
            frame = self.spark.read.parquet(location)
        except Exception as err:  # Spark raises its AnalysisException for a missing path
            raise FileNotFoundError(f"{location}: no Parquet {table} there ({err})") from None
        if ddl is not None:
            wanted = spark_columns(ddl)
            present = {name.lower() for name in frame.columns}
            missing = [name for name, _ in wanted if name.lower() not in present]
            if missing:
                raise ValueError(f"{location}: {table} lacks the column(s) {', '.join(missing)}")
            frame = frame.selectExpr(*(f"cast(`{name}` as {kind}) as `{name}`" for name, kind in wanted))
        self._views.add(table)
        frame.createOrReplaceTempView(table)

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

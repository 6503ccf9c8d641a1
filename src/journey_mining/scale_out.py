"""The build, friction, headline numbers and dashboard on Spark: Parquet in, aggregates back.

DuckDB stays the warehouse. Spark reads ``touchpoints`` and ``identities`` from
``engine.spark.input_path`` (or from an export of the warehouse when that is not set), runs
the same ``sql/`` models as ``build_journeys`` does on DuckDB and writes the marts as
Parquet under ``engine.spark.output_path``. Only the aggregate marts (``RETURNED_MARTS``)
are copied into the warehouse, where the graph reads them; the marts with a row per event,
session, journey or customer stay with Spark.

Friction (:func:`friction_on_spark`), the headline numbers, the identity counts and the
dashboard (:func:`dashboard_on_spark`) run their unchanged queries over those Parquet marts
through a :class:`SparkConnection` (:func:`spark_marts`); only their results come back:
candidate rows, counts, the map's nodes and links, funnel steps. The statistics, ranking
and the ``friction`` table, and the HTML, are made here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from journey_mining.builds import STAMP_FOLDER, check_spark_marts, latest_build, new_build_id, record_build
from journey_mining.config import Config
from journey_mining.engines.duckdb_engine import attach_arrow, export_tables
from journey_mining.journeys import build_journeys
from journey_mining.parameters import write_parameter_tables
from journey_mining.schema import TABLE_DDL
from journey_mining.sqlmodels import discover
from journey_mining.warehouse import open_warehouse, table_exists

if TYPE_CHECKING:
    from pathlib import Path

    import duckdb
    from pyspark.sql import SparkSession

    from journey_mining.engines.spark_connection import SparkConnection

INPUT_TABLES = ("touchpoints", "identities")
"""The canonical tables Spark reads: ``<input_path>/<table>``, Parquet."""

RETURNED_MARTS = ("session_transitions", "journey_transitions", "touchpoint_stats", "identity_super_nodes")
"""The marts a Spark build copies into the warehouse: aggregates, with a row per touchpoint,
transition or super-node whatever the number of events (the graph reads them there)."""


def _is_uri(location: str) -> bool:
    return "://" in location


def location(config: Config, value: str | None) -> str | None:
    """A configured path: URIs (s3a://, gs://, abfss://, hdfs://) as given, others resolved
    against the config file's folder."""
    if value is None or _is_uri(value):
        return value
    return str(config.resolve(value))


def output_location(config: Config) -> str:
    """Where the Spark build writes: ``engine.spark.output_path``, or ``<output_dir>/spark``."""
    return location(config, config.engine.spark.output_path) or str(config.output_path / "spark")


def export_inputs(config: Config) -> str:
    """Copy the warehouse's canonical tables to ``<output>/input`` as Parquet; returns the folder."""
    output = output_location(config)
    if _is_uri(output):
        raise ValueError(
            f"engine.spark.output_path {output} is not a local folder: set engine.spark.input_path "
            "to where touchpoints and identities are stored as Parquet"
        )
    folder = config.resolve(output) / "input"
    with open_warehouse(config, read_only=True) as con:
        export_tables(con, INPUT_TABLES, folder)
    return str(folder)


def friction_on_spark(config: Config, spark: SparkSession | None = None) -> int:
    """Detect friction on Spark over the marts of the last Spark build (Parquet under
    ``<output_path>/marts``); store the ranked findings as the warehouse's ``friction``.

    ``spark``: a session to use (left running), as for :func:`build_on_spark`. Returns the
    number of findings.
    """
    from journey_mining.friction import EXPLAINERS, find_candidates
    from journey_mining.friction.findings import assemble, materialise

    with spark_marts(config, spark, task="detecting friction") as connection:
        candidates = find_candidates(connection, config)
    findings = assemble(candidates, config.friction, EXPLAINERS)
    with open_warehouse(config) as con:
        con.execute("begin transaction")
        try:
            materialise(con, findings)
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")
    return len(findings)


def headline_on_spark(config: Config, spark: SparkSession | None = None) -> dict[str, Any]:
    """``headline.headline_numbers`` over the Spark build's marts."""
    from journey_mining.headline import headline_numbers

    with spark_marts(config, spark, task="computing the headline numbers") as connection:
        return headline_numbers(connection)


def dashboard_on_spark(
    config: Config,
    out_dir: Path,
    *,
    run_id: str,
    previous: dict[str, Any] | None = None,
    manifest: dict[str, Any] | None = None,
    spark: SparkSession | None = None,
) -> Path:
    """``viz.dashboard.write_dashboard`` with its queries on Spark, over the build's marts."""
    from journey_mining.viz.dashboard import write_dashboard

    with spark_marts(config, spark, task="writing the dashboard") as connection:
        return write_dashboard(
            connection, config, out_dir, run_id=run_id, previous=previous, manifest=manifest
        )


@contextmanager
def spark_marts(
    config: Config, spark: SparkSession | None = None, *, task: str = "querying"
) -> Iterator[SparkConnection]:
    """A connection on Spark over the marts of the last Spark build, with the warehouse's
    ``friction`` findings (a few hundred rows) beside them: what friction, the headline
    numbers and the dashboard query, and what a notebook can pass to ``funnel`` or
    ``sankey_data``. The marts must be the warehouse's (``builds.check_spark_marts``,
    its message naming ``task``)."""
    from journey_mining.engines.spark_connection import SparkConnection

    marts = f"{output_location(config).rstrip('/')}/marts"
    with open_warehouse(config) as con:
        latest = latest_build(con)
        findings = _friction_table(con)
    with _spark_session(config, spark) as session:
        connection = SparkConnection(session, work_path=_work_path(config))
        try:
            check_spark_marts(latest, _stamped_build(session, f"{marts}/{STAMP_FOLDER}"), marts, task)
            for model in discover(("marts",)):
                connection.engine.read_parquet(model.name, f"{marts}/{model.name}")
            if findings is not None:
                connection.engine.write_table("friction", *findings)
            yield connection
        finally:
            connection.close()


def _friction_table(con: duckdb.DuckDBPyConnection) -> tuple[str, list[tuple[Any, ...]]] | None:
    """The warehouse's ``friction`` findings as (its DDL, its rows), or None before any."""
    if not table_exists(con, "friction"):
        return None
    columns = con.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_name = 'friction' and table_schema = 'main' order by ordinal_position"
    ).fetchall()
    ddl = "create table friction (" + ", ".join(f'"{name}" {kind}' for name, kind in columns) + ")"
    return ddl, con.execute("select * from friction").fetchall()


@contextmanager
def run_session(config: Config) -> Iterator[SparkSession]:
    """One Spark session for every step inside: each borrows the running session instead of
    starting and stopping its own (a local session takes 5-10 s to start). Stopped at the
    end unless one was already running in the process."""
    with _spark_session(config, None) as session:
        yield session


@contextmanager
def _spark_session(config: Config, spark: SparkSession | None) -> Iterator[SparkSession]:
    """``spark``, or a session started from ``engine.spark``; one this call started (none
    was running in the process) is stopped at the end, any other is left running."""
    from pyspark import SparkContext

    from journey_mining.engines.spark_engine import start_session

    owned = spark is None and SparkContext._active_spark_context is None
    session = spark or start_session(config.engine.spark.master, config.engine.spark.conf)
    try:
        yield session
    finally:
        if owned:
            session.stop()


def _work_path(config: Config) -> str | None:
    """Where Spark stores intermediates as Parquet (``intermediate_storage: parquet``)."""
    if config.engine.spark.intermediate_storage != "parquet":
        return None
    return f"{output_location(config)}/work"


def _stamped_build(session: SparkSession, folder: str) -> str:
    """The build id a Spark build wrote beside its marts."""
    try:
        rows = session.read.json(folder).collect()
    except Exception as err:  # Spark raises its AnalysisException for a missing path
        raise FileNotFoundError(f"{folder}: no Spark build's marts there ({err})") from None
    if len(rows) != 1:
        raise ValueError(f"{folder}: expected one build id, found {len(rows)}")
    return str(rows[0]["build_id"])


def build_on_spark(config: Config, spark: SparkSession | None = None) -> dict[str, int]:
    """Build every intermediate and mart table on Spark; the warehouse then holds the
    aggregate marts (``RETURNED_MARTS``) of this build and none of the others.

    ``spark``: a session to use (left running); without one, a session is started from
    ``engine.spark`` and stopped afterwards unless one was already running in this process.
    Returns rows per table, as ``build_journeys`` does.
    """
    from journey_mining.engines.spark_engine import SparkEngine

    output = output_location(config)
    inputs = location(config, config.engine.spark.input_path) or export_inputs(config)
    build_id = new_build_id()
    with _spark_session(config, spark) as session:
        engine = SparkEngine(session, work_path=_work_path(config))
        try:
            for table in INPUT_TABLES:
                engine.read_parquet(table, f"{inputs.rstrip('/')}/{table}", TABLE_DDL[table])
            counts = build_journeys(engine, config)
            marts = engine.write_parquet([model.name for model in discover(("marts",))], f"{output}/marts")
            # through the driver, not the files: output_path may be object storage
            returned = {name: engine.to_arrow(f"select * from {name}") for name in RETURNED_MARTS}
            stamp = session.createDataFrame([(build_id,)], "build_id string").coalesce(1)
            stamp.write.mode("overwrite").json(f"{output}/marts/{STAMP_FOLDER}")
        finally:
            engine.close()
    with open_warehouse(config) as con:
        con.execute("begin transaction")
        try:
            write_parameter_tables(con, config)
            attach_arrow(con, returned)
            record_build(con, "spark", build_id)
            # an earlier DuckDB build's intermediate tables and per-row marts would no longer
            # match: dropped, so nothing reads them by mistake
            kept = set(returned)
            stale = [n for n in counts if n.startswith("int_") or (n in marts and n not in kept)]
            for name in stale:
                con.execute(f'drop table if exists "{name}"')
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")
    return counts

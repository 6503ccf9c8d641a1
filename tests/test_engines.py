"""The same ``sql/`` on DuckDB and on Spark gives the same marts, row for row and type for type.

Hand-made edge cases (timeouts to the microsecond, ties broken by ingest order, time zones,
per-channel timeouts, max length, super-nodes, long identity chains, journeys, transitions)
are built once on each engine under several configs; then the bundled sample, through the
pipeline's build step, with friction detection run on the Spark-built marts, in DuckDB and
on Spark. The friction module's hand-made cases are detected on both engines too.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from journey_mining.config import Config, ConfigError, WarehouseConfig, load_config
from journey_mining.engines import Engine
from journey_mining.journeys import build_journeys
from journey_mining.sqlmodels import discover, sql_root
from journey_mining.warehouse import connect
from tests.conftest import insert_identities, insert_touchpoints, make_config

pyspark = pytest.importorskip("pyspark", reason="the Spark engine needs the 'spark' extra")

from pyspark.sql import SparkSession  # noqa: E402 (after the skip)

from journey_mining.engines.spark_engine import (  # noqa: E402
    SparkEngine,
    start_session,
    to_spark_sql,
)
from journey_mining.scale_out import RETURNED_MARTS, build_on_spark  # noqa: E402

T0 = datetime(2026, 3, 2, 9, 15, 0, 123457)  # microseconds, so float rounding would show
ROOT = Path(__file__).resolve().parents[1]
MARTS = tuple(model.name for model in discover(("marts",)))


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """One local Spark session for every test here: 2 cores, UTC, no UI, loopback only."""
    session = start_session("local[2]", {"spark.sql.shuffle.partitions": 4})
    assert session.conf.get("spark.sql.session.timeZone") == "UTC"
    assert session.conf.get("spark.driver.bindAddress") == "127.0.0.1"
    assert session.sparkContext.getConf().get("spark.ui.enabled") == "false"
    yield session
    session.stop()


Snapshot = dict[str, tuple[list[tuple[str, str]], list[tuple[Any, ...]]]]


def snapshot(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...] = MARTS) -> Snapshot:
    """Per table: (column, type) pairs and every row, sorted."""
    result = {}
    for table in tables:
        columns = [(row[0], row[1]) for row in con.execute(f'describe "{table}"').fetchall()]
        result[table] = (columns, con.execute(f'select * from "{table}" order by all').fetchall())
    return result


def assert_same(duck: Snapshot, spark: Snapshot) -> None:
    assert duck.keys() == spark.keys()
    for table in duck:
        assert spark[table][0] == duck[table][0], f"{table}: columns or types differ"
        assert len(spark[table][1]) == len(duck[table][1]), f"{table}: row counts differ"
        for duck_row, spark_row in zip(duck[table][1], spark[table][1], strict=True):
            assert spark_row == duck_row, f"{table}: first differing row"


@contextmanager
def parquet_marts(config: Config) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with a view over each mart the last Spark build wrote as Parquet."""
    folder = config.output_path / "spark" / "marts"
    with duckdb.connect() as con:
        for table in MARTS:
            con.execute(f"create view {table} as select * from read_parquet('{folder / table}/*.parquet')")
        yield con


def spark_build_snapshot(config: Config) -> Snapshot:
    """The marts of the last Spark build, read from its Parquet output; checks that the
    warehouse holds only the aggregate marts of that build (and no intermediate table)."""
    with parquet_marts(config) as parquet:
        marts = snapshot(parquet)
    with duckdb.connect(str(config.warehouse_path), read_only=True) as con:
        tables = {row[0] for row in con.execute("select table_name from duckdb_tables()").fetchall()}
        assert not {t for t in tables if t.startswith("int_")}, "the DuckDB build's intermediates are dropped"
        assert tables & set(MARTS) == set(RETURNED_MARTS), "only the aggregate marts come back"
        assert snapshot(con, RETURNED_MARTS) == {t: marts[t] for t in RETURNED_MARTS}
    return marts


def build_both(config: Config, spark: SparkSession) -> tuple[Snapshot, Snapshot, dict[str, int]]:
    """Build the warehouse's touchpoints on DuckDB, then on Spark; both snapshots and the
    tables whose row counts differ between the engines' builds (empty when none)."""
    con = connect(config.warehouse_path)
    try:
        duck_counts = build_journeys(con, config)
        duck = snapshot(con)
    finally:
        con.close()
    spark_counts = build_on_spark(config, spark)
    on_spark = spark_build_snapshot(config)
    differing = {t: n for t, n in duck_counts.items() if spark_counts.get(t) != n}
    return duck, on_spark, differing


# --- the hand-made cases, one customer each ---------------------------------------------------


def at(minutes: float, touchpoint: str, **fields: Any) -> dict[str, Any]:
    return {"ts": T0 + timedelta(minutes=minutes), "touchpoint": touchpoint, **fields}


def session_cases() -> list[dict[str, Any]]:
    new_york = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("America/New_York"))  # 14:00 UTC
    berlin = datetime(2026, 3, 2, 14, 30, tzinfo=ZoneInfo("Europe/Berlin"))  # 13:30 UTC
    return [
        # a gap of exactly the timeout stays in the session; one microsecond more does not
        at(0, "web:home", anonymous_id="exact"),
        at(30, "web:cart", anonymous_id="exact"),
        at(0, "web:home", anonymous_id="micro"),
        {"ts": T0 + timedelta(minutes=30, microseconds=1), "touchpoint": "web:cart", "anonymous_id": "micro"},
        # local wall clocks in two zones: ordered by UTC
        {"ts": new_york, "touchpoint": "call:inbound", "user_id_hash": "utc"},
        {"ts": berlin, "touchpoint": "chat:started", "user_id_hash": "utc"},
        # per-channel timeout, applied by the later touchpoint's channel
        at(0, "web:home", anonymous_id="channel"),
        at(90, "chat:started", anonymous_id="channel"),
        at(200, "chat:message", anonymous_id="channel"),
        at(290, "web:home", anonymous_id="channel"),
        # max length, and a timeout restarting the window
        *(at(m, f"web:p{m}", anonymous_id="long") for m in (0, 20, 40, 60, 80, 100, 120, 140, 200, 220)),
        # channels mixed within minutes; the source's own session ids
        at(0, "web:help", anonymous_id="mixed", source_session_id="s1"),
        at(2, "chat:started", anonymous_id="mixed", source_session_id="s1"),
        at(4, "web:product", anonymous_id="mixed", source_session_id="s2"),
        # excluded touchpoints are no steps and bridge no gap
        at(0, "web:home", anonymous_id="excluded"),
        at(20, "web:scroll", anonymous_id="excluded"),
        at(40, "web:user_engagement", anonymous_id="excluded"),
        at(50, "web:cart", anonymous_id="excluded"),
        # a converting session with cart and checkout
        *(
            at(m, t, anonymous_id="buyer")
            for m, t in [
                (0, "web:product"),
                (1, "web:add_to_cart"),
                (2, "web:begin_checkout"),
                (3, "web:purchase"),
                (4.5, "web:home"),
            ]
        ),
        # no identifiers: grouped by source session, kept apart by source, or alone
        at(0, "chat:started", source="intercom", source_session_id="1"),
        at(1, "call:inbound", source="connect", source_session_id="1"),
        at(2, "chat:message", source="intercom", source_session_id="1"),
        at(3, "call:inbound"),
    ]


def tie_cases() -> list[dict[str, Any]]:
    """Equal timestamps: ordered by ingest_seq, not by insertion order."""
    return [
        at(0, "web:cart", anonymous_id="tie", ingest_seq=1_000_007),
        at(0, "web:home", anonymous_id="tie", ingest_seq=1_000_003),
        at(1, "web:checkout", anonymous_id="tie", ingest_seq=1_000_005),
        at(1, "web:help", anonymous_id="tie", ingest_seq=1_000_006),
    ]


def random_cases() -> list[dict[str, Any]]:
    """Gaps around the timeout, at odd microseconds, in random order."""
    rng = random.Random(7)
    minutes, rows = 0.0, []
    for i in range(300):
        minutes += rng.choice([1, 5, 29, 30, 31, 90, 600, 61 * 24 * 7])
        rows.append(
            {
                "ts": T0 + timedelta(minutes=minutes, microseconds=rng.randrange(1_000_000)),
                "touchpoint": rng.choice(
                    ["web:home", "web:product", "web:purchase", "chat:started", "call:inbound"]
                ),
                "anonymous_id": f"random-{i % 4}",
            }
        )
    return rng.sample(rows, len(rows))


def journey_cases() -> list[dict[str, Any]]:
    week = 7 * 24 * 60
    return [
        at(0, "web:product", anonymous_id="journey"),
        at(300, "web:add_to_cart", anonymous_id="journey"),
        at(306, "web:purchase", anonymous_id="journey"),
        at(312, "web:home", anonymous_id="journey"),
        at(1800, "chat:resolved", anonymous_id="journey"),
        at(1900, "web:product", anonymous_id="journey"),
        at(0, "web:home", anonymous_id="idle"),
        at(week, "web:home", anonymous_id="idle"),  # exactly the inactivity limit later
        at(2 * week + 30, "web:home", anonymous_id="idle"),
        at(0, "web:help", anonymous_id="across", user_id_hash="across-user"),
        at(120, "chat:started", user_id_hash="across-user"),
        at(26 * 60, "call:order_placed", user_id_hash="across-user"),
    ]


def transition_cases() -> list[dict[str, Any]]:
    def steps(customer: str, hours: float, *pairs: tuple[float, str]) -> list[dict[str, Any]]:
        return [at(hours * 60 + s / 60, t, anonymous_id=customer) for s, t in pairs]

    return [
        *steps("flow-a", 0, (0, "web:a"), (10, "web:b"), (40, "web:b"), (100, "web:c")),
        *steps("flow-a", 24, (0, "web:a")),
        *steps("flow-b", 0, (0, "web:a"), (20, "web:c")),
        *steps("flow-b", 2, (0, "web:a"), (30, "web:c")),
        *steps("flow-b", 2.5, (0, "web:a"), (7, "web:a"), (8, "web:a")),
        at(
            0,
            "web:help",
            anonymous_id="flow-c",
            user_id_hash="flow-c-user",
            page="/help/returns",
            device="mobile",
        ),
        at(1.5, "chat:started", user_id_hash="flow-c-user", wait_seconds=45.0, topic="returns"),
        at(
            6.7, "chat:closed", user_id_hash="flow-c-user", outcome="resolved", satisfaction=2.0, revenue=12.5
        ),
    ]


def identity_cases() -> list[dict[str, Any]]:
    rows = [
        # web, chat and call identifiers of one person (the call joins through the CRM row)
        at(0, "web:home", anonymous_id="cookie-1"),
        at(1, "web:login", anonymous_id="cookie-1", user_id_hash="user-1"),
        at(60, "chat:started", user_id_hash="user-1", email_hash="email-1"),
        at(300, "call:inbound", phone_hash="phone-1"),
        # a phone without a CRM row stays its own customer
        at(310, "call:inbound", phone_hash="phone-2"),
    ]
    for i in range(40):  # a switchboard number called by 40 people: a super-node
        rows.append(at(i, "web:login", anonymous_id=f"caller-cookie-{i}", user_id_hash=f"caller-{i}"))
        rows.append(at(i + 1, "call:inbound", user_id_hash=f"caller-{i}", phone_hash="switchboard"))
    rows += [at(i, "web:login", anonymous_id=f"device-{i}", user_id_hash="loyal") for i in range(6)]
    rows += [at(10 + i, "web:login", anonymous_id="kiosk", user_id_hash=f"visitor-{i}") for i in range(4)]
    for i in range(60):  # a chain cookie-0 - user-0 - cookie-1 - user-1 - ...: several rounds
        rows.append(
            at(i, "web:login", anonymous_id=f"chain-cookie-{i:03d}", user_id_hash=f"chain-user-{i:03d}")
        )
        rows.append(
            at(
                i + 0.5,
                "web:login",
                anonymous_id=f"chain-cookie-{i + 1:03d}",
                user_id_hash=f"chain-user-{i:03d}",
            )
        )
    return rows


CRM_ROWS = [
    {"email_hash": "email-1", "phone_hash": "phone-1"},
    {"user_id_hash": "crm-only", "email_hash": "crm-email", "phone_hash": "crm-phone"},
]

CONFIGS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "channel-timeouts-collapsed-repeats": {
        "session": {"channel_timeout_minutes": {"chat": 120, "call": 5}, "collapse_repeats": True},
        "journey": {"inactivity_days": 1},
        "conversion_touchpoints": ["web:purchase", "chat:resolved"],
    },
    "max-length-split-by-channel-and-source-session-tight-identity": {
        "session": {"max_length_minutes": 60, "split_by_channel": True, "use_source_session_id": True},
        "identity": {"max_devices_per_identifier": 5, "max_customers_per_identifier": 2},
        "engine": {"spark": {"intermediate_storage": "parquet"}},
    },
}


@pytest.fixture
def hand_made(warehouse: duckdb.DuckDBPyConnection) -> None:
    """Every hand-made case in this test's warehouse (``tmp_path/warehouse.duckdb``)."""
    insert_touchpoints(warehouse, tie_cases())
    for rows in (session_cases(), random_cases(), journey_cases(), transition_cases(), identity_cases()):
        insert_touchpoints(warehouse, rows)
    insert_identities(warehouse, CRM_ROWS)
    warehouse.close()


@pytest.mark.slow
@pytest.mark.usefixtures("hand_made")
@pytest.mark.parametrize("sections", CONFIGS.values(), ids=CONFIGS.keys())
def test_hand_made_cases_give_the_same_marts(
    tmp_path: Path, spark: SparkSession, sections: dict[str, Any]
) -> None:
    duck, on_spark, differing_counts = build_both(make_config(tmp_path, **sections), spark)
    assert differing_counts == {}
    assert_same(duck, on_spark)
    assert [t.name for t in spark.catalog.listTables() if t.isTemporary] == [], "views are dropped"
    assert not (tmp_path / "out" / "spark" / "work").exists(), "Parquet intermediates are removed"
    sessions = dict(duck["sessions"][0])
    assert sessions["session_start"] == "TIMESTAMP"
    assert sessions["duration_seconds"] == "DOUBLE"
    assert sessions["session_number"] == "BIGINT"


@pytest.mark.slow
@pytest.mark.usefixtures("hand_made")
def test_edge_cases_come_out_right_on_spark_from_given_parquet(tmp_path: Path, spark: SparkSession) -> None:
    """Not only equal: the Spark build keeps the definitions (so both engines are right),
    here reading Parquet written elsewhere, with time-zone-aware UTC timestamps."""
    given = tmp_path / "lake"
    con = connect(tmp_path / "warehouse.duckdb")
    try:
        for table, body in {
            "touchpoints": "select * replace (cast(ts as timestamptz) as ts) from touchpoints",
            "identities": "select * from identities",
        }.items():
            (given / table).mkdir(parents=True)
            con.execute(f"copy ({body}) to '{given / table / 'data.parquet'}' (format parquet)")
        con.execute("delete from touchpoints")  # the warehouse's own copy is not what is read
    finally:
        con.close()
    config = make_config(
        tmp_path,
        session={"channel_timeout_minutes": {"chat": 120}},
        engine={"name": "spark", "spark": {"input_path": "lake"}},
    )
    assert isinstance(SparkEngine(spark), Engine)
    build_on_spark(config, spark)
    with parquet_marts(config) as con:
        by_customer = dict(
            con.execute(
                """select m.identifier, list(s.split_reason order by s.session_number)
                   from sessions s join identity_map m using (customer_key)
                   where m.identifier in ('exact', 'micro', 'channel', 'tie', 'utc')
                   group by m.identifier"""
            ).fetchall()
        )
        tie = con.execute(
            "select touchpoint_sequence from sessions s join identity_map m using (customer_key) "
            "where m.identifier = 'tie'"
        ).fetchall()
        supers = con.execute("select identifier from identity_super_nodes order by 1").fetchall()
    assert by_customer == {
        "exact": ["first"],
        "micro": ["first", "timeout"],
        "channel": ["first", "timeout"],  # chat waits 120 min; the web visit after 90 min does not
        "tie": ["first"],
        "utc": ["first"],
    }
    assert tie == [("web:home > web:cart > web:checkout > web:help",)]
    assert supers == [("kiosk",), ("switchboard",)]
    assert not (tmp_path / "out" / "spark" / "input").exists(), "given Parquet is read, nothing exported"


@pytest.mark.slow
def test_input_without_a_canonical_column_fails_naming_it(tmp_path: Path, spark: SparkSession) -> None:
    folder = tmp_path / "touchpoints"
    folder.mkdir()
    duckdb.execute(
        f"copy (select 'e1' as event_id, 'web' as source) to '{folder / 'data.parquet'}' (format parquet)"
    )
    from journey_mining.schema import TABLE_DDL

    with pytest.raises(ValueError, match="touchpoints lacks the column"):
        SparkEngine(spark).read_parquet("touchpoints", str(folder), TABLE_DDL["touchpoints"])


# --- the bundled sample, through the pipeline -------------------------------------------------


def dashboard_parts(con: Any, config: Config) -> dict[str, Any]:
    """What the dashboard shows, from a DuckDB or a Spark connection: the headline numbers,
    the segment views and every figure (as Plotly JSON)."""
    from journey_mining.headline import headline_numbers
    from journey_mining.viz.dashboard import dashboard_figures, segment_views

    figures = {name: figure.to_json() for name, figure in dashboard_figures(con, config).items()}
    return {"headline": headline_numbers(con), "views": segment_views(con), "figures": figures}


def notebook_answers(config: Config) -> dict[str, Any]:
    """What an analyst asks the notebook API (``jm.open``), answers as plain values."""
    import journey_mining as jm

    with jm.open(config) as analysis:
        frames = {
            "sessions": analysis.sessions(channel="chat"),
            "journeys": analysis.journeys(start="2026-11-20"),
            "paths": analysis.paths(level="journey", top=10, segment="device", value="mobile"),
            "transitions": analysis.transitions(channel="web"),
            "funnel": analysis.funnel(by="device"),
            "friction": analysis.friction(),
            "compare": analysis.compare("device", "mobile", "desktop"),
        }
        answers: dict[str, Any] = {name: (list(f.dtypes.astype(str)), plain_rows(f)) for name, f in frames.items()}
        answers["summary"] = analysis.summary()
        answers["removal"] = analysis.removal_effects(by="channel").round(12).to_dict()
        answers["sankey"] = analysis.sankey(steps=5, level="journey").to_json()
    return answers


@pytest.mark.slow
def test_bundled_sample_gives_the_same_marts_friction_and_dashboard(tmp_path: Path, spark: SparkSession) -> None:
    from journey_mining.pipeline import build_step, dashboard_step, friction_step, headline_step, load_step
    from journey_mining.scale_out import spark_marts

    sample = load_config(ROOT / "data" / "sample" / "config.yaml")
    config = sample.model_copy(
        update={
            "warehouse": WarehouseConfig(path=str(tmp_path / "warehouse.duckdb"), memory_limit="1GB"),
            "output_dir": str(tmp_path / "out"),
        }
    )
    load_step(config)
    duck_counts = build_step(config)
    friction_step(config)
    with duckdb.connect(str(config.warehouse_path), read_only=True) as con:
        duck = snapshot(con, (*MARTS, "friction"))
        duck_dashboard = dashboard_parts(con, config)
    duck_answers = notebook_answers(config)
    spark_counts = build_step(config, engine="spark")  # the running session is used, and left running
    assert spark_counts == duck_counts
    assert duck["sessions"][1], "the sample has sessions"
    assert_same({t: duck[t] for t in MARTS}, spark_build_snapshot(config))
    findings = friction_step(config, engine="spark")  # the kinds' queries on Spark, over its marts
    with duckdb.connect(str(config.warehouse_path), read_only=True) as con:
        friction_on_spark = snapshot(con, ("friction",))
    assert findings == len(duck["friction"][1]) > 20
    assert_same({"friction": duck["friction"]}, friction_on_spark)
    # the headline numbers, segment views and every chart, from queries run on Spark
    with spark_marts(config, spark) as connection:
        spark_dashboard = dashboard_parts(connection, config)
    assert spark_dashboard["headline"] == duck_dashboard["headline"]
    assert spark_dashboard["views"] == duck_dashboard["views"]
    assert set(spark_dashboard["figures"]) == set(duck_dashboard["figures"]) >= {"sankey", "funnel", "friction"}
    for name, figure in duck_dashboard["figures"].items():
        assert spark_dashboard["figures"][name] == figure, f"{name} differs"
    spark_answers = notebook_answers(config)  # after a Spark build, the notebook API queries Spark
    assert spark_answers.keys() == duck_answers.keys()
    for name, answer in duck_answers.items():
        assert spark_answers[name] == answer, f"{name} differs"
    assert len(duck_answers["sessions"][1]) > 10
    numbers = headline_step(config, "sample-run", engine="spark")
    assert numbers["sessions"] == duck_dashboard["headline"]["sessions"]
    page = dashboard_step(config, "sample-run", engine="spark").read_text()
    assert "Customer journeys: run sample-run" in page
    assert [t.name for t in spark.catalog.listTables() if t.isTemporary] == [], "views are dropped"
    # on DuckDB, the marts of a Spark build are not there: said, not a missing-table error
    with pytest.raises(ValueError, match="marts come from a spark build"):
        friction_step(config)
    # a DuckDB build since: the Spark marts on disk are stale, and Spark refuses them
    build_step(config)
    with pytest.raises(ValueError, match="marts come from a duckdb build"):
        friction_step(config, engine="spark")
    with pytest.raises(ValueError, match=r"duckdb build.*use that engine for writing the dashboard"):
        dashboard_step(config, "later-run", engine="spark")
    assert not spark.sparkContext._jsc.sc().isStopped()
    assert (tmp_path / "out" / "spark" / "marts" / "sessions").is_dir()


# --- friction's hand-made cases on both engines ------------------------------------------------


def _friction_cases() -> dict[str, tuple[list[dict[str, Any]], dict[str, Any]]]:
    from tests import test_friction as cases

    return {
        "escalation": (cases.escalation_rows(), {}),
        "escalation-window": (cases.escalation_rows(), {"friction": {"escalation_window_minutes": 90}}),
        "loops-carts-waits": (cases.loop_rows() + cases.cart_rows() + cases.wait_rows(), {}),
        "recovery-window": (cases.cart_rows(), {"friction": {"cart_recovery_window_hours": 1}}),
        "waits-new-york": (cases.wait_rows(), {"friction": {"time_zone": "America/New_York"}}),
        "repeat-contacts": (cases.repeat_rows(), {}),
        "errors": (cases.error_rows(), {}),
        "satisfaction": (cases.satisfaction_rows(), {}),
        "no-planted-friction": (cases.uniform_rows(seed=3), {}),
    }


FRICTION_CASES = tuple(_friction_cases())


def plain_rows(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """The rows of ``frame`` in order, as plain values (NaN and None both as None)."""
    plain = frame.astype(object).where(frame.notna(), None)
    return list(plain.itertuples(index=False, name=None))


@pytest.mark.slow
@pytest.mark.parametrize("case", FRICTION_CASES)
def test_friction_cases_give_the_same_findings_on_spark(
    tmp_path: Path, spark: SparkSession, case: str
) -> None:
    from journey_mining.engines.duckdb_engine import export_tables
    from journey_mining.engines.spark_connection import SparkConnection
    from journey_mining.friction import EXPLAINERS, find_candidates
    from journey_mining.friction.findings import assemble

    rows, sections = _friction_cases()[case]
    config = make_config(tmp_path, **sections)
    con = connect(config.warehouse_path)
    try:
        insert_touchpoints(con, rows)
        build_journeys(con, config)
        duck_candidates = find_candidates(con, config)
        export_tables(con, MARTS, tmp_path / "marts")
    finally:
        con.close()
    connection = SparkConnection(spark)
    try:
        for table in MARTS:
            connection.engine.read_parquet(table, str(tmp_path / "marts" / table))
        spark_candidates = find_candidates(connection, config)
    finally:
        connection.close()
    assert len(duck_candidates) > 0
    assert list(spark_candidates.columns) == list(duck_candidates.columns)
    # the kinds' rows may come in another order; the same rows, with the same values
    assert sorted(plain_rows(spark_candidates), key=repr) == sorted(plain_rows(duck_candidates), key=repr)
    duck_findings = assemble(duck_candidates, config.friction, EXPLAINERS)
    spark_findings = assemble(spark_candidates, config.friction, EXPLAINERS)
    assert spark_findings.dtypes.to_dict() == duck_findings.dtypes.to_dict()
    assert plain_rows(spark_findings) == plain_rows(duck_findings), "ranked the same, row for row"
    assert [t.name for t in spark.catalog.listTables() if t.isTemporary] == [], "views are dropped"


# --- the dashboard's maps and funnels on both engines ------------------------------------------


@contextmanager
def on_spark(con: duckdb.DuckDBPyConnection, spark: SparkSession, folder: Path) -> Iterator[Any]:
    """A ``SparkConnection`` over a copy of ``con``'s ``session_touchpoints`` (via Parquet)."""
    from journey_mining.engines.duckdb_engine import export_tables
    from journey_mining.engines.spark_connection import SparkConnection

    export_tables(con, ("session_touchpoints",), folder)
    connection = SparkConnection(spark)
    try:
        connection.engine.read_parquet("session_touchpoints", str(folder / "session_touchpoints"))
        yield connection
    finally:
        connection.close()
    assert [t.name for t in spark.catalog.listTables() if t.isTemporary] == [], "views are dropped"


MAP_KEYS = {
    "bigint-keys": {},
    "hashed-units": {"unit_hashes_are_distinct": True},  # xxhash64 on Spark: 64 bits, as DuckDB's
    "list-keys": {"MAX_KEY": 2},  # too many touchpoints for integer keys
}


@pytest.mark.slow
@pytest.mark.parametrize("keys", MAP_KEYS.values(), ids=MAP_KEYS.keys())
def test_maps_and_funnels_are_the_same_on_spark(
    tmp_path: Path, spark: SparkSession, monkeypatch: pytest.MonkeyPatch, keys: dict[str, Any]
) -> None:
    from journey_mining import funnel as funnel_module
    from journey_mining.funnel import funnel, funnel_of, prepare_funnel
    from journey_mining.viz import sankey as sankey_module
    from journey_mining.viz.sankey import prepare_rows, sankey_data, segment_maps
    from tests import test_funnel as funnels
    from tests import test_sankey as maps

    if "unit_hashes_are_distinct" in keys:
        for module in (sankey_module, funnel_module):
            monkeypatch.setattr(module, "unit_hashes_are_distinct", lambda con, level: True)
    if "MAX_KEY" in keys:
        monkeypatch.setattr(sankey_module, "MAX_KEY", keys["MAX_KEY"])
    con = maps.session_touchpoints(maps.SEGMENTED_PATHS, devices=maps.SEGMENTED_DEVICES)
    with on_spark(con, spark, tmp_path / "maps") as connection:
        for level in ("session", "journey"):
            for focus, direction, collapse in maps.MAP_KINDS:
                options = {**maps.map_options(focus, direction, collapse), "level": level, "top_k": 2}
                maps.assert_same_map(sankey_data(connection, **options), sankey_data(con, **options))
            duck_maps, spark_maps = (
                segment_maps(c, prepare_rows(c, level=level, steps=4, segments=("device",)), "device", top_k=2)
                for c in (con, connection)
            )
            assert spark_maps.keys() == duck_maps.keys() == {"mobile", "desktop", "tablet"}
            for value, data in duck_maps.items():
                maps.assert_same_map(spark_maps[value], data)
            steps = ["web:home", "web:product", "web:cart"]
            for segment in (None, "device"):
                expected = funnel(con, steps, level=level, segment=segment)
                pd.testing.assert_frame_equal(funnel(connection, steps, level=level, segment=segment), expected)
                units = prepare_funnel(connection, steps, level=level, segments=("device",))
                pd.testing.assert_frame_equal(funnel_of(connection, units, segment=segment), expected)
    # the funnel's matching (repeated steps, steps never reached) on random paths
    rng = random.Random(7)
    pages = ["web:home", "web:product", "web:add_to_cart", "web:begin_checkout", "web:purchase", "chat:started"]
    sessions = {
        f"s{n}": (rng.choice(["mobile", "desktop"]), rng.randint(1, 3), rng.choices(pages, k=rng.randint(1, 9)))
        for n in range(60)
    }
    con = funnels.session_touchpoints(sessions)
    with on_spark(con, spark, tmp_path / "funnels") as connection:
        repeated = ["web:product", "web:add_to_cart"] * 3
        for steps in (funnels.STEPS, repeated, ["web:home", "web:home", "web:purchase"]):
            expected = funnel(con, steps, segment="device")
            assert expected["reached"].sum() > 0
            pd.testing.assert_frame_equal(funnel(connection, steps, segment="device"), expected)


# --- translation and configuration (fast) -----------------------------------------------------


def test_fixed_translations() -> None:
    assert "UNIX_MICROS(ts) / 1e6" in to_spark_sql("select epoch(ts) from t")
    assert "PERCENTILE(s, 0.9)" in to_spark_sql("select quantile_cont(s, 0.9) from t")
    assert "LISTAGG(c, ',') WITHIN GROUP (ORDER BY c NULLS LAST)" in to_spark_sql(
        "select string_agg(c, ',' order by c) from t"
    )
    # DuckDB's lists are 1-based, Spark's 0-based: sqlglot shifts an index it knows to be an
    # integer (a literal, a cast), and leaves an untyped one as it is, one element off
    assert "names[0]" in to_spark_sql("select names[1] from t")
    assert "names[CAST(code + 1 AS INT) + -1]" in to_spark_sql(
        "select names[cast(code + 1 as integer)] from t"
    )
    assert "names[code + 1]" in to_spark_sql("select names[code + 1] from t")


def test_fixed_translations_of_the_friction_queries() -> None:
    # DuckDB's min(x, n): the n smallest values, ascending, NULL when none
    smallest = "SLICE(ARRAY_SORT(COLLECT_SET(jid) FILTER(WHERE NOT converted)), 1, 3)"
    assert f"IF(SIZE({smallest}) = 0, NULL, {smallest})" in to_spark_sql(
        "select min(distinct jid, 3) filter (where not converted) from t"
    ).replace("( WHERE", "(WHERE")
    assert "SLICE(ARRAY_SORT(COLLECT_LIST(x)), 1, 2)" in to_spark_sql("select min(x, 2) from t")
    assert to_spark_sql("select min(x) from t") == "SELECT MIN(x) FROM t"
    # string_agg(distinct x order by x) under grouping sets fails as LISTAGG in Spark 4.0
    assert "ARRAY_JOIN(ARRAY_SORT(COLLECT_SET(c)), ' | ')" in to_spark_sql(
        "select string_agg(distinct c, ' | ' order by c) from t group by grouping sets ((), (d))"
    )
    assert "FROM_UTC_TIMESTAMP(ts, 'America/New_York')" in to_spark_sql(
        "select timezone('America/New_York', timezone('UTC', ts)) from t"
    )
    assert "DATE_FORMAT(ts, 'EEEE')" in to_spark_sql("select dayname(ts) from t")  # 'Monday'
    assert "SIZE(FILTER(" in to_spark_sql("select len(list_filter(['a'], p -> contains(t, p))) from t")
    assert "LENGTH(name)" in to_spark_sql("select len(name) from t")
    # an arbitrary numbering (a join key only) needs no ordered window on Spark
    assert to_spark_sql("select cast(row_number() over () as integer) as sid from t") == (
        "SELECT MONOTONICALLY_INCREASING_ID() AS sid FROM t"
    )
    named = to_spark_sql("select row_number() over w from t window w as (partition by c order by ts)")
    assert "ROW_NUMBER() OVER w" in named


def test_fixed_translations_of_the_dashboard_queries() -> None:
    # a window built on a named one: the name's partition and order written in
    windowed = to_spark_sql(
        "select list(c) over (w rows between 2 preceding and current row), bool_or(b) over upto from t"
        " window w as (partition by u order by p), upto as (w rows between unbounded preceding and current row)"
    )
    assert "OVER (PARTITION BY u ORDER BY p NULLS LAST rows BETWEEN 2 preceding AND CURRENT ROW)" in windowed
    assert "upto AS (PARTITION BY u ORDER BY p NULLS LAST rows BETWEEN UNBOUNDED preceding" in windowed
    assert "(w rows" not in windowed
    # DuckDB's list functions sqlglot passes through by name
    assert "NULLIF(ARRAY_POSITION(c, 3), 0)" in to_spark_sql("select list_position(c, 3) from t")
    assert "SLICE(c, 1, (SIZE(c) - 1) - (1) + 1)" in to_spark_sql("select list_slice(c, 1, array_length(c) - 1) from t")
    assert "AGGREGATE(SLICE(c, 2, SIZE(c)), ELEMENT_AT(c, 1), (a, b) -> a * 7 + b)" in to_spark_sql(
        "select list_reduce(c, lambda a, b: a * 7 + b) from t"
    )
    assert "XXHASH64(session_id)" in to_spark_sql("select hash(session_id) from t")
    # list comprehensions, their index 1-based as DuckDB's
    assert "TRANSFORM(FILTER(xs, x -> x > 1), x -> x * 2)" in to_spark_sql("select [x * 2 for x in xs if x > 1] from t")
    assert "TRANSFORM(xs, (x, i_from_0) -> x + (i_from_0 + 1))" in to_spark_sql("select [x + i for x, i in xs] from t")
    # DuckDB zips two unnests of one select, Spark would multiply them: refused
    with pytest.raises(ValueError, match="two unnests in one select"):
        to_spark_sql("select unnest(a), unnest(b) as c from t")
    assert "EXPLODE(a)" in to_spark_sql("select unnest(a) from t")


def test_positional_parameters_and_many_rows_become_literals_for_spark() -> None:
    from journey_mining.engines.spark_connection import parse_with_parameters

    inlined = parse_with_parameters("select * from t where a = ? and b = '?' limit ?", ["x'y", 5])
    assert inlined.sql(dialect="duckdb") == "SELECT * FROM t WHERE a = 'x''y' AND b = '?' LIMIT 5"
    with pytest.raises(KeyError, match=r"\$p1"):
        parse_with_parameters("select ? + ?", [1])


def test_parameters_become_literals_for_spark() -> None:
    from journey_mining.engines.spark_connection import inline_parameters

    statement = sqlglot.parse_one(
        "select * from t where list_contains($channels, c) and x > $limit and z = $zone and f = $flag",
        read="duckdb",
    )
    inlined = inline_parameters(
        statement, {"channels": ["web", "app's"], "limit": 300, "zone": "UTC", "flag": True}
    ).sql(dialect="duckdb")
    assert "['web', 'app''s']" in inlined
    assert "x > 300" in inlined
    assert "z = 'UTC'" in inlined
    assert "f = TRUE" in inlined
    with pytest.raises(KeyError, match=r"\$limit"):
        inline_parameters(statement, {"channels": [], "zone": "UTC", "flag": False})


@pytest.mark.parametrize(
    "path",
    sorted((sql_root() / "intermediate").rglob("*.sql")) + sorted((sql_root() / "marts").glob("*.sql")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_every_model_translates_and_rounds_its_quantiles(path: Path) -> None:
    sql = path.read_text(encoding="utf-8")
    spark_sql = to_spark_sql(sql)
    assert "UNIX_TIMESTAMP" not in spark_sql
    assert "PERCENTILE_CONT" not in spark_sql
    # interpolated quantiles differ between engines in their last bits unless rounded
    for quantile in sqlglot.parse_one(sql, read="duckdb").find_all(exp.PercentileCont):
        assert isinstance(quantile.parent, exp.Round), f"round {quantile.sql('duckdb')} (to 7 decimals)"


def test_engine_config_defaults_and_validation(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    assert config.engine.name == "duckdb"
    assert config.engine.spark.master == "local[2]"
    assert config.engine.spark.input_path is None
    assert config.engine.spark.intermediate_storage == "memory"
    with pytest.raises(ConfigError, match=r"engine\.name"):
        make_config(tmp_path, engine={"name": "flink"})
    with pytest.raises(ConfigError, match=r"engine\.spark\.master_url"):
        make_config(tmp_path, engine={"spark": {"master_url": "local"}})


def test_unknown_engine_in_the_build_step_fails(tmp_path: Path) -> None:
    from journey_mining.pipeline import build_step, friction_step

    with pytest.raises(ValueError, match="unknown engine 'flink'"):
        build_step(make_config(tmp_path), engine="flink")
    with pytest.raises(ValueError, match="unknown engine 'flink'"):
        friction_step(make_config(tmp_path), engine="flink")


@pytest.mark.slow
def test_friction_on_spark_without_a_spark_build_names_the_missing_marts(
    tmp_path: Path, spark: SparkSession
) -> None:
    from journey_mining.builds import record_build
    from journey_mining.pipeline import friction_step
    from journey_mining.warehouse import open_warehouse

    config = make_config(tmp_path, output_dir="out")
    with pytest.raises(FileNotFoundError, match=r"out/spark/marts/_build: no Spark build's marts there"):
        friction_step(config, engine="spark")
    # marts of another Spark build than the warehouse's
    stamp = spark.createDataFrame([("other",)], "build_id string")
    stamp.write.json(str(tmp_path / "out" / "spark" / "marts" / "_build"))
    with open_warehouse(config) as con:
        record_build(con, "spark", "mine")
    with pytest.raises(ValueError, match="from build other, the warehouse's from build mine"):
        friction_step(config, engine="spark")
    # the right build, but a mart missing: named
    with open_warehouse(config) as con:
        record_build(con, "spark", "other")
    with pytest.raises(FileNotFoundError, match=r"out/spark/marts/\w+: no Parquet"):
        friction_step(config, engine="spark")
    assert [t.name for t in spark.catalog.listTables() if t.isTemporary] == []
    assert not spark.sparkContext._jsc.sc().isStopped()

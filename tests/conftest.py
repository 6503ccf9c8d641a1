"""Shared fixtures: a secret hashing key for every test, config/warehouse helpers, and
hand-made touchpoints and identity rows for the analytic core's tests."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from journey_mining.config import Config, parse_config
from journey_mining.schema import TOUCHPOINT_COLUMNS
from journey_mining.warehouse import connect

TEST_HASH_KEY = "test-hash-key"


@pytest.fixture(autouse=True)
def _hash_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test hashes with a known key, so expected hashes can be computed."""
    monkeypatch.setenv("JOURNEY_MINING_HASH_KEY", TEST_HASH_KEY)
    return TEST_HASH_KEY


def make_config(base_dir: Path, **sections: Any) -> Config:
    """A config rooted at ``base_dir`` with the warehouse inside it."""
    data: dict[str, Any] = {"warehouse": {"path": "warehouse.duckdb"}, **sections}
    return parse_config(data, base_dir=base_dir)


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(tmp_path / "warehouse.duckdb")
    yield con
    con.close()


Row = Mapping[str, Any]


def insert_touchpoints(con: duckdb.DuckDBPyConnection, rows: Sequence[Row]) -> None:
    """Insert touchpoints given as dicts with at least ``ts`` and ``touchpoint``.

    Everything else gets a default: ``channel`` from the touchpoint's prefix, ``ingest_seq``
    from the row's position (after any already loaded), ids derived from that sequence.
    ``ts`` may be an aware datetime (stored as UTC) or a naive one (taken as UTC).
    """
    offset = int(con.execute("select coalesce(max(ingest_seq), 0) from touchpoints").fetchall()[0][0])
    records = []
    for position, given in enumerate(rows, start=1):
        unknown = set(given) - set(TOUCHPOINT_COLUMNS)
        if unknown:
            raise ValueError(f"not touchpoint columns: {sorted(unknown)}")
        seq = int(given.get("ingest_seq", offset + position))
        record = {
            "event_id": hashlib.md5(f"test|{seq}".encode()).hexdigest(),
            "source": "test",
            "file_id": 1,
            "source_row": seq,
            "ingest_seq": seq,
            "record_key": f"r{seq}",
            "channel": str(given["touchpoint"]).split(":", 1)[0],
            **given,
        }
        ts = record["ts"]
        if isinstance(ts, datetime) and ts.tzinfo is not None:
            record["ts"] = ts.astimezone(UTC).replace(tzinfo=None)
        records.append([record.get(column) for column in TOUCHPOINT_COLUMNS])
    frame = pd.DataFrame(records, columns=list(TOUCHPOINT_COLUMNS), dtype=object)
    columns = ", ".join(TOUCHPOINT_COLUMNS)
    con.register("_test_touchpoints", frame)
    try:
        con.execute(f"insert into touchpoints ({columns}) select {columns} from _test_touchpoints")
    finally:
        con.unregister("_test_touchpoints")


def insert_identities(con: duckdb.DuckDBPyConnection, rows: Sequence[Row]) -> None:
    """Insert identity-only (CRM) rows given as dicts of user_id_hash/email_hash/phone_hash."""
    records = [
        [
            given.get("source", "crm"),
            given.get("file_id", 1),
            given.get("source_row", position),
            given.get("user_id_hash"),
            given.get("email_hash"),
            given.get("phone_hash"),
        ]
        for position, given in enumerate(rows, start=1)
    ]
    con.executemany("insert into identities values (?, ?, ?, ?, ?, ?)", records)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Counts of the bad-input suites (``tests/corpus.py``'s REGISTRY), when any of them ran."""
    import sys

    corpus = sys.modules.get("tests.corpus")
    if corpus is not None and any(corpus.REGISTRY.values()):
        terminalreporter.write_line(corpus.summary_line())


# --- a small generated sample, one private copy per test -------------------------------------

SMALL_SAMPLE = {"customers": 300, "days": 5, "seed": 11}
"""The generated sample the pipeline, flow, fault and CLI tests run on (seconds, not minutes)."""

MARTS = (
    "sessions",
    "journeys",
    "session_transitions",
    "journey_transitions",
    "touchpoint_stats",
    "session_touchpoints",
    "identity_map",
    "friction",
)
"""The derived tables a run publishes."""

LOADED = {
    # the loaded data, without the bookkeeping that depends on load order (file ids)
    "touchpoints": "select * exclude (file_id, ingest_seq) from touchpoints",
    "identities": "select * exclude (file_id) from identities",
    "rejected_rows": "select * exclude (file_id, path) from rejected_rows",
}


CHECKSUMMED = {
    **LOADED,
    # ingest_seq is the step's key in touchpoints: bookkeeping that depends on load order too
    "session_touchpoints": "select * exclude (ingest_seq) from session_touchpoints",
}
"""What ``table_checksums`` compares per table: everything but load-order bookkeeping."""


def sample_sources(data: str = "sample", *, dated: bool = False) -> list[dict[str, Any]]:
    """The small sample's sources, paths relative to the config; ``dated`` uses
    ``{date:%Y%m%d}`` placeholders for the daily files (for dated runs and backfills)."""
    day = "{date:%Y%m%d}" if dated else "*"
    return [
        {"name": "web", "kind": "ga4", "path": f"{data}/ga4/events_{day}.jsonl.gz"},
        {"name": "chat", "kind": "intercom", "path": f"{data}/chat/intercom_conversations.jsonl"},
        {"name": "calls", "kind": "connect", "path": f"{data}/call/connect_ctr_{day}.jsonl"},
        {
            "name": "crm",
            "kind": "crm",
            "path": f"{data}/crm/customers.csv",
            "delimiter": ";",
            "columns": {"user_id": "customer_id"},
        },
    ]


def write_sample_config(
    folder: Path, *, name: str = "config.yaml", dated: bool = False, **sections: Any
) -> Path:
    """``folder/<name>`` for the sample in ``folder/sample``: warehouse and outputs inside
    ``folder``; ``sections`` replace top-level keys."""
    import yaml

    data: dict[str, Any] = {
        "warehouse": {"path": "warehouse/warehouse.duckdb", "memory_limit": "1GB", "threads": 2},
        "output_dir": "out",
        "sources": sample_sources(dated=dated),
        **sections,
    }
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def small_sample_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated sample, written once per session; tests copy it (``small_sample``)."""
    from journey_mining.generate import generate_sample

    folder = tmp_path_factory.mktemp("small-sample-master") / "sample"
    generate_sample(folder, **SMALL_SAMPLE)
    return folder


class SampleCopy:
    """A private copy of the small sample at ``root/sample`` with ``root/config.yaml``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "sample"
        self.held = root / "held-back"
        self.config_path = root / "config.yaml"

    @classmethod
    def create(cls, root: Path, master: Path) -> SampleCopy:
        """Copy the sample ``master`` into ``root`` and write its config."""
        shutil.copytree(master, root / "sample")
        write_sample_config(root)
        return cls(root)

    def clone(self, root: Path) -> SampleCopy:
        """Everything (files, warehouse, outputs) copied to ``root``: the same state, privately."""
        shutil.copytree(self.root, root)
        return SampleCopy(root)

    @property
    def config(self) -> Config:
        from journey_mining.config import load_config

        return load_config(self.config_path)

    @property
    def warehouse_path(self) -> Path:
        return self.config.warehouse_path

    def daily_files(self, *days: int) -> list[Path]:
        """The GA4 and Connect files of the given days (1 = the first day)."""
        from journey_mining.generate.sample import DEFAULT_START

        names = [f"{DEFAULT_START + timedelta(days=d - 1):%Y%m%d}" for d in days]
        return sorted(
            p
            for n in names
            for p in (
                self.data / "ga4" / f"events_{n}.jsonl.gz",
                self.data / "call" / f"connect_ctr_{n}.jsonl",
            )
        )

    def hold_back(self, *days: int) -> None:
        """Move the given days' daily files out of the sources' reach (not delivered yet)."""
        for path in self.daily_files(*days):
            target = self.held / path.relative_to(self.data)
            target.parent.mkdir(parents=True, exist_ok=True)
            path.rename(target)

    def deliver(self) -> None:
        """Put every held-back file in place (delivered late)."""
        for path in sorted(self.held.rglob("*")):
            if path.is_file():
                path.rename(self.data / path.relative_to(self.held))


@pytest.fixture
def small_sample(tmp_path: Path, small_sample_master: Path) -> SampleCopy:
    """This test's own copy of the small sample, its config, warehouse and outputs in tmp_path."""
    return SampleCopy.create(tmp_path, small_sample_master)


def table_checksums(warehouse_path: Path, tables: Sequence[str] = MARTS) -> dict[str, tuple[int, str]]:
    """(row count, order-independent content checksum) per table, of its ``CHECKSUMMED`` query."""
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        result = {}
        for table in tables:
            body = CHECKSUMMED.get(table, f"select * from {table}")
            row = con.execute(
                f"select count(*), coalesce(md5(string_agg(md5(t::varchar), '' order by md5(t::varchar))), '')"
                f" from ({body}) t"
            ).fetchone()
            assert row is not None
            result[table] = (int(row[0]), str(row[1]))
        return result
    finally:
        con.close()


def warehouse_checksums(warehouse_path: Path) -> dict[str, tuple[int, str]]:
    """Checksums of the marts and of the loaded data."""
    return table_checksums(warehouse_path, (*MARTS, *LOADED))


def consistency_problems(warehouse_path: Path) -> list[str]:
    """What is wrong with a warehouse's bookkeeping (empty when nothing is).

    Every ``loaded_files`` row reconciles (read = loaded + duplicate + rejected); no
    touchpoint, identity or rejected row belongs to a file that is not recorded (a
    half-loaded file); a file's stored touchpoints are the ones it wrote, less the
    records a newer version replaced later; no file content is recorded twice.
    """
    con = duckdb.connect(str(warehouse_path), read_only=True)
    checks = {
        "rows read != loaded + duplicate + rejected": """
            select path from loaded_files
            where rows_read <> rows_loaded + rows_duplicate + rows_rejected""",
        "touchpoints of a file not in loaded_files": """
            select distinct file_id from touchpoints
            where file_id not in (select file_id from loaded_files)""",
        "identities of a file not in loaded_files": """
            select distinct file_id from identities
            where file_id not in (select file_id from loaded_files)""",
        "rejected rows of a file not in loaded_files": """
            select distinct file_id from rejected_rows
            where file_id not in (select file_id from loaded_files)""",
        "a file's touchpoints differ from touchpoints_written": """
            select f.path from loaded_files f
            left join (select file_id, count(*) as n from touchpoints group by file_id) t using (file_id)
            left join (select file_id, count(*) as n from identities group by file_id) i using (file_id)
            where coalesce(t.n, 0) + coalesce(i.n, 0) > f.touchpoints_written
               or (f.source <> 'calls' and f.source <> 'chat'
                   and coalesce(t.n, 0) + coalesce(i.n, 0) <> f.touchpoints_written)""",
        "rejected rows differ from rows_rejected": """
            select f.path from loaded_files f
            left join (select file_id, count(distinct source_row) as n from rejected_rows group by file_id) r
                using (file_id)
            where coalesce(r.n, 0) <> f.rows_rejected""",
        "a checksum recorded twice": """
            select sha256 from loaded_files group by source, sha256 having count(*) > 1""",
        "a duplicate event_id": "select event_id from touchpoints group by event_id having count(*) > 1",
    }
    try:
        problems = []
        for problem, sql in checks.items():
            found = con.execute(sql).fetchall()
            if found:
                problems.append(f"{problem}: {[r[0] for r in found][:5]}")
        return problems
    finally:
        con.close()


@pytest.fixture(scope="session")
def reference_checksums(
    tmp_path_factory: pytest.TempPathFactory, small_sample_master: Path
) -> dict[str, tuple[int, str]]:
    """``warehouse_checksums`` of one uninterrupted run over the whole small sample: what
    every re-run, late delivery, crash or recovery must end up equal to."""
    from journey_mining.pipeline import run_pipeline

    sample = SampleCopy.create(tmp_path_factory.mktemp("reference"), small_sample_master)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JOURNEY_MINING_HASH_KEY", TEST_HASH_KEY)
        run_pipeline(sample.config, dashboard=False)
    assert consistency_problems(sample.warehouse_path) == []
    return warehouse_checksums(sample.warehouse_path)

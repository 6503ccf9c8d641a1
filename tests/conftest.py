"""Shared fixtures: a secret hashing key for every test, config/warehouse helpers, and
hand-made touchpoints and identity rows for the analytic core's tests."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
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

"""Shared fixtures: a secret hashing key for every test, and config/warehouse helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from journey_mining.config import Config, parse_config
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

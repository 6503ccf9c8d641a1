from __future__ import annotations

import duckdb
import pytest

from journey_mining.config import PrivacyConfig
from journey_mining.privacy import (
    DemoHashKeyWarning,
    MissingHashKeyError,
    hash_key,
    hmac_hex,
    register_privacy_macros,
)
from tests.conftest import TEST_HASH_KEY


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    register_privacy_macros(con, PrivacyConfig())
    return con


def test_sql_hash_equals_python_hmac(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute("select jm_hash('jane.doe@example.com')").fetchone()
    assert row is not None
    assert row[0] == hmac_hex(TEST_HASH_KEY.encode(), "jane.doe@example.com")


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [(" Jane.Doe@Example.COM ", "jane.doe@example.com"), ("not-an-email", None), (None, None)],
)
def test_email_normalization(con: duckdb.DuckDBPyConnection, raw: str | None, normalized: str | None) -> None:
    assert con.execute("select jm_email(?)", [raw]).fetchone() == (normalized,)


@pytest.mark.parametrize(
    "raw",
    ["+1 555-010-1234", "(555) 010-1234", "5550101234", "15550101234", "001 555 010 1234", "+15550101234"],
)
def test_phone_formats_normalize_to_e164(con: duckdb.DuckDBPyConnection, raw: str) -> None:
    assert con.execute("select jm_phone(?)", [raw]).fetchone() == ("+15550101234",)


def test_short_numbers_are_not_phones(con: duckdb.DuckDBPyConnection) -> None:
    assert con.execute("select jm_phone('12345')").fetchone() == (None,)


def test_redaction_masks_emails_and_phones_not_timestamps(con: duckdb.DuckDBPyConnection) -> None:
    text = '{"email":"Jane@x.org","tel":"+1 555-010-1234","alt":"(555) 010-1234","ts":"1730419200000000"}'
    row = con.execute("select jm_redact(?)", [text]).fetchone()
    assert row is not None
    assert "Jane@x.org" not in row[0]
    assert "555" not in row[0]
    assert "1730419200000000" in row[0]


def test_key_required_outside_demo_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNEY_MINING_HASH_KEY")
    with pytest.raises(MissingHashKeyError, match="JOURNEY_MINING_HASH_KEY"):
        hash_key(PrivacyConfig())
    with pytest.warns(DemoHashKeyWarning):
        assert hash_key(PrivacyConfig(demo_mode=True))

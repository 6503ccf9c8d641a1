"""Property tests: random malformed records and files never crash the loader or lose a row.

For every example a fresh warehouse loads one generated file. The file either loads, with
``rows read = loaded + duplicate + rejected`` and rows read equal to the records written,
or fails with a LoadError of one line naming the file. Where the damage is confined to
values (random JSON in fields, random cell text, random timestamps and numbers) the file
must load: a bad value is a bad record, never a bad file.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from journey_mining.ingest.loader import LoadError, LoadReport, load_sources
from journey_mining.warehouse import connect
from tests.conftest import make_config
from tests.corpus import SPECS, Spec, count, csv_record, render, set_path, source_config

SCALE = float(os.environ.get("JM_FUZZ_SCALE", "1"))
"""Multiplies every property's example count (JM_FUZZ_SCALE=10 for a long hunt)."""


def examples(n: int) -> int:
    return max(1, round(n * SCALE))


FUZZ = settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
    database=None,
)

# --- loading one file into a fresh warehouse -----------------------------------------------


def load_one(
    spec: Spec, data: bytes, suffix: str = "", *, example: bool = True
) -> tuple[duckdb.DuckDBPyConnection, Path, Any]:
    """Load ``data`` as the adapter's file; returns the warehouse, the path and the report
    (or the LoadError it raised). ``example``: count it as a fuzz example."""
    if example:
        count("fuzz examples")
    name = f"input{suffix or spec.suffix}"
    con = connect(":memory:")
    # the file is read during the load only; its folder goes with it (thousands of examples
    # a run would otherwise leave thousands of folders in the temp directory)
    with tempfile.TemporaryDirectory(prefix="jm-fuzz-") as scratch:
        folder = Path(scratch)
        path = folder / name
        path.write_bytes(data)
        config = make_config(folder, sources=[source_config(spec, "src", name)])
        try:
            return con, path, load_sources(con, config)
        except LoadError as err:
            return con, path, err


def assert_reconciles(
    con: duckdb.DuckDBPyConnection, spec: Spec, report: LoadReport
) -> tuple[int, int, int, int]:
    """The loaded file's counts add up, in the report and in the warehouse."""
    (result,) = report.files
    assert result.status == "loaded", result.error
    rows = con.execute(
        "select rows_read, rows_loaded, rows_duplicate, rows_rejected from loaded_files"
    ).fetchall()
    assert rows == [(result.rows_read, result.rows_loaded, result.rows_duplicate, result.rows_rejected)]
    read, loaded, duplicate, rejected = rows[0]
    assert read == loaded + duplicate + rejected
    assert con.execute("select count(*), count(distinct source_row) from rejected_rows").fetchone() == (
        rejected,
        rejected,
    )
    if spec.table == "identities":
        assert con.execute("select count(*) from identities").fetchone() == (loaded,)
    else:
        assert con.execute("select count(distinct source_row) from touchpoints").fetchone() == (loaded,)
        odd = con.execute(
            """select count(*) from touchpoints where
                   ts < timestamp '1970-01-01' or ts >= timestamp '2100-01-01'
                   or not isfinite(coalesce(wait_seconds, 0)) or not isfinite(coalesce(handle_seconds, 0))
                   or not isfinite(coalesce(satisfaction, 0)) or not isfinite(coalesce(revenue, 0))"""
        ).fetchone()
        assert odd == (0,)
    return read, loaded, duplicate, rejected


def assert_fails_cleanly(con: duckdb.DuckDBPyConnection, path: Path, err: LoadError) -> None:
    message = str(err)
    assert "\n" not in message, message
    assert message.startswith(f"{path}: "), message
    assert len(message) < 600, message
    for table in ("touchpoints", "identities", "rejected_rows", "loaded_files"):
        assert con.execute(f"select count(*) from {table}").fetchone() == (0,), table


def reasons(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    return dict(con.execute("select source_row, reason from rejected_rows").fetchall())


# --- strategies ----------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
# text without C0 controls other than tab/newlines (those make a small file "binary": the
# raw-bytes property covers them), but with quotes, delimiters, line breaks and any unicode
cell_text = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",), blacklist_characters="".join(map(chr, range(32))) + "\x7f"
    )
    | st.sampled_from(list("\"',;|\t\n\r =+-@\\")),
    max_size=25,
)
line_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(list("\"'{}[],: \\")),
    min_size=1,
    max_size=40,
).filter(lambda t: any(c.isalnum() for c in t) and not t.lstrip().startswith(("[", "{")))

JSON_FIELDS: dict[str, list[tuple[str, ...]]] = {
    "ga4": [
        ("event_timestamp",),
        ("event_name",),
        ("user_pseudo_id",),
        ("user_id",),
        ("platform",),
        ("event_params",),
        ("device",),
        ("device", "category"),
        ("geo",),
        ("traffic_source",),
        ("ecommerce",),
        ("ecommerce", "purchase_revenue"),
        ("ecommerce", "transaction_id"),
        ("items",),
        ("event_value_in_usd",),
        ("event_bundle_sequence_id",),
        ("batch_event_index",),
    ],
    "intercom": [
        ("id",),
        ("created_at",),
        ("updated_at",),
        ("state",),
        ("contacts",),
        ("contacts", "contacts"),
        ("tags",),
        ("tags", "tags"),
        ("source",),
        ("source", "author"),
        ("source", "author", "email"),
        ("source", "author", "type"),
        ("source", "url"),
        ("statistics",),
        ("statistics", "time_to_admin_reply"),
        ("statistics", "first_admin_reply_at"),
        ("statistics", "last_close_at"),
        ("conversation_rating",),
        ("conversation_rating", "rating"),
        ("conversation_rating", "created_at"),
        ("admin_assignee_id",),
    ],
    "connect": [
        ("ContactId",),
        ("InitialContactId",),
        ("NextContactId",),
        ("Channel",),
        ("InitiationMethod",),
        ("InitiationTimestamp",),
        ("DisconnectTimestamp",),
        ("LastUpdateTimestamp",),
        ("CustomerEndpoint",),
        ("CustomerEndpoint", "Address"),
        ("Queue",),
        ("Queue", "Name"),
        ("Queue", "EnqueueTimestamp"),
        ("Queue", "DequeueTimestamp"),
        ("Queue", "Duration"),
        ("Agent",),
        ("Agent", "ConnectedToAgentTimestamp"),
        ("Agent", "AgentInteractionDuration"),
        ("Agent", "CustomerHoldDuration"),
        ("DisconnectReason",),
        ("Attributes",),
        ("Attributes", "customer_id"),
        ("Attributes", "email"),
        ("Attributes", "order_value"),
        ("Attributes", "outcome"),
        ("Attributes", "contact_reason"),
    ],
}
GA4_PARAMS = st.lists(
    st.fixed_dictionaries(
        {
            "key": st.sampled_from(
                ["ga_session_id", "ga_session_number", "page_location", "page_title", "firebase_screen"]
            )
            | st.text(max_size=5),
            "value": json_values
            | st.fixed_dictionaries({"string_value": json_values, "int_value": json_values}),
        }
    ),
    max_size=3,
)
JSON_SPECS = ["ga4_jsonl", "intercom_jsonl", "connect_jsonl"]
CSV_SPECS = ["events_csv", "chat_csv", "calls_csv", "crm_csv"]


@st.composite
def mutated_json_record(draw: st.DrawFn, spec: Spec, i: int) -> dict[str, Any] | str:
    """A valid record with a few fields set to random JSON (or removed), or a random line."""
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return draw(line_text)
    if choice == 1:
        return json.dumps(draw(scalars | st.dictionaries(st.text(max_size=6), json_values, max_size=4)))
    record = spec.good(i)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(JSON_FIELDS[spec.kind]))
        if spec.kind == "ga4" and path == ("event_params",) and draw(st.booleans()):
            value: Any = draw(GA4_PARAMS)
        else:
            value = draw(json_values)
        record = set_path(record, path, value)
    return record


# --- the properties ------------------------------------------------------------------------


@settings(FUZZ, max_examples=examples(50))
@given(data=st.data(), adapter=st.sampled_from(JSON_SPECS))
def test_random_json_values_in_fields(data: st.DataObject, adapter: str) -> None:
    spec = SPECS[adapter]
    records = [data.draw(mutated_json_record(spec, i)) for i in range(1, data.draw(st.integers(1, 5)) + 1)]
    for record in records:
        assume(not isinstance(record, str) or not re.search(r"\}\s*\{", record))
    con, _path, report = load_one(spec, render(spec, records))
    assert isinstance(report, LoadReport), report
    read, *_ = assert_reconciles(con, spec, report)
    assert read == len(records)
    assert all(reason for reason in reasons(con).values())


@st.composite
def csv_file(draw: st.DrawFn, spec: Spec) -> tuple[bytes, int]:
    rows = []
    for i in range(1, draw(st.integers(1, 5)) + 1):
        row = {c: ("" if v is None else str(v)) for c, v in spec.good(i).items()}
        for column in draw(st.lists(st.sampled_from(spec.columns), max_size=3)):
            row[column] = draw(cell_text)
        rows.append(row)
    # header names without line breaks: DuckDB's sniffer fails on those (a clean failure,
    # pinned by the corpus case line_break_in_header_name)
    names = cell_text.filter(lambda t: t.strip() != "" and "\n" not in t and "\r" not in t)
    extra = draw(st.lists(names, max_size=2, unique=True))
    columns = [*spec.columns, *(c for c in extra if c not in spec.columns)]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    lines = [csv_record(columns)] + [csv_record([row.get(c, "x") for c in columns]) for row in rows]
    return (newline.join(lines) + newline).encode("utf-8"), len(rows)


@settings(FUZZ, max_examples=examples(40))
@given(data=st.data(), adapter=st.sampled_from(CSV_SPECS))
def test_random_text_in_csv_cells(data: st.DataObject, adapter: str) -> None:
    """Properly quoted CSV with random cell text: every row is one record."""
    spec = SPECS[adapter]
    content, records = data.draw(csv_file(spec))
    con, _path, report = load_one(spec, content)
    assert isinstance(report, LoadReport), report
    read, *_ = assert_reconciles(con, spec, report)
    assert read == records


@settings(FUZZ, max_examples=examples(25))
@given(data=st.data(), adapter=st.sampled_from(CSV_SPECS))
def test_raw_broken_csv_lines(data: st.DataObject, adapter: str) -> None:
    """Unescaped random text spliced into a CSV: loads and reconciles, or fails cleanly."""
    spec = SPECS[adapter]
    lines = render(spec, [spec.good(i) for i in (1, 2, 3)]).decode().splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(1, len(lines)))
        lines.insert(at, data.draw(cell_text))
    con, path, report = load_one(spec, ("\n".join(lines) + "\n").encode())
    if isinstance(report, LoadError):
        assert_fails_cleanly(con, path, report)
    else:
        assert_reconciles(con, spec, report)


MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Foo"]
ZONES = [
    "",
    "Z",
    "z",
    "+00:00",
    "-05:30",
    "+0530",
    "+25:00",
    " UTC",
    " GMT",
    " America/New_York",
    " Mars/Base",
    " EST",
]
timestamp_text = st.one_of(
    cell_text,
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats().map(str),
    st.builds(
        lambda y, mo, d, h, mi, s, frac, sep, zone: (
            f"{y:04d}-{mo:02d}-{d:02d}{sep}{h:02d}:{mi:02d}:{s:02d}{frac}{zone}"
        ),
        st.integers(0, 99999),
        st.integers(0, 13),
        st.integers(0, 32),
        st.integers(0, 25),
        st.integers(0, 61),
        st.integers(0, 61),
        st.sampled_from(["", ".5", ".123456789", ",5"]),
        st.sampled_from(["T", " ", "t", "_"]),
        st.sampled_from(ZONES),
    ),
    st.builds(
        lambda wd, d, mon, y, zone: f"{wd}, {d:02d} {mon} {y} 10:00:00 {zone}",
        st.sampled_from(["Mon", "Tue", "Xyz"]),
        st.integers(0, 40),
        st.sampled_from(MONTHS),
        st.integers(1, 3000),
        st.sampled_from(["+0000", "-0500", "GMT", "UTC", "XYZ"]),
    ),
    st.sampled_from(
        ["epoch", "infinity", "-infinity", "now", "today", "allballs", "NaN", "", " ", "0", "1e9"]
    ),
)
TS_SPECS = ["ga4_jsonl", "events_csv", "intercom_jsonl", "chat_csv", "connect_jsonl", "calls_csv"]


@settings(FUZZ, max_examples=examples(40))
@given(data=st.data(), adapter=st.sampled_from(TS_SPECS))
def test_random_timestamp_strings(data: st.DataObject, adapter: str) -> None:
    """A record with any timestamp text loads inside 1970..2100 or is rejected for its time."""
    spec = SPECS[adapter]
    values = data.draw(st.lists(timestamp_text, min_size=1, max_size=4))
    records = [set_path(spec.good(i), spec.ts, value) for i, value in enumerate(values, start=1)]
    con, _path, report = load_one(spec, render(spec, records))
    assert isinstance(report, LoadReport), report
    _read, loaded, duplicate, rejected = assert_reconciles(con, spec, report)
    assert (duplicate, loaded + rejected) == (0, len(records))
    name = re.escape(spec.ts_reason)
    for row, reason in reasons(con).items():
        assert re.fullmatch(
            rf"missing {name}|unparseable {name}: .*|{name} out of range: .*", reason, re.S
        ), (
            values[row - 1],
            reason,
        )


NUMBER_SPECS = ["ga4_jsonl", "events_csv", "intercom_jsonl", "chat_csv", "connect_jsonl", "calls_csv"]
number_text = st.one_of(
    cell_text,
    st.floats().map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(
        [
            "NaN",
            "inf",
            "-inf",
            "Infinity",
            "1e999",
            "-1e999",
            "1e-400",
            "1_000",
            "0x10",
            " 7 ",
            "+5",
            "١٢",
            "1,5",
        ]
    ),
)


@settings(FUZZ, max_examples=examples(35))
@given(data=st.data(), adapter=st.sampled_from(NUMBER_SPECS))
def test_random_number_strings(data: st.DataObject, adapter: str) -> None:
    """A number field with any text: a finite number loads, anything else names the field."""
    spec = SPECS[adapter]
    json_numbers = (
        st.floats(allow_nan=False) | st.integers(min_value=-(10**400), max_value=10**400) | st.booleans()
    )
    pick = number_text | json_numbers if spec.fmt == "jsonl" else number_text
    values = data.draw(st.lists(pick, min_size=1, max_size=4))
    if spec.kind == "ga4":
        records = [
            set_path({**spec.good(i), "event_name": "purchase"}, spec.number, v)
            for i, v in enumerate(values, 1)
        ]
    else:
        records = [set_path(spec.good(i), spec.number, v) for i, v in enumerate(values, start=1)]
    con, _path, report = load_one(spec, render(spec, records))
    assert isinstance(report, LoadReport), report
    _read, loaded, duplicate, rejected = assert_reconciles(con, spec, report)
    assert (duplicate, loaded + rejected) == (0, len(records))
    field = re.escape(spec.number_reason.split(" is not")[0])
    for row, reason in reasons(con).items():
        assert re.fullmatch(rf"{field} (is not a number|out of range): .*", reason, re.S), (
            values[row - 1],
            reason,
        )


def corrupt(data: bytes, draw: st.DrawFn) -> bytes:
    how = draw(st.sampled_from(["truncate", "flip", "insert", "replace"]))
    if how == "replace":
        return draw(st.binary(max_size=300))
    at = draw(st.integers(0, len(data)))
    if how == "truncate":
        return data[:at]
    if how == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=20)) + data[at:]
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        if out:
            out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
    return bytes(out)


@settings(FUZZ, max_examples=examples(50))
@given(data=st.data(), adapter=st.sampled_from(sorted(SPECS)), compressed=st.booleans())
def test_corrupted_files(data: st.DataObject, adapter: str, compressed: bool) -> None:
    """Truncated, bit-flipped, spliced or random files: load and reconcile, or fail cleanly."""
    spec = SPECS[adapter]
    content = render(spec, [spec.good(i) for i in (1, 2, 3)])
    gz = compressed and spec.fmt != "parquet"
    if gz and data.draw(st.booleans()):
        content = corrupt(gzip.compress(content), data.draw)  # damaged compressed stream
    else:
        content = corrupt(content, data.draw)
        content = gzip.compress(content) if gz else content
    con, path, report = load_one(spec, content, spec.suffix + (".gz" if gz else ""))
    if isinstance(report, LoadError):
        assert_fails_cleanly(con, path, report)
    else:
        assert_reconciles(con, spec, report)


@pytest.mark.parametrize("adapter", JSON_SPECS)
def test_line_longer_than_the_reader_block_fails_cleanly(
    adapter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record beyond the reader's limit fails the file with a clear message, not a crash."""
    from journey_mining.ingest import readers

    monkeypatch.setattr(readers, "LINE_BLOCK_BYTES", 1 << 16)
    spec = SPECS[adapter]
    big = set_path(spec.good(2), ("note",), "x" * (1 << 17))
    con, path, report = load_one(spec, render(spec, [spec.good(1), big]), example=False)
    if isinstance(report, LoadError):
        assert_fails_cleanly(con, path, report)
        assert "longer than" in str(report)
    else:
        assert_reconciles(con, spec, report)


@pytest.mark.parametrize("adapter", ["events_csv", "chat_csv", "calls_csv", "crm_csv"])
def test_csv_row_longer_than_the_line_limit_fails_cleanly(
    adapter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from journey_mining.ingest import readers

    monkeypatch.setattr(readers, "MAX_CSV_LINE_BYTES", 1 << 20)
    spec = SPECS[adapter]
    field: Sequence[str] = spec.text or ("user_id",)
    big = set_path(spec.good(2), field, "x" * (2 << 20))
    con, path, report = load_one(spec, render(spec, [spec.good(1), big]), example=False)
    assert isinstance(report, LoadError), report
    assert_fails_cleanly(con, path, report)
    assert "Maximum line size" in str(report)

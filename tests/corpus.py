"""A corpus of broken exports for every source adapter, generated in the test run.

Each corpus file is one (adapter, case) pair: the bytes of a damaged export plus what the
loader must do with it. There are two acceptable outcomes (``docs/adapters.md``):

- ``Loads``: the file loads; every unusable record lands in ``rejected_rows`` with the
  given reason and ``rows read = loaded + duplicate + rejected``, where rows read is the
  number of records the generator wrote (counted here, not by the loader).
- ``Fails``: the file fails before anything is written, with one line naming the file and
  the problem.

``write_corpus(folder)`` writes the whole corpus (one sub-folder per adapter) for manual
runs; the tests build one file at a time. ``REGISTRY`` counts what the test session
exercised; ``tests/conftest.py`` prints it at the end of the run.
"""

from __future__ import annotations

import gzip
import io
import json
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from journey_mining.privacy import hmac_hex
from tests.conftest import TEST_HASH_KEY

# --- what the session exercised, printed by tests/conftest.py ------------------------------

REGISTRY: dict[str, int] = {"corpus files": 0, "fuzz examples": 0, "fault points": 0}
"""Counters that bad-input tests increment (other suites may add their own keys' counts)."""


def count(kind: str, n: int = 1) -> None:
    REGISTRY[kind] = REGISTRY.get(kind, 0) + n


def summary_line() -> str:
    return (
        f"bad-input corpus: {REGISTRY.get('corpus files', 0)} files; "
        f"fuzz examples: {REGISTRY.get('fuzz examples', 0)}; "
        f"fault points: {REGISTRY.get('fault points', 0)}"
    )


# --- expected outcomes ---------------------------------------------------------------------


@dataclass(frozen=True)
class Loads:
    """The file loads; ``rejects`` maps source_row -> the exact reason."""

    rejects: Mapping[int, str] = field(default_factory=dict)
    duplicate: int = 0
    # optional: a query over this file's loaded rows (``{file}`` = its file_id) and its result
    check: tuple[str, list[tuple[Any, ...]]] | None = None


@dataclass(frozen=True)
class Fails:
    """The file fails as a whole; ``problem`` is a regex the one-line message must match."""

    problem: str


@dataclass(frozen=True)
class CorpusFile:
    adapter: str
    case: str
    name: str  # file name (the suffix tells the loader the format)
    data: bytes
    records: int  # records written, as the loader should count them
    expect: Loads | Fails

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / self.name
        path.write_bytes(self.data)
        return path


# --- timestamps ----------------------------------------------------------------------------

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
FAR_FUTURE = "2300-01-01T00:00:00Z"
BEFORE_1970 = "1969-07-20T20:17:00Z"
FORMULA = "=cmd|' /C calc'!A0"
FORMULAS = (
    FORMULA,
    "+SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    '=HYPERLINK("http://x","y")',
)
HUGE = 10 * 1024 * 1024  # a 10 MB field


def iso(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def unix(minutes: float) -> int:
    return int((T0 + timedelta(minutes=minutes)).timestamp())


def micros(minutes: float) -> str:
    return str(int((T0 + timedelta(minutes=minutes)).timestamp()) * 1_000_000)


# --- the adapters: a valid record each, and how its fields are named -----------------------

Record = dict[str, Any]


@dataclass(frozen=True)
class Spec:
    """One adapter in one format, and the fields the generic cases damage."""

    key: str  # e.g. "connect_jsonl"
    kind: str
    fmt: str  # jsonl, csv or parquet
    good: Callable[[int], Record]
    source: Mapping[str, Any] = field(default_factory=dict)  # extra source config
    columns: tuple[str, ...] = ()  # CSV/Parquet column order
    ts: tuple[str, ...] = ()  # path of the main timestamp field
    ts_reason: str = "timestamp"  # the name jm_ts_problem's reason uses for it
    number: tuple[str, ...] = ()  # path of a numeric field
    number_reason: str = ""  # "<name> is not a number: "
    record_id: tuple[str, ...] = ()  # path of the native record id
    id_reason: str = ""  # reason when it is missing
    identifiers: tuple[tuple[str, ...], ...] = ()  # customer identifier paths (all cleared)
    no_identifier: str = "no customer identifier"
    text: tuple[str, ...] = ()  # a free-text field that is stored verbatim somewhere
    text_sql: str = ""  # how to read that text back from this file's rows

    @property
    def suffix(self) -> str:
        return {"jsonl": ".jsonl", "csv": ".csv", "parquet": ".parquet"}[self.fmt]

    @property
    def tabular(self) -> bool:
        return self.fmt in ("csv", "parquet")

    @property
    def table(self) -> str:
        return "identities" if self.kind == "crm" else "touchpoints"


def ga4_event(i: int) -> Record:
    return {
        "event_date": "20261102",
        "event_timestamp": micros(i),
        "event_name": "page_view",
        "event_params": [
            {"key": "ga_session_id", "value": {"int_value": str(1_000_000 + i)}},
            {"key": "page_location", "value": {"string_value": f"https://shop.example.com/product/{i}"}},
            {"key": "page_title", "value": {"string_value": f"Product {i}"}},
        ],
        "user_pseudo_id": f"{i}.1921992520",
        "platform": "WEB",
        "device": {"category": "desktop"},
        "geo": {"country": "Germany"},
    }


def ga4_purchase(i: int, revenue: Any) -> Record:
    return {**ga4_event(i), "event_name": "purchase", "ecommerce": {"purchase_revenue": revenue}}


def intercom_conversation(i: int) -> Record:
    return {
        "type": "conversation",
        "id": str(1000 + i),
        "created_at": unix(i),
        "updated_at": unix(i + 30),
        "state": "closed",
        "source": {
            "type": "conversation",
            "url": f"https://shop.example.com/help/{i}",
            "author": {"type": "lead"},
        },
        "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": f"contact-{i}"}]},
        "tags": {"type": "tag.list", "tags": [{"type": "tag", "name": "Delivery"}]},
        "statistics": {
            "time_to_admin_reply": 60,
            "first_admin_reply_at": unix(i + 1),
            "last_close_at": unix(i + 20),
        },
        "conversation_rating": {"rating": 4, "created_at": unix(i + 25)},
    }


def connect_contact(i: int) -> Record:
    return {
        "AWSContactTraceRecordFormatVersion": "2017-03-10",
        "ContactId": f"contact-{i:04d}",
        "Channel": "VOICE",
        "InitiationMethod": "INBOUND",
        "InitiationTimestamp": iso(i),
        "DisconnectTimestamp": iso(i + 6),
        "LastUpdateTimestamp": iso(i + 7),
        "CustomerEndpoint": {"Address": f"+1555010{i % 10000:04d}", "Type": "TELEPHONE_NUMBER"},
        "Queue": {
            "Name": "Orders",
            "EnqueueTimestamp": iso(i + 0.5),
            "DequeueTimestamp": iso(i + 2),
            "Duration": 90,
        },
        "Agent": {
            "Username": "agent.one",
            "ConnectedToAgentTimestamp": iso(i + 2),
            "AgentInteractionDuration": 240,
        },
        "Attributes": {"customer_id": f"u{i}", "contact_reason": "Delivery Status"},
    }


def event_row(i: int) -> Record:
    return {
        "id": f"e{i}",
        "visitor": f"v{i}",
        "time": iso(i),
        "event": "page_view",
        "page": f"/product/{i}",
        "wait": "1.5",
    }


def chat_row(i: int) -> Record:
    return {
        "conversation_id": f"k{i}",
        "created_at": iso(i),
        "anonymous_id": f"a{i}",
        "email": "",
        "first_reply_seconds": "30",
        "closed_at": iso(i + 10),
        "state": "closed",
        "rating": "4",
        "agent": "Agent One",
        "topic": "Delivery",
    }


def call_row(i: int) -> Record:
    return {
        "call_id": f"call-{i}",
        "start_time": iso(i),
        "phone": f"+1555020{i % 10000:04d}",
        "queue_seconds": "30",
        "talk_seconds": "120",
        "end_time": iso(i + 3),
        "outcome": "resolved",
        "agent": "agent.one",
        "direction": "inbound",
    }


def crm_row(i: int) -> Record:
    return {"user_id": f"u{i}", "email": f"user{i}@example.com", "phone": f"+1555030{i % 10000:04d}"}


EVENT_COLUMNS = ("id", "visitor", "time", "event", "page", "wait")
EVENTS_SOURCE = {
    "columns": {
        "event_id": "id",
        "anonymous_id": "visitor",
        "ts": "time",
        "event_name": "event",
        "wait_seconds": "wait",
    }
}

SPECS: dict[str, Spec] = {
    spec.key: spec
    for spec in (
        Spec(
            "ga4_jsonl",
            "ga4",
            "jsonl",
            ga4_event,
            ts=("event_timestamp",),
            number=("ecommerce", "purchase_revenue"),
            number_reason="ecommerce.purchase_revenue is not a number: ",
            identifiers=(("user_pseudo_id",),),
        ),
        Spec(
            "ga4_parquet",
            "ga4",
            "parquet",
            ga4_event,
            ts=("event_timestamp",),
            identifiers=(("user_pseudo_id",),),
        ),
        Spec(
            "events_csv",
            "events",
            "csv",
            event_row,
            source=EVENTS_SOURCE,
            columns=EVENT_COLUMNS,
            ts=("time",),
            number=("wait",),
            number_reason="wait_seconds is not a number: ",
            identifiers=(("visitor",),),
            text=("event",),
            text_sql="select event_name from touchpoints where file_id = {file} order by source_row",
        ),
        Spec(
            "events_parquet",
            "events",
            "parquet",
            event_row,
            source=EVENTS_SOURCE,
            columns=EVENT_COLUMNS,
            ts=("time",),
            number=("wait",),
            number_reason="wait_seconds is not a number: ",
            identifiers=(("visitor",),),
            text=("event",),
            text_sql="select event_name from touchpoints where file_id = {file} order by source_row",
        ),
        Spec(
            "intercom_jsonl",
            "intercom",
            "jsonl",
            intercom_conversation,
            ts=("created_at",),
            ts_reason="created_at",
            number=("statistics", "time_to_admin_reply"),
            number_reason="time_to_admin_reply is not a number: ",
            record_id=("id",),
            id_reason="missing conversation id",
            identifiers=(("contacts",),),
        ),
        Spec(
            "chat_csv",
            "chat_csv",
            "csv",
            chat_row,
            columns=tuple(chat_row(0)),
            ts=("created_at",),
            ts_reason="created_at",
            number=("rating",),
            number_reason="rating is not a number: ",
            record_id=("conversation_id",),
            id_reason="missing conversation id",
            identifiers=(("anonymous_id",), ("email",)),
            text=("agent",),
            text_sql="select json_extract_string(attributes, '$.agent') from touchpoints"
            " where file_id = {file} and touchpoint = 'chat:started' order by source_row",
        ),
        Spec(
            "connect_jsonl",
            "connect",
            "jsonl",
            connect_contact,
            ts=("InitiationTimestamp",),
            ts_reason="InitiationTimestamp",
            number=("Queue", "Duration"),
            number_reason="Queue.Duration is not a number: ",
            record_id=("ContactId",),
            id_reason="missing ContactId",
            identifiers=(("CustomerEndpoint",), ("Attributes",)),
        ),
        Spec(
            "calls_csv",
            "calls_csv",
            "csv",
            call_row,
            columns=tuple(call_row(0)),
            ts=("start_time",),
            ts_reason="start_time",
            number=("talk_seconds",),
            number_reason="talk_seconds is not a number: ",
            record_id=("call_id",),
            id_reason="missing call_id",
            identifiers=(("phone",),),
            text=("agent",),
            text_sql="select json_extract_string(attributes, '$.agent') from touchpoints"
            " where file_id = {file} and touchpoint = 'call:queued' order by source_row",
        ),
        Spec(
            "crm_csv",
            "crm",
            "csv",
            crm_row,
            columns=("user_id", "email", "phone"),
            identifiers=(("user_id",), ("email",), ("phone",)),
            no_identifier="fewer than two identifiers: nothing to link",
        ),
    )
}


def source_config(spec: Spec, name: str, path: str) -> dict[str, Any]:
    return {"name": name, "kind": spec.kind, "path": path, **spec.source}


# --- rendering records as file bytes -------------------------------------------------------


def set_path(record: Record, path: Sequence[str], value: Any) -> Record:
    """A copy of ``record`` with the (nested) field at ``path`` set; ``DELETE`` removes it."""
    out = json.loads(json.dumps(record))
    target = out
    for key in path[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    if value is DELETE:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return out


DELETE = object()


def ndjson(records: Iterable[Record | str]) -> bytes:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    return ("\n".join(lines) + "\n").encode("utf-8")


def csv_record(fields: Sequence[str], delimiter: str = ",") -> str:
    """One RFC 4180 record (Python's csv module leaves a lone CR unquoted under LF endings)."""
    special = re.compile(f'["\r\n{re.escape(delimiter)}]')
    return delimiter.join('"' + f.replace('"', '""') + '"' if special.search(f) else f for f in fields)


def csv_text(
    columns: Sequence[str], rows: Iterable[Record | str], delimiter: str = ",", newline: str = "\n"
) -> str:
    lines = [csv_record(columns, delimiter)]
    for row in rows:
        if isinstance(row, str):
            lines.append(row)
        else:
            lines.append(
                csv_record(["" if row.get(c) is None else str(row.get(c)) for c in columns], delimiter)
            )
    return "".join(line + newline for line in lines)


GA4_SCHEMA = pa.schema(
    [
        ("event_date", pa.string()),
        ("event_timestamp", pa.int64()),
        ("event_name", pa.string()),
        (
            "event_params",
            pa.list_(
                pa.struct(
                    [
                        ("key", pa.string()),
                        ("value", pa.struct([("string_value", pa.string()), ("int_value", pa.int64())])),
                    ]
                )
            ),
        ),
        ("user_pseudo_id", pa.string()),
        ("platform", pa.string()),
        ("device", pa.struct([("category", pa.string())])),
        ("geo", pa.struct([("country", pa.string())])),
    ]
)


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def ga4_parquet(records: Sequence[Record]) -> bytes:
    rows = []
    for r in records:
        row = {k: r.get(k) for k in GA4_SCHEMA.names}
        row["event_timestamp"] = None if r.get("event_timestamp") is None else int(r["event_timestamp"])
        row["event_params"] = [
            {
                "key": p["key"],
                "value": {
                    "string_value": p["value"].get("string_value"),
                    "int_value": None
                    if p["value"].get("int_value") is None
                    else int(p["value"]["int_value"]),
                },
            }
            for p in r.get("event_params") or []
        ]
        rows.append(row)
    return parquet_bytes(pa.Table.from_pylist(rows, schema=GA4_SCHEMA))


def render(spec: Spec, records: Sequence[Record | str], columns: Sequence[str] | None = None) -> bytes:
    """Records as the adapter's native file; strings are written verbatim as lines (text formats)."""
    if spec.fmt == "jsonl":
        return ndjson(records)
    if spec.fmt == "csv":
        return csv_text(columns or spec.columns, records).encode("utf-8")
    if spec.kind == "ga4":
        return ga4_parquet([r for r in records if isinstance(r, dict)])
    names = list(columns or spec.columns)
    table = pa.table(
        {c: pa.array([None if r.get(c) is None else str(r[c]) for r in records], pa.string()) for c in names}
    )  # type: ignore[union-attr]
    return parquet_bytes(table)


# --- the cases -----------------------------------------------------------------------------

Builder = Callable[[Spec], CorpusFile]


@dataclass(frozen=True)
class Case:
    name: str
    build: Builder
    applies: Callable[[Spec], bool] = lambda spec: True


CASES: list[Case] = []


def case(applies: Callable[[Spec], bool] = lambda spec: True) -> Callable[[Builder], Builder]:
    def register(build: Builder) -> Builder:
        CASES.append(Case(build.__name__, build, applies))
        return build

    return register


def text_formats(spec: Spec) -> bool:
    return spec.fmt in ("jsonl", "csv")


def json_lines(spec: Spec) -> bool:
    return spec.fmt == "jsonl"


def csv_only(spec: Spec) -> bool:
    return spec.fmt == "csv"


def parquet_only(spec: Spec) -> bool:
    return spec.fmt == "parquet"


def good_rows(spec: Spec, n: int, start: int = 1) -> list[Record]:
    return [spec.good(i) for i in range(start, start + n)]


def corpus_file(
    spec: Spec, name: str, data: bytes, records: int, expect: Loads | Fails, suffix: str = ""
) -> CorpusFile:
    return CorpusFile(spec.key, name, f"{name}{suffix or spec.suffix}", data, records, expect)


def malformed_csv(expected: int, found: int) -> str:
    return f"malformed CSV row: Expected Number of Columns: {expected} Found: {found}"


@case()
def truncated(spec: Spec) -> CorpusFile:
    """The export stops mid-record (a copy interrupted, a disk filled up)."""
    data = render(spec, good_rows(spec, 4))
    if spec.fmt == "parquet":
        return corpus_file(spec, "truncated", data[: len(data) // 2], 0, Fails("not a readable Parquet file"))
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    if spec.fmt == "jsonl":
        cut = data[: last_start + (len(data) - last_start) // 2]
        return corpus_file(spec, "truncated", cut, 4, Loads({4: "malformed JSON"}))
    # a CSV cut inside the second field of the last row: that row has two fields
    second = data.index(b",", last_start) + 1
    cut = data[: second + 1]
    return corpus_file(spec, "truncated", cut, 4, Loads({4: malformed_csv(len(spec.columns), 2)}))


@case(text_formats)
def record_cut_in_half(spec: Spec) -> CorpusFile:
    """One record in the middle lost its second half (the next record follows on the next line)."""
    rows: list[Record | str] = list(good_rows(spec, 5))
    if spec.fmt == "jsonl":
        line = json.dumps(rows[2])
        rows[2] = line[: len(line) // 2]
        return corpus_file(spec, "record_cut_in_half", render(spec, rows), 5, Loads({3: "malformed JSON"}))
    line = csv_text(spec.columns, [rows[2]]).splitlines()[1]
    rows[2] = ",".join(line.split(",")[:2])
    return corpus_file(
        spec, "record_cut_in_half", render(spec, rows), 5, Loads({3: malformed_csv(len(spec.columns), 2)})
    )


@case(text_formats)
def utf16_with_bom(spec: Spec) -> CorpusFile:
    """Excel's 'Unicode text' and PowerShell write UTF-16 with a byte-order mark."""
    text = render(spec, good_rows(spec, 3)).decode("utf-8")
    return corpus_file(spec, "utf16_with_bom", text.encode("utf-16"), 3, Loads())


@case(text_formats)
def utf16_without_bom(spec: Spec) -> CorpusFile:
    text = render(spec, good_rows(spec, 3)).decode("utf-8")
    return corpus_file(
        spec, "utf16_without_bom", text.encode("utf-16-le"), 0, Fails(r"not a text file.*UTF-16")
    )


def with_text(spec: Spec, record: Record, text: str) -> Record:
    """``record`` with ``text`` in a free-text field (stored verbatim where the adapter keeps one)."""
    if spec.text:
        return set_path(record, spec.text, text)
    if spec.kind == "ga4":
        return set_path(record, ("geo", "country"), text)
    if spec.kind == "intercom":
        return set_path(record, ("tags", "tags"), [{"type": "tag", "name": text}])
    if spec.kind == "connect":
        return set_path(record, ("Queue", "Name"), text)
    return set_path(record, ("user_id",), text)  # CRM: stored as its keyed hash


@case(text_formats)
def latin1_undeclared(spec: Spec) -> CorpusFile:
    """Latin-1 bytes in a file that does not say so: read as Latin-1 (cp1252), not rejected."""
    text = render(spec, [with_text(spec, spec.good(i), "Café crème") for i in (1, 2, 3)]).decode("utf-8")
    check = None
    if spec.text_sql:
        check = (spec.text_sql, [("Café crème",)] * 3)
    return corpus_file(spec, "latin1_undeclared", text.encode("latin-1"), 3, Loads(check=check))


@case(text_formats)
def invalid_utf8_bytes(spec: Spec) -> CorpusFile:
    """Mostly UTF-8, with byte sequences that are not UTF-8: the file is read as cp1252/Latin-1."""
    rows = [spec.good(1), with_text(spec, spec.good(2), "INVALID"), with_text(spec, spec.good(3), "Café")]
    data = render(spec, rows).replace(b"INVALID", b"bad \xff\xfe \xc3\x28 bytes")
    return corpus_file(spec, "invalid_utf8_bytes", data, 3, Loads())


@case()
def empty_file(spec: Spec) -> CorpusFile:
    """0 bytes: a quiet day's export for text formats; never a Parquet file."""
    if spec.fmt == "parquet":
        return corpus_file(spec, "empty_file", b"", 0, Fails("not a readable Parquet file"))
    return corpus_file(spec, "empty_file", b"", 0, Loads())


@case()
def no_records(spec: Spec) -> CorpusFile:
    """A header-only CSV, a JSONL file of blank lines, a Parquet file with zero rows."""
    if spec.fmt == "jsonl":
        return corpus_file(spec, "no_records", b"\n  \n\r\n\n", 0, Loads())
    if spec.fmt == "csv":
        return corpus_file(spec, "no_records", (",".join(spec.columns) + "\n").encode(), 0, Loads())
    if spec.kind == "ga4":
        return corpus_file(spec, "no_records", parquet_bytes(GA4_SCHEMA.empty_table()), 0, Loads())
    table = pa.table({c: pa.array([], pa.string()) for c in spec.columns})
    return corpus_file(spec, "no_records", parquet_bytes(table), 0, Loads())


@case()
def extra_columns(spec: Spec) -> CorpusFile:
    """A new export version adds columns / fields the adapter does not know: ignored."""
    rows = [{**spec.good(i), "new_field": f"n{i}", "another": None} for i in (1, 2, 3)]
    if spec.kind == "ga4" and spec.fmt == "parquet":
        table = pq.read_table(io.BytesIO(ga4_parquet(good_rows(spec, 3))))
        table = table.append_column("new_field", pa.array(["a", "b", None])).append_column(
            "nested_extra", pa.array([{"x": 1}, None, {"x": 3}])
        )
        return corpus_file(spec, "extra_columns", parquet_bytes(table), 3, Loads())
    columns = (*spec.columns, "new_field", "another") if spec.tabular else None
    return corpus_file(spec, "extra_columns", render(spec, rows, columns), 3, Loads())


@case(lambda spec: spec.kind != "crm")
def missing_column(spec: Spec) -> CorpusFile:
    """The main timestamp column / field is not there."""
    if spec.tabular and spec.kind != "ga4":
        columns = tuple(c for c in spec.columns if c != spec.ts[0])
        field_name = {"events": "ts"}.get(spec.kind, spec.ts[0])
        return corpus_file(
            spec,
            "missing_column",
            render(spec, good_rows(spec, 3), columns),
            0,
            Fails(rf"required column '{spec.ts[0]}' \(for {field_name}\) is missing"),
        )
    rows = [set_path(r, spec.ts, DELETE) for r in good_rows(spec, 3)]
    if spec.fmt == "parquet":
        data = parquet_bytes(
            pq.read_table(io.BytesIO(ga4_parquet(good_rows(spec, 3)))).drop_columns(["event_timestamp"])
        )
    else:
        data = render(spec, rows)
    reason = f"missing {spec.ts_reason}"
    return corpus_file(spec, "missing_column", data, 3, Loads(dict.fromkeys((1, 2, 3), reason)))


RENAMED_JSON = {
    "ga4": ("event_timestamp", "eventTimestamp"),
    "intercom": ("id", "conversation_id"),
    "connect": ("ContactId", "contactId"),
}


@case()
def renamed_columns(spec: Spec) -> CorpusFile:
    """A new export version renames the columns the mapping names."""
    if spec.kind in RENAMED_JSON:
        old, new = RENAMED_JSON[spec.kind]
        rows = [{(new if k == old else k): v for k, v in r.items()} for r in good_rows(spec, 3)]
        if spec.fmt == "parquet":
            table = pq.read_table(io.BytesIO(ga4_parquet(good_rows(spec, 3))))
            data = parquet_bytes(table.rename_columns([new if c == old else c for c in table.column_names]))
        else:
            data = render(spec, rows)
        reason = {"ga4": "missing timestamp", "intercom": spec.id_reason, "connect": spec.id_reason}[
            spec.kind
        ]
        return corpus_file(spec, "renamed_columns", data, 3, Loads(dict.fromkeys((1, 2, 3), reason)))
    if spec.kind == "crm":
        renamed = {"user_id": "customer_id", "email": "e_mail", "phone": "mobile"}
        problem = "no customer identifier column; expected one of: user_id, email, phone"
    else:
        renamed = {spec.ts[0]: spec.ts[0] + "_utc"}
        field_name = {"events": "ts"}.get(spec.kind, spec.ts[0])
        problem = rf"required column '{spec.ts[0]}' \(for {field_name}\) is missing"
    rows = [{renamed.get(k, k): v for k, v in r.items()} for r in good_rows(spec, 3)]
    columns = tuple(renamed.get(c, c) for c in spec.columns)
    return corpus_file(spec, "renamed_columns", render(spec, rows, columns), 0, Fails(problem))


@case(lambda spec: spec.tabular and spec.kind not in ("crm", "ga4"))
def renamed_identifier_column(spec: Spec) -> CorpusFile:
    """The only customer identifier column got a new name: nothing could be linked."""
    renamed = {path[0]: path[0] + "_v2" for path in spec.identifiers}
    rows = [{renamed.get(k, k): v for k, v in r.items()} for r in good_rows(spec, 3)]
    columns = tuple(renamed.get(c, c) for c in spec.columns)
    return corpus_file(
        spec,
        "renamed_identifier_column",
        render(spec, rows, columns),
        0,
        Fails("no customer identifier column"),
    )


def without_identifiers(spec: Spec, record: Record, value: Any) -> Record:
    for path in spec.identifiers:
        record = set_path(record, path, value)
    if spec.kind == "crm":  # one identifier is not a link
        record = set_path(record, ("user_id",), "u-only")
    return record


@case()
def null_and_empty_identifiers(spec: Spec) -> CorpusFile:
    """Identifiers null, empty or blank; the native record id null or empty."""
    blank_values: list[Any] = [None, "", "   "]
    if spec.fmt == "jsonl":
        blank_values.append(DELETE)
    rows = [spec.good(1)]
    rejects: dict[int, str] = {}
    for n, value in enumerate(blank_values, start=len(rows) + 1):
        rows.append(without_identifiers(spec, spec.good(n), value))
        rejects[n] = spec.no_identifier
    if spec.record_id:
        for value in [None, "", "  "]:
            n = len(rows) + 1
            rows.append(set_path(spec.good(n), spec.record_id, value))
            rejects[n] = spec.id_reason
    if spec.kind == "connect":  # identifiers only inside contact attributes: still linkable
        n = len(rows) + 1
        rows.append(
            set_path(
                set_path(spec.good(n), ("CustomerEndpoint",), None),
                ("Attributes",),
                {"email": "x@example.com"},
            )
        )
    return corpus_file(spec, "null_and_empty_identifiers", render(spec, rows), len(rows), Loads(rejects))


@case(lambda spec: bool(spec.ts))
def timestamps_out_of_range(spec: Spec) -> CorpusFile:
    """Year 2300 and before 1970, as text and as epoch numbers."""
    rows = [spec.good(1)]
    rejects: dict[int, str] = {}
    name = spec.ts_reason
    if spec.kind == "ga4":
        values = {
            "10413792000000000": f"unparseable {name}: 10413792000000000",  # 2300 in microseconds
            "-1000000000000": f"unparseable {name}: -1000000000000",
            FAR_FUTURE: f"{name} out of range: {FAR_FUTURE}",
            BEFORE_1970: f"{name} out of range: {BEFORE_1970}",
        }
        if spec.fmt == "parquet":
            values = {
                "10413792000000000": f"unparseable {name}: 10413792000000000",
                "-1000000000000": f"unparseable {name}: -1000000000000",
                "0": f"unparseable {name}: 0",
            }
    else:
        values = {
            FAR_FUTURE: f"{name} out of range: {FAR_FUTURE}",
            BEFORE_1970: f"{name} out of range: {BEFORE_1970}",
            "-100000000": f"{name} out of range: -100000000",  # 1966 in epoch seconds
            "4102444800": f"{name} out of range: 4102444800",  # 2100-01-01 in epoch seconds
            "0001-01-01 00:00:00": f"{name} out of range: 0001-01-01 00:00:00",
            "9999-12-31 23:59:59": f"{name} out of range: 9999-12-31 23:59:59",
        }
    for value, reason in values.items():
        n = len(rows) + 1
        typed: Any = int(value) if spec.kind == "intercom" and value.lstrip("-").isdigit() else value
        rows.append(set_path(spec.good(n), spec.ts, typed))
        rejects[n] = reason
    if spec.kind == "connect":
        n = len(rows) + 1
        rows.append(set_path(spec.good(n), ("DisconnectTimestamp",), FAR_FUTURE))
        rejects[n] = f"DisconnectTimestamp out of range: {FAR_FUTURE}"
    if spec.kind == "intercom":
        n = len(rows) + 1
        rows.append(set_path(spec.good(n), ("updated_at",), -1000000000))  # 1938
        rejects[n] = "updated_at out of range: -1000000000"
    if spec.kind == "chat_csv":
        n = len(rows) + 1
        rows.append(set_path(spec.good(n), ("closed_at",), BEFORE_1970))
        rejects[n] = f"closed_at out of range: {BEFORE_1970}"
    if spec.kind == "calls_csv":
        n = len(rows) + 1
        rows.append(set_path(spec.good(n), ("end_time",), FAR_FUTURE))
        rejects[n] = f"end_time out of range: {FAR_FUTURE}"
    return corpus_file(spec, "timestamps_out_of_range", render(spec, rows), len(rows), Loads(rejects))


ZONE_CHECK = {
    "events": "select ts::varchar from touchpoints where file_id = {file}",
    "chat_csv": "select ts::varchar from touchpoints where file_id = {file} and touchpoint = 'chat:started'",
    "intercom": "select ts::varchar from touchpoints where file_id = {file} and touchpoint = 'chat:started'",
    "calls_csv": "select ts::varchar from touchpoints where file_id = {file} and touchpoint = 'call:queued'",
}


@case(lambda spec: bool(spec.ts) and spec.kind != "ga4")
def timestamp_zone_words(spec: Spec) -> CorpusFile:
    """A word after the time is a zone, or the time is unparseable: never silently dropped."""
    values = {
        "2026-11-02 10:00:00 America/New_York": None,  # 15:00 UTC
        "2026-11-02 10:00:00 PM": "unparseable {name}: 2026-11-02 10:00:00 PM",
        "2026-11-02 10:00:00 Mars/Olympus_Mons": "unparseable {name}: 2026-11-02 10:00:00 Mars/Olympus_Mons",
        "2026-11-02 10:00:00 garbage": "unparseable {name}: 2026-11-02 10:00:00 garbage",
    }
    rows = [set_path(spec.good(n), spec.ts, value) for n, value in enumerate(values, start=1)]
    rejects = {n: reason.format(name=spec.ts_reason) for n, reason in enumerate(values.values(), 1) if reason}
    check = (ZONE_CHECK[spec.kind], [("2026-11-02 15:00:00",)]) if spec.kind in ZONE_CHECK else None
    return corpus_file(
        spec, "timestamp_zone_words", render(spec, rows), len(rows), Loads(rejects, check=check)
    )


WRONG_TYPES: dict[str, list[tuple[tuple[str, ...], Any, str | None]]] = {
    "ga4": [
        (("event_name",), {"name": "page_view"}, "event_name is not a string"),
        (("user_pseudo_id",), [1, 2], "user_pseudo_id is not a string"),
        (("event_timestamp",), {"value": 1}, 'unparseable timestamp: {"value":1}'),
        (("event_params",), "page_location", "event_params is not a list"),
        (("device",), ["desktop"], "device is not an object"),
        (("items",), {"item_id": "x"}, "items is not a list"),
        (("event_params",), [1, "x", None], None),  # entries that are no parameter: no session
    ],
    "intercom": [
        (("id",), {"id": "1"}, "conversation id is not a string"),
        (("id",), ["1"], "conversation id is not a string"),
        (("created_at",), {"at": 1}, 'unparseable created_at: {"at":1}'),
        (("statistics",), "none", None),  # no statistics: never replied, a missed chat
        (("contacts",), [{"id": "c-flat-list"}], None),  # a flat list of contacts
        (("state",), ["open"], None),  # slugged to 'open': lenient, harmless
    ],
    "connect": [
        (("ContactId",), {"id": "c"}, "ContactId is not a string"),
        (("ContactId",), ["c"], "ContactId is not a string"),
        (("InitiationTimestamp",), [2026], "unparseable InitiationTimestamp: [2026]"),
        (("Queue",), "Orders", None),  # no queue details: an unqueued call
        (("Attributes",), ["customer_id", "u1"], None),  # attributes that are no map: ignored
        (("Queue", "Duration"), {"s": 1}, 'Queue.Duration is not a number: {"s":1}'),
    ],
}


@case(json_lines)
def wrong_json_types(spec: Spec) -> CorpusFile:
    """Objects and lists where text belongs, text where objects belong."""
    rows = [spec.good(1)]
    rejects = {}
    for path, value, reason in WRONG_TYPES[spec.kind]:
        n = len(rows) + 1
        rows.append(set_path(spec.good(n), path, value))
        if reason:
            rejects[n] = reason
    return corpus_file(spec, "wrong_json_types", render(spec, rows), len(rows), Loads(rejects))


@case(lambda spec: bool(spec.number))
def numbers_as_strings(spec: Spec) -> CorpusFile:
    """Numbers written as text: usable ones load, the rest are rejected with the field named."""
    values: dict[Any, str | None] = {
        "12.5": None,
        "1e3": None,
        " 7 ": None,
        "twelve": "twelve",
        "12,5": "12,5",
        "NaN": "NaN",
        "inf": "inf",
        "-Infinity": "-Infinity",
        "1e999": "1e999",
    }
    if spec.fmt == "jsonl":
        values.update({12.5: None, True: "true"})
    if spec.kind == "calls_csv":  # durations move timestamps: bounded to 0..1e9 seconds
        values.update({"-5": None, "1e300": None})
    rows = []
    rejects: dict[int, str] = {}
    for n, (value, shown) in enumerate(values.items(), start=1):
        record = ga4_purchase(n, value) if spec.kind == "ga4" else set_path(spec.good(n), spec.number, value)
        rows.append(record)
        if shown is not None:
            rejects[n] = spec.number_reason + shown
        elif value in ("-5", "1e300"):
            rejects[n] = f"talk_seconds out of range: {value}"
    return corpus_file(spec, "numbers_as_strings", render(spec, rows), len(rows), Loads(rejects))


@case()
def duplicated_rows_and_ids(spec: Spec) -> CorpusFile:
    """Exact copies and records re-sent under the same id: each record is loaded once."""
    one, two, three = spec.good(1), spec.good(2), spec.good(3)
    if spec.kind == "ga4":
        changed = set_path(two, ("geo", "country"), "France")  # same event, other details
    elif spec.kind == "crm":
        changed = dict(two)  # the same link again
    elif spec.kind == "events":
        changed = set_path(two, ("page",), "/other")
    elif spec.kind == "intercom":
        changed = set_path(set_path(two, ("updated_at",), unix(90)), ("state",), "open")
    elif spec.kind == "connect":
        changed = set_path(two, ("LastUpdateTimestamp",), iso(90))
    elif spec.kind == "chat_csv":
        changed = set_path(two, ("rating",), "5")
    else:
        changed = set_path(two, ("outcome",), "order_placed")
    rows = [one, one, two, changed, three]
    return corpus_file(spec, "duplicated_rows_and_ids", render(spec, rows), 5, Loads(duplicate=2))


def huge_value(spec: Spec, record: Record, text: str) -> Record:
    if spec.kind == "ga4":
        params = [p for p in record["event_params"] if p["key"] != "page_title"]
        return {**record, "event_params": [*params, {"key": "page_title", "value": {"string_value": text}}]}
    if spec.kind == "intercom":
        return set_path(record, ("custom_attributes", "note"), text)
    if spec.kind == "connect":
        return set_path(record, ("Attributes", "note"), text)
    if spec.kind == "crm":
        return set_path(record, ("user_id",), text)
    return set_path(record, spec.text or ("page",), text)


@case()
def ten_megabyte_field(spec: Spec) -> CorpusFile:
    """One field of 10 MB (an export that inlined a file or a runaway log)."""
    rows = [spec.good(1), huge_value(spec, spec.good(2), "x" * HUGE), spec.good(3)]
    return corpus_file(spec, "ten_megabyte_field", render(spec, rows), 3, Loads())


def random_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa"


@case()
def binary_garbage(spec: Spec) -> CorpusFile:
    expect = (
        Fails("not a readable Parquet file")
        if spec.fmt == "parquet"
        else Fails(r"not a text file \(binary data\)")
    )
    return corpus_file(spec, "binary_garbage", random_bytes(20_000, 9), 0, expect)


@case()
def png_image(spec: Spec) -> CorpusFile:
    expect = (
        Fails("not a readable Parquet file")
        if spec.fmt == "parquet"
        else Fails(r"not a text file \(a PNG image\)")
    )
    return corpus_file(spec, "png_image", PNG + random_bytes(2_000, 3), 0, expect)


@case(text_formats)
def parquet_named_as_text(spec: Spec) -> CorpusFile:
    data = parquet_bytes(pa.table({"a": ["x", "y"]}))
    return corpus_file(spec, "parquet_named_as_text", data, 0, Fails(r"not a text file \(a Parquet file\)"))


@case(csv_only)
def formula_injection(spec: Spec) -> CorpusFile:
    """Spreadsheet formulas in text cells: kept as inert text, the CSV still splits right."""
    target = spec.text or ("user_id",)
    rows = [set_path(spec.good(n), target, formula) for n, formula in enumerate(FORMULAS, start=1)]
    rows.append(spec.good(len(rows) + 1))
    if spec.text_sql:
        check = (spec.text_sql, [(f,) for f in FORMULAS] + [(spec.good(len(rows))[target[0]],)])
    else:  # CRM: the user id is stored as its keyed hash, of the exact text
        key = TEST_HASH_KEY.encode()
        check = (
            "select user_id_hash from identities where file_id = {file} order by source_row",
            [(hmac_hex(key, f),) for f in FORMULAS] + [(hmac_hex(key, rows[-1]["user_id"]),)],
        )
    return corpus_file(spec, "formula_injection", render(spec, rows), len(rows), Loads(check=check))


@case(text_formats)
def gzip_truncated(spec: Spec) -> CorpusFile:
    data = gzip.compress(render(spec, good_rows(spec, 50)))
    return corpus_file(
        spec,
        "gzip_truncated",
        data[: len(data) // 2],
        0,
        Fails("cannot decompress"),
        suffix=spec.suffix + ".gz",
    )


@case(text_formats)
def gzip_corrupted(spec: Spec) -> CorpusFile:
    data = bytearray(gzip.compress(render(spec, good_rows(spec, 50))))
    middle = len(data) // 2
    data[middle : middle + 16] = b"\xff" * 16
    return corpus_file(
        spec, "gzip_corrupted", bytes(data), 0, Fails("cannot decompress"), suffix=spec.suffix + ".gz"
    )


@case(text_formats)
def not_actually_gzip(spec: Spec) -> CorpusFile:
    """Named .gz but already decompressed (a transfer tool unpacked it): read as it is."""
    return corpus_file(
        spec, "not_actually_gzip", render(spec, good_rows(spec, 3)), 3, Loads(), suffix=spec.suffix + ".gz"
    )


@case(parquet_only)
def parquet_wrong_schema(spec: Spec) -> CorpusFile:
    """A Parquet file of some other table."""
    table = pa.table({"order_id": [1, 2, 3], "amount": [9.5, 3.0, None]})
    if spec.kind == "ga4":
        return corpus_file(
            spec,
            "parquet_wrong_schema",
            parquet_bytes(table),
            3,
            Loads(dict.fromkeys((1, 2, 3), "missing timestamp")),
        )
    return corpus_file(
        spec,
        "parquet_wrong_schema",
        parquet_bytes(table),
        0,
        Fails(r"required column 'time' \(for ts\) is missing"),
    )


@case(parquet_only)
def parquet_wrong_types(spec: Spec) -> CorpusFile:
    """The right column names with the wrong types (lists, structs, numbers, booleans)."""
    if spec.kind == "ga4":
        table = pa.table(
            {
                "event_timestamp": pa.array([[1, 2], [3]]),
                "event_name": pa.array([True, False]),
                "user_pseudo_id": pa.array([1.5, 2.5]),
                "event_params": pa.array(["page_location", "x"]),
            }
        )
        return corpus_file(
            spec,
            "parquet_wrong_types",
            parquet_bytes(table),
            2,
            Loads({1: "unparseable timestamp: [1,2]", 2: "unparseable timestamp: [3]"}),
        )
    table = pa.table(
        {
            "id": pa.array([1, 2, 3]),
            "visitor": pa.array([{"a": 1}, {"a": 2}, {"a": 3}]),
            "time": pa.array([[1, 2], [3], None]),
            "event": pa.array([True, False, True]),
            "page": pa.array([b"\x00\x01", b"/p", b"/q"]),
            "wait": pa.array([1.5, float("nan"), 2.0]),
        }
    )
    return corpus_file(
        spec,
        "parquet_wrong_types",
        parquet_bytes(table),
        3,
        Loads({1: "unparseable timestamp: [1, 2]", 2: "unparseable timestamp: [3]", 3: "missing timestamp"}),
    )


def compact(record: Record) -> str:
    return json.dumps(record, separators=(",", ":"))


@case(json_lines)
def json_array_file(spec: Spec) -> CorpusFile:
    """One pretty-printed JSON array instead of one record per line: each element is a record."""
    rows = good_rows(spec, 3)
    return corpus_file(spec, "json_array_file", json.dumps(rows, indent=2).encode(), 3, Loads())


@case(json_lines)
def json_array_one_line(spec: Spec) -> CorpusFile:
    rows = good_rows(spec, 3)
    return corpus_file(spec, "json_array_one_line", json.dumps(rows).encode(), 3, Loads())


@case(json_lines)
def json_array_truncated(spec: Spec) -> CorpusFile:
    text = json.dumps(good_rows(spec, 3), indent=2)
    return corpus_file(
        spec,
        "json_array_truncated",
        text[: len(text) // 2].encode(),
        0,
        Fails("JSON array that does not parse"),
    )


@case(json_lines)
def concatenated_records(spec: Spec) -> CorpusFile:
    """Kinesis Firehose writes records back to back (``}{``): each is a record of its own."""
    rows = good_rows(spec, 5)
    line = "".join(compact(r) for r in rows[:3]) + "\n" + compact(rows[3]) + " " + compact(rows[4]) + "\n"
    return corpus_file(spec, "concatenated_records", line.encode(), 5, Loads())


@case(json_lines)
def concatenated_with_broken_record(spec: Spec) -> CorpusFile:
    """A Firehose line whose last record is cut: the whole line is one malformed record."""
    rows = good_rows(spec, 4)
    line = compact(rows[0]) + "\n" + compact(rows[1]) + compact(rows[2])[:-5] + "\n" + compact(rows[3]) + "\n"
    return corpus_file(
        spec, "concatenated_with_broken_record", line.encode(), 3, Loads({2: "malformed JSON"})
    )


def nest(depth: int) -> str:
    return "[" * depth + "]" * depth


@case(json_lines)
def deeply_nested(spec: Spec) -> CorpusFile:
    """Nesting 10,000 levels deep in a field the adapter ignores, and as a whole record; a
    deep record back to back with another is too deep to split: one malformed record."""
    text = compact(spec.good(1))[:-1] + ',"deep":' + nest(10_000) + "}"
    joined = compact(spec.good(4))[:-1] + ',"deep":' + nest(10_000) + "}" + compact(spec.good(5))
    not_object = "not a JSON object" if spec.kind != "ga4" else "record is not a JSON object"
    lines = [text, nest(10_000), compact(spec.good(3)), joined]
    return corpus_file(
        spec,
        "deeply_nested",
        ("\n".join(lines) + "\n").encode(),
        4,
        Loads({2: not_object, 4: "malformed JSON"}),
    )


@case(text_formats)
def nul_bytes(spec: Spec) -> CorpusFile:
    """NUL bytes inside a line (a C writer's buffer leaking into the export)."""
    rows = good_rows(spec, 4)
    if spec.fmt == "jsonl":
        raw = compact(rows[1]).replace('":', '":\x00', 1)  # outside a string: not JSON
        escaped = with_text(spec, rows[2], "a\x00b")  # written as \\u0000: valid JSON
        data = ndjson([rows[0], raw, escaped, rows[3]])
        return corpus_file(spec, "nul_bytes", data, 4, Loads({2: "malformed JSON"}))
    # a raw NUL inside a text cell: the value is kept, NUL included
    rows[1] = with_text(spec, rows[1], "NULHERE")
    data = render(spec, rows).replace(b"NULHERE", b"a\x00b")
    check = (spec.text_sql, [(r[spec.text[0]],) for r in rows]) if spec.text_sql else None
    if check:
        check[1][1] = ("a\x00b",)
    return corpus_file(spec, "nul_bytes", data, 4, Loads(check=check))


@case(text_formats)
def wrong_kind_of_text(spec: Spec) -> CorpusFile:
    """CSV text handed to a JSON adapter, JSON lines handed to a CSV adapter."""
    if spec.fmt == "jsonl":
        data = b"a,b,c\n1,2,3\n4,5,6\n"
        return corpus_file(
            spec, "wrong_kind_of_text", data, 3, Loads(dict.fromkeys((1, 2, 3), "malformed JSON"))
        )
    data = ndjson([{"a": 1, "b": 2}, {"a": 3, "b": 4}])
    problem = "no customer identifier column" if spec.kind == "crm" else "required column"
    return corpus_file(spec, "wrong_kind_of_text", data, 0, Fails(problem))


@case(csv_only)
def messy_but_valid_csv(spec: Spec) -> CorpusFile:
    """BOM, CRLF, semicolons, quoted delimiters and newlines: all of it loads."""
    rows = good_rows(spec, 3)
    target = spec.text or ("user_id",)
    rows[1] = set_path(rows[1], target, 'line one\nline "two"; a, b')
    text = "\ufeff" + csv_text(spec.columns, rows, delimiter=";", newline="\r\n")
    check = None
    if spec.text_sql:
        check = (
            spec.text_sql,
            [(rows[0][target[0]],), ('line one\nline "two"; a, b',), (rows[2][target[0]],)],
        )
    return corpus_file(spec, "messy_but_valid_csv", text.encode(), 3, Loads(check=check))


@case(csv_only)
def line_break_in_header_name(spec: Spec) -> CorpusFile:
    """A quoted header name with a CR in an LF file: DuckDB's dialect sniffer gives up (a
    valid CSV it cannot read; naming the new line explicitly is worse: with ';' it reads
    zero rows). The file fails, saying so."""
    data = csv_text((*spec.columns, "note\r"), [{**r, "note\r": "x"} for r in good_rows(spec, 3)]).encode()
    return corpus_file(
        spec, "line_break_in_header_name", data, 0, Fails(r"not a readable CSV file \(.*sniffing")
    )


@case(csv_only)
def no_header_row(spec: Spec) -> CorpusFile:
    data = csv_text(spec.columns, good_rows(spec, 3)).split("\n", 1)[1].encode()
    problem = "no customer identifier column" if spec.kind == "crm" else "required column"
    return corpus_file(spec, "no_header_row", data, 0, Fails(problem))


# --- the corpus as a whole -----------------------------------------------------------------


def corpus_ids() -> list[tuple[str, str]]:
    """Every (adapter, case) pair of the corpus."""
    return [(spec.key, c.name) for spec in SPECS.values() for c in CASES if c.applies(spec)]


def build(adapter: str, case_name: str) -> CorpusFile:
    spec = SPECS[adapter]
    found = next(c for c in CASES if c.name == case_name)
    return found.build(spec)


def baseline_records(spec: Spec) -> bytes:
    """A valid file of the adapter whose records never collide with the corpus's."""
    return render(spec, good_rows(spec, 3, start=900))


def write_corpus(folder: Path, adapters: Iterable[str] | None = None) -> list[CorpusFile]:
    """Write the corpus files (of ``adapters``, default all) under ``folder/<adapter>/``."""
    wanted = set(adapters or SPECS)
    written = []
    for adapter, case_name in corpus_ids():
        if adapter not in wanted:
            continue
        item = build(adapter, case_name)
        item.write(folder / adapter)
        written.append(item)
    return written

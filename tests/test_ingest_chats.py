"""Chat adapters: Intercom conversations and flat chat CSVs become exact touchpoints."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from journey_mining.config import Config
from journey_mining.ingest.loader import LoadError, LoadReport, load_sources
from journey_mining.privacy import hmac_hex
from journey_mining.warehouse import connect
from tests.conftest import TEST_HASH_KEY, make_config

SAMPLE_INTERCOM = Path(__file__).resolve().parents[1] / "data/sample/chat/intercom_conversations.jsonl"

TOUCHPOINT_SQL = """select source_row, touchpoint, ts::varchar, wait_seconds, outcome, satisfaction, topic
                    from touchpoints where record_key = ? order by ingest_seq"""


def h(value: str) -> str:
    return hmac_hex(TEST_HASH_KEY.encode(), value)


def at(clock: str, day: str = "2026-11-02") -> int:
    """Unix seconds of a UTC wall-clock time, as Intercom exports them."""
    return int(datetime.fromisoformat(f"{day}T{clock}+00:00").timestamp())


def conversation(
    cid: str | None,
    created: int | None,
    updated: int,
    state: str,
    *,
    contact: dict[str, Any] | None = None,
    author: dict[str, Any] | None = None,
    url: str | None = None,
    tags: tuple[str, ...] = (),
    replied: int | None = None,
    time_to_reply: int | None = None,
    closed: int | None = None,
    reopens: int = 0,
    rating: dict[str, Any] | None = None,
    admin: int | None = None,
) -> dict[str, Any]:
    """An Intercom 2.x conversation object with the fields the adapter reads."""
    author = author or {"type": "lead", "id": "x", "name": None, "email": None}
    outbound = author["type"] == "admin"
    doc: dict[str, Any] = {
        "type": "conversation",
        "id": cid,
        "created_at": created,
        "updated_at": updated,
        "state": state,
        "source": {
            "type": "conversation",
            "delivered_as": "admin_initiated" if outbound else "customer_initiated",
            "url": url,
            "author": author,
        },
        "contacts": {"type": "contact.list", "contacts": [contact] if contact else []},
        "tags": {"type": "tag.list", "tags": [{"type": "tag", "name": t} for t in tags]},
        "statistics": {
            "type": "conversation_statistics",
            "time_to_admin_reply": time_to_reply,
            "first_admin_reply_at": replied,
            "first_close_at": closed,
            "last_close_at": closed,
            "count_reopens": reopens,
        },
        "conversation_rating": rating,
        "admin_assignee_id": admin,
    }
    if created is None:
        del doc["created_at"]
    if cid is None:
        del doc["id"]
    return doc


ANSWERED = conversation(
    "1001",
    at("09:00:00"),
    at("09:40:00"),
    "closed",
    contact={"type": "contact", "id": "6a1", "external_id": "u-42"},
    author={"type": "user", "id": "6a1", "name": "Jane Doe", "email": " Jane.Doe@Example.COM "},
    url="https://shop.example.com/help/returns?ref=mail&to=jane@x.org",
    tags=("Refund Status", "VIP"),
    replied=at("09:01:35"),
    time_to_reply=95,
    closed=at("09:30:00"),
    reopens=1,
    rating={"rating": 4, "remark": "write me at jane.doe@example.com", "created_at": at("09:35:00")},
    admin=4810021,
)
MISSED = conversation(
    "1002",
    at("10:00:00"),
    at("10:30:00"),
    "closed",
    contact={"type": "contact", "id": "lead-7", "external_id": None},
    url="https://shop.example.com/checkout",
    closed=at("10:30:00"),
)
OPEN = conversation(  # an outbound message: the author is the agent, not the customer
    "1003",
    at("11:00:00"),
    at("11:20:00"),
    "open",
    contact={"type": "contact", "id": "6c3", "external_id": "u-77"},
    author={"type": "admin", "id": "4810022", "name": "Agent Smith", "email": "agent.smith@shop.example.com"},
    tags=("Delivery",),
    replied=at("11:03:00"),
    admin=4810022,
)
SNOOZED_UNANSWERED = conversation(
    "1004",
    at("12:00:00"),
    at("12:45:00"),
    "snoozed",
    contact={"type": "contact", "id": "lead-9"},
    author={"type": "lead", "id": "lead-9", "name": None, "email": "Sam@Example.org"},
)
OPEN_CLOSED_LATER = {
    **OPEN,
    "updated_at": at("12:10:00"),
    "state": "closed",
    "statistics": {**OPEN["statistics"], "first_close_at": at("12:00:00"), "last_close_at": at("12:00:00")},
    "conversation_rating": {"rating": 2, "remark": None, "created_at": at("12:05:00")},
}
ANSWERED_OLDER = {
    **ANSWERED,
    "updated_at": at("09:10:00"),
    "state": "open",
    "statistics": {**ANSWERED["statistics"], "first_close_at": None, "last_close_at": None},
    "conversation_rating": None,
}

BAD_LINES = [
    '{"id": "1005", "created_at": 1793610000, "source": {"author": {"email": "bob@example.com"',
    conversation(
        "1006",
        None,
        at("13:00:00"),
        "open",
        contact={"type": "contact", "id": "6d4"},
        author={"type": "user", "id": "6d4", "name": "Carol Jones", "email": "carol@example.com"},
    ),
    conversation("1007", at("13:00:00"), at("13:05:00"), "closed"),
    conversation(
        "1008",
        at("13:00:00"),
        at("13:05:00"),
        "closed",
        contact={"type": "contact", "id": "6e5"},
        rating={"rating": "great", "remark": "dan@example.com", "created_at": at("13:04:00")},
    ),
    conversation(None, at("13:00:00"), at("13:05:00"), "open", contact={"type": "contact", "id": "6f6"}),
]

RAW_PII = [
    "jane.doe@example.com",
    "jane@x.org",
    "agent.smith@shop.example.com",
    "sam@example.org",
    "bob@example.com",
    "carol@example.com",
    "dan@example.com",
    "anna.schmidt@example.de",
    "piet@example.nl",
    "jane doe",
    "carol jones",
]


def write_jsonl(path: Path, lines: list[dict[str, Any] | str]) -> None:
    """One JSON document per line; strings are written verbatim (blank or broken lines)."""
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))


def intercom_source(path: str = "conversations_*.jsonl") -> dict[str, Any]:
    return {"name": "intercom", "kind": "intercom", "path": path}


def load(config: Config, *, raise_on_failure: bool = False) -> tuple[duckdb.DuckDBPyConnection, LoadReport]:
    con = connect(config.warehouse_path)
    return con, load_sources(con, config, raise_on_failure=raise_on_failure)


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def file_counts(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Per loaded file: name, read, loaded, duplicate, rejected; read always reconciles."""
    result = rows(
        con,
        """select path, rows_read, rows_loaded, rows_duplicate, rows_rejected, touchpoints_written
           from loaded_files order by file_id""",
    )
    for _, read, loaded, duplicate, rejected, _ in result:
        assert read == loaded + duplicate + rejected
    return [(Path(path).name, *counts) for path, *counts in result]


def write_first_export(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path / "conversations_1.jsonl", [ANSWERED, MISSED, OPEN, "", SNOOZED_UNANSWERED, *BAD_LINES]
    )


def test_intercom_conversations_expand_into_exact_touchpoints(tmp_path: Path) -> None:
    write_first_export(tmp_path)
    con, report = load(make_config(tmp_path, sources=[intercom_source()]))
    assert report.failures == []
    assert rows(con, TOUCHPOINT_SQL, ["intercom:1001"]) == [
        (1, "chat:started", "2026-11-02 09:00:00", 95.0, "resolved", None, "refund_status"),
        (1, "chat:agent_replied", "2026-11-02 09:01:35", 95.0, "resolved", None, "refund_status"),
        (1, "chat:resolved", "2026-11-02 09:30:00", None, "resolved", None, "refund_status"),
        (1, "chat:rated", "2026-11-02 09:35:00", None, "resolved", 4.0, "refund_status"),
    ]
    assert rows(con, TOUCHPOINT_SQL, ["intercom:1002"]) == [
        (2, "chat:started", "2026-11-02 10:00:00", None, "missed", None, None),
        (2, "chat:missed", "2026-11-02 10:30:00", None, "missed", None, None),
    ]
    # still open at export: unresolved at updated_at; wait is the difference without statistics
    assert rows(con, TOUCHPOINT_SQL, ["intercom:1003"]) == [
        (3, "chat:started", "2026-11-02 11:00:00", 180.0, "unresolved", None, "delivery"),
        (3, "chat:agent_replied", "2026-11-02 11:03:00", 180.0, "unresolved", None, "delivery"),
        (3, "chat:unresolved", "2026-11-02 11:20:00", None, "unresolved", None, "delivery"),
    ]
    # never answered by an admin: missed, even though snoozed rather than closed
    assert rows(con, TOUCHPOINT_SQL, ["intercom:1004"]) == [
        (5, "chat:started", "2026-11-02 12:00:00", None, "missed", None, None),
        (5, "chat:missed", "2026-11-02 12:45:00", None, "missed", None, None),
    ]
    assert rows(
        con,
        """select distinct record_key, channel, anonymous_id, user_id_hash, email_hash, phone_hash,
                  source_session_id, page, record_version::varchar
           from touchpoints order by record_key""",
    ) == [
        ("intercom:1001", "chat", "6a1", h("u-42"), h("jane.doe@example.com"), None, "1001",
         "/help/returns", "2026-11-02 09:40:00"),
        ("intercom:1002", "chat", "lead-7", None, None, None, "1002", "/checkout", "2026-11-02 10:30:00"),
        ("intercom:1003", "chat", "6c3", h("u-77"), None, None, "1003", None, "2026-11-02 11:20:00"),
        ("intercom:1004", "chat", "lead-9", None, h("sam@example.org"), None, "1004", None,
         "2026-11-02 12:45:00"),
    ]  # fmt: skip
    attributes = rows(
        con, "select distinct attributes::varchar from touchpoints where record_key = 'intercom:1001'"
    )
    assert [json.loads(a) for (a,) in attributes] == [
        {
            "state": "closed",
            "count_reopens": 1,
            "admin_assignee_id": 4810021,
            "tags": ["Refund Status", "VIP"],
            "delivered_as": "customer_initiated",
        }
    ]
    assert rows(con, "select count(distinct event_id), count(*) from touchpoints") == [(11, 11)]
    assert rows(con, "select source_row, reason from rejected_rows order by source_row") == [
        (6, "malformed JSON"),
        (7, "missing created_at"),
        (8, "no customer identifier"),
        (9, "rating is not a number: great"),
        (10, "missing conversation id"),
    ]
    assert file_counts(con) == [("conversations_1.jsonl", 9, 4, 0, 5, 11)]


def test_reexported_conversation_replaces_older_and_same_file_is_skipped(tmp_path: Path) -> None:
    write_first_export(tmp_path)
    config = make_config(tmp_path, sources=[intercom_source()])
    con, _ = load(config)
    con.close()
    write_jsonl(tmp_path / "conversations_2.jsonl", [OPEN_CLOSED_LATER, MISSED, ANSWERED_OLDER])
    shutil.copy(tmp_path / "conversations_2.jsonl", tmp_path / "conversations_3.jsonl")
    con, report = load(config)
    assert [(Path(f.path).name, f.status) for f in report.files] == [
        ("conversations_1.jsonl", "skipped"),
        ("conversations_2.jsonl", "loaded"),
        ("conversations_3.jsonl", "skipped"),
    ]
    # the newer 1003 replaced its touchpoints; identical 1002 and older 1001 are duplicates
    assert rows(con, TOUCHPOINT_SQL, ["intercom:1003"]) == [
        (1, "chat:started", "2026-11-02 11:00:00", 180.0, "resolved", None, "delivery"),
        (1, "chat:agent_replied", "2026-11-02 11:03:00", 180.0, "resolved", None, "delivery"),
        (1, "chat:resolved", "2026-11-02 12:00:00", None, "resolved", None, "delivery"),
        (1, "chat:rated", "2026-11-02 12:05:00", None, "resolved", 2.0, "delivery"),
    ]
    assert rows(
        con,
        """select record_key, file_id, count(*), max(record_version)::varchar from touchpoints
           group by all order by record_key""",
    ) == [
        ("intercom:1001", 1, 4, "2026-11-02 09:40:00"),
        ("intercom:1002", 1, 2, "2026-11-02 10:30:00"),
        ("intercom:1003", 2, 4, "2026-11-02 12:10:00"),
        ("intercom:1004", 1, 2, "2026-11-02 12:45:00"),
    ]
    assert file_counts(con) == [
        ("conversations_1.jsonl", 9, 4, 0, 5, 11),
        ("conversations_2.jsonl", 3, 1, 2, 0, 4),
    ]
    before = rows(con, "select * from touchpoints order by ingest_seq")
    again = load_sources(con, config)
    assert {f.status for f in again.files} == {"skipped"}
    assert rows(con, "select * from touchpoints order by ingest_seq") == before


CSV_MAPPING = {
    "conversation_id": "Chat-ID",
    "created_at": "Beginn",
    "anonymous_id": "Besucher",
    "email": "E-Mail",
    "first_reply_at": "Erste Antwort",
    "closed_at": "Ende",
    "state": "Status",
    "rating": "Bewertung",
    "topic": "Thema",
    "agent": "Mitarbeiter",
}


def write_latin1_chats(tmp_path: Path) -> None:
    text = (
        "Chat-ID;Beginn;Besucher;E-Mail;Erste Antwort;Ende;Status;Bewertung;Thema;Mitarbeiter\r\n"
        "z1;2026-11-03 08:00:00;v1;Anna.Schmidt@Example.de;2026-11-03 08:02:00;2026-11-03 08:20:00;"
        "closed;5;Lieferung;Zoë Müller\r\n"
        "z2;2026-11-03 09:00:00;;;;;open;;;\r\n"
        "z3;;v3;piet@example.nl;;;;;;Jörg\r\n"
        "z4;2026-11-03 10:00:00;v4;;;2026-11-03 10:15:00;closed;;Retoure ;\r\n"
    )
    (tmp_path / "chats.csv").write_bytes(text.encode("latin-1"))


def csv_source(**extra: Any) -> dict[str, Any]:
    return {"name": "helpdesk", "kind": "chat_csv", "path": "chats.csv", **extra}


def test_chat_csv_latin1_semicolon_crlf_with_mapping(tmp_path: Path) -> None:
    write_latin1_chats(tmp_path)
    con, report = load(make_config(tmp_path, sources=[csv_source(delimiter=";", columns=CSV_MAPPING)]))
    assert report.failures == []
    assert rows(con, TOUCHPOINT_SQL, ["chat_csv:z1"]) == [
        (1, "chat:started", "2026-11-03 08:00:00", 120.0, "resolved", None, "lieferung"),
        (1, "chat:agent_replied", "2026-11-03 08:02:00", 120.0, "resolved", None, "lieferung"),
        (1, "chat:resolved", "2026-11-03 08:20:00", None, "resolved", None, "lieferung"),
        (1, "chat:rated", "2026-11-03 08:20:00", None, "resolved", 5.0, "lieferung"),
    ]
    assert rows(con, TOUCHPOINT_SQL, ["chat_csv:z4"]) == [
        (4, "chat:started", "2026-11-03 10:00:00", None, "missed", None, "retoure"),
        (4, "chat:missed", "2026-11-03 10:15:00", None, "missed", None, "retoure"),
    ]
    assert rows(
        con,
        """select distinct anonymous_id, email_hash, source_session_id, attributes::varchar
           from touchpoints where record_key = 'chat_csv:z1'""",
    ) == [("v1", h("anna.schmidt@example.de"), "z1", '{"state":"closed","agent":"Zoë Müller"}')]
    assert rows(con, "select source_row, reason from rejected_rows order by source_row") == [
        (2, "no customer identifier"),
        (3, "missing created_at"),
    ]
    assert file_counts(con) == [("chats.csv", 4, 2, 0, 2, 6)]


def test_chat_csv_local_time_across_dst_is_normalised_to_utc(tmp_path: Path) -> None:
    (tmp_path / "chats.csv").write_text(
        "conversation_id,created_at,anonymous_id,first_reply_at,first_reply_seconds,closed_at,state\n"
        # 01:50 CEST (UTC+2); the clocks go back at 03:00 CEST; 03:05 and 03:30 are CET (UTC+1)
        "b1,2026-10-25 01:50:00,v1,2026-10-25 03:05:00,,2026-10-25 03:30:00,closed\n"
        "b2,2026-07-01 12:00:00,v2,,,2026-07-01 12:10:00,Closed\n"
        "b3,2026-11-02 12:00:00,v3,,60,,open\n"
    )
    con, report = load(make_config(tmp_path, sources=[csv_source(time_zone="Europe/Berlin")]))
    assert report.failures == []
    assert rows(con, TOUCHPOINT_SQL, ["chat_csv:b1"]) == [
        (1, "chat:started", "2026-10-24 23:50:00", 8100.0, "resolved", None, None),
        (1, "chat:agent_replied", "2026-10-25 02:05:00", 8100.0, "resolved", None, None),
        (1, "chat:resolved", "2026-10-25 02:30:00", None, "resolved", None, None),
    ]
    assert rows(con, TOUCHPOINT_SQL, ["chat_csv:b2"]) == [
        (2, "chat:started", "2026-07-01 10:00:00", None, "missed", None, None),
        (2, "chat:missed", "2026-07-01 10:10:00", None, "missed", None, None),
    ]
    # only the wait is known: the reply is placed that long after the start
    assert rows(con, TOUCHPOINT_SQL, ["chat_csv:b3"]) == [
        (3, "chat:started", "2026-11-02 11:00:00", 60.0, "unresolved", None, None),
        (3, "chat:agent_replied", "2026-11-02 11:01:00", 60.0, "unresolved", None, None),
        (3, "chat:unresolved", "2026-11-02 11:01:00", None, "unresolved", None, None),
    ]
    assert file_counts(con) == [("chats.csv", 3, 3, 0, 0, 8)]


def test_chat_csv_utc_suffix_is_not_shifted_by_the_source_zone(tmp_path: Path) -> None:
    (tmp_path / "chats.csv").write_text(
        "conversation_id,created_at,anonymous_id,first_reply_at,closed_at\n"
        "u1,2026-10-25 01:50:00 UTC,v1,2026-10-25 02:10:00 UTC,2026-10-25 02:40:00 UTC\n"
    )
    con, _ = load(make_config(tmp_path, sources=[csv_source(time_zone="Europe/Berlin")]))
    # no state column: a conversation with a close time is closed
    assert rows(con, TOUCHPOINT_SQL, ["chat_csv:u1"]) == [
        (1, "chat:started", "2026-10-25 01:50:00", 1200.0, "resolved", None, None),
        (1, "chat:agent_replied", "2026-10-25 02:10:00", 1200.0, "resolved", None, None),
        (1, "chat:resolved", "2026-10-25 02:40:00", None, "resolved", None, None),
    ]


def test_chat_csv_missing_required_column_fails_naming_file_and_column(tmp_path: Path) -> None:
    (tmp_path / "chats.csv").write_text("conversation_id,anonymous_id\nc1,v1\n")
    config = make_config(tmp_path, sources=[csv_source()])
    con = connect(config.warehouse_path)
    with pytest.raises(LoadError) as err:
        load_sources(con, config)
    assert str(tmp_path / "chats.csv") in str(err.value)
    assert "'created_at'" in str(err.value)
    assert rows(con, "select count(*) from loaded_files") == [(0,)]
    assert rows(con, "select count(*) from touchpoints") == [(0,)]


def test_no_raw_email_or_name_anywhere_in_the_warehouse(tmp_path: Path) -> None:
    write_first_export(tmp_path)
    write_jsonl(tmp_path / "conversations_2.jsonl", [OPEN_CLOSED_LATER, MISSED, ANSWERED_OLDER])
    write_latin1_chats(tmp_path)
    config = make_config(
        tmp_path, sources=[intercom_source(), csv_source(delimiter=";", columns=CSV_MAPPING)]
    )
    con, report = load(config)
    assert report.failures == []
    assert rows(con, "select count(*) from rejected_rows") == [(7,)]
    con.execute("checkpoint")
    con.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("warehouse.duckdb*")).lower()
    for text in RAW_PII:
        assert text.encode() not in stored
    con = connect(config.warehouse_path, read_only=True)
    columns = rows(
        con,
        """select table_name, column_name from information_schema.columns
           where data_type in ('VARCHAR', 'JSON') and table_schema = 'main'""",
    )
    assert ("rejected_rows", "raw") in columns
    for table, column in columns:
        for text in RAW_PII:
            found = rows(
                con, f'select count(*) from {table} where lower("{column}"::varchar) like ?', [f"%{text}%"]
            )
            assert found == [(0,)], (table, column, text)
    con.close()


@pytest.mark.skipif(not SAMPLE_INTERCOM.exists(), reason="sample Intercom export not generated")
def test_sample_intercom_export_loads_without_rejects(tmp_path: Path) -> None:
    con, report = load(make_config(tmp_path, sources=[intercom_source(str(SAMPLE_INTERCOM))]))
    assert report.failures == []
    assert rows(con, "select count(*) from rejected_rows") == [(0,)]
    counts = file_counts(con)
    assert counts
    assert all(rejected == 0 and loaded > 0 for _, _, loaded, _, rejected, _ in counts)

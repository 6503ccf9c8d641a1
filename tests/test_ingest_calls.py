"""Call-center adapters: Amazon Connect contact records and flat call-detail CSVs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from journey_mining.config import Config
from journey_mining.ingest.loader import LoadReport, load_sources
from journey_mining.privacy import hmac_hex
from journey_mining.warehouse import connect
from tests.conftest import TEST_HASH_KEY, make_config

KEY = TEST_HASH_KEY.encode()
PHONE = hmac_hex(KEY, "+15550101234")
SAMPLE_CALLS = Path(__file__).resolve().parents[1] / "data" / "sample" / "call"
ROW = "select ts::varchar, touchpoint, wait_seconds, handle_seconds, outcome, topic, phone_hash from touchpoints order by ts, ingest_seq"
COUNTS = "select rows_read, rows_loaded, rows_duplicate, rows_rejected from loaded_files order by file_id"


def ctr(
    contact_id: str | None,
    start: str | None,
    *,
    queue: tuple[str, str | None, Any] | None = None,
    agent: tuple[str, Any] | None = None,
    end: str | None = None,
    updated: str | None = None,
    method: str = "INBOUND",
    phone: str | None = "+15550101234",
    attributes: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A contact record; times are on 2026-11-02 (UTC) given as HH:MM:SS."""

    def at(hms: str | None) -> str | None:
        return f"2026-11-02T{hms}Z" if hms else None

    record: dict[str, Any] = {
        "AWSContactTraceRecordFormatVersion": "2017-03-10",
        "Channel": "VOICE",
        "InitiationMethod": method,
        "InitiationTimestamp": at(start),
        "ConnectedToSystemTimestamp": at(start),
        "DisconnectTimestamp": at(end),
        "LastUpdateTimestamp": at(updated or end or start),
        "CustomerEndpoint": {"Address": phone, "Type": "TELEPHONE_NUMBER"} if phone else None,
        "Queue": None,
        "Agent": None,
        "DisconnectReason": "CUSTOMER_DISCONNECT" if end else None,
        "Attributes": attributes or {},
        **extra,
    }
    if contact_id is not None:
        record["ContactId"] = contact_id
    if queue:
        enqueued, dequeued, duration = queue
        record["Queue"] = {
            "Name": "Orders",
            "EnqueueTimestamp": at(enqueued),
            "DequeueTimestamp": at(dequeued),
            "Duration": duration,
        }
    if agent:
        connected, interaction = agent
        record["Agent"] = {
            "Username": "agent.one",
            "ConnectedToAgentTimestamp": at(connected),
            "AgentInteractionDuration": interaction,
            "CustomerHoldDuration": 15,
            "AfterContactWorkDuration": 40,
        }
    return record


def write_jsonl(path: Path, *records: dict[str, Any] | str) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def connect_config(tmp_path: Path, path: str = "ctr*.jsonl") -> Config:
    return make_config(tmp_path, sources=[{"name": "calls", "kind": "connect", "path": path}])


def load(config: Config) -> tuple[duckdb.DuckDBPyConnection, LoadReport]:
    con = connect(config.warehouse_path)
    return con, load_sources(con, config, raise_on_failure=False)


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def assert_counts_reconcile(con: duckdb.DuckDBPyConnection) -> None:
    for read, loaded, duplicate, rejected in rows(con, COUNTS):
        assert read == loaded + duplicate + rejected


# --- Amazon Connect -------------------------------------------------------------------------


def test_connect_answered_abandoned_callback_order_and_ivr(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path / "ctr_1.jsonl",
        ctr(
            "c-answered",
            "09:00:00",
            queue=("09:00:30", "09:02:30", 120),
            agent=("09:02:30", 300),
            end="09:08:00",
            attributes={"customer_id": "u1", "contact_reason": "Delivery Status", "outcome": "resolved"},
        ),
        ctr(
            "c-abandoned",
            "10:00:00",
            queue=("10:00:40", "10:05:40", 300),
            end="10:05:40",
            attributes={"contact_reason": "Returns"},
        ),
        ctr(
            "c-callback",
            "11:00:00",
            method="CALLBACK",
            queue=("11:00:00", "11:03:00", 180),
            agent=("11:03:00", 200),
            end="11:07:00",
            attributes={"contact_reason": "Returns", "outcome": "resolved"},
            PreviousContactId="c-abandoned",
        ),
        ctr(
            "c-order",
            "12:00:00",
            queue=("12:00:20", "12:01:20", 60),
            agent=("12:01:20", 240),
            end="12:06:00",
            attributes={"contact_reason": "Phone order", "outcome": "order_placed", "order_value": "129.90"},
        ),
        ctr("c-ivr", "13:00:00", end="13:00:45"),
    )
    con, report = load(connect_config(tmp_path))
    assert report.failures == []
    assert rows(con, ROW) == [
        ("2026-11-02 09:00:30", "call:queued", 120.0, None, None, "delivery_status", PHONE),
        ("2026-11-02 09:02:30", "call:answered", 120.0, 300.0, None, "delivery_status", PHONE),
        ("2026-11-02 09:08:00", "call:ended", 120.0, 300.0, "resolved", "delivery_status", PHONE),
        ("2026-11-02 10:00:40", "call:queued", 300.0, None, None, "returns", PHONE),
        ("2026-11-02 10:05:40", "call:abandoned_in_queue", 300.0, None, "abandoned", "returns", PHONE),
        ("2026-11-02 11:00:00", "call:callback", None, None, None, "returns", PHONE),
        ("2026-11-02 11:00:00", "call:queued", 180.0, None, None, "returns", PHONE),
        ("2026-11-02 11:03:00", "call:answered", 180.0, 200.0, None, "returns", PHONE),
        ("2026-11-02 11:07:00", "call:ended", 180.0, 200.0, "resolved", "returns", PHONE),
        ("2026-11-02 12:00:20", "call:queued", 60.0, None, None, "phone_order", PHONE),
        ("2026-11-02 12:01:20", "call:answered", 60.0, 240.0, None, "phone_order", PHONE),
        ("2026-11-02 12:06:00", "call:order_placed", 60.0, 240.0, "order_placed", "phone_order", PHONE),
        ("2026-11-02 13:00:45", "call:ended_in_ivr", None, None, "customer_disconnect", None, PHONE),
    ]
    assert rows(con, "select revenue from touchpoints where touchpoint = 'call:order_placed'") == [(129.9,)]
    assert rows(
        con,
        "select distinct record_key, record_version::varchar, source_session_id, channel, user_id_hash"
        " from touchpoints where record_key = 'connect:c-answered'",
    ) == [("connect:c-answered", "2026-11-02 09:08:00", "c-answered", "call", hmac_hex(KEY, "u1"))]
    attributes = rows(
        con, "select distinct attributes::varchar from touchpoints where record_key = 'connect:c-callback'"
    )
    assert json.loads(attributes[0][0]) == {
        "contact_id": "c-callback",
        "initiation_method": "CALLBACK",
        "disconnect_reason": "CUSTOMER_DISCONNECT",
        "queue": "Orders",
        "agent": "agent.one",
        "hold_seconds": 15.0,
        "after_contact_work_seconds": 40.0,
        "previous_contact_id": "c-abandoned",
        "next_contact_id": None,
        "contact_attributes": {},
    }
    assert rows(con, COUNTS) == [(5, 5, 0, 0)]
    # event ids are deterministic and unique
    assert rows(con, "select count(*) = count(distinct event_id) from touchpoints") == [(True,)]


def test_connect_transfer_legs_share_the_initial_contact(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path / "ctr_1.jsonl",
        ctr(
            "c-t1",
            "14:00:00",
            queue=("14:00:30", "14:01:30", 60),
            agent=("14:01:30", 120),
            end="14:03:30",
            NextContactId="c-t2",
            attributes={"contact_reason": "Billing"},
        ),
        ctr(
            "c-t2",
            "14:03:30",
            method="TRANSFER",
            queue=("14:03:30", "14:04:10", 40),
            agent=("14:04:10", 200),
            end="14:07:30",
            InitialContactId="c-t1",
            PreviousContactId="c-t1",
            attributes={"contact_reason": "Billing", "outcome": "resolved"},
        ),
    )
    con, _ = load(connect_config(tmp_path))
    assert rows(
        con,
        "select ts::varchar, touchpoint, wait_seconds, handle_seconds, outcome, source_session_id,"
        " record_key from touchpoints order by ts, ingest_seq",
    ) == [
        ("2026-11-02 14:00:30", "call:queued", 60.0, None, None, "c-t1", "connect:c-t1"),
        ("2026-11-02 14:01:30", "call:answered", 60.0, 120.0, None, "c-t1", "connect:c-t1"),
        ("2026-11-02 14:03:30", "call:transferred", 60.0, 120.0, "transferred", "c-t1", "connect:c-t1"),
        ("2026-11-02 14:03:30", "call:queued", 40.0, None, None, "c-t1", "connect:c-t2"),
        ("2026-11-02 14:04:10", "call:answered", 40.0, 200.0, None, "c-t1", "connect:c-t2"),
        ("2026-11-02 14:07:30", "call:ended", 40.0, 200.0, "resolved", "c-t1", "connect:c-t2"),
    ]


def test_connect_chat_contacts_become_chat_touchpoints(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path / "ctr_1.jsonl",
        ctr(
            "c-chat",
            "15:00:00",
            method="API",
            phone=None,
            queue=("15:00:05", "15:00:35", 30),
            agent=("15:00:35", 600),
            end="15:10:35",
            Channel="CHAT",
            attributes={"customer_id": "u2", "contact_reason": "Sizing"},
        ),
    )
    con, _ = load(connect_config(tmp_path))
    assert rows(
        con, "select touchpoint, channel, phone_hash, user_id_hash, device from touchpoints order by ts"
    ) == [
        ("chat:queued", "chat", None, hmac_hex(KEY, "u2"), None),
        ("chat:answered", "chat", None, hmac_hex(KEY, "u2"), None),
        ("chat:ended", "chat", None, hmac_hex(KEY, "u2"), None),
    ]


def test_connect_in_progress_queue_transfer_and_outbound_contacts(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path / "ctr_1.jsonl",
        ctr("c-new", "08:00:00"),  # an early copy: nothing has happened yet
        ctr("c-waiting", "08:10:00", queue=("08:10:20", None, None)),  # still in the queue
        # moved to another queue by the flow: transferred, not abandoned
        ctr("c-moved", "08:20:00", queue=("08:20:10", "08:21:10", 60), end="08:21:10", NextContactId="c-x"),
        ctr("c-out", "08:30:00", method="OUTBOUND", end="08:30:40"),  # the customer did not pick up
    )
    con, _ = load(connect_config(tmp_path))
    assert rows(con, ROW) == [
        ("2026-11-02 08:00:00", "call:started", None, None, None, None, PHONE),
        ("2026-11-02 08:10:20", "call:queued", None, None, None, None, PHONE),
        ("2026-11-02 08:20:10", "call:queued", 60.0, None, None, None, PHONE),
        ("2026-11-02 08:21:10", "call:transferred", 60.0, None, "transferred", None, PHONE),
        ("2026-11-02 08:30:40", "call:unanswered", None, None, "customer_disconnect", None, PHONE),
    ]
    assert rows(con, COUNTS) == [(4, 4, 0, 0)]


def early_and_final_copy() -> tuple[dict[str, Any], dict[str, Any]]:
    """Connect re-sends a contact on update; the early copy has no DisconnectReason key at all."""
    early = ctr(
        "c-re", "09:00:00", queue=("09:00:30", "09:01:30", 60), agent=("09:01:30", None), updated="09:01:35"
    )
    del early["DisconnectReason"], early["DisconnectTimestamp"]
    early["Agent"].pop("AgentInteractionDuration")
    final = ctr(
        "c-re",
        "09:00:00",
        queue=("09:00:30", "09:01:30", 60),
        agent=("09:01:30", 300),
        end="09:06:30",
        updated="09:07:10",
        attributes={"outcome": "resolved"},
    )
    return early, final


FINAL_ROWS = [
    ("2026-11-02 09:00:30", "call:queued", 60.0, None, None, None, PHONE),
    ("2026-11-02 09:01:30", "call:answered", 60.0, 300.0, None, None, PHONE),
    ("2026-11-02 09:06:30", "call:ended", 60.0, 300.0, "resolved", None, PHONE),
]


@pytest.mark.parametrize("newer_first", [False, True])
def test_connect_redelivered_record_keeps_newest_in_one_file(tmp_path: Path, newer_first: bool) -> None:
    early, final = early_and_final_copy()
    write_jsonl(tmp_path / "ctr_1.jsonl", *([final, early] if newer_first else [early, final]))
    con, _ = load(connect_config(tmp_path))
    assert rows(con, ROW) == FINAL_ROWS
    assert rows(con, "select distinct record_version::varchar from touchpoints") == [("2026-11-02 09:07:10",)]
    assert rows(con, COUNTS) == [(2, 1, 1, 0)]


@pytest.mark.parametrize("newer_first", [False, True])
def test_connect_redelivered_record_keeps_newest_across_files(tmp_path: Path, newer_first: bool) -> None:
    early, final = early_and_final_copy()
    write_jsonl(tmp_path / "ctr_1.jsonl", final if newer_first else early)
    write_jsonl(tmp_path / "ctr_2.jsonl", early if newer_first else final)
    con, report = load(connect_config(tmp_path))
    assert [f.status for f in report.files] == ["loaded", "loaded"]
    assert rows(con, ROW) == FINAL_ROWS
    disconnect = rows(con, "select distinct attributes->>'$.disconnect_reason' from touchpoints")
    assert disconnect == [("CUSTOMER_DISCONNECT",)]
    # an older copy arriving later is a duplicate; a newer one replaces the stored record
    assert rows(con, COUNTS) == (
        [(1, 1, 0, 0), (1, 0, 1, 0)] if newer_first else [(1, 1, 0, 0), (1, 1, 0, 0)]
    )
    assert_counts_reconcile(con)


def test_connect_same_file_twice_is_skipped(tmp_path: Path) -> None:
    _, final = early_and_final_copy()
    write_jsonl(tmp_path / "ctr_1.jsonl", final)
    config = connect_config(tmp_path)
    con, _ = load(config)
    before = rows(con, "select * from touchpoints order by ingest_seq")
    (tmp_path / "ctr_2.jsonl").write_bytes((tmp_path / "ctr_1.jsonl").read_bytes())  # re-delivered copy
    report = load_sources(con, config)
    assert [f.status for f in report.files] == ["skipped", "skipped"]
    assert rows(con, "select * from touchpoints order by ingest_seq") == before
    assert rows(con, COUNTS) == [(1, 1, 0, 0)]


def test_connect_bad_records_are_rejected_with_reasons_and_line_numbers(tmp_path: Path) -> None:
    good = ctr("c-ok", "09:00:00", end="09:00:20")
    no_queue_duration = ctr("c-6", "09:00:00", queue=("09:00:10", "09:01:10", "n/a"), end="09:01:10")
    write_jsonl(
        tmp_path / "ctr_1.jsonl",
        good,  # line 1
        ctr(None, "09:00:00", end="09:00:20"),  # 2
        ctr("c-3", None, end="09:00:20"),  # 3
        {**ctr("c-4", None, end="09:00:20"), "InitiationTimestamp": "yesterday"},  # 4
        ctr("c-5", "09:00:00", end="09:00:20", phone=None, attributes={"contact_reason": "x"}),  # 5
        no_queue_duration,  # 6
        '{"ContactId": "c-7", "InitiationTimestamp": ',  # 7: truncated line
        "",  # 8: blank, not a record
        {**good, "ContactId": "c-ok-2"},  # 9
        ctr("c-10", "09:00:00", method="MONITOR", agent=("09:00:00", 60), end="09:01:00"),  # 10
    )
    con, _ = load(connect_config(tmp_path))
    assert rows(con, "select source_row, reason from rejected_rows order by source_row") == [
        (2, "missing ContactId"),
        (3, "missing InitiationTimestamp"),
        (4, "unparseable InitiationTimestamp: yesterday"),
        (5, "no customer identifier"),
        (6, "Queue.Duration is not a number: n/a"),
        (7, "malformed JSON"),
        (10, "InitiationMethod MONITOR is not a customer contact"),
    ]
    assert rows(con, "select source_row, touchpoint from touchpoints order by source_row") == [
        (1, "call:ended_in_ivr"),
        (9, "call:ended_in_ivr"),
    ]
    assert rows(con, COUNTS) == [(9, 2, 0, 7)]


# --- flat call-detail CSV -------------------------------------------------------------------

CSV_MAPPING = {
    "call_id": "Call ID",
    "start_time": "Started",
    "phone": "Caller",
    "user_id": "Customer",
    "queue_seconds": "Queue Secs",
    "answered_at": "Answered",
    "end_time": "Ended",
    "outcome": "Outcome",
    "topic": "Reason",
    "talk_seconds": "Talk Secs",
}


def test_calls_csv_with_pipes_bom_and_local_times(tmp_path: Path) -> None:
    lines = [
        "Call ID|Started|Caller|Customer|Queue Secs|Answered|Ended|Outcome|Reason|Talk Secs",
        "k1|2026-11-02 09:00:00|+1 555-010-1234|u1|120|2026-11-02 09:02:00|2026-11-02 09:07:00|Resolved|Delivery Status|300",
        "k2|2026-11-02 10:00:00|(555) 010-1234||95|||||",
        "k3|2026-11-02 11:00:00|5550101234||30|2026-11-02 11:00:30|2026-11-02 11:04:30|order placed|Phone Order|",
        "k4|2026-11-02 12:00:00|555.010.1234||0|||||",
        "k5|yesterday|5550101234||||||| ",
        "|2026-11-02 12:00:00|5550101234|||||||",
        "k7|2026-11-02 12:00:00|5550101234||abc||||| ",
        "k8|2026-11-02 12:00:00|||||||| ",
        "k9|2026-11-02 12:00:00|5550101234|||2026-11-02 25:00:00|||| ",
    ]
    (tmp_path / "calls.csv").write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    source = {
        "name": "phones",
        "kind": "calls_csv",
        "path": "calls.csv",
        "delimiter": "|",
        "time_zone": "America/New_York",  # EST (UTC-5) after 2026-11-01
        "columns": CSV_MAPPING,
    }
    con, report = load(make_config(tmp_path, sources=[source]))
    assert report.failures == []
    assert rows(con, ROW) == [
        ("2026-11-02 14:00:00", "call:queued", 120.0, None, None, "delivery_status", PHONE),
        ("2026-11-02 14:02:00", "call:answered", 120.0, 300.0, None, "delivery_status", PHONE),
        ("2026-11-02 14:07:00", "call:ended", 120.0, 300.0, "resolved", "delivery_status", PHONE),
        ("2026-11-02 15:00:00", "call:queued", 95.0, None, None, None, PHONE),
        ("2026-11-02 15:01:35", "call:abandoned_in_queue", 95.0, None, "abandoned", None, PHONE),
        ("2026-11-02 16:00:00", "call:queued", 30.0, None, None, "phone_order", PHONE),
        ("2026-11-02 16:00:30", "call:answered", 30.0, 240.0, None, "phone_order", PHONE),
        ("2026-11-02 16:04:30", "call:order_placed", 30.0, 240.0, "order_placed", "phone_order", PHONE),
        ("2026-11-02 17:00:00", "call:ended_in_ivr", None, None, None, None, PHONE),
    ]
    assert rows(con, "select source_row, reason from rejected_rows order by source_row") == [
        (5, "unparseable start_time: yesterday"),
        (6, "missing call_id"),
        (7, "queue_seconds is not a number: abc"),
        (8, "no customer identifier"),
        (9, "unparseable answered_at: 2026-11-02 25:00:00"),
    ]
    assert rows(con, COUNTS) == [(9, 4, 0, 5)]
    assert rows(con, "select distinct user_id_hash from touchpoints where record_key = 'call:k1'") == [
        (hmac_hex(KEY, "u1"),)
    ]


def test_calls_csv_phones_in_mixed_formats_hash_equal(tmp_path: Path) -> None:
    (tmp_path / "calls.csv").write_text(
        "call_id,start_time,phone\n"
        "p1,2026-11-02 09:00:00Z,+1 555-010-1234\n"
        "p2,2026-11-02 09:10:00Z,(555) 010-1234\n"
        "p3,2026-11-02 09:20:00Z,5550101234\n"
    )
    source = {"name": "phones", "kind": "calls_csv", "path": "calls.csv"}
    con, _ = load(make_config(tmp_path, sources=[source]))
    assert rows(con, "select record_key, phone_hash from touchpoints order by ts") == [
        ("call:p1", PHONE),
        ("call:p2", PHONE),
        ("call:p3", PHONE),
    ]


def test_calls_csv_twilio_rfc2822_timestamps(tmp_path: Path) -> None:
    (tmp_path / "twilio.csv").write_text(
        "sid,date_updated,start_time,end_time,from,to,direction,status,duration\n"
        'CA1,"Tue, 03 Nov 2026 14:07:00 +0000","Tue, 03 Nov 2026 14:00:05 +0000",'
        '"Tue, 03 Nov 2026 14:06:05 +0000",+15550101234,+15550009999,inbound,completed,360\n'
        'CA2,"Tue, 03 Nov 2026 15:01:00 GMT","Tue, 03 Nov 2026 15:00:00 GMT",'
        '"Tue, 03 Nov 2026 15:00:30 GMT",+15550101234,+15550009999,inbound,busy,0\n'
    )
    source = {
        "name": "twilio",
        "kind": "calls_csv",
        "path": "twilio.csv",
        "time_zone": "Europe/Berlin",  # an explicit +0000 / GMT wins over the source zone
        "columns": {
            "call_id": "sid",
            "start_time": "start_time",
            "end_time": "end_time",
            "updated_at": "date_updated",
            "phone": "from",
            "talk_seconds": "duration",
            "disposition": "status",
        },
    }
    con, report = load(make_config(tmp_path, sources=[source]))
    assert report.failures == []
    assert rows(con, ROW) == [
        ("2026-11-03 14:00:05", "call:answered", None, 360.0, None, None, PHONE),
        ("2026-11-03 14:06:05", "call:ended", None, 360.0, "completed", None, PHONE),
        ("2026-11-03 15:00:30", "call:ended_in_ivr", None, None, "busy", None, PHONE),
    ]
    assert rows(con, "select distinct record_key, record_version::varchar from touchpoints order by 1") == [
        ("call:CA1", "2026-11-03 14:07:00"),
        ("call:CA2", "2026-11-03 15:01:00"),
    ]
    assert rows(con, COUNTS) == [(2, 2, 0, 0)]


# --- privacy --------------------------------------------------------------------------------

RAW_PHONES = (
    "5550101234",
    "+15550101234",
    "15550101234",
    "555-010-1234",
    "(555) 010-1234",
    "555 010 1234",
    "555.010.1234",
    "010-1234",
    "0101234",
)


def test_no_raw_phone_number_anywhere_in_the_warehouse(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path / "ctr_1.jsonl",
        ctr(
            "c-1",
            "09:00:00",
            queue=("09:00:30", "09:01:30", 60),
            agent=("09:01:30", 100),
            end="09:05:00",
            attributes={"customer_id": "u1", "callback_number": "555-010-1234", "note": "5550101234"},
        ),
        ctr(
            "c-2",
            "bad time",
            phone="5550101234",
            attributes={"mobile": "(555) 010-1234", "alt": "5550101234"},
        ),
        ctr(None, "09:00:00", phone="+15550101234"),
    )
    (tmp_path / "calls.csv").write_text(
        "call_id,start_time,phone,queue_seconds\n"
        "p1,2026-11-02 09:00:00Z,555.010.1234,10\n"
        "p2,not a time,5550101234,\n"
        "p3,2026-11-02 09:00:00Z,555 010 1234,many\n"
    )
    config = make_config(
        tmp_path,
        sources=[
            {"name": "calls", "kind": "connect", "path": "ctr*.jsonl"},
            {"name": "phones", "kind": "calls_csv", "path": "calls.csv"},
        ],
    )
    con, report = load(config)
    assert report.failures == []
    assert rows(con, "select count(*) from rejected_rows") == [(4,)]
    assert rows(con, "select count(distinct phone_hash), min(phone_hash) from touchpoints") == [(1, PHONE)]
    text_columns = rows(
        con,
        "select table_name, column_name from information_schema.columns"
        " where table_catalog = current_database() and data_type in ('VARCHAR', 'JSON')",
    )
    assert text_columns
    for table, column in text_columns:
        for phone in RAW_PHONES:
            found = rows(
                con, f'select count(*) from "{table}" where contains("{column}"::varchar, ?)', [phone]
            )
            assert found == [(0,)], (table, column, phone)
    con.close()
    for path in tmp_path.glob("warehouse.duckdb*"):
        blob = path.read_bytes()
        for phone in RAW_PHONES:
            assert phone.encode() not in blob, (path.name, phone)


# --- the bundled sample ---------------------------------------------------------------------


@pytest.mark.skipif(not list(SAMPLE_CALLS.glob("connect_ctr_*.jsonl")), reason="sample not generated")
def test_sample_connect_records_load_without_rejects(tmp_path: Path) -> None:
    config = connect_config(tmp_path, path=str(SAMPLE_CALLS / "connect_ctr_*.jsonl"))
    con, report = load(config)
    assert report.failures == []
    assert rows(con, "select count(*) from rejected_rows") == [(0,)]
    assert rows(con, "select count(*) > 0 from touchpoints") == [(True,)]
    assert_counts_reconcile(con)

"""The loader's guarantees, exercised through the generic event log and CRM adapters."""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path

import duckdb
import pytest

from journey_mining.ingest import loader
from journey_mining.ingest.loader import LoadError, load_sources
from journey_mining.privacy import hmac_hex
from journey_mining.warehouse import connect
from tests.conftest import TEST_HASH_KEY, make_config

EVENTS_MAPPING = {"anonymous_id": "visitor", "ts": "time", "event_name": "event", "email": "mail"}
ID_EVENTS_MAPPING = {**EVENTS_MAPPING, "event_id": "id"}


def events_config(tmp_path: Path, path: str = "events*.csv", **extra: object):
    source = {"name": "site", "kind": "events", "path": path, "columns": EVENTS_MAPPING, **extra}
    return make_config(tmp_path, sources=[source])


def load(config) -> tuple[duckdb.DuckDBPyConnection, object]:
    con = connect(config.warehouse_path)
    report = load_sources(con, config, raise_on_failure=False)
    return con, report


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_events_csv_exact_rows_and_counts(tmp_path: Path) -> None:
    (tmp_path / "events.csv").write_text(
        "visitor,time,event,page,mail\n"
        "v1,2026-11-02 10:00:00Z,page_view,/help/delivery-status,\n"
        "v1,2026-11-02 10:05:00Z,Add To Cart,/product/7,V1@Example.com\n"
        "v2,not a time,page_view,/,\n"
        ",2026-11-02 10:00:00Z,page_view,/,\n"
        "v3,2026-11-02 10:00:00Z,,/,\n"
    )
    con, report = load(events_config(tmp_path))
    assert rows(
        con, "select anonymous_id, ts::varchar, touchpoint, page, email_hash from touchpoints order by ts"
    ) == [
        ("v1", "2026-11-02 10:00:00", "web:help:delivery-status", "/help/delivery-status", None),
        (
            "v1",
            "2026-11-02 10:05:00",
            "web:add_to_cart",
            "/product/7",
            hmac_hex(TEST_HASH_KEY.encode(), "v1@example.com"),
        ),
    ]
    assert rows(con, "select source_row, reason from rejected_rows order by source_row") == [
        (3, "unparseable timestamp: not a time"),
        (4, "no customer identifier"),
        (5, "missing event name"),
    ]
    assert rows(con, "select rows_read, rows_loaded, rows_duplicate, rows_rejected from loaded_files") == [
        (5, 2, 0, 3)
    ]
    assert report.by_source()["site"]["read"] == 5


def test_reloading_a_file_adds_nothing(tmp_path: Path) -> None:
    (tmp_path / "events.csv").write_text("visitor,time,event\nv1,2026-11-02 10:00:00Z,page_view\n")
    config = events_config(tmp_path)
    con, _ = load(config)
    before = rows(con, "select * from touchpoints")
    report = load_sources(con, config)
    assert [f.status for f in report.files] == ["skipped"]
    assert rows(con, "select * from touchpoints") == before
    assert rows(con, "select count(*) from loaded_files") == [(1,)]


def test_overlapping_files_and_duplicate_ids_load_once(tmp_path: Path) -> None:
    (tmp_path / "events_1.csv").write_text(
        "id,visitor,time,event\ne1,v1,2026-11-02 10:00:00Z,page_view\ne1,v1,2026-11-02 10:00:00Z,page_view\n"
    )
    (tmp_path / "events_2.csv").write_text(
        "id,visitor,time,event\ne1,v1,2026-11-02 10:00:00Z,page_view\ne2,v1,2026-11-02 10:01:00Z,purchase\n"
    )
    config = events_config(tmp_path, path="events_*.csv", columns=ID_EVENTS_MAPPING)
    con, _ = load(config)
    assert rows(con, "select touchpoint from touchpoints order by ts") == [
        ("web:page_view",),
        ("web:purchase",),
    ]
    assert rows(
        con, "select rows_read, rows_loaded, rows_duplicate, rows_rejected from loaded_files order by file_id"
    ) == [
        (2, 1, 1, 0),
        (2, 1, 1, 0),
    ]


@pytest.mark.parametrize(
    ("content", "encoding", "delimiter"),
    [
        ("\ufeffvisitor;time;event\r\nv1;2026-11-02 10:00:00 UTC;café_view\r\n", "utf-8", None),
        ("visitor|time|event\nv1|2026-11-02 10:00:00 UTC|café_view\n", "utf-8", "|"),
        ("visitor;time;event\r\nv1;2026-11-02 10:00:00 UTC;café_view\r\n", "latin-1", ";"),
    ],
)
def test_messy_csv_exports_load(tmp_path: Path, content: str, encoding: str, delimiter: str | None) -> None:
    (tmp_path / "events.csv").write_bytes(content.encode(encoding))
    extra = {"delimiter": delimiter} if delimiter else {}
    con, report = load(events_config(tmp_path, **extra))
    assert report.failures == []
    assert rows(con, "select anonymous_id, ts::varchar, event_name, touchpoint from touchpoints") == [
        ("v1", "2026-11-02 10:00:00", "café_view", "web:cafe_view")
    ]


def test_naive_local_times_take_the_source_zone_across_dst(tmp_path: Path) -> None:
    (tmp_path / "events.csv").write_text(
        "visitor,time,event\n"
        "v1,2026-10-24 12:00:00,a\n"  # CEST, UTC+2
        "v1,2026-10-26 12:00:00,b\n"  # CET, UTC+1
        "v1,2026-10-26 12:00:00+05:30,c\n"  # explicit offset wins
    )
    con, _ = load(events_config(tmp_path, time_zone="Europe/Berlin"))
    assert rows(con, "select event_name, ts::varchar from touchpoints order by event_name") == [
        ("a", "2026-10-24 10:00:00"),
        ("b", "2026-10-26 11:00:00"),
        ("c", "2026-10-26 06:30:00"),
    ]


def test_malformed_csv_rows_are_quarantined_with_line_numbers(tmp_path: Path) -> None:
    (tmp_path / "events.csv").write_text(
        "visitor,time,event\nv1,2026-11-02 10:00:00Z,a\nv2,2026-11-02 10:00:00Z,b,extra\nv3,2026-11-02 10:00:00Z,c\n"
    )
    con, _ = load(events_config(tmp_path))
    assert rows(con, "select event_name, source_row from touchpoints order by source_row") == [
        ("a", 1),
        ("c", 3),
    ]
    reject = rows(con, "select source_row, raw, reason from rejected_rows")
    assert len(reject) == 1
    assert reject[0][:2] == (2, "v2,2026-11-02 10:00:00Z,b,extra")
    assert reject[0][2].startswith("malformed CSV row")


def test_missing_required_column_fails_naming_file_and_column(tmp_path: Path) -> None:
    (tmp_path / "events.csv").write_text("visitor,event\nv1,a\n")
    config = events_config(tmp_path)
    con = connect(config.warehouse_path)
    with pytest.raises(LoadError, match=r"events\.csv.*'time'"):
        load_sources(con, config)
    assert rows(con, "select count(*) from touchpoints") == [(0,)]
    assert rows(con, "select count(*) from loaded_files") == [(0,)]


def test_unreadable_and_missing_files_fail_clearly(tmp_path: Path) -> None:
    (tmp_path / "events.parquet").write_bytes(b"PAR1 this is not parquet")
    _con, report = load(events_config(tmp_path, path="events.parquet"))
    assert "not a readable Parquet file" in (report.failures[0].error or "")
    _, report = load(events_config(tmp_path, path="nothing_*.csv"))
    assert "no file matches" in (report.failures[0].error or "")


def test_gzip_and_parquet_inputs(tmp_path: Path) -> None:
    text = "visitor,time,event\nv1,2026-11-02 10:00:00Z,a\n"
    with gzip.open(tmp_path / "events.csv.gz", "wt") as handle:
        handle.write(text)
    con, report = load(events_config(tmp_path, path="events.csv.gz"))
    assert report.failures == []
    assert rows(con, "select event_name from touchpoints") == [("a",)]
    con.close()
    parquet_dir = tmp_path / "pq"
    parquet_dir.mkdir()
    duckdb.sql(
        "copy (select 'v1' as visitor, timestamp '2026-11-02 10:00:00' as time, 'a' as event) "
        f"to '{parquet_dir / 'events.parquet'}' (format parquet)"
    )
    con, report = load(events_config(parquet_dir, path="events.parquet"))
    assert rows(con, "select anonymous_id, ts::varchar, touchpoint from touchpoints") == [
        ("v1", "2026-11-02 10:00:00", "web:a")
    ]


def test_crm_links_hashed_identifiers_and_stores_no_pii(tmp_path: Path) -> None:
    (tmp_path / "crm.csv").write_bytes(
        "\ufeffcustomer_id;email;phone\r\nu1; Ann@Shop.COM ;(555) 010-1234\r\nu2;;\r\nu1; Ann@Shop.COM ;(555) 010-1234\r\n".encode()
    )
    config = make_config(
        tmp_path,
        sources=[
            {
                "name": "crm",
                "kind": "crm",
                "path": "crm.csv",
                "delimiter": ";",
                "columns": {"user_id": "customer_id"},
            }
        ],
    )
    con, _ = load(config)
    key = TEST_HASH_KEY.encode()
    assert rows(con, "select user_id_hash, email_hash, phone_hash from identities") == [
        (hmac_hex(key, "u1"), hmac_hex(key, "ann@shop.com"), hmac_hex(key, "+15550101234"))
    ]
    assert rows(con, "select source_row, reason from rejected_rows") == [
        (2, "fewer than two identifiers: nothing to link")
    ]
    assert rows(con, "select rows_read, rows_loaded, rows_duplicate, rows_rejected from loaded_files") == [
        (3, 1, 1, 1)
    ]
    con.close()
    blob = config.warehouse_path.read_bytes()
    for secret in (b"Ann@Shop.COM", b"ann@shop.com", b"010-1234", b"5550101234"):
        assert secret not in blob


TYPED_TIMES = [
    # (label, SQL value of the Parquet column): in range, DST gap and fold, out of range, NULL
    ("tz", "timestamptz '2026-11-02 10:00:00.123456+05:30'"),
    ("tz_early", "timestamptz '1969-12-31 23:59:59+00'"),
    ("tz_late", "timestamptz '2100-01-01 00:00:00+00'"),
    ("naive", "timestamp '2026-11-02 10:00:00.5'"),
    ("gap", "timestamp '2026-03-29 02:30:00'"),  # no such time in Berlin (DST starts)
    ("fold", "timestamp '2026-10-25 02:30:00'"),  # twice in Berlin (DST ends)
    ("edge", "timestamp '1970-01-01 00:30:00'"),  # in range as text, before 1970 in UTC
    ("old", "timestamp '1850-06-01 12:00:00'"),
    ("far", "timestamp '2250-01-01 00:00:00'"),
    ("inf", "timestamp 'infinity'"),
    ("ms", "cast(timestamp '2026-11-02 10:00:00.123' as timestamp_ms)"),
    ("s", "cast(timestamp '2026-11-02 10:00:00' as timestamp_s)"),
    ("ns", "cast('2026-11-02 10:00:00.123456789' as timestamp_ns)"),
    ("ns_old", "cast('1960-01-01 00:00:00.999999999' as timestamp_ns)"),
    ("missing", "cast(null as timestamp)"),
]


@pytest.mark.parametrize("time_zone", ["UTC", "Europe/Berlin"])
def test_typed_parquet_timestamps_load_as_their_text_would(tmp_path: Path, time_zone: str) -> None:
    """A typed timestamp is taken directly: same instants and reject reasons as its text."""
    for folder in ("typed", "text"):
        (tmp_path / folder).mkdir()
    for n, (label, value) in enumerate(TYPED_TIMES):
        # one file per value: each keeps its own column type
        duckdb.sql(
            f"copy (select 'v1' as visitor, {value} as time, '{label}' as event) "
            f"to '{tmp_path / 'typed' / f'events_{n:02}.parquet'}' (format parquet)"
        )
        duckdb.sql(
            f"copy (select 'v1' as visitor, cast({value} as varchar) as time, '{label}' as event) "
            f"to '{tmp_path / 'text' / f'events_{n:02}.parquet'}' (format parquet)"
        )
    results = []
    for folder in ("typed", "text"):
        con, report = load(events_config(tmp_path / folder, path="events_*.parquet", time_zone=time_zone))
        assert report.failures == []
        results.append(
            (
                rows(con, "select event_name, ts from touchpoints order by all"),
                rows(con, "select file_id, reason from rejected_rows order by all"),
            )
        )
        con.close()
    typed, text = results
    assert typed == text
    loaded = {event for event, _ in typed[0]}
    assert {"tz", "naive", "ms", "s", "ns"} <= loaded  # the fast path was taken, not only rejects
    assert len(typed[1]) >= 5  # and out-of-range values are still rejected with the text's reason


def test_parquet_rejects_keep_redacted_record_text(tmp_path: Path) -> None:
    """The record text of a reject is built for rejected rows only, PII still redacted."""
    duckdb.sql(
        "copy (select * from (values ('v1', timestamp '2026-11-02 10:00:00', 'a', 'jane@example.com'),"
        " ('v2', cast(null as timestamp), 'b', 'joe@example.com'),"
        " ('v3', timestamp '2026-11-02 10:00:00', null, null)) t(visitor, time, event, mail))"
        f" to '{tmp_path / 'events.parquet'}' (format parquet)"
    )
    con, report = load(events_config(tmp_path, path="events.parquet"))
    assert report.failures == []
    assert rows(con, "select source_row, raw, reason from rejected_rows order by source_row") == [
        (2, '{"event":"b","mail":"<redacted>","time":null,"visitor":"v2"}', "missing timestamp"),
        (
            3,
            '{"event":null,"mail":"<redacted>","time":"2026-11-02 10:00:00","visitor":"v3"}',
            "missing event name",
        ),
    ]
    assert rows(con, "select rows_read, rows_loaded, rows_duplicate, rows_rejected from loaded_files") == [
        (3, 1, 0, 2)
    ]


def _id_events(tmp_path: Path, name: str, lines: list[str]) -> None:
    (tmp_path / name).write_text("id,visitor,time,event\n" + "".join(line + "\n" for line in lines))


def test_stored_keys_are_found_through_the_key_index(tmp_path: Path) -> None:
    """New files are checked against ``loaded_record_keys``; an old warehouse gets it built."""
    config = events_config(tmp_path, path="events_*.csv", columns=ID_EVENTS_MAPPING)
    _id_events(tmp_path, "events_1.csv", ["e1,v1,2026-11-02 10:00:00Z,a", "e2,v1,2026-11-02 10:01:00Z,b"])
    con, _ = load(config)
    assert rows(con, "select count(*), count(distinct key_hash) from loaded_record_keys") == [(2, 2)]
    # a warehouse from before the index: it is rebuilt from touchpoints, so e2 is still known
    con.execute("drop table loaded_record_keys")
    _id_events(tmp_path, "events_2.csv", ["e2,v1,2026-11-02 10:01:00Z,b", "e3,v1,2026-11-02 10:02:00Z,c"])
    load_sources(con, config)
    # an engine whose hash() differs: the index is rebuilt too, and e3 is still known
    con.execute("update loaded_record_keys_hash set probe = [1]")
    con.execute("update loaded_record_keys set key_hash = key_hash + 1")
    _id_events(tmp_path, "events_3.csv", ["e3,v1,2026-11-02 10:02:00Z,c", "e4,v1,2026-11-02 10:03:00Z,d"])
    load_sources(con, config)
    # a stale hash (a deleted touchpoint) only costs a look-up: e4 loads again
    con.execute("delete from touchpoints where event_name = 'd'")
    _id_events(tmp_path, "events_4.csv", ["e4,v1,2026-11-02 10:03:00Z,d"])
    load_sources(con, config)
    assert rows(con, "select event_name, count(*) from touchpoints group by 1 order by 1") == [
        ("a", 1),
        ("b", 1),
        ("c", 1),
        ("d", 1),
    ]
    assert rows(
        con, "select rows_read, rows_loaded, rows_duplicate, rows_rejected from loaded_files order by file_id"
    ) == [(2, 2, 0, 0), (2, 1, 1, 0), (2, 1, 1, 0), (1, 1, 0, 0)]
    assert rows(con, "select count(*) from loaded_record_keys") == [(4,)]


def test_keys_made_from_content_are_looked_up_by_their_day(tmp_path: Path) -> None:
    """An event without an id is keyed by its content, time included: its key fixes its
    day, and a file is checked against the stored keys of its own days (plus those of no
    known day). Rows keyed by an id have no day and are checked against every key."""
    config = events_config(tmp_path, path="events_*.csv")
    _id_events(
        tmp_path,
        "events_1.csv",
        [",v1,2026-11-02 23:59:59Z,a", ",v1,2026-11-03 00:00:00Z,b", ",v2,2026-11-04 10:00:00Z,c"],
    )
    con, _ = load(config)
    assert rows(con, "select key_day::varchar, count(*) from loaded_record_keys group by 1 order by 1") == [
        ("2026-11-02", 1),
        ("2026-11-03", 1),
        ("2026-11-04", 1),
    ]
    # a later export repeats two of those days and adds one: only the new event loads
    _id_events(
        tmp_path,
        "events_2.csv",
        [",v1,2026-11-03 00:00:00Z,b", ",v2,2026-11-04 10:00:00Z,c", ",v2,2026-11-05 08:00:00Z,d"],
    )
    load_sources(con, config)
    # a key index from before key_day: its keys get no day, and are still found
    con.execute("alter table loaded_record_keys drop column key_day")
    _id_events(
        tmp_path,
        "events_3.csv",
        [",v1,2026-11-02 23:59:59Z,a", ",v2,2026-11-05 08:00:00Z,d", ",v3,2026-11-05 09:00:00Z,e"],
    )
    load_sources(con, config)
    # the source's export gains event ids: a file with id-keyed rows is checked against
    # every stored key; its content-keyed row (no id) is a duplicate of e
    with_ids = events_config(tmp_path, path="events_*.csv", columns=ID_EVENTS_MAPPING)
    _id_events(tmp_path, "events_4.csv", ["e9,v4,2026-11-06 10:00:00Z,f", ",v3,2026-11-05 09:00:00Z,e"])
    load_sources(con, with_ids)
    _id_events(tmp_path, "events_5.csv", ["e9,v4,2026-11-06 10:00:00Z,f"])
    load_sources(con, with_ids)
    assert rows(con, "select event_name, count(*) from touchpoints group by 1 order by 1") == [
        ("a", 1),
        ("b", 1),
        ("c", 1),
        ("d", 1),
        ("e", 1),
        ("f", 1),
    ]
    assert rows(
        con, "select rows_read, rows_loaded, rows_duplicate, rows_rejected from loaded_files order by file_id"
    ) == [(3, 3, 0, 0), (3, 1, 2, 0), (3, 1, 2, 0), (2, 1, 1, 0), (1, 0, 1, 0)]
    assert rows(con, "select key_day::varchar, count(*) from loaded_record_keys group by 1 order by 1") == [
        ("2026-11-05", 1),
        (None, 5),
    ]


# --- quick check: (path, size, mtime) before the checksum -----------------------------------

OLD_LOADED_FILES = """create table loaded_files (
    file_id integer primary key, source varchar not null, path varchar not null,
    sha256 varchar not null, size_bytes bigint not null, rows_read bigint not null,
    rows_loaded bigint not null, rows_duplicate bigint not null, rows_rejected bigint not null,
    touchpoints_written bigint not null, loaded_at timestamp not null)"""
"""``loaded_files`` as warehouses created before ``mtime_ns`` have it."""


def _write_aged(path: Path, text: str, age_seconds: int = 3600) -> None:
    """Write ``path`` and date it ``age_seconds`` back (an export delivered earlier, not just now)."""
    path.write_text(text)
    when = time.time_ns() - age_seconds * 10**9
    os.utime(path, ns=(when, when))


def _count_prepares(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file the loader prepares (reads and checksums) from now on."""
    prepared: list[Path] = []
    real = loader.prepare

    def counting(path: Path, *args: object) -> object:
        prepared.append(path)
        return real(path, *args)

    monkeypatch.setattr(loader, "prepare", counting)
    return prepared


def test_unchanged_files_are_skipped_without_being_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = "visitor,time,event\n"
    _write_aged(tmp_path / "events_1.csv", header + "v1,2026-11-02 10:00:00Z,a\n")
    _write_aged(tmp_path / "events_2.csv", header + "v2,2026-11-02 10:00:00Z,b\n")
    config = events_config(tmp_path, path="events_*.csv")
    con, _ = load(config)
    before = rows(con, "select * from loaded_files order by file_id")
    prepared = _count_prepares(monkeypatch)

    report = load_sources(con, config)

    assert prepared == [], "an unchanged file is neither read nor checksummed"
    assert [f.status for f in report.files] == ["skipped", "skipped"]
    assert report.by_source()["site"] == {
        "files": 2,
        "skipped": 2,
        "failed": 0,
        "read": 0,
        "loaded": 0,
        "duplicate": 0,
        "rejected": 0,
        "touchpoints": 0,
    }
    assert rows(con, "select * from loaded_files order by file_id") == before
    stat = (tmp_path / "events_1.csv").stat()
    assert rows(con, "select size_bytes, mtime_ns from loaded_files where file_id = 1") == [
        (stat.st_size, stat.st_mtime_ns)
    ]
    # the quick check off: every file is checksummed, and still skipped by its checksum
    report = load_sources(con, config, quick_check=False)
    assert len(prepared) == 2
    assert [f.status for f in report.files] == ["skipped", "skipped"]


def test_a_file_rewritten_in_place_is_loaded_again(tmp_path: Path) -> None:
    """New content at the same path (a growing export) has a new mtime: it is checksummed and
    loaded as a new file; the records it shares with the old version are duplicates."""
    path = tmp_path / "events.csv"
    header = "id,visitor,time,event\n"
    _write_aged(path, header + "e1,v1,2026-11-02 10:00:00Z,a\n", age_seconds=7200)
    config = events_config(tmp_path, path="events.csv", columns=ID_EVENTS_MAPPING)
    con, _ = load(config)
    _write_aged(path, header + "e1,v1,2026-11-02 10:00:00Z,a\ne2,v1,2026-11-02 10:01:00Z,b\n")

    report = load_sources(con, config)

    assert [
        (f.status, f.rows_read, f.rows_loaded, f.rows_duplicate, f.rows_rejected) for f in report.files
    ] == [("loaded", 2, 1, 1, 0)]
    assert rows(con, "select event_name, count(*) from touchpoints group by 1 order by 1") == [
        ("a", 1),
        ("b", 1),
    ]
    assert rows(con, "select path, size_bytes, mtime_ns from loaded_files order by file_id")[-1] == (
        str(path),
        path.stat().st_size,
        path.stat().st_mtime_ns,
    )


def test_same_size_new_mtime_is_checksummed_and_a_copy_is_skipped_by_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "events_1.csv"
    _write_aged(path, "visitor,time,event\nv1,2026-11-02 10:00:00Z,a\n", age_seconds=7200)
    config = events_config(tmp_path, path="events_*.csv")
    con, _ = load(config)
    prepared = _count_prepares(monkeypatch)
    # the same size, other content, a later mtime: loaded
    _write_aged(path, "visitor,time,event\nv2,2026-11-02 10:00:00Z,b\n")
    assert [f.status for f in load_sources(con, config).files] == ["loaded"]
    # the same content under another name: read, and skipped by its checksum
    (tmp_path / "events_2.csv").write_bytes(path.read_bytes())
    report = load_sources(con, config)
    assert [(Path(f.path).name, f.status) for f in report.files] == [
        ("events_1.csv", "skipped"),
        ("events_2.csv", "skipped"),
    ]
    assert [p.name for p in prepared] == ["events_1.csv", "events_2.csv"]
    assert rows(con, "select anonymous_id from touchpoints order by 1") == [("v1",), ("v2",)]


def test_a_file_modified_just_before_loading_is_checksummed_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write in the same timestamp tick as the loaded version could keep size and mtime:
    the stamp of a file modified shortly before its load is not trusted."""
    (tmp_path / "events.csv").write_text("visitor,time,event\nv1,2026-11-02 10:00:00Z,a\n")
    config = events_config(tmp_path)
    con, _ = load(config)
    prepared = _count_prepares(monkeypatch)
    assert [f.status for f in load_sources(con, config).files] == ["skipped"]
    assert len(prepared) == 1


def test_a_warehouse_from_before_mtime_is_migrated_and_its_rows_get_stamps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = "visitor,time,event\n"
    _write_aged(tmp_path / "events_1.csv", header + "v1,2026-11-02 10:00:00Z,a\n")
    config = events_config(tmp_path, path="events_*.csv")
    old = duckdb.connect(str(config.warehouse_path))
    old.execute(OLD_LOADED_FILES)
    old.close()
    con, report = load(config)  # connect() adds the column
    assert [f.status for f in report.files] == ["loaded"]
    assert rows(con, "select count(mtime_ns) from loaded_files") == [(1,)]
    # rows written before the column existed: the file is checksummed once more, skipped,
    # and its row gets the stamp, so the run after that does not read it
    con.execute("update loaded_files set mtime_ns = null")
    _write_aged(tmp_path / "events_2.csv", header + "v2,2026-11-02 10:00:00Z,b\n")
    prepared = _count_prepares(monkeypatch)
    report = load_sources(con, config)
    assert [f.status for f in report.files] == ["skipped", "loaded"]
    assert rows(con, "select count(mtime_ns) from loaded_files") == [(2,)]
    report = load_sources(con, config)
    assert [f.status for f in report.files] == ["skipped", "skipped"]
    assert [p.name for p in prepared] == ["events_1.csv", "events_2.csv"]
    assert rows(con, "select anonymous_id from touchpoints order by 1") == [("v1",), ("v2",)]
    con.close()
    # opening it again migrates nothing more and keeps the rows
    con = connect(config.warehouse_path)
    assert rows(con, "select count(*), count(mtime_ns) from loaded_files") == [(2, 2)]


def test_a_rewrite_that_keeps_size_and_mtime_needs_the_quick_check_off(tmp_path: Path) -> None:
    """The documented limit of the quick check (as of rsync's): content changed with its
    size and mtime restored is not noticed unless the run checksums every file."""
    path = tmp_path / "events.csv"
    _write_aged(path, "visitor,time,event\nv1,2026-11-02 10:00:00Z,a\n")
    config = events_config(tmp_path)
    con, _ = load(config)
    stat = path.stat()
    path.write_text("visitor,time,event\nv2,2026-11-02 10:00:00Z,a\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert [f.status for f in load_sources(con, config).files] == ["skipped"]
    assert [f.status for f in load_sources(con, config, quick_check=False).files] == ["loaded"]
    assert rows(con, "select anonymous_id from touchpoints order by 1") == [("v1",), ("v2",)]

"""The GA4 BigQuery export adapter (``sql/staging/stg_ga4.sql``): exact rows, rejects, formats.

Rows are shaped like BigQuery's newline-delimited JSON export of
``analytics_<property>.events_YYYYMMDD`` (the first is a row of the public
``ga4_obfuscated_sample_ecommerce`` data set, with a query string added): INT64 values
as JSON strings, parameters as a key/value list, null fields left out.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from journey_mining.config import Config, parse_config
from journey_mining.ingest.loader import LoadReport, load_sources
from journey_mining.privacy import hmac_hex
from journey_mining.schema import TOUCHPOINT_COLUMNS
from journey_mining.warehouse import connect

HASH_KEY = "ga4-test-hash-key"
EMAIL = "jane.doe@example.com"
EMAIL_ENCODED = "jane.doe%40example.com"
USER_ID = "CUST-7731-XYZ"
SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample" / "ga4"


@pytest.fixture(autouse=True)
def _hash_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A known key (so expected hashes can be computed) and no demo-key warning."""
    monkeypatch.setenv("JOURNEY_MINING_HASH_KEY", HASH_KEY)


def p_str(key: str, value: str) -> dict[str, Any]:
    return {"key": key, "value": {"string_value": value}}


def p_int(key: str, value: int) -> dict[str, Any]:
    return {"key": key, "value": {"int_value": str(value)}}  # BigQuery JSON: INT64 as a string


DEVICE_DESKTOP = {
    "category": "desktop",
    "mobile_brand_name": "Google",
    "mobile_model_name": "Chrome",
    "mobile_marketing_name": "<Other>",
    "operating_system": "Web",
    "operating_system_version": "10",
    "language": "en-us",
    "is_limited_ad_tracking": "No",
    "web_info": {"browser": "Chrome", "browser_version": "86.0"},
}
GEO_US = {
    "continent": "Americas",
    "sub_continent": "Northern America",
    "country": "United States",
    "region": "Florida",
    "city": "(not set)",
    "metro": "(not set)",
}
DIRECT = {"medium": "(none)", "name": "(direct)", "source": "(direct)"}
VISITOR = "1146540.1921992520"
SESSION = 3599645542
TEE = {
    "item_id": "GGOEGXXX0906",
    "item_name": "Google Tee",
    "item_brand": "Google",
    "item_category": "Apparel",
    "price_in_usd": 18.0,
    "price": 18.0,
    "quantity": "1",
    "item_revenue_in_usd": 18.0,
    "item_revenue": 18.0,
    "coupon": "(not set)",
    "item_list_name": "Not available in demo dataset",
}
MUG = {**TEE, "item_id": "GGOEGDHC0147", "item_name": "Google Mug", "item_category": "Drinkware"}
MUG.update(price_in_usd=62.5, price=62.5, item_revenue_in_usd=62.5, item_revenue=62.5)


def web_event(name: str, ts: int, page: str, title: str, bundle: int, **fields: Any) -> dict[str, Any]:
    params = [
        p_str("page_location", f"https://shop.googlemerchandisestore.com{page}"),
        p_int("debug_mode", 1),
        p_str("page_referrer", f"https://shop.googlemerchandisestore.com/basket.html?email={EMAIL_ENCODED}"),
        p_str("session_engaged", "1"),
        p_str("page_title", title),
        p_int("engagement_time_msec", 7),
        p_int("engaged_session_event", 1),
        p_int("ga_session_id", SESSION),
        p_int("ga_session_number", 1),
    ]
    return {
        "event_date": "20210128",
        "event_timestamp": str(ts),
        "event_name": name,
        "event_params": params,
        "event_bundle_sequence_id": str(bundle),
        "user_pseudo_id": VISITOR,
        "privacy_info": {"uses_transient_token": "No"},
        "user_properties": [],
        "user_first_touch_timestamp": "1611797439727581",
        "user_ltv": {"revenue": 0.0, "currency": "USD"},
        "device": DEVICE_DESKTOP,
        "geo": GEO_US,
        "traffic_source": DIRECT,
        "stream_id": "2100450278",
        "platform": "WEB",
        "ecommerce": {},
        "items": [],
        **fields,
    }


PAYMENT = web_event(
    "page_view", 1611798022695757, f"/payment.html?email={EMAIL}&step=2#billing", "Payment Method", 7658063987
)
PRODUCT = web_event("page_view", 1611798030000001, "/product/google-tee", "Google Tee", 7658063988)
ADD_TO_CART = web_event(
    "add_to_cart",
    1611798031500000,
    "/product/google-tee?color=blue",
    "Google Tee",
    7658063989,
    ecommerce={"total_item_quantity": "1", "unique_items": "1"},
    items=[TEE],
)
PURCHASE = web_event(
    "purchase",
    1611798090123456,
    f"/ordercompleted.html?order=T-1001&email={EMAIL_ENCODED}",
    "Checkout Confirmation",
    7658063990,
    user_id=USER_ID,
    event_value_in_usd=80.5,
    ecommerce={
        "total_item_quantity": "2",
        "purchase_revenue_in_usd": 80.5,
        "purchase_revenue": 80.5,
        "tax_value_in_usd": 6.1,
        "tax_value": 6.1,
        "unique_items": "2",
        "transaction_id": "T-1001",
    },
    items=[TEE, MUG],
)
APP_SCREEN = {
    "event_date": "20210128",
    "event_timestamp": "1611798100000000",
    "event_name": "screen_view",
    "event_params": [
        p_str("firebase_screen", "ProductDetail"),
        p_str("firebase_screen_class", "MainActivity"),
        p_int("ga_session_id", 1611798000),
        p_int("ga_session_number", 4),
        p_int("engagement_time_msec", 1520),
    ],
    "event_bundle_sequence_id": "12",
    "batch_event_index": "3",
    "user_pseudo_id": "a9f3c2e1d0b44e5f8c7d",
    "user_properties": [],
    "device": {"category": "mobile", "mobile_brand_name": "Samsung", "operating_system": "Android"},
    "geo": {**GEO_US, "country": "Germany", "continent": "Europe"},
    "app_info": {"id": "com.example.shop", "version": "4.2.0", "install_source": "com.android.vending"},
    "traffic_source": {"medium": "organic", "name": "(organic)", "source": "google-play"},
    "stream_id": "1234567890",
    "platform": "ANDROID",
    "items": [],
}
EVENTS = [PAYMENT, PRODUCT, ADD_TO_CART, PURCHASE, APP_SCREEN]

INT64_FIELDS = (
    "event_timestamp",
    "event_bundle_sequence_id",
    "batch_event_index",
    "user_first_touch_timestamp",
)


def with_numbers(row: dict[str, Any]) -> dict[str, Any]:
    """The same event with every INT64 as a JSON number (as Parquet or other tools write it)."""
    out = copy.deepcopy(row)
    for name in INT64_FIELDS:
        if name in out:
            out[name] = int(out[name])
    for param in out.get("event_params", []):
        if "int_value" in param["value"]:
            param["value"]["int_value"] = int(param["value"]["int_value"])
    for name in ("total_item_quantity", "unique_items"):
        if name in out.get("ecommerce", {}):
            out["ecommerce"][name] = int(out["ecommerce"][name])
    for item in out.get("items", []):
        item["quantity"] = int(item["quantity"])
    return out


def ndjson(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in rows)


# The export's column types, as BigQuery's schema gives them (for the Parquet copy).
_VALUE = "STRUCT(string_value VARCHAR, int_value BIGINT, float_value DOUBLE, double_value DOUBLE)"
_ITEM = (
    "STRUCT(item_id VARCHAR, item_name VARCHAR, item_brand VARCHAR, item_category VARCHAR, "
    "price_in_usd DOUBLE, price DOUBLE, quantity BIGINT, item_revenue_in_usd DOUBLE, "
    "item_revenue DOUBLE, coupon VARCHAR, item_list_name VARCHAR)"
)
BIGQUERY_COLUMNS = {
    "event_date": "VARCHAR",
    "event_timestamp": "BIGINT",
    "event_name": "VARCHAR",
    "event_params": f"STRUCT(key VARCHAR, value {_VALUE})[]",
    "event_bundle_sequence_id": "BIGINT",
    "batch_event_index": "BIGINT",
    "event_value_in_usd": "DOUBLE",
    "user_id": "VARCHAR",
    "user_pseudo_id": "VARCHAR",
    "privacy_info": "STRUCT(analytics_storage VARCHAR, ads_storage VARCHAR, uses_transient_token VARCHAR)",
    "user_properties": f"STRUCT(key VARCHAR, value {_VALUE})[]",
    "user_first_touch_timestamp": "BIGINT",
    "user_ltv": "STRUCT(revenue DOUBLE, currency VARCHAR)",
    "device": (
        "STRUCT(category VARCHAR, mobile_brand_name VARCHAR, mobile_model_name VARCHAR, "
        "mobile_marketing_name VARCHAR, operating_system VARCHAR, operating_system_version VARCHAR, "
        "language VARCHAR, is_limited_ad_tracking VARCHAR, "
        "web_info STRUCT(browser VARCHAR, browser_version VARCHAR))"
    ),
    "geo": (
        "STRUCT(continent VARCHAR, sub_continent VARCHAR, country VARCHAR, region VARCHAR, "
        "city VARCHAR, metro VARCHAR)"
    ),
    "app_info": "STRUCT(id VARCHAR, version VARCHAR, install_source VARCHAR)",
    "traffic_source": "STRUCT(medium VARCHAR, name VARCHAR, source VARCHAR)",
    "stream_id": "VARCHAR",
    "platform": "VARCHAR",
    "ecommerce": (
        "STRUCT(total_item_quantity BIGINT, purchase_revenue_in_usd DOUBLE, purchase_revenue DOUBLE, "
        "tax_value_in_usd DOUBLE, tax_value DOUBLE, unique_items BIGINT, transaction_id VARCHAR)"
    ),
    "items": f"{_ITEM}[]",
}


def write_parquet(rows: list[dict[str, Any]], target: Path) -> None:
    """The events as a typed, nested Parquet file (INT64 as numbers, nulls written)."""
    staging = target.with_suffix(".ndjson")
    staging.write_text(ndjson(rows), encoding="utf-8")
    con = duckdb.connect()
    try:
        con.execute(
            f"""copy (select * from read_json(?, format = 'newline_delimited', columns = ?))
                to '{target}' (format parquet)""",
            [str(staging), BIGQUERY_COLUMNS],
        )
    finally:
        con.close()
    staging.unlink()


def ga4_config(base: Path, path: str = "events_*.jsonl*", **extra: Any) -> Config:
    return parse_config(
        {
            "warehouse": {"path": "warehouse.duckdb"},
            "privacy": {"demo_mode": True},
            "sources": [{"name": "ga4", "kind": "ga4", "path": path, **extra}],
        },
        base_dir=base,
    )


@pytest.fixture
def open_connections() -> Iterator[list[duckdb.DuckDBPyConnection]]:
    opened: list[duckdb.DuckDBPyConnection] = []
    yield opened
    for con in opened:
        con.close()


def load(
    config: Config, opened: list[duckdb.DuckDBPyConnection]
) -> tuple[duckdb.DuckDBPyConnection, LoadReport]:
    con = connect(config.warehouse_path, memory_limit="1GB")
    opened.append(con)
    report = load_sources(con, config)
    assert_counts_reconcile(con)
    return con, report


def assert_counts_reconcile(con: duckdb.DuckDBPyConnection) -> None:
    for read, loaded, duplicate, rejected in con.execute(
        "select rows_read, rows_loaded, rows_duplicate, rows_rejected from loaded_files"
    ).fetchall():
        assert read == loaded + duplicate + rejected


def file_counts(con: duckdb.DuckDBPyConnection) -> list[tuple[int, int, int, int]]:
    return con.execute(
        "select rows_read, rows_loaded, rows_duplicate, rows_rejected from loaded_files order by file_id"
    ).fetchall()


def touchpoints(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = ", ".join(TOUCHPOINT_COLUMNS)
    result = con.execute(f"select {names} from touchpoints order by ingest_seq")
    rows = [dict(zip(TOUCHPOINT_COLUMNS, row, strict=True)) for row in result.fetchall()]
    for row in rows:
        row["attributes"] = json.loads(row["attributes"])
    return rows


def cut_after(text: str, marker: str) -> str:
    """A line cut off a few characters after ``marker`` (a half-written record)."""
    return text[: text.index(marker) + len(marker) + 3]


def key(*parts: object) -> str:
    return hashlib.md5("|".join(str(p) for p in parts).encode()).hexdigest()


def at(us: int) -> datetime:
    """Naive UTC, as the warehouse stores it."""
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)).replace(tzinfo=None)


def attrs(**given: Any) -> dict[str, Any]:
    names = (
        "ga_session_number",
        "page_title",
        "traffic_source",
        "traffic_medium",
        "transaction_id",
        "items",
        "browser",
        "country",
        "platform",
        "event_bundle_sequence_id",
        "batch_event_index",
    )
    return {name: given.get(name) for name in names}


def _expected() -> list[dict[str, Any]]:
    shop = "https://shop.googlemerchandisestore.com"
    web = {"traffic_source": "(direct)", "traffic_medium": "(none)", "browser": "Chrome"}
    web |= {"country": "United States", "platform": "WEB", "ga_session_number": 1}
    session = f"{VISITOR}.{SESSION}"
    rows = [
        # (row, ts, event, touchpoint, page, bundle, page_location, extra)
        (
            1,
            1611798022695757,
            "page_view",
            "web:page_view",
            "/payment.html",
            7658063987,
            f"{shop}/payment.html?email={EMAIL}&step=2#billing",
            {"page_title": "Payment Method", "items": 0},
        ),
        (
            2,
            1611798030000001,
            "page_view",
            "web:product",  # named by the default page rules
            "/product/google-tee",
            7658063988,
            f"{shop}/product/google-tee",
            {"page_title": "Google Tee", "items": 0},
        ),
        (
            3,
            1611798031500000,
            "add_to_cart",
            "web:add_to_cart",
            "/product/google-tee",
            7658063989,
            f"{shop}/product/google-tee?color=blue",
            {"page_title": "Google Tee", "items": 1},
        ),
        (
            4,
            1611798090123456,
            "purchase",
            "web:purchase",
            "/ordercompleted.html",
            7658063990,
            f"{shop}/ordercompleted.html?order=T-1001&email={EMAIL_ENCODED}",
            {"page_title": "Checkout Confirmation", "items": 2, "transaction_id": "T-1001"},
        ),
    ]
    expected = []
    for row, ts, event, touchpoint, page, bundle, location, extra in rows:
        native = key("ga4", VISITOR, ts, event, SESSION, bundle, "", location)
        expected.append(
            {
                "event_id": native,
                "source": "ga4",
                "file_id": 1,
                "source_row": row,
                "ingest_seq": (1 << 40) + row * 16,
                "record_key": native,
                "record_version": None,
                "anonymous_id": VISITOR,
                "user_id_hash": hmac_hex(HASH_KEY.encode(), USER_ID) if event == "purchase" else None,
                "email_hash": None,
                "phone_hash": None,
                "ts": at(ts),
                "channel": "web",
                "touchpoint": touchpoint,
                "event_name": event,
                "source_session_id": session,
                "page": page,
                "device": "desktop",
                "wait_seconds": None,
                "handle_seconds": None,
                "outcome": "purchase" if event == "purchase" else None,
                "satisfaction": None,
                "topic": None,
                "revenue": 80.5 if event == "purchase" else None,
                "attributes": attrs(**web, **extra, event_bundle_sequence_id=bundle),
            }
        )
    app_key = key("ga4", "a9f3c2e1d0b44e5f8c7d", 1611798100000000, "screen_view", 1611798000, 12, 3, "")
    expected.append(
        {
            **expected[0],
            "event_id": app_key,
            "source_row": 5,
            "ingest_seq": (1 << 40) + 5 * 16,
            "record_key": app_key,
            "anonymous_id": "a9f3c2e1d0b44e5f8c7d",
            "ts": at(1611798100000000),
            "channel": "app",
            "touchpoint": "app:screen_view",
            "event_name": "screen_view",
            "source_session_id": "a9f3c2e1d0b44e5f8c7d.1611798000",
            "page": "ProductDetail",
            "device": "mobile",
            "attributes": attrs(
                ga_session_number=4,
                traffic_source="google-play",
                traffic_medium="organic",
                items=0,
                country="Germany",
                platform="ANDROID",
                event_bundle_sequence_id=12,
                batch_event_index=3,
            ),
        }
    )
    return expected


EXPECTED = _expected()


def test_real_shaped_export_rows_map_exactly(tmp_path: Path, open_connections: list) -> None:
    (tmp_path / "events_20210128.jsonl").write_text(ndjson(EVENTS), encoding="utf-8")
    con, report = load(ga4_config(tmp_path), open_connections)
    assert report.failures == []
    assert touchpoints(con) == EXPECTED
    assert file_counts(con) == [(5, 5, 0, 0)]
    assert con.execute("select count(*) from rejected_rows").fetchone() == (0,)


def _write_variant(path: Path, variant: str, rows: list[dict[str, Any]]) -> None:
    text = ndjson(rows)
    if "crlf" in variant:
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8")
    if "bom" in variant:
        data = b"\xef\xbb\xbf" + data
    if "gzip" in variant:
        data = gzip.compress(data)
    path.write_bytes(data)


@pytest.mark.parametrize(
    ("variant", "name"),
    [
        ("numbers", "events_1.jsonl"),
        ("gzip", "events_1.jsonl.gz"),
        ("bom", "events_1.jsonl"),
        ("crlf", "events_1.jsonl"),
        ("bom crlf gzip numbers", "events_1.ndjson.gz"),
    ],
)
def test_encodings_and_int64_styles_give_the_same_touchpoints(
    tmp_path: Path, open_connections: list, variant: str, name: str
) -> None:
    rows = [with_numbers(row) for row in EVENTS] if "numbers" in variant else EVENTS
    _write_variant(tmp_path / name, variant, rows)
    con, report = load(ga4_config(tmp_path, path="events_*"), open_connections)
    assert report.failures == []
    assert touchpoints(con) == EXPECTED
    assert file_counts(con) == [(5, 5, 0, 0)]


def test_parquet_export_gives_identical_touchpoints(tmp_path: Path, open_connections: list) -> None:
    json_dir, parquet_dir = tmp_path / "json", tmp_path / "parquet"
    json_dir.mkdir()
    parquet_dir.mkdir()
    (json_dir / "events_1.jsonl").write_text(ndjson(EVENTS), encoding="utf-8")
    write_parquet(EVENTS, parquet_dir / "events_1.parquet")
    json_con, _ = load(ga4_config(json_dir), open_connections)
    parquet_con, report = load(ga4_config(parquet_dir, path="events_*.parquet"), open_connections)
    assert report.failures == []
    assert touchpoints(parquet_con) == touchpoints(json_con) == EXPECTED
    # the same events again as Parquet into the JSON warehouse: all duplicates
    shutil.copy(parquet_dir / "events_1.parquet", json_dir / "events_2.parquet")
    load_sources(json_con, ga4_config(json_dir, path="events_2.parquet"))
    assert file_counts(json_con) == [(5, 5, 0, 0), (5, 0, 5, 0)]
    assert touchpoints(json_con) == EXPECTED


def test_rejects_carry_exact_reasons_and_line_numbers(tmp_path: Path, open_connections: list) -> None:
    no_ts = copy.deepcopy(PRODUCT)
    del no_ts["event_timestamp"]
    no_ids = copy.deepcopy(PRODUCT)
    del no_ids["user_pseudo_id"]
    no_name = copy.deepcopy(PRODUCT)
    no_name["event_name"] = " "
    params_object = {**PRODUCT, "event_params": {"key": "page_location"}}
    late = {**PRODUCT, "event_timestamp": "4102444800000000"}
    bad_ts = {**PRODUCT, "event_timestamp": "not-a-time"}
    bad_session = copy.deepcopy(PRODUCT)
    bad_session["event_params"][7] = p_str("ga_session_id", "abc")
    items_object = {**PRODUCT, "items": {"item_id": "x"}}
    bad_revenue = copy.deepcopy(PURCHASE)
    bad_revenue["ecommerce"]["purchase_revenue"] = "eighty"
    lines = [
        json.dumps(PAYMENT),  # 1
        "",  # 2: blank lines are not records
        cut_after(json.dumps(PURCHASE), EMAIL_ENCODED),  # 3: cut in half
        json.dumps(no_ts),  # 4
        json.dumps(no_ids),  # 5
        json.dumps(params_object),  # 6
        json.dumps(no_name),  # 7
        json.dumps(late),  # 8
        json.dumps(bad_ts),  # 9
        json.dumps(bad_session),  # 10
        '["page_view"]',  # 11
        json.dumps(items_object),  # 12
        json.dumps(bad_revenue),  # 13
        json.dumps({**PURCHASE, "event_params": "page_location"}),  # 14
        json.dumps({**PRODUCT, "event_name": {"name": "page_view"}}),  # 15
        json.dumps({**PRODUCT, "device": "desktop"}),  # 16
        json.dumps({**PRODUCT, "user_pseudo_id": ["1146540.1921992520"]}),  # 17
    ]
    (tmp_path / "events_1.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    con, _ = load(ga4_config(tmp_path), open_connections)
    assert con.execute("select source_row, touchpoint from touchpoints").fetchall() == [(1, "web:page_view")]
    assert con.execute("select source_row, reason from rejected_rows order by source_row").fetchall() == [
        (3, "malformed JSON"),
        (4, "missing timestamp"),
        (5, "no customer identifier"),
        (6, "event_params is not a list"),
        (7, "missing event name"),
        (8, "timestamp out of range: 4102444800000000"),
        (9, "unparseable timestamp: not-a-time"),
        (10, "ga_session_id is not an integer: abc"),
        (11, "record is not a JSON object"),
        (12, "items is not a list"),
        (13, "ecommerce.purchase_revenue is not a number: eighty"),
        (14, "event_params is not a list"),
        (15, "event_name is not a string"),
        (16, "device is not an object"),
        (17, "user_pseudo_id is not a string"),
    ]
    assert file_counts(con) == [(16, 1, 0, 15)]
    # a rejected record keeps its text, minus the user id, query strings and emails
    raw = con.execute("select raw from rejected_rows where source_row = 14").fetchone()
    assert raw is not None
    kept = json.loads(raw[0])
    assert kept["user_id"] == "<redacted>"
    assert kept["ecommerce"]["transaction_id"] == "T-1001"
    for text in con.execute("select raw from rejected_rows").fetchall():
        assert USER_ID not in text[0]
        assert "jane.doe" not in text[0]


def test_duplicate_rows_load_once(tmp_path: Path, open_connections: list) -> None:
    rows = [PAYMENT, PAYMENT, PRODUCT, with_numbers(PAYMENT), with_numbers(PRODUCT)]
    (tmp_path / "events_1.jsonl").write_text(ndjson(rows), encoding="utf-8")
    con, _ = load(ga4_config(tmp_path), open_connections)
    assert [(t["source_row"], t["event_id"]) for t in touchpoints(con)] == [
        (1, EXPECTED[0]["event_id"]),
        (3, EXPECTED[1]["event_id"]),
    ]
    assert file_counts(con) == [(5, 2, 3, 0)]
    # the next day's file re-sends one event (daily + intraday overlap): a duplicate
    (tmp_path / "events_2.jsonl").write_text(ndjson([PRODUCT, ADD_TO_CART]), encoding="utf-8")
    load_sources(con, ga4_config(tmp_path))
    assert file_counts(con) == [(5, 2, 3, 0), (2, 1, 1, 0)]
    # a GA4 key includes the event's time: every stored key has its day
    assert con.execute("select count(*) from loaded_record_keys where key_day is null").fetchall() == [(0,)]
    assert [t["touchpoint"] for t in touchpoints(con)] == ["web:page_view", "web:product", "web:add_to_cart"]


def test_the_same_file_twice_adds_nothing(tmp_path: Path, open_connections: list) -> None:
    (tmp_path / "events_1.jsonl").write_text(ndjson(EVENTS), encoding="utf-8")
    config = ga4_config(tmp_path)
    con, _ = load(config, open_connections)
    before = con.execute("select * from touchpoints order by ingest_seq").fetchall()
    report = load_sources(con, config)
    assert [f.status for f in report.files] == ["skipped"]
    # a re-delivered copy under another name is the same file
    shutil.copy(tmp_path / "events_1.jsonl", tmp_path / "events_1_copy.jsonl")
    report = load_sources(con, config)
    assert sorted(f.status for f in report.files) == ["skipped", "skipped"]
    assert con.execute("select * from touchpoints order by ingest_seq").fetchall() == before
    assert file_counts(con) == [(5, 5, 0, 0)]


def test_no_email_or_user_id_reaches_the_warehouse(tmp_path: Path, open_connections: list) -> None:
    leaky_reject = {**PURCHASE, "event_timestamp": "never"}
    title_email = copy.deepcopy(PRODUCT)
    title_email["event_bundle_sequence_id"] = "7658063999"
    title_email["event_params"][4] = p_str("page_title", f"Orders of {EMAIL}")
    path_email = copy.deepcopy(PRODUCT)
    path_email["event_params"][0] = p_str("page_location", f"https://shop.example/u/{EMAIL_ENCODED}/orders")
    lines = [*(json.dumps(row) for row in [*EVENTS, leaky_reject, title_email, path_email])]
    lines.append(cut_after(json.dumps(PAYMENT), EMAIL))  # cut inside the page_location query string
    (tmp_path / "events_1.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = ga4_config(tmp_path)
    con, _ = load(config, open_connections)
    assert file_counts(con) == [(9, 7, 0, 2)]
    assert con.execute("select page from touchpoints where source_row in (7, 8) order by 1").fetchall() == [
        ("/product/google-tee",),
        ("/u/<email>/orders",),
    ]
    secrets = ("jane.doe", USER_ID)
    tables = [
        r[0] for r in con.execute("select table_name from duckdb_tables() where not temporary").fetchall()
    ]
    for table in tables:
        columns = con.execute(
            "select column_name from duckdb_columns() where table_name = ? "
            "and data_type in ('VARCHAR', 'JSON')",
            [table],
        ).fetchall()
        for (column,) in columns:
            for secret in secrets:
                found = con.execute(
                    f'select count(*) from "{table}" where contains(lower("{column}"), lower(?))', [secret]
                ).fetchone()
                assert found == (0,), f"{secret!r} found in {table}.{column}"
    open_connections.remove(con)
    con.close()
    blob = config.warehouse_path.read_bytes()
    wal = config.warehouse_path.with_name(config.warehouse_path.name + ".wal")
    if wal.exists():
        blob += wal.read_bytes()
    for secret in (EMAIL, EMAIL_ENCODED, USER_ID):
        assert secret.encode() not in blob


def test_bundled_sample_loads_without_rejects(tmp_path: Path, open_connections: list) -> None:
    files = sorted(SAMPLE_DIR.glob("*.jsonl.gz"))
    if not files:
        pytest.skip("no bundled GA4 sample in data/sample/ga4")
    con, report = load(ga4_config(tmp_path, path=str(SAMPLE_DIR / "*.jsonl.gz")), open_connections)
    assert report.failures == []
    reasons = con.execute(
        "select reason, count(*) from rejected_rows group by reason order by 2 desc limit 5"
    ).fetchall()
    assert reasons == []
    totals = report.by_source()["ga4"]
    assert totals["files"] == len(files)
    assert totals["rejected"] == 0
    assert totals["loaded"] > 0
    assert totals["read"] == totals["loaded"] + totals["duplicate"]

"""The sample generator: reproducible bytes, real export shapes, and measurable friction.

The planted effects are checked on the raw files where one source suffices (payment
errors in GA4, Monday queues in Connect), and on the generator's ground truth
(``planted.json``) where seeing them needs identity stitching.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import re
import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from journey_mining.generate import SampleManifest, generate_sample
from journey_mining.generate.sample import main

SEED = 7
CUSTOMERS = 1000
START = dt.date(2026, 11, 2)  # a Monday
GA4_KEYS = {
    "event_date",
    "event_timestamp",
    "event_name",
    "event_params",
    "user_id",
    "user_pseudo_id",
    "device",
    "geo",
    "platform",
    "traffic_source",
    "ecommerce",
    "items",
}
EVENT_NAMES = {
    "session_start",
    "first_visit",
    "page_view",
    "view_item",
    "add_to_cart",
    "view_cart",
    "begin_checkout",
    "add_shipping_info",
    "add_payment_info",
    "purchase",
    "payment_error",
}
CONNECT_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> SampleManifest:
    return generate_sample(tmp_path_factory.mktemp("planted"), customers=CUSTOMERS, seed=SEED)


@pytest.fixture(scope="module")
def flat(tmp_path_factory: pytest.TempPathFactory) -> SampleManifest:
    out = tmp_path_factory.mktemp("flat")
    return generate_sample(out, customers=CUSTOMERS, seed=SEED, plant_friction=False)


def ga4_rows(manifest: SampleManifest) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in manifest.ga4_files
        for line in gzip.decompress(path.read_bytes()).decode("utf-8").splitlines()
    ]


def connect_records(manifest: SampleManifest) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in manifest.call_files
        for line in path.read_text(encoding="utf-8").splitlines()
    ]


def latest_connect(manifest: SampleManifest) -> list[dict[str, Any]]:
    """Deduplicated as the docs say: per ContactId, the highest LastUpdateTimestamp."""
    latest: dict[str, dict[str, Any]] = {}
    for record in connect_records(manifest):
        kept = latest.get(record["ContactId"])
        if kept is None or record["LastUpdateTimestamp"] > kept["LastUpdateTimestamp"]:
            latest[record["ContactId"]] = record
    return list(latest.values())


def conversations(manifest: SampleManifest) -> list[dict[str, Any]]:
    return [json.loads(line) for line in manifest.chat_file.read_text("utf-8").splitlines()]


def crm_rows(manifest: SampleManifest) -> list[dict[str, str]]:
    text = manifest.crm_file.read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


def param(row: dict[str, Any], key: str) -> dict[str, Any] | None:
    return next((p["value"] for p in row["event_params"] if p["key"] == key), None)


def sessions(rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """GA4 rows grouped by (user_pseudo_id, ga_session_id), each in timestamp order."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        session_id = param(row, "ga_session_id")
        assert session_id is not None
        grouped[(row["user_pseudo_id"], session_id["int_value"])].append(row)
    for events in grouped.values():
        events.sort(key=lambda r: int(r["event_timestamp"]))
    return grouped


def payment_error_rates(manifest: SampleManifest) -> dict[str, float]:
    """Mobile vs other devices: share of add_payment_info directly followed by payment_error."""
    attempts: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    for events in sessions(ga4_rows(manifest)).values():
        names = [e["event_name"] for e in events]
        device = "mobile" if events[0]["device"]["category"] == "mobile" else "other"
        for current, following in zip(names, [*names[1:], None], strict=True):
            if current == "add_payment_info":
                attempts[device] += 1
                errors[device] += following == "payment_error"
    return {device: errors[device] / attempts[device] for device in attempts}


def pooled_rates(section: dict[str, Any], planted_key: str, hits: str, total: str) -> tuple[float, float]:
    """(rate of the planted key, pooled rate of all other keys) from a planted.json section."""
    measured = section["measured"]
    others = [m for key, m in measured.items() if key != planted_key]
    other_rate = sum(m[hits] for m in others) / sum(m[total] for m in others)
    return measured[planted_key]["rate"], other_rate


def abandon_rates(manifest: SampleManifest) -> dict[str, tuple[float, float]]:
    """Monday vs other days: (abandon rate, median Queue.Duration) of queued inbound calls."""
    groups: dict[str, list[dict[str, Any]]] = {"monday": [], "other": []}
    for record in latest_connect(manifest):
        if record["InitiationMethod"] != "INBOUND" or record["Queue"] is None:
            continue
        started = dt.datetime.fromisoformat(record["InitiationTimestamp"])
        groups["monday" if started.weekday() == 0 else "other"].append(record)
    return {
        name: (
            sum(r["Agent"] is None for r in records) / len(records),
            statistics.median(r["Queue"]["Duration"] for r in records),
        )
        for name, records in groups.items()
    }


# --- reproducibility -------------------------------------------------------------------


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    first = generate_sample(tmp_path / "a", customers=150, days=5, seed=3)
    second = generate_sample(tmp_path / "b", customers=150, days=5, seed=3)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    assert first.planted == second.planted
    assert first.web_events > 0


def test_different_seed_gives_different_files(tmp_path: Path) -> None:
    generate_sample(tmp_path / "a", customers=150, days=5, seed=3)
    generate_sample(tmp_path / "b", customers=150, days=5, seed=4)
    one, other = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert one.keys() == other.keys()
    assert all(one[name] != other[name] for name in one if name.startswith("ga4/"))
    assert one["chat/intercom_conversations.jsonl"] != other["chat/intercom_conversations.jsonl"]


def test_rerun_into_same_folder_removes_stale_day_files(tmp_path: Path) -> None:
    generate_sample(tmp_path, customers=60, days=4, seed=1)
    manifest = generate_sample(tmp_path, customers=60, days=2, seed=1)
    assert sorted((tmp_path / "ga4").iterdir()) == sorted(manifest.ga4_files)
    assert sorted((tmp_path / "call").iterdir()) == sorted(manifest.call_files)


# --- files and formats -----------------------------------------------------------------


def test_writes_one_file_per_day_with_vendor_names(planted: SampleManifest) -> None:
    days = [(START + dt.timedelta(days=n)).strftime("%Y%m%d") for n in range(14)]
    assert [p.name for p in planted.ga4_files] == [f"events_{d}.jsonl.gz" for d in days]
    assert [p.name for p in planted.call_files] == [f"connect_ctr_{d}.jsonl" for d in days]
    assert planted.chat_file.name == "intercom_conversations.jsonl"
    assert planted.crm_file.relative_to(planted.out_dir) == Path("crm/customers.csv")
    assert json.loads(planted.planted_file.read_text("utf-8")) == planted.planted
    assert all(path.is_file() for path in planted.files)


def test_gzip_headers_carry_no_time_or_name(planted: SampleManifest) -> None:
    for path in planted.ga4_files:
        header = path.read_bytes()[:10]
        assert header[:2] == b"\x1f\x8b"
        assert header[4:8] == b"\x00\x00\x00\x00"  # mtime
        assert header[3] & 0x08 == 0  # FNAME flag


def test_manifest_counts_match_files(planted: SampleManifest) -> None:
    assert planted.customers == CUSTOMERS
    assert planted.web_events == len(ga4_rows(planted))
    assert planted.conversations == len(conversations(planted))
    assert planted.contact_records == len(connect_records(planted))
    assert planted.crm_rows == len(crm_rows(planted))
    assert 12_000 <= planted.web_events <= 30_000  # ~25k-60k at 2,000 customers


def test_ga4_rows_follow_the_bigquery_export_schema(planted: SampleManifest) -> None:
    for path in planted.ga4_files:
        day = path.name.removeprefix("events_").removesuffix(".jsonl.gz")
        for line in gzip.decompress(path.read_bytes()).decode("utf-8").splitlines():
            row = json.loads(line)
            assert row.keys() >= GA4_KEYS
            assert row["event_date"] == day
            assert isinstance(row["event_timestamp"], str)
            assert row["event_timestamp"].isdigit()
            moment = dt.datetime.fromtimestamp(int(row["event_timestamp"]) / 1e6, dt.UTC)
            assert moment.strftime("%Y%m%d") == day
            assert row["event_name"] in EVENT_NAMES
            assert row["platform"] == "WEB"
            assert row["device"]["category"] in {"desktop", "mobile", "tablet"}
            assert re.fullmatch(r"\d+\.\d+", row["user_pseudo_id"])
            session_id = param(row, "ga_session_id")
            assert session_id is not None
            assert session_id["int_value"].isdigit()
            assert param(row, "ga_session_number") is not None
            location = param(row, "page_location")
            assert location is not None
            assert location["string_value"].startswith("https://shop.example.com/")
            for p in row["event_params"]:
                assert set(p["value"]) == {"string_value", "int_value", "float_value", "double_value"}
                assert p["value"]["int_value"] is None or isinstance(p["value"]["int_value"], str)


def test_ga4_items_and_ecommerce_where_ga4_puts_them(planted: SampleManifest) -> None:
    rows = ga4_rows(planted)
    for row in rows:
        if row["event_name"] in {"view_item", "add_to_cart", "purchase"}:
            assert row["items"]
            assert all(item["quantity"].isdigit() for item in row["items"])
        if row["event_name"] == "purchase":
            assert row["ecommerce"]["transaction_id"]
            assert row["ecommerce"]["purchase_revenue"] > 0
        else:
            assert row["ecommerce"] is None
    names = Counter(row["event_name"] for row in rows)
    assert names["purchase"] > 0
    assert names["payment_error"] > 0
    assert names["first_visit"] < names["session_start"]


def test_ga4_day_files_are_unordered(planted: SampleManifest) -> None:
    path = planted.ga4_files[1]
    stamps = [
        int(json.loads(line)["event_timestamp"])
        for line in gzip.decompress(path.read_bytes()).decode("utf-8").splitlines()
    ]
    assert stamps != sorted(stamps)


def test_ga4_sessions_start_like_ga4_and_login_sticks(planted: SampleManifest) -> None:
    help_pages: Counter[str] = Counter()
    for events in sessions(ga4_rows(planted)).values():
        first = [e for e in events if e["event_timestamp"] == events[0]["event_timestamp"]]
        assert "session_start" in {e["event_name"] for e in first}
        user_ids = [e["user_id"] for e in events]
        logged_in_from = next((i for i, u in enumerate(user_ids) if u is not None), len(events))
        assert all(u is not None for u in user_ids[logged_in_from:])
        assert len(set(user_ids) - {None}) <= 1
        for e in events:
            location = param(e, "page_location")
            if e["event_name"] == "page_view" and location and "/help/" in location["string_value"]:
                help_pages[location["string_value"].rsplit("/", 1)[1]] += 1
    assert {"delivery-status", "returns", "payment-methods", "contact-us"} <= help_pages.keys()


def test_customers_use_more_than_one_cookie(planted: SampleManifest) -> None:
    cookies: dict[str, set[str]] = defaultdict(set)
    for row in ga4_rows(planted):
        if row["user_id"]:
            cookies[row["user_id"]].add(row["user_pseudo_id"])
    assert any(len(ids) == 2 for ids in cookies.values())
    assert max(len(ids) for ids in cookies.values()) <= 2


def test_connect_redelivers_some_records_with_a_later_complete_copy(planted: SampleManifest) -> None:
    records = connect_records(planted)
    by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_id[record["ContactId"]].append(record)
    twice = [copies for copies in by_id.values() if len(copies) == 2]
    assert max(len(copies) for copies in by_id.values()) == 2
    assert 0.02 <= len(twice) / len(by_id) <= 0.10
    for copies in twice:
        early, late = sorted(copies, key=lambda r: r["LastUpdateTimestamp"])
        assert early["LastUpdateTimestamp"] < late["LastUpdateTimestamp"]
        assert "DisconnectReason" not in early
        assert early["Agent"] is None
        assert late["DisconnectReason"]
    assert sum("DisconnectReason" in r for r in records) == len(by_id)


def test_connect_records_follow_the_ctr_shape(planted: SampleManifest) -> None:
    records = latest_connect(planted)
    ids = {r["ContactId"] for r in records}
    for record in records:
        assert record["AWSContactTraceRecordFormatVersion"] == "2017-03-10"
        assert record["Channel"] == "VOICE"
        assert re.fullmatch(
            r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", record["ContactId"]
        )
        for key in (
            "InitiationTimestamp",
            "ConnectedToSystemTimestamp",
            "DisconnectTimestamp",
            "LastUpdateTimestamp",
        ):
            assert CONNECT_TIME.match(record[key])
        assert re.fullmatch(r"\+1555\d{7}", record["CustomerEndpoint"]["Address"])
        assert all(isinstance(v, str) for v in record["Attributes"].values())
        if record["Agent"] is not None:
            assert record["Queue"] is not None
            assert record["Attributes"]["outcome"] in {
                "resolved",
                "unresolved",
                "order_placed",
                "transferred",
            }
        if record["InitiationMethod"] == "TRANSFER":
            assert record["PreviousContactId"] in ids
            assert record["InitialContactId"] == record["PreviousContactId"]
    methods = Counter(r["InitiationMethod"] for r in records)
    assert methods["INBOUND"] > methods["TRANSFER"] > 0
    assert methods["CALLBACK"] > 0


def test_abandoned_calls_were_queued_but_never_reached_an_agent(planted: SampleManifest) -> None:
    abandoned = [r for r in latest_connect(planted) if r["Queue"] and r["Agent"] is None]
    assert abandoned
    for record in abandoned:
        assert record["InitiationMethod"] == "INBOUND"
        assert record["DisconnectReason"] == "CUSTOMER_DISCONNECT"
        assert "outcome" not in record["Attributes"]
        assert record["Queue"]["Duration"] > 0


def test_intercom_conversations_have_the_api_shape(planted: SampleManifest) -> None:
    chats = conversations(planted)
    assert [c["id"] for c in chats] == sorted((c["id"] for c in chats), key=int)
    for chat in chats:
        assert chat["type"] == "conversation"
        assert chat["id"].isdigit()
        assert isinstance(chat["created_at"], int)
        assert chat["updated_at"] >= chat["created_at"]
        assert chat["state"] in {"open", "closed", "snoozed"}
        assert chat["source"]["delivered_as"] == "customer_initiated"
        assert chat["source"]["url"].startswith("https://shop.example.com/")
        assert chat["source"]["author"]["type"] == "user"
        assert chat["contacts"]["type"] == "contact.list"
        assert chat["tags"]["tags"][0]["name"]
        rating = chat["conversation_rating"]
        assert rating is None or 1 <= rating["rating"] <= 5
    missed = [c for c in chats if c["statistics"]["time_to_admin_reply"] is None]
    assert 0 < len(missed) < len(chats) / 4
    emails = [c["source"]["author"]["email"] for c in chats]
    assert any(e != e.strip() for e in emails)
    assert any(e.strip() != e.strip().lower() for e in emails)


def test_identifiers_link_across_sources(planted: SampleManifest) -> None:
    crm = crm_rows(planted)
    customer_ids = {row["customer_id"] for row in crm}
    assert 0.5 <= len(crm) / CUSTOMERS <= 0.7
    web_ids = {row["user_id"] for row in ga4_rows(planted)} - {None}
    chat_ids = {
        contact["external_id"] for chat in conversations(planted) for contact in chat["contacts"]["contacts"]
    } - {None}
    call_ids = {r["Attributes"].get("customer_id") for r in latest_connect(planted)} - {None}
    assert web_ids
    assert chat_ids
    assert call_ids
    assert web_ids | chat_ids | call_ids <= customer_ids
    crm_emails = {row["email"].lower() for row in crm}
    chat_emails = {c["source"]["author"]["email"].strip().lower() for c in conversations(planted)}
    assert crm_emails & chat_emails


def test_crm_is_a_semicolon_csv_with_bom_and_crlf(planted: SampleManifest) -> None:
    raw = planted.crm_file.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfcustomer_id;email;phone;signup_date\r\n")
    assert raw.count(b"\r\n") == planted.crm_rows + 1
    assert b"\n" not in raw.replace(b"\r\n", b"")
    phones = [row["phone"] for row in crm_rows(planted) if row["phone"]]
    shapes = {re.sub(r"\d", "9", phone) for phone in phones}
    assert shapes >= {"+9 999-999-9999", "(999) 999-9999", "9999999999"}
    digits = [re.sub(r"\D", "", phone)[-10:] for phone in phones]
    assert len(digits) == len(set(digits))


def test_super_nodes_are_shared_by_many_people(planted: SampleManifest) -> None:
    switchboard = [r for r in latest_connect(planted) if r["CustomerEndpoint"]["Address"] == "+15550000000"]
    assert len({r["Attributes"].get("customer_id") for r in switchboard} - {None}) >= 5
    testers = {
        c["source"]["author"]["id"]
        for c in conversations(planted)
        if c["source"]["author"]["email"].strip().lower() == "test@example.com"
    }
    assert len(testers) >= 3
    assert planted.planted["identity"]["switchboard_customers"] == 20


# --- planted friction ------------------------------------------------------------------


def test_mobile_payments_fail_far_more_often(planted: SampleManifest) -> None:
    rates = payment_error_rates(planted)
    assert rates["mobile"] > 0.3
    assert rates["mobile"] > 10 * rates["other"]


def test_without_friction_payments_fail_alike_on_every_device(flat: SampleManifest) -> None:
    rates = payment_error_rates(flat)
    assert rates["mobile"] < 0.08
    assert rates["other"] < 0.08
    assert abs(rates["mobile"] - rates["other"]) < 0.04


def test_monday_callers_wait_long_and_abandon(planted: SampleManifest) -> None:
    rates = abandon_rates(planted)
    monday_abandon, monday_wait = rates["monday"]
    other_abandon, other_wait = rates["other"]
    assert monday_abandon > 3 * other_abandon
    assert monday_abandon > 0.25
    assert monday_wait > 5 * 60 > 3 * 60 > other_wait


def test_without_friction_mondays_are_ordinary(flat: SampleManifest) -> None:
    rates = abandon_rates(flat)
    assert rates["monday"][0] < 0.2
    assert rates["monday"][1] < 3 * 60
    assert rates["other"][1] < 3 * 60


def test_delivery_status_page_sends_customers_to_support(
    planted: SampleManifest, flat: SampleManifest
) -> None:
    args = ("/help/delivery-status", "followed_by_contact", "visits")
    delivery, others = pooled_rates(planted.planted["help_page_escalation"], *args)
    assert delivery > 0.35
    assert delivery > 3 * others
    flat_delivery, flat_others = pooled_rates(flat.planted["help_page_escalation"], *args)
    assert flat_delivery < 0.2
    assert flat_others < 0.2


def test_abandoned_carts_are_completed_by_phone(planted: SampleManifest, flat: SampleManifest) -> None:
    with_plant = planted.planted["cart_completed_by_phone"]["measured"]
    without = flat.planted["cart_completed_by_phone"]["measured"]
    assert with_plant["rate"] > 0.1
    assert without["rate"] < 0.03
    assert with_plant["followed_by_phone_order"] > 5 * max(without["followed_by_phone_order"], 1)


def test_refund_status_contacts_repeat(planted: SampleManifest, flat: SampleManifest) -> None:
    args = ("refund_status", "repeated", "contacts")
    refund, others = pooled_rates(planted.planted["repeat_contacts"], *args)
    assert refund > 2 * others
    flat_refund, flat_others = pooled_rates(flat.planted["repeat_contacts"], *args)
    assert flat_refund < 0.3
    assert flat_others < 0.2


def test_planted_json_and_readme_agree(planted: SampleManifest) -> None:
    readme = planted.readme_file.read_text("utf-8")
    assert planted.planted["generator"] == {
        "seed": SEED,
        "customers": CUSTOMERS,
        "days": 14,
        "start": "2026-11-02",
        "plant_friction": True,
        "time_zone": "UTC",
    }
    cart = planted.planted["cart_completed_by_phone"]["measured"]
    assert f"{cart['followed_by_phone_order']} of {cart['abandoned_cart_sessions']}" in readme
    assert "--seed 7" in readme


# --- entry points ------------------------------------------------------------------------


def test_module_entry_point(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--out", str(tmp_path), "--customers", "40", "--days", "3", "--seed", "5"]
    assert main([*argv, "--start", "2026-11-09", "--no-friction"]) == 0
    assert "40 customers" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "ga4").iterdir()) == [
        "events_20261109.jsonl.gz",
        "events_20261110.jsonl.gz",
        "events_20261111.jsonl.gz",
    ]
    planted = json.loads((tmp_path / "planted.json").read_text("utf-8"))
    assert planted["generator"]["plant_friction"] is False


@pytest.mark.parametrize(("customers", "days"), [(0, 14), (10, 0)])
def test_rejects_empty_samples(tmp_path: Path, customers: int, days: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        generate_sample(tmp_path, customers=customers, days=days)

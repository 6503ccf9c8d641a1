"""Identity stitching: links across channels, deterministic keys, super-nodes, convergence."""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pytest

from journey_mining.identity import IdentityStitchError, stitch_identities
from journey_mining.journeys import build_journeys
from tests.conftest import insert_identities, insert_touchpoints, make_config

T0 = datetime(2026, 5, 4, 12)


def at(minutes: float, touchpoint: str, **ids: Any) -> dict[str, Any]:
    return {"ts": T0 + timedelta(minutes=minutes), "touchpoint": touchpoint, **ids}


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def keys(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute("select distinct customer_key from session_touchpoints").fetchall()}


def cross_channel_rows() -> list[dict[str, Any]]:
    return [
        at(0, "web:home", anonymous_id="cookie-1"),
        at(1, "web:login", anonymous_id="cookie-1", user_id_hash="user-1"),
        at(60, "chat:started", user_id_hash="user-1", email_hash="email-1"),
        at(300, "call:inbound", phone_hash="phone-1"),
    ]


def test_web_chat_and_call_identifiers_become_one_customer(warehouse, tmp_path) -> None:
    insert_touchpoints(warehouse, cross_channel_rows())
    insert_identities(warehouse, [{"email_hash": "email-1", "phone_hash": "phone-1"}])
    build_journeys(warehouse, make_config(tmp_path))
    assert keys(warehouse) == {md5("anonymous_id:cookie-1")}  # the group's smallest identifier
    mapped = warehouse.execute("select identifier_type, identifier from identity_map order by all").fetchall()
    assert mapped == [
        ("anonymous_id", "cookie-1"),
        ("email_hash", "email-1"),
        ("phone_hash", "phone-1"),
        ("user_id_hash", "user-1"),
    ]
    links = warehouse.execute(
        "select identifier_a, identifier_b, source, row_kind, first_seen, used_for_linking "
        "from identity_links order by identifier_a, identifier_b"
    ).fetchall()
    assert links == [
        ("cookie-1", "user-1", "test", "web:login", T0 + timedelta(minutes=1), True),
        ("email-1", "phone-1", "crm", "identity_record", None, True),
        ("user-1", "email-1", "test", "chat:started", T0 + timedelta(minutes=60), True),
    ]


def test_without_the_crm_row_the_call_stays_a_separate_customer(warehouse, tmp_path) -> None:
    insert_touchpoints(warehouse, cross_channel_rows())
    build_journeys(warehouse, make_config(tmp_path))
    assert keys(warehouse) == {md5("anonymous_id:cookie-1"), md5("phone_hash:phone-1")}


def test_keys_do_not_depend_on_load_order(tmp_path) -> None:
    from journey_mining.warehouse import connect

    rows = [at(i, "web:login", anonymous_id=f"c{i}", user_id_hash=f"u{i // 3}") for i in range(30)]
    results = []
    for attempt, ordered in enumerate([rows, random.Random(3).sample(rows, len(rows))]):
        con = connect(tmp_path / f"w{attempt}.duckdb")
        insert_touchpoints(con, ordered)
        build_journeys(con, make_config(tmp_path))
        results.append(con.execute("select * from identity_map order by all").fetchall())
        con.close()
    assert results[0] == results[1]
    assert len({row[2] for row in results[0]}) == 10


def test_super_node_phone_does_not_merge_customers_and_is_reported(warehouse, tmp_path) -> None:
    rows = []
    for i in range(2000):
        rows.append(at(i, "web:login", anonymous_id=f"c{i}", user_id_hash=f"u{i}"))
        rows.append(at(i + 1, "call:inbound", user_id_hash=f"u{i}", phone_hash="shop-switchboard"))
    insert_touchpoints(warehouse, rows)
    config = make_config(tmp_path)
    report = stitch_identities(warehouse, config)
    assert report.super_nodes == 1
    assert report.top_super_nodes[0].identifier == "shop-switchboard"
    assert report.top_super_nodes[0].partners == 2000
    assert report.customers == 2001  # 2000 people, and the switchboard alone
    assert report.largest_groups[0].identifiers == 2
    build_journeys(warehouse, config)
    assert len(keys(warehouse)) == 2000
    assert warehouse.execute("select identifier, user_id_partners from identity_super_nodes").fetchall() == [
        ("shop-switchboard", 2000)
    ]
    unused = warehouse.execute("select count(*) from identity_links where not used_for_linking").fetchall()
    assert unused == [(2000,)]


def test_super_node_threshold_counts_customers_not_devices(warehouse, tmp_path) -> None:
    rows = [at(i, "web:login", anonymous_id=f"device-{i}", user_id_hash="loyal") for i in range(6)]
    rows += [at(10 + i, "web:login", anonymous_id="kiosk", user_id_hash=f"visitor-{i}") for i in range(4)]
    insert_touchpoints(warehouse, rows)
    build_journeys(warehouse, make_config(tmp_path))
    supers = warehouse.execute("select identifier from identity_super_nodes").fetchall()
    assert supers == [("kiosk",)]  # 4 user ids > 3; six devices for one user id is normal
    loyal = warehouse.execute(
        "select count(distinct customer_key) from identity_map where identifier like 'device-%'"
    ).fetchall()
    assert loyal == [(1,)]


def test_device_threshold_is_configurable(warehouse, tmp_path) -> None:
    rows = [at(i, "web:login", anonymous_id=f"device-{i}", user_id_hash="loyal") for i in range(6)]
    insert_touchpoints(warehouse, rows)
    build_journeys(warehouse, make_config(tmp_path, identity={"max_devices_per_identifier": 5}))
    assert warehouse.execute("select identifier from identity_super_nodes").fetchall() == [("loyal",)]
    assert len(keys(warehouse)) == 6


def test_long_chain_converges_in_few_rounds(warehouse, tmp_path) -> None:
    # cookie-0 - user-0 - cookie-1 - user-1 - ... : 800 identifiers in one chain
    rows = []
    for i in range(400):
        rows.append(at(i, "web:login", anonymous_id=f"cookie-{i:04d}", user_id_hash=f"user-{i:04d}"))
        rows.append(at(i, "web:login", anonymous_id=f"cookie-{i + 1:04d}", user_id_hash=f"user-{i:04d}"))
    insert_touchpoints(warehouse, rows)
    report = stitch_identities(warehouse, make_config(tmp_path))
    assert report.customers == 1
    assert report.identifiers == report.linked_identifiers == 801
    assert report.iterations <= 15


def test_propagation_that_does_not_settle_is_an_error(warehouse, tmp_path) -> None:
    rows = [at(i, "web:login", anonymous_id=f"cookie-{i}", user_id_hash=f"user-{i // 2}") for i in range(40)]
    rows += [
        at(i, "web:login", anonymous_id=f"cookie-{i + 1}", user_id_hash=f"user-{i // 2}") for i in range(40)
    ]
    insert_touchpoints(warehouse, rows)
    with pytest.raises(IdentityStitchError, match="max_iterations"):
        stitch_identities(warehouse, make_config(tmp_path, identity={"max_iterations": 1}))


def test_crm_only_identifiers_are_mapped(warehouse, tmp_path) -> None:
    insert_touchpoints(warehouse, [at(0, "web:login", anonymous_id="c", user_id_hash="u")])
    insert_identities(warehouse, [{"user_id_hash": "u", "email_hash": "e", "phone_hash": "p"}])
    report = stitch_identities(warehouse, make_config(tmp_path))
    assert (report.identifiers, report.customers) == (4, 1)
    assert report.largest_groups[0].phones == 1

"""Friction detection on hand-made journeys with exact expected counts, one kind at a time;
reconciliation with funnels and touchpoint_stats; and no findings without planted effects."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from journey_mining.config import Config
from journey_mining.friction import FRICTION_COLUMNS, detect_friction, friction_state_effects
from journey_mining.friction.prepared import examples
from journey_mining.friction.stats import compare_proportions, wilson_interval
from journey_mining.funnel import funnel
from journey_mining.journeys import build_journeys
from tests.conftest import insert_touchpoints, make_config

T0 = datetime(2026, 11, 2, 9, 0)  # a Monday


def at(customer: str, minutes: float, touchpoint: str, **attributes: Any) -> dict[str, Any]:
    """One touchpoint of ``customer``, ``minutes`` after T0."""
    return {
        "ts": T0 + timedelta(minutes=minutes),
        "touchpoint": touchpoint,
        "anonymous_id": customer,
        **attributes,
    }


def path(
    customer: str, start_minutes: float, touchpoints: list[str], **attributes: Any
) -> list[dict[str, Any]]:
    """A session: the touchpoints one minute apart."""
    return [at(customer, start_minutes + i, tp, **attributes) for i, tp in enumerate(touchpoints)]


def build(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, rows: list[dict[str, Any]], **sections: Any
) -> Config:
    insert_touchpoints(con, rows)
    config = make_config(tmp_path, **sections)
    build_journeys(con, config)
    return config


def finding(frame: pd.DataFrame, kind: str, location: str, value: str = "all") -> pd.Series:
    rows = frame[
        (frame["kind"] == kind) & (frame["location"] == location) & (frame["segment_value"] == value)
    ]
    assert len(rows) == 1, f"expected one {kind} finding at {location} / {value}, got {len(rows)}"
    return rows.iloc[0]


# ---- escalation -------------------------------------------------------------------------


def escalation_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(40):
        c = f"h{i}"
        rows += path(c, 0, ["web:home", "web:help:delivery"])
        if i < 6:  # chat in the same session
            rows.append(at(c, 6, "chat:started"))
        elif i < 10:  # call 45 minutes after the visit: a later session, still within the hour
            rows += [at(c, 46, "call:queued", wait_seconds=30), at(c, 47, "call:answered")]
        elif i < 13:  # call 62 minutes after: too late
            rows.append(at(c, 63, "call:queued", wait_seconds=30))
    for i in range(40):
        c = f"r{i}"
        rows += path(c, 0, ["web:home", "web:help:returns"])
        if i < 2:
            rows.append(at(c, 11, "chat:started"))
    return rows


def test_escalation_per_help_page_across_sessions(warehouse, tmp_path) -> None:
    config = build(warehouse, tmp_path, escalation_rows())
    found = detect_friction(warehouse, config)
    delivery = finding(found, "escalation", "web:help:delivery")
    assert (delivery["affected"], delivery["base"], delivery["unit"]) == (10, 40, "sessions")
    assert delivery["rate"] == pytest.approx(0.25)
    assert (delivery["rate_ci_low"], delivery["rate_ci_high"]) == pytest.approx(wilson_interval(10, 40))
    assert delivery["baseline_rate"] == pytest.approx(2 / 40)
    assert delivery["lift"] == pytest.approx(5.0)
    test, p_value = compare_proportions(10, 40, 2, 40)
    assert (delivery["test"], delivery["p_value"]) == (test, pytest.approx(p_value))
    assert delivery["example_ids"].count(",") == 2
    assert "25% of 40 sessions that visited web:help:delivery" in delivery["explanation"]
    returns = finding(found, "escalation", "web:help:returns")
    assert (returns["affected"], returns["base"], returns["baseline_rate"]) == (2, 40, pytest.approx(0.25))


def test_escalation_window_is_configurable(warehouse, tmp_path) -> None:
    config = build(warehouse, tmp_path, escalation_rows(), friction={"escalation_window_minutes": 90})
    delivery = finding(detect_friction(warehouse, config), "escalation", "web:help:delivery")
    assert delivery["affected"] == 13


def test_escalation_states_in_the_graph(warehouse, tmp_path) -> None:
    config = build(warehouse, tmp_path, escalation_rows())
    effects = friction_state_effects(warehouse, config).set_index("state")
    assert effects.loc["web:help:delivery -> chat", "occurrences"] == 6
    assert effects.loc["web:help:delivery -> call", "occurrences"] == 4
    assert effects.loc["web:help:returns -> chat", "kind"] == "escalation"
    assert effects.loc["web:help:delivery -> call", "base_touchpoint"] == "web:help:delivery"
    assert (effects["removal_effect"].dropna() >= 0).all()


# ---- loop and drop-off ------------------------------------------------------------------


def loop_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(30):  # cart -> product -> cart; 6 of 30 convert
        tail = ["web:purchase"] if i < 6 else []
        rows += path(f"l{i}", 0, ["web:home", "web:cart", "web:product", "web:cart", *tail])
    for i in range(60):  # no loop; 36 of 60 convert
        tail = ["web:purchase"] if i < 36 else []
        rows += path(f"n{i}", 0, ["web:home", "web:cart", "web:shipping", *tail])
    return rows


def test_loop_sessions_convert_less_than_sessions_without_it(warehouse, tmp_path) -> None:
    config = build(warehouse, tmp_path, loop_rows())
    found = detect_friction(warehouse, config)
    loop = finding(found, "loop", "web:cart -> web:product -> web:cart")
    assert (loop["affected"], loop["base"]) == (24, 30)  # loop sessions that did not convert
    assert (loop["rate"], loop["baseline_rate"]) == pytest.approx((0.8, 0.4))
    assert loop["conversions_lost"] == pytest.approx(24 - 0.4 * 30)
    assert loop["touchpoint"] == "web:cart"
    assert bool(loop["significant"])
    assert len(found[found["kind"] == "loop"]) == 1
    effects = friction_state_effects(warehouse, config).set_index("state")
    assert effects.loc["web:cart[loop via web:product]", "occurrences"] == 30


def test_drop_off_against_the_other_touchpoints_of_the_channel(warehouse, tmp_path) -> None:
    config = build(warehouse, tmp_path, loop_rows())
    shipping = finding(detect_friction(warehouse, config), "drop_off", "web:shipping")
    # other web touchpoints: home 0 of 90 exits, cart 24 of 90, product 0 of 30
    assert (shipping["affected"], shipping["base"]) == (24, 60)
    assert shipping["baseline_rate"] == pytest.approx(24 / 210)
    # every session that went on from web:shipping converted: loss probability 1
    assert shipping["conversions_lost"] == pytest.approx(24 - 60 * 24 / 210)
    assert shipping["channel"] == "web"


def test_drop_off_exits_reconcile_with_touchpoint_stats(warehouse, tmp_path) -> None:
    config = build(warehouse, tmp_path, loop_rows() + cart_rows())
    found = detect_friction(warehouse, config)
    drop_off = found[found["kind"] == "drop_off"].set_index("location")["affected"]
    stats = warehouse.execute(
        "select touchpoint, exits from touchpoint_stats where touchpoint not in ('web:purchase', 'call:order_placed')"
    ).fetchall()
    assert {tp: int(drop_off.get(tp, 0)) for tp, _ in stats} == dict(stats)
    assert "web:purchase" not in drop_off.index


# ---- cart and checkout abandonment -------------------------------------------------------


def cart_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    converted = ["web:product", "web:add_to_cart", "web:begin_checkout", "web:purchase"]
    for i in range(6):
        rows += path(f"dc{i}", 0, converted, device="desktop")
    for i in range(2):
        rows += path(f"mc{i}", 0, converted, device="mobile")
    for i in range(4):  # desktop carts abandoned; recovery variants below
        rows += path(f"da{i}", 0, ["web:product", "web:add_to_cart"], device="desktop")
    end = 1  # minutes: each abandoned session's last touchpoint
    rows += [at("da0", end + 180, "call:queued", wait_seconds=20), at("da0", end + 185, "call:order_placed")]
    rows.append(at("da1", end + 20 * 60, "call:order_placed"))  # recovered within 24 h
    rows.append(at("da2", end + 30 * 60, "call:order_placed"))  # too late
    rows += path("da3", end + 300, ["web:product", "web:purchase"], device="desktop")  # same channel
    for i in range(2):  # abandoned at checkout
        rows += path(f"dk{i}", 0, ["web:product", "web:add_to_cart", "web:begin_checkout"], device="desktop")
    for i in range(10):
        rows += path(f"ma{i}", 0, ["web:product", "web:add_to_cart"], device="mobile")
    return rows


def test_cart_abandonment_with_recovery_on_another_channel(warehouse, tmp_path) -> None:
    config = build(warehouse, tmp_path, cart_rows())
    found = detect_friction(warehouse, config)
    carts = finding(found, "cart_abandonment", "web:add_to_cart")
    assert (carts["affected"], carts["base"], carts["recovered"], carts["unit"]) == (16, 24, 2, "carts")
    assert pd.isna(carts["p_value"])
    assert pd.isna(carts["conversions_lost"])
    assert not bool(carts["significant"])
    assert "16 of 24 sessions with a cart (67%)" in carts["explanation"]
    assert "2 of them recovered" in carts["explanation"]
    mobile = finding(found, "cart_abandonment", "web:add_to_cart", "mobile")
    assert (mobile["segment"], mobile["affected"], mobile["base"], mobile["recovered"]) == (
        "device",
        10,
        12,
        0,
    )
    assert mobile["baseline_rate"] == pytest.approx(6 / 12)
    assert mobile["conversions_lost"] == pytest.approx(10 - 0.5 * 12)
    desktop = finding(found, "cart_abandonment", "web:add_to_cart", "desktop")
    assert (desktop["affected"], desktop["base"], desktop["recovered"]) == (6, 12, 2)
    checkout = finding(found, "checkout_abandonment", "web:begin_checkout")
    assert (checkout["affected"], checkout["base"], checkout["recovered"]) == (2, 10, 0)
    assert found.loc[found["kind"] == "drop_off", "recovered"].isna().all()


def test_recovery_window_is_configurable(warehouse, tmp_path) -> None:
    config = build(warehouse, tmp_path, cart_rows(), friction={"cart_recovery_window_hours": 48})
    carts = finding(detect_friction(warehouse, config), "cart_abandonment", "web:add_to_cart")
    assert carts["recovered"] == 3


def test_cart_abandonment_reconciles_with_the_funnel(warehouse, tmp_path) -> None:
    config = build(warehouse, tmp_path, cart_rows())
    found = detect_friction(warehouse, config)
    steps = ["web:add_to_cart", "web:purchase"]
    overall = funnel(warehouse, steps)
    carts = finding(found, "cart_abandonment", "web:add_to_cart")
    assert carts["base"] == overall["reached"].iloc[0]
    assert carts["affected"] == overall["dropped"].iloc[1]
    by_device = funnel(warehouse, steps, segment="device")
    for device in ("desktop", "mobile"):
        rows = by_device[by_device["segment"] == device]
        segment = finding(found, "cart_abandonment", "web:add_to_cart", device)
        assert (segment["base"], segment["affected"]) == (rows["reached"].iloc[0], rows["dropped"].iloc[1])


# ---- long waits and abandoned contacts ------------------------------------------------------


def call(
    customer: str, minutes: float, wait: float, *, abandoned: bool, topic: str | None = None
) -> list[dict[str, Any]]:
    first = at(customer, minutes, "call:queued", wait_seconds=wait, topic=topic)
    if abandoned:
        return [first, at(customer, minutes + wait / 60, "call:abandoned_in_queue", wait_seconds=wait)]
    return [
        first,
        at(customer, minutes + wait / 60, "call:answered", wait_seconds=wait),
        at(customer, minutes + wait / 60 + 5, "call:ended"),
    ]


def wait_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(40):  # Monday: 20 long waits, 12 abandoned
        rows += call(f"mon{i}", 60 * (i % 8), 600 if i < 20 else 60, abandoned=i % 10 < 3)
    for day in range(1, 5):  # Tuesday to Friday: 30 calls each
        for i in range(30):
            n = (day - 1) * 30 + i
            wait = 400 if n < 6 else (300 if n == 6 else 60)  # exactly 300 s is not long
            rows += call(f"d{day}c{i}", day * 1440 + 60 * (i % 8), wait, abandoned=10 <= n < 16)
    return rows


def test_long_waits_and_abandoned_calls_by_weekday(warehouse, tmp_path) -> None:
    config = build(warehouse, tmp_path, wait_rows())
    found = detect_friction(warehouse, config)
    monday = finding(found, "long_wait", "call:queued", "Monday")
    assert (monday["segment"], monday["affected"], monday["base"], monday["unit"]) == (
        "weekday",
        20,
        40,
        "contacts",
    )
    assert monday["baseline_rate"] == pytest.approx(6 / 120)
    assert bool(monday["significant"])
    assert "On Mondays, 50% of 40 call:queued contacts waited more than 5 minutes" in monday["explanation"]
    tuesday = finding(found, "long_wait", "call:queued", "Tuesday")
    assert (tuesday["affected"], tuesday["base"]) == (6, 30)
    assert not bool(tuesday["significant"])
    abandoned = finding(found, "abandoned_contact", "call:queued", "Monday")
    assert (abandoned["affected"], abandoned["base"], abandoned["baseline_rate"]) == (
        12,
        40,
        pytest.approx(6 / 120),
    )
    assert bool(abandoned["significant"])
    hours = found[(found["kind"] == "long_wait") & (found["segment"] == "hour")]
    assert sorted(hours["segment_value"]) == [f"{h:02d}:00" for h in range(9, 17)]
    assert hours["base"].sum() == 160
    effects = friction_state_effects(warehouse, config).set_index("state")
    assert effects.loc["call:queued[wait>5min]", "occurrences"] == 26
    assert effects.loc["call:abandoned_in_queue", "kind"] == "abandoned_contact"


def test_weekday_and_hour_in_the_configured_time_zone(warehouse, tmp_path) -> None:
    # Tuesday 03:00 UTC is Monday 22:00 in New York
    rows = call("ny", 18 * 60, 600, abandoned=False)  # T0 + 18 h
    config = build(warehouse, tmp_path, rows, friction={"time_zone": "America/New_York"})
    found = detect_friction(warehouse, config)
    values = set(found.loc[found["kind"] == "long_wait", "segment_value"])
    assert values == {"Monday", "22:00"}


# ---- repeat contacts ------------------------------------------------------------------------


def chat(customer: str, minutes: float, topic: str) -> list[dict[str, Any]]:
    return [
        at(customer, minutes, "chat:started", topic=topic),
        at(customer, minutes + 2, "chat:agent_replied"),
    ]


def repeat_rows() -> list[dict[str, Any]]:
    day = 1440
    rows: list[dict[str, Any]] = []
    for i in range(15):  # chat, then a call on the same topic 3 days later
        rows += chat(f"rf{i}", 0, "refund_status") + call(
            f"rf{i}", 3 * day, 30, abandoned=False, topic="refund_status"
        )
    rows += chat("late", 0, "refund_status") + chat("late", 8 * day, "refund_status")  # 8 days: no repeat
    for i in range(5):
        rows += chat(f"dr{i}", 0, "delivery") + chat(f"dr{i}", 2 * day, "delivery")
    for i in range(40):
        rows += chat(f"ds{i}", 0, "delivery")
    rows += chat("mixed", 0, "delivery") + chat("mixed", day, "refund_status")  # other topic: no repeat
    # a transferred call is one contact, whatever its legs
    rows += [
        at("tr", 0, "call:queued", wait_seconds=10, topic="billing"),
        at("tr", 1, "call:answered"),
        at("tr", 3, "call:transferred"),
        at("tr", 4, "call:queued", wait_seconds=20),
        at("tr", 5, "call:answered"),
        at("tr", 9, "call:ended"),
    ]
    return rows


def test_repeat_contacts_on_the_same_topic_within_the_window(warehouse, tmp_path) -> None:
    config = build(warehouse, tmp_path, repeat_rows())
    found = detect_friction(warehouse, config)
    refund = finding(found, "repeat_contact", "refund_status", "refund_status")
    assert (refund["segment"], refund["affected"], refund["base"], refund["unit"]) == (
        "topic",
        15,
        33,
        "contacts",
    )
    delivery = finding(found, "repeat_contact", "delivery", "delivery")
    assert (delivery["affected"], delivery["base"]) == (5, 51)
    assert refund["baseline_rate"] == pytest.approx(5 / 52)
    billing = finding(found, "repeat_contact", "billing", "billing")
    assert (billing["affected"], billing["base"]) == (0, 1)
    assert bool(refund["significant"])
    effects = friction_state_effects(warehouse, config).set_index("state")
    assert effects.loc["call:queued[repeat]", "occurrences"] == 15
    assert effects.loc["chat:started[repeat]", "occurrences"] == 5


# ---- errors and low satisfaction ------------------------------------------------------------


def error_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(40):
        tail = ["web:payment_error"] if i < 20 else ["web:purchase"]
        rows += path(f"m{i}", 0, ["web:product", "web:add_payment_info", *tail], device="mobile")
    for i in range(40):
        tail = ["web:payment_error", "web:add_payment_info", "web:purchase"] if i < 2 else ["web:purchase"]
        rows += path(f"d{i}", 0, ["web:product", "web:add_payment_info", *tail], device="desktop")
    return rows


def test_error_touchpoint_by_device_and_its_cost(warehouse, tmp_path) -> None:
    config = build(warehouse, tmp_path, error_rows())
    found = detect_friction(warehouse, config)
    mobile = finding(found, "error_touchpoint", "web:payment_error", "mobile")
    assert (mobile["segment"], mobile["affected"], mobile["base"]) == ("device", 20, 40)
    assert mobile["baseline_rate"] == pytest.approx(2 / 40)
    assert mobile["lift"] == pytest.approx(10.0)
    # mobile sessions without the error all converted, with it none did: loss probability 1
    assert mobile["conversions_lost"] == pytest.approx(20 - 40 * 2 / 40)
    assert bool(mobile["significant"])
    assert mobile["explanation"].startswith(
        "On mobile, 50% of 40 sessions that reached web:add_payment_info hit web:payment_error, vs 5.0% on desktop (10x)"
    )
    overall = finding(found, "error_touchpoint", "web:payment_error")
    assert (overall["affected"], overall["base"], overall["baseline_rate"]) == (20, 22, 0.0)
    assert overall["conversions_lost"] == pytest.approx(20)


def satisfaction_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(30):
        rows += path(f"u{i}", 0, ["web:help:returns", "chat:started"])
        rows.append(at(f"u{i}", 2, "chat:rated", satisfaction=1))
    for i in range(30):
        rating = 2 if i < 3 else 5  # 2 is still low: at or below the threshold
        rows += path(f"s{i}", 0, ["web:home", "chat:started"])
        rows.append(at(f"s{i}", 2, "chat:rated", satisfaction=rating))
    return rows


def test_low_satisfaction_after_a_touchpoint(warehouse, tmp_path) -> None:
    config = build(warehouse, tmp_path, satisfaction_rows())
    found = detect_friction(warehouse, config)
    returns = finding(found, "low_satisfaction", "web:help:returns")
    assert (returns["affected"], returns["base"], returns["unit"]) == (30, 30, "journeys")
    assert returns["baseline_rate"] == pytest.approx((3 + 33) / (30 + 60))
    home = finding(found, "low_satisfaction", "web:home")
    assert (home["affected"], home["base"]) == (3, 30)
    assert "chat:rated" not in set(found.loc[found["kind"] == "low_satisfaction", "location"])
    effects = friction_state_effects(warehouse, config).set_index("state")
    assert effects.loc["chat:rated[rating<=2]", "occurrences"] == 33


# ---- the table, its ranking, and no findings without friction ---------------------------


def test_friction_table_is_materialised_and_ranked(warehouse, tmp_path) -> None:
    config = build(warehouse, tmp_path, loop_rows() + cart_rows() + wait_rows())
    found = detect_friction(warehouse, config)
    table = warehouse.execute("select * from friction order by rank").df()
    assert list(table.columns) == list(FRICTION_COLUMNS)
    assert len(table) == len(found)
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    lost = table["conversions_lost"]
    assert lost.dropna().is_monotonic_decreasing
    assert lost.isna().sum() == 0 or lost.iloc[-lost.isna().sum() :].isna().all()  # nulls last
    assert (lost.dropna() >= 0).all()
    assert table["finding_id"].is_unique
    assert table["significant"].sum() > 0
    # q-values over all findings of the run
    p = table["p_value"].dropna()
    assert (table.loc[p.index, "q_value"] >= p).all()
    again = detect_friction(warehouse, config)
    assert again["finding_id"].tolist() == found["finding_id"].tolist()


def test_shared_temp_tables_are_dropped_and_examples_are_journey_ids(warehouse, tmp_path) -> None:
    config = build(warehouse, tmp_path, loop_rows() + cart_rows())
    found = detect_friction(warehouse, config)
    left = warehouse.execute(
        "select table_name from duckdb_tables() where table_name like '\\_fr\\_%' escape '\\'"
    )
    assert left.fetchall() == []
    journeys = {row[0] for row in warehouse.execute("select journey_id from journeys").fetchall()}
    for value in found["example_ids"].dropna():
        ids = value.split(",")
        assert ids == sorted(set(ids))
        assert len(ids) <= 3
        assert set(ids) <= journeys


def test_examples_are_the_three_smallest_distinct_flagged_journeys_in_order() -> None:
    rows = duckdb.sql(
        f"""
        select g, {examples("f")} as ids
        from (values (1, 9, true), (1, 2, true), (1, 2, true), (1, 5, true), (1, 7, true),
            (1, 1, false), (2, 3, false), (3, null, true), (3, 4, true), (3, 4, true)) as t(g, jid, f)
        group by g
        order by g
        """
    ).fetchall()
    assert rows == [(1, [2, 5, 7]), (2, None), (3, [4])]


def uniform_rows(seed: int, customers: int = 400) -> list[dict[str, Any]]:
    """Every step an independent uniform draw: no touchpoint, device, topic, weekday or hour
    differs from another in anything but chance."""
    rng = random.Random(seed)
    menu = [
        "web:home",
        "web:category",
        "web:product",
        "web:add_to_cart",
        "web:begin_checkout",
        "web:help:a",
        "web:help:b",
        "web:payment_error",
        "web:purchase",
        "chat:started",
        "chat:rated",
        "call:queued",
        "call:answered",
        "call:abandoned_in_queue",
        "call:ended",
    ]
    rows: list[dict[str, Any]] = []
    for c in range(customers):
        device = rng.choice(["desktop", "mobile", "tablet"])
        for s in range(rng.randint(1, 3)):
            start = rng.uniform(0, 14 * 1440) + s * 3 * 1440
            for k in range(rng.randint(1, 8)):
                touchpoint = rng.choice(menu)
                attributes: dict[str, Any] = {"device": device} if touchpoint.startswith("web:") else {}
                if touchpoint in ("chat:started", "call:queued"):
                    attributes |= {"topic": rng.choice("xyz"), "wait_seconds": rng.uniform(0, 600)}
                if touchpoint == "chat:rated":
                    attributes["satisfaction"] = rng.randint(1, 5)
                rows.append(at(f"c{c}", start + 2 * k, touchpoint, **attributes))
    return rows


def test_no_significant_findings_without_planted_friction(warehouse, tmp_path) -> None:
    config = build(warehouse, tmp_path, uniform_rows(seed=20261102))
    found = detect_friction(warehouse, config)
    assert set(found["kind"]) >= {
        "drop_off",
        "cart_abandonment",
        "escalation",
        "repeat_contact",
        "long_wait",
        "abandoned_contact",
        "loop",
        "error_touchpoint",
        "low_satisfaction",
    }
    assert (found["base"] >= 30).sum() > 20  # enough support that significance was possible
    assert not found["significant"].any(), found.loc[found["significant"], "explanation"].tolist()


def test_empty_warehouse_and_empty_touchpoint_lists(warehouse, tmp_path) -> None:
    config = build(warehouse, tmp_path, [])
    assert detect_friction(warehouse, config).empty
    assert list(warehouse.execute("select * from friction").df().columns) == list(FRICTION_COLUMNS)
    assert friction_state_effects(warehouse, config).empty
    lists = {
        "escalation_channels": [],
        "contact_transfer_touchpoints": [],
        "abandoned_contact_touchpoints": [],
        "error_patterns": [],
    }
    config = build(warehouse, tmp_path, escalation_rows() + wait_rows(), friction=lists)
    found = detect_friction(warehouse, config)
    assert not found["kind"].isin(["abandoned_contact", "error_touchpoint"]).any()
    assert found.loc[found["kind"] == "escalation", "affected"].tolist() == [0, 0]  # no channel escalates
    assert (found["kind"] == "long_wait").any()

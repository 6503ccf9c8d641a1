"""Config values reach SQL only as typed parameter tables."""

from __future__ import annotations

from journey_mining.parameters import write_parameter_tables
from tests.conftest import make_config


def test_parameter_tables_hold_the_config(warehouse, tmp_path) -> None:
    config = make_config(
        tmp_path,
        session={
            "timeout_minutes": 45,
            "channel_timeout_minutes": {"chat": 0.1},
            "max_length_minutes": 240,
            "exclude_touchpoints": ["web:scroll"],
        },
        journey={"inactivity_days": 2},
        conversion_touchpoints=["web:purchase", "call:it's done"],
        identity={"max_customers_per_identifier": 5},
    )
    counts = write_parameter_tables(warehouse, config)
    assert counts["cfg_session"] == 1
    assert warehouse.execute("select * from cfg_session").fetchall() == [
        (2700.0, 14400.0, False, False, False)
    ]
    assert warehouse.execute("select * from cfg_channel_timeouts").fetchall() == [("chat", 6.0)]
    assert warehouse.execute("select * from cfg_journey").fetchall() == [(172800.0,)]
    assert warehouse.execute("select * from cfg_identity").fetchall() == [(5, 50)]
    roles = warehouse.execute("select touchpoint, role from cfg_touchpoint_roles order by all").fetchall()
    assert roles == [
        ("call:it's done", "conversion"),  # bound, not formatted: a quote is just a character
        ("web:add_to_cart", "cart"),
        ("web:begin_checkout", "checkout"),
        ("web:purchase", "conversion"),
        ("web:scroll", "excluded"),
    ]


def test_rewriting_replaces_the_previous_values(warehouse, tmp_path) -> None:
    write_parameter_tables(warehouse, make_config(tmp_path, session={"channel_timeout_minutes": {"chat": 5}}))
    write_parameter_tables(warehouse, make_config(tmp_path))
    assert warehouse.execute("select count(*) from cfg_channel_timeouts").fetchall() == [(0,)]
    assert warehouse.execute("select max_length_seconds from cfg_session").fetchall() == [(None,)]

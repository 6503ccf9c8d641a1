"""The run dashboard: one self-contained, escaped, atomically written HTML file per run."""

from __future__ import annotations

import json
import os
import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from journey_mining.config import Config
from journey_mining.funnel import funnel
from journey_mining.journeys import build_journeys
from journey_mining.viz import charts, dashboard, sankey
from journey_mining.viz.dashboard import dashboard_figures, read_headline, write_dashboard, write_index
from tests.conftest import insert_touchpoints, make_config

T0 = datetime(2026, 11, 2, 9)
EVIL_SCRIPT = "<script>window.__pwned=1</script>"
EVIL_IMG = "<img src=x onerror=window.__pwned=1>"
EVIL_TOUCHPOINT = f"web:{EVIL_SCRIPT}"
EVIL_DEVICE = EVIL_IMG

FRICTION_DDL = """
create or replace table friction (
    finding_id integer, rank integer, kind varchar, location varchar, touchpoint varchar, channel varchar,
    segment varchar, segment_value varchar, unit varchar, affected bigint, base bigint, rate double,
    rate_ci_low double, rate_ci_high double, baseline_rate double, lift double, lift_ci_low double,
    lift_ci_high double, test varchar, p_value double, q_value double, significant boolean,
    conversions_lost double, recovered double, example_ids varchar[], explanation varchar
)"""


def _customer(n: int, device: str, path: list[tuple[float, str]], **extra: Any) -> list[dict[str, Any]]:
    rows = []
    for minutes, touchpoint in path:
        row: dict[str, Any] = {
            "ts": T0 + timedelta(days=n % 5, minutes=minutes),
            "touchpoint": touchpoint,
            "anonymous_id": f"anon-{n}",
            "device": device if touchpoint.startswith("web:") else None,
        }
        if touchpoint == "chat:rated":
            row["satisfaction"] = extra.get("rating", 3)
        if touchpoint == "call:queued":
            row["wait_seconds"] = extra.get("wait", 120)
        rows.append(row)
    return rows


def build_warehouse(con: duckdb.DuckDBPyConnection, base_dir: Path) -> Config:
    """A small warehouse through the real pipeline, with hostile names and a friction table."""
    rows: list[dict[str, Any]] = []
    shop = [(0, "web:home"), (1, "web:product"), (2, "web:add_to_cart"), (3, "web:purchase")]
    browse = [(0, "web:home"), (1, "web:product"), (2, "web:add_to_cart")]
    helped = [(0, "web:help:delivery-status"), (5, "chat:started"), (6, "chat:rated")]
    for n in range(12):
        device = "mobile" if n % 3 else "desktop"
        rows += _customer(n, device, shop if n % 4 == 0 else browse)
        rows += _customer(100 + n, device, helped, rating=1 + n % 5)
    rows += _customer(200, "mobile", [(0, EVIL_TOUCHPOINT), (1, "web:product")])
    rows += _customer(201, EVIL_DEVICE, [(0, "web:home"), (1, EVIL_TOUCHPOINT)])
    rows += _customer(
        202, "desktop", [(0, "web:help:contact-us"), (4, "call:queued"), (6, "call:order_placed")]
    )
    insert_touchpoints(con, rows)
    config = make_config(base_dir)
    build_journeys(con, config)
    con.execute(FRICTION_DDL)
    con.execute(
        "insert into friction values"
        " (1, 1, 'exit', 'web:add_to_cart', 'web:add_to_cart', 'web', 'all', null, 'session', 9, 12,"
        "  0.75, 0.5, 0.9, 0.3, 2.5, 1.5, 3.5, 'fisher', 0.001, 0.004, true, 4.2, null, ['x'],"
        "  'Three in four carts are abandoned.'),"
        " (2, 2, 'exit', ?, ?, 'web', 'device', ?, 'session', 2, 2, 1.0, 0.3, 1.0, 0.3, 3.3, 1.0, 5.0,"
        "  'fisher', 0.001, 0.004, true, 1.0, null, null, ?)",
        [EVIL_TOUCHPOINT, EVIL_TOUCHPOINT, EVIL_DEVICE, f"Visitors of {EVIL_SCRIPT} leave {EVIL_IMG}"],
    )
    return config


@pytest.fixture
def config(warehouse: duckdb.DuckDBPyConnection, tmp_path: Path) -> Config:
    return build_warehouse(warehouse, tmp_path)


def test_one_self_contained_file_per_run_with_its_headline(
    warehouse: duckdb.DuckDBPyConnection, config: Config, tmp_path: Path
) -> None:
    out = tmp_path / "dashboards"
    path = write_dashboard(warehouse, config, out, run_id="20261124-a", manifest={"run_id": "20261124-a"})
    assert path == out / "dashboard-20261124-a.html"
    text = path.read_text(encoding="utf-8")
    assert path.stat().st_size < 6_000_000
    # nothing is fetched: no external script, stylesheet, image, frame or font
    assert not re.search(r"<(script|img|iframe|embed|object|source)\b[^>]*\bsrc\s*=", text, re.I)
    assert not re.search(r"<link\b", text, re.I)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", text, re.I)
    assert "default-src 'none'" in text
    assert text.count("plotly.js v") == 1  # embedded once
    for heading in ("Journey map", "Funnel", "Where customers get stuck", "Channels", "Satisfaction"):
        assert heading in text
    assert "Definitions used" in text
    assert "a gap longer than 30 minutes" in text
    assert "Run manifest" in text
    record = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert record["run_id"] == "20261124-a"
    assert record["headline"]["sessions"] > 0
    assert read_headline(out, "20261124-a") == record["headline"]


def test_data_text_is_escaped_and_ids_are_not_shown(
    warehouse: duckdb.DuckDBPyConnection, config: Config, tmp_path: Path
) -> None:
    text = write_dashboard(warehouse, config, tmp_path, run_id="r1").read_text(encoding="utf-8")
    assert EVIL_SCRIPT not in text
    assert EVIL_IMG not in text
    assert "window.__pwned=1" in text  # the payload is there, but only as text
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=window.__pwned=1&gt;" in text
    # chart JSON cannot close its script element; labels inside are escaped for Plotly
    labels = set()
    for blob in re.findall(r'<script type="application/json" id="fig-\d+">(.*?)</script>', text, re.S):
        assert "</" not in blob
        for trace in json.loads(blob)["data"]:
            labels.update(trace.get("node", {}).get("label", []))
    assert "web:&lt;script&gt;window.__pwned=1&lt;/script&gt; ⚠" in labels
    keys = warehouse.execute(
        "select distinct customer_key, session_id, journey_id from session_touchpoints"
    ).fetchall()
    for customer_key, session_id, journey_id in keys:
        assert customer_key not in text
        assert session_id not in text
        assert journey_id not in text
    assert "anon-1" not in text


def test_changes_since_the_previous_run(
    warehouse: duckdb.DuckDBPyConnection, config: Config, tmp_path: Path
) -> None:
    first = write_dashboard(warehouse, config, tmp_path, run_id="r1")
    assert "No earlier run to compare with." in first.read_text(encoding="utf-8")
    previous = json.loads(first.with_suffix(".json").read_text(encoding="utf-8"))
    previous["headline"]["sessions"] -= 10
    previous["headline"]["conversion_rate"] -= 0.05
    text = write_dashboard(warehouse, config, tmp_path, run_id="r2", previous=previous).read_text(
        encoding="utf-8"
    )
    assert '<div class="delta flat">+10 (' in text
    assert '<div class="delta good">+5.0 pp</div>' in text
    # the bare headline dict (as the runs table stores it) works too
    text = write_dashboard(warehouse, config, tmp_path, run_id="r3", previous=previous["headline"]).read_text(
        encoding="utf-8"
    )
    assert '<div class="delta good">+5.0 pp</div>' in text


def test_segment_views_are_prerendered_behind_a_select(
    warehouse: duckdb.DuckDBPyConnection, config: Config, tmp_path: Path
) -> None:
    text = write_dashboard(warehouse, config, tmp_path, run_id="r1").read_text(encoding="utf-8")
    options = re.findall(r'<option value="(seg-\d+)"[^>]*>([^<]*)</option>', text)
    labels = [label for _, label in options]
    assert labels[0].startswith("All sessions")
    assert any(label.startswith("Device: mobile") for label in labels)
    assert any(label.startswith("Customer: new") for label in labels)
    assert any("&lt;img src=x" in label for label in labels)
    views = re.findall(r'<div data-segment="(seg-\d+)"( hidden)?>', text)
    assert [key for key, _ in views] == [key for key, _ in options]
    assert [bool(hidden) for _, hidden in views] == [False] + [True] * (len(views) - 1)


def test_atomic_write_keeps_the_previous_file_when_writing_fails(
    warehouse: duckdb.DuckDBPyConnection, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_dashboard(warehouse, config, tmp_path, run_id="r1")
    before = path.read_bytes()
    before_json = path.with_suffix(".json").read_bytes()
    written: list[int] = []

    def broken(*args: Any, **kwargs: Any) -> str:
        # by now the head with plotly.js has been written to the temp file
        written.extend(p.stat().st_size for p in tmp_path.glob(".dashboard-r1.html.*.tmp"))
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(dashboard, "_friction_section", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_dashboard(warehouse, config, tmp_path, run_id="r1")
    assert written
    assert written[0] > 1_000_000
    assert path.read_bytes() == before
    assert path.with_suffix(".json").read_bytes() == before_json
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_write_removes_temp_files_killed_writes_left_and_nothing_else(
    warehouse: duckdb.DuckDBPyConnection, config: Config, tmp_path: Path
) -> None:
    """A SIGKILL mid-write leaves ``.dashboard-*.tmp``: the next write removes it, only it."""
    hour_ago = time.time() - 3600

    def plant(name: str, *, age: float = hour_ago) -> Path:
        path = tmp_path / name
        path.write_text("<!doctype html>half a page", encoding="utf-8")
        os.utime(path, (age, age))
        return path

    stale = [plant(".dashboard-r0.html.k3x_9q2m.tmp"), plant(".dashboard-r1.json.abcd1234.tmp")]
    untouched = [
        plant(".dashboard-r0.html.k3x_9q2m.tmp.bak"),  # not a name write_atomic makes
        plant(".dashboard-notes.tmp"),
        plant(".index.html.abcd1234.tmp"),  # not a dashboard page's
        plant("dashboard-r0.html.abcd1234.tmp"),
        plant("notes.txt"),
    ]
    newer = plant(".dashboard-r2.html.zzzz0000.tmp", age=time.time() + 3600)  # a later write's
    locked = plant(".dashboard-r3.html.lock0000.tmp")  # a concurrent write still at work holds its lock
    (tmp_path / ".dashboard-r4.html.dir00000.tmp").mkdir()
    with locked.open("rb") as handle:
        if dashboard.fcntl is not None:
            dashboard.fcntl.flock(handle.fileno(), dashboard.fcntl.LOCK_EX)
        write_dashboard(warehouse, config, tmp_path, run_id="r1")
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in [*untouched, newer, tmp_path / ".dashboard-r4.html.dir00000.tmp"])
    assert locked.exists() == (dashboard.fcntl is not None)
    assert (tmp_path / "dashboard-r1.html").exists()
    assert not list(tmp_path.glob(".dashboard-r1.*.tmp"))


def test_index_links_runs_newest_first(
    warehouse: duckdb.DuckDBPyConnection, config: Config, tmp_path: Path
) -> None:
    for run_id in ("r1", "r2"):
        write_dashboard(warehouse, config, tmp_path, run_id=run_id)
    record = tmp_path / "dashboard-r1.json"
    old = json.loads(record.read_text(encoding="utf-8"))
    old["generated_at"] = "2020-01-01T00:00:00+00:00"
    record.write_text(json.dumps(old), encoding="utf-8")
    index = write_index(tmp_path).read_text(encoding="utf-8")
    assert index.index('href="dashboard-r2.html"') < index.index('href="dashboard-r1.html"')


def test_run_id_must_be_a_plain_file_name(
    warehouse: duckdb.DuckDBPyConnection, config: Config, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="run_id"):
        write_dashboard(warehouse, config, tmp_path, run_id="../escape")


def test_figures_for_notebooks(warehouse: duckdb.DuckDBPyConnection, config: Config) -> None:
    figures = dashboard_figures(warehouse, config)
    assert set(figures) == {"sankey", "funnel", "channel_mix", "cross_channel", "satisfaction", "friction"}
    assert figures["sankey"].data[0].type == "sankey"
    funnel_trace = figures["funnel"].data[0]
    assert list(funnel_trace.x) == [13, 12, 0, 0]  # product, cart, checkout (none in the data), purchase


def test_without_friction_or_ratings_the_sections_say_so(
    warehouse: duckdb.DuckDBPyConnection, config: Config, tmp_path: Path
) -> None:
    warehouse.execute("drop table friction")
    warehouse.execute("update session_touchpoints set satisfaction = null")
    text = write_dashboard(warehouse, config, tmp_path, run_id="r1").read_text(encoding="utf-8")
    assert "The friction analysis did not run" in text
    assert "No satisfaction ratings in this data." in text
    assert set(dashboard_figures(warehouse, config)) == {"sankey", "funnel", "channel_mix", "cross_channel"}


def test_segment_views_draw_from_rows_and_funnels_computed_once(
    warehouse: duckdb.DuckDBPyConnection, config: Config
) -> None:
    """Each view's map and funnel equal the ones filtered directly from session_touchpoints."""
    friction = charts.friction_table(warehouse)
    with dashboard._maps(warehouse, config) as maps:
        views = dashboard.segment_views(warehouse, maps.rows.units_table)
        assert views == dashboard.segment_views(warehouse)
        for view in views:
            direct = sankey.sankey_data(
                warehouse, steps=dashboard.SANKEY_STEPS, top_k=dashboard.SANKEY_TOP_K, where=view.where
            )
            assert maps.sankey(friction, view.where) == sankey.sankey_figure(direct, friction)
            steps = config.funnel.steps
            assert maps.funnel(view.where) == charts.funnel_figure(funnel(warehouse, steps, where=view.where))
    with pytest.raises(duckdb.CatalogException):  # the temp tables are dropped
        warehouse.execute(f"select count(*) from {maps.rows.table}")
    with pytest.raises(duckdb.CatalogException):
        warehouse.execute("select count(*) from _dashboard_funnel_units")


def test_channel_charts_read_the_marts_with_the_same_numbers(
    warehouse: duckdb.DuckDBPyConnection, config: Config
) -> None:
    """Channel mix and cross-channel come from the sessions/journeys channel lists: as per event."""
    assert charts.channel_lists_readable(warehouse)
    frame, sessions = charts._channel_mix(warehouse, from_marts=True)
    direct = warehouse.execute(charts.CHANNEL_MIX_SQL).df()
    pd.testing.assert_frame_equal(frame, direct)
    total = warehouse.execute("select count(distinct session_id) from session_touchpoints").fetchone()
    assert total is not None
    assert sessions == total[0]
    marts = warehouse.execute(charts.CROSS_CHANNEL_FROM_MARTS_SQL, [10]).df()
    pd.testing.assert_frame_equal(marts, warehouse.execute(charts.CROSS_CHANNEL_SQL, [10]).df())
    assert len(marts) > 1


def test_channel_charts_count_touchpoints_when_a_channel_name_has_a_comma() -> None:
    con = duckdb.connect()
    con.execute(
        "create table session_touchpoints as select * from (values ('s1', 'j1', 'web,app', false),"
        " ('s1', 'j1', 'call', true), ('s2', 'j2', 'call', false)) as t(session_id, journey_id, channel,"
        " is_conversion)"
    )
    # marts whose ',' lists cannot give 'web,app' back: they must not be read
    con.execute("create table sessions as select * from (values ('web,app,call'), ('call')) as t(channels)")
    con.execute(
        "create table journeys as select * from (values ('web,app,call', 3, true), ('call', 1, false))"
        " as t(channels, channel_count, converted)"
    )
    assert not charts.channel_lists_readable(con)
    mix = charts.channel_mix_figure(con)
    assert dict(zip(mix.data[0].y, mix.data[0].x, strict=True)) == {"web,app": 1, "call": 2}
    cross = charts.cross_channel_figure(con)
    assert set(cross.data[0].y) == {"call + web,app", "call"}


def test_a_write_failing_mid_page_drops_the_working_tables_at_once(
    warehouse: duckdb.DuckDBPyConnection, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page generator holds working tables: a full disk closes it while the connection is open."""
    real_fdopen = os.fdopen
    held: dict[str, bool] = {}  # table -> temporary, while the page was being written

    class FullDisk:
        def __init__(self, handle: Any) -> None:
            self.handle, self.chunks = handle, 0

        def __enter__(self) -> FullDisk:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def write(self, chunk: str) -> None:
            self.chunks += 1
            if self.chunks == 4:  # inside the segment views, while the maps' tables exist
                held.update(warehouse.execute("select table_name, temporary from duckdb_tables()").fetchall())
                raise OSError(28, "No space left on device")
            self.handle.write(chunk)

    monkeypatch.setattr(dashboard.os, "fdopen", lambda *a, **k: FullDisk(real_fdopen(*a, **k)))
    with pytest.raises(OSError, match="No space left") as failure:
        write_dashboard(warehouse, config, tmp_path, run_id="r1")
    # the traceback still holds the generator's frames: its tables must be gone all the same
    assert failure.traceback
    # a writable warehouse file stores the working tables (see ``scratch``); a read-only one cannot
    assert held["_dashboard_sankey_rows"] is False
    assert held["_dashboard_sankey_rows_units"] is False
    tables = warehouse.execute("select table_name from duckdb_tables()").fetchall()
    assert [name for (name,) in tables if name.startswith("_dashboard")] == []

"""End to end on generated data: planted friction is found, and nothing when none is planted.

The generator (``journey_mining.generate``) plants five kinds of friction and records them
in ``planted.json``; the same generator with ``plant_friction=False`` makes the rates
uniform. The whole pipeline (load, stitch, sessionize, friction) must tell them apart.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from journey_mining.config import load_config
from journey_mining.generate import generate_sample
from journey_mining.pipeline import build_step, friction_step, load_step

SAMPLE_CONFIG = Path(__file__).parents[1] / "data" / "sample" / "config.yaml"
# the planted kinds and the finding that must be the top significant one of its kind
PLANTED = {
    "error_touchpoint": ("web:payment_error", "mobile"),
    "escalation": ("web:help:delivery-status", "all"),
    "abandoned_contact": ("call:queued", "Monday"),
    "repeat_contact": ("refund_status", "refund_status"),
}


def friction_for(tmp_path: Path, *, plant: bool) -> pd.DataFrame:
    data = tmp_path / "data"
    generate_sample(data, customers=2000, days=14, seed=11, plant_friction=plant)
    shutil.copy(SAMPLE_CONFIG, data / "config.yaml")
    text = (data / "config.yaml").read_text().replace("../../out/sample", str(tmp_path / "out"))
    (data / "config.yaml").write_text(text)
    config = load_config(data / "config.yaml")
    load_step(config)
    build_step(config)
    friction_step(config)
    with duckdb.connect(str(config.warehouse_path), read_only=True) as con:
        return con.execute("select * from friction order by rank").df()


@pytest.mark.slow
def test_planted_friction_is_found_at_the_top_of_its_kind(tmp_path: Path) -> None:
    friction = friction_for(tmp_path, plant=True)
    for kind, (location, segment_value) in PLANTED.items():
        found = friction[(friction["kind"] == kind) & friction["significant"]]
        assert not found.empty, f"no significant {kind} finding"
        by_lift = found.sort_values(["lift", "rate"], ascending=False).iloc[0]
        assert (by_lift["location"], by_lift["segment_value"]) == (location, segment_value), kind
    carts = friction[(friction["kind"] == "cart_abandonment") & (friction["segment"] == "all")]
    assert int(carts["recovered"].iloc[0]) > 0, "carts completed by phone are recovered"


@pytest.mark.slow
def test_no_planted_friction_means_no_significant_finding_of_those_kinds(tmp_path: Path) -> None:
    friction = friction_for(tmp_path, plant=False)
    kinds = [*PLANTED, "cart_abandonment", "checkout_abandonment", "long_wait"]
    significant = friction[friction["significant"] & friction["kind"].isin(kinds)]
    assert significant.empty, significant[["kind", "location", "segment_value", "rate", "q_value"]]

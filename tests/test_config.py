from __future__ import annotations

from pathlib import Path

import pytest

from journey_mining.config import ConfigError, load_config, parse_config


def test_defaults_are_documented_values(tmp_path: Path) -> None:
    config = parse_config({}, base_dir=tmp_path)
    assert config.session.timeout_minutes == 30
    assert config.journey.inactivity_days == 7
    assert config.friction.escalation_window_minutes == 60
    assert config.warehouse_path == tmp_path / "out/warehouse.duckdb"


def test_unknown_key_names_the_key_and_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("session:\n  timeout_minute: 10\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml") as err:
        load_config(path)
    assert "session.timeout_minute" in str(err.value)


@pytest.mark.parametrize(
    ("yaml_text", "key"),
    [
        ("session: {timeout_minutes: -5}", "session.timeout_minutes"),
        ("sources: [{name: web, kind: gaa4, path: x}]", "sources.0.kind"),
        ("sources: [{name: web, kind: ga4, path: x, time_zone: Mars/Olympus}]", "sources.0.time_zone"),
        ("sources: [{name: 'web; drop table x', kind: ga4, path: x}]", "sources.0.name"),
        ('sources: [{name: web, kind: ga4, path: "x\'; select 1; --"}]', "sources.0.path"),
        ("warehouse: {memory_limit: lots}", "warehouse.memory_limit"),
    ],
)
def test_wrong_values_fail_naming_the_key(tmp_path: Path, yaml_text: str, key: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert key in str(err.value)


def test_duplicate_source_names_rejected(tmp_path: Path) -> None:
    data = {"sources": [{"name": "a", "kind": "ga4", "path": "x"}, {"name": "a", "kind": "crm", "path": "y"}]}
    with pytest.raises(ConfigError, match="repeated: a"):
        parse_config(data, base_dir=tmp_path)


def test_fingerprint_changes_with_definitions(tmp_path: Path) -> None:
    a = parse_config({}, base_dir=tmp_path)
    b = parse_config({"session": {"timeout_minutes": 20}}, base_dir=tmp_path)
    assert a.fingerprint() == parse_config({}, base_dir=tmp_path).fingerprint()
    assert a.fingerprint() != b.fingerprint()


def test_sample_config_is_valid() -> None:
    config = load_config(Path(__file__).parents[1] / "data/sample/config.yaml")
    assert {s.kind.value for s in config.sources} == {"ga4", "intercom", "connect", "crm"}

"""No raw email, phone or user id from the input survives anywhere the pipeline writes.

Scans, after a full run with the dashboard: every table and column of the warehouse (as
text), the warehouse file's bytes, every file under the output folder, and the content of
the Prefect artifacts (built by the same functions the flow publishes).
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from pathlib import Path

import duckdb

from journey_mining.pipeline import run_pipeline, top_friction_step
from journey_mining.report import summary_markdown
from tests.conftest import SampleCopy


def raw_identifiers(sample: Path) -> set[str]:
    """Every email, phone (as written and as digits / E.164) and user id in the input files."""
    found: set[str] = set()
    for path in sample.glob("ga4/*.jsonl.gz"):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            found.update(json.loads(line).get("user_id") or "" for line in handle)
    for line in (sample / "chat" / "intercom_conversations.jsonl").read_text().splitlines():
        record = json.loads(line)
        found.add((record["source"]["author"].get("email") or "").strip())
        found.update(c.get("external_id") or "" for c in record["contacts"]["contacts"])
    for path in sample.glob("call/*.jsonl"):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            found.add(record.get("CustomerEndpoint", {}).get("Address") or "")
            found.add((record.get("Attributes") or {}).get("customer_id") or "")
    with (sample / "crm" / "customers.csv").open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            found.update(v.strip() for k, v in row.items() if k in ("customer_id", "email", "phone"))
    variants: set[str] = set()
    for value in found - {""}:
        variants.add(value)
        if "@" in value:
            variants.add(value.lower())
        digits = re.sub(r"\D", "", value)
        if len(digits) >= 10 and "@" not in value and not value.startswith(("u", "c")):
            variants.update({digits, digits[-10:], "+" + digits})
    # identifiers shorter than 6 characters would match by accident (e.g. inside hashes)
    return {v for v in variants if len(v) >= 6}


def test_no_raw_identifier_reaches_warehouse_outputs_or_artifacts(small_sample: SampleCopy) -> None:
    summary = run_pipeline(small_sample.config, dashboard=True)
    secrets = raw_identifiers(small_sample.data)
    assert len(secrets) > 50, "the sample must carry identifiers for this test to mean anything"
    pattern = re.compile("|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True)))
    # the scanner finds raw values where they are: in the input itself
    assert pattern.search((small_sample.data / "crm" / "customers.csv").read_text(encoding="utf-8-sig"))

    with duckdb.connect(str(small_sample.warehouse_path), read_only=True) as con:
        columns = con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'main'"
        ).fetchall()
        for table, column in columns:
            hits = con.execute(
                f'select "{column}"::varchar from "{table}" where regexp_matches("{column}"::varchar, ?) limit 3',
                [pattern.pattern],
            ).fetchall()
            assert hits == [], f"{table}.{column} holds raw identifiers: {hits}"
    artifacts = summary_markdown(summary.run_id, summary.headline, top_friction_step(small_sample.config))
    assert not pattern.search(artifacts)
    assert not pattern.search(json.dumps(top_friction_step(small_sample.config), default=str))

    blob = small_sample.warehouse_path.read_bytes()
    assert not [s for s in secrets if s.encode() in blob]
    outputs = [p for p in small_sample.config.output_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".html" for p in outputs)
    for path in outputs:
        text = path.read_bytes().decode("utf-8", errors="replace")
        assert not pattern.search(text), f"{path.name} holds a raw identifier"

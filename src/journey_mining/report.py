"""Plain-text and table summaries of a run, for the CLI and Prefect artifacts."""

from __future__ import annotations

from typing import Any

import duckdb

from journey_mining.warehouse import table_exists

FRICTION_COLUMNS = (
    "rank",
    "kind",
    "location",
    "segment",
    "segment_value",
    "affected",
    "base",
    "rate",
    "lift",
    "q_value",
    "significant",
    "conversions_lost",
    "explanation",
)


def friction_rows(
    con: duckdb.DuckDBPyConnection, *, limit: int = 10, significant_only: bool = True
) -> list[dict[str, Any]]:
    """The top findings as plain dicts (rounded), ranked by conversions lost."""
    if not table_exists(con, "friction"):
        return []
    where = "where significant" if significant_only else ""
    cursor = con.execute(
        f"select {', '.join(FRICTION_COLUMNS)} from friction {where} order by rank limit ?", [limit]
    )
    names = [d[0] for d in cursor.description]
    rows = []
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        for key in ("rate", "lift", "q_value", "conversions_lost"):
            if isinstance(row.get(key), float):
                row[key] = round(row[key], 4)
        rows.append(row)
    return rows


def _percent(value: Any) -> str:
    return "n/a" if value is None else f"{100 * float(value):.1f}%"


def summary_markdown(run_id: str, headline: dict[str, Any], top: list[dict[str, Any]]) -> str:
    """A short run summary: headline numbers and the top findings in plain words."""
    wait = headline.get("median_call_wait_seconds")
    lines = [
        f"# journey-mining run {run_id}",
        "",
        f"Data period: {headline.get('period_start')} to {headline.get('period_end')}",
        "",
        "| measure | value |",
        "|---|---|",
        f"| customers | {headline.get('customers', 0):,} |",
        f"| sessions | {headline.get('sessions', 0):,} |",
        f"| journeys | {headline.get('journeys', 0):,} |",
        f"| conversion rate (journeys) | {_percent(headline.get('conversion_rate'))} |",
        f"| cart abandonment rate | {_percent(headline.get('cart_abandonment_rate'))} |",
        f"| escalation rate (help -> chat/call) | {_percent(headline.get('escalation_rate'))} |",
        f"| median call wait | {'n/a' if wait is None else f'{float(wait):.0f} s'} |",
        "",
        "## Top friction (ranked by estimated conversions lost)",
        "",
    ]
    if not top:
        lines.append("No significant friction found.")
    for row in top:
        lines.append(f"{row['rank']}. **{row['kind']}** at `{row['location']}`: {row['explanation']}")
    alerts = headline.get("alerts") or []
    if alerts:
        lines += ["", "## What changed", ""] + [f"- {a}" for a in alerts]
    return "\n".join(lines)


def format_source_counts(by_source: dict[str, dict[str, int]]) -> str:
    """Per-source counts as a table: rows read = loaded + duplicate + rejected."""
    header = (
        f"{'source':<10} {'files':>5} {'skipped':>7} {'read':>8} {'loaded':>8} "
        f"{'dup':>6} {'rejected':>8} {'touchpoints':>11}"
    )
    lines = [header, "-" * len(header)]
    for source, t in by_source.items():
        lines.append(
            f"{source:<10} {t['files']:>5} {t['skipped']:>7} {t['read']:>8} {t['loaded']:>8} "
            f"{t['duplicate']:>6} {t['rejected']:>8} {t['touchpoints']:>11}"
        )
    return "\n".join(lines)

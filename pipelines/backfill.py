"""Backfill: the nightly flow for every day of a date range, oldest first.

python -m pipelines.backfill --config CONFIG --start 2026-11-01 --end 2026-11-14
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from typing import Any

from prefect import flow

from pipelines.nightly import nightly


@flow(name="journey-mining-backfill")
def backfill(config_path: str, start: date, end: date) -> list[dict[str, Any]]:
    """Run each day in [start, end]; a re-run of a day loads nothing new (checksums)."""
    if end < start:
        raise ValueError(f"backfill end {end} is before start {start}")
    results = []
    day = start
    while day <= end:
        results.append(nightly(config_path=config_path, run_date=day))
        day += timedelta(days=1)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--start", type=date.fromisoformat, required=True)
    parser.add_argument("--end", type=date.fromisoformat, required=True)
    args = parser.parse_args()
    for result in backfill(config_path=args.config, start=args.start, end=args.end):
        print(f"{result['run_id']}: {result['dashboard']}")


if __name__ == "__main__":
    main()

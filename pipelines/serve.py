"""Serve the nightly flow on its schedule, for teams running a Prefect server.

    prefect server start &                      # or point PREFECT_API_URL at yours
    python -m pipelines.serve --config data/sample/config.yaml

The cron and time zone come from the config's ``schedule`` section.
"""

from __future__ import annotations

import argparse

from prefect.schedules import Cron

from journey_mining.config import load_config
from pipelines.nightly import nightly


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default="data/sample/config.yaml")
    args = parser.parse_args()
    schedule = load_config(args.config).schedule
    nightly.serve(
        name="nightly",
        schedules=[Cron(schedule.cron, timezone=schedule.time_zone)],
        parameters={"config_path": args.config},
        tags=["journey-mining"],
    )


if __name__ == "__main__":
    main()

"""Dashboard size and time to interactive on the bundled sample, in headless Chromium.

    .venv/bin/python -m benchmarks.dashboard [--repeats 5]

Runs the pipeline on the sample (into a temporary folder), then opens the dashboard from
disk in Debian's chromium (Playwright drives it; no browser is downloaded) and times from
navigation until the page marks itself ready (every chart drawn: ``body[data-ready]``).
Targets (issue 5): under 6 MB, interactive in under 3 s on 2 cores. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from journey_mining.config import load_config
from journey_mining.pipeline import run_pipeline

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
CHROMIUM = os.environ.get("JOURNEY_MINING_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def build_dashboard(workdir: Path) -> Path:
    """The sample's dashboard, built in ``workdir`` (the demo key: sample data only)."""
    data = workdir / "sample"
    shutil.copytree(SAMPLE, data)
    text = (data / "config.yaml").read_text().replace("../../out/sample", str(workdir / "out"))
    (data / "config.yaml").write_text(text)
    return run_pipeline(load_config(data / "config.yaml")).outputs["dashboard"]


def time_to_interactive(page_path: Path, repeats: int) -> list[float]:
    """Seconds from navigation to ``body[data-ready]``, one fresh page per repeat."""
    seconds = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(repeats):
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                started = time.perf_counter()
                page.goto(page_path.as_uri())
                page.wait_for_selector("body[data-ready]", state="attached", timeout=60_000)
                seconds.append(time.perf_counter() - started)
                page.close()
        finally:
            browser.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jm-dashboard-bench-") as tmp:
        page_path = build_dashboard(Path(tmp))
        size = page_path.stat().st_size
        seconds = time_to_interactive(page_path, args.repeats)
    result = {
        "dashboard_bytes": size,
        "dashboard_mb": round(size / 1e6, 2),
        "interactive_seconds_median": round(statistics.median(seconds), 2),
        "interactive_seconds_min": round(min(seconds), 2),
        "interactive_seconds_max": round(max(seconds), 2),
        "cores": os.cpu_count(),
        "targets": {"size_mb": 6, "interactive_seconds": 3},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

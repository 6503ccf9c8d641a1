"""The dashboard in a real headless Chromium: draws, switches segments, runs no injected script.

Needs ``apt-get install -y chromium`` and ``pip install playwright`` (never ``playwright
install``: it downloads from a host we cannot reach). Missing either, this test fails in CI
(``CI=true``) and is skipped locally.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import duckdb
import pytest

from journey_mining.config import Config
from journey_mining.viz.dashboard import write_dashboard
from tests.test_dashboard import build_warehouse

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("JOURNEY_MINING_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT = Path(__file__).resolve().parents[1] / "test-output"


def _missing(reason: str) -> None:
    message = (
        f"{reason}: the dashboard browser test needs `apt-get install -y chromium` and "
        "`pip install playwright` (do not run `playwright install`)"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def sync_playwright():  # type: ignore[no-untyped-def]
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed")
    if not Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is None:
        _missing(f"no Chromium at {CHROMIUM}")
    return sync_playwright


def test_dashboard_draws_switches_segments_and_runs_no_injected_script(
    sync_playwright,  # type: ignore[no-untyped-def]
    warehouse: duckdb.DuckDBPyConnection,
    tmp_path: Path,
) -> None:
    config: Config = build_warehouse(warehouse, tmp_path)
    page_path = write_dashboard(warehouse, config, tmp_path / "dashboards", run_id="browser")
    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on(
                "console",
                lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
            )
            page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
            page.on(
                "request",
                lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:")) else None,
            )
            started = time.monotonic()
            page.goto(page_path.as_uri())
            page.wait_for_selector("body[data-ready]", state="attached", timeout=30_000)
            seconds = time.monotonic() - started

            visible = "[data-segment]:not([hidden])"
            assert page.locator(f"{visible} .sankey-node").count() > 0
            assert page.locator(f"{visible} .sankey-link").count() > 0
            before = page.locator(f"{visible} .sankey-node").all_text_contents()
            # hovering a node renders its hover text, which carries data from the warehouse
            page.locator(f"{visible} .sankey-node").first.hover()

            OUTPUT.mkdir(exist_ok=True)
            page.screenshot(path=str(OUTPUT / "dashboard.png"), full_page=True)

            page.select_option("#segment", label=page.locator("#segment option").nth(1).inner_text())
            page.wait_for_selector("body[data-ready]", state="attached", timeout=30_000)
            assert page.locator("[data-segment]:not([hidden])").count() == 1
            after = page.locator(f"{visible} .sankey-node").all_text_contents()
            assert after
            assert after != before
            page.locator(f"{visible} section").first.screenshot(path=str(OUTPUT / "dashboard-segment.png"))

            # the hostile names are on screen as text, and nothing ran
            assert page.evaluate("typeof window.__pwned") == "undefined"
            assert "<script>window.__pwned=1</script>" in page.content() or any(
                "window.__pwned" in text for text in page.locator("td").all_text_contents()
            )
        finally:
            browser.close()
    assert problems == []
    assert requests == []
    assert seconds < 15, f"dashboard took {seconds:.1f} s to draw"

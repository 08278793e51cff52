"""The HTML report in headless Chromium: it makes no network request and shows its charts.

Skipped where Chromium or Playwright is absent, except under `DRGPOLICY_CI=1`, where their
absence fails. The screenshot is kept in `out/artifacts/`.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = ROOT / "out" / "artifacts" / "whatif-report.png"


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        return "no Chromium at /usr/bin/chromium (apt-get install -y chromium)"
    return None


def test_report_opens_offline_and_shows_its_charts(report_dir: Path) -> None:
    missing = _missing()
    if missing is not None:
        if os.environ.get("DRGPOLICY_CI") == "1":
            pytest.fail(f"DRGPOLICY_CI=1 but {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.goto((report_dir / "report.html").as_uri())
            page.wait_for_load_state("load")
            charts = page.locator("svg.chart")
            assert charts.count() >= 5
            for index in range(charts.count()):
                chart = charts.nth(index)
                chart.scroll_into_view_if_needed()
                assert chart.is_visible()
                box = chart.bounding_box()
                assert box is not None and box["width"] > 100 and box["height"] > 50
            assert page.locator("svg.chart rect").count() > 20
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert requests and all(url.startswith("file://") for url in requests), requests
    assert SCREENSHOT.stat().st_size > 10_000

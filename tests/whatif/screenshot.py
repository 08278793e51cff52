"""Refresh the README's picture of the what-if report: run the README's command (Xuancheng
2023 → 2024 on the sample, with its sweep), open report.html in headless Chromium as
`test_report_browser.py` does, keep the full page in out/artifacts/ and its top, two thirds of
the size in a 256-colour palette, in docs/img/whatif-report.png. Chinese labels need a CJK
font (e.g. Debian's fonts-wqy-zenhei); without one the picture shows empty boxes.

    .venv/bin/python -m tests.whatif.screenshot
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from engine.cli import main as drgpolicy
from tests.conftest import ROOT
from tests.studio.screenshots import shrink
from tests.whatif.conftest import NEW, OLD
from tests.whatif.test_report_browser import ARGS, CHROMIUM, SCREENSHOT

TARGET = ROOT / "docs" / "img" / "whatif-report.png"
WIDTH, HEIGHT = 800, 1200  # the top of the page, scaled from 1200 pixels wide


def shoot(report: Path, target: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(report.as_uri())
            page.wait_for_load_state("load")
            target.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(target), full_page=True)
        finally:
            browser.close()


def main() -> int:
    os.chdir(ROOT)  # the report names the data folder as given: `sample`, as in the README
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "whatif"
        base, new = (str(p.relative_to(ROOT)) for p in (OLD, NEW))
        args = ["whatif", "--base", base, "--new", new, "--data", "sample"]
        args += ["--period", "2024", "--out", str(out)]
        if drgpolicy([*args, "--set", "low_ratio_grassroots=0.25,0.3,0.35"]):
            return 1
        shoot(out / "report.html", SCREENSHOT)
    shrink(SCREENSHOT, TARGET, WIDTH, HEIGHT)
    print(f"{TARGET.relative_to(ROOT)}: {TARGET.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

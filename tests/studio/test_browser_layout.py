"""What the analyst sees in a real browser (Chromium through Playwright), where AppTest cannot
tell: the What-if results stay on their tab when a measurement is run there (the threshold
exposure, a sweep), the tables write money as ¥ with the fen and thousands, and the Versions
page's side-by-side text diff fits the page, each side headed by its version."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.conftest import POLICIES, SAMPLE
from tests.studio.browser import choose, go_to, idle, require_browser, studio_page


def selected_tab(page: Any) -> str:
    return str(page.locator('[role="tab"][aria-selected="true"]').first.inner_text()).strip()


def measure_on_its_tab(page: Any, tab: str, button: str, done: str) -> None:
    """Open `tab`, press `button` there and wait for `done`: the tab is still the one shown."""
    page.get_by_role("tab", name=tab).click()
    idle(page)
    page.get_by_role("button", name=button).click()
    idle(page)
    page.get_by_text(done).first.wait_for(state="attached", timeout=120_000)
    page.wait_for_timeout(500)
    assert selected_tab(page) == tab  # not back on the first tab
    page.get_by_text(done).first.wait_for()


def test_whatif_tabs_money_and_the_text_diff(tmp_path: Path) -> None:
    require_browser()
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    with studio_page(policies, SAMPLE, tmp_path / "cache") as page:
        idle(page)
        go_to(page, "What-if")
        choose(page, "City", "xuancheng")
        choose(page, "Base version", "2023")
        choose(page, "New version", "2024")
        page.get_by_role("button", name="Run what-if").click()
        idle(page)
        page.get_by_text("Totals").first.wait_for(timeout=120_000)
        # the budget, 332,771,895 元: in 亿 on its tile (it fits), in ¥ to the fen, with
        # thousands, in the totals' table (a grid drawn on a canvas: its cells are not visible)
        page.get_by_text("¥3.33亿").first.wait_for()
        page.get_by_text("¥332,771,895.00").first.wait_for(state="attached")

        measure_on_its_tab(
            page, "Threshold exposure", "Measure threshold exposure", "thresholds measured"
        )
        measure_on_its_tab(page, "Sweep", "Sweep", "settled, each against this run")

        go_to(page, "Versions")
        choose(page, "City", "xuancheng")
        # the page opened on the editor's city (suzhou: its buffer against its 2024): until the
        # rerun on xuancheng has drawn, that comparison is what the page shows
        page.get_by_text("from 2023 to 2024").first.wait_for(state="attached")
        page.get_by_role("tab", name="Text diff").click()
        idle(page)
        table = page.locator(".drg-diff table.diff").first
        table.wait_for()
        headings = table.locator("th").all_inner_texts()
        assert [h.strip() for h in headings] == ["old · 2023", "new · 2024"]
        fits = table.evaluate(
            "t => [t.scrollWidth, t.parentElement.clientWidth, "
            "t.closest('[data-testid=\"stMain\"]').clientWidth]"
        )
        assert fits[0] <= fits[1] <= fits[2], fits

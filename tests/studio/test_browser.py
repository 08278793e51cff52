"""The studio in a real browser: edit the Xuancheng 2024 grassroots low-ratio threshold
(30% → 35%), check it, and read every page; screenshots go to out/artifacts/."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import polars as pl

from engine.outputs import stage_tables
from engine.rundata import Period
from engine.settle import load_data, load_policy, settle
from policy_dsl.lower import compile_text
from tests.conftest import POLICIES, SAMPLE
from tests.studio.browser import (
    ARGS,
    CHROMIUM,
    ROOT,
    choose,
    go_to,
    idle,
    require_browser,
    studio_server,
)

ARTIFACTS = ROOT / "out" / "artifacts"
OLD, NEW = "ratio = 30%", "ratio = 35%"


def engine_figures(policies: Path, edited: str) -> dict[str, Any]:
    """What the engine itself gives for the saved 2024 version and the edited text."""
    period = Period.parse("2024")
    base = load_policy(policies / "xuancheng" / "2024.policy")
    new = compile_text(edited, str(policies / "xuancheng" / "2024.policy"))
    inputs = load_data(SAMPLE, base)
    before, after = settle(base, inputs, period), settle(new, inputs, period)
    summary = stage_tables(after, "settlement")["summary"].row(0, named=True)
    old_cases, new_cases = before.cases(), after.cases()
    moved = int(
        (old_cases["category"].cast(pl.String) != new_cases["category"].cast(pl.String)).sum()
    )
    by_level = []
    for result in (before, after):
        hospitals = stage_tables(result, "settlement")["hospitals"]
        by_level.append(dict(hospitals.group_by("level").agg(pl.col("payment").sum()).rows()))
    levels = {
        int(level): round((by_level[1][level] - by_level[0][level]) / 100, 2)
        for level in by_level[0]
    }
    return {
        "payment": summary["payment"] / 100,
        "point_value": summary["point_value"],
        "moved": moved,
        "levels": levels,
    }


def metrics(page: Any) -> dict[str, str]:
    """Label → value of every `st.metric` on the page."""
    found = {}
    for metric in page.locator('[data-testid="stMetric"]').all():
        label = metric.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        found[label] = metric.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return found


def level_table(page: Any) -> dict[int, float]:
    """Level → change of payment (元) from the page's table of levels."""
    table = page.locator('[data-testid="stTable"] table').first
    rows = table.evaluate(
        "t => Array.from(t.rows).map(r => Array.from(r.cells).map(c => c.innerText.trim()))"
    )
    headers, *body = rows
    found = {}
    for row in body:
        cells = dict(zip(headers, row, strict=True))
        found[int(cells["level"])] = float(cells["delta"].replace(",", ""))
    return found


def test_edit_a_threshold_in_the_browser(tmp_path: Path) -> None:
    require_browser()
    from playwright.sync_api import sync_playwright

    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (
        studio_server(policies, SAMPLE, tmp_path / "cache") as url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.goto(url)
        page.wait_for_selector("textarea", timeout=60_000)
        idle(page)

        choose(page, "City", "xuancheng")
        choose(page, "Version", "2024")
        editor = page.locator('[data-testid="stTextArea"] textarea').first
        text = editor.input_value()
        assert OLD in text
        editor.fill(text.replace("cost_ratio < low_ratio_grassroots", "cost_ratio < low_ratio_x"))
        page.get_by_text("Marked listing").click()  # leave the box: Streamlit takes the text
        idle(page)
        page.get_by_text("E101").first.wait_for()
        page.screenshot(path=str(ARTIFACTS / "studio-editor-error.png"))

        editor.fill(text.replace(OLD, NEW))
        page.get_by_text("Marked listing").click()
        idle(page)
        page.get_by_text("checks clean").first.wait_for()
        assert page.get_by_text("E101").count() == 0
        page.screenshot(path=str(ARTIFACTS / "studio-editor.png"))

        go_to(page, "What-if")
        choose(page, "City", "xuancheng")
        choose(page, "Base version", "2024")
        choose(page, "New version", "editor buffer (unsaved)")
        page.get_by_role("button", name="Run what-if").click()
        idle(page)
        page.get_by_text("cases changing category").wait_for(timeout=120_000)
        shown = metrics(page)
        expected = engine_figures(policies, text.replace(OLD, NEW))
        assert shown["payment (元)"] == f"{expected['payment']:,.2f}"
        assert shown["point value"] == f"{expected['point_value']:,.4f}"
        assert shown["cases changing category"] == f"{expected['moved']:,}"
        levels = level_table(page)
        assert levels == expected["levels"]
        page.set_viewport_size({"width": 1440, "height": 2000})
        idle(page)
        page.screenshot(path=str(ARTIFACTS / "studio-whatif.png"))
        page.get_by_role("tab", name="Category transitions").click()
        page.wait_for_timeout(800)
        page.screenshot(path=str(ARTIFACTS / "studio-whatif-transitions.png"))
        page.get_by_role("tab", name="Per clause").click()
        page.wait_for_timeout(800)
        page.screenshot(path=str(ARTIFACTS / "studio-whatif-clauses.png"))
        page.set_viewport_size({"width": 1440, "height": 1000})

        go_to(page, "Versions")
        choose(page, "City", "xuancheng")
        page.get_by_text("change(s)").first.wait_for()
        page.screenshot(path=str(ARTIFACTS / "studio-versions.png"), full_page=True)

        go_to(page, "Explain")
        choose(page, "City", "xuancheng")
        page.get_by_role("button", name="Explain").click()
        idle(page)
        page.get_by_text("Case C000004 under xuancheng").wait_for()
        page.screenshot(path=str(ARTIFACTS / "studio-explain.png"), full_page=True)

        go_to(page, "Examples")
        choose(page, "City", "xuancheng")
        page.get_by_role("button", name="Run examples").click()
        idle(page)
        page.get_by_text("7 passed, 0 failed").wait_for()
        page.screenshot(path=str(ARTIFACTS / "studio-examples.png"), full_page=True)
        browser.close()
    assert (policies / "xuancheng" / "2024.policy").read_text(encoding="utf-8") == text

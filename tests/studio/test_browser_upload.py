"""Uploading a dataset on the What-if page in a real browser (Chromium through Playwright):
cases, hospitals and groups as CSV and a budget.yaml, two case rows bad — the page says two rows
were rejected, and lists each with its file, row and reason; then the cases alone, refused as
no whole dataset until the analyst ticks that the bundled sample's other parts be taken, which
the page then says; then a hospital file without a required column, which the page refuses
with the contract's words."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

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
    studio_tab,
    table_rows,
    upload,
)
from tests.studio.test_upload_page import TAKEN  # with the sample's hospitals, its deductions

ARTIFACTS = ROOT / "out" / "artifacts"
CASES = 400
#: Data row (1-based, the header not counted) → (column, bad value, words of the reason).
BAD = {3: ("total_cost", "-5", "total_cost is negative"), 7: ("hospital_id", "H9999", "H9999")}


def dataset(folder: Path) -> list[Path]:
    """The sample's first cases with two bad rows, its hospitals, groups and budget."""
    folder.mkdir()
    with (SAMPLE / "cases.csv").open(encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source))[:CASES]
    for row, (column, value, _) in BAD.items():
        rows[row - 1][column] = value
    with (folder / "cases.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for name in ("hospitals.csv", "groups.csv", "budget.yaml"):
        shutil.copyfile(SAMPLE / name, folder / name)
    return [folder / n for n in ("cases.csv", "hospitals.csv", "groups.csv", "budget.yaml")]


def without_column(source: Path, folder: Path, column: str) -> Path:
    """A copy of a CSV file without one of its columns, under the same name."""
    folder.mkdir()
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    kept = [c for c in rows[0] if c != column]
    with (folder / source.name).open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=kept, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return folder / source.name


def open_whatif_with_uploads(page: Any, url: str) -> None:
    page.goto(url)
    page.locator('[data-testid="stSidebarNav"] a').first.wait_for(timeout=60_000)
    idle(page)
    go_to(page, "What-if")
    page.get_by_role("combobox", name="City", exact=True).first.wait_for(timeout=120_000)
    choose(page, "City", "xuancheng")
    choose(page, "Base version", "2023")
    choose(page, "New version", "2024")
    page.get_by_text("uploaded files", exact=True).click()
    idle(page)


def test_uploaded_files_are_checked_against_the_contract(tmp_path: Path) -> None:
    require_browser()
    from playwright.sync_api import sync_playwright

    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    files = dataset(tmp_path / "upload")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (
        studio_server(policies, SAMPLE, tmp_path / "cache") as url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = studio_tab(browser)

        # ---- two bad case rows: rejected, each listed with its file, row and reason
        open_whatif_with_uploads(page, url)
        upload(page, files)
        page.get_by_role("button", name="Run what-if").click()
        idle(page)
        page.get_by_text("cases moved").wait_for(timeout=120_000)
        page.get_by_text(
            "2 input row(s) rejected by the data contract (cases.csv: 2): "
            "they are left out of the run."
        ).wait_for()
        page.get_by_text("Rejected rows: file, row, reason").click()
        table = page.locator('[data-testid="stTable"]').filter(has_text="reason").first
        table.wait_for()
        rows = table_rows(table)
        assert [(r["file"], int(r["row"]), r["field"]) for r in rows] == [
            ("cases.csv", row, column) for row, (column, _, _) in BAD.items()
        ]
        for row, (_, value, words) in zip(rows, BAD.values(), strict=True):
            assert words in row["reason"] and row["value"] == value
        cases = page.locator('[data-testid="stMetric"]').filter(has_text="cases").first
        assert cases.locator('[data-testid="stMetricValue"]').inner_text() == f"{CASES - 2:,}"
        page.screenshot(path=str(ARTIFACTS / "studio-whatif-upload.png"), full_page=True)

        # ---- the cases alone: refused, until the sample's other parts are asked for
        open_whatif_with_uploads(page, url)
        upload(page, files[:1])
        refused = page.locator('[data-testid="stAlert"]').filter(has_text="one whole").first
        refused.wait_for(timeout=60_000)
        assert refused.inner_text().startswith("the upload has no hospitals (.csv or .parquet)")
        assert page.get_by_role("button", name="Run what-if").count() == 0
        page.get_by_text("Take the parts I do not upload from the bundled sample").click()
        idle(page)
        page.get_by_text(TAKEN).first.wait_for(timeout=60_000)
        page.get_by_role("button", name="Run what-if").click()
        idle(page)
        page.get_by_text("cases moved").wait_for(timeout=120_000)
        heading = (
            "2023 → 2024 on uploaded cases.csv, with the bundled sample's hospitals.csv, "
            f"groups.csv, deductions.csv, assessments.csv and budget.yaml ({CASES - 2:,} cases, "
            "2024)"
        )
        page.get_by_text(heading).wait_for()
        assert page.get_by_text(TAKEN).count() == 2  # under the uploader and with the results

        # ---- a hospital file without the column `level`: the contract's error, no results
        hospitals = without_column(SAMPLE / "hospitals.csv", tmp_path / "bad", "level")
        open_whatif_with_uploads(page, url)
        upload(page, [files[0], hospitals, *files[2:]])
        page.get_by_role("button", name="Run what-if").click()
        idle(page)
        error = page.locator('[data-testid="stAlert"]').filter(has_text="data contract").first
        error.wait_for(timeout=120_000)
        text = error.inner_text()
        assert "The dataset does not meet the data contract" in text
        assert "hospitals.csv has no column level" in text and "required columns:" in text
        assert page.get_by_text("cases moved").count() == 0
        browser.close()

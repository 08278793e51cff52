"""Every `settle` writes `report.html`: the period's totals, per level and tier, per hospital, the
category mix and the point value or rates, as one self-contained page with inline SVG charts —
its figures those of the files it sits beside, every text escaped."""

from __future__ import annotations

import html
import os
import re
import shutil
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from engine.page import show
from tests.conftest import POLICIES, ROOT, SAMPLE
from tests.conftest import run_cli as run
from tests.studio.browser import offline_page

PLANTED = '<img src=x onerror="document.title=1">'
SCREENSHOT = ROOT / "out" / "artifacts" / "settle-report.png"


def settle(capsys: pytest.CaptureFixture[str], policy: str, data: Path, out: Path) -> str:
    args = ["--policy", str(POLICIES / policy), "--data", str(data), "--period", "2024"]
    code, _, err = run(capsys, "settle", *args, "--out", str(out), "--quiet")
    assert code == 0, err
    return (out / "report.html").read_text(encoding="utf-8")


def text_of(page: str) -> str:
    """The page's text as a reader sees it (tags dropped, entities read)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def yuan(text: str) -> str:
    """`332771895.00` (a file's money) as the page writes it: `¥332,771,895.00`."""
    return show.yuan(int(Decimal(text) * 100))


def test_the_report_shows_the_files_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = settle(capsys, "xuancheng/2024.policy", SAMPLE, tmp_path / "out")
    shown = text_of(page)
    folder = tmp_path / "out" / "settlement"
    summary = pl.read_csv(folder / "summary.csv", infer_schema=False).row(0, named=True)
    assert yuan(summary["payment"]) == "¥332,771,895.00"  # the budget, closed to the fen
    for column in ("payment", "fund_payment", "patient_paid", "total_cost", "budget"):
        assert yuan(summary[column]) in shown, column
    assert "118.463631" in shown  # the point value, to its 6 decimals
    hospitals = pl.read_csv(folder / "hospitals.csv", infer_schema=False)
    for row in hospitals.iter_rows(named=True):
        assert row["hospital_id"] in shown and row["hospital_name"] in shown
        assert yuan(row["payment"]) in shown
    for label in ("正常病例", "低倍率病例", "高倍率病例"):
        assert label in shown
    assert page.count('<svg class="chart"') >= 4  # levels, tiers, hospitals, categories
    assert "<script" not in page and "http" not in page.replace("http://www.w3.org/2000/svg", "")
    manifest = (tmp_path / "out" / "manifest.json").read_text(encoding="utf-8")
    assert '"report.html"' in manifest


def test_the_year_end_shows_what_each_hospital_is_paid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """At Wuxi's year end the per-hospital 支付金额 was the cases' `payment` (the DRG payable),
    not what the fund pays (`year_total`) nor the clearing due (`year_end_due`): an auditor read
    it as the final amount. The column says what it is, and the statement's money reports are
    shown per hospital with their labels, each the figure hospitals.csv holds."""
    page = settle(capsys, "wuxi/2024.policy", SAMPLE, tmp_path / "out")
    shown = text_of(page)
    assert "病例支付合计 payment" in shown and "医疗机构结算单 Hospital statement" in shown
    statement = shown[
        shown.rindex("医疗机构结算单 Hospital statement") :
    ]  # the section, not the contents
    for label in (
        "year_total 年度清算总额",
        "year_end_due 年末清算应补（负数为应退）",
        "audit_deduction 智能审核违规扣款",  # which year_total takes off (rev29 F2)
    ):
        assert label in " ".join(statement.split()), label
    hospitals = pl.read_csv(tmp_path / "out" / "year_end" / "hospitals.csv", infer_schema=False)
    for row in hospitals.iter_rows(named=True):
        line = statement[statement.index(row["hospital_id"]) :].split("H0", 2)[1]
        for column in (
            "year_total",
            "year_end_due",
            "monthly_paid",
            "year_payable",
            "audit_deduction",
        ):
            assert yuan(row[column]) in line, (row["hospital_id"], column)
    xuancheng = text_of(settle(capsys, "xuancheng/2024.policy", SAMPLE, tmp_path / "xc"))
    assert "Hospital statement" not in xuancheng and "病例支付合计" not in xuancheng


def test_per_level_the_payments_add_up_to_the_total(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = settle(capsys, "xuancheng/2024.policy", SAMPLE, tmp_path / "out")
    hospitals = pl.read_csv(tmp_path / "out" / "settlement" / "hospitals.csv", infer_schema=False)
    levels: dict[int, int] = {}
    for row in hospitals.iter_rows(named=True):  # added up in fen, by hand
        level = int(row["level"])
        levels[level] = levels.get(level, 0) + int(Decimal(row["payment"]) * 100)
    shown = text_of(page)
    assert sum(levels.values()) == 33_277_189_500
    for level, fen in levels.items():
        assert show.level(level) in shown
        assert show.yuan(fen) in shown, level


def test_a_rate_policy_shows_its_rates_per_tier_and_its_stages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = settle(capsys, "wuxi/2024.policy", SAMPLE, tmp_path / "out")
    shown = text_of(page)
    assert "monthly" in shown and "year_end" in shown  # a row per settling stage
    cases = pl.read_csv(tmp_path / "out" / "year_end" / "cases.csv", infer_schema=False)
    for rate in cases["rate"].unique().to_list():
        assert show.number(float(rate), 4) in shown
    assert "按分档 By tier" in shown


def test_every_text_from_the_data_is_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    hospitals = pl.read_csv(data / "hospitals.csv", infer_schema=False)
    hospitals.with_columns(pl.lit(PLANTED).alias("name")).write_csv(data / "hospitals.csv")
    page = settle(capsys, "xuancheng/2024.policy", data, tmp_path / "out")
    assert "<img" not in page
    assert html.escape(PLANTED, quote=True) in page


def test_the_report_opens_offline_with_its_charts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settle(capsys, "wuxi/2024.policy", SAMPLE, tmp_path / "out")
    requests: list[str] = []
    with offline_page(tmp_path / "out" / "report.html", requests) as page:
        charts = page.locator("svg.chart")
        assert charts.count() >= 4
        for index in range(charts.count()):
            chart = charts.nth(index)
            chart.scroll_into_view_if_needed()
            assert chart.is_visible()
            assert chart.locator("rect").count() >= 3
        assert page.locator("section#totals table tr").count() == 3  # header + 2 stages
        os.makedirs(SCREENSHOT.parent, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert [r for r in requests if not r.startswith("file://")] == []

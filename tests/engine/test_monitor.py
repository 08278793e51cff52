"""`drgpolicy monitor` on the twelve monthly Wuxi runs of the sample: the JSON holds every
indicator of every month, the page renders every chart in Chromium; what it refuses; the
outlier rules on constructed series."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from engine.cli import main
from engine.inputs.indicator_runs import IndicatorRun
from engine.inputs.previous import Previous, PreviousError
from engine.inputs.rundata import Period
from engine.monitor import MonitorError, Monitoring, read_runs
from engine.monitor.analysis import Series, outliers
from engine.monitor.runs import runs_of
from engine.run.out_folder import OutFolderError
from tests.conftest import ROOT
from tests.studio.browser import ARGS, CHROMIUM, require_browser

MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]
SCREENSHOT = ROOT / "out" / "artifacts" / "monitor-report.png"


@pytest.fixture(scope="module")
def wuxi_months(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Wuxi's twelve months of the sample, each month's growth rates read from the month
    before (`--previous`)."""
    root = tmp_path_factory.mktemp("wuxi")
    folders = []
    for month in MONTHS:
        out = root / month
        argv = ["settle", "--policy", str(ROOT / "policies/wuxi/2024.policy")]
        argv += ["--data", str(ROOT / "sample"), "--period", month, "--out", str(out)]
        argv += ["--previous", str(folders[-1])] if folders else []
        assert main(argv) == 0
        folders.append(out)
    return folders


@pytest.fixture(scope="module")
def report(wuxi_months: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("monitor") / "report"
    assert main(["monitor", *map(str, reversed(wuxi_months)), "--out", str(out)]) == 0
    return out


def test_the_json_holds_every_indicator_of_every_month(
    wuxi_months: list[Path], report: Path
) -> None:
    document = json.loads((report / "monitor.json").read_text(encoding="utf-8"))
    assert document["drgpolicy"] == "monitor" and document["periods"] == MONTHS
    series = {(s["indicator"], s["grain"], s["key"]): s for s in document["indicators"]}
    checked = 0
    for folder, month in zip(wuxi_months, MONTHS, strict=True):
        rows = IndicatorRun.read(folder, "test").table
        assert rows.height > 3000
        for row in rows.iter_rows(named=True):
            found = series[(row["indicator"], row["grain"], row["key"])]
            assert found["values"][month] == row["value"]
            if row["note"]:
                assert found["notes"][month] == row["note"]
            checked += 1
    assert checked == sum(IndicatorRun.read(f, "test").table.height for f in wuxi_months)
    # January has no previous run: its growth rates are not available, February's are
    growth = series[("cmi_growth", "city", "wuxi")]
    assert growth["values"]["2024-01"] is None
    assert growth["values"]["2024-02"] is not None
    cmi = series[("cmi", "city", "wuxi")]["values"]
    assert growth["values"]["2024-02"] == pytest.approx(cmi["2024-02"] / cmi["2024-01"] - 1)


def test_the_page_renders_every_chart_in_chromium(report: Path) -> None:
    require_browser()
    from playwright.sync_api import sync_playwright

    html = (report / "report.html").read_text(encoding="utf-8")
    expected = html.count('<svg class="chart"')
    document = json.loads((report / "monitor.json").read_text(encoding="utf-8"))
    city = [s for s in document["indicators"] if s["grain"] == "city" and s["key"]]
    with_values = [s for s in city if any(v is not None for v in s["values"].values())]
    assert expected >= len(with_values) + 10  # the city's, the tiers', levels', hospitals'
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.goto((report / "report.html").as_uri())
            page.wait_for_load_state("load")
            charts = page.locator("svg.chart")
            assert charts.count() == expected
            for index in range(expected):
                chart = charts.nth(index)
                box = chart.bounding_box()
                assert box is not None and box["width"] > 100 and box["height"] > 50, index
                assert chart.locator("polyline, rect").count() > 0, index
            titles = page.locator("figcaption").all_inner_texts()
            assert "CMI（病例组合指数） by tier" in titles
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=False)
        finally:
            browser.close()
    assert requests and all(url.startswith("file://") for url in requests), requests


def test_runs_of_two_cities_a_month_twice_or_no_run_are_refused(
    wuxi_months: list[Path], tmp_path: Path
) -> None:
    other = tmp_path / "wuhan"
    argv = ["settle", "--policy", str(ROOT / "policies/wuhan/2024.policy")]
    assert (
        main([*argv, "--data", str(ROOT / "sample"), "--period", "2024-01", "--out", str(other)])
        == 0
    )
    with pytest.raises(MonitorError, match=r"2 cities .*wuhan: .*wuxi: "):
        read_runs([wuxi_months[0], other])
    with pytest.raises(MonitorError, match="are both runs of 2024-01"):
        read_runs([wuxi_months[0], wuxi_months[0]])
    with pytest.raises(MonitorError, match=r"not the output of `drgpolicy settle`"):
        read_runs([ROOT / "sample"])


def test_a_year_with_its_months_is_refused_naming_both(wuxi_months: list[Path]) -> None:
    """`drgpolicy monitor out/wx/*` over the twelve months and the year-end run (`--period
    2024` into `out/wx/2024`, as README's year end writes it) put the year beside the months
    as a thirteenth period: 183 outliers instead of 88, the year's 20,000 cases far from every
    hospital's monthly history."""
    months = [IndicatorRun.read(folder, "monitor") for folder in wuxi_months]
    year = dataclasses.replace(months[0], folder=Path("out/wx/2024"), period="2024")
    words = r"2024-01 \(2024-01\) and out/wx/2024 \(2024\) overlap.*not a year with its months"
    with pytest.raises(MonitorError, match=words):
        runs_of([*months, year])
    quarter = dataclasses.replace(months[0], folder=Path("q1"), period="2024-Q1")
    with pytest.raises(MonitorError, match=r"q1 \(2024-Q1\) and .*2024-03 \(2024-03\) overlap"):
        runs_of([months[2], quarter])
    assert runs_of([months[3], months[4]]).periods == ["2024-04", "2024-05"]


def test_periods_of_different_lengths_are_refused(wuxi_months: list[Path]) -> None:
    """2023 as a year, then 2024's months, do not overlap and were put side by side: a year's
    cases beside a month's, the outliers across them meaningless. A quarter and a month too."""
    months = [IndicatorRun.read(folder, "monitor") for folder in wuxi_months]
    year = dataclasses.replace(months[0], folder=Path("out/wx/2023"), period="2023")
    words = (
        "the runs are of periods of 2 lengths (years: 2023; months: 2024-01, 2024-02): a "
        "monitoring report puts periods of one length side by side"
    )
    with pytest.raises(MonitorError, match=re.escape(words)):
        runs_of([months[1], year, months[0]])
    quarter = dataclasses.replace(months[0], folder=Path("q1"), period="2024-Q1")
    with pytest.raises(MonitorError, match=r"quarters: 2024-Q1; months: 2024-04\)"):
        runs_of([months[3], quarter])


def test_a_folder_holding_runs_is_refused_naming_them(
    wuxi_months: list[Path], tmp_path: Path
) -> None:
    """`drgpolicy monitor out/all-01 out/all-02` (runs over a policy folder: one
    `<city>-<version>/` each) said `[Errno 2] No such file or directory: …/manifest.json`, not
    what the folders hold nor which to give."""
    holder = tmp_path / "all-01"
    for name in ("wuxi-2024", "yantai-2024"):
        shutil.copytree(wuxi_months[0], holder / name)
    words = (
        f"monitor {holder} is not one run's output but holds 2 (wuxi-2024, yantai-2024): give "
        f"the folders of one city's runs themselves — e.g. {holder / 'wuxi-2024'} — not"
    )
    with pytest.raises(MonitorError, match=re.escape(words)):
        read_runs([holder])


def test_a_workbook_run_is_refused_by_monitor_and_previous_saying_to_settle_as_csv(
    wuxi_months: list[Path], tmp_path: Path
) -> None:
    """A month settled with `--format xlsx` was refused as 'settled before runs wrote their
    indicators; settle that period again' — which, with --format xlsx again, fails again."""
    argv = ["settle", "--policy", str(ROOT / "policies/wuxi/2024.policy"), "--data"]
    argv += [str(ROOT / "sample"), "--quiet"]
    workbook = tmp_path / "2024-01"
    assert main([*argv, "--period", "2024-01", "--out", str(workbook), "--format", "xlsx"]) == 0
    words = "was written as a workbook (--format xlsx): its indicators are a sheet of "
    words += "settlement.xlsx, which monitor does not read; settle that period again with "
    words += "--format csv (the default) or parquet"
    with pytest.raises(MonitorError, match=re.escape(words)):
        read_runs([workbook])
    with pytest.raises(PreviousError, match=re.escape(words.replace("monitor", "--previous"))):
        Previous.read(workbook, "wuxi", Period.parse("2024-02"))


def test_an_out_folder_that_is_no_monitoring_report_is_refused(
    wuxi_months: list[Path], tmp_path: Path
) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    assert main(["monitor", str(wuxi_months[0]), "--out", str(tmp_path)]) == 1
    assert (tmp_path / "mine.txt").read_text() == "keep me"
    with pytest.raises(OutFolderError):
        from engine.monitor import write_monitoring

        write_monitoring(Monitoring.of(read_runs(wuxi_months[:2])), tmp_path)


# ---- outliers ---------------------------------------------------------------------------------


def series_of(values: list[float | None], met: list[bool | None] | None = None) -> Series:
    met = met or [None] * len(values)
    return Series("cmi", "CMI", "ratio", "hospital", "H1", values, met, ">= 1", [""] * len(values))


class FakeRuns:
    def __init__(self, count: int) -> None:
        self.periods = MONTHS[:count]


def flagged(values: list[float | None], met: list[bool | None] | None = None) -> list[Any]:
    return outliers(FakeRuns(len(values)), [series_of(values, met)])  # type: ignore[arg-type]


def test_a_month_far_from_the_hospitals_own_history_is_flagged() -> None:
    """Eleven months about 1.0 (median 1.0, MAD 0.02) and one at 1.3: z = 0.3 ÷ (1.4826 ×
    0.02) = 10.1 > 3.5. A month at 1.1 (z 3.37) is not flagged."""
    values = [1.0, 1.02, 0.98, 1.0, 1.02, 0.98, 1.0, 1.02, 0.98, 1.0, 1.02, 1.3]
    found = flagged(values)
    assert [(o.kind, o.period, o.value) for o in found] == [("history", "2024-12", 1.3)]
    assert "robust z +10.1" in found[0].why
    assert flagged([*values[:11], 1.1]) == []


def test_no_history_outlier_without_six_values_or_with_every_value_alike() -> None:
    assert flagged([1.0, 1.0, 1.0, 1.0, 9.0]) == []  # five months
    assert flagged([1.0] * 11 + [None]) == []  # MAD 0
    assert flagged([1.0, None, 1.0, None, 1.0, None, 1.0, 1.0, 1.0]) == []


def test_a_value_that_misses_its_target_is_flagged_in_its_month() -> None:
    found = flagged([0.95, 0.85, None], [True, False, None])
    assert [(o.kind, o.period, o.why) for o in found] == [
        ("target", "2024-02", "0.85 does not meet >= 1")
    ]


def test_the_monitoring_of_one_run_has_no_trend_slope(wuxi_months: list[Path]) -> None:
    monitoring = Monitoring.of(read_runs(wuxi_months[:1]))
    cmi = next(s for s in monitoring.series if (s.indicator, s.grain) == ("cmi", "city"))
    assert cmi.trend()["slope"] is None and cmi.trend()["change"] == 0


def test_an_indicators_file_changed_after_its_run_is_refused_by_monitor_and_previous(
    wuxi_months: list[Path], tmp_path: Path
) -> None:
    """An edited `indicators.csv` (a value made `abc`, or another number) was read as the run's
    — a polars traceback for `abc`, a growth rate from the edited number — as `--earlier`
    refuses an edited month's cases: its sha256 must be the one the manifest gives."""
    edited = tmp_path / "2024-02"
    shutil.copytree(wuxi_months[1], edited)
    table = edited / "indicators.csv"
    lines = table.read_text(encoding="utf-8").splitlines(keepends=True)
    fields = lines[1].split(",")
    lines[1] = ",".join([*fields[:3], "abc", *fields[4:]])
    table.write_text("".join(lines), encoding="utf-8")
    words = f"{table} is not the file that run wrote"
    with pytest.raises(MonitorError, match=words):
        read_runs([wuxi_months[0], edited])
    argv = ["settle", "--policy", str(ROOT / "policies/wuxi/2024.policy"), "--data"]
    argv += [str(ROOT / "sample"), "--period", "2024-03", "--out", str(tmp_path / "03")]
    assert main([*argv, "--previous", str(edited), "--quiet"]) == 1
    assert not (tmp_path / "03").exists()


def test_a_run_with_chinese_headers_is_read_by_monitor_and_previous_alike(
    wuxi_months: list[Path], tmp_path: Path
) -> None:
    """`--labels zh` writes `指标, 口径, 键, 值…`: read back by the manifest's `headers` (a
    ColumnNotFoundError traceback on main), the same values as the run with names."""
    argv = ["settle", "--policy", str(ROOT / "policies/wuxi/2024.policy"), "--data"]
    argv += [str(ROOT / "sample"), "--period", "2024-01", "--quiet"]
    chinese = tmp_path / "zh"
    assert main([*argv, "--out", str(chinese), "--labels", "zh"]) == 0
    assert IndicatorRun.read(chinese, "monitor").table.equals(
        IndicatorRun.read(wuxi_months[0], "monitor").table
    )
    again = ["--period", "2024-02", "--out", str(tmp_path / "02"), "--previous"]
    assert main([*argv[:-3], *again, str(chinese), "--quiet"]) == 0
    by_name = (tmp_path / "02" / "indicators.csv").read_bytes()
    assert by_name == (wuxi_months[1] / "indicators.csv").read_bytes()


def test_the_studios_months_read_no_growth_across_a_month_without_cases(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The studio's monitoring of a year (`months_of`) compared each month with the month
    before it that had cases: after a month without any, April's "growth" spanned two months.
    A month now reads the month just before or nothing, as `--previous` takes."""
    import polars as pl

    from engine.monitor import months
    from engine.run.settle import load_data, load_policy

    policy = load_policy(ROOT / "policies" / "wuxi" / "2024.policy")
    sample = load_data(ROOT / "sample", policy)
    read: dict[str, str | None] = {}
    settle = months.settle

    def recorded(policy: Any, inputs: Any, period: Period, *args: Any, **kwargs: Any) -> Any:
        previous = kwargs["previous"]
        read[period.label] = None if previous is None else previous.run.period
        return settle(policy, inputs, period, *args, **kwargs)

    monkeypatch.setattr(months, "settle", recorded)
    for kept, expected in (
        (["2024-03", "2024-04"], {"2024-03": None, "2024-04": "2024-03"}),
        (["2024-02", "2024-04"], {"2024-02": None, "2024-04": None}),
    ):
        cases = sample.cases.filter(pl.col("month").is_in(kept))
        read.clear()
        months.months_of(policy, dataclasses.replace(sample, cases=cases), 2024)
        assert read == expected

"""Wuxi (rate method, a year-end stage): a hospital is paid what its statement says
(`year_actual_payment`, `year_total`, `year_end_due`…), not the sum of its case payments. A change
that only moves the year-end corrections — `retain_bonus_below` 90% → 98% — moves no case
payment; the what-if must still show, per hospital and per level, what it does to every money
report, rank the hospitals by them, attribute them per clause and say so.

Expected values come from two plain settlements (`settle`, the second with the parameter set
from outside), read from the hospital statement `settle` writes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from engine.inputs.contract import Inputs
from engine.inputs.rundata import Period
from engine.page import show
from engine.plan import money
from engine.plan.polars.batch import Settings
from engine.run.outputs import stage_tables
from engine.run.settle import load_data, load_policy, settle
from engine.whatif import Runs, attribute, compare
from policy_dsl.loader import Resolved, read_policy_file, resolve
from tests.conftest import POLICIES, SAMPLE
from tests.conftest import run_cli as run

WUXI = POLICIES / "wuxi" / "2024.policy"
PERIOD = Period.parse("2024")
#: The money reports of Wuxi's year-end hospital statement, in the policy's order, and the
#: deduction it shows (智能审核违规扣款: money a hospital loses to supervision).
MONEY = (
    "drg_payable",
    "year_payable",
    "actual_cost",
    "full_cost_line",
    "bonus_line",
    "year_actual_payment",
    "drg_assessment_deduction",
    "deposit_withheld",
    "deposit_returned",
    "year_total",
    "monthly_paid",
    "year_end_due",
    "audit_deduction",
)
#: Every sample hospital but H0011 (88.8%, in the 110% band already) has an actual cost of at
#: least 90% of its year payable (H0001 96.9%, H0005 97.5%, the others 98.8% and more): at 98%
#: those two fall into the 110% band.
EDITS = {"retain_bonus_below": ("90%", "98%", 0.98)}


def edited(folder: Path, edits: dict[str, tuple[str, str, float]]) -> Path:
    """A copy of Wuxi 2024 with each parameter's declared value replaced."""
    text = WUXI.read_text(encoding="utf-8")
    for name, (old, new, _) in edits.items():
        pattern = rf'(param {name} "[^"]*" : ratio = ){re.escape(old)}'
        text, count = re.subn(pattern, rf"\g<1>{new}", text)
        assert count == 1, name
    path = folder / "2024.policy"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def wuxi_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return edited(tmp_path_factory.mktemp("wuxi85"), EDITS).parent


@pytest.fixture(scope="module")
def wuxi_inputs() -> Inputs:
    return load_data(SAMPLE, load_policy(WUXI))


def statement(inputs: Inputs, params: dict[str, float]) -> pl.DataFrame:
    """The year-end hospital statement of a plain settlement: money reports in fen, by the
    rounding rule `settle` writes them with."""
    settled = settle(load_policy(WUXI), inputs, PERIOD, Settings(params=params))
    table = stage_tables(settled, "year_end")["hospitals"]
    return table.select("hospital_id", "level", *(money.to_fen(pl.col(c)) for c in MONEY))


@pytest.fixture(scope="module")
def expected(wuxi_inputs: Inputs) -> pl.DataFrame:
    """Per hospital and money report: base, new and change (fen), from plain settlements."""
    base = statement(wuxi_inputs, {})
    new = statement(wuxi_inputs, {n: v for n, (_, _, v) in EDITS.items()})
    long = [
        frame.unpivot(index=["hospital_id", "level"], on=list(MONEY), variable_name="report")
        for frame in (base, new)
    ]
    joined = long[0].join(long[1], on=["hospital_id", "level", "report"], suffix="_new")
    return joined.select(
        "hospital_id",
        "level",
        "report",
        pl.col("value").alias("base"),
        pl.col("value_new").alias("new"),
        (pl.col("value_new") - pl.col("value")).alias("delta"),
    )


def resolved(path: Path) -> Resolved:
    return resolve(read_policy_file(path))


def test_year_end_changes_show_per_hospital_and_level(
    wuxi_inputs: Inputs, wuxi_dir: Path, expected: pl.DataFrame
) -> None:
    impact = compare(
        Runs(wuxi_inputs, PERIOD), load_policy(WUXI), load_policy(wuxi_dir / "2024.policy")
    )
    assert not impact.payments_move and impact.delta == 0
    year_total = expected.filter(pl.col("report") == "year_total")
    assert year_total["delta"].sum() > 0  # the year-end money moves
    shown = impact.hospital_reports.select("hospital_id", "level", "report", "base", "new", "delta")
    keys = ["report", "hospital_id"]
    assert shown.sort(keys).rows() == expected.sort(keys).select(shown.columns).rows()
    by_level = expected.group_by("level", "report").agg(pl.col("base", "new", "delta").sum())
    levels = impact.level_reports.select("level", "report", "base", "new", "delta")
    assert levels.sort("report", "level").rows() == by_level.sort("report", "level").rows()
    moved = expected.filter(pl.col("delta") != 0)["report"].unique().to_list()
    assert impact.moved_reports() == [r for r in MONEY if r in moved]
    gainers = year_total.filter(pl.col("delta") > 0).sort("delta", descending=True)
    assert (
        impact.winners_by("year_total")["hospital_id"].to_list() == gainers["hospital_id"].to_list()
    )
    assert impact.winners().is_empty() and impact.losers().is_empty()


def test_attribution_of_money_reports_adds_up(
    wuxi_inputs: Inputs, tmp_path: Path, expected: pl.DataFrame
) -> None:
    """One clause: its part is the whole change. Two clauses: each part is what a plain
    settlement with that parameter alone changes; parts + interaction = total, per report, per
    level and per hospital, to the fen (here the interaction is not zero: H0001 and H0005 enter
    the 110% band, which the other clause raises to 120%, only with the first clause)."""
    runs = Runs(wuxi_inputs, PERIOD)
    one = attribute(runs, resolved(WUXI), resolved(edited(tmp_path, EDITS)))
    (part,) = one.parts
    for report in MONEY:
        rows = expected.filter(pl.col("report") == report)
        assert part.reports[report] == rows["delta"].sum()
        levels = rows.group_by("level").agg(pl.col("delta").sum()).sort("level")
        assert part.report_levels[report] == dict(levels.rows())
    assert part.delta == 0 and part.moves_reports
    two_edits = EDITS | {"retain_bonus": ("110%", "120%", 1.2)}
    (tmp_path / "two").mkdir()
    two = attribute(runs, resolved(WUXI), resolved(edited(tmp_path / "two", two_edits)))
    base = statement(wuxi_inputs, {})
    for part in two.parts:
        name = part.key.removeprefix("param:")
        alone = statement(wuxi_inputs, {name: two_edits[name][2]})
        for report in MONEY:
            assert part.reports[report] == int(alone[report].sum()) - int(base[report].sum())
    totals = dict(two.impact.reports.select("report", "delta").rows())
    assert any(two.interaction_reports.values())
    for report in two.reports:
        parts = sum(p.reports[report] for p in two.parts)
        assert parts + two.interaction_reports[report] == totals[report]
        for level, change in _level_totals(two.impact.level_reports, report).items():
            summed = sum(p.report_levels[report].get(level, 0) for p in two.parts)
            assert summed + two.interaction_report_levels[report][level] == change
    table = two.report_table()
    columns = [p.key for p in two.parts] + ["interaction"]
    added = table.select(pl.sum_horizontal(columns).alias("sum"), "total")
    assert added["sum"].to_list() == added["total"].to_list()
    assert table.height == two.impact.hospitals.height * len(MONEY)


def _level_totals(frame: pl.DataFrame, report: str) -> dict[int, int]:
    return dict(frame.filter(pl.col("report") == report).select("level", "delta").rows())


def test_the_report_says_what_moves(
    wuxi_dir: Path, tmp_path: Path, expected: pl.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r"
    code, printed, err = run(
        capsys, "whatif", "--base", str(WUXI), "--new", str(wuxi_dir / "2024.policy"),
        "--data", str(SAMPLE), "--period", "2024", "--out", str(out), "--no-exposure",
    )  # fmt: skip
    assert code == 0, err
    year_total = expected.filter(pl.col("report") == "year_total")
    total = int(year_total["delta"].sum())
    moved = year_total.filter(pl.col("delta") != 0).sort("delta", descending=True)
    assert 0 < moved.height <= 3  # named one by one
    hospitals = ", ".join(
        f"{h} {show.yuan(d, True)}" for h, d in moved.select("hospital_id", "delta").rows()
    )
    words = f"year_total {show.yuan(total, True)} ({hospitals})"
    summary = (out / "summary.md").read_text(encoding="utf-8")
    data = json.loads((out / "whatif.json").read_text(encoding="utf-8"))
    for text in (printed, summary, data["effect"]):
        assert "no effect on case payments; " in text and words in text
    assert "No effect on payments" not in summary
    # per level: the level-table row of year_total, level by level
    levels = _level_totals(
        expected.group_by("level", "report").agg(pl.col("delta").sum()), "year_total"
    )
    cells = " | ".join(show.yuan(levels[n], True) for n in sorted(levels))
    assert f"| `year_total` 年度清算总额 | {cells} | {show.yuan(total, True)} |" in summary
    # winners by year_total, though no case payment moves
    first = moved.row(0, named=True)
    assert re.search(
        rf"\| hospital — by `year_total` [^|]*\|.*\n.*\n\| {first['hospital_id']} \|[^\n]*"
        rf"{re.escape(show.yuan(first['delta'], True))}",
        summary,
    )
    # the attribution per money report
    assert (
        f"| `year_total` | 结余留用修正：按应支付总额支付的界限 (parameter retain_bonus_below) "
        f"| {cells} |" in summary
    )
    json_levels = data["impact"]["level_reports"]
    assert {r["level"]: r["delta"] for r in json_levels if r["report"] == "year_total"} == levels
    ranking = data["impact"]["ranking"]["year_total"]["winners"]
    assert [r["hospital_id"] for r in ranking] == moved.filter(pl.col("delta") > 0)[
        "hospital_id"
    ].to_list()
    assert data["attribution"]["reports"]["delta"]["year_total"] == total
    (part,) = data["attribution"]["parts"]
    assert part["reports"]["year_total"] == total
    assert part["report_levels"]["year_total"] == {str(k): v for k, v in levels.items()}


def test_a_rate_by_tier_is_shown_tier_by_tier(
    wuxi_inputs: Inputs, wuxi_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settled = settle(load_policy(WUXI), wuxi_inputs, PERIOD)
    cases = stage_tables(settled, "year_end")["cases"].join(
        settled.data.hospitals.select("hospital_id", "tier"), on="hospital_id"
    )
    rates = cases.group_by("tier").agg(pl.col("rate").unique()).sort("tier")
    assert rates.height > 1 and all(len(r) == 1 for r in rates["rate"])
    out = tmp_path / "r"
    code, _, err = run(
        capsys, "whatif", "--base", str(WUXI), "--new", str(wuxi_dir / "2024.policy"),
        "--data", str(SAMPLE), "--out", str(out), "--no-exposure",
    )  # fmt: skip
    assert code == 0, err
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "| rate | — | — | — |" not in summary
    values = [r[0] for r in rates["rate"]]
    span = f"{show.number(min(values))}–{show.number(max(values))}"
    assert f"| rate (varies by tier) | {span} | {span} |" in summary
    for tier, (rate,) in rates.rows():
        assert (
            f"| rate, tier {tier} | {show.number(rate)} | {show.number(rate)} | 0 | 0.00% |"
            in summary
        )
    data = json.loads((out / "whatif.json").read_text(encoding="utf-8"))
    assert {r["by"]: r["base"] for r in data["impact"]["prices"]} == {
        f"tier {t}": r[0] for t, r in rates.rows()
    }

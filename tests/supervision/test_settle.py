"""Deductions and scores in a settlement, computed by hand: the statements, deductions.csv, the
manifest, the refusal when a score is missing, and the explainer agreeing with the batch run."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from engine.explainer.explain import explain
from engine.inputs.contract import ContractError
from engine.inputs.rundata import Period
from engine.run.examples import example_files, run_example
from engine.run.outputs import write_outputs
from engine.run.settle import load_data, settle
from policy_dsl.lower import compile_text
from tests.conftest import ROOT, SAMPLE, run_cli
from tests.supervision.data import HERE, POLICY, POLICY_PATH, scores_for, write_supervision
from tests.supervision.test_inputs import folder_with

EXAMPLES = example_files(HERE)
#: The example of `examples/year_end.yaml`, as data rows (amounts by hand in its comments).
DEDUCTIONS = [
    {"hospital_id": "H1", "kind": "audit_deduction", "amount": "1000.50", "date": "2024-03-15",
     "reason": "高套分值", "reference": "稽核〔2024〕3号"},
    {"hospital_id": "H1", "kind": "audit_deduction", "amount": "200", "date": "2024-11-30",
     "reason": "分解住院", "reference": ""},
    {"hospital_id": "H1", "kind": "audit_deduction", "amount": "999", "date": "2023-12-31",
     "reason": "上年扣款", "reference": ""},
    {"hospital_id": "H2", "kind": "refusal", "amount": "300.25", "date": "2024-01-31",
     "reason": "诊断与操作不符", "reference": "拒付〔2024〕1号"},
    {"hospital_id": "H2", "kind": "refusal", "amount": "100", "date": "2024-04-30",
     "reason": "低标入院", "reference": ""},
]  # fmt: skip
SCORES = scores_for(["H1", "H2", "H3"])  # H1 60, H2 70, H3 80 in both assessments


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_computed_by_hand(path: Path) -> None:
    outcome = run_example(path)
    assert outcome.passed, "\n".join(m.render() for m in outcome.mismatches)


@pytest.fixture()
def outputs(tmp_path: Path) -> Path:
    folder = folder_with(tmp_path / "data", DEDUCTIONS, SCORES)
    result = settle(POLICY, load_data(folder, POLICY), Period(2024), any_date=False)
    write_outputs(result, tmp_path / "out")
    return tmp_path / "out"


def test_statements_show_every_deduction_and_score(outputs: Path) -> None:
    year = pl.read_csv(outputs / "year_end" / "hospitals.csv", infer_schema=False)
    shown = year.select(
        "hospital_id", "audit_deduction", "refusal", "insurance_assessment", "drg_assessment"
    )
    assert shown.rows() == [
        ("H1", "1200.50", "0.00", "60.0", "60.0"),
        ("H2", "0.00", "400.25", "70.0", "70.0"),
        ("H3", "0.00", "0.00", "80.0", "80.0"),
    ]
    # By hand: 3 cases of 100 points, fund 120,000: 400 元 a point, 40,000 a case. Scores 60,
    # 70, 80 → clearing coefficient 0.9 (the floor) for all, 36,000. Deposits (5% of the month's
    # payable: January 10,000 ÷ 100 points → C1 10,000; March 10,000 ÷ 200 → C2, C3 5,000):
    # H1 500 (60% back: kept 200), H2 250 (kept 75), H3 250 (kept 50).
    totals = year.select("hospital_id", "year_amount", "year_total").rows()
    assert totals == [
        ("H1", "36000.00", "34599.50"),  # − 200 kept − 1,200.50 audit
        ("H2", "36000.00", "35524.75"),  # − 75 kept − 400.25 refused
        ("H3", "36000.00", "35950.00"),  # − 50 kept
    ]
    monthly = pl.read_csv(outputs / "monthly" / "hospitals.csv", infer_schema=False)
    h2 = monthly.filter(pl.col("hospital_id") == "H2")
    # H2 has its only case in March (prepaid 4,750); January and April have a row for their
    # refusal alone, each due that month as a negative amount.
    assert h2.select("month", "cases", "refusal", "month_paid", "month_due").rows() == [
        ("2024-01", "0", "300.25", "0.00", "-300.25"),
        ("2024-03", "1", "0.00", "4750.00", "4750.00"),
        ("2024-04", "0", "100.00", "0.00", "-100.00"),
    ]


def test_deductions_csv_lists_each_row_of_the_period_with_the_stage_applying_it(
    outputs: Path,
) -> None:
    listed = pl.read_csv(outputs / "deductions.csv", infer_schema=False)
    assert listed.columns == [
        "hospital_id", "kind", "label", "amount", "date", "reason", "reference", "stage"
    ]  # fmt: skip
    assert listed.select("hospital_id", "kind", "amount", "date", "stage").rows() == [
        ("H2", "refusal", "300.25", "2024-01-31", "monthly"),
        ("H2", "refusal", "100.00", "2024-04-30", "monthly"),
        ("H1", "audit_deduction", "1000.50", "2024-03-15", "year_end"),
        ("H1", "audit_deduction", "200.00", "2024-11-30", "year_end"),
        ("H2", "refusal", "300.25", "2024-01-31", "year_end"),
        ("H2", "refusal", "100.00", "2024-04-30", "year_end"),
    ]
    assert set(listed["label"]) == {"智能审核违规扣款", "拒付"}
    manifest = json.loads((outputs / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rows"]["deductions"] == {
        "read": 5, "in_period": 4, "rejected": 0, "not_declared": 0, "not_declared_by_name": {},
        "outside_period": 1,
    }  # fmt: skip
    assert manifest["rows"]["assessments"]["in_period"] == 6
    assert "deductions.csv" in manifest["outputs"] and "deductions.csv" in manifest["inputs"]


def test_rows_of_kinds_the_policy_does_not_read_are_counted_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sample serves five cities: of its 20 deductions Wuxi reads the 8 audit deductions,
    and counts the 7 refusals and 5 assessment penalties (counted by hand in
    sample/deductions.csv) as kinds it does not read; of its 39 scores, the 13 data-quality
    ones. Nothing is rejected for it."""
    policy = ROOT / "policies" / "wuxi" / "2024.policy"
    out = tmp_path / "out"
    code, _, err = run_cli(
        capsys, "settle", "--policy", str(policy), "--data", str(SAMPLE), "--period", "2024",
        "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    assert (
        "20 deductions rows read = 8 in 2024 + 0 rejected + 0 outside it + 12 of kinds the "
        "policy does not read; assessment_penalty: 5; refusal: 7"
    ) in err
    rows = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["rows"]
    assert rows["deductions"] == {
        "read": 20, "in_period": 8, "rejected": 0, "not_declared": 12,
        "not_declared_by_name": {"assessment_penalty": 5, "refusal": 7}, "outside_period": 0,
    }  # fmt: skip
    assert rows["assessments"]["not_declared_by_name"] == {"data_quality": 13}
    assert rows["assessments"]["in_period"] == 26
    listed = pl.read_csv(out / "deductions.csv", infer_schema=False)
    assert set(listed["kind"]) == {"audit_deduction"} and listed.height == 8


def test_a_month_run_lists_the_year_end_deductions_as_not_applied(tmp_path: Path) -> None:
    folder = folder_with(tmp_path / "data", DEDUCTIONS, SCORES)
    result = settle(POLICY, load_data(folder, POLICY), Period.parse("2024-03"))
    write_outputs(result, tmp_path / "out")
    listed = pl.read_csv(tmp_path / "out" / "deductions.csv", infer_schema=False)
    assert listed.select("hospital_id", "amount", "stage").rows() == [
        ("H1", "1000.50", "")  # the audit deduction of March: read by year_end only
    ]


def test_a_missing_score_stops_the_run_naming_file_assessment_reader_and_hospitals(
    tmp_path: Path,
) -> None:
    scores = [s for s in SCORES if not (s["hospital_id"] == "H3" and "drg" in s["assessment"])]
    folder = folder_with(tmp_path, DEDUCTIONS, scores)
    with pytest.raises(ContractError) as caught:
        settle(POLICY, load_data(folder, POLICY), Period(2024))
    assert str(caught.value) == (
        "assessments.csv has no drg_assessment score for 2024 for 1 hospital(s) with cases: "
        "H3; supervised 2024 reads drg_assessment (DRG专项考核得分) in `clearing_coefficient`, "
        "and a missing score would be a guess: add a row per hospital (hospital_id, "
        "assessment: drg_assessment, score, year: 2024)"
    )
    assert caught.value.file == "assessments.csv"


def test_without_the_assessments_file_the_run_stops_too(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, DEDUCTIONS, [])
    with pytest.raises(ContractError, match=r"assessments file not found in .*3 hospital"):
        settle(POLICY, load_data(folder, POLICY), Period(2024))


def test_a_score_only_a_fixed_definition_reads_is_not_needed(tmp_path: Path) -> None:
    from engine.plan.polars.batch import Settings

    folder = folder_with(
        tmp_path, DEDUCTIONS, [s for s in SCORES if "insurance" in s["assessment"]]
    )
    fixed = Settings(definitions={"clearing_coefficient": 1.0})
    result = settle(POLICY, load_data(folder, POLICY), Period(2024), fixed)
    assert "year_end" in result.stages


def test_a_month_run_does_not_need_the_year_end_scores(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, DEDUCTIONS, [])
    result = settle(POLICY, load_data(folder, POLICY), Period.parse("2024-01"))
    assert list(result.stages) == ["monthly"]


def test_cli_prints_how_every_supervision_row_was_accounted_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = {**DEDUCTIONS[0], "amount": "-1"}
    folder = folder_with(tmp_path / "data", [*DEDUCTIONS, bad], SCORES)
    code, _, err = run_cli(
        capsys, "settle", "--policy", str(POLICY_PATH), "--data", str(folder),
        "--period", "2024", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert code == 1, err  # a rejected deduction fails the run (its hospital paid without it)
    assert "error: 1 row of deductions rejected" in err
    assert "6 deductions rows read = 4 in 2024 + 1 rejected + 1 outside it" in err
    assert "6 assessments rows read = 6 in 2024 + 0 rejected + 0 outside it" in err


CASE_LEVEL = """
policy probe version "2024"
  effective 2024-01-01 to 2024-12-31
  method points
input budget drg_fund "基金" : money
input deduction refusal "拒付" : money
input assessment drg_assessment "DRG专项考核得分" : number
let base_points "基准点数" : points at group = weight * 100 pt
classify category "病例类型"
  class normal "正常病例" otherwise
let case_points "病例点数" : points at case = base_points
let coefficient "系数" : ratio at case = clamp(drg_assessment / 100, 0, 1)
let settled_points "结算点数" : points at case = case_points * coefficient
stage monthly "月度" per month
  let point_value "点值" : point_value at all = drg_fund / 12 / sum(settled_points)
  let gross "应付" : money at case = round_fen(settled_points * point_value)
  let share "扣款分摊" : money at case = refusal * 0.5
  let payment "支付" : money at case = gross - share
"""


def test_the_explainer_reads_deductions_and_scores_as_the_batch_run_does(tmp_path: Path) -> None:
    policy = compile_text(CASE_LEVEL, "probe.policy")
    folder = folder_with(tmp_path, [], [])
    write_supervision(
        folder,
        [{**DEDUCTIONS[3], "date": "2024-03-31"}],  # H2's refusal of 300.25, in March
        [
            {"hospital_id": h, "assessment": "drg_assessment", "score": 90}
            for h in ("H1", "H2", "H3")
        ],
    )
    result = settle(policy, load_data(folder, policy), Period(2024))
    cases = result.cases()
    for case_id in cases["case_id"]:
        steps = {s.name: s.value for s in explain(result, case_id).steps}
        row = cases.filter(pl.col("case_id") == case_id).row(0, named=True)
        assert steps["payment"] == row["payment"]
        assert steps["coefficient"] == pytest.approx(0.9)
    # by hand: each month's fund is 120,000 ÷ 12 = 10,000, paid over its cases' points: C2
    # (H2, March) has 90 of March's 180 points, so 5,000, less half of H2's March refusal
    steps = {s.name: s.value for s in explain(result, "C2").steps}
    assert steps["share"] == pytest.approx(150.125)
    assert steps["payment"] == pytest.approx(5000 - 150.125)

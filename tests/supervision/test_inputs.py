"""deductions.csv and assessments.csv: what is accepted, what is rejected and why, what is not
read, and the schemas and documentation of both tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import polars as pl
import pytest
from jsonschema import Draft202012Validator

from engine.inputs import supervision
from engine.inputs.contract import ContractError
from engine.inputs.fields import field_table, json_schema
from engine.inputs.rundata import Period
from engine.inputs.supervision import in_period
from engine.run.settle import load_data, load_policy, run_data, settle
from tests.conftest import ROOT, SAMPLE
from tests.supervision.data import POLICY, write_supervision

HOSPITALS = "hospital_id,level\nH1,3\nH2,2\nH3,1\nH4,5\n"  # H4 is rejected (level 5)
GROUPS = "drg_code,weight,avg_cost\nGB15,1.0,10000\n"
CASES = (
    "case_id,hospital_id,drg_code,total_cost,discharge_date\n"
    "C1,H1,GB15,10000,2024-01-10\nC2,H2,GB15,9000,2024-03-10\nC3,H3,GB15,8000,2024-03-10\n"
)
BUDGET = 'contract_version: "1.0"\nyear: 2024\nvalues: {drg_fund: 120000}\n'
GOOD = {"hospital_id": "H1", "kind": "audit_deduction", "amount": "10.00"}


def folder_with(
    tmp_path: Path, deductions: list[dict[str, str]], assessments: list[dict[str, str]]
) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    for name, text in (
        ("hospitals.csv", HOSPITALS),
        ("groups.csv", GROUPS),
        ("cases.csv", CASES),
        ("budget.yaml", BUDGET),
    ):
        (tmp_path / name).write_text(text, encoding="utf-8")
    return write_supervision(tmp_path, deductions, assessments)


def deduction(**fields: str) -> dict[str, str]:
    return {**GOOD, "date": "2024-03-15", "reason": "高套分值", "reference": "", **fields}


def score(
    hospital: str, name: str, value: str, year: str = "2024", date: str = ""
) -> dict[str, str]:
    return {"hospital_id": hospital, "assessment": name, "score": value, "year": year, "date": date}


ALL_SCORES = [
    score(h, n, "90")
    for h in ("H1", "H2", "H3")
    for n in ("insurance_assessment", "drg_assessment")
]


def test_each_bad_deduction_row_is_rejected_with_its_first_failing_check(tmp_path: Path) -> None:
    rows = [
        deduction(),  # row 1: good
        deduction(hospital_id=""),  # 2: missing hospital
        deduction(kind="fine"),  # 3: a kind the policy does not declare: not its to read
        deduction(amount="-5"),  # 4: negative
        deduction(amount="5.555"),  # 5: three decimals
        deduction(amount="lots"),  # 6: not money
        deduction(date="2024/05/01"),  # 7: not a date
        deduction(reason=""),  # 8: no reason
        deduction(hospital_id="H9"),  # 9: unknown hospital
        deduction(hospital_id="H4"),  # 10: hospital rejected upstream
        deduction(kind="refusal", amount="0.10", reference="拒付〔2024〕1号"),  # 11: good
    ]
    inputs = load_data(folder_with(tmp_path, rows, ALL_SCORES), POLICY)
    rejects = inputs.rejects.filter(pl.col("file") == "deductions.csv")
    assert rejects.select("row", "field").rows() == [
        (2, "hospital_id"),
        (4, "amount"),
        (5, "amount"),
        (6, "amount"),
        (7, "date"),
        (8, "reason"),
        (9, "hospital_id"),
        (10, "hospital_id"),
    ]
    reasons = rejects["reason"].to_list()
    assert reasons[0] == "hospital_id is missing; it is required"
    assert reasons[1] == "amount is negative (-5); must be ≥ 0"
    assert (
        reasons[2] == "amount 5.555 has more than 2 decimals; money is exact to the fen (0.01 元)"
    )
    assert reasons[3] == "amount 'lots' is not an amount of money; write a number such as 1234.50"
    assert reasons[4] == "date '2024/05/01' is not a date; write YYYY-MM-DD, e.g. 2024-03-31"
    assert reasons[5] == "reason is missing; it is required"
    assert reasons[6] == "hospital H9 is not in hospitals.csv"
    assert reasons[7].startswith("hospital H4 is in hospitals.csv but was rejected there")
    assert inputs.rows_read["deductions"] == 11
    # one data file may serve several cities: another kind is counted by name, not rejected
    assert inputs.other_kinds == {"deductions": {"fine": 1}}
    assert inputs.deductions is not None
    assert inputs.deductions.select("kind", "amount", "reference").rows() == [
        ("audit_deduction", 10.0, ""),
        ("refusal", 0.1, "拒付〔2024〕1号"),
    ]
    assert inputs.files["deductions"] == "deductions.csv"
    assert "deductions.csv" in inputs.file_hashes


def test_two_scores_of_one_hospital_assessment_and_year_are_both_rejected(tmp_path: Path) -> None:
    scores = [
        *ALL_SCORES,
        score("H1", "drg_assessment", "70"),  # row 7: a second 2024 score for H1
        score("H2", "drg_assessment", "75", year="", date="2023-12-31"),  # 8: 2023, no clash
        score("H3", "drg_assessment", "75", year=""),  # 9: every year: clashes with row 6
        score("H1", "audit", "75"),  # 10: not a declared assessment: counted, not rejected
        score("H2", "drg_assessment", "-1", year="2022"),  # 11: negative
    ]
    inputs = load_data(folder_with(tmp_path, [deduction()], scores), POLICY)
    rejects = inputs.rejects.filter(pl.col("file") == "assessments.csv")
    assert rejects.select("row", "key", "field").rows() == [
        (2, "H1", "assessment"),
        (6, "H3", "assessment"),
        (7, "H1", "assessment"),
        (9, "H3", "assessment"),
        (11, "H2", "score"),
    ]
    reasons = dict(zip(rejects["row"], rejects["reason"], strict=True))
    assert reasons[2] == (
        "assessment drg_assessment of hospital H1 for 2024 is given 2 times (rows 2, 7); a "
        "hospital has one score per assessment and year — all copies rejected"
    )
    assert reasons[9] == (
        "assessment drg_assessment of hospital H3 for every year is given 2 times (rows 6, 9); a "
        "hospital has one score per assessment and year — all copies rejected"
    )
    assert 10 not in reasons and inputs.other_kinds == {"assessments": {"audit": 1}}
    assert reasons[11] == "score is negative (-1); must be ≥ 0"
    accepted = inputs.assessments
    assert accepted is not None
    h2 = accepted.filter(pl.col("hospital_id") == "H2", pl.col("assessment") == "drg_assessment")
    assert h2.select("score", "year").rows() == [(75.0, 2023), (90.0, 2024)]


def test_a_score_holds_in_its_year_or_in_every_year_if_it_names_none(tmp_path: Path) -> None:
    scores = [
        score("H1", "drg_assessment", "80", year="2023"),
        score("H2", "drg_assessment", "81", year="", date="2024-06-30"),
        score("H3", "drg_assessment", "82", year=""),
    ]
    inputs = load_data(folder_with(tmp_path, [deduction()], scores), POLICY)
    _, held = in_period(inputs, Period.parse("2024-03"))
    assert held.select("hospital_id", "score").rows() == [("H2", 81.0), ("H3", 82.0)]


def test_deductions_count_in_the_period_their_date_falls_in(tmp_path: Path) -> None:
    rows = [
        deduction(date="2023-12-31"),
        deduction(date="2024-01-01"),
        deduction(date="2024-03-31", amount="2"),
        deduction(date="2024-04-01", amount="3"),
        deduction(date="2025-01-01"),
    ]
    inputs = load_data(folder_with(tmp_path, rows, ALL_SCORES), POLICY)
    march, _ = in_period(inputs, Period.parse("2024-03"))
    year, _ = in_period(inputs, Period.parse("2024"))
    assert march["amount"].to_list() == [2.0]
    assert sorted(year["amount"].to_list()) == [2.0, 3.0, 10.0]


def test_absent_files_mean_no_deductions_and_no_scores(tmp_path: Path) -> None:
    inputs = load_data(folder_with(tmp_path, [], []), POLICY)
    assert inputs.deductions is not None and inputs.deductions.is_empty()
    assert inputs.assessments is not None and inputs.assessments.is_empty()
    assert "deductions" not in inputs.rows_read and "deductions.csv" not in inputs.file_hashes


def test_a_policy_without_supervision_inputs_does_not_read_the_files(tmp_path: Path) -> None:
    xuancheng = load_policy(ROOT / "policies" / "xuancheng" / "2024.policy")
    inputs = load_data(SAMPLE, xuancheng)
    assert inputs.deductions is None and inputs.assessments is None
    assert set(inputs.rows_read) == {"hospitals", "groups", "cases"}
    assert inputs.rejects.is_empty()


def test_both_formats_of_one_table_are_refused(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, [deduction()], ALL_SCORES)
    pl.read_csv(folder / "deductions.csv").write_parquet(folder / "deductions.parquet")
    with pytest.raises(ContractError, match=r"both deductions\.csv and deductions\.parquet"):
        load_data(folder, POLICY)


def test_a_missing_required_column_names_the_file_and_the_columns(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, [{k: v for k, v in deduction().items() if k != "reason"}], [])
    with pytest.raises(ContractError, match=r"deductions\.csv has no column reason"):
        load_data(folder, POLICY)


def test_parquet_and_reordered_rows_give_the_same_frames(tmp_path: Path) -> None:
    rows = [deduction(amount=str(a), date=f"2024-0{m}-01") for a, m in ((1, 2), (2, 1), (3, 2))]
    first = load_data(folder_with(tmp_path / "a", rows, ALL_SCORES), POLICY)
    folder = folder_with(tmp_path / "b", list(reversed(rows)), list(reversed(ALL_SCORES)))
    for name in ("deductions", "assessments"):
        pl.read_csv(folder / f"{name}.csv", infer_schema=False).write_parquet(
            folder / f"{name}.parquet"
        )
        (folder / f"{name}.csv").unlink()
    second = load_data(folder, POLICY)
    assert first.deductions is not None and second.deductions is not None
    assert first.deductions.equals(second.deductions)
    assert first.assessments is not None and second.assessments is not None
    assert first.assessments.equals(second.assessments)


def test_settling_needs_no_rows_only_a_period(tmp_path: Path) -> None:
    result = settle(POLICY, load_data(folder_with(tmp_path, [], ALL_SCORES), POLICY), Period(2024))
    totals = result.stages["year_end"].frames[frozenset({"hospital"})]
    assert dict(totals.select("hospital_id", "year_total").rows())["H1"] is not None


@pytest.mark.parametrize("kind", ["deductions", "assessments"])
def test_schema_accepts_accepted_rows_and_not_rejected_ones(kind: str, tmp_path: Path) -> None:
    inputs = load_data(folder_with(tmp_path, [deduction()], ALL_SCORES), POLICY)
    schema = json_schema(kind)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    frame = inputs.deductions if kind == "deductions" else inputs.assessments
    assert frame is not None
    for row in frame.drop("month", strict=False).rows(named=True):
        validator.validate(
            {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()}
        )
    assert not validator.is_valid({"hospital_id": "H1"})


@pytest.mark.parametrize("kind", ["deductions", "assessments"])
def test_contract_md_documents_both_tables(kind: Literal["deductions", "assessments"]) -> None:
    document = (ROOT / "engine" / "CONTRACT.md").read_text(encoding="utf-8")
    assert field_table(kind) in document
    assert f"drgpolicy schema {kind}" in document


def test_hospitals_with_cases_are_looked_for_only_where_a_score_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A policy reading no assessment is not checked against the cases' hospitals: a pass over
    every case (a tenth of a settlement) that could find nothing missing."""
    xuancheng = load_policy(ROOT / "policies" / "xuancheng" / "2024.policy")
    inputs = load_data(SAMPLE, xuancheng)
    data = run_data(inputs, Period.parse("2024"))

    def distinct(*_: object) -> None:
        raise AssertionError("the cases' hospitals were looked for")

    monkeypatch.setattr(supervision, "distinct", distinct)
    read = {("deductions", "quality"): "a_deduction", ("cases", "total_cost"): "cost_ratio"}
    supervision.check_scores(xuancheng, inputs, data, read)
    with pytest.raises(AssertionError, match="were looked for"):
        supervision.check_scores(xuancheng, inputs, data, {("assessments", "quality"): "a_score"})

"""Deductions in a what-if: compared per hospital and level as money reports, shown beside each
hospital whose money moves, and loaded for the base version even when only it declares them."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from engine.inputs.rundata import Period
from engine.run.settle import load_data
from engine.whatif import Runs, compare
from engine.whatif.runs import inputs_policy
from engine.whatif.supervision import supervision_section
from policy_dsl.lower import compile_text
from tests.conftest import SAMPLE, run_cli
from tests.supervision.data import POLICY, POLICY_PATH
from tests.supervision.test_inputs import folder_with
from tests.supervision.test_settle import DEDUCTIONS, SCORES

TEXT = POLICY_PATH.read_text(encoding="utf-8")
#: The test policy before smart-audit deductions were applied: it does not declare them.
UNAUDITED = (
    TEXT.replace('version "2024"', 'version "2023"')
    .replace(
        'input deduction audit_deduction "智能审核违规扣款" : money\n'
        '  source rules "第二条 智能审核违规扣款从年终清算中扣除"\n',
        "",
    )
    .replace(" - audit_deduction - refusal", " - refusal")
    .replace("sum(audit_deduction) + sum(refusal)", "sum(refusal)")
)


def test_the_unaudited_version_is_the_test_policy_without_audit_deductions() -> None:
    assert "audit_deduction" not in UNAUDITED
    assert UNAUDITED.count("\n") == TEXT.count("\n") - 2


@pytest.fixture()
def runs(tmp_path: Path) -> Runs:
    folder = folder_with(tmp_path, DEDUCTIONS, SCORES)
    unaudited = compile_text(UNAUDITED, "unaudited.policy")
    return Runs(load_data(folder, inputs_policy(unaudited, POLICY)), Period(2024))


def test_deductions_are_compared_per_hospital_and_level_like_money_reports(runs: Runs) -> None:
    unaudited = compile_text(UNAUDITED, "unaudited.policy")
    impact = compare(runs, unaudited, POLICY)
    year_total = impact.by_hospital("year_total").select("hospital_id", "delta").rows()
    # H1's 2024 audit deductions: 1,000.50 + 200 (the 999 of 2023 is another period's)
    assert sorted(year_total) == [("H1", -120050), ("H2", 0), ("H3", 0)]
    audit = impact.hospital_reports.filter(pl.col("report") == "audit_deduction")
    assert audit.select("hospital_id", "base", "new").rows() == [
        ("H1", None, 120050),
        ("H2", None, 0),
        ("H3", None, 0),
    ]
    refusal = impact.level_reports.filter(pl.col("report") == "refusal")
    assert refusal.select("level", "base", "new", "delta").rows() == [
        (1, 0, 0, 0),
        (2, 40025, 40025, 0),
        (3, 0, 0, 0),
    ]
    assert impact.moved_reports() == ["year_total", "year_end_due"]


def test_the_report_shows_the_deductions_of_each_hospital_that_moves(runs: Runs) -> None:
    impact = compare(runs, compile_text(UNAUDITED, "unaudited.policy"), POLICY)
    section = supervision_section(impact)
    assert section is not None
    (shown,) = section.tables
    assert shown.headers == [
        "hospital",
        "level",
        "`audit_deduction` 智能审核违规扣款",
        "`refusal` 拒付",
        "`insurance_assessment` 年度医保考核得分",
        "`drg_assessment` DRG专项考核得分",
    ]
    assert shown.rows == [["H1", "level 3 三级", "¥1,200.50", "¥0.00", "60", "60"]]
    rows = impact.to_json()["supervision"]
    assert rows == [
        {
            "hospital_id": "H1",
            "level": 3,
            "refusal": 0,
            "insurance_assessment": 60.0,
            "drg_assessment": 60.0,
            "audit_deduction": 120050,
        }
    ]


def test_whatif_cli_loads_what_only_the_base_version_declares(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, new = tmp_path / "audited.policy", tmp_path / "unaudited.policy"
    base.write_text(TEXT.replace('version "2024"', 'version "2023"'), encoding="utf-8")
    new.write_text(UNAUDITED.replace('version "2023"', 'version "2024"'), encoding="utf-8")
    folder = folder_with(tmp_path / "data", DEDUCTIONS, SCORES)
    code, _, err = run_cli(
        capsys, "whatif", "--base", str(base), "--new", str(new), "--data", str(folder),
        "--out", str(tmp_path / "out"), "--no-exposure",
    )  # fmt: skip
    assert code in (0, None), err
    report = json.loads((tmp_path / "out" / "whatif.json").read_text(encoding="utf-8"))
    moved = {
        (r["hospital_id"], r["report"]): r["delta"]
        for r in report["impact"]["hospital_reports"]
        if r["report"] == "year_total"
    }
    # the new version no longer deducts H1's 1,200.50: the base run must have read them
    assert moved == {("H1", "year_total"): 120050, ("H2", "year_total"): 0, ("H3", "year_total"): 0}
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Deductions and assessments" in html and "¥1,200.50" in html


def test_the_studio_shows_the_same_table_in_yuan(runs: Runs) -> None:
    from studio.whatif_view import supervision_table

    impact = compare(runs, compile_text(UNAUDITED, "unaudited.policy"), POLICY)
    shown = supervision_table(impact)
    assert shown.select("hospital_id", "audit_deduction", "refusal", "drg_assessment").rows() == [
        ("H1", 1200.5, 0.0, 60.0)
    ]


def test_an_upload_with_its_own_hospitals_takes_no_deductions_from_the_sample(
    tmp_path: Path,
) -> None:
    """The sample's deductions and scores name the sample's hospitals: an upload with its own
    hospitals, the rest borrowed from the sample, borrows neither; one that borrows the
    sample's hospitals borrows the supervision files it does not upload."""
    from studio.datasets import uploaded

    hospitals = (SAMPLE / "hospitals.csv").read_bytes()
    own = uploaded(tmp_path, {"hospitals.csv": hospitals}, SAMPLE, borrow=True)
    assert own.borrowed == ("cases.csv", "groups.csv", "budget.yaml")
    assert not (own.folder / "deductions.csv").exists()
    assert not (own.folder / "assessments.csv").exists()
    deductions = b"hospital_id,kind,amount,date,reason\nH0001,audit_deduction,1,2024-01-02,x\n"
    mine = uploaded(tmp_path, {"deductions.csv": deductions}, SAMPLE, borrow=True)
    assert mine.borrowed == (
        "cases.csv", "hospitals.csv", "groups.csv", "assessments.csv", "budget.yaml"
    )  # fmt: skip
    assert (mine.folder / "deductions.csv").read_bytes() == deductions
    assert (mine.folder / "assessments.csv").read_bytes() == (
        SAMPLE / "assessments.csv"
    ).read_bytes()

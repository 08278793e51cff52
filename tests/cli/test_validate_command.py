"""`drgpolicy validate --data DIR [--policy FILE]`: what a settlement would reject, before any
settlement — on the sample (clean) and on folders broken by hand, each reject placed and
counted here, not read from the engine."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import polars as pl
import pytest

from engine.inputs.validation import reasons, validate_folder
from engine.run.settle import load_policy
from tests.conftest import POLICIES, SAMPLE
from tests.conftest import run_cli as run

XUANCHENG = POLICIES / "xuancheng" / "2024.policy"
WUXI = POLICIES / "wuxi" / "2024.policy"


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> None:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def copy_of_sample(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(SAMPLE, folder)
    return folder


# ---- the sample -------------------------------------------------------------------------------


def test_the_sample_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", "--data", str(SAMPLE))
    assert (code, err) == (0, "")
    assert "  hospitals.csv: 13 rows read, none rejected\n" in out
    assert "  groups.csv: 602 rows read, none rejected\n" in out
    assert "  cases.csv: 20,000 rows read, none rejected\n" in out
    assert "  cases discharged 2024-01 … 2024-12\n" in out
    assert out.endswith("nothing would be rejected\n")


def test_the_sample_is_clean_for_a_policy_with_deductions_and_scores(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "validate", "--data", str(SAMPLE), "--policy", str(WUXI))
    assert code == 0
    deductions, assessments = (
        read_rows(SAMPLE / f"{n}.csv") for n in ("deductions", "assessments")
    )
    assert f"  deductions.csv: {len(deductions)} rows read, none rejected\n" in out
    assert f"  assessments.csv: {len(assessments)} rows read, none rejected\n" in out
    assert "  checked as `settle --period 2024` would settle it\n" in out
    assert "the policy reads tier_budget (one amount per key: A: 253,825,073.00," in out
    assert "not read: inpatient_fund (415,964,869.00 元)" in out


# ---- rejected rows ----------------------------------------------------------------------------


def broken_folder(tmp_path: Path) -> tuple[Path, dict[tuple[str, str, int], int], list[int]]:
    """The sample with a hospital of level 4 (H0003) and six bad case rows, each at a case of
    another hospital; returns the folder, the rejects expected per (file, field, first row) with
    their counts, and the rows of H0003's cases."""
    folder = copy_of_sample(tmp_path)
    hospitals = read_rows(folder / "hospitals.csv")
    assert hospitals[2]["hospital_id"] == "H0003"
    hospitals[2]["level"] = "4"
    write_rows(folder / "hospitals.csv", hospitals)
    cases = read_rows(folder / "cases.csv")
    others = [i for i, row in enumerate(cases) if row["hospital_id"] != "H0003"][:7]
    a, b, c, d, e, f, g = others
    cases[a]["total_cost"] = "-5.00"
    cases[b]["total_cost"] = "abc"
    cases[c]["total_cost"] = "12.345"
    cases[d]["hospital_id"] = "H9999"
    cases[e]["drg_code"] = "ZZ99"
    cases[f]["case_id"] = cases[g]["case_id"]
    write_rows(folder / "cases.csv", cases)
    h0003 = [i + 1 for i, row in enumerate(cases) if row["hospital_id"] == "H0003"]
    expected = {
        ("hospitals.csv", "level", 3): 1,
        ("cases.csv", "total_cost", a + 1): 1,
        ("cases.csv", "total_cost", b + 1): 1,
        ("cases.csv", "total_cost", c + 1): 1,
        ("cases.csv", "hospital_id", d + 1): 1,
        ("cases.csv", "hospital_id", h0003[0]): len(h0003),
        ("cases.csv", "drg_code", e + 1): 1,
        ("cases.csv", "case_id", f + 1): 2,
    }
    return folder, expected, h0003


def test_each_reason_is_counted_with_its_first_rows(tmp_path: Path) -> None:
    folder, expected, h0003 = broken_folder(tmp_path)
    findings = validate_folder(folder, load_policy(XUANCHENG))
    got = {(r.file, r.field, r.first_rows[0]): r.rows for r in findings.reasons}
    assert got == expected
    upstream = next(r for r in findings.reasons if r.rows == len(h0003))
    assert upstream.first_rows == tuple(h0003[:5])
    assert upstream.example == (
        "hospital H0003 is in hospitals.csv but was rejected there (see its reject); fix that "
        "row first"
    )
    assert [(c.file, c.read, c.rejected) for c in findings.files][:3] == [
        ("hospitals.csv", 13, 1),
        ("groups.csv", 602, 0),
        ("cases.csv", 20_000, sum(expected.values()) - 1),
    ]
    assert (
        f"{len(h0003)} cases rejected because hospital rejected in hospitals.csv (H0003: "
        f"{len(h0003)} — hospitals.csv row 3: level 4 is not one of 0, 1, 2, 3)"
    ) in findings.because
    assert "1 cases rejected because hospital not in hospitals.csv (H9999: 1)" in findings.because
    assert not findings.clean and findings.refused == []


def test_the_counts_are_those_of_the_rejects_a_settlement_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, expected, _ = broken_folder(tmp_path)
    code, _, err = run(
        capsys, "settle", "--policy", str(XUANCHENG), "--data", str(folder), "--period", "2024",
        "--out", str(tmp_path / "out"), "--accept-rejects",
    )  # fmt: skip
    assert code == 0, err
    written = pl.read_csv(tmp_path / "out" / "rejects.csv", infer_schema_length=0)
    per_field = written.group_by("file", "field").len().sort("file", "field").rows()
    found = validate_folder(folder, load_policy(XUANCHENG)).reasons
    counted = pl.DataFrame(
        [(r.file, r.field, r.rows) for r in found], schema=["file", "field", "len"], orient="row"
    )
    totals = counted.group_by("file", "field").agg(pl.col("len").sum()).sort("file", "field")
    assert per_field == [(f, n, int(c)) for f, n, c in totals.rows()]
    assert written.height == sum(expected.values())


def test_the_command_prints_them_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, expected, h0003 = broken_folder(tmp_path)
    code, out, err = run(capsys, "validate", "--data", str(folder))
    assert code == 1
    rejected = sum(expected.values()) - 1
    assert f"  cases.csv: 20,000 rows read, {rejected:,} rejected ({rejected / 20_000:.2%}" in out
    assert "rejected rows, per file and reason:\n" in out
    assert "  hospitals.csv level: 1 row (row 3), e.g. level 4 is not one of 0, 1, 2, 3\n" in out
    rows = ", ".join(map(str, h0003[:5]))
    assert (
        f"  cases.csv hospital_id: {len(h0003):,} rows (rows {rows}, …), e.g. hospital H0003" in out
    )
    assert "the first 10 rejected rows (file, row, key, field):\n" in out
    assert "cases rejected because of their hospital or group:\n" in out
    assert out.endswith("NOT CLEAN\n")
    assert "settling it would reject or refuse what is listed above" in err


def test_one_reason_whatever_the_values(tmp_path: Path) -> None:
    rejects = pl.DataFrame(
        {
            "file": ["cases.csv"] * 3,
            "row": [4, 9, 12],
            "key": ["C1", "C2", "C3"],
            "field": ["total_cost"] * 3,
            "reason": [
                "total_cost '12,50' is not an amount of money; write a number such as 1234.50",
                "total_cost 'n/a' is not an amount of money; write a number such as 1234.50",
                "total_cost is negative (-3.00); must be ≥ 0",
            ],
            "value": ["12,50", "n/a", "-3.00"],
        }
    )
    found = reasons(rejects)
    assert [(r.rows, r.first_rows) for r in found] == [(2, (4, 9)), (1, (12,))]
    assert found[0].example.startswith("total_cost '12,50'")


# ---- what settle refuses -----------------------------------------------------------------------


def test_a_budget_of_the_wrong_shape_is_refused_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = copy_of_sample(tmp_path)
    lines = (folder / "budget.yaml").read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, start=1) if text.startswith("  drg_fund:"))
    lines[line - 1] = "  drg_fund: {A: 5}"
    (folder / "budget.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "validate", "--data", str(folder), "--policy", str(XUANCHENG))
    assert code == 1
    assert (
        f"refused (settle would stop, nothing written):\n  budget.yaml:{line}: values.drg_fund is "
        "a mapping ({A: 5}); the policy declares drg_fund as one amount"
    ) in out
    assert "  cases.csv: 20,000 rows read, none rejected\n" in out, "the rows are still checked"


def test_a_column_the_policy_reads_but_the_file_lacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = copy_of_sample(tmp_path)
    hospitals = read_rows(folder / "hospitals.csv")
    write_rows(
        folder / "hospitals.csv",
        [{k: v for k, v in r.items() if k != "hist_cases"} for r in hospitals],
    )
    code, _, _ = run(capsys, "validate", "--data", str(folder))
    assert code == 0, "the contract alone does not need it"
    code, out, _ = run(capsys, "validate", "--data", str(folder), "--policy", str(XUANCHENG))
    assert code == 1
    assert "  hospitals.csv has no column hist_cases, which xuancheng 2024 reads" in out


def test_a_gbk_file_is_named_and_read_with_encoding_gbk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = copy_of_sample(tmp_path)  # every CSV file saved as GBK, as Excel saves them
    for path in folder.glob("*.csv"):
        write_rows(path, read_rows(path), encoding="gbk")
    code, out, _ = run(capsys, "validate", "--data", str(folder))
    assert code == 1
    assert "hospitals.csv is not UTF-8 but reads as GBK (GB18030)" in out
    assert "read it as it is with --encoding gbk" in out
    code, out, _ = run(capsys, "validate", "--data", str(folder), "--encoding", "gbk")
    assert code == 0 and "  hospitals.csv: 13 rows read, none rejected\n" in out


def test_dates_outside_the_policy_and_a_hospital_without_a_score(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys,
        "validate",
        "--data",
        str(SAMPLE),
        "--policy",
        str(POLICIES / "xuancheng" / "2023.policy"),
    )
    assert code == 1
    assert "xuancheng 2023 is in force from 2023-01-01 to 2023-12-31, but period 2024" in out
    assert "(settle refuses this unless --any-date)" in out

    folder = copy_of_sample(tmp_path)
    scores = read_rows(folder / "assessments.csv")
    kept = [r for r in scores if (r["hospital_id"], r["assessment"]) != ("H0005", "drg_assessment")]
    assert len(kept) == len(scores) - 1
    write_rows(folder / "assessments.csv", kept)
    code, out, _ = run(capsys, "validate", "--data", str(folder), "--policy", str(WUXI))
    assert code == 1
    assert (
        "assessments.csv has no drg_assessment score for 2024 for 1 hospital(s) with cases: H0005"
        in out
    )


def test_a_period_without_cases(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "validate", "--data", str(SAMPLE), "--policy", str(WUXI), "--period", "2030"
    )
    assert code == 1
    assert "no case discharged in 2030; the data covers 2024-01 … 2024-12" in out
    assert "wuxi 2024 is in force from 2024-01-01 to 2024-12-31, but period 2030" in out


def test_a_missing_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = copy_of_sample(tmp_path)
    (folder / "groups.csv").unlink()
    code, out, _ = run(capsys, "validate", "--data", str(folder))
    assert code == 1
    assert f"  groups file not found in {folder}; expected groups.csv or groups.parquet\n" in out


def test_a_period_that_is_none_is_refused_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    """`--period 2024-13` was a traceback (a PolicyError raised inside argparse's type)."""
    policy = str(POLICIES / "xuancheng" / "2024.policy")
    code, _, err = run(
        capsys, "validate", "--data", str(SAMPLE), "--policy", policy, "--period", "2024-13"
    )
    assert code == 1 and "period `2024-13`: write a year (2024)" in err, err

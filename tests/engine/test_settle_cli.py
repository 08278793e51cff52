"""`drgpolicy settle` / `explain` / `sample` from the command line: outputs, errors, atomicity."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from engine.commands.settle import Job, report_missing
from engine.run.settle import load_policy
from tests.conftest import POLICIES, SAMPLE
from tests.conftest import run_cli as run

XUANCHENG = str(POLICIES / "xuancheng" / "2024.policy")


def test_settle_writes_every_output_and_accounts_for_every_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys,
        "settle",
        "--policy",
        XUANCHENG,
        "--data",
        str(SAMPLE),
        "--period",
        "2024-03",
        "--out",
        str(tmp_path / "out"),
    )
    assert code == 0
    assert "xuancheng" in out and "2024-03" in out
    files = {p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.*")}
    assert files == {
        "indicators.csv",
        "manifest.json",
        "report.html",
        "rejects.csv",
        "settlement/cases.csv",
        "settlement/hospitals.csv",
        "settlement/summary.csv",
    }
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    rows = manifest["rows"]["cases"]
    assert rows["read"] == 20000 == rows["settled"] + rows["rejected"] + rows["outside_period"]
    march = (
        pl.read_csv(SAMPLE / "cases.csv")
        .filter(pl.col("discharge_date").str.starts_with("2024-03"))
        .height
    )
    assert rows["settled"] == march
    assert f"{rows['read']} case rows read = {rows['settled']} settled" in err
    cases = pl.read_csv(tmp_path / "out" / "settlement" / "cases.csv", infer_schema=False)
    assert cases.height == march
    assert cases["payment"].str.contains(r"^-?\d+\.\d{2}$").all()
    # the policy is named once, in the manifest, not on every row
    assert manifest["policy"]["hash"] == load_policy(XUANCHENG).hash
    assert not [c for c in cases.columns if c.startswith("policy_")]


def test_settle_writes_parquet_on_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = ["--policy", XUANCHENG, "--data", str(SAMPLE), "--period", "2024-03", "--out", str(out)]
    code, _, _ = run(capsys, "settle", *args, "--format", "parquet")
    assert code == 0
    files = {p.relative_to(out).as_posix() for p in out.rglob("*.*")}
    assert files == {
        "indicators.parquet",
        "manifest.json",
        "report.html",
        "rejects.parquet",
        "settlement/cases.parquet",
        "settlement/hospitals.parquet",
        "settlement/summary.parquet",
    }
    cases = pl.read_parquet(out / "settlement" / "cases.parquet")
    summary = pl.read_parquet(out / "settlement" / "summary.parquet")
    assert cases.schema["payment"] == pl.Decimal(38, 2)
    assert cases["payment"].sum() == summary["payment"][0]  # exact decimals add up exactly
    # the policy and period in each file's own metadata, once, not on every row
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for name in (f for f in files if f.endswith(".parquet")):
        metadata = pl.read_parquet_metadata(out / name)
        assert metadata["drgpolicy.policy_hash"] == manifest["policy"]["hash"], name
        assert metadata["drgpolicy.policy_city"] == "xuancheng"
        assert metadata["drgpolicy.period"] == "2024-03"
    assert not [c for c in cases.columns if c.startswith("policy_")]
    with pytest.raises(SystemExit) as refused:
        run(capsys, "settle", *args, "--format", "xls")
    assert refused.value.code == 2
    assert "invalid choice: 'xls' (choose from 'csv', 'parquet', 'xlsx')" in capsys.readouterr().err


def test_a_bad_file_fails_clearly_and_leaves_previous_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    out = tmp_path / "out"
    assert (
        run(
            capsys,
            "settle",
            "--policy",
            XUANCHENG,
            "--data",
            str(data),
            "--period",
            "2024",
            "--out",
            str(out),
        )[0]
        == 0
    )
    before = {p: p.read_bytes() for p in out.rglob("*.*")}
    (data / "groups.csv").write_text("drg_code,name\nGB15,x\n", encoding="utf-8")
    code, _, err = run(
        capsys,
        "settle",
        "--policy",
        XUANCHENG,
        "--data",
        str(data),
        "--period",
        "2024",
        "--out",
        str(out),
    )
    assert code == 1
    assert "groups.csv" in err and "weight" in err
    assert {p: p.read_bytes() for p in out.rglob("*.*")} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_missing_data_folder_and_bad_period_are_clear_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys,
        "settle",
        "--policy",
        XUANCHENG,
        "--data",
        str(tmp_path / "none"),
        "--period",
        "2024",
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 1 and "does not exist" in err and "budget.yaml" in err
    code, _, err = run(
        capsys,
        "settle",
        "--policy",
        XUANCHENG,
        "--data",
        str(SAMPLE),
        "--period",
        "2024-13",
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 1 and "2024-03" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("period", ["0000", "0000-03", "0000-Q1"])
def test_a_period_in_year_0_is_refused_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], period: str
) -> None:
    """No calendar has a year 0: a traceback on main (`ValueError: year 0 is out of range`)."""
    argv = ["--data", str(SAMPLE), "--period", period, "--out", str(tmp_path / "o")]
    code, _, err = run(capsys, "settle", "--policy", XUANCHENG, *argv)
    assert code == 1 and f"period `{period}`: write a year (2024)" in err, err
    assert not (tmp_path / "o").exists()


def test_rejected_rows_are_listed_with_file_row_field_and_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    cases = pl.read_csv(data / "cases.csv", infer_schema=False)
    cases = cases.with_columns(
        pl.when(pl.int_range(pl.len()) == 4)
        .then(pl.lit("-5"))
        .otherwise(pl.col("total_cost"))
        .alias("total_cost")
    )
    cases.write_csv(data / "cases.csv")
    out = tmp_path / "out"
    assert (
        run(
            capsys,
            "settle",
            "--policy",
            XUANCHENG,
            "--data",
            str(data),
            "--period",
            "2024",
            "--out",
            str(out),
        )[0]
        == 0
    )
    rejects = pl.read_csv(out / "rejects.csv", infer_schema=False)
    assert rejects.rows() == [
        ("cases.csv", "5", cases["case_id"][4], "total_cost", rejects["reason"][0], "-5")
    ]
    assert "negative" in rejects["reason"][0]


def test_fix_and_set_change_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(
        capsys,
        "settle",
        "--policy",
        XUANCHENG,
        "--data",
        str(SAMPLE),
        "--period",
        "2024-01",
        "--out",
        str(tmp_path / "o"),
        "--fix",
        "point_value=10",
        "--set",
        "low_ratio_grassroots=35%",
    )
    assert code == 0
    cases = pl.read_csv(tmp_path / "o" / "settlement" / "cases.csv")
    assert (cases["point_value"] == 10).all()
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["overrides"] == {
        "definitions": {"point_value": 10.0},
        "params": {"low_ratio_grassroots": 0.35},
    }
    assert (
        run(
            capsys,
            "settle",
            "--policy",
            XUANCHENG,
            "--data",
            str(SAMPLE),
            "--period",
            "2024",
            "--out",
            str(tmp_path / "o"),
            "--set",
            "oops",
        )[0]
        == 1
    )


def test_explain_prints_the_trace(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "explain",
        "--case",
        "C000004",
        "--policy",
        XUANCHENG,
        "--data",
        str(SAMPLE),
        "--period",
        "2024",
    )
    assert code == 0
    assert out.startswith("Case C000004 under xuancheng 2024")
    assert "category = " in out and "payment = " in out and "✓" in out
    code, out, _ = run(
        capsys,
        "explain",
        "--case",
        "C000004",
        "--policy",
        XUANCHENG,
        "--data",
        str(SAMPLE),
        "--period",
        "2024",
        "--json",
    )
    trace = json.loads(out)
    assert trace["case_id"] == "C000004"
    assert {s["name"] for s in trace["steps"]} >= {"category", "case_points", "payment"}
    code, _, err = run(
        capsys,
        "explain",
        "--case",
        "NOPE",
        "--policy",
        XUANCHENG,
        "--data",
        str(SAMPLE),
        "--period",
        "2024",
    )
    assert code == 1 and "NOPE" in err


def test_explain_shows_only_the_steps_that_lead_to_the_payment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The trace opened with the indicator library's `grouped` and `died`, which no step of the
    payment reads; a definition fixed from outside (`--fix`) stays where the payment reads it, and
    what it would have read goes (`stable_group` is read only by `category`)."""
    argv = ["--case", "C000004", "--policy", XUANCHENG, "--data", str(SAMPLE), "--period", "2024"]
    code, out, _ = run(capsys, "explain", *argv)
    assert code == 0
    assert out.splitlines()[3].startswith("benchmark_cost = ")
    first = {line.split(" = ")[0] for line in out.splitlines() if not line.startswith(" ")}
    assert "grouped" not in first and "died" not in first and "stable_group" in first
    code, out, _ = run(capsys, "explain", *argv, "--json")
    names = [s["name"] for s in json.loads(out)["steps"]]
    assert "grouped" not in names and "died" not in names
    assert {"category", "stable_group", "case_points", "point_value", "payment"} <= set(names)
    code, out, _ = run(capsys, "explain", *argv, "--json", "--fix", "category=high")
    steps = {s["name"]: s for s in json.loads(out)["steps"]}
    assert steps["category"]["source"] == "fixed" and "stable_group" not in steps
    assert "payment" in steps


def test_explain_names_the_stages_for_a_stage_the_policy_has_not(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--stage nope` was a KeyError traceback."""
    argv = ["--case", "C000004", "--policy", XUANCHENG, "--data", str(SAMPLE), "--period", "2024"]
    code, _, err = run(capsys, "explain", *argv, "--stage", "nope")
    assert code == 1 and "--stage nope: the policy has no such stage; its stages: settlement" in err


def test_sample_is_reproducible(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("a", "b"):
        assert (
            run(capsys, "sample", "--out", str(tmp_path / name), "--cases", "300", "--seed", "5")[0]
            == 0
        )
    for file in ("cases.csv", "hospitals.csv", "groups.csv", "budget.yaml"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


def test_the_summary_shows_the_year_ends_final_amount_and_clearing_due(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """At Wuxi's year end the cases' `payment` is the DRG payable (it closes to the budget); what
    the fund pays and what it still owes are the policy's own reports — the summary shows them
    with their labels, each equal to the summary.csv the run wrote."""
    out_dir = tmp_path / "out"
    wuxi = str(POLICIES / "wuxi" / "2024.policy")
    args = ("--policy", wuxi, "--data", str(SAMPLE), "--period", "2024", "--out", str(out_dir))
    code, out, _ = run(capsys, "settle", *args)
    assert code == 0
    written = pl.read_csv(out_dir / "year_end" / "summary.csv", infer_schema=False).row(
        0, named=True
    )
    assert written["payment"] == written["budget"]  # the payable, not the final amount
    for name, label in [
        ("total_year", "年度清算总额合计（最终支付）"),
        ("total_year_end_due", "年末清算应补合计（负数为应退）"),
    ]:
        line = next(row for row in out.splitlines() if f"({name})" in row)
        assert line.split()[:3] == ["wuxi", "2024", "year_end"] and label in line
        assert line.split()[-1] == f"{float(written[name]):,.2f}"
    assert "(tier_mismatches)" not in out  # a count, not money
    code, out, _ = run(capsys, "settle", *args, "--json")
    reports = {r["name"]: r["yuan"] for r in json.loads(out)["stages"][-1]["reports"]}
    assert reports["total_year_end_due"] == float(written["total_year_end_due"])
    monthly = json.loads(out)["stages"][0]
    assert monthly["stage"] == "monthly" and monthly["reports"] == []  # per month: summary.csv


def test_case_ids_a_failing_run_prints_are_shown_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The case ids settle prints for cases without outputs or paid below zero ("first: …",
    "drgpolicy explain --case …") are escaped as a reject shows them, whatever the contract let
    through: on fix28 a CR in an id was printed raw, and returned the cursor over the line."""
    job = Job(Path("p.policy"), None, None, "")  # type: ignore[arg-type]
    manifest = {
        "period": "2024",
        "missing_outputs": {"pay": {"payment": 1}},
        "missing_output_cases": {"pay": ["C1\rOK everything fine"]},
        "paid_below_zero": {"pay": {"cases": 1, "first": ["C2\x1b[2J"]}},
    }
    args = argparse.Namespace(out=tmp_path, data=tmp_path)
    assert report_missing(job, manifest, args)
    err = capsys.readouterr().err
    assert "first: C1\\u000dOK everything fine)" in err and "--case C2\\u001b[2J " in err
    assert not any(ord(char) < 0x20 and char != "\n" for char in err)


def test_explain_keeps_what_a_later_stage_reads_of_the_case(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Wuxi's monthly stage holds back a deposit from each case (`deposit`, a money column of
    the case's row of monthly/cases.csv, which the year end reads): the shortened trace had
    dropped it, though it is money of the case as settled."""
    argv = ["--case", "C000001", "--policy", str(POLICIES / "wuxi" / "2024.policy")]
    argv += ["--data", str(SAMPLE), "--period", "2024-01", "--stage", "monthly"]
    code, out, _ = run(capsys, "explain", *argv)
    assert code == 0
    assert "deposit = 514.81" in out and "grouped" not in out.split()

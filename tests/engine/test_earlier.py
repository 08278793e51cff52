"""A year's run that takes its monthly stage from the twelve monthly runs (`--earlier`): the
year end clears what the months actually paid, checked against sums read straight from the
monthly files; and the earlier runs are refused when they cannot stand for the year."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from engine.inputs.contract import file_sha256
from engine.inputs.earlier import EarlierError, load_earlier, read_later
from engine.inputs.rundata import Period
from engine.run.outputs import write_outputs
from engine.run.settle import load_data, load_policy, settle
from tests.conftest import POLICIES, SAMPLE, run_cli

WUXI_FILE = POLICIES / "wuxi" / "2024.policy"
WUXI = load_policy(WUXI_FILE)
MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]


@pytest.fixture(scope="module")
def months(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample settled month by month under Wuxi 2024, one output folder per month."""
    root = tmp_path_factory.mktemp("months")
    inputs = load_data(SAMPLE, WUXI)
    for month in MONTHS:
        write_outputs(settle(WUXI, inputs, Period.parse(month)), root / month)
    return root


def copy_months(months: Path, to: Path) -> list[Path]:
    shutil.copytree(months, to)
    return [to / month for month in MONTHS]


def pay_month(folder: Path, cases: pl.DataFrame) -> None:
    """Write a month's cases file as a run that paid `cases` would have: the file, and its
    sha256 in the month's manifest (a file changed without it is refused, tested below)."""
    path = folder / "monthly" / "cases.csv"
    cases.write_csv(path)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["outputs"]["monthly/cases.csv"] = file_sha256(path)
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def earlier_args(folders: list[Path]) -> list[str]:
    return [arg for folder in folders for arg in ("--earlier", str(folder))]


def test_the_year_end_reads_the_monthly_values_later_stages_need() -> None:
    assert read_later(WUXI, "monthly") == ["payment", "deposit"]


def test_the_year_end_clears_what_the_months_paid(
    months: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folders = copy_months(months, tmp_path / "months")
    march = folders[2] / "monthly" / "cases.csv"
    cases = pl.read_csv(march, infer_schema=False)
    # what March actually paid differs from what the year's data gives: one case was paid
    # 100.00 more, one case of the year's data was never paid (left out of March's file)
    bumped, unpaid = cases["case_id"][0], cases["case_id"][1]
    cases = cases.with_columns(
        pl.when(pl.col("case_id") == bumped)
        .then((pl.col("payment").cast(pl.Float64) + 100).round(2).cast(pl.String))
        .otherwise(pl.col("payment"))
        .alias("payment")
    ).filter(pl.col("case_id") != unpaid)
    pay_month(folders[2], cases)

    out = tmp_path / "year"
    code, _, err = run_cli(
        capsys,
        "settle",
        "--policy",
        str(WUXI_FILE),
        "--data",
        str(SAMPLE),
        "--period",
        "2024",
        "--out",
        str(out),
        *earlier_args(folders),
    )
    assert code == 0, err
    assert (
        "stage monthly taken from 12 earlier runs: 19999 cases paid, 0 of them not in this "
        "data, 1 cases of this data paid in no month"
    ) in err
    # deductions.csv: the deduction rows of the year (Wuxi reads audit_deduction)
    assert sorted(p.name for p in out.iterdir()) == [
        "deductions.csv",
        "indicators.csv",
        "manifest.json",
        "rejects.csv",
        "report.html",
        "year_end",
    ]

    # the monthly payments per hospital, summed straight from the twelve files
    paid = (
        pl.concat(
            pl.read_csv(f / "monthly" / "cases.csv", infer_schema=False).select(
                "hospital_id", pl.col("payment").cast(pl.Float64)
            )
            for f in folders
        )
        .group_by("hospital_id")
        .agg((pl.col("payment").sum() * 100).round().cast(pl.Int64).alias("paid_fen"))
    )
    statement = pl.read_csv(out / "year_end" / "hospitals.csv", infer_schema=False)
    got = statement.select(
        "hospital_id",
        (pl.col("monthly_paid").cast(pl.Float64) * 100).round().cast(pl.Int64).alias("paid_fen"),
        (pl.col("year_total").cast(pl.Float64) * 100).round().cast(pl.Int64).alias("total"),
        (pl.col("year_end_due").cast(pl.Float64) * 100).round().cast(pl.Int64).alias("due"),
    ).join(paid, on="hospital_id", suffix="_files")
    assert got.height == statement.height
    assert (got["paid_fen"] == got["paid_fen_files"]).all()
    assert (got["due"] == got["total"] - got["paid_fen"]).all()

    # against the run that settles the months again: the bumped hospital was paid 100.00
    # more, the unpaid case's hospital its monthly payment less
    full = tmp_path / "full"
    assert (
        run_cli(
            capsys,
            "settle",
            "--policy",
            str(WUXI_FILE),
            "--data",
            str(SAMPLE),
            "--period",
            "2024",
            "--out",
            str(full),
        )[0]
        == 0
    )
    again = pl.read_csv(full / "year_end" / "hospitals.csv", infer_schema=False)
    before = dict(again.select("hospital_id", "monthly_paid").iter_rows())
    after = dict(statement.select("hospital_id", "monthly_paid").iter_rows())
    original = pl.read_csv(months / "2024-03" / "monthly" / "cases.csv", infer_schema=False)
    row = {r["case_id"]: r for r in original.iter_rows(named=True)}
    change = {h: round(float(after[h]) - float(before[h]), 2) for h in before}
    expected: dict[str, float] = {}
    for case, delta in ((bumped, 100.0), (unpaid, -float(row[unpaid]["payment"]))):
        hospital = row[case]["hospital_id"]
        expected[hospital] = round(expected.get(hospital, 0.0) + delta, 2)
    assert {h: d for h, d in change.items() if d} == {h: d for h, d in expected.items() if d}

    manifest = json.loads((out / "manifest.json").read_text())
    assert [r["period"] for r in manifest["earlier"]["runs"]] == MONTHS
    assert manifest["earlier"]["stages"]["monthly"] == {
        "cases_taken": 19999,
        "paid_not_in_data": 0,
        "not_paid": 1,
    }
    year_inputs = manifest["inputs"]
    assert all(r["inputs"] == year_inputs for r in manifest["earlier"]["runs"])
    assert manifest["earlier"]["other_inputs"] == {} and "another" not in err


def test_a_month_that_read_another_file_is_named(
    months: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """March was paid on a deductions.csv corrected since: the year's manifest recorded each
    month's output hash, period and policy, not the files it read — nothing said so."""
    folders = copy_months(months, tmp_path / "months")
    data = tmp_path / "march"
    shutil.copytree(SAMPLE, data)
    deductions = data / "deductions.csv"
    text = deductions.read_text(encoding="utf-8")
    deductions.write_text(text.replace("2623.35", "2632.35", 1), encoding="utf-8")
    shutil.rmtree(folders[2])
    write_outputs(settle(WUXI, load_data(data, WUXI), Period.parse("2024-03")), folders[2])

    out = tmp_path / "year"
    args = ["--policy", str(WUXI_FILE), "--data", str(SAMPLE), "--period", "2024"]
    code, _, err = run_cli(capsys, "settle", *args, "--out", str(out), *earlier_args(folders))
    assert code == 0, err
    assert (
        "note: 1 of the 12 earlier runs read another deductions.csv than this run (2024-03): "
        "the file corrected since they were paid, or their own extract"
    ) in err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["earlier"]["other_inputs"] == {"deductions.csv": ["2024-03"]}
    march = manifest["earlier"]["runs"][2]["inputs"]
    assert march["deductions.csv"] == file_sha256(deductions)
    assert march["deductions.csv"] != manifest["inputs"]["deductions.csv"]
    assert march["cases.csv"] == manifest["inputs"]["cases.csv"]


def test_parquet_outputs_can_be_taken_too(months: Path, tmp_path: Path) -> None:
    inputs = load_data(SAMPLE, WUXI)
    folders = []
    for month in MONTHS[:12]:
        folder = tmp_path / month
        write_outputs(settle(WUXI, inputs, Period.parse(month)), folder, "parquet")
        folders.append(folder)
    from_parquet = load_earlier(folders, WUXI, Period.parse("2024"))
    from_csv = load_earlier([months / m for m in MONTHS], WUXI, Period.parse("2024"))
    assert from_parquet.cases["monthly"].equals(from_csv.cases["monthly"])


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda fs: fs[:11], "must give each month of 2024 once (missing 2024-12)"),
        (lambda fs: [*fs, fs[0]], "given twice: 2024-01"),
        (lambda fs: [*fs[:11], fs[10]], "(missing 2024-12; given twice: 2024-11)"),
    ],
)
def test_the_months_must_be_the_years_twelve(months: Path, change: object, words: str) -> None:
    folders = change([months / m for m in MONTHS])  # type: ignore[operator]
    with pytest.raises(EarlierError) as refused:
        load_earlier(folders, WUXI, Period.parse("2024"))
    assert words in str(refused.value)


def test_earlier_runs_that_cannot_stand_for_the_year_are_refused(
    months: Path, tmp_path: Path
) -> None:
    folders = copy_months(months, tmp_path / "m")
    year = Period.parse("2024")
    with pytest.raises(EarlierError, match="takes the months of a year's run"):
        load_earlier(folders, WUXI, Period.parse("2024-03"))
    xuancheng = load_policy(POLICIES / "xuancheng" / "2024.policy")
    with pytest.raises(EarlierError, match="has no `per month` stage"):
        load_earlier(folders, xuancheng, year)
    manifest = folders[0] / "manifest.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps(data | {"policy": data["policy"] | {"city": "suzhou"}}))
    with pytest.raises(EarlierError, match="settled suzhou, not wuxi"):
        load_earlier(folders, WUXI, year)
    manifest.write_text(json.dumps(data))
    (folders[1] / "manifest.json").unlink()
    with pytest.raises(EarlierError, match="not the output of a `drgpolicy settle` run"):
        load_earlier(folders, WUXI, year)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_month_changed_after_its_run_is_refused(
    months: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    """One payment of March raised by 100,000.00 in the file after the run: the year end would
    clear it as paid (and owe that much less); the file is not the one the run wrote, so the
    year's run is refused before anything is written."""
    folders = copy_months(months, tmp_path / "m")
    if fmt == "parquet":
        inputs = load_data(SAMPLE, WUXI)
        write_outputs(settle(WUXI, inputs, Period.parse("2024-03")), folders[2], "parquet")
    march = folders[2] / "monthly" / f"cases.{fmt}"
    cases = pl.read_csv(march) if fmt == "csv" else pl.read_parquet(march)
    raised = cases.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.col("payment") + 100_000).otherwise("payment")
    )
    if fmt == "csv":
        raised.write_csv(march)
    else:
        raised.write_parquet(march)
    out = tmp_path / "year"
    year = ("settle", "--policy", str(WUXI_FILE), "--data", str(SAMPLE), "--period", "2024")
    code, _, err = run_cli(capsys, *year, "--out", str(out), *earlier_args(folders))
    assert code == 1 and not out.exists()
    assert (
        f"--earlier {folders[2]}: {march} is not the file that run wrote (its sha256 is not the "
        "one its manifest.json gives)"
    ) in err


def test_a_month_without_a_value_the_year_end_reads_is_refused(
    months: Path, tmp_path: Path
) -> None:
    folders = copy_months(months, tmp_path / "m")
    may = folders[4] / "monthly" / "cases.csv"
    pay_month(folders[4], pl.read_csv(may, infer_schema=False).drop("deposit"))
    with pytest.raises(EarlierError, match=r"2024-05/monthly/cases.csv has no column deposit"):
        load_earlier(folders, WUXI, Period.parse("2024"))


def test_a_case_paid_in_two_months_is_refused(months: Path, tmp_path: Path) -> None:
    folders = copy_months(months, tmp_path / "m")
    jan, feb = (f / "monthly" / "cases.csv" for f in folders[:2])
    first = pl.read_csv(jan, infer_schema=False).head(1)
    pay_month(folders[1], pl.concat([pl.read_csv(feb, infer_schema=False), first]))
    with pytest.raises(
        EarlierError, match=rf"1 case\(s\) were paid in two months \({first['case_id'][0]}"
    ):
        load_earlier(folders, WUXI, Period.parse("2024"))


def test_the_cli_refuses_earlier_runs_with_a_policy_folder(
    months: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(
        capsys,
        "settle",
        "--policy",
        str(POLICIES),
        "--data",
        str(SAMPLE),
        "--period",
        "2024",
        "--out",
        str(tmp_path / "out"),
        "--earlier",
        str(months / "2024-01"),
    )
    assert code == 1
    assert "--earlier takes the runs of one policy: give one .policy file" in err
    assert not (tmp_path / "out").exists()


def test_a_month_of_another_format_or_that_recorded_no_inputs_is_named() -> None:
    """Compared by file name, a month that read cases.parquet (the year cases.csv) or whose
    manifest recorded no inputs (settled before runs recorded them) was not named (rev29 F6)."""
    from types import SimpleNamespace
    from typing import Any, cast

    from engine.inputs.earlier import Earlier

    year = {"cases.csv": "a", "deductions.csv": "d"}
    runs: list[Any] = [
        SimpleNamespace(month="2024-01", inputs={"cases.csv": "a", "deductions.csv": "d"}),
        SimpleNamespace(month="2024-02", inputs={"cases.parquet": "p", "deductions.csv": "d"}),
        SimpleNamespace(month="2024-03", inputs={}),
    ]
    earlier = Earlier(cast(Any, runs), {})
    assert earlier.other_inputs(year) == {
        "cases.csv": ["2024-02", "2024-03"],
        "deductions.csv": ["2024-03"],
    }

"""Outputs an analyst can open: hospital names, values to the decimals of their type (no float
noise), Chinese headers and class names (`--labels zh`), one Excel workbook (`--format xlsx`) —
each read back equal to the CSV outputs, money to the fen."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from engine.inputs.earlier import EarlierError, load_earlier
from engine.inputs.rundata import Period
from engine.run import xlsx
from engine.run.decimals import rounded
from engine.run.output_labels import by_name
from engine.run.settle import load_policy
from tests.conftest import POLICIES, SAMPLE
from tests.conftest import run_cli as run

XUANCHENG = POLICIES / "xuancheng" / "2024.policy"
WUXI = POLICIES / "wuxi" / "2024.policy"
STAGE_TABLES = ("cases", "hospitals", "summary")
MONEY = ("payment", "patient_paid", "fund_payment", "total_cost", "budget", "amount")


def settle(capsys: pytest.CaptureFixture[str], policy: Path, out: Path, *more: str) -> None:
    args = ["--policy", str(policy), "--data", str(SAMPLE), "--period", "2024", "--out", str(out)]
    code, _, err = run(capsys, "settle", *args, "--quiet", *more)
    assert code == 0, err


@pytest.fixture(scope="module")
def wuxi_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Wuxi 2024 (stages, deductions) settled once per way of writing its outputs."""
    from engine.cli import main

    root = tmp_path_factory.mktemp("wuxi")
    ways = {
        "csv": [],
        "zh": ["--labels", "zh"],
        "xlsx": ["--format", "xlsx"],
        "xlsx-zh": ["--format", "xlsx", "--labels", "zh"],
    }
    for name, more in ways.items():
        args = ["settle", "--policy", str(WUXI), "--data", str(SAMPLE), "--period", "2024"]
        assert main([*args, "--out", str(root / name), "--quiet", *more]) == 0
    return {name: root / name for name in ways}


def csv_tables(folder: Path) -> dict[str, pl.DataFrame]:
    return {
        path.relative_to(folder).as_posix(): pl.read_csv(path, infer_schema=False)
        for path in sorted(folder.rglob("*.csv"))
    }


# ---- hospital names and decimals ------------------------------------------------------------


def test_hospital_names_come_from_the_hospitals_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settle(capsys, XUANCHENG, tmp_path / "out")
    statement = pl.read_csv(tmp_path / "out" / "settlement" / "hospitals.csv", infer_schema=False)
    assert statement.columns[:3] == ["hospital_id", "hospital_name", "level"]
    given = pl.read_csv(SAMPLE / "hospitals.csv", infer_schema=False).select("hospital_id", "name")
    joined = statement.join(given, on="hospital_id")
    assert joined.height == statement.height == given.height
    assert (joined["hospital_name"] == joined["name"]).all()
    assert (
        joined.filter(pl.col("hospital_id") == "H0001")["hospital_name"][0] == "示范市第一人民医院"
    )


def test_values_are_written_to_the_decimals_of_their_type(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settle(capsys, XUANCHENG, tmp_path / "out")
    cases = pl.read_csv(tmp_path / "out" / "settlement" / "cases.csv", infer_schema=False)
    # C000001 is in WE63, weight 0.8845: 0.8845 × 100 = 88.45 base points (88.44999999999999
    # as computed in double precision)
    assert cases.filter(pl.col("case_id") == "C000001")["base_points"][0] == "88.45"
    places = {"base_points": 4, "case_points": 4, "settled_points": 4, "coefficient": 4}
    places |= {"point_value": 6, "payment": 2}
    for column, most in places.items():
        decimals = cases[column].str.split(".").list.get(1, null_on_oob=True).str.len_chars()
        assert decimals.fill_null(0).max() <= most, column
    summary = pl.read_csv(tmp_path / "out" / "settlement" / "summary.csv", infer_schema=False)
    assert summary["point_value"][0] == "118.463631"  # 332,771,895.00 元 ÷ 2,809,063.7904 points


def test_rounding_is_half_away_from_zero_by_type_and_spares_what_a_later_stage_reads() -> None:
    frame = pl.DataFrame(
        {
            "base_points": [88.44999999999999, 12.345651],
            "coefficient": [0.98765, -0.98765],
            "point_value": [11.8393425, 1.0],
            "deposit": [0.123456789, 2.0],
            "payable": [1234.5678, 1.0],  # money: written to the fen by the writer, not here
            "cases": [3, 4],
            "paid_cases": [2.5, -2.5],  # a count written as a float: 0 decimals
        }
    )
    types = {"base_points": "points", "coefficient": "ratio", "point_value": "point_value"}
    types |= {"paid_cases": "count"}
    got = rounded(frame, types | {"payable": "money"}, as_computed=["deposit"])
    assert got["base_points"].to_list() == [88.45, 12.3457]
    assert got["coefficient"].to_list() == [0.9877, -0.9877]
    assert got["point_value"].to_list() == [11.839343, 1.0]
    assert got["deposit"].to_list() == [0.123456789, 2.0]
    assert got["payable"].to_list() == [1234.5678, 1.0]
    assert got["cases"].to_list() == [3, 4]
    assert got["paid_cases"].to_list() == [3.0, -3.0]  # half away from zero


# ---- Chinese labels -------------------------------------------------------------------------


def test_chinese_outputs_read_back_equal_the_csv_outputs(wuxi_runs: dict[str, Path]) -> None:
    english, chinese = csv_tables(wuxi_runs["csv"]), csv_tables(wuxi_runs["zh"])
    assert set(english) == set(chinese)
    manifest = json.loads((wuxi_runs["zh"] / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["labels"] == "zh"
    policy = load_policy(WUXI)
    for name, expected in english.items():
        got = by_name(chinese[name], manifest["headers"][name], policy)
        assert got.columns == expected.columns, name
        assert got.equals(expected), name  # every value, money to the fen, as text


def test_chinese_headers_and_class_names_are_the_policys_labels(
    wuxi_runs: dict[str, Path],
) -> None:
    cases = pl.read_csv(wuxi_runs["zh"] / "year_end" / "cases.csv", infer_schema=False)
    english = pl.read_csv(wuxi_runs["csv"] / "year_end" / "cases.csv", infer_schema=False)
    category = "病例类型（月度结算规则）"  # the label of Wuxi's `classify category`
    assert cases.columns[:5] == ["病例号", "医疗机构编码", "病组编码", "结算月份", category]
    assert "基金支付" in cases.columns and "个人负担" in cases.columns
    labels = dict(zip(english["category"], cases[category], strict=True))
    assert labels["normal"] == "正常病例"
    assert labels["high"] == "高费用病例"
    statement = pl.read_csv(wuxi_runs["zh"] / "year_end" / "hospitals.csv", infer_schema=False)
    assert {"医疗机构名称", "正常病例数", "年度清算总额"} <= set(statement.columns)
    assert len(set(statement.columns)) == len(statement.columns)  # every header once


def test_a_year_run_refuses_months_written_for_people(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    month = tmp_path / "2024-01"
    args = ["--policy", str(WUXI), "--data", str(SAMPLE), "--period", "2024-01"]
    assert run(capsys, "settle", *args, "--out", str(month), "--labels", "zh", "--quiet")[0] == 0
    with pytest.raises(EarlierError, match="--labels zh or --format xlsx"):
        load_earlier([month], load_policy(WUXI), Period.parse("2024"))


# ---- the workbook ---------------------------------------------------------------------------


def sheets(path: Path) -> dict[str, pl.DataFrame]:
    import fastexcel

    reader = fastexcel.read_excel(path)
    return {
        name: pl.read_excel(path, sheet_name=name, infer_schema_length=0)
        for name in reader.sheet_names
    }


def same_as_written(got: pl.DataFrame, expected: pl.DataFrame, name: str) -> None:
    """A sheet equals its CSV table: money to the fen, text as text, numbers as numbers."""
    assert got.columns == expected.columns, name
    assert got.height == expected.height, name
    for column in expected.columns:
        a, b = got[column].fill_null(""), expected[column].fill_null("")
        if column in MONEY or column.startswith(("month_", "year_", "total_", "drg_", "deposit")):
            fen = [_fen(x) for x in a] == [_fen(x) for x in b]
            assert fen, (name, column)
        elif column == "date":  # a date cell, read back with its time of day
            assert [x[:10] for x in a] == b.to_list(), (name, column)
        elif a.to_list() != b.to_list():
            numbers = [float(x) if x else None for x in a], [float(x) if x else None for x in b]
            assert numbers[0] == numbers[1], (name, column)


def _fen(text: str) -> int | str:
    try:
        return int((Decimal(text) * 100).to_integral_value())
    except ArithmeticError:
        return text


def test_the_workbook_reads_back_equal_to_the_csv_outputs(wuxi_runs: dict[str, Path]) -> None:
    folder = wuxi_runs["xlsx"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["outputs"]) == {"settlement.xlsx", "report.html"}
    data = (folder / "settlement.xlsx").read_bytes()
    assert manifest["outputs"]["settlement.xlsx"] == hashlib.sha256(data).hexdigest()
    found = sheets(folder / "settlement.xlsx")
    english = csv_tables(wuxi_runs["csv"])
    tables = ["rejects", "deductions", "indicators"]
    tables += [f"{stage}/{t}" for stage in ("monthly", "year_end") for t in STAGE_TABLES]
    names = {t.replace("/", " "): f"{t}.csv" for t in tables}
    assert list(found) == list(names)  # one sheet per table
    assert set(names.values()) == set(english)
    for sheet, file in names.items():
        same_as_written(found[sheet], english[file], sheet)


def test_the_chinese_workbook_names_its_sheets_in_chinese(wuxi_runs: dict[str, Path]) -> None:
    found = sheets(wuxi_runs["xlsx-zh"] / "settlement.xlsx")
    assert list(found) == [
        "拒收记录",
        "扣款",
        "监测指标",
        "月度 DRG 结算 病例",
        "月度 DRG 结算 医疗机构",
        "月度 DRG 结算 汇总",
        "年末清算 病例",
        "年末清算 医疗机构",
        "年末清算 汇总",
    ]
    chinese = csv_tables(wuxi_runs["zh"])
    same_as_written(found["年末清算 病例"], chinese["year_end/cases.csv"], "cases")


def test_the_workbook_is_byte_reproducible(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("a", "b"):
        settle(capsys, XUANCHENG, tmp_path / name, "--format", "xlsx")
    first, second = ((tmp_path / n / "settlement.xlsx").read_bytes() for n in ("a", "b"))
    assert first == second


def test_a_table_longer_than_a_sheet_goes_on_in_numbered_sheets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx, "SHEET_ROWS", 4)
    cases = pl.DataFrame(
        {"case_id": [f"C{i}" for i in range(10)], "points": [i / 4 for i in range(10)]}
    )
    path = tmp_path / "book.xlsx"
    with path.open("wb") as file:
        xlsx.write_workbook({"cases": cases, "summary": cases.head(1)}, file)
    found = sheets(path)
    assert list(found) == ["cases", "cases (2)", "cases (3)", "summary"]
    assert [f.height for f in found.values()] == [4, 4, 2, 1]
    back = pl.concat([found[n] for n in ("cases", "cases (2)", "cases (3)")])
    assert back["case_id"].to_list() == cases["case_id"].to_list()
    assert back["points"].cast(pl.Float64).to_list() == cases["points"].to_list()


def test_text_that_looks_like_a_formula_or_a_link_stays_text(tmp_path: Path) -> None:
    """A hostile case file's ids reach the workbook as text: no formula for Excel to run, no
    link to follow (XlsxWriter's defaults would make both)."""
    hostile = ["=1+1", "=cmd|' /C calc'!A0", "+SUM(1,2)", "@SUM(1)", "http://evil.example/x"]
    path = tmp_path / "book.xlsx"
    with path.open("wb") as file:
        xlsx.write_workbook({"cases": pl.DataFrame({"case_id": hostile})}, file)
    with zipfile.ZipFile(path) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        assert not any(name.endswith(".rels") and "sheet" in name for name in book.namelist())
    assert "<f>" not in sheet and "<hyperlink" not in sheet
    assert sheets(path)["cases"]["case_id"].to_list() == hostile


def test_sheet_names_keep_to_what_excel_accepts() -> None:
    assert xlsx.sheet_name("monthly/cases: [a]*?") == "monthly_cases_ _a___"
    assert len(xlsx.sheet_name("年" * 40)) == 31


def test_the_outputs_are_refused_in_a_folder_of_other_files_whatever_the_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    args = ["--policy", str(XUANCHENG), "--data", str(SAMPLE), "--period", "2024"]
    code, _, err = run(capsys, "settle", *args, "--out", str(out), "--format", "xlsx")
    assert code == 1 and "holds other files" in err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    shutil.rmtree(out)

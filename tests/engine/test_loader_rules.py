"""One loader rule for CSV and Parquet (issue 10): duplicate columns, Float32 money, text trimmed,
rows that do not fit the header, GBK, Excel — and the plausible bounds of every numeric field."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import polars as pl
import pytest

from engine.inputs import reading
from engine.inputs.contract import ContractError, load_inputs
from engine.inputs.fields import TABLES
from engine.run.settle import load_data, load_policy
from tests.conftest import POLICIES, SAMPLE, run_cli
from tests.engine.test_contract import GROUPS, HOSPITALS, case, csv_text, write_inputs

XUANCHENG = load_policy(POLICIES / "xuancheng" / "2024.policy")
WUXI = load_policy(POLICIES / "wuxi" / "2024.policy")


def _sample(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    return data


def _case_rejects(folder: Path) -> list[tuple[int, str, str]]:
    rejects = load_inputs(folder).rejects.filter(pl.col("file").str.starts_with("cases"))
    return list(rejects.select("row", "field", "reason").iter_rows())


# ---- columns --------------------------------------------------------------------------------


def test_a_csv_with_two_total_cost_columns_is_refused_with_both_positions(tmp_path: Path) -> None:
    text = csv_text([case("C1")]).splitlines()
    text = [text[0] + ",total_cost", text[1] + ",99999.00"]
    folder = write_inputs(tmp_path, [case("C1")])
    (folder / "cases.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(ContractError) as error:
        load_inputs(folder)
    assert error.value.message == (
        "cases.csv has two columns named total_cost (columns 4 and 16); the engine would not "
        "know which to read: keep one"
    )


def test_parquet_money_stored_as_float32_is_refused_showing_two_decimals(tmp_path: Path) -> None:
    folder = write_inputs(tmp_path, [case("C1", total_cost="1234567.89")])
    frame = pl.read_csv(folder / "cases.csv", infer_schema=False)
    (folder / "cases.csv").unlink()
    frame.with_columns(pl.col("total_cost").cast(pl.Float32)).write_parquet(
        folder / "cases.parquet"
    )
    with pytest.raises(ContractError) as error:
        load_inputs(folder)
    assert error.value.field == "total_cost"
    assert error.value.message == (
        "cases.parquet: total_cost is stored as Float32, which keeps about 7 digits, so amounts "
        "are not exact to the fen (the first, 1234567.88, is stored as 1234567.875); write money "
        "as Float64, a decimal (e.g. DECIMAL(18, 2)) or an integer"
    )


@pytest.mark.parametrize("backend", ["polars", "duckdb"])
@pytest.mark.parametrize(
    ("nested", "shown"),
    [
        (pl.concat_list("total_cost"), "List(Float64)"),
        (pl.struct(a="total_cost"), "Struct({'a': Float64})"),
    ],
)
def test_parquet_money_stored_as_a_list_or_struct_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], nested: pl.Expr, shown: str, backend: str
) -> None:
    """Several values in one cell. On main: a list was a polars traceback
    (`strict_cast(String)`) on polars and every row rejected on DuckDB; a struct every row
    rejected, shown differently by each engine."""
    data = _sample(tmp_path)
    cases = pl.read_csv(data / "cases.csv", schema_overrides={"case_id": pl.String})
    cases.with_columns(nested.alias("total_cost")).write_parquet(data / "cases.parquet")
    (data / "cases.csv").unlink()
    argv = ("settle", "--policy", str(POLICIES / "xuancheng" / "2024.policy"), "--period", "2024")
    out = tmp_path / "out"
    code, _, err = run_cli(
        capsys, *argv, "--backend", backend, "--data", str(data), "--out", str(out)
    )
    assert code == 1 and "Traceback" not in err
    assert err.endswith(
        f"\ncases.parquet: total_cost is stored as {shown}, several values in one cell, where "
        "each row holds one money value: write the column as a plain column of money values "
        "(engine/CONTRACT.md)\n"
    )
    assert not out.exists()


def test_parquet_money_as_decimal_integer_or_float64_is_read(tmp_path: Path) -> None:
    folder = write_inputs(tmp_path, [case("C1", total_cost="1234567.89")])
    frame = pl.read_csv(folder / "cases.csv", infer_schema=False)
    (folder / "cases.csv").unlink()
    for dtype, cost in ((pl.Decimal(18, 2), 1234567.89), (pl.Float64, 1234567.89)):
        frame.with_columns(pl.col("total_cost").cast(dtype)).write_parquet(folder / "cases.parquet")
        assert load_inputs(folder).cases["total_cost"].to_list() == [cost]
    frame.with_columns(pl.lit(1234567, pl.Int32).alias("total_cost")).write_parquet(
        folder / "cases.parquet"
    )
    assert load_inputs(folder).cases["total_cost"].to_list() == [1234567.0]


def test_parquet_text_is_trimmed_as_csv_text_is(tmp_path: Path) -> None:
    """`C000005` and `C000005 ` are one case id: both copies rejected, not two paid cases."""
    folder = write_inputs(tmp_path, [case("C000005"), case("C000005 ", hospital_id=" H0001")])
    frame = pl.read_csv(folder / "cases.csv", infer_schema=False)
    (folder / "cases.csv").unlink()
    frame.write_parquet(folder / "cases.parquet")
    inputs = load_inputs(folder)
    assert inputs.cases.height == 0
    assert (
        inputs.rejects["reason"].to_list()
        == [
            "case_id C000005 appears 2 times (rows 1, 2); every case must be unique — all copies "
            "rejected"
        ]
        * 2
    )


def test_parquet_text_already_trimmed_is_read_as_it_is_and_empty_text_is_missing(
    tmp_path: Path,
) -> None:
    """The loader takes a String column with nothing to trim as it is (`needs_trimming`); one
    empty text is enough for the column to be normalised: "" is a missing hospital, not an
    unknown one."""
    rows = [case("C1"), case("C2", hospital_id=""), case("C3", drg_code="  ")]
    folder = write_inputs(tmp_path, rows)
    frame = pl.read_csv(folder / "cases.csv", infer_schema=False)
    (folder / "cases.csv").unlink()
    frame.with_columns(pl.col("hospital_id").fill_null("")).write_parquet(folder / "cases.parquet")
    assert pl.read_parquet(folder / "cases.parquet")["hospital_id"][1] == ""  # empty, not null
    assert load_inputs(folder).cases["case_id"].to_list() == ["C1"]
    assert _case_rejects(folder) == [
        (2, "hospital_id", "hospital_id is missing; it is required"),
        (3, "drg_code", "drg_code is missing; it is required"),
    ]


# ---- rows that do not fit the header ----------------------------------------------------------


def test_a_row_with_too_many_fields_is_rejected_with_its_line_and_the_rest_loads(
    tmp_path: Path,
) -> None:
    folder = write_inputs(tmp_path, [case("C1"), case("C2"), case("C3")])
    lines = (folder / "cases.csv").read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("6543.21", "6,543.21")  # an unquoted thousands separator
    (folder / "cases.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    inputs = load_inputs(folder)
    assert inputs.cases["case_id"].to_list() == ["C1", "C3"]
    assert _case_rejects(folder) == [
        (
            2,
            "(row)",
            "row 2 (line 3 of the file) has 16 fields, the header has 15: its values would fall "
            'in the wrong columns; quote a value that holds a comma ("1,234.50")',
        )
    ]
    assert inputs.rows_read["cases"] == 3


def test_a_row_with_too_few_fields_is_rejected_even_when_only_an_optional_one_is_lost(
    tmp_path: Path,
) -> None:
    folder = write_inputs(tmp_path, [case("C1"), case("C2")])
    lines = (folder / "cases.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0]  # drg_suitable, the last field, lost
    (folder / "cases.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _case_rejects(folder) == [
        (
            1,
            "(row)",
            "row 1 (line 2 of the file) has 14 fields, the header has 15: its values would fall "
            'in the wrong columns; quote a value that holds a comma ("1,234.50")',
        )
    ]


def test_quoted_commas_and_empty_last_fields_are_counted_right(tmp_path: Path) -> None:
    rows = [case("C1", drg_suitable=""), case("C2", insurance_type="职工, 异地"), case("C3")]
    folder = write_inputs(tmp_path, rows)
    assert _case_rejects(folder) == []
    assert load_inputs(folder).cases["insurance_type"].to_list() == [
        "employee",
        "职工, 异地",
        "employee",
    ]


def test_a_value_spanning_lines_is_counted_by_records(tmp_path: Path) -> None:
    """C3's extra field is on row 3, not line 4; C2's line break is in a code (insurance_type),
    which holds none (a name, free text, does: `test_duckdb_validation`)."""
    rows = [case("C1", drg_suitable=""), case("C2", insurance_type="职工\n异地"), case("C3")]
    folder = write_inputs(tmp_path, rows)
    text = (folder / "cases.csv").read_text(encoding="utf-8")
    (folder / "cases.csv").write_text(text.replace("\nC3,", "\nC3,x,"), encoding="utf-8")
    assert [(row, field) for row, field, _ in _case_rejects(folder)] == [
        (2, "insurance_type"),
        (3, "(row)"),
    ]


# ---- encodings and Excel --------------------------------------------------------------------


def _gbk_hospitals(tmp_path: Path) -> Path:
    folder = write_inputs(tmp_path, [case("C1")])
    for name in ("hospitals.csv", "groups.csv"):
        text = (folder / name).read_text(encoding="utf-8")
        (folder / name).write_bytes(text.encode("gbk"))
    return folder


def test_a_gbk_file_is_named_as_gbk_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ContractError) as error:
        load_inputs(_gbk_hospitals(tmp_path))
    assert error.value.message == (
        "hospitals.csv is not UTF-8 but reads as GBK (GB18030), as Excel and many Chinese "
        "systems save it: line 2 has bytes that are not UTF-8 (b'\\xb7\\xb6'), which read as GBK "
        "give “H0001,示范市第一人民医院,3,A,false”. Save it as UTF-8, or read it as it is with "
        "--encoding gbk"
    )


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_utf16_file_is_named_as_utf16_with_the_fix(tmp_path: Path, encoding: str) -> None:
    """Excel's “Unicode 文本” is UTF-16 with a byte order mark. On mend30: `cases.csv could not
    be read as UTF8 (invalid start byte at byte 0)` — neither the encoding nor the fix said."""
    folder = write_inputs(tmp_path, [case("C1")])
    text = (folder / "cases.csv").read_text(encoding="utf-8")
    (folder / "cases.csv").write_bytes(("\ufeff" + text).encode(encoding))
    with pytest.raises(ContractError) as error:
        load_inputs(folder)
    assert error.value.message.startswith("cases.csv is UTF-16 (its first bytes are a UTF-16 ")
    assert "另存为 → CSV UTF-8（逗号分隔）(*.csv)" in error.value.message


@pytest.mark.parametrize(("encoding", "order"), [("utf-16-le", "little"), ("utf-16-be", "big")])
@pytest.mark.parametrize("name", ["cases.csv", "hospitals.csv"])
def test_a_utf16_file_without_a_bom_is_named_as_utf16(
    tmp_path: Path, encoding: str, order: str, name: str
) -> None:
    """UTF-16 without a byte order mark: its ASCII header is valid UTF-8 with a NUL after (or
    before) every letter. On main: `cases.csv has no column case_id … columns found:
    \\u0000c\\u0000a…`."""
    folder = write_inputs(tmp_path, [case("C1")])
    text = (folder / name).read_text(encoding="utf-8")
    (folder / name).write_bytes(text.encode(encoding))
    with pytest.raises(ContractError) as error:
        load_inputs(folder)
    assert error.value.message == (
        f"{name} is UTF-16 ({order}-endian, without a byte order mark: every other byte of its "
        "first line is 0), as Excel saves “Unicode 文本 (*.txt)”, which is also tab-separated: "
        "in Excel save it with 另存为 → CSV UTF-8（逗号分隔）(*.csv)"
    )


def test_the_first_byte_not_utf8_is_found_reading_the_file_in_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 10 GB GBK cases.csv must not be read whole to say where it stops being UTF-8 (on main
    `not_utf8` read every byte into memory): pieces of 5 bytes, a UTF-8 character cut by them is
    no bad byte, and the line and the GBK reading are the same as in one piece."""
    folder = _gbk_hospitals(tmp_path)
    file = folder / "hospitals.csv"
    text = file.read_bytes()
    file.write_bytes("名称\n示范\n".encode() + text)  # two UTF-8 lines, then GBK from line 4
    monkeypatch.setattr(reading, "PIECE", 5)
    monkeypatch.setattr(Path, "read_bytes", lambda _: pytest.fail("read whole"))
    assert reading.not_utf8(file) == (
        "hospitals.csv is not UTF-8 but reads as GBK (GB18030), as Excel and many Chinese "
        "systems save it: line 4 has bytes that are not UTF-8 (b'\\xb7\\xb6'), which read as GBK "
        "give “H0001,示范市第一人民医院,3,A,false”. Save it as UTF-8, or read it as it is with "
        "--encoding gbk"
    )


def test_a_gbk_file_is_read_when_asked(tmp_path: Path) -> None:
    inputs = load_inputs(_gbk_hospitals(tmp_path), encoding="gbk")
    assert inputs.hospitals["name"].to_list() == [h["name"] for h in HOSPITALS]
    assert sorted(inputs.groups["name"].to_list()) == sorted(g["name"] for g in GROUPS)


def test_a_file_that_is_not_gbk_either_is_refused_under_encoding_gbk(tmp_path: Path) -> None:
    folder = write_inputs(tmp_path, [case("C1")])  # UTF-8: its Chinese is not GBK
    with pytest.raises(ContractError, match=r"hospitals\.csv could not be read as GBK \(illegal"):
        load_inputs(folder, encoding="gbk")


def test_settle_reads_gbk_with_the_encoding_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _sample(tmp_path)
    for name in ("hospitals.csv", "groups.csv"):
        text = (data / name).read_text(encoding="utf-8")
        (data / name).write_bytes(text.encode("gb18030"))
    args = ["settle", "--policy", str(POLICIES / "xuancheng" / "2024.policy")]
    args += ["--data", str(data), "--period", "2024-03"]
    code, _, err = run_cli(capsys, *args, "--out", str(tmp_path / "a"))
    assert code == 1 and "--encoding gbk" in err and "Traceback" not in err
    code, _, err = run_cli(capsys, *args, "--out", str(tmp_path / "b"), "--encoding", "gbk")
    assert code == 0, err
    utf8 = run_cli(
        capsys,
        *args[:3],
        "--data",
        str(SAMPLE),
        "--period",
        "2024-03",
        "--out",
        str(tmp_path / "c"),
    )
    assert utf8[0] == 0
    for table in ("cases", "hospitals"):
        path = f"settlement/{table}.csv"
        assert (tmp_path / "b" / path).read_bytes() == (tmp_path / "c" / path).read_bytes()


def test_an_excel_workbook_gets_the_words_to_export_csv(tmp_path: Path) -> None:
    folder = write_inputs(tmp_path, [case("C1")])
    (folder / "groups.csv").rename(folder / "groups.xlsx")
    with pytest.raises(ContractError) as error:
        load_inputs(folder)
    assert error.value.file == "groups.xlsx"
    assert "groups.xlsx is an Excel workbook, which is not read" in error.value.message
    assert "save the sheet as groups.csv with 另存为 → CSV UTF-8" in error.value.message


def test_a_folder_of_parquet_parts_is_said_to_be_one(tmp_path: Path) -> None:
    """On main a Spark output folder `cases.parquet/` (parts, `_SUCCESS`) was "cases file not
    found … expected cases.csv or cases.parquet"."""
    folder = write_inputs(tmp_path, [case("C1")])
    parts = folder / "cases.parquet"
    parts.mkdir()
    pl.read_csv(folder / "cases.csv").write_parquet(parts / "part-00000.snappy.parquet")
    (parts / "_SUCCESS").touch()
    (folder / "cases.csv").unlink()
    with pytest.raises(ContractError) as error:
        load_inputs(folder)
    assert error.value.file == "cases.parquet"
    words = (
        f"cases.parquet in {folder} is a folder (of parts, as Spark writes a table), not one "
        "file: the engine reads one file per table; join the parts into one cases.parquet"
    )
    assert words in error.value.message


@pytest.mark.parametrize("name", ["deductions.csv", "hospitals.csv", "budget.yaml"])
@pytest.mark.parametrize("what", ["a link to nothing", "a pipe"])
def test_an_input_there_but_not_a_file_is_named_and_never_read_as_absent(
    tmp_path: Path, name: str, what: str
) -> None:
    """On main a deductions.csv that was a symbolic link to nothing or a pipe was taken for no
    deductions file: Wuxi's hospitals were paid without their deductions, exit 0. A
    hospitals.csv or budget.yaml so was "not found" in the folder that shows it."""
    data = _sample(tmp_path)
    (data / name).unlink()
    if what == "a pipe":
        os.mkfifo(data / name)
        words = f"{name} in {data} is a device or a pipe, not a file: give the file itself"
    else:
        (data / name).symlink_to(tmp_path / "gone.csv")
        words = f"{name} in {data} is a symbolic link to {tmp_path / 'gone.csv'}, which does not"
    with pytest.raises(ContractError) as error:
        load_data(data, WUXI)
    assert error.value.message.startswith(words)


# ---- plausible bounds -----------------------------------------------------------------------


BOUNDS = [
    ("groups", "weight", "1e300", "weight 1e300 is above its plausible bound 1,000"),
    ("groups", "avg_cost", "100000000.01", "avg_cost 100000000.01 is above its plausible bound"),
    ("cases", "total_cost", "150000000", "total_cost 150000000 is above its plausible bound"),
    ("cases", "patient_paid", "1e9", "patient_paid 1e9 is above its plausible bound 100,000,000"),
    ("cases", "los", "40000", "los 40000 is above its plausible bound 36,600 (100 years)"),
    ("hospitals", "assessment_score", "1001", "assessment_score 1001 is above its plausible"),
    ("hospitals", "list_accuracy", "1.5", "list_accuracy 1.5 is above its plausible bound 1"),
    ("hospitals", "admission_ratio_growth", "-2", "admission_ratio_growth is -2; must be ≥ -1"),
    ("hospitals", "hist_weight_total", "1e12", "hist_weight_total 1e12 is above its plausible"),
]


@pytest.mark.parametrize(("table", "field", "value", "words"), BOUNDS)
def test_a_value_beyond_its_plausible_bound_rejects_the_row_with_the_bound(
    tmp_path: Path, table: str, field: str, value: str, words: str
) -> None:
    hospitals = [dict(HOSPITALS[0])]
    groups = [dict(GROUPS[2])]
    cases = [case("C1")]
    rows = {"hospitals": hospitals, "groups": groups, "cases": cases}[table]
    rows[0][field] = value
    inputs = load_inputs(write_inputs(tmp_path, cases, hospitals, groups))
    reasons = inputs.rejects.filter(pl.col("file") == f"{table}.csv")["reason"].to_list()
    assert len(reasons) == 1 and reasons[0].startswith(words), reasons


def test_every_numeric_contract_field_has_a_stated_bound() -> None:
    numeric = [s for specs in TABLES.values() for s in specs if s.dtype in ("money", "number")]
    unbounded = [s.name for s in numeric if s.maximum is None and not s.choices]
    assert unbounded == []
    assert all(s.why for s in numeric)


def test_the_bounds_are_documented_as_the_specs_say() -> None:
    from engine.inputs.fields import bounds_table

    document = (Path(__file__).parents[2] / "engine" / "CONTRACT.md").read_text(encoding="utf-8")
    assert bounds_table() in document


def test_sample_data_is_within_every_bound() -> None:
    assert load_data(SAMPLE, XUANCHENG).rejects.height == 0

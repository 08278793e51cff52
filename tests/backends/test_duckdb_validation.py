"""The case file checked in DuckDB (`engine.plan.sql.validation`) rejects what polars rejects:
the same rows, fields and words, the same accepted cases, the same cases rejected because of
their hospital or group — on the data fuzz's hostile folders (CSV, and CSV turned Parquet), on
natively typed Parquet, and on one row per reject reason."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.inputs.contract import ContractError, Inputs, load_tables
from engine.inputs.fields import CASE_FIELDS, FieldSpec
from engine.plan.sql.duckdb_runner import DuckDB
from tests.conftest import POLICIES, SAMPLE, run_cli
from tests.engine.test_contract import CASE_REJECTS, HOSPITALS, case, write_inputs
from tests.engine.test_fuzz_data import _as_parquet, folders

XUANCHENG = str(POLICIES / "xuancheng" / "2024.policy")


def loaded(folder: Path) -> tuple[Inputs | str, Inputs | str, pl.DataFrame | str]:
    """The folder's tables loaded by polars, with the cases checked in DuckDB (or the
    `ContractError` each stopped with), and the accepted cases kept in DuckDB (the settle
    command's path, `cases_on_demand`: typed there) read back."""
    found: list[Inputs | str] = []
    kept: pl.DataFrame | str = ""
    for database in (None, DuckDB(threads=2), DuckDB(threads=2, cases_on_demand=True)):
        try:
            found.append(load_tables(folder, database=database))
            if database is not None and database.cases_on_demand:
                kept = found[-1].cases  # type: ignore[union-attr]
        except ContractError as exc:
            found.append(exc.message)
            kept = exc.message
        finally:
            if database is not None:
                database.close()
    return found[0], found[1], kept


def assert_same(folder: Path) -> Inputs | str:
    polars, duckdb, kept = loaded(folder)
    if isinstance(polars, str) or isinstance(duckdb, str):
        assert polars == duckdb == kept
        return polars
    assert duckdb.rejects.to_dicts() == polars.rejects.to_dicts()
    assert duckdb.cases.equals(polars.cases), (duckdb.cases, polars.cases)
    assert duckdb.cases.schema == polars.cases.schema
    assert isinstance(kept, pl.DataFrame) and kept.equals(polars.cases), (kept, polars.cases)
    assert kept.schema == polars.cases.schema
    assert duckdb.causes.equals(polars.causes)
    assert (duckdb.rows_read, duckdb.columns) == (polars.rows_read, polars.columns)
    assert duckdb.file_hashes == polars.file_hashes
    return polars


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(files=folders(), parquet=st.booleans())
def test_hostile_case_files_are_rejected_alike(files: dict[str, bytes], parquet: bool) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for file, data in files.items():
            (folder / file).write_bytes(data)
        if parquet:
            _as_parquet(folder, "cases.csv")
        assert_same(folder)


def test_one_row_per_reject_reason_gives_the_same_rejects(tmp_path: Path) -> None:
    rows = [case("C0000")] + [
        case(f"C{i:04d}", **override) for i, (_, override, _, _) in enumerate(CASE_REJECTS, 1)
    ]
    rows += [case("C0002"), case("", total_cost="1"), case("C9999", hospital_id=" H0001\u3000")]
    inputs = assert_same(write_inputs(tmp_path, rows))
    assert isinstance(inputs, Inputs)
    # row 3 (C0002) fails a field check first; its copy at the end is a duplicate, the
    # case without an id is missing one
    expected = [(i + 2, c[2]) for i, c in enumerate(CASE_REJECTS)]
    expected += [(len(rows) - 2, "case_id"), (len(rows) - 1, "case_id")]
    assert inputs.rejects.select("row", "field").rows() == expected
    assert "appears 2 times (rows 3, 15)" in inputs.rejects["reason"][-2]
    # the trimmed hospital (an ideographic space is white space, as polars strips it) is valid
    assert inputs.cases["case_id"].to_list() == ["C0000", "C9999"]


def test_natively_typed_parquet_is_checked_in_the_database(tmp_path: Path) -> None:
    write_inputs(tmp_path, [case("C0001")])
    (tmp_path / "cases.csv").unlink()
    pl.DataFrame(
        {
            "case_id": ["C0002", "C0001", "C0003", "C0004", "C0005", "C0005", None],
            "hospital_id": ["H0002", "H0001", "H0001", "H0009", "H0001", "H0001", "H0001"],
            "drg_code": ["GB29", "ES35", "AQY", "ES35", "ES35", "ES35", "ES35"],
            "total_cost": [50_000.0, 1234.5 + 1e-12, float("nan"), 12.345, 5.0, 6.0, 1.0],
            "patient_paid": pl.Series([15_000.0, 400.5, 0.0, 0.0, 0.0, 0.0, 0.0]).cast(
                pl.Decimal(18, 2)
            ),
            "discharge_date": [dt.datetime(2024, 12, 31, 8), *[dt.datetime(2024, 1, 1)] * 6],
            "bilateral": [True, False, None, False, False, False, False],
            "los": pl.Series([12, 3, 1, 1, -1, 1, 1], dtype=pl.Int32),
            "discharge_outcome": pl.Series([1, 9, 7, 1, 1, 1, 1], dtype=pl.Int64),
        }
    ).write_parquet(tmp_path / "cases.parquet")
    inputs = assert_same(tmp_path)
    assert isinstance(inputs, Inputs)
    assert inputs.rejects.select("row", "field", "value").rows() == [
        (3, "total_cost", "NaN"),
        (4, "total_cost", "12.345"),
        (5, "los", "-1"),
        (6, "case_id", "C0005"),
        (7, "case_id", None),
    ]
    assert inputs.cases["case_id"].to_list() == ["C0001", "C0002"]


def test_a_parquet_whole_number_beyond_int64_rejects_its_row_alike(tmp_path: Path) -> None:
    """A UInt64 `los` of 2⁶⁴ − 1 is rejected with its row and field, in polars and DuckDB alike
    (a cast error on main: a polars traceback, "could not be read as Parquet" in DuckDB)."""
    write_inputs(tmp_path, [case("C0001")])
    frame = pl.read_csv(tmp_path / "cases.csv", infer_schema=False)
    (tmp_path / "cases.csv").unlink()
    pl.concat([frame, frame.with_columns(case_id=pl.lit("C0002"))]).with_columns(
        los=pl.Series([3, 2**64 - 1], dtype=pl.UInt64)
    ).write_parquet(tmp_path / "cases.parquet")
    inputs = assert_same(tmp_path)
    assert isinstance(inputs, Inputs)
    assert inputs.rejects.select("row", "field", "value").rows() == [(2, "los", str(2**64 - 1))]
    assert inputs.cases["case_id"].to_list() == ["C0001"]


def test_a_policy_s_extra_fields_are_checked_alike(tmp_path: Path) -> None:
    extra = [FieldSpec("admitted", "date", True, None, "入院日期")]
    rows = [case("C0001", admitted="2024-01-02"), case("C0002", admitted="2024-13-01")]
    folder = write_inputs(tmp_path, rows)
    polars = load_tables(folder, extra={"cases": extra})
    database = DuckDB()
    duckdb = load_tables(folder, extra={"cases": extra}, database=database)
    database.close()
    assert duckdb.rejects.to_dicts() == polars.rejects.to_dicts()
    assert polars.rejects.select("row", "field").rows() == [(2, "admitted")]
    assert duckdb.cases.equals(polars.cases)
    assert "admitted" in duckdb.cases.columns and len(CASE_FIELDS) < len(duckdb.cases.columns)


@pytest.mark.parametrize("value", ["1_000", "0x10", "+3", "３", "1e309", " 7\u3000", "-0"])
def test_number_text_is_read_as_polars_reads_it(tmp_path: Path, value: str) -> None:
    assert_same(write_inputs(tmp_path, [case("C0001", total_cost=value)]))


def test_settle_on_duckdb_writes_the_same_rejects_and_fails_on_the_same_share(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    cases = pl.read_csv(data / "cases.csv", infer_schema=False)
    every = pl.int_range(pl.len()) % 40 == 3  # 2.5% of the rows: above the 1% allowed
    cases.with_columns(
        pl.when(every).then(pl.lit("-5")).otherwise(pl.col("total_cost")).alias("total_cost"),
        pl.when(pl.int_range(pl.len()) == 7).then(pl.lit("H9")).otherwise(pl.col("hospital_id"))
        .alias("hospital_id"),
    ).write_csv(data / "cases.csv")  # fmt: skip
    runs = {}
    for backend in ("polars", "duckdb"):
        out = tmp_path / backend
        command = ["settle", "--policy", XUANCHENG, "--data", str(data), "--period", "2024-03"]
        command += ["--out", str(out), "--backend", backend]
        refused = run_cli(capsys, *command)
        accepted = run_cli(capsys, *command, "--accept-rejects")
        files = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.glob("**/*.csv")}
        lines = refused[2].replace(str(out), "OUT").splitlines()
        said = [line for line in lines if "--max-reject-share" in line]
        runs[backend] = (refused[0], said, accepted[0], files)
    assert runs["duckdb"] == runs["polars"]
    assert runs["polars"][0] == 1 and runs["polars"][1] and runs["polars"][2] == 0
    rejects = pl.read_csv(tmp_path / "duckdb" / "rejects.csv", infer_schema=False)
    assert rejects.height == cases.height // 40 + 1 == 1 + len(range(3, cases.height, 40))
    assert (
        rejects.filter(pl.col("row") == "8")["reason"].item()
        == "hospital H9 is not in hospitals.csv"
    )


def test_a_case_file_that_is_not_parquet_is_refused_alike(tmp_path: Path) -> None:
    write_inputs(tmp_path, [case("C0001")])
    (tmp_path / "cases.csv").unlink()
    (tmp_path / "cases.parquet").write_bytes(b"PAR1 but not Parquet")
    message = assert_same(tmp_path)
    assert isinstance(message, str)
    assert message.startswith("cases.parquet could not be read as Parquet: ")


@pytest.mark.parametrize(
    "value", [" C1", "C1\u3000", "\u2003C1\u2029", " \u0301C1", "C1\u0301 ", "\u00a0"]
)
def test_text_is_trimmed_of_white_space_as_polars_trims_it(tmp_path: Path, value: str) -> None:
    inputs = assert_same(write_inputs(tmp_path, [case(value), case("C2", hospital_id=value)]))
    assert isinstance(inputs, Inputs)


def test_parquet_text_columns_clean_with_empty_text_or_with_white_space_are_read_alike(
    tmp_path: Path,
) -> None:
    """A String column with nothing to trim is read as it is, one with empty texts only has them
    as missing, one with white space is trimmed (`validation._texts_found`): the same rejects
    and cases as polars, the duplicate ids among them found from the checked table."""
    rows = [case(f"C{i}", secondary_drg="", insurance_type="职工") for i in range(1, 5)]
    rows[1] |= {"hospital_id": "", "secondary_drg": "GB29"}
    rows[2] |= {"drg_code": " ES35\u3000", "case_id": "C1"}
    folder = write_inputs(tmp_path, rows)
    frame = pl.read_csv(folder / "cases.csv", infer_schema=False).with_columns(
        pl.col("hospital_id", "secondary_drg").fill_null("")
    )
    (folder / "cases.csv").unlink()
    frame.write_parquet(folder / "cases.parquet")
    inputs = assert_same(folder)
    assert isinstance(inputs, Inputs)
    assert inputs.rejects.select("row", "field").rows() == [
        (1, "case_id"),
        (2, "hospital_id"),
        (3, "case_id"),
    ]
    assert inputs.cases["case_id"].to_list() == ["C4"]


@pytest.mark.parametrize("form", ["csv", "parquet"])
def test_a_text_holding_a_control_character_rejects_its_row_alike(
    tmp_path: Path, form: str
) -> None:
    """ESC, BEL, NUL or a C1 character in a text reject its row, in polars and DuckDB alike (on
    main accepted, and printed raw: an ANSI/OSC sequence cleared the terminal or retitled it); a
    rejected value is shown escaped — in any field, a money one too, a tab too (an id holding
    one is not in hospitals.csv) — and a tab around a value is white space, trimmed as before."""
    rows = [
        case("C0001"),
        case("C0002", drg_code="ES\x1b[2J35"),
        case("C\x000003"),
        case("C0004", hospital_id="H0001\tH0002"),
        case("C0005", total_cost="12\x1b]0;pwned\x07"),
        case("C0006\t", insurance_type="employ\x9bee"),
    ]
    folder = write_inputs(tmp_path, rows)
    if form == "parquet":
        frame = pl.read_csv(folder / "cases.csv", infer_schema=False)
        (folder / "cases.csv").unlink()
        frame.write_parquet(folder / "cases.parquet")
    inputs = assert_same(folder)
    assert isinstance(inputs, Inputs)
    assert inputs.rejects.select("row", "key", "field", "value").rows() == [
        (2, "C0002", "drg_code", "ES\\u001b[2J35"),
        (3, "C\\u00000003", "case_id", "C\\u00000003"),
        (4, "C0004", "hospital_id", "H0001\\u0009H0002"),
        (5, "C0005", "total_cost", "12\\u001b]0;pwned\\u0007"),
        (6, "C0006", "insurance_type", "employ\\u009bee"),
    ]
    shown = "".join(inputs.rejects["reason"])
    assert "holds a control character" in shown
    assert not any(0 <= ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in shown)
    assert inputs.cases["case_id"].to_list() == ["C0001"]


@pytest.mark.parametrize("form", ["csv", "parquet"])
def test_a_tab_or_line_break_rejects_an_identifier_and_stays_in_free_text_alike(
    tmp_path: Path, form: str
) -> None:
    """A CR, LF or tab inside an identifier or a code (case id, group, secondary group, scheme,
    tier) rejects its row, in polars and DuckDB alike, shown escaped (on fix28 accepted, and a
    case id `C3\\rOK` printed raw on stderr hid the line before it); a name, free text, keeps
    its line break."""
    rows = [
        case("C0001"),
        case("C0002", drg_code="ES\n35"),
        case("C0003\rOK everything fine"),
        case("C0004", secondary_drg="GB\t29"),
        case("C0005", insurance_type="职工\r\n异地", hospital_id="H0002"),
    ]
    hospitals = [{**HOSPITALS[0], "name": "示范市\n第一人民医院"}, {**HOSPITALS[1], "tier": "B\nC"}]
    folder = write_inputs(tmp_path, rows, hospitals)
    if form == "parquet":
        for name in ("cases", "hospitals"):
            frame = pl.read_csv(folder / f"{name}.csv", infer_schema=False)
            (folder / f"{name}.csv").unlink()
            frame.write_parquet(folder / f"{name}.parquet")
    inputs = assert_same(folder)
    assert isinstance(inputs, Inputs)
    assert inputs.rejects.select("file", "row", "key", "field", "value").rows() == [
        (f"hospitals.{form}", 2, "H0002", "tier", "B\\u000aC"),
        (f"cases.{form}", 2, "C0002", "drg_code", "ES\\u000a35"),
        (
            f"cases.{form}",
            3,
            "C0003\\u000dOK everything fine",
            "case_id",
            "C0003\\u000dOK everything fine",
        ),
        (f"cases.{form}", 4, "C0004", "secondary_drg", "GB\\u000929"),
        (f"cases.{form}", 5, "C0005", "insurance_type", "职工\\u000d\\u000a异地"),
    ]
    assert (
        "an identifier or code holds none, nor a tab or a line break" in inputs.rejects["reason"][0]
    )
    assert inputs.cases["case_id"].to_list() == ["C0001"]
    assert inputs.hospitals["name"].to_list() == ["示范市\n第一人民医院"]


@pytest.mark.parametrize("form", ["csv", "parquet"])
@pytest.mark.parametrize("name", [" unreasonable_cost", "drg_suitable ", "LOS", " hospital_id"])
def test_a_column_named_as_a_field_with_spaces_or_capitals_is_refused_alike(
    tmp_path: Path, form: str, name: str
) -> None:
    """On fix28 ` unreasonable_cost` or `drg_suitable ` (a header typed `a, b`) was another
    column: the field was absent and its default paid in its place (no unreasonable cost,
    every case DRG-suitable), exit 0 — ` hospital_id` was "no column hospital_id"."""
    rows = [case("C0001", unreasonable_cost="100", los="3", drg_suitable="false")]
    folder = write_inputs(tmp_path, rows)
    frame = pl.read_csv(folder / "cases.csv", infer_schema=False)
    frame = frame.rename({name.strip().lower(): name})
    (folder / "cases.csv").unlink()
    if form == "parquet":
        frame.write_parquet(folder / "cases.parquet")
    else:
        frame.write_csv(folder / "cases.csv")
    meant = name.strip().lower()
    position = frame.columns.index(name) + 1
    assert assert_same(folder) == (
        f"cases.{form}: column {position} is named '{name}', not {meant}: with white space "
        f"around it or capitals it is not the field's name, and {meant} would be read as "
        f"absent; name the column {meant}"
    )


@pytest.mark.parametrize("form", ["csv", "parquet"])
@pytest.mark.parametrize(
    ("name", "meant"),
    [("unreasonable_costs", "unreasonable_cost"), ("drg_suitible", "drg_suitable")],
)
def test_a_column_misspelt_close_to_a_field_the_file_lacks_is_refused_alike(
    tmp_path: Path, form: str, name: str, meant: str
) -> None:
    """On integ28 `unreasonable_costs` was a column nobody reads: unreasonable_cost absent, no
    case's unreasonable cost taken off, exit 0. A column of another name (`los_days`, far from
    `los`) is still kept unread."""
    rows = [case("C0001", unreasonable_cost="100", los="3", drg_suitable="false")]
    folder = write_inputs(tmp_path, rows)
    frame = pl.read_csv(folder / "cases.csv", infer_schema=False)
    frame = frame.rename({meant: name}).with_columns(pl.lit("2").alias("los_days"))
    (folder / "cases.csv").unlink()
    if form == "parquet":
        frame.write_parquet(folder / "cases.parquet")
    else:
        frame.write_csv(folder / "cases.csv")
    position = frame.columns.index(name) + 1
    assert assert_same(folder) == (
        f"cases.{form}: column {position} is named '{name}', close to the field {meant}, which "
        f"the file does not have: {meant} would be read as absent and its default used; name "
        f"the column {meant} (or, if it is another column, a name not so close to a field's)"
    )
    frame = frame.rename({name: meant})
    (folder / f"cases.{form}").unlink()
    if form == "parquet":
        frame.write_parquet(folder / "cases.parquet")
    else:
        frame.write_csv(folder / "cases.csv")
    settled = assert_same(folder)
    assert not isinstance(settled, str) and settled.cases["unreasonable_cost"].to_list() == [100.0]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC"])
def test_a_date_stored_as_a_timestamp_with_a_time_zone_is_refused_alike(
    tmp_path: Path, zone: str
) -> None:
    """On main a discharge at 00:30 on 1 January 2024 in Shanghai was settled in January by
    polars (the zone stored) and in December 2023 by DuckDB (its session's zone, UTC): another
    month's case, exit 0 on both. A timestamp without a zone is still its own day."""
    write_inputs(tmp_path, [case("C0001")])
    frame = pl.read_csv(tmp_path / "cases.csv", infer_schema=False)
    (tmp_path / "cases.csv").unlink()
    local = dt.datetime(2024, 1, 1, 0, 30)
    stamp = pl.lit(local).dt.replace_time_zone("Asia/Shanghai").dt.convert_time_zone(zone)
    frame.with_columns(stamp.alias("discharge_date")).write_parquet(tmp_path / "cases.parquet")
    assert assert_same(tmp_path) == (
        f"cases.parquet: discharge_date is stored as a timestamp with a time zone ({zone}): its "
        "day depends on the zone it is read in (00:30 on 1 January in Shanghai is 31 December in "
        "UTC), so a case near midnight could be settled in another month; write the column as a "
        "DATE (or a timestamp without a time zone, in local time)"
    )
    frame.with_columns(pl.lit(local).alias("discharge_date")).write_parquet(
        tmp_path / "cases.parquet"
    )
    inputs = assert_same(tmp_path)
    assert not isinstance(inputs, str)
    assert inputs.cases["discharge_date"].to_list() == [dt.date(2024, 1, 1)]

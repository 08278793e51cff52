"""The input data contract: typed frames, one reject per bad row, file-level errors, schemas."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Literal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from engine.inputs.budget import budget_schema
from engine.inputs.contract import ContractError, load_inputs
from engine.inputs.fields import CASE_FIELDS, FieldSpec, TableKind, field_table, json_schema

REPO = Path(__file__).resolve().parents[2]
TABLE_KINDS: tuple[TableKind, ...] = ("cases", "hospitals", "groups")

HOSPITALS = [
    {
        "hospital_id": "H0001",
        "name": "示范市第一人民医院",
        "level": "3",
        "tier": "A",
        "is_new": "false",
    },
    {
        "hospital_id": "H0002",
        "name": "东城区人民医院",
        "level": "2",
        "tier": "B",
        "is_new": "false",
    },
    {"hospital_id": "H0003", "name": "青山镇卫生院", "level": "1", "tier": "C", "is_new": "true"},
]
GROUPS = [
    {
        "drg_code": "GB29",
        "name": "胃、十二指肠大手术",
        "weight": "3.4",
        "avg_cost": "40800.00",
        "base_group": "false",
    },
    {
        "drg_code": "ES31",
        "name": "呼吸系统感染／炎症，伴严重合并症或并发症",
        "weight": "1.25",
        "avg_cost": "15000.00",
        "base_group": "false",
    },
    {
        "drg_code": "ES35",
        "name": "呼吸系统感染／炎症，不伴合并症或并发症",
        "weight": "0.55",
        "avg_cost": "6600.00",
        "base_group": "true",
    },
]
BUDGET = """\
contract_version: "1.0"
year: 2024
values:
  drg_fund: 1.0e8
  tier_budget: {A: 6.0e7, B: 3.0e7, C: 1.0e7}
"""


def case(case_id: str, **override: str) -> dict[str, str]:
    """A valid case row (all values as CSV text), with some fields overridden."""
    row = {
        "case_id": case_id,
        "hospital_id": "H0001",
        "drg_code": "ES35",
        "total_cost": "6543.21",
        "discharge_date": "2024-03-01",
        "bilateral": "false",
        "multi_site": "false",
        "secondary_drg": "",
        "unreasonable_cost": "0",
        "incentive_approved": "false",
        "special_review": "false",
        "patient_paid": "2000.00",
        "insurance_type": "employee",
        "los": "5",
        "drg_suitable": "true",
    }
    return row | override


def csv_text(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def write_inputs(
    folder: Path,
    cases: list[dict[str, str]],
    hospitals: list[dict[str, str]] = HOSPITALS,
    groups: list[dict[str, str]] = GROUPS,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (("cases", cases), ("hospitals", hospitals), ("groups", groups)):
        (folder / f"{name}.csv").write_text(csv_text(rows), encoding="utf-8")
    (folder / "budget.yaml").write_text(BUDGET, encoding="utf-8")
    return folder


# ---- accepted rows -----------------------------------------------------------------------------


def test_valid_rows_are_typed_defaulted_and_sorted_by_key(tmp_path: Path) -> None:
    rows = [case("C0003", total_cost="100.1"), case("C0001"), case("C0002", drg_code="0000")]
    minimal = [
        {k: r[k] for k in ("case_id", "hospital_id", "drg_code", "total_cost", "discharge_date")}
        for r in rows
    ]
    inputs = load_inputs(write_inputs(tmp_path, minimal), budget_names=["drg_fund"])
    cases = inputs.cases
    assert cases["case_id"].to_list() == ["C0001", "C0002", "C0003"]
    assert cases["total_cost"].to_list() == [6543.21, 6543.21, 100.1]
    assert cases["discharge_date"].to_list() == [dt.date(2024, 3, 1)] * 3
    assert cases["month"].to_list() == ["2024-03"] * 3
    assert cases["ungrouped"].to_list() == [False, True, False]
    defaults = cases.select(
        "bilateral", "secondary_drg", "unreasonable_cost", "los", "drg_suitable"
    ).row(0)
    assert defaults == (False, "", 0.0, 0, True)
    assert dict(cases.schema) == {
        **{
            s.name: {
                "text": pl.String,
                "money": pl.Float64,
                "number": pl.Float64,
                "int": pl.Int64,
                "bool": pl.Boolean,
                "date": pl.Date,
            }[s.dtype]
            for s in CASE_FIELDS
        },
        "month": pl.String,
        "ungrouped": pl.Boolean,
    }
    assert cases.null_count().sum_horizontal().item() == 0
    assert inputs.rejects.is_empty()
    assert inputs.budget["values"]["tier_budget"] == {"A": 6.0e7, "B": 3.0e7, "C": 1.0e7}
    assert inputs.rows_read == {"hospitals": 3, "groups": 3, "cases": 3}


def test_unknown_columns_are_ignored_and_extra_fields_are_typed(tmp_path: Path) -> None:
    rows = [case("C0001", ward="ICU", risk_score="1.5"), case("C0002", ward="", risk_score="")]
    extra = {"cases": [FieldSpec("risk_score", "number", False, 0.0, "风险评分", minimum=0)]}
    cases = load_inputs(write_inputs(tmp_path, rows), extra=extra).cases
    assert "ward" not in cases.columns
    assert cases["risk_score"].to_list() == [1.5, 0.0]


def test_an_extra_field_contradicting_the_contract_is_a_contract_error(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="total_cost as text"):
        load_inputs(
            write_inputs(tmp_path, [case("C0001")]),
            extra={"cases": [FieldSpec("total_cost", "text", True, None, "x")]},
        )


def test_ungrouped_and_ambiguous_codes_need_no_catalog_entry(tmp_path: Path) -> None:
    rows = [
        case("C0001", drg_code="0000"),
        case("C0002", drg_code="EQY"),
        case("C0003", drg_code="EQ"),
    ]
    inputs = load_inputs(write_inputs(tmp_path, rows))
    assert inputs.cases["case_id"].to_list() == ["C0001", "C0002"]
    assert inputs.rejects["reason"].to_list() == ["DRG code EQ is not in groups.csv"]


def test_parquet_native_types_are_accepted(tmp_path: Path) -> None:
    write_inputs(tmp_path, [case("C0001")])
    (tmp_path / "cases.csv").unlink()
    pl.DataFrame(
        {
            "case_id": ["C0002", "C0001"],
            "hospital_id": ["H0002", "H0001"],
            "drg_code": ["GB29", "ES35"],
            "total_cost": [50_000.0, 1234.5 + 1e-12],
            "patient_paid": [15_000, 400],
            "discharge_date": [dt.datetime(2024, 12, 31, 8), dt.datetime(2024, 1, 1)],
            "bilateral": [True, False],
            "los": pl.Series([12, 3], dtype=pl.Int32),
        }
    ).write_parquet(tmp_path / "cases.parquet")
    inputs = load_inputs(tmp_path)
    assert inputs.rejects.is_empty()
    columns = ("case_id", "total_cost", "patient_paid", "month", "bilateral", "los")
    assert inputs.cases.select(columns).rows() == [
        ("C0001", 1234.5, 400.0, "2024-01", False, 3),
        ("C0002", 50000.0, 15000.0, "2024-12", True, 12),
    ]
    assert set(inputs.file_hashes) == {
        "cases.parquet",
        "hospitals.csv",
        "groups.csv",
        "budget.yaml",
    }


# ---- one test per reject reason ---------------------------------------------------------------

CASE_REJECTS = [
    ("missing", {"total_cost": ""}, "total_cost", "total_cost is missing"),
    ("money-text", {"total_cost": "12,50"}, "total_cost", "'12,50' is not an amount of money"),
    ("int-text", {"los": "2.5"}, "los", "los '2.5' is not a whole number"),
    ("date-format", {"discharge_date": "2024/03/01"}, "discharge_date", "write YYYY-MM-DD"),
    ("date-impossible", {"discharge_date": "2024-02-30"}, "discharge_date", "is not a date"),
    ("bool-text", {"bilateral": "maybe"}, "bilateral", "bilateral 'maybe' is not true or false"),
    (
        "negative",
        {"total_cost": "-12.00"},
        "total_cost",
        "total_cost is negative (-12.00); must be ≥ 0",
    ),
    ("negative-int", {"los": "-1"}, "los", "los is negative (-1); must be ≥ 0"),
    ("decimals", {"patient_paid": "12.345"}, "patient_paid", "12.345 has more than 2 decimals"),
    (
        "unknown-hospital",
        {"hospital_id": "H0099"},
        "hospital_id",
        "hospital H0099 is not in hospitals.csv",
    ),
    ("unknown-drg", {"drg_code": "GB15"}, "drg_code", "DRG code GB15 is not in groups.csv"),
    (
        "unknown-secondary",
        {"multi_site": "true", "secondary_drg": "XX99"},
        "secondary_drg",
        "secondary_drg XX99 is not in groups.csv",
    ),
    (
        "unreasonable",
        {"total_cost": "100.00", "unreasonable_cost": "100.01"},
        "unreasonable_cost",
        "unreasonable_cost 100.01 is more than total_cost 100.00",
    ),
]


@pytest.mark.parametrize(
    ("override", "field", "words"), [c[1:] for c in CASE_REJECTS], ids=[c[0] for c in CASE_REJECTS]
)
def test_case_reject_reason(
    tmp_path: Path, override: dict[str, str], field: str, words: str
) -> None:
    rows = [case("C0001"), case("C0002", **override), case("C0003")]
    inputs = load_inputs(write_inputs(tmp_path, rows))
    assert inputs.rejects.select("file", "row", "key", "field").rows() == [
        ("cases.csv", 2, "C0002", field)
    ]
    assert words in inputs.rejects["reason"].item()
    assert inputs.cases["case_id"].to_list() == ["C0001", "C0003"]


def test_duplicate_case_ids_reject_all_copies(tmp_path: Path) -> None:
    rows = [case("C0001"), case("C0002"), case("C0003"), case("C0002", total_cost="1.00")]
    inputs = load_inputs(write_inputs(tmp_path, rows))
    assert inputs.rejects.select("row", "key", "field").rows() == [
        (2, "C0002", "case_id"),
        (4, "C0002", "case_id"),
    ]
    assert set(inputs.rejects["reason"]) == {
        "case_id C0002 appears 2 times (rows 2, 4); every case must be unique — all copies rejected"
    }
    assert inputs.cases["case_id"].to_list() == ["C0001", "C0003"]


def test_first_failing_check_names_the_reject(tmp_path: Path) -> None:
    rows = [
        case("C0001", hospital_id="", total_cost="-5"),
        case("C0001", total_cost="x"),
        case("C0001"),
    ]
    rejects = load_inputs(write_inputs(tmp_path, rows)).rejects
    assert rejects.select("row", "field").rows() == [
        (1, "hospital_id"),
        (2, "total_cost"),
        (3, "case_id"),
    ]
    assert "appears 3 times (rows 1, 2, 3)" in rejects["reason"][2]


HOSPITAL_REJECTS = [
    ("level-range", {"level": "4"}, "level", "level 4 is not one of 0, 1, 2, 3"),
    ("level-missing", {"level": ""}, "level", "level is missing"),
    ("level-text", {"level": "三级"}, "level", "level '三级' is not a whole number"),
]


@pytest.mark.parametrize(
    ("override", "field", "words"),
    [c[1:] for c in HOSPITAL_REJECTS],
    ids=[c[0] for c in HOSPITAL_REJECTS],
)
def test_hospital_reject_reason_and_its_cases_rejected_upstream(
    tmp_path: Path, override: dict[str, str], field: str, words: str
) -> None:
    hospitals = [HOSPITALS[0], HOSPITALS[1] | override, HOSPITALS[2]]
    rows = [case("C0001"), case("C0002", hospital_id="H0002")]
    inputs = load_inputs(write_inputs(tmp_path, rows, hospitals=hospitals))
    assert inputs.rejects.select("file", "row", "key", "field").rows() == [
        ("hospitals.csv", 2, "H0002", field),
        ("cases.csv", 2, "C0002", "hospital_id"),
    ]
    assert words in inputs.rejects["reason"][0]
    assert inputs.rejects["reason"][1].startswith(
        "hospital H0002 is in hospitals.csv but was rejected there"
    )
    assert inputs.hospitals["hospital_id"].to_list() == ["H0001", "H0003"]


def test_duplicate_hospital_rejects_both_copies_and_their_cases(tmp_path: Path) -> None:
    hospitals = [*HOSPITALS, HOSPITALS[0] | {"name": "重复"}]
    inputs = load_inputs(write_inputs(tmp_path, [case("C0001")], hospitals=hospitals))
    assert inputs.rejects.select("file", "row", "key").rows() == [
        ("hospitals.csv", 1, "H0001"),
        ("hospitals.csv", 4, "H0001"),
        ("cases.csv", 1, "C0001"),
    ]
    assert "every hospital must be unique" in inputs.rejects["reason"][0]
    assert inputs.cases.is_empty()


GROUP_REJECTS = [
    ("weight-zero", {"weight": "0"}, "weight", "weight is 0; must be > 0"),
    ("weight-negative", {"weight": "-0.5"}, "weight", "weight is -0.5; must be > 0"),
    ("weight-text", {"weight": "n/a"}, "weight", "weight 'n/a' is not a number"),
    ("avg-cost-zero", {"avg_cost": "0.00"}, "avg_cost", "avg_cost is 0.00; must be > 0"),
    ("avg-cost-decimals", {"avg_cost": "6600.001"}, "avg_cost", "more than 2 decimals"),
]


@pytest.mark.parametrize(
    ("override", "field", "words"),
    [c[1:] for c in GROUP_REJECTS],
    ids=[c[0] for c in GROUP_REJECTS],
)
def test_group_reject_reason_and_its_cases_rejected_upstream(
    tmp_path: Path, override: dict[str, str], field: str, words: str
) -> None:
    groups = [GROUPS[0], GROUPS[1], GROUPS[2] | override]
    rows = [case("C0001", drg_code="GB29"), case("C0002", drg_code="ES35")]
    inputs = load_inputs(write_inputs(tmp_path, rows, groups=groups))
    assert inputs.rejects.select("file", "row", "key", "field").rows() == [
        ("groups.csv", 3, "ES35", field),
        ("cases.csv", 2, "C0002", "drg_code"),
    ]
    assert words in inputs.rejects["reason"][0]
    assert "DRG code ES35 is in groups.csv but was rejected there" in inputs.rejects["reason"][1]


def test_reject_value_is_the_text_as_written(tmp_path: Path) -> None:
    rejects = load_inputs(write_inputs(tmp_path, [case("C0001", total_cost=" -1.50 ")])).rejects
    assert rejects.select("value", "reason").row(0) == (
        "-1.50",
        "total_cost is negative (-1.50); must be ≥ 0",
    )


# ---- file-level errors -------------------------------------------------------------------------


def test_missing_file_says_which_names_are_accepted(tmp_path: Path) -> None:
    write_inputs(tmp_path, [case("C0001")])
    (tmp_path / "groups.csv").unlink()
    with pytest.raises(ContractError, match=r"expected groups\.csv or groups\.parquet") as error:
        load_inputs(tmp_path)
    assert error.value.file == "groups.csv"


def test_missing_required_column_lists_required_and_found(tmp_path: Path) -> None:
    rows = [{k: v for k, v in case("C0001").items() if k != "total_cost"}]
    with pytest.raises(ContractError) as error:
        load_inputs(write_inputs(tmp_path, rows))
    assert (error.value.file, error.value.field) == ("cases.csv", "total_cost")
    assert "cases.csv has no column total_cost" in error.value.message
    assert "required columns: case_id, hospital_id, drg_code, total_cost, discharge_date" in (
        error.value.message
    )
    assert "columns found: case_id, hospital_id, drg_code, discharge_date" in error.value.message


def test_corrupt_parquet_is_a_contract_error(tmp_path: Path) -> None:
    write_inputs(tmp_path, [case("C0001")])
    (tmp_path / "hospitals.csv").unlink()
    (tmp_path / "hospitals.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(ContractError, match=r"hospitals\.parquet could not be read as Parquet"):
        load_inputs(tmp_path)


def test_csv_that_is_not_utf8_is_a_contract_error(tmp_path: Path) -> None:
    write_inputs(tmp_path, [case("C0001")])
    (tmp_path / "hospitals.csv").write_bytes(b"hospital_id,level\nH0001,3\xff\n")
    with pytest.raises(ContractError, match=r"hospitals\.csv is not UTF-8: line 2 has bytes"):
        load_inputs(tmp_path)


def test_both_csv_and_parquet_is_ambiguous(tmp_path: Path) -> None:
    write_inputs(tmp_path, [case("C0001")])
    pl.read_csv(tmp_path / "groups.csv").write_parquet(tmp_path / "groups.parquet")
    with pytest.raises(ContractError, match="keep exactly one"):
        load_inputs(tmp_path)


BUDGET_ERRORS = [
    ("yaml", "values: [unclosed\n", (), "budget.yaml is not valid YAML"),
    ("shape", "- 1\n- 2\n", (), "budget.yaml is malformed; expected a YAML mapping"),
    ("version", 'contract_version: "2.0"\nyear: 2024\nvalues: {}\n', (), "expected 1.0"),
    ("year", 'contract_version: "1.0"\nyear: next\nvalues: {}\n', (), "expected a year"),
    (
        "value",
        'contract_version: "1.0"\nyear: 2024\nvalues: {drg_fund: lots}\n',
        (),
        "budget.yaml:3: values.drg_fund is 'lots'; expected an amount in 元",
    ),
    (
        "name",
        'contract_version: "1.0"\nyear: 2024\nvalues: {drg_fund: 1.0e8}\n',
        ("tier_budget",),
        "budget.yaml: values has no tier_budget; the policy needs it",
    ),
]


@pytest.mark.parametrize(
    ("text", "names", "words"), [c[1:] for c in BUDGET_ERRORS], ids=[c[0] for c in BUDGET_ERRORS]
)
def test_budget_errors_name_the_file_and_what_is_expected(
    tmp_path: Path, text: str, names: tuple[str, ...], words: str
) -> None:
    write_inputs(tmp_path, [case("C0001")])
    (tmp_path / "budget.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ContractError) as error:
        load_inputs(tmp_path, budget_names=names)
    assert error.value.file == "budget.yaml"
    assert words in error.value.message


def test_budget_file_is_needed_only_when_the_policy_names_values(tmp_path: Path) -> None:
    write_inputs(tmp_path, [case("C0001")])
    (tmp_path / "budget.yaml").unlink()
    assert load_inputs(tmp_path).budget == {}
    with pytest.raises(
        ContractError,
        match=r"budget\.yaml not found .* needs budget values "
        r"drg_fund",
    ):
        load_inputs(tmp_path, budget_names=["drg_fund"])


# ---- properties ---------------------------------------------------------------------------------

BAD_OVERRIDES = [override for _, override, *_ in CASE_REJECTS]


@st.composite
def case_rows(draw: st.DrawFn) -> list[tuple[dict[str, str], bool]]:
    """Rows (as CSV text) with whether each is valid by itself; ids may repeat."""
    size = draw(st.integers(1, 25))
    rows = []
    for _ in range(size):
        case_id = f"C{draw(st.integers(1, 30)):04d}"
        bad = draw(st.one_of(st.none(), st.sampled_from(BAD_OVERRIDES)))
        hospital = draw(st.sampled_from(["H0001", "H0002", "H0003"]))
        rows.append((case(case_id, **({"hospital_id": hospital} | (bad or {}))), bad is None))
    return rows


@settings(max_examples=40, deadline=None)
@given(rows=case_rows(), order=st.randoms(use_true_random=False))
def test_every_row_is_settled_or_rejected_once_and_order_does_not_matter(
    rows: list[tuple[dict[str, str], bool]], order: random.Random
) -> None:
    copies = Counter(row["case_id"] for row, _ in rows)
    expected = sorted(row["case_id"] for row, ok in rows if ok and copies[row["case_id"]] == 1)
    shuffled = list(rows)
    order.shuffle(shuffled)
    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as second:
        a = load_inputs(write_inputs(Path(first), [row for row, _ in rows]))
        b = load_inputs(write_inputs(Path(second), [row for row, _ in shuffled]))
    assert a.cases["case_id"].to_list() == expected
    rejected = a.rejects.filter(pl.col("file") == "cases.csv")
    assert a.rows_read["cases"] == a.cases.height + rejected.height
    assert rejected["row"].n_unique() == rejected.height
    assert a.cases.equals(b.cases)
    assert _order_free(a.rejects).equals(_order_free(b.rejects))


def _order_free(rejects: pl.DataFrame) -> pl.DataFrame:
    """Rejects without what depends on row order (row numbers), sorted."""
    return (
        rejects.drop("row")
        .with_columns(pl.col("reason").str.replace(r"\(rows [0-9, …]+\)", "(rows …)"))
        .sort(pl.all(), nulls_last=True)
    )


# ---- JSON Schema and the documentation --------------------------------------------------------


@pytest.mark.parametrize("kind", ["cases", "hospitals", "groups", "budget"])
def test_json_schema_is_a_valid_2020_12_schema(
    kind: Literal["cases", "hospitals", "groups", "budget"],
) -> None:
    schema = budget_schema() if kind == "budget" else json_schema(kind)
    Draft202012Validator.check_schema(schema)
    assert schema["x-contract-version"] == "1.0"
    assert schema["$id"] == f"urn:drgpolicy:contract:1.0:{kind}"


def test_schema_accepts_contract_rows_and_rejects_what_validation_rejects(tmp_path: Path) -> None:
    inputs = load_inputs(
        write_inputs(
            tmp_path, [case("C0001", secondary_drg="GB29"), case("C0002", drg_code="0000")]
        )
    )
    validators = {
        kind: Draft202012Validator(
            json_schema(kind),
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        for kind in TABLE_KINDS
    }
    frames: dict[TableKind, pl.DataFrame] = {
        "cases": inputs.cases.drop("month", "ungrouped"),
        "hospitals": inputs.hospitals,
        "groups": inputs.groups,
    }
    for kind, frame in frames.items():
        for row in frame.rows(named=True):
            validators[kind].validate(_as_json(row))
    good = _as_json(inputs.cases.drop("month", "ungrouped").row(0, named=True))
    assert not validators["cases"].is_valid(good | {"total_cost": -1.0})
    assert not validators["cases"].is_valid(good | {"discharge_date": "2024-02-30"})
    assert not validators["cases"].is_valid({k: v for k, v in good.items() if k != "case_id"})
    assert not validators["hospitals"].is_valid(
        _as_json(inputs.hospitals.row(0, named=True)) | {"level": 4}
    )


def test_budget_schema_accepts_the_budget_file(tmp_path: Path) -> None:
    budget = load_inputs(write_inputs(tmp_path, [case("C0001")])).budget
    validator = Draft202012Validator(budget_schema())
    validator.validate(budget)
    assert not validator.is_valid(budget | {"values": {"drg_fund": "lots"}})


def test_schema_includes_extra_fields() -> None:
    extra = FieldSpec("risk_score", "number", True, None, "风险评分", minimum=0)
    schema = json_schema("cases", [extra])
    assert schema["properties"]["risk_score"] == {
        "type": "number",
        "description": "风险评分",
        "minimum": 0,
    }
    assert schema["required"][-1] == "risk_score"


def _as_json(row: dict[str, object]) -> dict[str, object]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()}


@pytest.mark.parametrize("kind", ["cases", "hospitals", "groups"])
def test_contract_md_documents_every_field_as_the_specs_say(kind: TableKind) -> None:
    document = (REPO / "engine" / "CONTRACT.md").read_text(encoding="utf-8")
    assert field_table(kind) in document


def test_contract_md_lists_every_reject_reason_wording() -> None:
    document = (REPO / "engine" / "CONTRACT.md").read_text(encoding="utf-8")
    for phrase in (
        "is missing",
        "is not a number",
        "is not a whole number",
        "is not a date",
        "is not true or false",
        "is negative",
        "more than 2 decimals",
        "is not one of",
        "appears",
        "is more than total_cost",
        "is not in",
        "was rejected there",
    ):
        assert re.search(re.escape(phrase), document), phrase

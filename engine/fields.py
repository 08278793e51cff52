"""The input data contract (输入数据契约): one tuple of `FieldSpec` per table.

These tuples are the single source of truth: validation (`engine.contract`), the JSON Schemas
(`json_schema`) and the field tables of `engine/CONTRACT.md` (`field_table`) all derive from them.
This module also says how a value of each type is read (`raw_value`, `typed_value`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

CONTRACT_VERSION = "1.0"

Dtype = Literal["text", "money", "number", "int", "bool", "date"]
TableKind = Literal["cases", "hospitals", "groups"]
Default = str | float | int | bool | None

POLARS_DTYPES: dict[str, pl.DataType] = {
    "text": pl.String(),
    "money": pl.Float64(),
    "number": pl.Float64(),
    "int": pl.Int64(),
    "bool": pl.Boolean(),
    "date": pl.Date(),
}
_FORMAT_RULES = {
    "money": ["at most 2 decimals"],
    "date": ["YYYY-MM-DD"],
    "bool": ["true/false (also 1/0, yes/no, 是/否)"],
    "int": ["whole number"],
}
_JSON_TYPES = {
    "text": "string",
    "money": "number",
    "number": "number",
    "int": "integer",
    "bool": "boolean",
    "date": "string",
}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One column of an input table: type, required or default, meaning and validity rule.

    `exclusive_minimum` makes `minimum` strict (> instead of ≥); `choices` lists the only
    values allowed (e.g. hospital level 0, 1, 2, 3). An optional field's default is `neutral`
    when it is what an absent column means (no flag set, no unreasonable cost); a field whose
    default would only be a guess (a hospital's history, indicators, tier) is not neutral, and a
    policy that reads it needs the column (`engine.settle.check_columns`).
    """

    name: str
    dtype: Dtype
    required: bool
    default: Default
    description: str
    minimum: float | None = None
    unique: bool = False
    exclusive_minimum: bool = False
    choices: tuple[int | str, ...] = ()
    neutral: bool = True


def _required(name: str, dtype: Dtype, description: str, **rule: Any) -> FieldSpec:
    return FieldSpec(name, dtype, True, None, description, **rule)


def _optional(
    name: str, dtype: Dtype, default: Default, description: str, **rule: Any
) -> FieldSpec:
    return FieldSpec(name, dtype, False, default, description, **rule)


CASE_FIELDS: tuple[FieldSpec, ...] = (
    _required("case_id", "text", "Case id (病例号 / 结算清单号).", unique=True),
    _required("hospital_id", "text", "Hospital of the stay (定点医疗机构); must be in hospitals."),
    _required(
        "drg_code",
        "text",
        "Group from the national grouper (DRG 病组); must be in the group catalog, except the "
        "ungrouped code 0000 (未入组) and ambiguous codes xQY (歧义组), always accepted.",
    ),
    _required("total_cost", "money", "Total cost of the stay in 元 (住院总费用).", minimum=0),
    _required("discharge_date", "date", "Discharge date, ISO YYYY-MM-DD (出院日期)."),
    _optional("bilateral", "bool", False, "Both organs operated at once (双侧器官同时手术)."),
    _optional("multi_site", "bool", False, "Several sites in one operation (一次手术多部位)."),
    _optional(
        "secondary_drg",
        "text",
        "",
        "Group of the secondary operation (次要手术病组); if not empty, must be in the catalog.",
    ),
    _optional(
        "unreasonable_cost",
        "money",
        0.0,
        "Unreasonable cost found on review, 元 (不合理费用); must be ≤ total_cost.",
        minimum=0,
    ),
    _optional(
        "incentive_approved",
        "bool",
        False,
        "Severe / rare disease incentive approved (重症/罕见病激励 审核通过).",
    ),
    _optional("special_review", "bool", False, "Case paid on expert review (特病单议)."),
    _optional(
        "patient_paid",
        "money",
        0.0,
        "Amount paid by the patient, 元 (个人负担); the fund pays the payment less it "
        "(`fund_payment` in the outputs).",
        minimum=0,
    ),
    _optional(
        "insurance_type",
        "text",
        "",
        "Insurance scheme, e.g. employee (职工) or resident (居民) (险种).",
    ),
    _optional("los", "int", 0, "Length of stay in days (住院天数).", minimum=0),
    _optional(
        "drg_suitable",
        "bool",
        True,
        "false = case unsuited to DRG, paid by another method (不适合DRG付费, Suzhou).",
    ),
)

HOSPITAL_FIELDS: tuple[FieldSpec, ...] = (
    _required("hospital_id", "text", "Hospital id (定点医疗机构编码).", unique=True),
    _optional("name", "text", "", "Hospital name (医疗机构名称)."),
    _required(
        "level",
        "int",
        "Hospital level (医院等级): 0 unrated (未定级 / 一级以下), 1 一级, 2 二级, 3 三级.",
        choices=(0, 1, 2, 3),
    ),
    _optional(
        "tier", "text", "", "Budget tier (档次), e.g. Wuxi 3-5-1 tiers A/B/C.", neutral=False
    ),
    _optional("is_new", "bool", False, "New hospital without history (新开设医疗机构)."),
    _optional(
        "hist_avg_cost",
        "money",
        0.0,
        "Historical average cost per case, 元 (历史次均费用).",
        minimum=0,
        neutral=False,
    ),
    _optional(
        "hist_cases",
        "number",
        0.0,
        "Historical yearly number of cases (历史病例数).",
        minimum=0,
        neutral=False,
    ),
    _optional(
        "hist_weight_total",
        "number",
        0.0,
        "Historical yearly total weight (历史总权重).",
        minimum=0,
        neutral=False,
    ),
    _optional(
        "admission_ratio_growth",
        "number",
        0.0,
        "Growth of admissions-per-person ratio (人次人头比增长率), e.g. 0.05 = 5%.",
        neutral=False,
    ),
    _optional(
        "cost_per_weight_growth",
        "number",
        0.0,
        "Growth of cost per unit weight (每权重费用增长率), e.g. 0.05 = 5%.",
        neutral=False,
    ),
    _optional(
        "list_accuracy",
        "number",
        0.0,
        "Settlement-list accuracy (结算清单准确率), 0–1.",
        neutral=False,
    ),
    _optional(
        "assessment_score",
        "number",
        0.0,
        "Annual assessment score (年度考核得分), 0–100.",
        neutral=False,
    ),
)

GROUP_FIELDS: tuple[FieldSpec, ...] = (
    _required("drg_code", "text", "Group code (DRG 病组编码), e.g. GB25.", unique=True),
    _optional("name", "text", "", "Group name (病组名称)."),
    _required(
        "weight", "number", "Relative weight RW (相对权重).", minimum=0, exclusive_minimum=True
    ),
    _required(
        "avg_cost",
        "money",
        "Group benchmark average cost, 元 (病组次均费用).",
        minimum=0,
        exclusive_minimum=True,
    ),
    _optional("base_group", "bool", False, "Wuhan base group, same price city-wide (基础病组)."),
)

TABLES: dict[TableKind, tuple[FieldSpec, ...]] = {
    "cases": CASE_FIELDS,
    "hospitals": HOSPITAL_FIELDS,
    "groups": GROUP_FIELDS,
}

BUDGET_VALUES: dict[str, str] = {
    "drg_fund": "Annual DRG budget on a total-cost basis, 元 (DRG 年度预算).",
    "inpatient_fund": "Annual inpatient fund total, 元 (住院统筹基金总额).",
    "tier_budget": "Budget per tier, 元, e.g. {A: 1.0e8, B: …, C: …} (分档预算).",
}


def key_field(kind: TableKind) -> str:
    """The unique key column of a table (case_id, hospital_id, drg_code)."""
    return next(spec.name for spec in TABLES[kind] if spec.unique)


# ---- reading values: raw column → typed column (vectorized) ----------------------------------

BOOL_WORDS = {
    word: truth
    for words, truth in (
        (("true", "t", "1", "yes", "y", "是"), True),
        (("false", "f", "0", "no", "n", "否"), False),
    )
    for word in words
}


def fits_natively(spec: FieldSpec, dtype: pl.DataType) -> bool:
    """Whether a Parquet column's own type can be used as is (no text parsing)."""
    if spec.dtype in ("money", "number"):
        return dtype.is_numeric()
    if spec.dtype == "int":
        return dtype.is_integer()
    if spec.dtype == "date":
        return dtype == pl.Date or isinstance(dtype, pl.Datetime)
    return spec.dtype == "bool" and dtype == pl.Boolean


def raw_value(spec: FieldSpec, dtype: pl.DataType, *, from_csv: bool) -> pl.Expr:
    """The raw value: native if it fits, else text (trimmed, except Parquet text fields, which
    are typed data taken as is); empty text is missing (null)."""
    if fits_natively(spec, dtype):
        return pl.col(spec.name)
    text = pl.col(spec.name).cast(pl.String)
    if from_csv or spec.dtype != "text":
        text = text.str.strip_chars()
    return pl.when(text != "").then(text)


def typed_value(spec: FieldSpec, raw: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """The contract-typed value of a raw value; null where missing or unparseable."""
    if fits_natively(spec, dtype):
        return _from_native(spec, raw, dtype)
    return _from_text(spec, raw)


def _finite(value: pl.Expr) -> pl.Expr:
    return pl.when(value.is_finite()).then(value)


def _from_text(spec: FieldSpec, raw: pl.Expr) -> pl.Expr:
    match spec.dtype:
        case "money" | "number":
            return _finite(raw.cast(pl.Float64, strict=False))
        case "int":
            number = raw.cast(pl.Float64, strict=False)
            whole = number.is_finite() & (number == number.floor()) & (number.abs() < 2**53)
            return pl.when(whole).then(number.cast(pl.Int64, strict=False))
        case "bool":
            words = raw.str.to_lowercase()
            return words.replace_strict(BOOL_WORDS, default=None, return_dtype=pl.Boolean)
        case "date":
            iso = raw.str.contains(r"^\d{4}-\d{2}-\d{2}$")
            return pl.when(iso).then(raw.str.to_date("%Y-%m-%d", strict=False))
    return raw


def _from_native(spec: FieldSpec, raw: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if spec.dtype in ("money", "number"):
        return _finite(raw.cast(pl.Float64))
    if isinstance(dtype, pl.Datetime):
        return raw.dt.date()
    return raw.cast(POLARS_DTYPES[spec.dtype])


# ---- documentation and JSON Schema ------------------------------------------------------------


def rule_text(spec: FieldSpec) -> str:
    """The validity rule of one field in plain words (for docs and the schema)."""
    rules = ["unique"] if spec.unique else []
    if spec.minimum is not None:
        rules.append(f"{'>' if spec.exclusive_minimum else '≥'} {spec.minimum:g}")
    if spec.choices:
        rules.append("one of " + ", ".join(map(str, spec.choices)))
    rules += _FORMAT_RULES.get(spec.dtype, [])
    return "; ".join(rules)


def field_table(kind: TableKind) -> str:
    """The Markdown table documenting the fields of one table (pasted into CONTRACT.md)."""
    lines = ["| field | type | required | default | meaning | rule |", "|---|---|---|---|---|---|"]
    for spec in TABLES[kind]:
        default = "" if spec.required else f"`{json.dumps(_json_default(spec))}`"
        required = "yes" if spec.required else ("no" if spec.neutral else "if read")
        lines.append(
            f"| `{spec.name}` | {spec.dtype} | {required} | {default} | {spec.description} "
            f"| {rule_text(spec)} |"
        )
    return "\n".join(lines)


def json_schema(
    kind: Literal["cases", "hospitals", "groups", "budget"], extra: Sequence[FieldSpec] = ()
) -> dict[str, Any]:
    """JSON Schema 2020-12 for one row of a table, or for the whole budget document.

    `extra` adds the fields a policy declares for that table (none for the budget).
    """
    if kind == "budget":
        if extra:
            raise ValueError("the budget document takes no extra fields")
        return _budget_schema()
    fields = TABLES[kind] + tuple(extra)
    return _header(kind, f"One row of {kind}.csv or {kind}.parquet.") | {
        "type": "object",
        "properties": {spec.name: _property(spec) for spec in fields},
        "required": [spec.name for spec in fields if spec.required],
    }


def _header(kind: str, description: str) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:drgpolicy:contract:{CONTRACT_VERSION}:{kind}",
        "title": f"drgpolicy input contract {CONTRACT_VERSION}: {kind}",
        "description": description,
        "x-contract-version": CONTRACT_VERSION,
    }


def _property(spec: FieldSpec) -> dict[str, Any]:
    prop: dict[str, Any] = {"type": _JSON_TYPES[spec.dtype], "description": spec.description}
    if not spec.required:
        prop["default"] = _json_default(spec)
    elif spec.dtype == "text":
        prop["minLength"] = 1
    if spec.minimum is not None:
        prop["exclusiveMinimum" if spec.exclusive_minimum else "minimum"] = spec.minimum
    if spec.choices:
        prop["enum"] = list(spec.choices)
    if spec.dtype == "date":
        prop["format"] = "date"
    if spec.dtype == "money":
        prop |= {"x-unit": "元", "x-decimals": 2}
    if spec.unique:
        prop["x-unique"] = True
    if not spec.required and not spec.neutral:
        prop["x-required-if-read"] = True
    return prop


def _json_default(spec: FieldSpec) -> Default:
    if spec.dtype in ("money", "number") and spec.default is not None:
        return float(spec.default)
    return spec.default


def _budget_schema() -> dict[str, Any]:
    amount = {"type": "number", "minimum": 0}
    value = {"oneOf": [amount, {"type": "object", "additionalProperties": amount}]}
    known = {name: value | {"description": text} for name, text in BUDGET_VALUES.items()}
    return _header("budget", "The budget file budget.yaml (预算).") | {
        "type": "object",
        "properties": {
            "contract_version": {"type": ["string", "number"], "description": 'e.g. "1.0"'},
            "year": {"type": "integer", "description": "Budget year (预算年度)."},
            "values": {"type": "object", "properties": known, "additionalProperties": value},
        },
        "required": ["contract_version", "year", "values"],
    }

"""The input data contract (输入数据契约): one tuple of `FieldSpec` per table.

These tuples are the single source of truth: validation (`engine.inputs.contract`), the JSON Schemas
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
TableKind = Literal["cases", "hospitals", "groups", "deductions", "assessments"]
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
#: The rule of a text that is not `free_text` (`FieldSpec`).
_IDENTIFIER = "an identifier or code: no tab or line break"
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

    `exclusive_minimum` makes `minimum` strict (> instead of ≥); `maximum` is the plausible
    bound (合理上限) above which a value is surely an error, e.g. a stay costing more than
    100 million 元, and would push the money past what a double keeps exact to the fen — `why`
    says why it is where it is; `choices` lists the only values allowed (hospital level 0–3).
    A text is an identifier or a code (a case id, a hospital, a group, a tier, a document
    number), which holds no control character, tab or line break, unless `free_text` (a name, a
    reason: words, maybe from a multi-line cell), which may hold a tab or a line break.
    An optional field's default is `neutral` when it is what an absent column means (no flag
    set, no unreasonable cost); a field whose default would only be a guess (a hospital's
    history, indicators, tier) is not neutral, and a policy that reads it needs the column
    (`engine.run.settle.check_columns`).
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
    maximum: float | None = None
    why: str = ""
    free_text: bool = False


#: Plausible bounds (合理上限): generous, finite, each with its reason (`FieldSpec.why`).
STAY_COST_MAX = 100_000_000.0
_STAY_COST_WHY = (
    "100 million 元: the costliest real stays (transplants, CAR-T, months of ECMO) cost a few "
    "million 元"
)
_GROWTH_WHY = "a growth rate: below -1 (−100%) is impossible, above 100 (+10,000%) surely a typo"


def _required(name: str, dtype: Dtype, description: str, **rule: Any) -> FieldSpec:
    return FieldSpec(name, dtype, True, None, description, **rule)


def _optional(
    name: str, dtype: Dtype, default: Default, description: str, **rule: Any
) -> FieldSpec:
    return FieldSpec(name, dtype, False, default, description, **rule)


#: Read by the run-monitoring indicators only (`policy_dsl/library/indicators.policy`): absent,
#: the indicators that read them are reported as not available, never as zero.
MONITORING_CASE_FIELDS: tuple[FieldSpec, ...] = (
    _optional(
        "person_id",
        "text",
        "",
        "Insured person (参保人编码), for admissions per person (人次人头比).",
    ),
    _optional(
        "discharge_outcome",
        "int",
        9,
        "How the stay ended (离院方式), as the settlement list codes it: 1 医嘱离院, 2 医嘱转院, "
        "3 医嘱转社区卫生服务机构/乡镇卫生院, 4 非医嘱离院, 5 死亡, 9 其他 (an empty cell is 9).",
        choices=(1, 2, 3, 4, 5, 9),
    ),
    _optional(
        "self_paid",
        "money",
        0.0,
        "Fully self-paid amount, 元 (全自费金额: items the fund does not cover); must be ≤ "
        "total_cost.",
        minimum=0,
        maximum=STAY_COST_MAX,
        why="part of a stay's cost, bounded as total_cost",
    ),
    _optional(
        "drug_cost",
        "money",
        0.0,
        "Drug cost of the stay, 元 (药品费); with consumable_cost, ≤ total_cost.",
        minimum=0,
        maximum=STAY_COST_MAX,
        why="part of a stay's cost, bounded as total_cost",
    ),
    _optional(
        "consumable_cost",
        "money",
        0.0,
        "Medical consumables cost of the stay, 元 (耗材费); with drug_cost, ≤ total_cost.",
        minimum=0,
        maximum=STAY_COST_MAX,
        why="part of a stay's cost, bounded as total_cost",
    ),
)

CASE_FIELDS: tuple[FieldSpec, ...] = (
    _required("case_id", "text", "Case id (病例号 / 结算清单号).", unique=True),
    _required("hospital_id", "text", "Hospital of the stay (定点医疗机构); must be in hospitals."),
    _required(
        "drg_code",
        "text",
        "Group from the national grouper (DRG 病组); must be in the group catalog, except the "
        "ungrouped code 0000 (未入组) and ambiguous codes xQY (歧义组), always accepted.",
    ),
    _required(
        "total_cost",
        "money",
        "Total cost of the stay in 元 (住院总费用).",
        minimum=0,
        maximum=STAY_COST_MAX,
        why=_STAY_COST_WHY,
    ),
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
        maximum=STAY_COST_MAX,
        why="part of a stay's cost, bounded as total_cost",
    ),
    _optional(
        "incentive_approved",
        "bool",
        False,
        "Major / rare disease incentive approved (大病、罕见病激励 审核通过).",
    ),
    _optional("special_review", "bool", False, "Case paid on expert review (特病单议)."),
    _optional(
        "patient_paid",
        "money",
        0.0,
        "Amount paid by the patient, 元 (个人负担); the fund pays the payment less it "
        "(`fund_payment` in the outputs).",
        minimum=0,
        maximum=STAY_COST_MAX,
        why="part of a stay's cost, bounded as total_cost",
    ),
    _optional(
        "insurance_type",
        "text",
        "",
        "Insurance scheme, e.g. employee (职工) or resident (居民) (险种).",
    ),
    _optional(
        "los",
        "int",
        0,
        "Length of stay in days (住院天数).",
        minimum=0,
        maximum=36_600,
        why="100 years",
    ),
    _optional(
        "drg_suitable",
        "bool",
        True,
        "false = case unsuited to DRG, paid by another method (Suzhou: 不适用 DRG 付费的病例).",
    ),
    *MONITORING_CASE_FIELDS,
)

HOSPITAL_FIELDS: tuple[FieldSpec, ...] = (
    _required("hospital_id", "text", "Hospital id (定点医疗机构编码).", unique=True),
    _optional("name", "text", "", "Hospital name (医疗机构名称).", free_text=True),
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
        maximum=STAY_COST_MAX,
        why="an average of stays, bounded as a stay's total_cost",
    ),
    _optional(
        "hist_cases",
        "number",
        0.0,
        "Historical yearly number of cases (历史病例数).",
        minimum=0,
        maximum=100_000_000,
        neutral=False,
        why="a thousand times the largest hospitals' (about 100,000 a year)",
    ),
    _optional(
        "hist_weight_total",
        "number",
        0.0,
        "Historical yearly total weight (历史总权重).",
        minimum=0,
        neutral=False,
        maximum=100_000_000,
        why="a thousand times the largest hospitals' (about 100,000 a year)",
    ),
    _optional(
        "admission_ratio_growth",
        "number",
        0.0,
        "Growth of admissions-per-person ratio (人次人头比增长率), e.g. 0.05 = 5%.",
        neutral=False,
        minimum=-1,
        maximum=100,
        why=_GROWTH_WHY,
    ),
    _optional(
        "cost_per_weight_growth",
        "number",
        0.0,
        "Growth of cost per unit weight (每权重费用增长率), e.g. 0.05 = 5%.",
        neutral=False,
        minimum=-1,
        maximum=100,
        why=_GROWTH_WHY,
    ),
    _optional(
        "list_accuracy",
        "number",
        0.0,
        "Settlement-list accuracy (结算清单准确率), 0–1.",
        neutral=False,
        minimum=0,
        maximum=1,
        why="a share",
    ),
    _optional(
        "assessment_score",
        "number",
        0.0,
        "Annual assessment score (年度考核得分), 0–100.",
        neutral=False,
        minimum=0,
        maximum=1000,
        why="a score out of 100, or out of 1,000 where a city scores so (千分制)",
    ),
)

GROUP_FIELDS: tuple[FieldSpec, ...] = (
    _required("drg_code", "text", "Group code (DRG 病组编码), e.g. GB25.", unique=True),
    _optional("name", "text", "", "Group name (病组名称).", free_text=True),
    _required(
        "weight",
        "number",
        "Relative weight RW (相对权重).",
        minimum=0,
        exclusive_minimum=True,
        maximum=1000,
        why="the heaviest CHS-DRG groups (transplants) weigh about 30",
    ),
    _required(
        "avg_cost",
        "money",
        "Group benchmark average cost, 元 (病组次均费用).",
        minimum=0,
        exclusive_minimum=True,
        maximum=STAY_COST_MAX,
        why="an average of stays, bounded as a stay's total_cost",
    ),
    _optional("base_group", "bool", False, "Wuhan base group, same price city-wide (基础病组)."),
    _optional(
        "targeted_therapy",
        "bool",
        False,
        "A group of targeted therapy (靶向治疗组), which Wuxi's monitoring watches.",
    ),
    _optional(
        "tcm_advantage",
        "bool",
        False,
        "A group where traditional Chinese medicine has an advantage (中医优势病组), which "
        "Wuxi's monitoring watches.",
    ),
)

#: Supervision (医保监管): deductions and assessment scores per hospital, each row naming an
#: `input deduction` / `input assessment` the policy declares (`engine.inputs.supervision`).
DEDUCTION_FIELDS: tuple[FieldSpec, ...] = (
    _required("hospital_id", "text", "Hospital deducted (定点医疗机构); must be in hospitals."),
    _required(
        "kind",
        "text",
        "Which deduction: the name of an `input deduction` of the policy, e.g. audit_deduction "
        "(智能审核违规扣款), refusal (拒付).",
    ),
    _required(
        "amount",
        "money",
        "Amount deducted, 元 (扣款金额).",
        minimum=0,
        maximum=1e10,
        why="a year of the largest hospitals' inpatient payments (about 10 billion 元)",
    ),
    _required(
        "date",
        "date",
        "Date of the decision (扣款日期); the row counts in the period (month, year) it falls in.",
    ),
    _required("reason", "text", "Why, in words (扣款原因), e.g. 高套分值.", free_text=True),
    _optional(
        "reference", "text", "", "The decision's document number or audit id (文书号 / 稽核编号)."
    ),
)

ASSESSMENT_FIELDS: tuple[FieldSpec, ...] = (
    _required("hospital_id", "text", "Hospital assessed (定点医疗机构); must be in hospitals."),
    _required(
        "assessment",
        "text",
        "Which assessment: the name of an `input assessment` of the policy, e.g. drg_assessment "
        "(DRG专项考核), insurance_assessment (年度医保考核).",
    ),
    _required(
        "score",
        "number",
        "Score on the assessment's own scale (考核得分), e.g. 92.5.",
        minimum=0,
        maximum=1000,
        why="a score out of 100, or out of 1,000 where a city scores so (千分制)",
    ),
    _optional(
        "year",
        "int",
        None,
        "Year assessed (考核年度); the score holds in every period of that year.",
        minimum=1900,
    ),
    _optional(
        "date",
        "date",
        None,
        "Date of the assessment (考核日期); without `year`, its year is the year assessed. "
        "Without either, the score holds in every period.",
    ),
)

TABLES: dict[TableKind, tuple[FieldSpec, ...]] = {
    "cases": CASE_FIELDS,
    "hospitals": HOSPITAL_FIELDS,
    "groups": GROUP_FIELDS,
    "deductions": DEDUCTION_FIELDS,
    "assessments": ASSESSMENT_FIELDS,
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


def raw_value(spec: FieldSpec, dtype: pl.DataType) -> pl.Expr:
    """The raw value: native if it fits, else text trimmed of surrounding white space, in CSV
    and Parquet alike (`C000005 ` is `C000005`); empty text is missing (null)."""
    if fits_natively(spec, dtype):
        return pl.col(spec.name)
    text = pl.col(spec.name).cast(pl.String).str.strip_chars()
    return pl.when(text != "").then(text)


def needs_trimming(name: str) -> pl.Expr:
    """Whether any text of a String column is empty or has white space around it: else its
    `raw_value` is the column as it is, and checking (one pass, nothing allocated) is cheaper
    than rewriting every text (10M case ids, hospitals, groups… in a 10M-case file)."""
    return white_space_around(name) | empty_text(name)


def white_space_around(name: str) -> pl.Expr:
    """Whether any text of a String column has white space around it (`raw_value` trims it)."""
    text = pl.col(name)
    return (text.str.strip_chars() != text).any()


def empty_text(name: str) -> pl.Expr:
    """Whether any text of a String column is empty (`raw_value` reads it as missing)."""
    return (pl.col(name) == "").any()


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
    # a UInt64 beyond Int64 is not a value the contract holds: rejected as text beyond it is
    return raw.cast(POLARS_DTYPES[spec.dtype], strict=False)


# ---- documentation and JSON Schema ------------------------------------------------------------


def rule_text(spec: FieldSpec) -> str:
    """The validity rule of one field in plain words (for docs and the schema)."""
    rules = ["unique"] if spec.unique else []
    if spec.minimum is not None:
        rules.append(_lower_bound(spec))
    if spec.maximum is not None:
        rules.append(f"≤ {bound_text(spec.maximum)}")
    if spec.choices:
        rules.append("one of " + ", ".join(map(str, spec.choices)))
    rules += _FORMAT_RULES.get(spec.dtype, [])
    if spec.dtype == "text":
        rules.append("free text: a tab or line break kept" if spec.free_text else _IDENTIFIER)
    return "; ".join(rules)


def _lower_bound(spec: FieldSpec) -> str:
    return f"{'>' if spec.exclusive_minimum else '≥'} {bound_text(spec.minimum or 0)}"


def bound_text(value: float) -> str:
    """A bound as people write it: `100,000,000`, `1`, `-1`, `0.5`."""
    return f"{value:,.0f}" if value == int(value) else f"{value:g}"


def bounds_table() -> str:
    """The Markdown table of the plausible bounds and their reasons (pasted into CONTRACT.md)."""
    lines = ["| table | field | bound | why |", "|---|---|---|---|"]
    for kind, specs in TABLES.items():
        for spec in specs:
            if spec.maximum is not None:
                low = "" if spec.minimum is None else f"{_lower_bound(spec)}, "
                bound = f"{low}≤ {bound_text(spec.maximum)}"
                lines.append(f"| {kind} | `{spec.name}` | {bound} | {spec.why} |")
    return "\n".join(lines)


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


def json_schema(kind: TableKind, extra: Sequence[FieldSpec] = ()) -> dict[str, Any]:
    """JSON Schema 2020-12 for one row of a table (the budget's: `engine.inputs.budget`).

    `extra` adds the fields a policy declares for that table.
    """
    fields = TABLES[kind] + tuple(extra)
    return schema_header(kind, f"One row of {kind}.csv or {kind}.parquet.") | {
        "type": "object",
        "properties": {spec.name: _property(spec) for spec in fields},
        "required": [spec.name for spec in fields if spec.required],
    }


def schema_header(kind: str, description: str) -> dict[str, Any]:
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
        if spec.default is None:
            prop["type"] = [prop["type"], "null"]
    elif spec.dtype == "text":
        prop["minLength"] = 1
    if spec.minimum is not None:
        prop["exclusiveMinimum" if spec.exclusive_minimum else "minimum"] = spec.minimum
    if spec.maximum is not None:
        prop["maximum"] = spec.maximum
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

"""What every policy can use without declaring it: the core input fields of the data contract
and the built-in functions and aggregates."""

from __future__ import annotations

from dataclasses import dataclass

from policy_dsl import grains
from policy_dsl.grains import CASE
from policy_dsl.types import BOOL, DATE, MONEY, NUMBER, TEXT, Type


@dataclass(frozen=True, slots=True)
class Field:
    """An input field: which input table it comes from, its grain and type."""

    name: str
    table: str
    grain: grains.Grain
    type: Type
    label: str
    column: str


HOSPITAL = frozenset({"hospital"})
GROUP = frozenset({"group"})
_MONEY = Type("number", MONEY)


def _case(name: str, type_: Type, label: str) -> Field:
    return Field(name, "cases", CASE, type_, label, name)


def _hospital(name: str, type_: Type, label: str, column: str | None = None) -> Field:
    return Field(name, "hospitals", HOSPITAL, type_, label, column or name)


def _group(name: str, type_: Type, label: str, column: str | None = None) -> Field:
    return Field(name, "groups", GROUP, type_, label, column or name)


#: The core fields, by the name a policy uses.
CORE_FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        _case("case_id", TEXT, "病例号"),
        _case("total_cost", _MONEY, "住院总费用"),
        _case("discharge_date", DATE, "出院日期"),
        _case("bilateral", BOOL, "双侧器官同时手术"),
        _case("multi_site", BOOL, "一次手术多部位"),
        _case("secondary_drg", TEXT, "次要手术病组"),
        _case("unreasonable_cost", _MONEY, "不合理费用"),
        _case("incentive_approved", BOOL, "大病、罕见病激励已认定"),
        _case("special_review", BOOL, "特病单议"),
        _case("patient_paid", _MONEY, "个人负担"),
        _case("insurance_type", TEXT, "险种"),
        _case("los", NUMBER, "住院天数"),
        _case("drg_suitable", BOOL, "适用DRG付费"),
        _case("person_id", TEXT, "参保人编码"),
        _case("discharge_outcome", NUMBER, "离院方式"),
        _case("self_paid", _MONEY, "全自费金额"),
        _case("drug_cost", _MONEY, "药品费"),
        _case("consumable_cost", _MONEY, "耗材费"),
        _case("ungrouped", BOOL, "未入组或歧义组"),
        Field("hospital_id", "hospitals", HOSPITAL, TEXT, "医疗机构编码", "hospital_id"),
        _hospital("hospital_name", TEXT, "医疗机构名称", "name"),
        Field("level", "hospitals", frozenset({"level"}), NUMBER, "医院级别", "level"),
        Field("tier", "hospitals", frozenset({"tier"}), TEXT, "分档", "tier"),
        _hospital("is_new", BOOL, "新开医院"),
        _hospital("hist_avg_cost", _MONEY, "历史次均费用"),
        _hospital("hist_cases", NUMBER, "历史病例数"),
        _hospital("hist_weight_total", NUMBER, "历史总权重"),
        _hospital("admission_ratio_growth", NUMBER, "人次人头比增长率"),
        _hospital("cost_per_weight_growth", NUMBER, "每权重费用增长率"),
        _hospital("list_accuracy", NUMBER, "结算清单准确率"),
        _hospital("assessment_score", NUMBER, "年度考核得分"),
        Field("drg_code", "groups", GROUP, TEXT, "病组编码", "drg_code"),
        _group("group_name", TEXT, "病组名称", "name"),
        _group("weight", NUMBER, "病组权重（RW）"),
        _group("avg_cost", _MONEY, "病组次均费用"),
        _group("base_group", BOOL, "基础病组"),
        _group("targeted_therapy", BOOL, "靶向治疗组"),
        _group("tcm_advantage", BOOL, "中医优势病组"),
        Field("month", "cases", frozenset({"month"}), TEXT, "结算月份", "month"),
        Field("period_months", "run", grains.ALL, NUMBER, "本结算期月数", "period_months"),
        Field("period_year", "run", grains.ALL, NUMBER, "结算年度", "period_year"),
    )
}

#: Input tables a policy may add fields to with `input <table> <name> …`: a `deduction` (违规扣款,
#: 拒付, 考核扣罚) is a per-hospital amount summed from `deductions.csv`, an `assessment` (考核) a
#: per-hospital score from `assessments.csv` (engine/CONTRACT.md).
INPUT_TABLES = {
    "case": "cases",
    "hospital": "hospitals",
    "group": "groups",
    "budget": "budget",
    "deduction": "deductions",
    "assessment": "assessments",
}


@dataclass(frozen=True, slots=True)
class Function:
    """A row-wise built-in: argument count range and how its result type is formed."""

    name: str
    min_args: int
    max_args: int | None
    result: str  # "same" (unit of the arguments), "text", "first"
    doc: str


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function("min", 2, None, "same", "the smallest of its arguments (missing ones ignored)"),
        Function("max", 2, None, "same", "the largest of its arguments (missing ones ignored)"),
        Function("clamp", 3, 3, "same", "clamp(x, low, high): x kept within [low, high]"),
        Function("floor", 1, 1, "first", "round down to a whole number"),
        Function("ceil", 1, 1, "first", "round up to a whole number"),
        Function("round", 1, 2, "first", "round(x, digits): half away from zero"),
        Function("round_fen", 1, 1, "first", "money rounded half away from zero to the fen (分)"),
        Function("abs", 1, 1, "first", "absolute value"),
        Function("ln", 1, 1, "first", "natural logarithm (missing for 0 or less)"),
        Function("if_missing", 2, 2, "same", "if_missing(x, y): x, or y where x is missing"),
        Function(
            "no_cc",
            1,
            1,
            "text",
            "no_cc(code): the same ADRG's group without CC (…5, else …9); missing when the "
            "catalog has neither (or for xQY, 0000, empty): wrap a read of it in if_missing",
        ),
        Function("adrg", 1, 1, "text", "the ADRG of a group code (its first three characters)"),
    )
}

#: Aggregates move a value to the definition's (coarser) grain.
AGGREGATES = {
    "sum": "total over the finer rows (0 when there are none)",
    "mean": "average over the finer rows (missing when there are none)",
    "min": "smallest over the finer rows (missing when there are none)",
    "max": "largest over the finer rows (missing when there are none)",
    "cv": "coefficient of variation: population standard deviation ÷ mean",
    "count": "count(<grain> where …): how many finer rows (e.g. count(case))",
    "share": "share(<grain> where …): the share of finer rows meeting the condition",
    "distinct": "distinct(x where …): how many different values x takes over the finer rows "
    "(e.g. distinct(person_id): the persons admitted; missing values not counted)",
}

#: Special forms with syntax of their own (listed for name resolution and docs).
SPECIAL_FORMS = {
    "allocate": "allocate(total, weights): a total split over rows by weight, exact to the fen",
}

"""Semantic diff of two versions: exactly the changes of meaning, typed, stable, serializable."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from policy_dsl import ast as a
from policy_dsl.check import check
from policy_dsl.diff import Change, diff_files, diff_versions
from policy_dsl.loader import Resolved, policy_from_text, resolve
from policy_dsl.unparse import number_text

REPO = Path(__file__).resolve().parents[2]
XUANCHENG = REPO / "policies" / "xuancheng"
TEXT_2023 = (XUANCHENG / "2023.policy").read_text(encoding="utf-8")
TEXT_2024 = (XUANCHENG / "2024.policy").read_text(encoding="utf-8")


def resolved(text: str, *bases: str) -> Resolved:
    """A version from text, with its base versions (also text) as siblings."""
    siblings = [policy_from_text(base, f"base{i}.policy") for i, base in enumerate(bases)]
    return resolve(policy_from_text(text, "version.policy"), siblings)


def changes(old: str, new: str, *bases: str) -> list[Change]:
    return diff_versions(resolved(old, *bases), resolved(new, *bases))


def summary(found: list[Change]) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(c.clause, c.kind, tuple(x.name for x in c.aspects)) for c in found]


# ---- Xuancheng 2023 → 2024 -------------------------------------------------------------------

#: Written by hand from the two files: clause → (kind, old, new). 2024 overrides nine
#: declarations of 2023 and adds the rest; `stable_group`, `combined_coefficient` and the classes
#: `special` and `ungrouped` are overridden with the same rule and other words (citations, label).
STABLE_GROUP = (
    "(count(case) >= large_number_cases or count(case) > min_stable_cases)"
    " and cv(total_cost) <= cv_limit"
)
COMBINED = "level_coefficient * level_share + cost_coefficient * cost_share"
XUANCHENG_2023_TO_2024 = {
    "header:title": (
        "changed",
        '"宣城市基本医疗保险区域总额预算管理下的疾病诊断相关分组点数付费实施办法"',
        '"关于促进三医协同发展优化医保DRG点数付费政策的通知（征求意见稿）"',
    ),
    "header:effective": ("changed", "2023-01-01 to 2023-12-31", "2024-01-01 to 2024-12-31"),
    "param:min_stable_cases": ("changed", "10", "5"),
    "param:cv_limit": ("changed", "1", "1"),
    "definition:stable_group": ("changed", STABLE_GROUP, STABLE_GROUP),
    "param:low_ratio_grassroots": ("added", None, "30%"),
    "class:category/special": ("changed", "special_review", "special_review"),
    "class:category/ungrouped": ("changed", "ungrouped", "ungrouped"),
    "class:category/unstable": ("changed", "not stable_group", "not stable_group"),
    "class:category/low": (
        "changed",
        "cost_ratio <= low_ratio_standard",
        "(level <= 1 and cost_ratio <= low_ratio_grassroots)"
        " or (level >= 2 and cost_ratio <= low_ratio_standard)",
    ),
    "param:level_share": ("changed", "70%", "80%"),
    "param:cost_share": ("changed", "30%", "20%"),
    "param:new_hospital_share": ("added", None, "80%"),
    "input:filed_coefficient": ("added", None, "hospital.filed_coefficient : ratio"),
    "definition:combined_coefficient": ("changed", COMBINED, COMBINED),
    "definition:level_min_coefficient": (
        "added",
        None,
        "min((if filed_coefficient > 0 then filed_coefficient else combined_coefficient)"
        " where not no_history)",
    ),
    "definition:new_hospital_coefficient": (
        "added",
        None,
        "max(level_coefficient * new_hospital_share, level_min_coefficient)",
    ),
    "definition:measured_coefficient": (
        "added",
        None,
        "if no_history then new_hospital_coefficient else combined_coefficient",
    ),
    "definition:hospital_coefficient": (
        "changed",
        "if no_history then level_coefficient else combined_coefficient",
        "if filed_coefficient > 0 then (if no_history then max(filed_coefficient,"
        " level_min_coefficient) else filed_coefficient) else measured_coefficient",
    ),
    "definition:coefficient": (
        "changed",
        "if category in (special, ungrouped, unstable) then 1 else hospital_coefficient",
        "if category in (special, ungrouped, unstable) or incentive_kept then 1"
        " else hospital_coefficient",
    ),
    "definition:coefficient_gap": (
        "added",
        None,
        "if filed_coefficient > 0 then filed_coefficient - measured_coefficient else 0",
    ),
    "table:incentive_share": ("added", None, "from level to ratio"),
    "definition:drg_cases": ("added", None, "count(case where not ungrouped)"),
    "definition:incentive_quota": ("added", None, "floor(incentive_share[level] * drg_cases)"),
    "definition:incentive_points": (
        "added",
        None,
        "(total_cost - unreasonable_cost) / all_avg_cost * 100 pt",
    ),
    "definition:group_settled_points": (
        "added",
        None,
        "group_case_points * (if category in (special, ungrouped, unstable) then 1 else "
        "hospital_coefficient)",
    ),
    "definition:incentive_candidate": (
        "added",
        None,
        "incentive_approved and not ungrouped and incentive_points > group_settled_points",
    ),
    "definition:incentive_rank": (
        "added",
        None,
        "rank(incentive_points desc within hospital where incentive_candidate)",
    ),
    "definition:incentive_kept": (
        "added",
        None,
        "incentive_candidate and incentive_rank <= incentive_quota",
    ),
    "definition:group_case_points": (
        "added",
        None,
        "from class_points; steps bilateral, multi_site",
    ),
    "definition:case_points": (
        "changed",
        "let = class_points",
        "adjust from group_case_points; steps incentive",
    ),
    "input:hospital_type": ("added", None, "hospital.hospital_type : text"),
    "definition:horse_race_member": (
        "added",
        None,
        'level >= 2 and (hospital_type == "综合" or hospital_type == "")',
    ),
    "definition:cost_per_point": ("added", None, "sum(total_cost) / sum(case_points)"),
    "definition:horse_race_rank": (
        "added",
        None,
        "rank(cost_per_point asc within level where horse_race_member)",
    ),
    "invariant:monotone_points": (
        "changed",
        "monotone case_points in total_cost",
        "monotone settled_points in total_cost",
    ),
}
#: The changes of words only: the same rule, other citations (and a new label).
CITATION_ONLY_2024 = {
    "param:cv_limit",
    "definition:stable_group",
    "class:category/special",
    "class:category/ungrouped",
    "class:category/unstable",
}


def xuancheng_diff() -> list[Change]:
    return diff_files(XUANCHENG / "2023.policy", XUANCHENG / "2024.policy")


def test_xuancheng_2023_to_2024_lists_exactly_the_expected_changes() -> None:
    found = xuancheng_diff()
    assert len(found) == len({c.clause for c in found}) == 36
    assert {c.clause: (c.kind, c.old, c.new) for c in found} == XUANCHENG_2023_TO_2024
    assert {c.clause for c in found if c.citation_only} == CITATION_ONLY_2024


def _line_2024(start: str) -> str:
    """The one line of the 2024 file that begins (after its indent) with `start`."""
    (line,) = [x.strip() for x in TEXT_2024.splitlines() if x.strip().startswith(start)]
    return line


def test_xuancheng_changes_carry_their_aspects_and_citations() -> None:
    by_clause = {c.clause: c for c in xuancheng_diff()}
    low = by_clause["class:category/low"]
    assert (low.what, low.name, low.part, low.stage) == ("class", "category", "low", None)
    assert [x.name for x in low.aspects] == ["condition", "citations"]
    assert low.old_citations == (
        'assumption "2023 年各级医院的低倍率按“0.4 倍以下”理解，“以下”含本数（≤，含边界），待核"',
    )
    assert low.new_citations == (
        'source xc2024 "住院总费用低于本 DRG 病组均次费用 0.3 倍以下的费用过低病例"',
        _line_2024('assumption "“低于……0.3 倍以下”两个词在 0.3 倍处相反'),
        'assumption "级别 0（未定级、一级以下）属于“一级及以下”"',
        'assumption "通知只调整一级及以下医疗机构；二级及以上沿用 2023 年口径'
        '（≤ 0.4 倍，见 2023.policy）"',
    )
    assert "（≤ 0.3，含边界）" in low.new_citations[1]
    assert not low.citation_only
    special = by_clause["class:category/special"]
    assert [x.name for x in special.aspects] == ["citations"] and special.citation_only
    assert special.new_citations == (
        'source xc2024 "参照特病单议流程"',
        'assumption "经专家评议认定的病例，优先于其他分类（沿用 2023 年版）。'
        "16号 的特病单议规则原文未核：所引原话出自二（二）激励机制一句，"
        '只说明有特病单议流程，不给出特病单议病例的次序与点数"',
    )
    ungrouped = by_clause["class:category/ungrouped"]
    assert ungrouped.citation_only and ungrouped.new_citations == (
        'assumption "未入组（0000）及歧义组（QY）病例没有病组点数，按费用折算（沿用 2023 年版）"',
    )
    assert ungrouped.old_citations == (
        'assumption "未入组（0000）及歧义组（QY）病例没有病组点数，按费用折算"',
    )
    group_points = by_clause["definition:group_case_points"]
    steps = [detail.split(":")[0] for detail in group_points.details]
    assert steps == ["step bilateral", "step multi_site"]
    assert group_points.details[0] == (
        "step bilateral: when bilateral and category in (normal, high, low)"
        " -> max(current, base_points * 150%)"
    )
    case_points = by_clause["definition:case_points"]
    assert [x.name for x in case_points.aspects] == ["form"]
    assert case_points.details == ("step incentive: when incentive_kept -> incentive_points",)
    share = by_clause["table:incentive_share"]
    assert share.details == ("row 0: 4‰", "row 1: 4‰", "row 2: 4‰", "row 3: 6‰")
    stable = by_clause["definition:stable_group"]
    assert [x.name for x in stable.aspects] == ["citations"] and stable.citation_only
    assert stable.new_citations[:2] == (
        'source xc2024 "对组内病例数符合大数定理界值要求或者病例数>5 例且 CV≤1 的病组'
        '确定为稳定病组"',
        'source xc2024 "对组内病例数≤5 例或 CV>1 的病组确定为非稳定病组"',
    )
    assert any("ddof = 0" in c for c in stable.old_citations)
    assert any("ddof = 0" in c for c in stable.new_citations)
    combined = by_clause["definition:combined_coefficient"]
    assert [(x.name, x.old, x.new) for x in combined.aspects[:1]] == [
        (
            "label",
            '"测算系数（级别系数与成本系数加权）"',
            '"统一测算系数（级别系数 × 80% + 成本系数 × 20%）"',
        )
    ]
    assert [x.name for x in combined.aspects] == ["label", "citations"]
    assert not combined.citation_only
    min_cases = by_clause["param:min_stable_cases"]
    assert [x.name for x in min_cases.aspects] == ["value", "citations"]
    assert min_cases.new_citations == (
        'source xc2024 "将 DRG 稳定病组和非稳定病组分组的病例数要求下调至5 例"',
    )
    assert min_cases.describe().startswith("changed parameter min_stable_cases: 10 → 5; ")
    grassroots = by_clause["param:low_ratio_grassroots"]
    assert grassroots.what == "parameter"
    assert grassroots.new_citations == (
        'source xc2024 "对一级及以下定点医疗机构低倍率病例，调整为住院总费用低于本 DRG 病组均次费用'
        ' 0.3 倍以下的费用过低病例"',
    )
    assert grassroots.describe() == "added parameter low_ratio_grassroots: 30%"
    filed = by_clause["input:filed_coefficient"]
    assert (filed.what, filed.kind) == ("input", "added")
    assert by_clause["header:effective"].describe() == (
        "changed effective: 2023-01-01 to 2023-12-31 → 2024-01-01 to 2024-12-31"
    )


def test_xuancheng_diff_lists_the_header_first_then_declarations_in_file_order() -> None:
    clauses = [c.clause for c in xuancheng_diff()]
    assert clauses[:2] == ["header:title", "header:effective"]
    assert clauses.index("definition:stable_group") < clauses.index("class:category/low")
    assert clauses[-1] == "definition:horse_race_rank"


def test_changes_serialize_to_json_and_describe_in_one_line() -> None:
    found = xuancheng_diff()
    data = json.loads(json.dumps([c.to_json() for c in found], ensure_ascii=False))
    assert [d["clause"] for d in data] == [c.clause for c in found]
    assert data == [c.to_json() for c in xuancheng_diff()]  # stable across runs
    first = data[0]
    assert set(first) == {
        "clause",
        "kind",
        "what",
        "stage",
        "name",
        "part",
        "old",
        "new",
        "aspects",
        "citation_only",
        "old_citations",
        "new_citations",
        "details",
        "description",
    }
    assert all("\n" not in c.describe() for c in found)


# ---- no change -------------------------------------------------------------------------------


def test_a_version_against_itself_is_empty() -> None:
    assert diff_files(XUANCHENG / "2023.policy", XUANCHENG / "2023.policy") == []
    assert diff_files(XUANCHENG / "2024.policy", XUANCHENG / "2024.policy") == []


def relayout(text: str) -> str:
    """The same policy on one line, comments dropped (the language is free-form)."""
    lines = (re.sub(r"\s*#[^\n\"]*$", "", line).strip() for line in text.splitlines())
    return " ".join(line for line in lines if line)


def recomment(text: str) -> str:
    """The same policy with other comments and indentation."""
    lines = [
        f"    {line.strip()}    # 注 {i}" if line.strip() else ""
        for i, line in enumerate(text.splitlines())
    ]
    return "# 新的说明\n\n" + "\n\n".join(lines) + "\n"


def test_layout_and_comments_are_not_changes() -> None:
    assert "\n" not in relayout(TEXT_2023).strip()
    assert changes(TEXT_2023, relayout(TEXT_2023)) == []
    assert changes(TEXT_2023, recomment(TEXT_2023)) == []
    assert changes(TEXT_2024, relayout(TEXT_2024), TEXT_2023) == []
    assert changes(TEXT_2024, recomment(TEXT_2024), TEXT_2023) == []


def test_reformatted_base_version_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "2023.policy").write_text(recomment(TEXT_2023), encoding="utf-8")
    (tmp_path / "2024.policy").write_text(relayout(TEXT_2024), encoding="utf-8")
    assert diff_files(XUANCHENG / "2024.policy", tmp_path / "2024.policy") == []


def test_the_spelling_of_a_number_is_not_a_change() -> None:
    edited = TEXT_2023.replace("ratio = 40%", "ratio = 0.40").replace("[0, 100)", "[0, 100.0)")
    assert edited != TEXT_2023
    assert changes(TEXT_2023, edited) == []


def _block(text: str, start: str) -> str:
    """The declaration of `text` that begins with the line `start…`, up to the next blank line."""
    at = text.index(start)
    return text[at : text.index("\n\n", at) + 1]


def test_override_is_not_a_change() -> None:
    # 2024 overriding stable_group with the whole 2023 declaration: resolved, nothing changed.
    block_2023 = _block(TEXT_2023, 'let stable_group "稳定病组"')
    block_2024 = _block(TEXT_2024, 'override let stable_group "稳定病组"')
    assert block_2024 != "override " + block_2023
    same = TEXT_2024.replace(block_2024, "override " + block_2023)
    assert same.count("override let stable_group") == 1 and same != TEXT_2024
    found = {c.clause for c in changes(TEXT_2023, same, TEXT_2023)}
    assert "definition:stable_group" not in found
    assert found == set(XUANCHENG_2023_TO_2024) - {"definition:stable_group"}


# ---- citation only ---------------------------------------------------------------------------


def test_a_citation_only_edit_is_reported_as_such() -> None:
    edited = TEXT_2023.replace(
        'assumption "2024 年通知只下调病例数要求，未说改变 CV 条件；按 CV ≤ 1 处理，'
        '待与 16号 核对"',
        'source xc2023 "第五条"',
    )
    assert edited != TEXT_2023
    [change] = changes(TEXT_2023, edited)
    assert (change.clause, change.kind, change.what) == ("param:cv_limit", "changed", "parameter")
    assert change.citation_only
    assert change.old == change.new == "1"
    assert change.new_citations == ('source xc2023 "第五条"',)
    assert change.describe().startswith("changed parameter cv_limit (citation only): citations ")
    assert change.to_json()["citation_only"] is True


def test_a_citation_edit_of_a_class_is_citation_only_for_that_class() -> None:
    edited = TEXT_2023.replace(
        "“达到”判定倍数即为高倍率（含边界）", "“达到”判定倍数即为高倍率（含边界），已核"
    )
    assert edited.count("已核") == 1
    assert summary(changes(TEXT_2023, edited)) == [
        ("class:category/high", "changed", ("citations",))
    ]


# ---- one change per edit: hypothesis ---------------------------------------------------------

#: The parameters of Xuancheng 2023: name → (literal kind, value as written).
PARAMS_2023: dict[str, tuple[a.LiteralKind, str]] = {
    "low_ratio_standard": ("percent", "40%"),
    "cv_limit": ("number", "1"),
    "min_stable_cases": ("number", "10"),
    "large_number_cases": ("number", "100"),
    "level_share": ("percent", "70%"),
    "cost_share": ("percent", "30%"),
}


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(PARAMS_2023)),
    value=st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False),
)
def test_a_random_parameter_value_change_is_exactly_one_change(name: str, value: Decimal) -> None:
    kind, written = PARAMS_2023[name]
    new = number_text(a.Number(value, kind))
    assume(Decimal(new.rstrip("%")) != Decimal(written.rstrip("%")))
    pattern = rf"(param {name} \"[^\"]*\" : \w+ = )\S+"
    edited = re.sub(pattern, lambda m: m.group(1) + new, TEXT_2023)
    [change] = changes(TEXT_2023, edited)
    assert (change.clause, change.kind, change.old, change.new) == (
        f"param:{name}",
        "changed",
        written,
        new,
    )
    assert [x.name for x in change.aspects] == ["value"]
    assert change.describe() == f"changed parameter {name}: {written} → {new}"


# ---- granularity on a small policy -----------------------------------------------------------

SMALL = """
policy demo version "1"
  effective 2024-01-01
  method points

document doc "示例DRG付费细则" issuer "示例市医疗保障局" number "文号1" date 2024-01-01 status draft

input budget drg_fund "年度基金预算" : money

param low_ratio "低倍率系数" : ratio = 40%
  source doc "第一条"

table high_k "高倍率倍数" from points to ratio
  assumption "待核"
  [0, 100) -> 300%
  [100, inf) -> 200%

let base_points "基准点数" : points at group = weight * 100 pt
  assumption "权重 × 100"
let cost_ratio "费用倍率" : ratio at case = total_cost / avg_cost
let level_cost "同级别次均费用" : money at level, group = mean(total_cost)

classify category "病例类型"
  class special "特病单议病例" when special_review
  class high "高倍率病例" when cost_ratio >= high_k[base_points]
  class low "低倍率病例" when cost_ratio <= low_ratio
  class normal "正常病例" otherwise

formula class_points "分类点数" : points by category
  high -> base_points * cost_ratio
  low -> base_points * cost_ratio
  otherwise -> base_points

adjust case_points "病例点数" : points from class_points
  step bilateral "双侧器官" when bilateral -> base_points * 150%
    assumption "待核"
  step not_negative "不为负" when current < 0 pt -> 0 pt

let coefficient "系数" : ratio at case = 1
let settled_points "结算点数" : points at case = case_points * coefficient
let point_value "点值" at all = drg_fund / sum(settled_points)
let payment "病例支付额" : money at case = settled_points * point_value

invariant points_not_negative "病例点数不为负"
  always case_points >= 0 pt

stage monthly "月度预结算" per month
  let advance "预付额" : money at case = payment * 90%
    assumption "预付 90%"
"""


def small_diff(*edits: tuple[str, str]) -> list[Change]:
    edited = SMALL
    for old, new in edits:
        assert old in edited, old
        edited = edited.replace(old, new)
    return changes(SMALL, edited)


def test_the_small_policy_checks() -> None:
    assert check(resolved(SMALL)).ok


def test_a_class_moved_is_changed_in_its_order() -> None:
    moved = small_diff(
        ('  class low "低倍率病例" when cost_ratio <= low_ratio\n', ""),
        (
            '  class high "',
            '  class low "低倍率病例" when cost_ratio <= low_ratio\n  class high "',
        ),
    )
    [change] = moved
    assert change.clause == "class:category/low"
    assert [(x.name, x.old, x.new) for x in change.aspects] == [
        ("order", "after high", "after special")
    ]


def test_classes_added_and_removed() -> None:
    found = small_diff(
        ('  class special "特病单议病例" when special_review\n', ""),
        ('  class normal "', '  class ungrouped "未入组" when ungrouped\n  class normal "'),
    )
    assert summary(found) == [
        ("class:category/ungrouped", "added", ()),
        ("class:category/special", "removed", ()),
    ]
    assert found[1].describe() == "removed class category/special (was special_review)"


def test_formula_arms_and_steps_change_one_by_one() -> None:
    found = small_diff(
        ("  low -> base_points * cost_ratio", "  low -> base_points * cost_ratio * 90%"),
        (
            '  step not_negative "',
            '  step multi_site "多部位" when multi_site -> current + 10 pt\n  step not_negative "',
        ),
    )
    assert summary(found) == [
        ("arm:class_points/low", "changed", ("value",)),
        ("step:case_points/multi_site", "added", ()),
    ]
    assert found[1].new == "when multi_site -> current + 10 pt"


def test_steps_reordered() -> None:
    last = '  step not_negative "不为负" when current < 0 pt -> 0 pt\n'
    found = small_diff((last, ""), ('  step bilateral "', last + '  step bilateral "'))
    assert [(c.clause, [(x.name, x.old, x.new) for x in c.aspects]) for c in found] == [
        ("step:case_points/not_negative", [("order", "after bilateral", "first")])
    ]


def test_table_rows_change_one_by_one() -> None:
    found = small_diff(
        ("[0, 100) -> 300%", "[0, 100) -> 280%"),
        ("  [100, inf) -> 200%", "  [100, 300) -> 200%\n  [300, inf) -> 150%"),
    )
    assert [(c.clause, c.kind, c.old, c.new) for c in found] == [
        ("row:high_k/[0, 100)", "changed", "300%", "280%"),
        ("row:high_k/[100, 300)", "added", None, "200%"),
        ("row:high_k/[300, inf)", "added", None, "150%"),
        ("row:high_k/[100, inf)", "removed", "200%", None),
    ]
    assert found[0].describe() == "changed row high_k/[0, 100): 300% → 280%"


def test_labels_types_and_grains_are_aspects() -> None:
    found = small_diff(
        ('"基准点数" : points at group', '"病组基准点数" : points at group'),
        ("at level, group = mean(total_cost)", "at group, level = mean(total_cost)"),
        ('"费用倍率" : ratio at case', '"费用倍率" : number at case, hospital'),
    )
    assert summary(found) == [
        ("definition:base_points", "changed", ("label",)),
        ("definition:cost_ratio", "changed", ("type", "grain")),
    ]
    assert (
        found[0].describe() == 'changed definition base_points: label "基准点数" → "病组基准点数"'
    )


def test_a_parameter_that_becomes_a_definition_is_removed_and_added() -> None:
    found = small_diff(
        (
            'param low_ratio "低倍率系数" : ratio = 40%',
            'let low_ratio "低倍率系数" : ratio at all = 40%',
        )
    )
    assert summary(found) == [
        ("param:low_ratio", "removed", ()),
        ("definition:low_ratio", "added", ()),
    ]


def test_declarations_in_a_stage_are_named_with_it() -> None:
    found = small_diff(("payment * 90%", "payment * 80%"), ("per month", "per year"))
    assert [(c.clause, c.stage, c.name) for c in found] == [
        ("stage:monthly", None, "monthly"),
        ("definition:monthly.advance", "monthly", "advance"),
    ]
    assert found[0].describe() == "changed stage monthly: period month → year"


def test_documents_invariants_and_the_method() -> None:
    found = small_diff(
        ('number "文号1"', 'number "文号2"'),
        ("always case_points >= 0 pt", "monotone case_points in total_cost"),
        ("method points", "method rate"),
    )
    assert summary(found) == [
        ("header:method", "changed", ("value",)),
        ("document:doc", "changed", ("number",)),
        ("invariant:points_not_negative", "changed", ("rule",)),
    ]


def test_each_field_of_a_document_is_an_aspect_of_its_change() -> None:
    found = small_diff(
        ("status draft", 'status in_force text "notice.txt"'),
        ("date 2024-01-01", 'date "2024"'),
    )
    assert summary(found) == [("document:doc", "changed", ("date", "status", "text"))]
    (change,) = found
    assert [(x.name, x.old, x.new) for x in change.aspects] == [
        ("date", "date 2024-01-01", 'date "2024"'),
        ("status", "status draft", "status in_force"),
        ("text", None, 'text "notice.txt"'),
    ]


def test_the_order_of_a_documents_fields_is_no_change() -> None:
    issuer, number = 'issuer "示例市医疗保障局"', 'number "文号1"'
    assert small_diff((f"{issuer} {number}", f"{number} {issuer}")) == []

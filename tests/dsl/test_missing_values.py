"""W610, construct by construct: which class conditions can read a missing value (see
`policy_dsl/check/missing.py` for the list)."""

from __future__ import annotations

import pytest

from policy_dsl.check import check
from policy_dsl.loader import policy_from_text, resolve
from tests.dsl.demo_policy import DEMO_HEAD

SKELETON = (
    DEMO_HEAD
    + """\
table by_level "级别系数" from level to ratio
  source notice "第四条"
  1 -> 90%
  2 -> 100%
  3 -> 110%
table every_level "级别系数" from level to ratio
  source notice "第四条"
  0 -> 90%
  1 -> 90%
  2 -> 100%
  3 -> 110%
table by_points "倍数" from points to ratio
  source notice "第四条"
  [0, 100) -> 300%
  [100, inf) -> 200%
table from_one "倍数" from points to ratio
  source notice "第四条"
  [1, 100) -> 300%
  [100, inf) -> 200%
param k "倍数" : ratio = 300%
  source notice "第四条"
let cost_ratio "费用倍率" : ratio at case = total_cost / avg_cost
let hospital_cost "医院次均费用" : money at hospital = mean(total_cost where bilateral)
let hospital_all "医院次均费用" : money at hospital = mean(total_cost)
let base_points "基准点数" : points at group = weight * 100 pt assumption "每单位权重 100 点"
classify category "病例类型"
{classes}
  class normal "正常病例" otherwise
let case_points "病例点数" : points at case = if_missing(base_points, 0 pt)
let coefficient "医疗机构系数" : ratio at case = 1
let settled_points "结算点数" : points at case = case_points * coefficient
input budget fund "本期基金预算" : money
let point_value "点值" : point_value at all = fund / sum(settled_points)
let payment "病例支付额" : money at case = settled_points * point_value
"""
)


def warned(*conditions: str) -> list[str]:
    """The classes W610 names, for classes `c0`, `c1`… with these conditions."""
    classes = "\n".join(
        f'  class c{i} "类{i}" when {when}\n    source notice "第五条"'
        for i, when in enumerate(conditions)
    )
    checked = check(resolve(policy_from_text(SKELETON.format(classes=classes), "demo/2024.policy")))
    assert checked.ok, [d.render() for d in checked.diagnostics]
    return [d.message.split("`")[1] for d in checked.diagnostics if d.code == "W610"]


@pytest.mark.parametrize(
    "condition",
    [
        "cost_ratio >= k",  # a field of the catalog, through a definition
        "weight > 1",  # a field of the catalog
        "base_points > 100 pt",  # computed per group
        "by_level[level] > 95%",  # no row for level 0, no else
        "cost_ratio >= from_one[total_cost / 100 元 * 1 pt]",  # [1, …) leaves [0, 1) out
        "base_points[group = secondary_drg] > 100 pt",  # the row may not be there
        "hospital_cost > total_cost",  # mean(… where …): no row may meet it
        "rank(total_cost desc within hospital where bilateral) <= 3",
    ],
)
def test_a_condition_that_can_read_a_missing_value_is_warned(condition: str) -> None:
    assert warned(condition) == ["c0"]


@pytest.mark.parametrize(
    "condition",
    [
        "total_cost > 10000 元",
        "every_level[level] > 95%",  # every level listed
        "by_points[if_missing(base_points, 0 pt)] > 250%",  # [0, inf) covers points
        "if_missing(cost_ratio, 1) >= k",  # a value given where it is missing
        "hospital_all > total_cost",  # mean over the hospital's cases: the case is one
        "not ungrouped and cost_ratio >= k",  # the catalog is there beside `not ungrouped`
    ],
)
def test_a_condition_that_always_has_its_values_is_not_warned(condition: str) -> None:
    assert warned(condition) == []


def test_classes_after_the_ungrouped_class_read_the_catalog_safely() -> None:
    assert warned("ungrouped", "cost_ratio >= k", "by_level[level] > 95%") == ["c2"]
    assert warned("special_review or ungrouped", "cost_ratio >= k") == []
    assert warned("special_review", "cost_ratio >= k") == ["c1"]

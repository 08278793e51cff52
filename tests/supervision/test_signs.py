"""W150: a deduction that raises what a hospital is paid — found by the sign it enters with, and
not where it only totals deductions, sits in a condition, or is subtracted on the way."""

from __future__ import annotations

from pathlib import Path

import pytest

from policy_dsl.check import check, check_path
from policy_dsl.loader import policy_from_text, resolve
from tests.conftest import shipped_policies
from tests.supervision.data import POLICY_PATH

HEAD = """
policy demo version "2024"
  effective 2024-01-01 to 2024-12-31
  method points
input budget fund "基金" : money
input deduction audit_deduction "智能审核违规扣款" : money
input deduction refusal "拒付" : money
input assessment drg_assessment "DRG专项考核得分" : number
param share "比例" : ratio = 50% assumption "测试"
let base_points "基准点数" : points at group = weight * 100 pt assumption "测试"
classify category "病例类型"
  class normal "正常病例" otherwise
let case_points "病例点数" : points at case = base_points
let coefficient "系数" : ratio at case = 1
let settled_points "结算点数" : points at case = case_points * coefficient
let point_value "点值" : point_value at all = fund / sum(settled_points)
let payment "支付" : money at case = round_fen(settled_points * point_value)
report paid "支付合计" : money at hospital = round_fen(sum(payment))
"""


def warned(body: str) -> list[tuple[str, str]]:
    """(definition, message) of each W150 for a policy of HEAD and `body`."""
    checked = check(resolve(policy_from_text(HEAD + body, "demo.policy")))
    errors = [d.render() for d in checked.diagnostics if d.severity == "error"]
    assert not errors, errors
    lines = (HEAD + body).splitlines()
    return [
        (lines[d.line - 1].split()[1], d.message) for d in checked.diagnostics if d.code == "W150"
    ]


@pytest.mark.parametrize(
    "body",
    [
        'report net "净额" : money at hospital = paid + audit_deduction',
        'report net "净额" : money at hospital = paid - (refusal - audit_deduction)',
        'report net "净额" : money at hospital = max(paid + audit_deduction * share, 0 元)',
        'report net "净额" : money at hospital = paid - -audit_deduction',
        'let back "返还" : money at hospital = audit_deduction\n'
        'report net "净额" : money at hospital = paid + back',
        'report net "净额" : money at hospital = if paid > 0 元 then paid + audit_deduction '
        "else paid",
    ],
)
def test_a_deduction_added_to_what_is_paid_is_warned(body: str) -> None:
    found = warned(body)
    assert [name for name, _ in found] == ["net"]
    assert "`net` rises with the deduction `audit_deduction` (智能审核违规扣款)" in found[0][1]


@pytest.mark.parametrize(
    "body",
    [
        'report net "净额" : money at hospital = paid - audit_deduction - refusal',
        'report net "净额" : money at hospital = round_fen(max(paid - audit_deduction, 0 元))',
        'report net "净额" : money at hospital = paid - (audit_deduction + refusal) * share',
        'report deducted "扣款合计" : money at hospital = audit_deduction + refusal * share',
        'report deducted "扣款合计" : money at all = sum(audit_deduction) + sum(refusal)',
        'report net "净额" : money at hospital = if audit_deduction > 0 元 then 0 元 else paid',
        'report factor "系数" : ratio at hospital = 1 + audit_deduction / paid',
        'let kept "扣留" : money at hospital = paid - audit_deduction\n'
        'report due "应补" : money at hospital = kept - paid',
    ],
)
def test_a_deduction_subtracted_totalled_or_in_a_condition_is_not(body: str) -> None:
    assert warned(body) == []


def test_a_rise_is_warned_where_it_starts_not_again_downstream() -> None:
    body = (
        'report net "净额" : money at hospital = paid + refusal\n'
        'report net2 "净额2" : money at hospital = net - 0 元'
    )
    assert [name for name, _ in warned(body)] == ["net"]


def test_the_payment_itself_is_checked() -> None:
    text = HEAD.replace(
        "round_fen(settled_points * point_value)",
        "round_fen(settled_points * point_value) + audit_deduction",
    )
    checked = check(resolve(policy_from_text(text, "demo.policy")))
    # `paid` sums the payment: the rise starts in `payment`, and is warned there only
    assert [d.message.split(" rises")[0] for d in checked.diagnostics if d.code == "W150"] == [
        "`payment`"
    ]


@pytest.mark.parametrize(
    "path", [POLICY_PATH, *shipped_policies()], ids=lambda p: f"{p.parent.name}/{p.stem}"
)
def test_the_test_policy_and_the_shipped_ones_subtract_their_deductions(path: Path) -> None:
    assert [d.render() for d in check_path(path).diagnostics if d.code == "W150"] == []

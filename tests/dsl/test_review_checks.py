"""The checker's citation rule for numbers (W103) in every part of a definition, the keywords
taken from the grammar, and how the semantic diff names a `report`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policy_dsl.check import check
from policy_dsl.diagnostics import PolicyErrors
from policy_dsl.diff import diff_versions
from policy_dsl.loader import policy_from_text, resolve
from policy_dsl.parser import keywords
from studio import highlight

GRAMMAR = Path(__file__).resolve().parents[2] / "policy_dsl" / "grammar.lark"

HEADER = """\
policy demo version "2024"
  effective 2024-01-01 to 2024-12-31
  method points

document notice "示例细则" issuer "示例局" number none date 2024-01-01 status in_force

let base_points "基准点数" : points at group = weight * 100 pt source notice "第五条"
let case_points "病例点数" : points at case = base_points
let coefficient "医疗机构系数" : ratio at case = 1
let settled_points "结算点数" : points at case = case_points * coefficient
input budget fund "本期基金预算" : money
let point_value "点值" : point_value at all = fund / sum(settled_points)
let payment "病例支付额" : money at case = settled_points * point_value
classify category "病例类型"
  class normal "正常病例" otherwise
"""


def uncited(text: str) -> list[tuple[int, str]]:
    """(line, number) of each W103 for the declarations appended to the header."""
    found = check(resolve(policy_from_text(HEADER + text, "demo.policy"))).diagnostics
    first = HEADER.count("\n")
    return [(d.line - first, d.message.split(": ")[-1]) for d in found if d.code == "W103"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('report cut "扣减" : money at all = round_fen(sum(payment) * 0.95)\n', [(1, "`0.95`")]),
        ('report cut "扣减" : money at all = round_fen(sum(payment) * 95%)\n', [(1, "`95%`")]),
        ('let floor "下限" : money at case = max(payment, 200 元)\n', [(1, "`200 元`")]),
        ('let same "不变" : money at case = payment * 100% + 0 元 - 0\n', []),
        ('let same "不变" : money at case = payment * 1\n', []),
        ('let cut "扣减" : money at case = payment * 0.95\n  assumption "示例"\n', []),
        (
            'adjust capped "封顶" : money from payment\n'
            '  step a "甲" when payment > 3 元 -> current\n'
            '    source notice "第六条"\n'
            '  step b "乙" when payment > 5 元 -> current\n',
            [(4, "`5 元`")],
        ),
    ],
)
def test_every_uncited_number_of_a_definition_is_flagged(
    text: str, expected: list[tuple[int, str]]
) -> None:
    assert uncited(text) == expected


def test_keywords_are_the_words_the_grammar_spells_out() -> None:
    quoted = set(re.findall(r'"([a-z_]+)"', GRAMMAR.read_text(encoding="utf-8")))
    assert keywords() == frozenset(quoted)
    assert {"policy", "when", "otherwise", "asc", "inf", "override", "report"} <= keywords()
    assert highlight.keywords() == keywords()


@pytest.mark.parametrize(
    ("declaration", "column"),
    [
        ('param asc "甲" : ratio = 1 assumption "示例"', 7),
        ('classify kind "类"\n  class when "甲" otherwise', 9),
    ],
)
def test_a_keyword_cannot_name_a_declaration(declaration: str, column: int) -> None:
    with pytest.raises(PolicyErrors) as refused:
        policy_from_text(HEADER + declaration + "\n", "d.policy")
    [found] = refused.value.diagnostics
    word = declaration.split()[1] if column == 7 else "when"
    assert (found.code, found.span.column) == ("E105", column)
    assert f"`{word}` is a reserved word" in found.message


def test_the_diff_calls_a_report_a_report() -> None:
    old = resolve(policy_from_text(HEADER, "2023.policy"))
    new = resolve(
        policy_from_text(HEADER + 'report paid "支付合计" : money at all = sum(payment)\n', "n")
    )
    [change] = diff_versions(old, new)
    assert (change.what, change.clause) == ("report", "definition:paid")
    assert change.subject == "report paid"

"""W131: a quote that states a number, cited for a parameter or table whose value is none of
them. Numbers are read with their units; years, dates, article numbers, levels and counts of
things are not values. The examples are sentences of the five source documents."""

from __future__ import annotations

from decimal import Decimal

import pytest

from policy_dsl.check import check
from policy_dsl.check.cited_numbers import stated_numbers
from policy_dsl.loader import policy_from_text, resolve


@pytest.mark.parametrize(
    ("quote", "values"),
    [
        ("住院总费用低于本 DRG 病组均次费用 0.3 倍以下", ["0.3"]),
        ("分别不超过该医疗机构DRG付费总病例数的6‰、4‰", ["0.006", "0.004"]),
        ("未达到70%的", ["0.7"]),
        (
            "70%-90%的，按实际发生的全年住院医疗费用总额的110%作为年度实际支付总额",
            ["0.7", "0.9", "1.1"],
        ),
        ("70–90%的", ["0.7", "0.9"]),
        ("病例数>5 例且 CV≤1 的病组确定为稳定病组", ["5", "1"]),
        ("对付费标准2倍以上的高费用病例实行逐月申报结算制度", ["2"]),
        ("对DRG违规问题拒付医保基金251万元", ["2510000"]),
        ("次均住院费用同比下降8.1%达1136元", ["0.081", "1136"]),
        ("不超过百分之七十", ["0.7"]),
        ("千分之六", ["0.006"]),
        ("按该病例基准点数的一点五倍", ["1.5"]),
        ("两倍以上", ["2"]),
        ("病例数少于五例", ["5"]),
        ("全市每年培训业务骨干不少于 1000 人次", []),
        ("本通知自2024年1月1日起执行", []),
        ("第五条", []),
        ("宣医保秘〔2023〕16号", []),
        ("苏府办[2021]103号", []),
        ("三级医疗机构、二级及以下医疗机构", []),
        ("对14个病组实行三级、二级医院同一费率", []),
        ("2020年在8家三级医院启动模拟付费", []),
        ("一是强化信息系统支撑", []),
        ("（2024）", []),
    ],
)
def test_numbers_a_quote_states(quote: str, values: list[str]) -> None:
    assert [v for _, v in stated_numbers(quote)] == [Decimal(v) for v in values]


def test_each_number_is_shown_as_written() -> None:
    assert [t for t, _ in stated_numbers("70%-90%的，0.3 倍，6‰、4‰，百分之七十")] == [
        "70%",
        "90%",
        "0.3倍",
        "6‰",
        "4‰",
        "百分之七十",
    ]


HEAD = """\
policy demo version "2024"
  effective 2024-01-01 to 2024-12-31
  method points

document doc "示例细则" issuer "示例局" number none date "2024" status draft
"""


def _w131(body: str) -> list[str]:
    """The message of each W131 of a policy made of `HEAD` and `body`."""
    checked = check(resolve(policy_from_text(HEAD + body, "demo/2024.policy"), []))
    return [d.message for d in checked.diagnostics if d.code == "W131"]


@pytest.mark.parametrize(
    "declaration",
    [
        'param k "低倍率" : ratio = 30%\n  source doc "费用低于本 DRG 病组均次费用 0.3 倍以下"',
        'param k "低倍率" : ratio = 0.3\n  source doc "费用低于本 DRG 病组均次费用 0.3 倍以下"',
        'param k "留用" : ratio = 110%\n  source doc "70%-90%的，按费用总额的110%作为实际支付总额"',
        'param k "高费用" : ratio = 200%\n  source doc "对付费标准2倍以上的高费用病例实行逐月申报"',
        'param k "占比" : ratio = 85%\n  source doc "在 2022 年达到 70%以上，2023 年达到 85%以上"',
        'param k "病例数" : count = 5\n  source doc "病例数>5 例且 CV≤1 的病组确定为稳定病组"',
        'param k "系数" : ratio = 100%\n  source doc "对14个病组实行三级、二级医院同一费率"',
        'param k "大数" : count = 100\n  source doc "病例数达到大数定理界值要求"',
        'param k "大数" : count = 100\n  assumption "未给出具体病例数，取 100 例"',
        'table k "激励占比" from level to ratio\n  source doc "三级、二级及以下分别不超过6‰、4‰"\n'
        "  1 -> 4‰\n  2 -> 4‰\n  3 -> 6‰",
    ],
)
def test_a_value_the_quote_states_in_any_unit_is_no_warning(declaration: str) -> None:
    assert _w131(declaration + "\n") == []


def test_a_parameter_changed_while_its_quote_keeps_the_old_number() -> None:
    found = _w131('param k "低倍率" : ratio = 35%\n  source doc "均次费用 0.3 倍以下"\n')
    assert found == ["`k` is 35%, but its source states 0.3倍"]


def test_a_table_row_the_quote_does_not_state() -> None:
    found = _w131(
        'table k "激励占比" from level to ratio\n'
        '  source doc "分别不超过该医疗机构DRG付费总病例数的6‰、4‰"\n'
        "  1 -> 4‰\n  2 -> 5‰\n  3 -> 6‰\n"
    )
    assert found == ["table `k` has 5‰, but its source states 6‰, 4‰"]


def test_definitions_are_formulas_and_not_compared() -> None:
    assert _w131('let k "点数" : points at case = base_points * 2\n  source doc "1.5 倍"\n') == []

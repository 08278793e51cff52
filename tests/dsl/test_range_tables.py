"""Range tables: rows may be written in any order; overlaps and gaps (E501, E502) are found
between neighbours by lower bound."""

from __future__ import annotations

import pytest

from policy_dsl.check import check
from policy_dsl.loader import policy_from_text, resolve

HEADER = """\
policy demo version "2024"
  effective 2024-01-01 to 2024-12-31
  method points

document notice "示例细则" issuer "示例局" number none date 2024-01-01 status in_force

let base_points "基准点数" : points at group = weight * 100 pt source notice "第五条"
let case_points "病例点数" : points at case = base_points
let coefficient "医疗机构系数" : ratio at case = high_k[base_points]
let settled_points "结算点数" : points at case = case_points * coefficient
input budget fund "本期基金预算" : money
let point_value "点值" : point_value at all = fund / sum(settled_points)
let payment "病例支付额" : money at case = settled_points * point_value
classify category "病例类型"
  class normal "正常病例" otherwise

table high_k "高倍率判定倍数" from points to ratio
  source notice "第五条"
"""

#: The line of the first row.
FIRST_ROW = HEADER.count("\n") + 1


def table_diagnostics(*rows: str) -> list[tuple[str, int, str]]:
    """(code, row number from 1, message) of each diagnostic of a table with `rows`."""
    text = HEADER + "".join(f"  {row}\n" for row in rows)
    found = check(resolve(policy_from_text(text, "demo.policy"))).diagnostics
    return [(d.code, d.line - FIRST_ROW + 1, d.message) for d in found]


@pytest.mark.parametrize(
    "rows",
    [
        ("[100, 300) -> 250%", "[0, 100) -> 300%", "[300, inf) -> 200%"),
        ("[300, inf) -> 200%", "[100, 300) -> 250%", "[0, 100) -> 300%"),
        ("(100, inf) -> 200%", "[0, 100] -> 300%"),
    ],
)
def test_rows_out_of_order_that_tile_the_line_are_accepted(rows: tuple[str, ...]) -> None:
    assert table_diagnostics(*rows) == []


def test_an_overlap_between_rows_out_of_order_names_the_other_row() -> None:
    found = table_diagnostics("[100, 300) -> 250%", "[0, 150) -> 300%", "[300, inf) -> 200%")
    assert found == [
        (
            "E501",
            1,
            "ranges overlap between 100 and 150: a value there would match two rows "
            f"(this one and the range on line {FIRST_ROW + 1})",
        )
    ]


def test_a_gap_between_rows_out_of_order_is_reported_once() -> None:
    found = table_diagnostics("[300, inf) -> 200%", "[0, 100) -> 300%", "[150, 300) -> 250%")
    assert found == [("E502", 3, "gap between 100 and 150: no row covers it")]


def test_a_row_inside_a_longer_one_overlaps_it_and_leaves_no_gap_after() -> None:
    found = table_diagnostics("[0, 300) -> 300%", "[100, 200) -> 250%", "[300, inf) -> 200%")
    assert [(code, row) for code, row, _ in found] == [("E501", 2)]

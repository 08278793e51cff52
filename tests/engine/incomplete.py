"""A tiny policy that leaves some payments missing: its level table has no row for level 2."""

from __future__ import annotations

from pathlib import Path

TEXT = """\
policy testcity version "2024"
  title "测试：二级医院没有系数"
  effective 2024-01-01 to 2024-12-31
  method points

table level_factor "级别系数" from level to ratio
  assumption "测试：故意缺少二级"
  1 -> 100%
  3 -> 100%

let base_points "基准点数" : points at group = weight * 100 pt
  assumption "测试"
classify category "病例类型"
  class normal "正常病例" otherwise
let case_points "病例点数" : points at case = base_points
  assumption "测试"
let coefficient "系数" : ratio at case = level_factor[level]
  assumption "测试"
let settled_points "结算点数" : points at case = case_points * coefficient
  assumption "测试"
let point_value "点值" at all = 10 元 / 1 pt
  assumption "测试"
let payment "支付" : money at case = round_fen(settled_points * point_value)
  assumption "测试"
"""


def incomplete_policy(folder: Path) -> Path:
    """Write the policy as `<folder>/testcity/2024.policy`."""
    path = folder / "testcity" / "2024.policy"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(TEXT, encoding="utf-8")
    return path

"""An adjustment of many steps, each reading the running value (`current`) in its condition and
its value: the batch plan builds the steps as one expression and computes the running value into
a column every `ADJUST_STEPS` steps; the value is the same whichever step count crosses that."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from bench.simple import handwritten as simple
from engine.inputs.rundata import Period
from engine.plan.polars.batch import ADJUST_STEPS
from engine.run.settle import load_data, settle
from policy_dsl.check import check
from policy_dsl.grains import CASE
from policy_dsl.loader import policy_from_text, resolve
from policy_dsl.lower import lower

ADJUST = re.compile(r"^adjust case_points .*?(?=^let )", re.MULTILINE | re.DOTALL)


def _policy_with_steps(count: int) -> str:
    """The simple policy with `case_points` adjusted by `count` steps of one point each, taken
    by normal cases whose running value is still below 1,000,000 points (all of them)."""
    steps = "".join(
        f'  step s{i} "第 {i} 步" when category is normal and current < 1000000 pt'
        f' -> current + 1 pt\n    assumption "测试用"\n'
        for i in range(count)
    )
    text, found = ADJUST.subn(
        f'adjust case_points "病例点数" : points from class_points\n{steps}\n',
        simple.POLICY.read_text(encoding="utf-8"),
    )
    assert found == 1
    return text


@pytest.mark.parametrize("count", [1, ADJUST_STEPS, ADJUST_STEPS + 1, 2 * ADJUST_STEPS + 1])
def test_each_step_adds_its_point_to_the_running_value(sample_dir: Path, count: int) -> None:
    policy = lower(check(resolve(policy_from_text(_policy_with_steps(count), "s/s.policy"), [])))
    settled = settle(policy, load_data(sample_dir, policy), Period.parse("2024"))
    cases = settled.stages[settled.settling_stages()[-1]].frames[CASE]
    normal = pl.col("category") == "normal"
    assert cases.filter(normal).height > 0
    added = cases.select(
        (pl.col("case_points") - pl.col("class_points")).round(6).alias("added"),
        normal.alias("normal"),
    )
    assert added.filter("normal")["added"].unique().to_list() == [float(count)]
    assert added.filter(~pl.col("normal"))["added"].unique().to_list() == [0.0]

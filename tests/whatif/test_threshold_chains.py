"""Thresholds found through chains of definitions (`engine.whatif.thresholds`): formulas are
inlined once each and only to a bounded depth and size, so a comparison reached through a
thousand definitions, or through definitions each reading the one before twice, is found
without a crash and without an expression that doubles at every step."""

from __future__ import annotations

from bench.lang_inputs import CASE_POINTS, base_text, definition_chain
from engine.whatif.thresholds import INLINE_NODES, threshold_uses
from policy_dsl import ir
from policy_dsl.lower import compile_text

SPECIAL = 'class special "特病单议病例" when special_review'


def test_a_comparison_at_the_end_of_1000_definitions_is_a_threshold() -> None:
    # the chain ends at the group's base points: ending at the class points, which are `by
    # category`, it would make the class condition read its own classification (E401)
    last = 'let step1000 "第 1000 步" : points at case = class_points'
    text = definition_chain(1000)
    assert last in text
    text = text.replace(last, last.replace("class_points", "base_points"))
    text = text.replace(SPECIAL, f"{SPECIAL} and step0 >= cv_limit * 1 pt")
    uses = {u.text: u for u in threshold_uses(compile_text(text, "chain/2023.policy"))}
    use = uses["step0 >= (cv_limit * 1)"]
    assert use.reads == ("cv_limit",)
    assert isinstance(use.quantity, ir.Ref) and use.quantity.name == "step0"


def test_definitions_reading_the_one_before_twice_are_inlined_within_bounds() -> None:
    doubling = [
        f'let twice{i} "翻倍 {i}" : ratio at case = twice{i - 1} + twice{i - 1}\n'
        '  assumption "测试用"'
        for i in range(1, 61)
    ]
    lets = "\n".join(['let twice0 "翻倍 0" : ratio at case = cv_limit', *doubling])
    text = base_text().replace(CASE_POINTS, f"{lets}\n{CASE_POINTS}")
    condition = "cost_ratio >= twice12 and cost_ratio <= twice60"
    text = text.replace(SPECIAL, f"{SPECIAL} and {condition}")
    uses = {u.text: u for u in threshold_uses(compile_text(text, "doubling/2023.policy"))}
    near = uses["cost_ratio >= twice12"]  # 2^12 copies of cv_limit: within the bound
    assert near.reads == ("cv_limit",)
    assert sum(1 for _ in ir.walk(near.threshold)) <= INLINE_NODES
    assert "cost_ratio <= twice60" not in uses, "2^60 nodes: read from the settled run"

"""Checking a policy's invariants on a settlement (the properties its author asserts).

- `closes payment to budget`: per period, the payments sum to the budget, to the fen;
- `always <condition>`: holds for every settled case;
- `monotone target in field`: raising the field of a case (all else, and every coarser value,
  held as the batch computed it) never lowers the target — checked by the explainer on each
  case at a ladder of values from a quarter to six times its own, which crosses the usual
  low- and high-ratio thresholds.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import polars as pl

from engine.explainer.explain import Explainer
from engine.plan import money
from engine.plan.polars.batch import Compiler, StageResult, StageRun, key_columns
from engine.run.settle import Settlement
from policy_dsl import ir
from policy_dsl.grains import CASE


@dataclass(frozen=True)
class Violation:
    """One invariant that does not hold, with an example."""

    invariant: str
    stage: str
    detail: str


LADDER = (0.25, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0)


def check_invariants(settlement: Settlement, *, monotone_cases: int = 200) -> list[Violation]:
    """Every violation of the policy's invariants in each settling stage."""
    found: list[Violation] = []
    for name in settlement.settling_stages():
        result = settlement.stages[name]
        for invariant in settlement.policy.invariants:
            if invariant.stage not in (None, name):
                continue
            if invariant.kind == "closes":
                found += _closes(invariant, result)
            elif invariant.kind == "always":
                found += _always(invariant, settlement, result)
            else:
                found += _monotone(invariant, settlement, result, monotone_cases)
    return found


def _closes(invariant: ir.Invariant, result: StageResult) -> list[Violation]:
    assert invariant.target is not None and invariant.budget is not None
    keys = key_columns(result.period_keys)
    paid = (
        result.cases.group_by(keys).agg(money.to_fen(pl.col(invariant.target)).sum().alias("paid"))
        if keys
        else result.cases.select(money.to_fen(pl.col(invariant.target)).sum().alias("paid"))
    )
    budget = result.value_frame(invariant.budget).select(
        *keys, money.to_fen(pl.col(invariant.budget)).alias("budget")
    )
    joined = paid.join(budget, on=keys) if keys else pl.concat([paid, budget], how="horizontal")
    wrong = joined.filter(pl.col("paid") != pl.col("budget"))
    return [
        Violation(
            invariant.name,
            result.stage.name,
            f"{row} paid {money.fen_text(row['paid'])} ≠ budget {money.fen_text(row['budget'])}",
        )
        for row in wrong.iter_rows(named=True)
    ]


def _always(
    invariant: ir.Invariant, settlement: Settlement, result: StageResult
) -> list[Violation]:
    assert invariant.condition is not None
    s = settlement
    run = StageRun.resume(s.policy, result, s.data, s.stages, s.settings)
    case = CASE
    condition = Compiler(run, case).expr(invariant.condition)
    failing = run.frame(case).filter(~condition.fill_null(False))
    return [
        Violation(invariant.name, result.stage.name, f"case {case_id} breaks it")
        for case_id in failing["case_id"].head(10).to_list()
    ]


def _monotone(
    invariant: ir.Invariant, settlement: Settlement, result: StageResult, limit: int
) -> list[Violation]:
    target, field = invariant.target, invariant.field
    assert target is not None and field is not None
    explainer = Explainer(settlement, result)
    violations = []
    for case_id, value in result.cases.select("case_id", field).head(limit).iter_rows():
        ladder = [round(value * m, 2) for m in LADDER]
        values = [explainer.explain(case_id, {field: v}).value(target) for v in ladder]
        steps = list(zip(ladder, values, strict=True))
        for (a, low), (b, high) in itertools.pairwise(steps):
            if low is not None and high is not None and high < low - 1e-9:
                violations.append(
                    Violation(
                        invariant.name,
                        result.stage.name,
                        f"case {case_id}: {target} falls from {low:.6g} at {field} = {a} to "
                        f"{high:.6g} at {b}",
                    )
                )
                break
    return violations

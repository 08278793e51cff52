"""Parameter sweeps (参数扫描): one version settled for each value of one parameter, or for each
pair of values of two (a grid), without editing the file (`Settings(params=…)`), tabulated
against the version as written: total payment, payment and its change per hospital level, point
value or rate, and cases per category.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from engine.plan.overrides import param_target, typed_value
from engine.plan.polars.batch import Settings
from engine.run.progress import step
from engine.whatif.runs import Outcome, Runs
from policy_dsl import ir
from policy_dsl.check.scope import did_you_mean
from policy_dsl.errors import PolicyError

#: How a swept parameter is named in a message (the command line's `--set`).
LABEL = "--set {}"


class SweepError(PolicyError):
    """A sweep over no parameter, more than two, one the policy does not have or that is not a
    number."""


@dataclass(frozen=True)
class Sweep:
    """One row per combination of values: the parameters, `payment` and `delta` (fen, against
    the version as written), `price`, `payment_level_<n>` and `delta_level_<n>` (fen), and
    `cases_<category>`, `delta_report_<report>` (fen: each money report, summed over
    hospitals)."""

    policy: ir.Policy
    params: list[str]
    reference: dict[str, float]
    table: pl.DataFrame

    def to_json(self) -> dict[str, Any]:
        return {"params": self.params, "as_written": self.reference, "rows": self.table.to_dicts()}


def sweep(
    runs: Runs,
    policy: ir.Policy,
    grid: Mapping[str, Sequence[Any]],
    settings: Settings | None = None,
) -> Sweep:
    """Settle `policy` for every combination of the values in `grid` (one or two parameters;
    each value checked as `settle --set` checks one: `checked_grid`)."""
    settings = settings or Settings()
    grid = checked_grid(policy, grid)
    names = list(grid)
    reference = runs.outcome(policy, settings)
    rows = []
    combinations = list(itertools.product(*(grid[n] for n in names)))
    with step("parameter sweep", total=len(combinations)) as counting:
        for values in combinations:
            chosen = dict(zip(names, values, strict=True))
            moved = Settings(settings.definitions, {**settings.params, **chosen})
            rows.append({**chosen, **_row(runs.outcome(policy, moved), reference)})
            counting.advance()
    written = {n: float(settings.params.get(n, policy.param(n).value)) for n in names}
    table = pl.DataFrame(rows).with_columns(pl.col("^cases_.*$").fill_null(0))
    return Sweep(policy, names, written, table)


def check_grid(policy: ir.Policy, names: list[str]) -> None:
    """Raise `SweepError` unless `names` are one or two number parameters of `policy`."""
    if not 1 <= len(names) <= 2:
        raise SweepError(f"a sweep varies one or two parameters, not {len(names)}")
    known = [p.name for p in policy.params]
    for name in names:
        if name not in known:
            hint = did_you_mean(name, known)
            raise SweepError(
                f"`{name}` is not a parameter of {policy.city} {policy.version}"
                + (f"; {hint}" if hint else "")
            )
        if policy.param(name).type.kind != "number":
            raise SweepError(f"{LABEL.format(name)}: a sweep varies a number parameter")


def checked_grid(policy: ir.Policy, grid: Mapping[str, Sequence[Any]]) -> dict[str, list[float]]:
    """Every value of `grid` checked as `settle --set` checks one (`engine.plan.overrides`): a
    number of the parameter's type, in its range."""
    check_grid(policy, list(grid))
    checked: dict[str, list[float]] = {}
    for name, values in grid.items():
        target = param_target(policy, name, LABEL.format(name))
        checked[name] = [typed_value(v, target, policy) for v in values]
        if not checked[name]:
            raise SweepError(f"{target.label}: no value to sweep")
    return checked


def _row(outcome: Outcome, reference: Outcome) -> dict[str, Any]:
    levels = _levels(outcome)
    written = _levels(reference)
    written_reports = _reports(reference)
    return {
        "payment": outcome.totals.payment,
        "delta": outcome.totals.payment - reference.totals.payment,
        "price": outcome.totals.price,
        **{f"payment_level_{k}": v for k, v in levels.items()},
        **{f"delta_level_{k}": v - written.get(k, 0) for k, v in levels.items()},
        **{f"cases_{k}": v for k, v in outcome.totals.categories.items()},
        **{f"delta_report_{k}": v - written_reports[k] for k, v in _reports(outcome).items()},
    }


def _reports(outcome: Outcome) -> dict[str, int]:
    """Each money report, summed over hospitals."""
    return {c: int(outcome.reports[c].sum()) for c in outcome.reports.columns if c != "hospital_id"}


def _levels(outcome: Outcome) -> dict[int, int]:
    summed = outcome.cases.group_by("level").agg(pl.col("payment").sum()).sort("level")
    return {int(level): int(payment) for level, payment in summed.rows()}


__all__ = ["Sweep", "SweepError", "check_grid", "checked_grid", "sweep"]

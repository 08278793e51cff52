"""Threshold exposure (阈值敏感性): for every threshold of a policy, how many cases (or groups, or
hospitals) lie within ±5% of it, and how the payments would move if it shifted by one step.

A threshold is a parameter, or one row of a table, that a comparison reads (its uses:
`thresholds.threshold_uses`). Near means `|quantity − threshold| ≤ margin × |threshold|` on the
rows where the comparison decides something and that read this parameter or row. A step is ±1
for a count or a level, ±0.05 for a ratio (±0.001 below 0.1, e.g. a ‰ quota), 5% of the value
(one significant digit) otherwise; each shift is a settlement with the parameter set from
outside (`Settings(params=…)`) or the table row changed in the IR.

A shift re-settles from the base run only the definitions the moved threshold reaches
(`rerun.resettle`, on the data already cut to the period) and reads of it only what it reports
(`measured.Measured`: the payments, categories and money reports, not the run's output tables
and the whole comparison); the shifts run side by side on `WORKERS` threads (polars releases
the interpreter's lock while it computes); they do not go through the `Runs` cache, so that a
what-if's kept runs stay the ones the analyst asked for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from engine.plan.polars.batch import Compiler, Settings, StageRun
from engine.run.progress import step
from engine.run.settle import Settlement
from engine.whatif.measured import Measured, measured_definitions, shift_of
from engine.whatif.rerun import WORKERS, resettle
from engine.whatif.runs import Outcome, Runs
from engine.whatif.thresholds import ThresholdUse, row_text, threshold_uses
from policy_dsl import ast as a
from policy_dsl import ir
from policy_dsl.loader import Resolved
from policy_dsl.ranges import param_range

MARGIN = 0.05


@dataclass(frozen=True)
class Threshold:
    """A value an analyst can move: a parameter (`row` None) or one row of a table."""

    name: str
    row: int | None
    value: float
    step: float

    row_key: str = ""

    @property
    def label(self) -> str:
        if self.row is None:
            return self.name
        ranged = self.row_key.startswith(("[", "("))
        return f"{self.name} {self.row_key}" if ranged else f"{self.name}[{self.row_key}]"


@dataclass(frozen=True)
class ThresholdShift:
    """The outcome of moving a threshold by one step: payment change (fen) in total and per
    level, the cases that change category, and the change of each money report."""

    value: float
    delta: int
    levels: dict[int, int]
    moved_cases: int
    reports: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "delta": self.delta,
            "levels": {str(k): v for k, v in self.levels.items()},
            "moved_cases": self.moved_cases,
            "reports": self.reports,
        }


@dataclass(frozen=True)
class ThresholdExposure:
    """One threshold: where it is compared, what lies near it, what one step does."""

    threshold: Threshold
    uses: list[str]
    grain: str
    rows: int
    near: int
    near_levels: dict[int, int]
    down: ThresholdShift | None
    up: ThresholdShift | None

    def to_json(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold.label,
            "value": self.threshold.value,
            "step": self.threshold.step,
            "compared_in": self.uses,
            "grain": self.grain,
            "rows": self.rows,
            "near": self.near,
            "near_levels": {str(k): v for k, v in self.near_levels.items()},
            "down": self.down.to_json() if self.down else None,
            "up": self.up.to_json() if self.up else None,
        }


@dataclass(frozen=True)
class Exposure:
    """Every threshold of a policy, most exposed first (cases near it, then money per step)."""

    policy: ir.Policy
    margin: float
    thresholds: list[ThresholdExposure] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"margin": self.margin, "thresholds": [t.to_json() for t in self.thresholds]}


def exposure(
    runs: Runs,
    policy: ir.Policy,
    settings: Settings | None = None,
    types: Mapping[str, str] | None = None,
    margin: float = MARGIN,
) -> Exposure:
    """The exposure of `policy`'s thresholds on the cases of `runs`; `types` gives each
    parameter's and table's declared type (`declared_types`), which sets the step."""
    settings = settings or Settings()
    base = runs.outcome(policy, settings)
    found: dict[str, ThresholdExposure] = {}
    listed = [
        (use, threshold)
        for use in threshold_uses(policy)
        for threshold in _thresholds(policy, use, settings, types or {})
    ]
    with step("threshold exposure", total=len(listed)) as counting:
        for use, threshold in listed:
            near = _near(base.settlement, use, threshold, margin)
            previous = found.get(threshold.label)
            if previous is None:
                found[threshold.label] = ThresholdExposure(threshold, [use.text], *near, None, None)
            else:
                found[threshold.label] = _merged(previous, use.text, near)
            counting.advance()
    jobs = [(exposed.threshold, sign) for exposed in found.values() for sign in (-1, 1)]
    shifts = []
    with (
        step("threshold shifts", total=len(jobs)) as counting,
        ThreadPoolExecutor(max_workers=WORKERS) as pool,
    ):
        for shift in pool.map(lambda job: _shift(base, settings, *job), jobs):
            shifts.append(shift)
            counting.advance()
    for exposed, down, up in zip(found.values(), shifts[::2], shifts[1::2], strict=True):
        found[exposed.threshold.label] = replace(exposed, down=down, up=up)
    ranked = sorted(found.values(), key=lambda t: (-t.near, -_money(t), t.threshold.label))
    return Exposure(policy, margin, ranked)


def declared_types(resolved: Resolved) -> dict[str, str]:
    """Each parameter's type and each table's value type, as declared (`ratio`, `count`…)."""
    types = {}
    for entry in resolved.entries:
        decl = entry.decl
        if isinstance(decl, a.Param):
            types[decl.name] = decl.type
        elif isinstance(decl, a.Table):
            types[decl.name] = decl.value_type
    return types


def step_for(value: float, kind: str | None) -> float:
    """One step of a threshold: see the module docstring; without a type, a whole number of 2
    or more is taken for a count and a value up to 1 for a ratio."""
    if kind is None:
        whole = value.is_integer() and abs(value) >= 2
        kind = "count" if whole else ("ratio" if abs(value) <= 1 else None)
    if kind in ("count", "level"):
        return 1.0
    if kind == "ratio":
        return 0.05 if abs(value) >= 0.1 or value == 0 else 0.001
    if value == 0:
        return 1.0
    scale = 10 ** math.floor(math.log10(abs(value) * 0.05))
    return float(round(abs(value) * 0.05 / scale) * scale)


def _thresholds(
    policy: ir.Policy, use: ThresholdUse, settings: Settings, types: Mapping[str, str]
) -> list[Threshold]:
    listed = []
    for name in use.reads:
        kind = types.get(name)
        if any(p.name == name for p in policy.params):
            value = settings.params.get(name, policy.param(name).value)
            if isinstance(value, int | float) and not isinstance(value, bool):
                listed.append(Threshold(name, None, float(value), step_for(float(value), kind)))
            continue
        table = next(t for t in policy.tables if t.name == name)
        for index, row in enumerate(table.rows):
            if isinstance(row.value, int | float) and not isinstance(row.value, bool):
                value = float(row.value)
                listed.append(Threshold(name, index, value, step_for(value, kind), row_text(row)))
    return listed


# ---- rows near a threshold ------------------------------------------------------------------


def _near(
    settlement: Settlement, use: ThresholdUse, threshold: Threshold, margin: float
) -> tuple[str, int, int, dict[int, int]]:
    """(grain, rows where the comparison decides, rows near the threshold, near per level)."""
    s = settlement
    run = StageRun.resume(s.policy, s.stages[use.stage], s.data, s.stages, s.settings)
    grain = run.effective(use.grain)
    quantity = Compiler(run, grain).expr(use.quantity)
    limit = Compiler(run, grain).expr(use.threshold)
    guard = Compiler(run, grain).expr(use.guard) if use.guard is not None else pl.lit(True)
    _move(run, threshold, threshold.step)
    moved = Compiler(run, grain).expr(use.threshold)
    columns = run.frame(grain).columns
    frame = (
        run.frame(grain)
        .select(
            *(["level"] if "level" in columns else []),
            quantity.cast(pl.Float64).alias("quantity"),
            limit.cast(pl.Float64).alias("threshold"),
            (guard.fill_null(False) & (moved != limit).fill_null(False)).alias("decides"),
        )
        .filter("decides")
    )
    near = frame.filter(
        (pl.col("quantity") - pl.col("threshold")).abs() <= margin * pl.col("threshold").abs()
    )
    levels = dict(sorted(near.group_by("level").len().rows())) if "level" in near.columns else {}
    return "×".join(use.grain) or "all", frame.height, near.height, levels


def _move(run: StageRun, threshold: Threshold, by: float) -> None:
    """Shift a threshold in a stage run (its parameters and tables)."""
    if threshold.row is None:
        run.params[threshold.name] = threshold.value + by
    else:
        run.tables[threshold.name] = _table_with(
            run.tables[threshold.name], threshold.row, threshold.value + by
        )


def _table_with(table: ir.Table, index: int, value: float) -> ir.Table:
    rows = list(table.rows)
    rows[index] = rows[index].model_copy(update={"value": value})
    return table.model_copy(update={"rows": rows})


def _merged(
    previous: ThresholdExposure, use: str, near: tuple[str, int, int, dict[int, int]]
) -> ThresholdExposure:
    grain, rows, count, levels = near
    combined = {
        k: previous.near_levels.get(k, 0) + levels.get(k, 0)
        for k in {*previous.near_levels, *levels}
    }
    return ThresholdExposure(
        previous.threshold,
        [*previous.uses, use],
        previous.grain if previous.grain == grain else f"{previous.grain}; {grain}",
        previous.rows + rows,
        previous.near + count,
        dict(sorted(combined.items())),
        previous.down,
        previous.up,
    )


# ---- one step either way ----------------------------------------------------------------------


def _shift(
    base: Outcome, settings: Settings, threshold: Threshold, sign: int
) -> ThresholdShift | None:
    """The base run with `threshold` moved one step down (`sign` −1) or up, re-settled from
    it; None where the step leaves the threshold's range (or crosses zero)."""
    policy = base.policy
    value = threshold.value + sign * threshold.step
    if threshold.value >= 0 > value or not _allowed(policy, threshold, value):
        return None
    only = measured_definitions(policy, base.settlement.period)
    if threshold.row is None:
        moved = Settings(settings.definitions, {**settings.params, threshold.name: value})
        shifted = resettle(base.settlement, policy, moved, only)
    else:
        tables = [
            _table_with(t, threshold.row, value) if t.name == threshold.name else t
            for t in policy.tables
        ]
        changed = ir.with_hash(policy.model_copy(update={"tables": tables}))
        shifted = resettle(base.settlement, changed, settings, only)
    found = shift_of(base, Measured.of(shifted), base.settlement.data.hospitals)
    return ThresholdShift(value, found.delta, found.levels, found.moved_cases, found.reports)


def _allowed(policy: ir.Policy, threshold: Threshold, value: float) -> bool:
    """A parameter keeps to its range (`policy_dsl.ranges`); a step beyond it is not taken."""
    if threshold.row is not None:
        return True
    allowed = param_range(policy.param(threshold.name))
    return allowed is None or allowed.contains(value)


def _money(exposed: ThresholdExposure) -> int:
    shifts = [s for s in (exposed.down, exposed.up) if s is not None]
    return max(
        (sum(abs(v) for v in [*s.levels.values(), *s.reports.values()]) for s in shifts), default=0
    )


__all__ = [
    "Exposure",
    "Threshold",
    "ThresholdExposure",
    "ThresholdShift",
    "declared_types",
    "exposure",
    "step_for",
]

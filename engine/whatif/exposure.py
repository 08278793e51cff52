"""Threshold exposure (阈值敏感性): for every threshold of a policy, how many cases (or groups, or
hospitals) lie within ±5% of it, and how the payments would move if it shifted by one step.

A threshold is a parameter, or one row of a table, that a comparison reads (`thresholds.sites`).
Near means `|quantity − threshold| ≤ margin × |threshold|` on the rows where the comparison
decides something and that read this parameter or row. A step is ±1 for a count or a level,
±0.05 for a ratio (±0.001 below 0.1, e.g. a ‰ quota), 5% of the value (one significant digit)
otherwise; each shift is a settlement with the parameter set from outside
(`Settings(params=…)`) or the table row changed in the IR.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from engine.batch import Compiler, Settings, StageRun
from engine.settle import Settlement
from engine.whatif.impact import Impact, impact_of
from engine.whatif.runs import Runs
from engine.whatif.thresholds import Site, row_text, sites
from policy_dsl import ast as a
from policy_dsl import ir
from policy_dsl.loader import Resolved

MARGIN = 0.05


@dataclass(frozen=True)
class Knob:
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
class Shift:
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
class Threshold:
    """One threshold: where it is compared, what lies near it, what one step does."""

    knob: Knob
    sites: list[str]
    grain: str
    rows: int
    near: int
    near_levels: dict[int, int]
    down: Shift | None
    up: Shift | None

    def to_json(self) -> dict[str, Any]:
        return {
            "threshold": self.knob.label,
            "value": self.knob.value,
            "step": self.knob.step,
            "compared_in": self.sites,
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
    thresholds: list[Threshold] = field(default_factory=list)

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
    found: dict[str, Threshold] = {}
    for site in sites(policy):
        for knob in _knobs(policy, site, settings, types or {}):
            near = _near(base.settlement, site, knob, margin)
            previous = found.get(knob.label)
            if previous is None:
                down, up = (_shift(runs, policy, settings, knob, sign) for sign in (-1, 1))
                found[knob.label] = Threshold(knob, [site.text], *near, down, up)
            else:
                found[knob.label] = _merged(previous, site.text, near)
    ranked = sorted(found.values(), key=lambda t: (-t.near, -_money(t), t.knob.label))
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


def _knobs(
    policy: ir.Policy, site: Site, settings: Settings, types: Mapping[str, str]
) -> list[Knob]:
    knobs = []
    for name in site.reads:
        kind = types.get(name)
        if any(p.name == name for p in policy.params):
            value = settings.params.get(name, policy.param(name).value)
            if isinstance(value, int | float) and not isinstance(value, bool):
                knobs.append(Knob(name, None, float(value), step_for(float(value), kind)))
            continue
        table = next(t for t in policy.tables if t.name == name)
        for index, row in enumerate(table.rows):
            if isinstance(row.value, int | float) and not isinstance(row.value, bool):
                value = float(row.value)
                knobs.append(Knob(name, index, value, step_for(value, kind), row_text(row)))
    return knobs


# ---- rows near a threshold ------------------------------------------------------------------


def _near(
    settlement: Settlement, site: Site, knob: Knob, margin: float
) -> tuple[str, int, int, dict[int, int]]:
    """(grain, rows where the comparison decides, rows near the threshold, near per level)."""
    stage = settlement.policy.stage(site.stage)
    run = StageRun(
        settlement.policy, stage, settlement.data, settlement.stages, settlement.settings
    )
    result = settlement.stages[site.stage]
    run.frames, run.home = dict(result.frames), dict(result.home)
    grain = run.effective(site.grain)
    quantity = Compiler(run, grain).expr(site.quantity)
    threshold = Compiler(run, grain).expr(site.threshold)
    guard = Compiler(run, grain).expr(site.guard) if site.guard is not None else pl.lit(True)
    _move(run, knob, knob.step)
    moved = Compiler(run, grain).expr(site.threshold)
    columns = run.frame(grain).columns
    frame = (
        run.frame(grain)
        .select(
            *(["level"] if "level" in columns else []),
            quantity.cast(pl.Float64).alias("quantity"),
            threshold.cast(pl.Float64).alias("threshold"),
            (guard.fill_null(False) & (moved != threshold).fill_null(False)).alias("decides"),
        )
        .filter("decides")
    )
    near = frame.filter(
        (pl.col("quantity") - pl.col("threshold")).abs() <= margin * pl.col("threshold").abs()
    )
    levels = dict(sorted(near.group_by("level").len().rows())) if "level" in near.columns else {}
    return "×".join(site.grain) or "all", frame.height, near.height, levels


def _move(run: StageRun, knob: Knob, by: float) -> None:
    """Shift a knob in a stage run (its parameters and tables)."""
    if knob.row is None:
        run.params[knob.name] = knob.value + by
    else:
        run.tables[knob.name] = _table_with(run.tables[knob.name], knob.row, knob.value + by)


def _table_with(table: ir.Table, index: int, value: float) -> ir.Table:
    rows = list(table.rows)
    rows[index] = rows[index].model_copy(update={"value": value})
    return table.model_copy(update={"rows": rows})


def _merged(
    previous: Threshold, site: str, near: tuple[str, int, int, dict[int, int]]
) -> Threshold:
    grain, rows, count, levels = near
    combined = {
        k: previous.near_levels.get(k, 0) + levels.get(k, 0)
        for k in {*previous.near_levels, *levels}
    }
    return Threshold(
        previous.knob,
        [*previous.sites, site],
        previous.grain if previous.grain == grain else f"{previous.grain}; {grain}",
        previous.rows + rows,
        previous.near + count,
        dict(sorted(combined.items())),
        previous.down,
        previous.up,
    )


# ---- one step either way ----------------------------------------------------------------------


def _shift(
    runs: Runs, policy: ir.Policy, settings: Settings, knob: Knob, sign: int
) -> Shift | None:
    value = knob.value + sign * knob.step
    if knob.value >= 0 > value:
        return None
    if knob.row is None:
        moved = Settings(settings.definitions, {**settings.params, knob.name: value})
        shifted = runs.outcome(policy, moved)
    else:
        tables = [
            _table_with(t, knob.row, value) if t.name == knob.name else t for t in policy.tables
        ]
        shifted = runs.outcome(ir.with_hash(policy.model_copy(update={"tables": tables})), settings)
    impact = impact_of(runs.outcome(policy, settings), shifted)
    reports = {r: int(d or 0) for r, d in impact.reports.select("report", "delta").rows()}
    return Shift(value, impact.delta, _level_deltas(impact), _moved_cases(impact), reports)


def _level_deltas(impact: Impact) -> dict[int, int]:
    return {
        int(level): int(delta) for level, delta in impact.levels.select("level", "delta").rows()
    }


def _moved_cases(impact: Impact) -> int:
    return int(impact.moved()["cases"].sum())


def _money(threshold: Threshold) -> int:
    shifts = [s for s in (threshold.down, threshold.up) if s is not None]
    return max(
        (sum(abs(v) for v in [*s.levels.values(), *s.reports.values()]) for s in shifts), default=0
    )


__all__ = ["Exposure", "Knob", "Shift", "Threshold", "declared_types", "exposure", "step_for"]

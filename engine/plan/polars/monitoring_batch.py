"""The monitoring stage's aggregates, computed ahead (指标预聚合): a policy has a few dozen
indicators, each at up to six grains, and each aggregates the run's cases — one group-by of
every case per aggregate and grain would cost more than the settlement itself.

Instead, every aggregate that can be rolled up (sum, count, share, mean, min, max) is computed
once per hospital × month (the cube: one group-by of the cases, for all of them), then rolled up
from the cube to each grain of hospitals and months that asks for it — the city, tiers and levels
(through the hospitals), hospitals, months; the others (distinct, cv), and every aggregate at a
grain of groups, are computed per grain, all of a grain in one group-by. Sums are added
in a fixed order (`functions.stable_sum`), so the same run gives the same values, to the bit.
The values are kept for every later definition (`StageRun.kept_aggregates`).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from engine.plan import functions
from engine.plan.polars import batch_windows
from engine.plan.polars import keys as keys_mod
from engine.plan.polars.batch import Compiler, StageRun
from engine.plan.polars.frames import key_columns
from policy_dsl import grains as g
from policy_dsl import ir
from policy_dsl.grains import CASE

#: The keys of the cube, and the grains that roll up from it.
CUBE = ("hospital_id", "month")
ROLLS_UP = g.closure({"hospital", "month"})
#: Aggregates whose value at a coarser grain follows from their parts at a finer one.
ROLLED = ("sum", "count", "share", "mean", "min", "max")


def ahead_points(definitions: Sequence[ir.Definition]) -> set[int]:
    """Where the monitoring stage computes its aggregates ahead: before its first definition
    coarser than a case (once the definitions per case are there), and before its first
    indicator."""
    first_coarser = next((i for i, d in enumerate(definitions) if d.grain != ["case"]), None)
    first_indicator = next((i for i, d in enumerate(definitions) if "@" in d.name), None)
    return {i for i in (first_coarser, first_indicator) if i is not None}


def aggregate_ahead(run: StageRun, definitions: Sequence[ir.Definition]) -> None:
    """Compute ahead the aggregates of the cases that `definitions` read at their grains, as
    far as what they read is already defined in `run`."""
    wanted = batch_windows.ready_aggregates(run, definitions)
    rolled = {
        k: a
        for grain, found in wanted.items()
        if grain <= ROLLS_UP
        for k, a in found.items()
        if a.fn in ROLLED
    }
    cube = _cube(run, rolled) if rolled else None
    for grain, found in wanted.items():
        if cube is not None and grain <= ROLLS_UP:
            _roll_up(run, grain, cube, [k for k in found if k in rolled])
        direct = [a for k, a in found.items() if (k, grain) not in run.kept_aggregates]
        if direct:
            batch_windows.prefetch_aggregates(Compiler(run, grain), direct, kept=True)


def _parts(fn: str, arg: pl.Expr | None, where: pl.Expr | None) -> list[pl.Expr]:
    """What one hospital × month keeps of an aggregate, for it to be rolled up."""
    kept = where.fill_null(False) if where is not None else None
    if fn == "count":
        return [(kept.sum() if kept is not None else pl.len()).cast(pl.Float64)]
    if fn == "share":
        return [(kept.sum() if kept is not None else pl.len()).cast(pl.Float64), pl.len()]
    assert arg is not None
    values = arg.filter(kept) if kept is not None else arg
    if fn in ("min", "max"):
        return [values.min() if fn == "min" else values.max()]
    numbers = values.cast(pl.Float64)
    total = functions.stable_sum(numbers)
    return [total] if fn == "sum" else [total, numbers.count().cast(pl.Float64)]


class _Cube:
    """The cube: one row per hospital × month with cases, and each aggregate's parts."""

    def __init__(self, frame: pl.DataFrame, parts: dict[str, tuple[str, list[str]]]) -> None:
        self.frame = frame
        self.parts = parts  # aggregate → (its function, its part columns)

    def rolled(self, key: str, alias: str) -> pl.Expr:
        fn, columns = self.parts[key]
        first = pl.col(columns[0])
        if fn in ("min", "max"):
            return (first.min() if fn == "min" else first.max()).alias(alias)
        if fn == "count":
            return first.sum().alias(alias)
        total = functions.stable_sum(first) if fn in ("sum", "mean") else first.sum()
        if fn == "sum":
            return total.alias(alias)
        count = pl.col(columns[1]).sum()
        return pl.when(count > 0).then(total / count).alias(alias)


def _cube(run: StageRun, rolled: dict[str, ir.Aggregate]) -> _Cube:
    inner = Compiler(run, CASE)
    #: each part, named, by its expression: a part several aggregates have (the sum of
    #: `total_cost` of its mean and of its sum, the rows of each share) is computed once
    made: dict[str, pl.Expr] = {}
    parts: dict[str, tuple[str, list[str]]] = {}
    for key, agg in rolled.items():
        where = inner.expr(agg.where) if agg.where is not None else None
        arg = inner.expr(agg.arg) if agg.arg is not None else None
        columns = []
        for part in _parts(agg.fn, arg, where):
            named = made.setdefault(
                part.meta.serialize(format="json"), part.alias(f"__cube{len(made)}")
            )
            columns.append(named.meta.output_name())
        parts[key] = (agg.fn, columns)
    cases = run.frame(CASE)
    frame = keys_mod.group_rows(run.data.codes, cases, CUBE, list(made.values()))
    hospitals = run.data.hospitals.select("hospital_id", "level", "tier")
    return _Cube(frame.join(hospitals, on="hospital_id", how="left"), parts)


def _roll_up(run: StageRun, grain: g.Grain, cube: _Cube, keys: list[str]) -> None:
    """The aggregates `keys` at `grain`, from the cube, kept in the grain's frame."""
    if not keys:
        return
    names = [f"__kept{len(run.kept_aggregates) + i}" for i in range(len(keys))]
    rolled = [cube.rolled(key, name) for key, name in zip(keys, names, strict=True)]
    columns = key_columns(grain)
    frame = run.frame(grain)
    if columns:
        result = cube.frame.group_by(columns).agg(rolled)
        values = {name: name for name in names}
        run.add(grain, keys_mod.bring_values(run.data.codes, frame, result, columns, values))
    else:
        row = cube.frame.select(rolled)
        run.add(
            grain,
            frame.with_columns(pl.lit(row[n][0], dtype=row.schema[n]).alias(n) for n in names),
        )
    for key, name in zip(keys, names, strict=True):
        run.kept_aggregates[(key, grain)] = name

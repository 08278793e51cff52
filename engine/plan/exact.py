"""Exact sums (精确求和): a group's sum of doubles that every backend computes to the same bits.

Each value is rounded to a grid of 2⁻⁴⁰ (about 1e-12), the multiples are added as 128-bit
integers — exact, in any order, on any number of threads — and the total is rounded once to a
double. A float sum's last bits depend on the order of its additions, which neither polars'
threads nor a SQL engine fix; the grid makes the polars plan and the SQL lowering
(`engine.plan.sql.aggregates`) agree to the bit.
"""

from __future__ import annotations

import polars as pl

#: The grid: sums are exact in multiples of 1 / EXACT_SCALE.
EXACT_SCALE = 2.0**40
#: Values beyond this (or NaN, ±inf) are summed as doubles: their whole part must fit a 64-bit
#: integer exactly (a settlement's values are far below: money stops at 2⁵³ fen).
EXACT_LIMIT = 2.0**53


def grid_units(values: pl.Expr) -> pl.Expr:
    """Each value as a whole number of grid steps, rounded half up: its whole part × 2⁴⁰ plus
    its fraction's steps, both exact in 64-bit integers (a SQL engine's FLOOR of a double above
    2⁶³ would not be), added as 128-bit integers."""
    whole = values.floor()
    steps = ((values - whole) * EXACT_SCALE + 0.5).floor()
    return whole.cast(pl.Int64).cast(pl.Int128) * int(EXACT_SCALE) + steps.cast(pl.Int128)


def exact_sum(values: pl.Expr) -> pl.Expr:
    """A group's sum of doubles on the grid `EXACT_SCALE`, the same bits in every backend (nulls
    skipped; 0 for none)."""
    on_grid = values.abs() < EXACT_LIMIT  # false for NaN, ±inf and huge values
    units = grid_units(pl.when(on_grid).then(values))
    exact = units.sum().cast(pl.Float64) * (1.0 / EXACT_SCALE)
    return pl.when((~on_grid).any()).then(values.sum()).otherwise(exact)


def exact_mean(values: pl.Expr) -> pl.Expr:
    """`exact_sum` ÷ the number of values (missing for none)."""
    count = values.count().cast(pl.Float64)
    return pl.when(count > 0).then(exact_sum(values) / count)


def exact_spread(deviation: pl.Expr) -> pl.Expr:
    """Population standard deviation (ddof = 0) from each value's deviation from the values'
    `exact_mean` (null where there is no value): √(Σ deviation² ÷ n), the sum exact. The
    deviations are a column computed before the group-by (`engine.plan.polars.batch_windows`): the
    mean broadcast inside a group-by's aggregate would be computed again for every read of it."""
    count = deviation.count().cast(pl.Float64)
    return pl.when(count > 0).then((exact_sum(deviation * deviation) / count).sqrt())

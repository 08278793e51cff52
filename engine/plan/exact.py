"""Exact sums (精确求和): a group's sum of doubles that every backend computes to the same bits.

Each value is rounded to a grid of 2⁻⁴⁰ (about 1e-12), the multiples are added as 128-bit
integers — exact, in any order, on any number of threads — and the total is rounded once to a
double. A float sum's last bits depend on the order of its additions, which neither polars'
threads nor a SQL engine fix; the grid makes the polars plan and the SQL lowering
(`engine.plan.sql.aggregates`) agree to the bit.
"""

from __future__ import annotations

import functools
import operator

import numpy as np
import polars as pl

#: The grid: sums are exact in multiples of 1 / EXACT_SCALE.
EXACT_SCALE = 2.0**40
#: Values beyond this (or NaN, ±inf) are summed as doubles: their whole part must fit a 64-bit
#: integer exactly (a settlement's values are far below: money stops at 2⁵³ fen).
EXACT_LIMIT = 2.0**53
#: Groups of this many rows or more sum their grid steps (each at most 2⁴⁰) in two 20-bit halves
#: (`grid_parts`): a 64-bit sum of 2²³ of them could overflow.
SPLIT_STEPS_ROWS = 2**23
#: The bound of a 64-bit integer sum.
INT64_BOUND = 2**63
#: Whole parts whose 64-bit sum could overflow are summed in two halves, the low one this many
#: bits (`grid_parts`).
WHOLE_LOW_BITS = 26


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


def grid_parts(
    values: pl.Series, name: str, rows: int | None = None
) -> tuple[list[pl.Series], pl.Expr] | None:
    """`values`' grid steps (`grid_units`) as 64-bit integer columns named after `name` — each
    value's whole part (in two halves where their 64-bit sum could overflow, Σ|whole| ≥ 2⁶²:
    an allocation's weights, scaled to 2⁵²), and its fraction's steps (in two 20-bit halves for
    groups of `SPLIT_STEPS_ROWS` rows or more), 0 for a missing value (what it adds to a sum) —
    and the expression of a group's `exact_sum` from their plain integer sums: the same integer
    total, so the same bits, without the grid's arithmetic on every row inside the group-by (a
    row expression in a group-by's aggregate costs polars several times the same expression
    computed before it). None where the values need `exact_sum` itself: a value off the grid
    (NaN, ±inf, |v| ≥ 2⁵³), or 2³⁵ rows or more with such whole parts.
    `rows`: the most rows a group can have (default: all of them). Computed with numpy, in
    place: a third of the time of the same passes in polars, whose float → integer casts check
    every value."""
    rows = len(values) if rows is None else rows
    floats = values.cast(pl.Float64)
    numbers = (floats.fill_null(0.0) if floats.has_nulls() else floats).to_numpy()
    least, greatest = (float(numbers.min()), float(numbers.max())) if len(numbers) else (0.0, 0.0)
    if not (least > -EXACT_LIMIT and greatest < EXACT_LIMIT):  # false for NaN
        return None
    # the floors as doubles, then each pass in place on them: a subtraction of a double and an
    # integer, or a floor written as integers, casts every value in buffers (at 1M rows, the
    # parts in half the time)
    floors = np.floor(numbers)
    whole = floors.astype(np.int64)
    fraction = np.subtract(numbers, floors, out=floors)
    fraction *= EXACT_SCALE
    fraction += 0.5
    steps = np.floor(fraction, out=fraction).astype(np.int64)  # whole numbers from 0 to 2⁴⁰
    weights: dict[str, tuple[np.ndarray, int]] = {}
    # Σ|whole| bounds every group's sum of whole parts; a float sum's rounding error is far
    # below the factor of two kept from 2⁶³. Summed only where the rows × the largest |whole|
    # do not bound it already
    largest = max(-least, greatest) + 1.0
    if (
        len(numbers) * largest < INT64_BOUND / 2
        or np.abs(whole).sum(dtype=np.float64) < INT64_BOUND / 2
    ):
        weights[f"{name}_whole"] = (whole, int(EXACT_SCALE))
    elif len(numbers) < 2**35:
        # in two halves (|whole| < 2⁵³): the high one, at most 2²⁷, sums in 64 bits over
        # fewer than 2³⁵ rows, the low 26 bits (≥ 0: the shift floors) too
        high = np.right_shift(whole, WHOLE_LOW_BITS)
        low = np.bitwise_and(whole, (1 << WHOLE_LOW_BITS) - 1, out=whole)
        weights[f"{name}_whole_high"] = (high, int(EXACT_SCALE) << WHOLE_LOW_BITS)
        weights[f"{name}_whole_low"] = (low, int(EXACT_SCALE))
    else:
        return None
    if rows < SPLIT_STEPS_ROWS:
        weights[f"{name}_steps"] = (steps, 1)
    else:
        weights[f"{name}_steps_high"] = (np.right_shift(steps, 20), 2**20)
        weights[f"{name}_steps_low"] = (np.bitwise_and(steps, 2**20 - 1, out=steps), 1)
    columns = [pl.Series(column, part) for column, (part, _) in weights.items()]
    sums = (pl.col(c).sum().cast(pl.Int128) * weight for c, (_, weight) in weights.items())
    total = functools.reduce(operator.add, sums)
    return columns, total.cast(pl.Float64) * (1.0 / EXACT_SCALE)


def group_sums(group: np.ndarray, space: int, part: np.ndarray) -> np.ndarray:
    """Each group's sum of a grid part (`grid_parts`' 64-bit integers), `group` each row's
    group, an index below `space`: numpy's `add.at` in 64-bit integers, exact in any order as
    polars' sums of the column are — `grid_parts` keeps every sum of a part's values below
    2⁶³ (Σ|part| over all its rows)."""
    sums = np.zeros(space, np.int64)
    np.add.at(sums, group, part)
    return sums


def mean_of(total: pl.Expr, count: pl.Expr) -> pl.Expr:
    """A group's exact `total` ÷ its `count` of values (missing for none)."""
    number = count.cast(pl.Float64)
    return pl.when(number > 0).then(total / number)


def exact_mean(values: pl.Expr) -> pl.Expr:
    """`exact_sum` ÷ the number of values (missing for none)."""
    return mean_of(exact_sum(values), values.count())


def spread_of(squares: pl.Expr, count: pl.Expr) -> pl.Expr:
    """Population standard deviation (ddof = 0) from the exact sum of the squared deviations
    from the mean and their count: √(Σ deviation² ÷ n), missing for none."""
    number = count.cast(pl.Float64)
    return pl.when(number > 0).then((squares / number).sqrt())


def exact_spread(deviation: pl.Expr) -> pl.Expr:
    """`spread_of` each value's deviation from the values' `exact_mean` (null where there is no
    value). The deviations are a column computed before the group-by
    (`engine.plan.polars.batch_windows`): the mean broadcast inside a group-by's aggregate would
    be computed again for every read of it."""
    return spread_of(exact_sum(deviation * deviation), deviation.count())

"""Exact sums (精确求和): a group's sum of doubles that every backend computes to the same bits.

Each value is rounded to a grid of 2⁻⁴⁰ (about 1e-12), the multiples are added as 128-bit
integers — exact, in any order, on any number of threads — and the total is rounded once to a
double. A float sum's last bits depend on the order of its additions, which neither polars'
threads nor a SQL engine fix; the grid makes the polars plan and the SQL lowering
(`engine.sql.aggregates`) agree to the bit.
"""

from __future__ import annotations

import polars as pl

#: The grid: sums are exact in multiples of 1 / EXACT_SCALE.
EXACT_SCALE = 2.0**40
#: Values beyond this (or NaN, ±inf) are summed as doubles: their total is not a number a
#: settlement keeps (the run's finite checks stop it) and 2⁸⁰ × 2⁴⁰ leaves 2³⁴ rows of headroom.
EXACT_LIMIT = 2.0**80


def exact_sum(values: pl.Expr) -> pl.Expr:
    """A group's sum of doubles on the grid `EXACT_SCALE`, the same bits in every backend (nulls
    skipped; 0 for none)."""
    units = (values * EXACT_SCALE + 0.5).floor()
    plain = ~(values.abs() < EXACT_LIMIT)  # NaN, ±inf, huge: not on the grid
    exact = units.cast(pl.Int128, strict=False).sum().cast(pl.Float64) * (1.0 / EXACT_SCALE)
    return pl.when(plain.any()).then(values.sum()).otherwise(exact)


def exact_mean(values: pl.Expr) -> pl.Expr:
    """`exact_sum` ÷ the number of values (missing for none)."""
    count = values.count().cast(pl.Float64)
    return pl.when(count > 0).then(exact_sum(values) / count)


def exact_std(values: pl.Expr) -> pl.Expr:
    """Population standard deviation (ddof = 0): √(Σ (x − mean)² ÷ n), both sums exact."""
    count = values.count().cast(pl.Float64)
    deviation = values - exact_mean(values)
    return pl.when(count > 0).then((exact_sum(deviation * deviation) / count).sqrt())

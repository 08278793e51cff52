"""Exact sums (`engine.plan.exact`): the same bits in any row order, in polars and in DuckDB, and
the value an independent path computes — each value rounded half up to the 2⁻⁴⁰ grid, the
multiples added as Python integers, the total rounded once to a double."""

from __future__ import annotations

import math
from fractions import Fraction

import duckdb
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from engine.plan.exact import (
    EXACT_SCALE,
    SPLIT_STEPS_ROWS,
    exact_mean,
    exact_sum,
    grid_parts,
)
from engine.plan.sql import build as b
from engine.plan.sql.aggregates import Aggregates

VALUES = st.lists(
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_subnormal=False),
    min_size=1,
    max_size=60,
)


def independent(values: list[float]) -> float:
    steps = sum(math.floor(Fraction(v) * int(EXACT_SCALE) + Fraction(1, 2)) for v in values)
    return float(Fraction(steps, int(EXACT_SCALE)))


def in_duckdb(values: list[float]) -> float:
    con = duckdb.connect()
    con.register("t", pl.DataFrame({"x": values}).to_arrow())
    query = exp.select(Aggregates("HUGEINT").exact_sum(b.col("x"))).from_(b.table("t"))
    found = con.execute(query.sql(dialect="duckdb")).fetchone()
    assert found is not None
    return float(found[0])


@settings(max_examples=60, deadline=None)
@given(values=VALUES, seed=st.randoms(use_true_random=False))
def test_an_exact_sum_is_the_same_in_any_order_and_backend(values: list[float], seed) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(values)
    seed.shuffle(shuffled)
    total = pl.DataFrame({"x": values}).select(exact_sum(pl.col("x"))).item()
    again = pl.DataFrame({"x": shuffled}).select(exact_sum(pl.col("x"))).item()
    assert total == again == independent(values) == in_duckdb(shuffled)


def test_the_order_shows_in_a_float_sum_and_not_in_an_exact_one() -> None:
    forward, backward = [0.1, 0.2, 0.3], [0.3, 0.2, 0.1]
    assert sum(forward) != sum(backward)  # 0.6000000000000001 and 0.6
    totals = [
        pl.DataFrame({"x": v}).select(exact_sum(pl.col("x"))).item() for v in (forward, backward)
    ]
    assert totals[0] == totals[1] == independent(forward)
    assert pl.DataFrame({"x": [1.0, 2.0]}).select(exact_mean(pl.col("x"))).item() == 1.5


GROUPED = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=3),
        st.one_of(
            st.none(),
            st.floats(min_value=-1e15, max_value=1e15, allow_nan=False),
            st.sampled_from([0.1, -0.1, 2.0**-41, -(2.0**-41), 0.5 - 2.0**-54, 2.0**52 + 0.5]),
        ),
    ),
    max_size=80,
)


@settings(max_examples=80, deadline=None)
@given(rows=GROUPED, split=st.booleans())
def test_grid_parts_sum_to_the_exact_sum(rows: list[tuple[int, float | None]], split) -> None:  # type: ignore[no-untyped-def]
    """A group's sum of `grid_parts` (the integer columns the engine's group-bys add) is
    `exact_sum` of its values to the bit, nulls skipped; with the steps in two halves too (as
    for groups of 2²³ rows or more)."""
    frame = pl.DataFrame(rows, schema={"g": pl.Int64, "x": pl.Float64}, orient="row")
    found = grid_parts(frame["x"], "x", rows=SPLIT_STEPS_ROWS if split else None)
    assert found is not None
    columns, total = found
    assert [c.name for c in columns] == (
        ["x_whole", "x_steps_high", "x_steps_low"] if split else ["x_whole", "x_steps"]
    )
    with_parts = frame.with_columns(columns)
    got = with_parts.group_by("g").agg(total.alias("s")).sort("g")
    expected = frame.group_by("g").agg(exact_sum(pl.col("x")).alias("s")).sort("g")
    assert got["s"].to_list() == expected["s"].to_list()  # == on floats: the same bits here
    for group, value in got.iter_rows():
        taken = [x for g, x in rows if g == group and x is not None]
        assert value == independent(taken)


def test_grid_parts_leave_what_needs_the_exact_sum_itself() -> None:
    """Off the grid (NaN, ±inf, 2⁵³): none; whole parts whose 64-bit sum could overflow
    (Σ|whole| ≥ 2⁶²) in two halves."""
    for odd in (math.nan, math.inf, -math.inf, 2.0**53):
        assert grid_parts(pl.Series([1.0, odd]), "x") is None
    assert grid_parts(pl.Series([-(2.0**53) + 1.0, None, math.nan]), "x") is None

    def names(values: list[float | None]) -> list[str]:
        found = grid_parts(pl.Series(values, dtype=pl.Float64), "x")
        assert found is not None
        return [c.name for c in found[0]]

    halves = ["x_whole_high", "x_whole_low", "x_steps"]
    assert names([2.0**52] * 2**10) == halves  # Σ|whole| = 2⁶²
    assert names([-(2.0**52)] * 2**10) == halves
    assert names([2.0**52] * (2**10 - 1)) == ["x_whole", "x_steps"]
    # rows × the largest value beyond 2⁶², Σ|whole| below it: the sum decides, not the bound
    assert names([2.0**52] * (2**10 - 1) + [0.5] * 2**12) == ["x_whole", "x_steps"]
    assert names([None, None]) == ["x_whole", "x_steps"]
    assert names([]) == ["x_whole", "x_steps"]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.floats(-(2.0**53) + 1, 2.0**53 - 1, allow_nan=False)),
        min_size=1,
        max_size=40,
    ),
    st.integers(0, 2**9),
)
def test_whole_parts_in_halves_sum_to_the_exact_sum(
    values: list[float | None], copies: int
) -> None:
    """Values near 2⁵³, repeated until Σ|whole| passes 2⁶² (the whole parts in two halves):
    their parts' sum is `exact_sum`'s, bit for bit, and the grid's sum in Python integers."""
    frame = pl.DataFrame({"x": values * (copies + 1)}, schema={"x": pl.Float64})
    found = grid_parts(frame["x"], "x")
    assert found is not None
    columns, total = found
    got = pl.DataFrame(columns).select(total).item()
    assert got == frame.select(exact_sum(pl.col("x"))).item()
    units = 0
    for v in frame["x"].drop_nulls().to_list():
        whole = math.floor(v)
        units += whole * 2**40 + math.floor((v - whole) * 2.0**40 + 0.5)
    assert got == float(units) * (1.0 / 2.0**40)

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

from engine.plan.exact import EXACT_SCALE, exact_mean, exact_sum
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

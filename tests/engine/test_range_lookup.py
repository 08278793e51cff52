"""A range table is looked up in the batch plan by a `when/then` chain (a few rows) or in one
search (more rows); both find the row the explainer's first-match loop finds, for keys at,
within the tolerance of, and either side of every bound, and the missing and non-finite keys.
A table of 20,000 rows settles in seconds (a chain of one `when/then` per row took polars hours)
and pays what its three-row equivalent pays."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from bench.lang_inputs import BASE, big_table
from engine.explainer.explain import explain, table_value
from engine.inputs.rundata import Period
from engine.plan.polars.batch import (
    CHAIN_ROWS,
    _lower_end,
    _number,
    _range_chain,
    _range_lookup,
    _range_search,
)
from engine.run.settle import load_data, settle
from policy_dsl import ir
from policy_dsl.check import check
from policy_dsl.loader import policy_from_text, read_policy_file, resolve
from policy_dsl.lower import lower

NUMBER = ir.TypeIR(kind="number")


@st.composite
def range_tables(draw: st.DrawFn) -> ir.Table:
    """Contiguous ranges with every mix of closed and open ends, maybe an `inf` top and an
    `else` row."""
    bounds = sorted(draw(st.sets(st.integers(-50, 50), min_size=2, max_size=8)))
    scale = draw(st.sampled_from([1.0, 0.01, 1000.0]))
    rows, low_closed = [], True
    for i, (low, high) in enumerate(itertools.pairwise(bounds)):
        high_closed = draw(st.booleans())
        top = i == len(bounds) - 2 and draw(st.booleans())
        rows.append(
            ir.Row(
                low=low * scale,
                low_closed=low_closed,
                high=None if top else high * scale,
                high_closed=high_closed,
                value=float(i),
            )
        )
        low_closed = not high_closed
    if draw(st.booleans()):
        rows.append(ir.Row(default=True, value=-1.0))
    rows = draw(st.permutations(rows))
    return ir.Table(
        name="t", label="t", kind="ranges", key_type=NUMBER, value_type=NUMBER, rows=rows
    )


def keys_near(table: ir.Table) -> list[float]:
    bounds = {b for r in table.rows for b in (r.low, r.high) if b is not None}
    keys = []
    for b in sorted(bounds):
        step = abs(b) or 1.0
        keys += [b, b * (1 + 1e-15), b * (1 - 1e-15), b + step * 1e-12, b - step * 1e-12]
        keys += [b + 0.5 * step, b - 0.5 * step]
    return keys


@given(range_tables())
def test_the_batch_lookup_finds_the_row_the_explainer_finds(table: ir.Table) -> None:
    keys = keys_near(table)
    found = (
        pl.DataFrame({"key": keys})
        .select(_range_lookup(table, pl.col("key")).alias("value"))["value"]
        .to_list()
    )
    assert found == [table_value(table, key) for key in keys]


@given(range_tables())
def test_the_chain_and_the_search_find_the_same_row(table: ir.Table) -> None:
    """Both ways of `_range_lookup`, whichever it takes for this table, on every key near a
    bound and on null, NaN and ±inf (null and NaN take the `else` row)."""
    rows = sorted((r for r in table.rows if not r.default), key=_lower_end)
    otherwise = next((r.value for r in table.rows if r.default), None)
    fallback = pl.lit(_number(otherwise))
    keys = [*keys_near(table), None, float("nan"), float("inf"), float("-inf")]
    frame = pl.DataFrame({"key": keys}, schema={"key": pl.Float64})
    chain, search = (
        frame.select(way(rows, pl.col("key"), fallback).alias("value"))["value"].to_list()
        for way in (_range_chain, _range_search)
    )
    assert chain == search
    assert chain[:-4] == [table_value(table, key) for key in keys[:-4]]
    assert chain[-4:-2] == [otherwise] * 2


def test_a_table_of_more_rows_than_a_chain_takes_is_searched() -> None:
    rows = [
        ir.Row(low=float(i), low_closed=True, high=float(i + 1), high_closed=False, value=i * 2.0)
        for i in range(CHAIN_ROWS + 1)
    ]
    table = ir.Table(
        name="t", label="t", kind="ranges", key_type=NUMBER, value_type=NUMBER, rows=rows
    )
    keys = pl.DataFrame({"key": [0.5, float(CHAIN_ROWS) + 0.5, -1.0]})
    found = keys.select(_range_lookup(table, pl.col("key")).alias("v"))["v"].to_list()
    assert found == [0.0, CHAIN_ROWS * 2.0, None]


def test_a_20000_row_table_settles_and_pays_as_its_three_rows(sample_dir: Path) -> None:
    policy = lower(check(resolve(policy_from_text(big_table(20_000), "big/2023.policy"), [])))
    inputs = load_data(sample_dir, policy)
    start = time.perf_counter()
    settled = settle(policy, inputs, Period.parse("2024"))
    assert time.perf_counter() - start < 30, "it took hours"
    plain = lower(check(resolve(read_policy_file(BASE), [])))
    expected = settle(plain, load_data(sample_dir, plain), Period.parse("2024")).cases()
    columns = ["case_id", "category", "payment"]
    assert (
        settled.cases()
        .select(columns)
        .sort("case_id")
        .equals(expected.select(columns).sort("case_id"))
    )
    high = settled.cases().filter(pl.col("category") == "high")["case_id"][0]
    steps = {s.name: s.value for s in explain(settled, high).steps}
    assert steps["category"] == "high"

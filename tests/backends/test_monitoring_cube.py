"""The monitoring stage's cube in the database (`engine.plan.sql.monitoring_cube`): every
aggregate that rolls up, computed per hospital × month and rolled up to a coarser grain (a
level, the city), is to the bit the value one GROUP BY of the cases gives
(`engine.plan.sql.aggregates.reduce`), whatever the rows, nulls, NaN and infinities among
them."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from engine.plan.polars.batch_windows import ZERO_WHEN_EMPTY
from engine.plan.polars.monitoring_batch import ROLLED
from engine.plan.sql import build as b
from engine.plan.sql.aggregates import Aggregates, reduce
from engine.plan.sql.monitoring_cube import CubeParts

ROWS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=5),  # hospital
        st.integers(min_value=1, max_value=3),  # month
        st.one_of(
            st.none(),
            st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
            st.sampled_from([0.1, -0.1, 2.0**-41, 0.5 - 2.0**-54, float("nan"), float("inf")]),
        ),
        st.one_of(st.none(), st.booleans()),  # where
    ),
    max_size=60,
)


def rows_of(con: duckdb.DuckDBPyConnection, query: exp.Select) -> list[tuple[str, ...]]:
    """The rows in key order, each value's repr (NaN equal to NaN, -0.0 apart from 0.0)."""
    return [tuple(map(repr, row)) for row in con.execute(query.sql(dialect="duckdb")).fetchall()]


def grouped(source: str, keys: list[str], values: list[b.Node]) -> exp.Select:
    columns = [b.col(k) for k in keys]
    query = exp.select(*columns, *values).from_(b.table(source))
    return query.group_by(*columns).order_by(*columns) if keys else query


@settings(max_examples=60, deadline=None)
@given(rows=ROWS)
def test_rolled_up_from_the_cube_each_aggregate_is_the_direct_group_bys(rows: list[Any]) -> None:
    schema = {"hospital_id": pl.Int64, "month": pl.Int64, "x": pl.Float64, "w": pl.Boolean}
    cases = pl.DataFrame(rows, schema=schema, orient="row")
    con = duckdb.connect()
    con.register("cases", cases.with_columns(level=pl.col("hospital_id") % 2).to_arrow())
    parts = CubeParts("HUGEINT")
    direct: list[b.Node] = []
    rolled: list[b.Node] = []
    for fn in ROLLED:
        for where in (None, b.col("w")):
            for sums, found in ((Aggregates("HUGEINT"), direct), (parts, rolled)):
                value = reduce(fn, b.col("x"), where, sums)
                found.append(b.coalesce(value, b.num(0.0)) if fn in ZERO_WHEN_EMPTY else value)
    cube_keys = ["hospital_id", "level", "month"]
    cube = grouped("cases", cube_keys, [b.alias(part, name) for name, part in parts.parts.values()])
    con.execute(f"CREATE TABLE cube AS {cube.sql(dialect='duckdb')}")
    assert len(parts.parts) < 2 * len(rolled)  # a call shared by aggregates is one column
    for keys in ([], ["level"], ["month"]):
        assert rows_of(con, grouped("cube", keys, rolled)) == rows_of(
            con, grouped("cases", keys, direct)
        )

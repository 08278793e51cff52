"""Row-separable columns and order-free group-bys computed by polars' streaming engine
(`frames.with_columns`, `keys.group_rows(streamed=True)`): a settlement gives the frames that
every query run in memory gives, to the bit, on every shipped policy and generated data; the
streaming engine is asked only where the values cannot depend on its batches."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.plan.polars import frames
from engine.plan.polars.batch_windows import RowValues
from engine.plan.polars.keys import KeyCodes, group_rows
from engine.run.settle import load_data, settle
from policy_dsl import ir
from tests.engine.datasets import datasets, write_dataset
from tests.engine.test_aggregates_together import POLICIES, YEAR, _same_stages

COLLECT = pl.LazyFrame.collect


@contextmanager
def engines_asked() -> Iterator[list[str]]:
    """The engine of every collect while inside, each run in memory (the plan before
    streaming): a query asked of the streaming engine gives what the in-memory one gives."""
    asked: list[str] = []

    def in_memory(query: pl.LazyFrame, *args: Any, engine: Any = "auto", **kw: Any) -> Any:
        asked.append(engine)
        return COLLECT(query, *args, engine="in-memory", **kw)

    with mock.patch.object(pl.LazyFrame, "collect", in_memory):
        yield asked


@pytest.mark.parametrize("path", list(POLICIES), ids=lambda p: f"{p.parent.name}/{p.stem}")
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=datasets())
def test_every_stage_streamed_as_in_memory(path: Path, data: dict[str, Any]) -> None:
    """Every frame of every stage with each row-separable column streamed (any frame, however
    few its rows) equals the frame of the plan that runs every query in memory."""
    policy = POLICIES[path]
    with tempfile.TemporaryDirectory() as folder:
        inputs = load_data(write_dataset(data, Path(folder)), policy)
        with (
            mock.patch.object(frames, "STREAMED_ROWS", 0),
            mock.patch.object(frames, "STREAMED_OPERATIONS", 0),
        ):
            streamed = settle(policy, inputs, YEAR)
            with engines_asked() as asked:
                in_memory = settle(policy, inputs, YEAR)
    assert "streaming" in asked
    _same_stages(streamed, in_memory)


def test_row_separable_columns_streamed_the_rest_in_memory() -> None:
    frame = pl.DataFrame({"g": [1, 2, 1, 2, 3] * 40, "x": [float(i) for i in range(200)]})
    separable = pl.when(pl.col("x") > 50).then(pl.col("x") * 3).otherwise(-pl.col("x"))
    by_group = pl.col("x").max().over("g")  # a group's value: its batch alone would not do
    centred = pl.col("x") - pl.col("x").mean()  # polars' row-separable, a float sum inside
    few = pl.col("x") * 3  # one operation: in memory
    with (
        mock.patch.object(frames, "STREAMED_ROWS", 100),
        mock.patch.object(frames, "STREAMED_OPERATIONS", 3),
        engines_asked() as asked,
    ):
        got = frames.with_columns(frame, separable.alias("y"), pl.lit(1.0).alias("x"))
        grouped = frames.with_columns(frame, by_group.alias("top"))
        frames.with_columns(frame, centred.alias("centred"))
        small = frames.with_columns(frame.head(99), separable.alias("y"))
        frames.with_columns(frame, few.alias("y"))
    assert asked == ["streaming", "in-memory", "in-memory", "in-memory", "in-memory"]
    assert got.columns == ["g", "x", "y"]  # `x` replaced in place, as `with_columns` does
    assert got["x"].to_list() == [1.0] * 200
    assert got["y"].to_list() == [x * 3 if x > 50 else -x for x in range(200)]
    assert got.n_chunks("all") == [1, 1, 1]
    assert got["g"].equals(frame["g"])
    assert grouped["top"].to_list() == [197.0, 198.0, 197.0, 198.0, 199.0] * 40
    assert small["y"].equals(got["y"].head(99))


X = pl.col("x")


@pytest.mark.parametrize(
    "aggregate",
    [X.sum(), X.mean(), X.min(), X.max(), X.std(), X.var(), X.count(), X.n_unique(),
     X.implode().list.sum(), X.first(), X.sum().over("g")],
    ids=lambda e: str(e)[:40],
)  # fmt: skip
def test_every_aggregate_the_plan_writes_is_kept_from_streaming(aggregate: pl.Expr) -> None:
    # `frames._row_by_row` reads polars' own description of the expression: should a polars
    # release describe one of these differently, this fails, not a float sum's last bits (a
    # count of rows, `pl.len()`, is exact in any batches: polars streams it right)
    assert not frames._row_by_row(X - aggregate)
    assert not frames._row_by_row(pl.when(X > 0).then(aggregate).otherwise(X))
    assert frames._row_by_row(pl.when(X > 0).then(X * 2).otherwise(-X))


def _orderless(values: list[float | None], arg: ir.Expr) -> bool:
    """Whether the group-by of `sum(arg)` over `values` may be streamed (`RowValues`)."""
    rows = RowValues()
    node = ir.Aggregate(fn="sum", arg=arg, source=["case"])
    rows.reduce(node, pl.col("v") if isinstance(arg, ir.Ref) else pl.lit(2.0), None)
    no_case_frame = SimpleNamespace(run=SimpleNamespace(frames={}))
    rows.added(no_case_frame, pl.DataFrame({"v": values}, schema={"v": pl.Float64}), [])  # type: ignore[arg-type]
    return rows.orderless


def test_only_sums_of_integer_grid_parts_are_orderless() -> None:
    number = ir.TypeIR(kind="number")
    assert _orderless([1.5, None, 2.25], ir.Ref(name="v"))
    # off the grid: `exact_sum` adds the doubles themselves, in row order
    assert not _orderless([1.5, float("inf")], ir.Ref(name="v"))
    assert not _orderless([1.5, 2.0**60], ir.Ref(name="v"))
    # a constant argument is summed in the group-by by `exact_sum`
    assert not _orderless([1.5, 2.0], ir.Lit(value=2.0, type=number))


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["H1", "H2", "H3", None]), st.integers(-(2**40), 2**40)),
        min_size=1,
        max_size=300,
    )
)
def test_a_streamed_group_by_is_the_in_memory_one(rows: list[tuple[str | None, int]]) -> None:
    data = pl.DataFrame(rows, schema={"hospital_id": pl.String, "v": pl.Int64}, orient="row")
    hospitals = pl.DataFrame({"hospital_id": ["H1", "H2", "H3"], "level": ["1", "2", "2"]})
    groups = pl.DataFrame({"drg_code": ["GB11"]})
    codes = KeyCodes.of(groups, hospitals, groups, ["2024-01"])
    aggregates = [pl.col("v").sum().alias("total"), pl.len().alias("n"), pl.col("v").min()]
    streamed = group_rows(codes, data, ["hospital_id"], aggregates, streamed=True)
    assert streamed.equals(group_rows(codes, data, ["hospital_id"], aggregates))
    expected = data.group_by("hospital_id").agg(aggregates).sort("hospital_id", nulls_last=False)
    assert streamed.equals(expected.select(streamed.columns))

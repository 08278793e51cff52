"""The frames of a stage: one table per grain, identified by its key columns, holding every
value computed or read at that grain (the batch plan builds them; the explainer, outputs and
what-if read them)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import polars as pl

from engine.plan.polars.fallthrough import Fallthrough
from policy_dsl import grains as g
from policy_dsl import ir

KEY_COLUMNS = {
    "case": "case_id",
    "hospital": "hospital_id",
    "group": "drg_code",
    "level": "level",
    "tier": "tier",
    "month": "month",
}
HOSPITAL_SIDE = frozenset({"hospital", "level", "tier"})


def with_columns(frame: pl.DataFrame, *exprs: pl.Expr) -> pl.DataFrame:
    """`frame.with_columns(*exprs)` through polars' query optimizer, which computes a repeated
    sub-expression once (a table lookup inside a tolerance comparison, the branches of a `when`
    chain): three to four times faster than eager evaluation on a settlement's expressions.

    On a frame of `STREAMED_ROWS` rows or more, expressions that are row-separable (each row's
    value from that row alone: `f(A ++ B) = f(A) ++ f(B)`, so the same values whatever the
    batches) are computed by polars' streaming engine, batch by batch on every core: the
    in-memory engine computes each intermediate over every row on one thread, a new array of
    the frame's length each; 1M cases, a settlement's classification, class points and
    adjustment steps: half the CPU seconds. The new columns are added beside the frame's, which
    are not copied, each in one piece (the batches' pieces slowed what reads them next).
    Columns that are copies of others under a new name (a rank's key, an allocation's weight,
    a definition that is a temporary column) are not computed at all: the in-memory engine
    shares the column's memory, where streaming would copy it batch by batch and join the
    batches again (1M cases: 2–3 ms each). Nor are a few operations (fewer than
    `STREAMED_OPERATIONS`: a product, a condition on two flags), which the in-memory engine
    computes in fewer CPU seconds than streaming starts, splits and joins again."""
    query = frame.lazy().with_columns(*exprs)
    plans = [e.meta.serialize(format="json") for e in exprs]
    if (
        frame.height < STREAMED_ROWS
        or not all(map(_row_by_row, exprs, plans))
        or all(map(_copy, exprs))
        or sum(map(_operations, plans)) < STREAMED_OPERATIONS
    ):
        return query.collect(engine="in-memory")
    names = [e.meta.output_name() for e in exprs]
    streamed = query.select(names).collect(engine="streaming")
    return frame.with_columns(streamed.rechunk().get_columns())


def _row_by_row(expr: pl.Expr, plan: str | None = None) -> bool:
    """Whether each row's value is computed from that row alone: polars' row-separable, without
    an aggregate (polars counts `x - x.sum()` as row-separable and streams it right, but a
    float sum's last bits would then depend on the batches). `plan`: the expression serialized
    (JSON), where made already."""
    plan = expr.meta.serialize(format="json") if plan is None else plan
    return expr.meta.is_row_separable() and '"Agg"' not in plan


def _operations(plan: str) -> int:
    """How many operations over the rows an expression (serialized, JSON) has: arithmetic and
    comparisons, functions, conditions and casts (a column or a literal read is none)."""
    return len(OPERATION.findall(plan))


#: An operation's node in polars' JSON of an expression.
OPERATION = re.compile(r'"(?:BinaryExpr|Function|Ternary|Cast)"')


def _copy(expr: pl.Expr) -> bool:
    """Whether the expression is a column of the frame as it is (under any name)."""
    return expr.meta.undo_aliases().meta.is_column()


#: Frames of at least this many rows compute row-separable columns by streaming
#: (`with_columns`): on fewer, the streaming engine's start costs more than it saves.
STREAMED_ROWS = 100_000
#: ... and of at least this many operations (`_operations`): 1M cases, one settle of Xuancheng
#: 2024, each column of 1 to 6 (a product, `cost_ratio`, `coefficient`, `incentive_points`)
#: took 0.3-1.5 ms CPU less in memory, those of 11 and more (`incentive_kept`, the class
#: conditions, the class points) up to half less streamed
STREAMED_OPERATIONS = 8


def join_values(
    frame: pl.DataFrame, right: pl.DataFrame, left_on: list[str], right_on: list[str] | None = None
) -> pl.DataFrame:
    """`frame` with the other columns of `right` (one row per key) joined on the keys, as a left
    join keeping `frame`'s rows and order. Only the key columns go through the join and the
    values are added beside them: a wide frame (a stage's cases) is not copied at each join."""
    right_on = right_on or left_on
    values = [c for c in right.columns if c not in right_on]
    joined = frame.select(left_on).join(
        right, left_on=left_on, right_on=right_on, how="left", maintain_order="left"
    )
    return frame.with_columns(joined.select(values))


def key_columns(grain: g.Grain) -> list[str]:
    """The columns that identify a row of `grain`."""
    return [KEY_COLUMNS[k] for k in g.order(grain)]


def closure_columns(grain: g.Grain) -> list[str]:
    return [KEY_COLUMNS[k] for k in g.order(g.closure(grain))]


F = TypeVar("F")


class _Evaluated(Protocol[F]):
    frames: dict[g.Grain, F]
    home: dict[str, g.Grain]


def value_home(
    name: str, stage: str | None, current: _Evaluated[F], earlier: Mapping[str, Any]
) -> tuple[g.Grain, F, str]:
    """Where a definition's value lives — its grain, that grain's frame (a polars frame or a SQL
    table: both backends ask) — and the column it takes when brought to another grain: its own
    name in this stage, `stage.name` from an earlier stage (引用前一阶段的结果)."""
    source = current if stage is None else earlier[stage]
    home = source.home[name]
    alias = name if stage is None else f"{stage}.{name}"
    return home, source.frames[home], alias


@dataclass
class StageResult:
    """A stage's evaluated frames: where each definition lives, and the values; per
    classification, the cases whose class condition read a missing value
    (`engine.plan.polars.fallthrough`)."""

    stage: ir.Stage
    frames: dict[g.Grain, pl.DataFrame]
    home: dict[str, g.Grain]
    period_keys: frozenset[str]
    fallthrough: dict[str, Fallthrough] = field(default_factory=dict)

    def frame_of(self, name: str) -> pl.DataFrame:
        return self.frames[self.home[name]]

    def value_frame(self, name: str) -> pl.DataFrame:
        """Key columns and the value of one definition."""
        grain = self.home[name]
        return self.frames[grain].select(*key_columns(grain), name)

    @property
    def cases(self) -> pl.DataFrame:
        return self.frames[g.CASE]

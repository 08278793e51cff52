"""Lowering of `rank … within` (排名) as a window function: ROW_NUMBER over the partition, ties by
the row's keys; and of `allocate`, which `engine.plan.sql.allocation` splits on the definition's
grain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl
from sqlglot import exp

from engine.plan.polars.frames import key_columns
from engine.plan.sql import allocation
from engine.plan.sql import build as b

if TYPE_CHECKING:
    from engine.plan.sql.expressions import Lowering
    from policy_dsl import ir


def rank(lowering: Lowering, node: ir.RankIR) -> b.Node:
    """1-based position within `within` by the order keys, ties to the smaller row key; rows
    failing `where` get none (`engine.plan.polars.batch_windows.rank`)."""
    keys = [(lowering.materialize(lowering.expr(k.expr)), k.descending) for k in node.keys]
    run = lowering.run
    within = [b.col(c) for c in key_columns(run.effective(node.within))]
    order = [b.ordered(b.col(k), descending) for k, descending in keys]
    order += [b.ordered(b.col(c)) for c in key_columns(lowering.grain)]
    position = b.cast(b.window(b.func("ROW_NUMBER"), within, order), "DOUBLE")
    if node.where is None:
        return position
    flag = lowering.materialize(b.coalesce(lowering.expr(node.where), b.boolean(False)))
    return b.col(run.over_chosen(lowering.grain, flag, position))


@dataclass(frozen=True)
class OnGrain:
    """A definition's grain as the place a split runs (`allocation.Steps`)."""

    lowering: Lowering

    @property
    def big_integer(self) -> str:
        return self.lowering.run.db.big_integer

    def table(self) -> str:
        return self.lowering.run.frame(self.lowering.grain).table

    def materialize(self, node: b.Node) -> str:
        return self.lowering.materialize(node)

    def fetch(self, query: exp.Select) -> pl.DataFrame:
        return self.lowering.run.fetch(query)


def allocate(lowering: Lowering, node: ir.Allocate) -> b.Node:
    """`total` split over the rows of each `by` group by weight, exact to the fen
    (`engine.plan.sql.allocation`)."""
    total = lowering.materialize(lowering.expr(node.total))
    weight = lowering.materialize(lowering.expr(node.weight))
    partition, keys = key_columns(lowering.run.effective(node.by)), key_columns(lowering.grain)
    return allocation.split(OnGrain(lowering), total, weight, partition, keys)

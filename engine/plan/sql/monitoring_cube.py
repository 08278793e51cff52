"""The monitoring stage's aggregates of the cases computed ahead in the database (指标预聚合), as
the polars run computes them (`engine.plan.polars.monitoring_batch`): every aggregate that rolls
up (sum, count, share, mean, min, max) is split into parts computed once per hospital × month —
the cube, one GROUP BY of the cases for all of them — and rolled up from the cube to each grain
of hospitals and months that reads it (the city, tiers, levels, hospitals, months: a few
thousand rows), where one GROUP BY of the cases per grain read every case once per grain. The
others (`distinct`, and every aggregate at a grain of groups) are computed per grain, all of a
grain in one GROUP BY (`aggregates.ahead`); `cv` when its definition reads it.

A part is an aggregate call of the direct lowering (`aggregates.reduce`): the integer sums of the
exact sums' grid steps (`engine.plan.exact`), counts, `BOOL_OR`, `MIN`, `MAX`, each rolled up by
the call that adds its parts (a sum of counts), so that every value is, to the bit, the one the
direct GROUP BY gives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlglot import exp

from engine.plan.polars.batch_windows import ready_aggregates
from engine.plan.polars.frames import closure_columns, key_columns
from engine.plan.polars.monitoring_batch import ROLLED, ROLLS_UP
from engine.plan.sql import aggregates
from engine.plan.sql import build as b
from engine.plan.sql.aggregates import Aggregates
from engine.plan.sql.expressions import Lowering
from engine.plan.sql.plan import SqlStageRun
from policy_dsl import grains as g
from policy_dsl import ir
from policy_dsl.grains import CASE

#: How a part's values per hospital × month add up to a coarser grain's.
ROLL = {"SUM": "SUM", "COUNT": "SUM", "BOOL_OR": "BOOL_OR", "MIN": "MIN", "MAX": "MAX"}


class CubeParts(Aggregates):
    """Aggregate calls split in two: the call over the cases, a column of the cube (one per
    distinct call), and the call over the cube's rows that rolls that column up."""

    def __init__(self, big_integer: str) -> None:
        super().__init__(big_integer)
        #: the cube's columns: a call's SQL → its column's name and the call
        self.parts: dict[str, tuple[str, b.Node]] = {}

    def call(self, name: str, *args: b.Node) -> b.Node:
        part = super().call(name, *args)
        column, _ = self.parts.setdefault(part.sql(), (f"__cube{len(self.parts)}", part))
        return b.func(ROLL[name], b.col(column))


def aggregate_ahead(run: SqlStageRun, definitions: Sequence[ir.Definition]) -> None:
    """Compute ahead the aggregates of the cases (but `cv`) that `definitions` read at their
    grains, as far as what they read is already defined in `run` (`ready_aggregates`)."""
    wanted = ready_aggregates(run, definitions)
    rolled = {
        grain: {key: node for key, node in found.items() if node.fn in ROLLED}
        for grain, found in wanted.items()
        if grain <= ROLLS_UP
    }
    if any(rolled.values()):
        _roll_up(run, {grain: found for grain, found in rolled.items() if found})
    for grain, found in wanted.items():
        direct = [
            node
            for key, node in found.items()
            if node.fn != "cv" and (key, grain) not in run.kept_aggregates
        ]
        if direct:
            aggregates.ahead(Lowering(run, grain), direct)


def _roll_up(run: SqlStageRun, wanted: Mapping[g.Grain, Mapping[str, ir.Aggregate]]) -> None:
    """The aggregates `wanted` at their grains (each within hospitals × months), rolled up from
    the cube, whose keys are those grains' key columns."""
    inner = Lowering(run, CASE)
    parts = CubeParts(run.db.big_integer)
    rolls: dict[str, b.Node] = {}
    for found in wanted.values():
        for key, node in found.items():
            if key not in rolls:
                where = inner.expr(node.where) if node.where is not None else None
                arg = inner.expr(node.arg) if node.arg is not None else None
                rolls[key] = aggregates.reduce(node.fn, arg, where, parts)
    read = {column for grain in wanted for column in key_columns(grain)}
    keys = [b.col(c) for c in closure_columns(ROLLS_UP) if c in read]
    columns = [b.alias(part, name) for name, part in parts.parts.values()]
    query = exp.select(*keys, *columns).from_(b.table(run.frame(CASE).table))
    cube = run.create(query.group_by(*keys) if keys else query)
    for grain, found in wanted.items():
        nodes = list(found.values())
        aggregates.keep(Lowering(run, grain), nodes, cube.table, [rolls[k].copy() for k in found])
    run.discard(cube.table)

"""Lowering of aggregates (聚合): a GROUP BY of the finer table on the coarser grain's keys, joined
back; sums and means exact on the grid of `engine.plan.exact` (128-bit integer sums, the total read
back through its decimal text: one correct rounding), so that they equal the polars plan's to
the bit whatever order the database adds in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from engine.plan.exact import EXACT_LIMIT, EXACT_SCALE
from engine.plan.polars.batch_windows import ZERO_WHEN_EMPTY
from engine.plan.polars.frames import key_columns
from engine.plan.sql import build as b

if TYPE_CHECKING:
    from engine.plan.sql.expressions import Lowering
    from policy_dsl import ir


class Aggregates:
    """Aggregate calls, plain (`GROUP BY`) or as windows over `over` (a partition)."""

    def __init__(self, big_integer: str, over: Sequence[b.Node] | None = None) -> None:
        self.big_integer = big_integer
        self.over = over

    def call(self, name: str, *args: b.Node) -> b.Node:
        found = b.func(name, *args) if args else b.func(name, exp.Star())
        return b.window(found, self.over) if self.over is not None else found

    def count(self, values: b.Node | None = None) -> b.Node:
        return b.cast(
            self.call("COUNT", values) if values is not None else self.call("COUNT"), "DOUBLE"
        )

    def exact_sum(self, values: b.Node) -> b.Node:
        """`engine.plan.exact.exact_sum`: grid steps (`engine.plan.exact.grid_units`) summed as big
        integers, the total read back through its decimal text (one correct rounding)."""
        limit = b.num(EXACT_LIMIT)
        on_grid = b.compare("<", b.abs_(values), limit)
        chosen = b.case([(on_grid, values)])
        whole = b.floor(chosen)
        steps = b.floor(b.add(b.mul(b.sub(chosen, whole), b.num(EXACT_SCALE)), b.num(0.5)))
        big = self.big_integer
        units = b.add(
            b.mul(b.cast(b.cast(whole, "BIGINT"), big), b.cast(b.integer(int(EXACT_SCALE)), big)),
            b.cast(b.cast(steps, "BIGINT"), big),
        )
        total = b.cast(b.cast(self.call("SUM", units), "VARCHAR"), "DOUBLE")
        exact = b.mul(total, b.num(1.0 / EXACT_SCALE))
        return b.case([(self.call("BOOL_OR", b.not_(on_grid)), self.call("SUM", values))], exact)

    def exact_mean(self, values: b.Node) -> b.Node:
        count = self.count(values)
        return b.case([(b.compare(">", count, b.num(0.0)), b.div(self.exact_sum(values), count))])


def ieee_div(left: b.Node, right: b.Node) -> b.Node:
    """`left / right` as a double division gives it: ±inf or NaN for a zero divisor (SQL gives
    NULL there, which would hide a value the run must stop on, `engine.plan.polars.finite`)."""
    zero = b.num(0.0)
    by_zero = b.case(
        [
            (b.compare(">", left, zero), b.num(float("inf"))),
            (b.compare("<", left, zero), b.num(float("-inf"))),
        ],
        b.num(float("nan")),
    )
    return b.case(
        [(b.is_null(left), b.typed_null("DOUBLE")), (b.compare("==", right, zero), by_zero)],
        b.div(left, right),
    )


def reduce(fn: str, arg: b.Node | None, where: b.Node | None, sums: Aggregates) -> b.Node:
    """One aggregate over a group (`engine.plan.polars.batch_windows.RowValues.reduce`), its
    calls made by `sums`; not `cv` (`cv_query`). `distinct` counts the distinct values present
    (COUNT(DISTINCT …) skips missing ones)."""
    chosen = b.coalesce(where, b.boolean(False)) if where is not None else None
    hits = (
        b.cast(sums.call("SUM", b.case([(chosen, b.integer(1))], b.integer(0))), "DOUBLE")
        if chosen is not None
        else None
    )
    if fn == "count":
        return hits if hits is not None else sums.count()
    if fn == "share":
        return b.div(hits, sums.count()) if hits is not None else b.num(1.0)
    assert arg is not None
    values = b.case([(chosen, arg)]) if chosen is not None else arg
    if fn == "distinct":
        return b.cast(exp.Count(this=exp.Distinct(expressions=[values])), "DOUBLE")
    if fn in ("min", "max"):
        return sums.call(fn.upper(), values)
    numbers = b.cast(values, "DOUBLE")
    return sums.exact_sum(numbers) if fn == "sum" else sums.exact_mean(numbers)


def cv_query(
    source: str, keys: list[str], arg: b.Node, where: b.Node | None, alias: str, big: str
) -> exp.Select:
    """Coefficient of variation: √(Σ (x − mean)² ÷ n) ÷ mean, the mean a window first."""
    chosen = b.coalesce(where, b.boolean(False)) if where is not None else None
    values = b.cast(b.case([(chosen, arg)]) if chosen is not None else arg, "DOUBLE")
    partition = [b.col(k) for k in keys]
    mean = Aggregates(big, partition).exact_mean(b.col("__x"))
    inner = exp.select(*partition, b.alias(values, "__x")).from_(b.table(source))
    rows = exp.select(*partition, b.col("__x"), b.alias(mean, "__m")).from_(inner.subquery("v"))
    sums = Aggregates(big)
    deviation = b.sub(b.col("__x"), b.col("__m"))
    count = sums.count(b.col("__x"))
    spread = b.func("SQRT", b.div(sums.exact_sum(b.mul(deviation, deviation)), count))
    std = b.case([(b.compare(">", count, b.num(0.0)), spread)])
    cv = ieee_div(std, sums.exact_mean(b.col("__x")))
    query = exp.select(*partition, b.alias(cv, alias)).from_(rows.subquery("d"))
    return query.group_by(*partition) if keys else query


def aggregate(lowering: Lowering, node: ir.Aggregate) -> b.Node:
    """An aggregate's value at the lowering's grain: one GROUP BY joined back, or a constant
    (or the value computed ahead: `ahead`)."""
    run = lowering.run
    kept = run.kept_aggregates.get((node.model_dump_json(), lowering.grain))
    if kept is not None:
        return kept.copy()
    source = run.effective(node.source)
    inner = lowering.at(source)
    where = inner.expr(node.where) if node.where is not None else None
    arg = inner.expr(node.arg) if node.arg is not None else None
    keys = key_columns(lowering.grain)
    table = run.frame(source).table
    alias = run.temp()
    big = run.db.big_integer
    if node.fn == "cv":
        assert arg is not None
        query = cv_query(table, keys, arg, where, alias, big)
    else:
        reduced = b.alias(reduce(node.fn, arg, where, Aggregates(big)), alias)
        query = exp.select(*(b.col(k) for k in keys), reduced).from_(b.table(table))
        query = query.group_by(*(b.col(k) for k in keys)) if keys else query
    if keys:
        values = run.create(run.holder(query))
        run.bring(lowering.grain, values, keys, {alias: alias})
        run.discard(values.table)
        column = b.col(alias)
        return b.coalesce(column, b.num(0.0)) if node.fn in ZERO_WHEN_EMPTY else column
    return _constant(node.fn, run.fetch(query)[alias][0])


def ahead(lowering: Lowering, nodes: Sequence[ir.Aggregate]) -> None:
    """Aggregates (not `cv`) of the rows of one finer grain at the lowering's grain, all in one
    GROUP BY (one read of those rows, a hundred million cases, for all of them), kept for every
    later definition (`SqlStageRun.kept_aggregates`): the monitoring stage's (its indicators
    aggregate the cases a few hundred times). Each value is the one `aggregate` gives."""
    run = lowering.run
    inner = lowering.at(run.effective(nodes[0].source))
    sums = Aggregates(run.db.big_integer)
    reduced: list[b.Node] = []
    for node in nodes:
        where = inner.expr(node.where) if node.where is not None else None
        arg = inner.expr(node.arg) if node.arg is not None else None
        reduced.append(reduce(node.fn, arg, where, sums))
    keep(lowering, nodes, run.frame(inner.grain).table, reduced)  # with every column read


def keep(
    lowering: Lowering, nodes: Sequence[ir.Aggregate], table: str, reduced: Sequence[b.Node]
) -> None:
    """The aggregates `nodes` at the lowering's grain, their values `reduced` (aggregate calls
    over `table`) in one GROUP BY of its keys, brought to its table (a literal for the whole
    period) and kept for every later definition (`SqlStageRun.kept_aggregates`)."""
    run = lowering.run
    keys = key_columns(lowering.grain)
    names = [f"__kept{len(run.kept_aggregates) + i}" for i in range(len(nodes))]
    values = [b.alias(node, name) for node, name in zip(reduced, names, strict=True)]
    query = exp.select(*(b.col(k) for k in keys), *values).from_(b.table(table))
    if keys:
        grouped = run.create(run.holder(query.group_by(*(b.col(k) for k in keys))))
        run.bring(lowering.grain, grouped, keys, {name: name for name in names})
        run.discard(grouped.table)
        found: list[b.Node] = [
            b.coalesce(b.col(name), b.num(0.0)) if node.fn in ZERO_WHEN_EMPTY else b.col(name)
            for node, name in zip(nodes, names, strict=True)
        ]
    else:
        row = run.fetch(query).row(0)
        found = [_constant(node.fn, value) for node, value in zip(nodes, row, strict=True)]
    for node, value in zip(nodes, found, strict=True):
        run.kept_aggregates[(node.model_dump_json(), lowering.grain)] = value


def _constant(fn: str, found: Any) -> b.Node:
    """An aggregate over every row, as a literal (`aggregate`'s)."""
    if found is None and fn in ZERO_WHEN_EMPTY:
        found = 0.0
    return b.typed_null("DOUBLE") if found is None else b.num(float(found))

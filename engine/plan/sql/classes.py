"""Lowering of classification, matches, adjustments and tables (分类、分档表、调整): CASE chains in
the polars plan's order (`engine.plan.polars.batch.Compiler`), a range table as a search for the
last lower end at or below the key (`engine.plan.polars.batch._range_lookup`)."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from engine.plan import functions
from engine.plan.polars.batch import _lower_end, _number, _upper_end
from engine.plan.polars.fallthrough import EXAMPLES, Fallthrough
from engine.plan.sql import build as b
from policy_dsl import grains as g
from policy_dsl import ir

if TYPE_CHECKING:
    from engine.plan.sql.expressions import Lowering
    from engine.plan.sql.plan import SqlStageRun


def value(item: Any) -> b.Node:
    """A table cell (number, bool or text) as a literal."""
    item = _number(item)
    if item is None:
        return b.null()
    if isinstance(item, bool):
        return b.boolean(item)
    return b.num(item) if isinstance(item, float) else b.text(str(item))


def lookup(lowering: Lowering, node: ir.TableLookup) -> b.Node:
    from engine.plan.sql.expressions import near_constant

    table = lowering.run.policy_tables[node.name]
    key = lowering.shared(node.key)
    if table.kind == "ranges":
        return range_lookup(table, key)
    numeric = table.key_type.kind == "number"

    def compare(op: str, left: Any, right: Any) -> Any:
        if numeric:
            return near_constant(op, left, float(right))
        return b.compare(op, left, value(right))

    fallback: Any = None
    branches = []
    for row in table.rows:
        if row.default:
            fallback = row.value
            continue
        branches.append((functions.row_matches(row, key, compare), value(row.value)))
    return b.case(branches, value(fallback))


def range_lookup(table: ir.Table, key: b.Node) -> b.Node:
    """The row with the last lower end at or below the key, if the key is within its upper end
    too; else the `else` row's value (as `search_sorted` in the polars plan)."""
    rows = sorted((r for r in table.rows if not r.default), key=_lower_end)
    fallback = value(next((r.value for r in table.rows if r.default), None))
    number = b.cast(key, "DOUBLE")
    branches = []
    for row in reversed(rows):
        inside = b.compare("<=", number, b.num(_upper_end(row)))
        within = b.case([(inside, value(row.value))], fallback)
        branches.append((b.compare(">=", number, b.num(_lower_end(row))), within))
    return b.case(branches, fallback)


def classify(lowering: Lowering, node: ir.Classify) -> b.Node:
    """First match; each condition computed into a column first, to count the rows it could not
    decide (`engine.plan.polars.fallthrough`)."""
    tried = list(itertools.takewhile(lambda c: c.when is not None, node.classes))
    conditions = {lowering.run.temp(): lowering.expr(c.when) for c in tried}
    lowering.arms = [(c.name, column) for c, column in zip(tried, conditions, strict=True)]
    if conditions:
        lowering.run.with_columns(lowering.grain, conditions)
    fallback = node.classes[len(tried)].name if len(tried) < len(node.classes) else None
    otherwise = b.text(fallback) if fallback is not None else b.cast(b.null(), "VARCHAR")
    branches = [(b.col(column), b.text(name)) for name, column in lowering.arms]
    return b.case(branches, otherwise)


def count_arms(run: SqlStageRun, grain: g.Grain, name: str, arms: list[tuple[str, str]]) -> None:
    """Count the rows whose class condition was missing
    (`engine.plan.polars.fallthrough.count_fallthrough`) in the database: one row of counts and the
    first few ids come back, never the rows."""
    frame = run.frame(grain)
    key = "case_id" if "case_id" in frame.columns else None
    reached, missed = b.boolean(True), []
    for _, column in arms:
        missed.append(b.and_(b.is_null(b.col(column)), reached))
        reached = b.and_(reached, b.not_(b.coalesce(b.col(column), b.boolean(False))))
    ones = [b.func("SUM", b.case([(m, b.integer(1))], b.integer(0))) for m in missed]
    totals = exp.select(*(b.alias(n, f"__m{i}") for i, n in enumerate(ones)))
    counts = run.fetch_through(totals.from_(b.table(frame.table))).row(0)
    found = {arm: int(n) for (arm, _), n in zip(arms, counts, strict=True) if n}
    if not found or key is None:
        if found:
            run.fallthrough[name] = Fallthrough(found)
        return
    anywhere = b.or_(*(m for (arm, _), m in zip(arms, missed, strict=True) if arm in found))
    ids = exp.select(b.alias(b.cast(b.col(key), "VARCHAR"), "id")).from_(b.table(frame.table))
    first = ids.where(anywhere).order_by(b.ordered(b.col("id"))).limit(EXAMPLES)
    run.fallthrough[name] = Fallthrough(found, run.fetch(first)["id"].to_list())


def match(lowering: Lowering, node: ir.Match) -> b.Node:
    on = lowering.expr(node.on)
    fallback: b.Node = b.typed_null("DOUBLE")
    branches = []
    for arm in node.arms:
        if arm.class_name is None:
            fallback = lowering.expr(arm.expr)
        else:
            branches.append((b.compare("==", on, b.text(arm.class_name)), lowering.expr(arm.expr)))
    return b.case(branches, fallback)


def adjust(lowering: Lowering, node: ir.AdjustIR) -> b.Node:
    """Each step whose condition holds replaces the running value (a column per step)."""
    from engine.plan.sql.expressions import Lowering as Inner

    running: b.Node = b.col(lowering.materialize(lowering.expr(node.start)))
    for step in node.steps:
        inner = Inner(lowering.run, lowering.grain, running)
        applied = b.case([(inner.expr(step.when), inner.expr(step.expr))], running)
        running = b.col(lowering.materialize(applied))
    return running

"""Lowering of `rank … within` and `allocate` (排名、按比例分配) as window functions: ROW_NUMBER
over the partition, ties by the row's keys; an allocation floors each share in fen and gives the fen
left over to the largest remainders, ties to the earlier row (`engine.plan.money.allocate`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.plan.money import MAX_MONEY, REMAINDER_STEPS, WEIGHT_SCALE
from engine.plan.polars.frames import key_columns
from engine.plan.sql import build as b
from engine.plan.sql.aggregates import Aggregates

if TYPE_CHECKING:
    from engine.plan.sql.expressions import Lowering
    from policy_dsl import ir


def finite(node: b.Node) -> b.Node:
    """Whether a double is finite, in any dialect: x − x is 0 only for finite x."""
    return b.compare("==", b.sub(node, node), b.num(0.0))


def rank(lowering: Lowering, node: ir.RankIR) -> b.Node:
    """1-based position within `within` by the order keys, ties to the smaller row key; rows
    failing `where` get none (`engine.plan.polars.batch_windows.rank`)."""
    keys = [(lowering.materialize(lowering.expr(k.expr)), k.descending) for k in node.keys]
    run = lowering.run
    within = [b.col(c) for c in key_columns(run.effective(node.within))]
    chosen = (
        b.coalesce(lowering.expr(node.where), b.boolean(False))
        if node.where is not None
        else b.boolean(True)
    )
    flag = lowering.materialize(chosen)
    order = [b.ordered(b.col(k), descending) for k, descending in keys]
    order += [b.ordered(b.col(c)) for c in key_columns(lowering.grain)]
    position = b.window(b.func("ROW_NUMBER"), [*within, b.col(flag)], order)
    return b.case([(b.col(flag), b.cast(position, "DOUBLE"))])


def to_fen(yuan: b.Node) -> b.Node:
    """`money.to_fen`: whole fen by the rounding rule."""
    from engine.plan.sql.expressions import round_half_away

    return b.cast(round_half_away(b.mul(yuan, b.num(100.0)), 0), "BIGINT")


def allocate(lowering: Lowering, node: ir.Allocate) -> b.Node:
    """`total` split over the rows of each `by` group by weight, exact to the fen."""
    run, grain = lowering.run, lowering.grain
    total = b.col(lowering.materialize(lowering.expr(node.total)))
    weight = b.col(lowering.materialize(lowering.expr(node.weight)))
    partition = [b.col(c) for c in key_columns(run.effective(node.by))]
    over = Aggregates(run.db.big_integer, partition)
    amount = b.cast(total, "DOUBLE")
    in_range = b.compare("<=", b.abs_(amount), b.num(MAX_MONEY))
    fen = lowering.materialize(to_fen(b.case([(in_range, amount)])))
    largest = lowering.materialize(over.call("MAX", b.abs_(weight)))
    scaled = b.mul(b.div(weight, b.col(largest)), b.num(WEIGHT_SCALE))  # `money.WEIGHT_SCALE`
    unit = lowering.materialize(b.case([(b.compare(">", b.col(largest), b.num(0.0)), scaled)]))
    weight_sum = b.col(lowering.materialize(over.exact_sum(b.col(unit))))
    positive = b.compare(">", weight_sum, b.num(0.0))
    share = lowering.materialize(
        b.case([(positive, b.div(b.mul(b.cast(b.col(fen), "DOUBLE"), b.col(unit)), weight_sum))])
    )
    overflow = b.or_(
        b.not_(in_range),
        b.not_(b.coalesce(finite(b.mul(b.cast(b.col(fen), "DOUBLE"), weight)), b.boolean(True))),
        b.not_(b.coalesce(finite(b.col(share)), b.boolean(True))),
    )
    plain_sum = over.call("SUM", weight)  # weights whose sum overflows: not a split
    broken = b.or_(
        over.call("BOOL_OR", overflow), b.not_(finite(weight_sum)), b.not_(finite(plain_sum))
    )
    floor = b.try_cast(b.floor(b.case([(b.not_(broken), b.col(share))])), "BIGINT")
    floored = lowering.materialize(b.coalesce(floor, b.integer(0)))
    broken_column = lowering.materialize(b.coalesce(broken, b.boolean(False)))
    left_over = b.sub(b.col(fen), over.call("SUM", b.col(floored)))
    gap = b.sub(b.cast(b.col(floored), "DOUBLE"), b.coalesce(b.col(share), b.num(0.0)))
    # on the steps of `money.REMAINDER_STEPS`, as `money.remainder_order`
    remainder = b.floor(b.add(b.mul(gap, b.num(REMAINDER_STEPS)), b.num(0.5)))
    order = [b.ordered(remainder), *(b.ordered(b.col(c)) for c in key_columns(grain))]
    position = b.window(b.func("ROW_NUMBER"), partition, order)
    given = b.and_(b.compare("<=", position, left_over), positive)
    extra = b.case([(given, b.integer(1))], b.integer(0))
    allocated = b.div(b.cast(b.add(b.col(floored), extra), "DOUBLE"), b.num(100.0))
    return b.case([(b.col(broken_column), b.num(float("nan")))], allocated)

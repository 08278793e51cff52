"""Lowering of `allocate` (按比例分配): each row gets the floor of its share in fen and the fen left
over go one each to the rows with the largest remainders, ties to the earlier row
(`engine.plan.money.allocate`).

Split over a coarser grain (`by` keys, or a month), the group's values are windows partitioned
by its keys. Split over the whole period, a window has no partition: Spark moves every row to
one task for each of them (at 10M cases, one task spilled its sort for 15 minutes while the other
core idled). There the group's values are instead aggregates read back (`SqlStageRun.fetch`, as a
whole-period `sum`) and written into the split as literals, and the left-over fen are found
without ranking every row: the remainders, whole steps of `money.REMAINDER_STEPS`, are counted
in buckets of `BUCKET_STEPS` steps (a GROUP BY); every row of a bucket wholly within the fen
left over takes one, none beyond; in the one bucket across the cut only, the last row to take
one is read back (ORDER BY remainder and row keys, LIMIT 1 OFFSET), and a row takes a fen when
it comes at or before that row — a comparison, exactly what `ROW_NUMBER() <= left over` gave.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import polars as pl
from sqlglot import exp

from engine.plan.money import MAX_FEN, MAX_MONEY, REMAINDER_STEPS, WEIGHT_SCALE
from engine.plan.sql import build as b
from engine.plan.sql.aggregates import Aggregates

#: Remainder steps per bucket: 2²⁴ steps make 4,097 buckets; a bucket holds about one row in
#: 4,000 of the whole period (unless many rows share a remainder), the rows the cut reads.
BUCKET_STEPS = 2.0**12


class Steps(Protocol):
    """Where a split runs: the rows' table as it is now, a value added to it as a column, a
    query's rows read back (`windows.OnGrain` for a definition of a stage)."""

    @property
    def big_integer(self) -> str: ...

    def table(self) -> str: ...

    def materialize(self, node: b.Node) -> str: ...

    def fetch(self, query: exp.Select) -> pl.DataFrame: ...


def finite(node: b.Node) -> b.Node:
    """Whether a double is finite, in any dialect: x − x is 0 only for finite x."""
    return b.compare("==", b.sub(node, node), b.num(0.0))


def in_range(total: str) -> b.Node:
    """A total a double holds exactly to the fen (`money.MAX_MONEY`)."""
    return b.compare("<=", b.abs_(b.cast(b.col(total), "DOUBLE")), b.num(MAX_MONEY))


def to_fen(yuan: b.Node) -> b.Node:
    """`money.to_fen`: whole fen by the rounding rule."""
    from engine.plan.sql.expressions import round_half_away

    return b.cast(round_half_away(b.mul(yuan, b.num(100.0)), 0), "BIGINT")


@dataclass(frozen=True)
class Split:
    """The expressions of one split over its columns (`total` in yuan, its `fen`, `weight`), given
    the group's values — window calls, or literals read back. Each call builds a new tree."""

    total: str
    fen: str
    weight: str

    def in_range(self) -> b.Node:
        return in_range(self.total)

    def unit(self, largest: b.Node, times: b.Node | None = None) -> b.Node:
        """The weight relative to the group's largest, scaled to `money.WEIGHT_SCALE`: ÷ the
        largest, or × `times`, its reciprocal, where `money.Groups.divide` multiplies so (the
        whole period): a last bit apart on a third of the rows, which a share of 10⁹ fen carries
        across a step of the remainders."""
        weight = b.col(self.weight)
        relative = b.div(weight, largest) if times is None else b.mul(weight, times)
        scaled = b.mul(relative, b.num(WEIGHT_SCALE))
        return b.case([(b.compare(">", largest.copy(), b.num(0.0)), scaled)])

    def share(self, unit: b.Node, weight_sum: b.Node, times: b.Node | None = None) -> b.Node:
        """The row's share in fen: its total × its unit ÷ the units' sum (× `times`, the sum's
        reciprocal, as `unit`)."""
        positive = b.compare(">", weight_sum, b.num(0.0))
        product = b.mul(b.cast(b.col(self.fen), "DOUBLE"), unit)
        share = b.div(product, weight_sum.copy()) if times is None else b.mul(product, times)
        return b.case([(positive, share)])

    def overflow(self, share: b.Node) -> b.Node:
        """A row whose total or share is not money a file can hold."""
        raw = b.mul(b.cast(b.col(self.fen), "DOUBLE"), b.col(self.weight))
        held = b.compare("<=", b.abs_(share.copy()), b.num(MAX_FEN))
        return b.or_(
            b.not_(self.in_range()),
            b.not_(b.coalesce(finite(raw), b.boolean(True))),
            b.not_(b.coalesce(finite(share), b.boolean(True))),
            b.not_(b.coalesce(held, b.boolean(True))),
        )

    @staticmethod
    def broken(any_overflow: b.Node, weight_sum: b.Node, plain_sum: b.Node) -> b.Node:
        """A group not split (its rows NaN, which stops the run naming the definition)."""
        return b.or_(any_overflow, b.not_(finite(weight_sum)), b.not_(finite(plain_sum)))

    @staticmethod
    def floored(share: b.Node, broken: b.Node) -> b.Node:
        floor = b.try_cast(b.floor(b.case([(b.not_(broken), share)])), "BIGINT")
        return b.coalesce(floor, b.integer(0))

    @staticmethod
    def remainder(floored: b.Node, share: b.Node) -> b.Node:
        """`floor − share` on the steps of `money.REMAINDER_STEPS` (`money.remainder_order`):
        the smallest first takes a fen left over."""
        gap = b.sub(b.cast(floored, "DOUBLE"), b.coalesce(share, b.num(0.0)))
        return b.floor(b.add(b.mul(gap, b.num(REMAINDER_STEPS)), b.num(0.5)))

    @staticmethod
    def result(broken: b.Node, floored: b.Node, extra: b.Node) -> b.Node:
        allocated = b.div(b.cast(b.add(floored, extra), "DOUBLE"), b.num(100.0))
        return b.case([(broken, b.num(float("nan")))], allocated)


def split(
    steps: Steps, total: str, weight: str, partition: Sequence[str], keys: Sequence[str]
) -> b.Node:
    """The column of `total` (yuan, constant within `partition`) split over the rows of each
    partition by `weight`, exact to the fen, the fen left over ordered by remainder then `keys`
    (the rows' keys)."""
    amount = b.cast(b.col(total), "DOUBLE")
    fen = steps.materialize(to_fen(b.case([(in_range(total), amount)])))
    parts = Split(total, fen, weight)
    if not partition:
        found = whole_period(steps, parts, keys)
        if found is not None:
            return found
    return windowed(steps, parts, partition, keys)


def windowed(steps: Steps, parts: Split, partition: Sequence[str], keys: Sequence[str]) -> b.Node:
    """The group's values as windows over `partition`, the left-over fen by `ROW_NUMBER`."""
    over = Aggregates(steps.big_integer, [b.col(c) for c in partition])
    largest = steps.materialize(over.call("MAX", b.abs_(b.col(parts.weight))))
    unit = steps.materialize(parts.unit(b.col(largest)))
    weight_sum = b.col(steps.materialize(over.exact_sum(b.col(unit))))
    share = steps.materialize(parts.share(b.col(unit), weight_sum))
    broken = parts.broken(
        over.call("BOOL_OR", parts.overflow(b.col(share))),
        weight_sum.copy(),
        over.call("SUM", b.col(parts.weight)),
    )
    floored = steps.materialize(parts.floored(b.col(share), broken))
    broken_column = steps.materialize(b.coalesce(broken.copy(), b.boolean(False)))
    left_over = b.sub(b.col(parts.fen), over.call("SUM", b.col(floored)))
    remainder = parts.remainder(b.col(floored), b.col(share))
    order = [b.ordered(remainder), *(b.ordered(b.col(c)) for c in keys)]
    position = b.window(b.func("ROW_NUMBER"), [b.col(c) for c in partition], order)
    positive = b.compare(">", weight_sum.copy(), b.num(0.0))
    given = b.and_(b.compare("<=", position, left_over), positive)
    extra = steps.materialize(b.case([(given, b.integer(1))], b.integer(0)))
    # the parts sum to the total, or the group is not split (`money.allocate`)
    paid = over.call("SUM", b.add(b.col(floored), b.col(extra)))
    wrong = b.and_(positive.copy(), b.compare("!=", paid, b.col(parts.fen)))
    not_split = b.or_(b.col(broken_column), b.coalesce(wrong, b.boolean(False)))
    return parts.result(not_split, b.col(floored), b.col(extra))


def whole_period(steps: Steps, parts: Split, keys: Sequence[str]) -> b.Node | None:
    """The split over every row, with no window (module docstring); None where its values are
    not one per period or its row keys not literals (`windowed` then)."""

    def one(*values: b.Node) -> tuple[Any, ...]:
        query = exp.select(*(b.alias(v, f"v{i}") for i, v in enumerate(values)))
        return steps.fetch(query.from_(b.table(steps.table()))).row(0)

    group = Aggregates(steps.big_integer)
    weight, fen = b.col(parts.weight), b.col(parts.fen)
    largest, plain_sum, low, high, rows = one(
        group.call("MAX", b.abs_(weight)),
        group.call("SUM", weight.copy()),
        group.call("MIN", fen),
        group.call("MAX", fen.copy()),
        group.call("COUNT"),
    )
    if low != high:  # a total not constant over the period
        return None
    # one group: polars multiplies by the reciprocal of the largest and of the sum (`Groups.divide`)
    unit = partial_tree(parts.unit, double(largest), double(reciprocal(largest)))
    (weight_sum,) = one(group.exact_sum(unit()))
    share = partial_tree(parts.share, unit, double(weight_sum), double(reciprocal(weight_sum)))
    broken = parts.broken(
        group.call("BOOL_OR", parts.overflow(share())), double(weight_sum), double(plain_sum)
    )
    if one(b.coalesce(broken, b.boolean(False)))[0]:
        return b.num(float("nan"))
    extra = left_over_fen(steps, parts, share, weight_sum, high, rows, keys)
    if extra is None:
        return None
    share_column = b.col(steps.materialize(share()))
    floored = b.col(steps.materialize(parts.floored(share_column, b.boolean(False))))
    return parts.result(b.boolean(False), floored, extra(floored.copy(), share_column.copy()))


Tree = Callable[[], b.Node]
#: The extra fen of a row, from its floored share and share columns.
Extra = Callable[[b.Node, b.Node], b.Node]


def partial_tree(make: Callable[..., b.Node], *args: Tree | b.Node) -> Tree:
    """A maker of new copies of `make(*args)`, trees being built anew (a sqlglot node has one
    parent)."""
    return lambda: make(*(a() if callable(a) else a.copy() for a in args))


def double(value: Any) -> b.Node:
    return b.typed_null("DOUBLE") if value is None else b.num(float(value))


def reciprocal(value: float | None) -> float | None:
    """1 ÷ `value` as a double (infinite for a subnormal one, as numpy gives it); None where
    the value is missing or not above zero (the split's CASE then gives no unit or share)."""
    if value is None or not value > 0:
        return None
    with np.errstate(over="ignore"):
        return float(np.float64(1.0) / np.float64(value))


def left_over_fen(
    steps: Steps,
    parts: Split,
    share: Tree,
    weight_sum: float | None,
    fen: int | None,
    rows: int,
    keys: Sequence[str],
) -> Extra | None:
    """Which rows take a fen left over (1, else 0): the buckets' counts read back, then the
    last row to take one in the bucket across the cut (module docstring)."""
    floored = partial_tree(parts.floored, share, b.boolean(False))
    remainder = partial_tree(parts.remainder, floored, share)
    counted = (
        exp.select(b.col("bucket"), b.alias(b.func("COUNT", exp.Star()), "rows"))
        .select(b.alias(b.func("SUM", b.col("floored")), "floors"))
        .from_(
            exp.select(b.alias(bucket(remainder()), "bucket"), b.alias(floored(), "floored"))
            .from_(b.table(steps.table()))
            .subquery("r")
        )
        .group_by(b.col("bucket"))
    )
    counts = steps.fetch(counted).sort("bucket")
    floors = sum(int(f) for f in counts["floors"] if f is not None)
    paid = weight_sum is not None and weight_sum > 0
    left = None if fen is None or not paid else fen - floors
    if left is not None and not 0 <= left <= rows:  # the parts cannot sum to the total
        return lambda floored, share: b.num(float("nan"))
    if left is None or left <= 0:
        return lambda floored, share: b.integer(0)
    if left >= rows:
        return lambda floored, share: b.integer(1)
    cut, within = boundary(counts, left)
    cut_bucket = b.num(cut)
    if within == 0:  # the cut falls between buckets
        return lambda floored, share: taken(b.compare("<=", bucket_of(floored, share), cut_bucket))
    last = last_taken(steps, remainder, keys, cut, within)
    if last is None:
        return None

    def extra(floored: b.Node, share: b.Node) -> b.Node:
        found = Split.remainder(floored, share)
        before = b.compare("<", bucket(found), cut_bucket.copy())
        at = b.and_(
            b.compare("==", bucket(found.copy()), cut_bucket.copy()),
            not_after(found.copy(), keys, last),
        )
        return taken(b.or_(before, at))

    return extra


def bucket(remainder: b.Node) -> b.Node:
    """The remainder's bucket, monotone in it (a power-of-two scale: exact)."""
    return b.floor(b.mul(remainder, b.num(1.0 / BUCKET_STEPS)))


def bucket_of(floored: b.Node, share: b.Node) -> b.Node:
    return bucket(Split.remainder(floored, share))


def taken(condition: b.Node) -> b.Node:
    return b.case([(condition, b.integer(1))], b.integer(0))


def boundary(counts: pl.DataFrame, left: int) -> tuple[float, int]:
    """The bucket holding the `left`-th row by remainder, and how many of its rows take a fen
    (0 when every one does, the cut falling at its end)."""
    before = 0
    for found, count in counts.select("bucket", "rows").iter_rows():
        if before + count >= left:
            return float(found), (left - before) % count
        before += count
    raise AssertionError("fewer rows than fen left over")  # `left < rows` checked first


def last_taken(
    steps: Steps, remainder: Tree, keys: Sequence[str], cut: float, within: int
) -> list[b.Node] | None:
    """The remainder and keys of the last row of bucket `cut` to take a fen (its `within`-th by
    remainder then keys), as literals; None where a key is not one (a missing key)."""
    rows = exp.select(b.alias(remainder(), "remainder"), *(b.col(k) for k in keys))
    rows = rows.select(b.alias(bucket(remainder()), "bucket")).from_(b.table(steps.table()))
    query = (
        exp.select(b.col("remainder"), *(b.col(k) for k in keys))
        .from_(rows.subquery("r"))
        .where(b.compare("==", b.col("bucket"), b.num(cut)))
        .order_by(b.ordered(b.col("remainder")), *(b.ordered(b.col(k)) for k in keys))
        .limit(1)
        .offset(within - 1)
    )
    values = steps.fetch(query).row(0)
    found = [key_literal(v) for v in values]
    return None if any(v is None for v in found) else [v for v in found if v is not None]


def key_literal(value: Any) -> b.Node | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return b.integer(value)
    if isinstance(value, float):
        return b.num(value)
    return b.text(value) if isinstance(value, str) else None


def not_after(remainder: b.Node, keys: Sequence[str], last: list[b.Node]) -> b.Node:
    """(remainder, keys…) ≤ `last`, in the order of `ORDER BY remainder, keys…`."""
    columns = [remainder, *(b.col(k) for k in keys)]
    found = b.compare("<=", columns[-1], last[-1])
    for column, value in zip(reversed(columns[:-1]), reversed(last[:-1]), strict=True):
        found = b.or_(
            b.compare("<", column, value),
            b.and_(b.compare("==", column.copy(), value.copy()), found),
        )
    return found

"""Money to the fen (分), with one explicit rounding rule, in both evaluation paths.

Rule: amounts are computed in binary floating point (IEEE double) in yuan — a division `a / b`
is computed as `a × (1 / b)` in both evaluation paths, because polars divides a column by a
constant that way and the explainer must agree with it to the last bit; a rounding step
rounds half away from zero, after a relative tolerance of 1e-14 absorbs representation noise
(so 1.005 yuan, stored as 1.00499999…, rounds to 1.01). `allocate` splits a total exactly: every
row gets the floor of its share in fen, and the fen left over go one each to the rows with the
largest remainders, ties to the smallest row key — so the parts always sum to the total.
"""

from __future__ import annotations

import functools
import math
import operator
from decimal import Decimal

import numpy as np
import polars as pl

from engine.plan.exact import exact_sum, grid_parts
from engine.plan.polars.frames import with_columns

#: Relative tolerance: about 45 units in the last place of a double — enough to absorb the
#: representation noise of a few operations (1.005 yuan is stored as 1.00499999…), small enough
#: that even a province's budget (1e12 fen) moves by less than 0.02 fen.
TOLERANCE = 1e-14
#: The largest amount in 元 a double holds exactly to the fen (2**53 fen).
MAX_MONEY = 2.0**53 / 100
#: `allocate` scales a group's weights so that the largest is 2⁵² before summing them exactly:
#: on the sum's grid of 2⁻⁴⁰ (`engine.plan.exact`) every weight down to 2⁻⁴⁰ of the largest then
#: keeps its last bit. Scaled to 1 (before), each weight was rounded to 2⁻⁴⁰ of the largest: with
#: one case of 56,608 points among cases of about 100, the sum was off by 2.6e-13 of itself and a
#: share of 1.7e8 fen by 4e-5 fen — enough to give a fen left over to the wrong case
#: (docs/speed.md, "The 10M disagreement").
WEIGHT_SCALE = 2.0**52
#: `allocate` compares the shares' remainders in steps of 2⁻²⁴ fen: remainders equal in exact
#: arithmetic (2/3 fen for a case of 200 points and for one of 50, of a total of 300) come out of
#: a double's division a few units of its last place apart, in an order no rule chose; on the
#: steps they are equal, and the earlier row takes the fen (ties by case id, as the rule says).
REMAINDER_STEPS = 2.0**24


def remainder_order(gap: pl.Expr) -> pl.Expr:
    """`floor − share` (minus the remainder) on the steps of `REMAINDER_STEPS`: the smallest
    first takes a fen left over (the SQL lowering computes the same,
    `engine.plan.sql.allocation`)."""
    return (gap * REMAINDER_STEPS + 0.5).floor()


def round_half_away(value: float | None, digits: int = 0) -> float | None:
    """Round half away from zero to `digits` decimals (Python path)."""
    if value is None or math.isnan(value):
        return None
    scale = 10.0**digits
    magnitude = math.floor(abs(value) * scale * (1 + TOLERANCE) + 0.5)
    return math.copysign(magnitude, value) * (1.0 / scale)


def round_half_away_expr(expr: pl.Expr, digits: int = 0) -> pl.Expr:
    """The same rule as `round_half_away`, on a column (batch path)."""
    scale = 10.0**digits
    magnitude = (expr.abs() * scale * (1 + TOLERANCE) + 0.5).floor()
    return pl.when(expr < 0).then(-magnitude).otherwise(magnitude) * (1.0 / scale)


def to_fen(yuan: pl.Expr) -> pl.Expr:
    """Whole fen of an amount in yuan, by the rounding rule."""
    return round_half_away_expr(yuan * 100).cast(pl.Int64)


def yuan_from_fen(fen: pl.Expr) -> pl.Expr:
    return fen.cast(pl.Float64) / 100


def fen_text(fen: int) -> str:
    """`12345` → `123.45` (exact; for reports and files)."""
    return str(Decimal(fen).scaleb(-2).quantize(Decimal("0.01")))


def fen_text_expr(fen: pl.Expr) -> pl.Expr:
    """Fen as exact decimal text `123.45`, for CSV outputs."""
    sign = pl.when(fen < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    magnitude = fen.abs()
    cents = (magnitude % 100).cast(pl.String).str.pad_start(2, "0")
    return pl.concat_str([sign, (magnitude // 100).cast(pl.String), pl.lit("."), cents])


def allocate(
    frame: pl.DataFrame, *, total: str, weight: str, by: list[str], out: str
) -> pl.DataFrame:
    """Add column `out`: `total` (yuan, constant within `by`) split over the rows by `weight`,
    exact to the fen (each row's share: total × weight ÷ Σ weight, the weights taken relative to
    the group's largest, scaled to `WEIGHT_SCALE`, and summed exactly, `engine.plan.exact`). The
    frame must be sorted by its row keys: equal remainders go to the earlier row. A group whose
    weights sum to zero pays nothing. A total or a share that is not money a file can hold stops
    the run (`engine.plan.polars.finite`)."""
    if not by:
        return frame.with_columns(_whole_split(frame, total, weight).alias(out))

    def per_group(expr: pl.Expr) -> pl.Expr:
        return expr.over(by)

    amount = pl.col(total).cast(pl.Float64)
    in_range = amount.abs() <= MAX_MONEY
    total_fen, unit, weight_sum = pl.col("__total_fen"), pl.col("__unit"), pl.col("__weight_sum")
    share = pl.when(weight_sum > 0).then(total_fen.cast(pl.Float64) * unit / weight_sum)
    # a total or weights out of range: NaN, which stops the run naming the definition (`finite`)
    raw = total_fen.cast(pl.Float64) * pl.col(weight)  # as large as a share can get
    overflow = ~in_range | ~raw.is_finite().fill_null(True) | ~share.is_finite().fill_null(True)
    plain_sum = per_group(pl.col(weight).sum())  # weights whose sum overflows: not a split
    broken = per_group(overflow.any()) | ~weight_sum.is_finite() | ~plain_sum.is_finite()
    # each value a column of its own, computed once (in one expression, polars computed the
    # exact sum again at each of its reads)
    units = with_columns(
        frame,
        to_fen(pl.when(in_range).then(amount)).alias("__total_fen"),
        # weights relative to the group's largest, scaled to 2⁵² (`WEIGHT_SCALE`) and summed
        # exactly (`engine.plan.exact`): the same bits in every backend, and a lone weight of
        # 1e-300 still takes its total
        pl.when((largest := per_group(pl.col(weight).abs().max())) > 0)
        .then(pl.col(weight) / largest * WEIGHT_SCALE)
        .alias("__unit"),
    )
    # the exact sum from the units' integer grid parts (`exact.grid_parts`): a sixth of the
    # time of the grid's arithmetic in the query
    parts = grid_parts(units.get_column("__unit"), "__unit")
    if parts is None:
        query, weight_total = units.lazy(), exact_sum(unit)
    else:
        query, weight_total = units.with_columns(parts[0]).lazy(), parts[1]
    staged = (
        query.with_columns(per_group(weight_total).alias("__weight_sum"))
        .with_columns(share.alias("__share"), broken.alias("__broken"))
        .with_columns(
            pl.when(~pl.col("__broken"))
            .then(pl.col("__share"))
            .floor()
            .cast(pl.Int64, strict=False)
            .fill_null(0)
            .alias("__floor"),
            pl.col("__share").fill_null(0.0),
            pl.col("__broken").fill_null(False),
        )
        .collect(engine="in-memory")
    )
    left_over = per_group(total_fen - pl.col("__floor").sum())
    position = per_group(remainder_order(pl.col("__floor") - pl.col("__share")).rank("ordinal"))
    extra = pl.when((position <= left_over) & (weight_sum > 0)).then(1).otherwise(0)
    allocated = yuan_from_fen(pl.col("__floor") + extra)
    value = pl.when(pl.col("__broken")).then(float("nan")).otherwise(allocated)
    temporary = [c for c in staged.columns if c.startswith("__") and c not in frame.columns]
    return with_columns(staged, value.alias(out)).drop(temporary)


def _whole_split(frame: pl.DataFrame, total: str, weight: str) -> pl.Series:
    """`allocate` without groups, in numpy as the hand-written plan splits a budget: the grouped
    path's arithmetic on arrays (a value divided by one number is multiplied by its reciprocal,
    as polars does; the weights' exact sum from their grid parts), and the fen left over found
    by a selection (`numpy.partition`, linear) instead of a rank of every row: the k-th smallest
    remainder is the cut, every row below it takes a fen, and of those at it the first ones."""
    weights = frame.get_column(weight).cast(pl.Float64)
    broken = functools.partial(pl.Series, values=np.full(frame.height, np.nan))
    if frame.height == 0 or not math.isfinite(weights.sum()):  # a sum that overflows, or NaN
        return broken()
    fen, out_of_range = _total_fen(frame.get_column(total))
    if out_of_range:
        return broken()
    unpaid = _missing(fen, weights)
    total_fen = fen.fill_null(0).to_numpy().astype(np.float64)
    total_fen = total_fen if len(total_fen) > 1 else total_fen[0]
    w = weights.fill_null(0.0).to_numpy()
    largest = float(np.abs(w).max())
    with np.errstate(over="ignore", invalid="ignore"):  # checked below: not a split
        # weights relative to the largest, scaled to 2⁵² (`WEIGHT_SCALE`): 0 where missing
        unit = w * (1.0 / largest) * WEIGHT_SCALE if largest > 0 else np.zeros(len(w))
    parts = grid_parts(pl.Series(unit), "__unit")
    weight_sum = (
        pl.DataFrame(parts[0]).select(parts[1]).item()
        if parts is not None
        else pl.select(exact_sum(pl.lit(pl.Series(unit)))).item()
    )
    if not math.isfinite(weight_sum):
        return broken()
    with np.errstate(over="ignore", invalid="ignore"):
        share = total_fen * unit * (1.0 / weight_sum) if weight_sum > 0 else np.zeros(len(w))
        raw = total_fen * w  # as large as a share can get
    if unpaid is not None:
        share[unpaid], raw[unpaid] = 0.0, 0.0
    if not (np.isfinite(raw).all() and np.isfinite(share).all()):
        return broken()
    floor = np.floor(share)
    floor[(floor < -(2.0**63)) | (floor >= 2.0**63)] = 0.0  # a share no fen count holds
    fen_paid = floor.astype(np.int64)
    left_over = fen[0] - int(fen_paid.sum()) if fen[0] is not None and weight_sum > 0 else 0
    if left_over >= len(w):  # every row takes one, as a rank of every row would give
        fen_paid += 1
    elif left_over > 0:
        gaps = np.floor((fen_paid.astype(np.float64) - share) * REMAINDER_STEPS + 0.5)
        cut = np.partition(gaps, left_over - 1)[left_over - 1]  # the k-th smallest
        below = np.flatnonzero(gaps < cut)
        fen_paid[below] += 1
        fen_paid[np.flatnonzero(gaps == cut)[: left_over - len(below)]] += 1
    return pl.DataFrame({"fen": fen_paid}).select(yuan_from_fen(pl.col("fen"))).to_series()


def _total_fen(totals: pl.Series) -> tuple[pl.Series, bool]:
    """The total in whole fen (null where missing), of one row where every row has the same
    (an allocation's total is one value of its group: one rounding, not a million); whether a
    total is not money a file can hold (NaN or beyond `MAX_MONEY`)."""
    amounts = totals.cast(pl.Float64)
    if not amounts.has_nulls() and bool((amounts == amounts[0]).all()):  # NaN == NaN in polars
        amounts = amounts.head(1)
    amount = pl.col(amounts.name)
    fen, out_of_range = amounts.to_frame().select(
        to_fen(pl.when(amount.abs() <= MAX_MONEY).then(amount)),
        ((amount.abs() > MAX_MONEY) | amount.is_nan()).any().alias("__out_of_range"),
    )
    return fen, bool(out_of_range[0])


def _missing(fen: pl.Series, weights: pl.Series) -> np.ndarray | None:
    """The rows a split pays nothing: a missing weight, or a missing total where the total is
    given per row (None: none)."""
    missing = [s.is_null() for s in (fen, weights) if len(s) == len(weights) and s.has_nulls()]
    return functools.reduce(operator.or_, missing).to_numpy() if missing else None

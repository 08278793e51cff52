"""Money to the fen (分), with one explicit rounding rule, in both evaluation paths.

Rule: amounts are computed in binary floating point (IEEE double) in yuan — a division `a / b`
is computed as `a × (1 / b)` in both evaluation paths, because polars divides a column by a
constant that way and the explainer must agree with it to the last bit; a rounding step
rounds half away from zero, after a relative tolerance of 1e-14 absorbs representation noise
(so 1.005 yuan, stored as 1.00499999…, rounds to 1.01) — a quarter of the step at most
(`CAPPED_FROM`). `allocate` splits a total exactly: every row gets the floor of its share in
fen, and the fen left over go one each to the rows with the largest remainders, ties to the
smallest row key — so the parts always sum to the total.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl

from engine.plan.exact import exact_sum, grid_parts

#: Relative tolerance: about 45 units in the last place of a double — enough to absorb the
#: representation noise of a few operations (1.005 yuan is stored as 1.00499999…), small enough
#: that a province's budget (1e12 fen) moves by less than 0.02 fen.
TOLERANCE = 1e-14
#: From this many units of the rounding step (2.5e13: a budget of 2.5e11 元 rounded to the fen)
#: the relative tolerance would add a quarter unit or more, and from 5e13 move an amount that is
#: exact in whole units: a national year's budget of 1,676,937,772,600.00 元 was rounded 2 fen
#: up. There the tolerance is a quarter unit (`TOLERANCE_CAP`), whatever the amount, and the
#: magnitude is its whole units plus one where their fraction is ¼ or more — both exact (a
#: double's + ½ at such sizes rounds itself: from 2⁵¹, where its step is ½, it moved whole
#: amounts up).
CAPPED_FROM = 2.5e13
TOLERANCE_CAP = 0.25
#: The largest amount in fen a double holds exactly (2⁵³), and in 元.
MAX_FEN = 2.0**53
MAX_MONEY = MAX_FEN / 100
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


def round_half_away(value: float | None, digits: int = 0) -> float | None:
    """Round half away from zero to `digits` decimals (Python path): the value's magnitude in
    units of the step, the tolerance added (relative; from `CAPPED_FROM` units a quarter unit,
    above), + ½, floored."""
    if value is None or math.isnan(value):
        return None
    scale = 10.0**digits
    units = abs(value) * scale
    if units <= CAPPED_FROM:
        magnitude = math.floor(units * (1 + TOLERANCE) + 0.5)
    else:
        whole = math.floor(units)
        magnitude = whole + (units - whole >= 0.5 - TOLERANCE_CAP)
    return math.copysign(magnitude, value) * (1.0 / scale)


def round_half_away_expr(expr: pl.Expr, digits: int = 0) -> pl.Expr:
    """The same rule as `round_half_away`, on a column (batch path)."""
    scale = 10.0**digits
    units = expr.abs() * scale
    magnitude = (
        pl.when(units <= CAPPED_FROM)
        .then((units * (1 + TOLERANCE) + 0.5).floor())
        .otherwise(units.floor() + (units - units.floor() >= 0.5 - TOLERANCE_CAP).cast(pl.Float64))
    )
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
    """Add column `out`: `total` (yuan, constant within `by`) split over the rows of each `by`
    group (none: the whole period, one group) by `weight`, exact to the fen. The frame must be
    sorted by its row keys: equal remainders go to the earlier row. A group whose weights sum
    to zero pays nothing. A group whose total, weights or shares are not money a file can hold
    is NaN, which stops the run naming the definition (`engine.plan.polars.finite`).

    Computed in numpy, group after group, as the hand-written plan splits a budget:
    - each weight relative to its group's largest, scaled to `WEIGHT_SCALE`, and summed exactly
      (`engine.plan.exact`, from its grid parts): the same sum in every backend, and a lone
      weight of 1e-300 still takes its total;
    - each row's share: its total in fen × its scaled weight ÷ their sum (each division as
      polars made it, `Groups.divide`);
    - each row gets the floor of its share, and its group's fen left over go one each to the
      rows with the largest remainders, ties to the earlier row (`_give_left_over`).
    """
    if frame.height == 0:
        return frame.with_columns(pl.Series(out, [], pl.Float64))
    groups = Groups.of(frame, by)
    fen, missing, out_of_range = _total_fen(frame.get_column(total))
    each_fen = groups.rows(fen.astype(np.float64)) if len(fen) > 1 else float(fen[0])
    weights = frame.get_column(weight).cast(pl.Float64).fill_null(0.0).to_numpy()
    share, paid, broken = _shares(groups, each_fen, groups.rows(weights))
    if len(fen) > 1:  # a total per row: the group's is its first row's
        first = groups.firsts()
        fen, missing = fen[first], missing[first]
        broken |= groups.any(groups.rows(out_of_range))
    else:
        broken |= out_of_range[0]
    fen_paid = np.floor(share).astype(np.int64)  # |share| ≤ 2⁵³ fen (`_shares`)
    left_over = fen - np.add.reduceat(fen_paid, groups.starts)
    for group in np.flatnonzero(paid & ~broken & ~missing & (left_over > 0)):
        rows = slice(groups.starts[group], groups.starts[group] + groups.sizes[group])
        _give_left_over(fen_paid[rows], share[rows], int(left_over[group]))
    # the parts sum to the total, or the group is not split: weights of both signs that nearly
    # cancel make shares far beyond the total, whose floors sum to more than it or to less than
    # its rows can make up one fen each
    broken |= paid & ~missing & (np.add.reduceat(fen_paid, groups.starts) != fen)
    # numpy divides; polars divides a column by a constant as a product with its reciprocal,
    # one bit off for about one fen amount in eight (2,412,501 → 24125.010000000002), where
    # the SQL backends divide: the raw values an explanation shows would differ by backend
    paid_yuan = pl.lit(pl.Series(groups.back(fen_paid) / 100.0))
    if broken.any():
        not_split = pl.lit(pl.Series(groups.back(np.repeat(broken, groups.sizes))))
        paid_yuan = pl.when(not_split).then(float("nan")).otherwise(paid_yuan)
    return frame.with_columns(paid_yuan.alias(out))


@dataclass(frozen=True)
class Groups:
    """A frame's rows by the groups of a split: `order`, the frame's row numbers group after
    group, each group's in frame order (None: one group, the rows as they are), and each group's
    number of rows. Values "in group order" are the frame's taken in `order`."""

    order: np.ndarray | None
    sizes: np.ndarray

    @classmethod
    def of(cls, frame: pl.DataFrame, by: list[str]) -> Groups:
        if not by:
            return cls(None, np.array([frame.height]))
        rows = frame.select(by).with_row_index("__row").group_by(by).agg("__row")["__row"]
        return cls(rows.explode().to_numpy(), rows.list.len().to_numpy().astype(np.int64))

    @functools.cached_property
    def starts(self) -> np.ndarray:
        """Where each group's rows start, in group order."""
        starts = np.zeros(len(self.sizes), np.int64)
        np.cumsum(self.sizes[:-1], out=starts[1:])
        return starts

    def firsts(self) -> np.ndarray:
        """The frame's row number of each group's first row."""
        return self.starts if self.order is None else self.order[self.starts]

    def rows(self, values: np.ndarray) -> np.ndarray:
        """The frame's values in group order."""
        return values if self.order is None else values[self.order]

    def back(self, values: np.ndarray) -> np.ndarray:
        """Values in group order, in the frame's."""
        if self.order is None:
            return values
        found = np.empty_like(values)
        found[self.order] = values
        return found

    def any(self, flags: np.ndarray) -> np.ndarray:
        """Whether any of each group's rows is flagged (in group order)."""
        return np.logical_or.reduceat(flags, self.starts)

    def aggregate(self, columns: dict[str, Any], *values: pl.Expr) -> pl.DataFrame:
        """Polars' aggregates of columns in group order: a row a group, in order."""
        frame = pl.DataFrame(columns)
        if self.order is None:
            return frame.select(*values)
        # sorted: polars aggregates each group's slice (a hash of every row cost six times more)
        group = pl.Series("__group", np.repeat(np.arange(len(self.sizes)), self.sizes))
        by_group = frame.with_columns(group.set_sorted()).group_by("__group", maintain_order=True)
        return by_group.agg(*values)

    def divide(
        self, values: np.ndarray, numbers: np.ndarray, out: np.ndarray | None = None
    ) -> np.ndarray:
        """Each row's value (in group order) ÷ its group's number, bit for bit as polars divided
        them when it computed the split: for one group, a column by a constant, which polars
        multiplies by the constant's reciprocal (a last bit apart from ÷ on a third of the rows;
        a subnormal number's reciprocal is infinite: such a largest weight leaves the period
        unsplit); for groups, by a column (a window, `over`), row by row. The SQL lowering
        does the same (`engine.plan.sql.allocation`: × the reciprocal over the whole period,
        ÷ in a window). `out`: the array to write them to (`values` itself, where no longer
        needed)."""
        if self.order is None:
            return np.multiply(values, 1.0 / numbers[0], out=out)
        return np.divide(values, np.repeat(numbers, self.sizes), out=out)


def _shares(
    groups: Groups, fen: np.ndarray | float, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's share in fen (in group order; 0 in a group whose weights sum to zero or less,
    and where not finite), whether each group's weights sum above zero (paid), and whether it is
    not split: a sum of its weights that overflows, a share not finite or beyond `MAX_FEN`
    (not money a file can hold), or its total × weight (as large as a share can get) not
    finite."""
    found = groups.aggregate(
        {"w": weights}, pl.col("w").abs().max().alias("largest"), pl.col("w").sum()
    )
    largest, plain_sum = found["largest"].to_numpy(), found["w"].to_numpy()
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # checked below
        # ÷ ∞ where the largest is 0: every unit 0
        unit = groups.divide(weights, np.where(largest > 0, largest, np.inf))
        unit *= WEIGHT_SCALE
    parts = grid_parts(pl.Series(unit), "__unit")
    columns, exact = (
        ({p.name: p for p in parts[0]}, parts[1])
        if parts is not None
        else ({"__unit": unit}, exact_sum(pl.col("__unit")))
    )
    weight_sum = groups.aggregate(columns, exact.alias("sum"))["sum"].to_numpy()
    paid = weight_sum > 0
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        # in place: the units are summed
        share = groups.divide(
            np.multiply(unit, fen, out=unit), np.where(paid, weight_sum, np.inf), unit
        )
        finite = np.abs(share) <= MAX_FEN  # false where NaN or infinite too
        # |total × weight| ≤ |total| × the largest weight: where that is finite, every row's
        # is, and a NaN weight's share is NaN (not finite above) — the product per row is
        # needed only where a group's total is per row or that bound overflows
        if not (isinstance(fen, float) and np.isfinite(fen * largest).all()):
            finite &= np.isfinite(fen * weights)
    broken = ~np.isfinite(plain_sum) | ~np.isfinite(weight_sum)
    if not finite.all():
        broken |= groups.any(~finite)
        share[~finite] = 0.0
    return share, paid, broken


def _give_left_over(fen: np.ndarray, share: np.ndarray, left_over: int) -> None:
    """Add a fen to each of the `left_over` rows of a group (`fen`, a view, its floors) with
    the largest remainders, ties to the earlier row — what a rank of every row by `floor −
    share` on the steps of `REMAINDER_STEPS` then row gives (`rank ≤ left_over`), found by a
    selection (`numpy.partition`, linear): the k-th smallest is the cut, every row below it
    takes a fen, and of those at it the first ones. The steps are whole numbers from −2²⁴ to 0
    (a finite share's floor − share is in (−1, 0]), selected as 32-bit integers: half the time
    of the same selection of doubles; the rows below the cut take their fen by a flag added
    to every row, not by their positions (a third of the time at 1M rows)."""
    if left_over >= len(fen):  # every row takes one, as the rank would give
        fen += 1
        return
    gaps = remainder_order(fen, share).astype(np.int32)
    cut = kth_smallest(gaps, left_over - 1)
    below = gaps < cut
    fen += below
    at_cut = np.flatnonzero(gaps == cut)
    fen[at_cut[: left_over - np.count_nonzero(below)]] += 1


def kth_smallest(values: np.ndarray, k: int) -> Any:
    """The `k`-th smallest of `values` (from 0), as `numpy.partition(values, k)[k]` gives it:
    of a long array, first among the values between two of a sample (every `SAMPLE_STEP`-th
    value, sorted) that bound it — `SAMPLE_MARGIN` × √(the sample's size) places either side
    of the k-th's place in the sample, about 5 % of the values — where the counts of the
    values below the one and above the other show that it is among them; else (values
    ordered so that the sample is far off) by the partition of every value. The same value
    either way, in two fifths of the partition's time at a million rows (`_give_left_over`'s
    cut). For values without NaN only — its one caller gives whole remainder steps (int32); a
    NaN sorts last in the sample and leaves no bound to count against."""
    rows = len(values)
    if rows >= SAMPLED_ROWS:
        sample = np.sort(values[::SAMPLE_STEP])
        place = k * len(sample) // rows
        margin = int(SAMPLE_MARGIN * np.sqrt(len(sample))) + 1
        low = sample[max(place - margin, 0)]
        high = sample[min(place + margin, len(sample) - 1)]
        below = int(np.count_nonzero(values < low))
        if below <= k < rows - int(np.count_nonzero(values > high)):
            between = values[(values >= low) & (values <= high)]
            return np.partition(between, k - below)[k - below]
    return np.partition(values, k)[k]


#: `kth_smallest` selects among a sample's bounds from this many values.
SAMPLED_ROWS = 65_536
#: Every this-many-th value is in `kth_smallest`'s sample.
SAMPLE_STEP = 64
#: Half the width of `kth_smallest`'s bounds, × √m places of a sample of m values: six
#: standard errors of the place of a quantile in the sample (at most ½√m) — values in no
#: particular order fall outside about once in 10⁹, and are then partitioned whole.
SAMPLE_MARGIN = 3.0


def remainder_order(floor: np.ndarray, share: np.ndarray) -> np.ndarray:
    """`floor − share` (minus the remainder) on the steps of `REMAINDER_STEPS`: the smallest
    first takes a fen left over (the SQL lowering computes the same,
    `engine.plan.sql.allocation`)."""
    return np.floor((floor.astype(np.float64) - share) * REMAINDER_STEPS + 0.5)


def _total_fen(totals: pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The total in whole fen (0 where missing), whether missing, and whether not money a file
    can hold (NaN or beyond `MAX_MONEY`) — of one row where every row has the same (an
    allocation's total is one value of its group: one rounding, not a million)."""
    amounts = totals.cast(pl.Float64)
    if not amounts.has_nulls() and bool((amounts == amounts[0]).all()):  # NaN == NaN in polars
        amounts = amounts.head(1)
    amount = pl.col(amounts.name)
    found = amounts.to_frame().select(
        to_fen(pl.when(amount.abs() <= MAX_MONEY).then(amount)).alias("fen"),
        ((amount.abs() > MAX_MONEY) | amount.is_nan()).fill_null(False).alias("out_of_range"),
    )
    fen = found["fen"]
    return fen.fill_null(0).to_numpy(), fen.is_null().to_numpy(), found["out_of_range"].to_numpy()

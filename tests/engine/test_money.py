"""Money to the fen: the rounding rule in both paths, and exact allocation of a total."""

from __future__ import annotations

import math
import random
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import duckdb
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from engine.plan.money import (
    CAPPED_FROM,
    SAMPLED_ROWS,
    allocate,
    fen_text,
    kth_smallest,
    round_half_away,
    round_half_away_expr,
    to_fen,
)
from engine.plan.sql import build as b
from engine.plan.sql.expressions import round_half_away as sql_round

#: Weights of a split, missing, zero, negative, NaN, infinite and huge among them — not
#: subnormal: a largest weight below 2⁻¹⁰²² has no finite reciprocal, which the whole-period
#: split multiplies by (NaN: it stops the run) and a group's does not.
WEIGHTS = st.lists(
    st.one_of(
        st.floats(min_value=-1e6, max_value=1e9, allow_subnormal=False),
        st.sampled_from([0.0, 1.0, 2.5, None, math.nan, math.inf, 1e308]),
    ),
    min_size=1,
    max_size=40,
)


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (1.005, 2, 1.01),
        (2.5, 0, 3.0),
        (-2.5, 0, -3.0),
        (0.125, 2, 0.13),
        (1.004999, 2, 1.0),
        (98999.989, 2, 98999.99),
        (16780840547.0, 2, 16780840547.0),
    ],
)
def test_round_half_away_from_zero(value: float, digits: int, expected: float) -> None:
    assert round_half_away(value, digits) == expected


@given(
    st.decimals(
        min_value=Decimal("-1e10"),
        max_value=Decimal("1e10"),
        places=3,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_both_paths_round_like_decimal_half_up(amount: Decimal) -> None:
    expected = int(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)
    batch = pl.DataFrame({"x": [float(amount)]}).select(to_fen(pl.col("x"))).item()
    assert batch == expected
    python = round_half_away(float(amount), 2)
    assert python is not None and round(python * 100) == expected


def test_a_province_budget_rounds_to_itself() -> None:
    assert pl.DataFrame({"x": [16780840547.00]}).select(to_fen(pl.col("x"))).item() == (
        1678084054700
    )


@given(
    total=st.decimals(min_value=Decimal("0"), max_value=Decimal("1e9"), places=2),
    weights=st.lists(
        st.floats(min_value=0, max_value=1e4, allow_subnormal=False), min_size=1, max_size=40
    ),
)
def test_allocation_sums_exactly_and_stays_within_a_fen_of_each_share(
    total: Decimal, weights: list[float]
) -> None:
    frame = pl.DataFrame(
        {"id": list(range(len(weights))), "t": [float(total)] * len(weights), "w": weights}
    )
    paid = allocate(frame, total="t", weight="w", by=[], out="p")["p"]
    fen = [round(p * 100) for p in paid]
    weight_sum = sum(weights)
    if weight_sum == 0:
        assert fen == [0] * len(weights)
        return
    assert sum(fen) == int(total * 100)
    for share, got in zip((float(total) * 100 * w / weight_sum for w in weights), fen, strict=True):
        assert share - 1 - 1e-6 <= got <= share + 1 + 1e-6


def test_allocation_gives_left_over_fen_to_the_largest_remainders_then_the_first_rows() -> None:
    frame = pl.DataFrame({"id": [1, 2, 3], "t": [1.00] * 3, "w": [1.0, 1.0, 1.0]})
    assert allocate(frame, total="t", weight="w", by=[], out="p")["p"].to_list() == [
        0.34,
        0.33,
        0.33,
    ]
    groups = pl.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "g": ["a", "a", "b", "b"],
            "t": [0.05, 0.05, 1, 1],
            "w": [3.0, 1.0, 1.0, 1.0],
        }
    )
    assert allocate(groups, total="t", weight="w", by=["g"], out="p")["p"].to_list() == [
        0.04,
        0.01,
        0.5,
        0.5,
    ]


def test_a_part_in_yuan_is_its_fen_divided_by_100_as_the_sql_backends_divide() -> None:
    """24,125.01 元 is 2,412,501 fen ÷ 100, the double nearest 24125.01 — not the product with
    0.01 (24125.010000000002) that polars makes of a column divided by a constant: an
    explanation shows this raw value, and DuckDB's and Spark's divide."""
    frame = pl.DataFrame({"id": [1, 2], "t": [48250.02] * 2, "w": [1.0, 1.0]})
    paid = allocate(frame, total="t", weight="w", by=[], out="p")["p"].to_list()
    assert paid == [2412501 / 100, 2412501 / 100] == [24125.01, 24125.01]
    assert 2412501 * 0.01 != 24125.01  # the product this test would catch


def test_fen_text_is_exact() -> None:
    assert [fen_text(f) for f in (0, 5, -5, 12345, 1678084054700)] == [
        "0.00",
        "0.05",
        "-0.05",
        "123.45",
        "16780840547.00",
    ]


@settings(max_examples=200, deadline=None)
@given(
    weights=st.lists(st.sampled_from([0.0, 1.0, 1.5, 2.0, 3.25, 7.0]), min_size=1, max_size=60),
    total=st.integers(min_value=0, max_value=10_000),
)
def test_whole_allocation_gives_the_fen_left_over_as_a_rank_would(
    weights: list[float], total: int
) -> None:
    """The allocation without groups picks the rows for the fen left over by a selection; it
    gives the same rows as the split computed in rationals (`exact_allocation`: ties — many here,
    the weights and totals exact in binary — to the earlier row)."""
    frame = pl.DataFrame({"w": weights, "t": [total / 100] * len(weights)})
    got = allocate(frame, total="t", weight="w", by=[], out="paid")["paid"]
    if sum(weights) <= 0:
        assert got.to_list() == [0.0] * len(weights)
        return
    expected, _ = exact_allocation(total, weights)
    assert [round(p * 100) for p in got] == expected
    assert round(got.sum() * 100) == total


def exact_allocation(total_fen: int, weights: list[float]) -> tuple[list[int], list[Fraction]]:
    """The largest-remainder split computed in rationals (an independent path): each row's floor
    of total × w ÷ Σ w, plus one fen to the largest exact remainders, ties to the earlier row;
    and each row's exact remainder."""
    exact = [Fraction(w) for w in weights]
    weight_sum = sum(exact)
    shares = [total_fen * w / weight_sum for w in exact]
    fen = [s.numerator // s.denominator for s in shares]
    remainders = [s - f for s, f in zip(shares, fen, strict=True)]
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[: total_fen - sum(fen)]:
        fen[i] += 1
    return fen, remainders


def paid_fen(weights: list[float], total_fen: int) -> list[int]:
    frame = pl.DataFrame(
        {"id": range(len(weights)), "t": [total_fen / 100] * len(weights), "w": weights}
    )
    return [round(p * 100) for p in allocate(frame, total="t", weight="w", by=[], out="p")["p"]]


def test_a_city_with_one_very_large_case_is_split_as_exact_arithmetic_splits_it() -> None:
    """The 10M disagreement (docs/speed.md): weights scaled to a largest of 1 lost their last
    bits on the exact sum's 2⁻⁴⁰ grid, so with one case far above the rest the shares of big
    cases moved by thousandths of a fen and fen left over went to the wrong cases. Settled
    points as a city's (about 100, one incentive case of 56,608), a budget of 173 billion 元."""
    rng = random.Random(11)
    weights = [rng.lognormvariate(math.log(100), 0.8) for _ in range(3000)] + [56608.43]
    total = 17_341_986_423_200  # fen: the 10M city's budget
    assert paid_fen(weights, total) == exact_allocation(total, weights)[0]


@settings(max_examples=300, deadline=None)
@given(
    small=st.lists(st.floats(min_value=1e-3, max_value=1e3), min_size=1, max_size=300),
    large=st.floats(min_value=1.0, max_value=1e7),
    total=st.integers(min_value=0, max_value=10**12),  # a province's budget in fen
)
def test_the_fen_left_over_go_to_the_largest_exact_remainders(
    small: list[float], large: float, total: int
) -> None:
    """Every row gets the floor of its exact share or one fen more, the parts sum to the total,
    and no row passed over for a fen has an exact remainder more than a millionth of a fen
    above one given it (double arithmetic may break near-ties either way, not more)."""
    weights = [*small, large]
    got = paid_fen(weights, total)
    _, remainders = exact_allocation(total, weights)
    assert sum(got) == total
    floors = [(total * Fraction(w) / sum(map(Fraction, weights))).__floor__() for w in weights]
    assert all(g - f in (0, 1) for g, f in zip(got, floors, strict=True))
    given_fen = [r for r, g, f in zip(remainders, got, floors, strict=True) if g > f]
    passed = [r for r, g, f in zip(remainders, got, floors, strict=True) if g == f]
    if given_fen and passed:
        assert max(passed) - min(given_fen) <= Fraction(1, 10**6)


@pytest.mark.parametrize("by", [[], ["tier"]])
def test_remainders_equal_in_exact_arithmetic_are_a_tie_taken_by_the_earlier_row(
    by: list[str],
) -> None:
    """100,000 元 over 200, 50 and 50 points: each share's remainder is 2/3 fen, but a double's
    division gives the 200-point case's a few units of its last place apart from the others' (and
    polars, not asked to, put it last): two fen are left over, and by the rule they go to the
    first two rows (found by hypothesis in `test_handwritten`; both paths, with and without
    groups)."""
    frame = pl.DataFrame(
        {"case_id": ["C000", "C001", "C002"], "tier": "A", "w": [200.0, 50.0, 50.0], "t": 1e5}
    )
    paid = allocate(frame, total="t", weight="w", by=by, out="p")["p"].to_list()
    assert [round(p * 100) for p in paid] == [6666667, 1666667, 1666666]  # fen
    shares = [Fraction(10**7) * w / 300 for w in (200, 50, 50)]
    assert {s - math.floor(s) for s in shares} == {Fraction(2, 3)}  # an exact tie


@settings(max_examples=300, deadline=None)
@given(
    weights=WEIGHTS,
    total=st.one_of(
        st.integers(min_value=0, max_value=10**12).map(lambda fen: fen / 100),
        st.sampled_from([None, math.nan, 1e20, -500.0]),
    ),
)
def test_the_whole_period_split_is_the_one_group_split_bit_for_bit(
    weights: list[float | None], total: float | None
) -> None:
    """Without groups and with one group the split runs the same code but for its divisions
    (`money.Groups.divide`: by a constant's reciprocal, by a column row by row — as polars made
    them): the same payments to the bit, NaN for a split that is not one (weights or a total out
    of range), with missing weights, a missing total, negative weights and weights summing to
    zero."""
    frame = pl.DataFrame(
        {"g": ["A"] * len(weights), "w": weights, "t": [total] * len(weights)},
        schema={"g": pl.String, "w": pl.Float64, "t": pl.Float64},
    )
    whole = allocate(frame, total="t", weight="w", by=[], out="p")["p"]
    grouped = allocate(frame, total="t", weight="w", by=["g"], out="p")["p"]
    assert whole.is_nan().to_list() == grouped.is_nan().to_list()
    assert whole.fill_nan(0.0).to_list() == grouped.fill_nan(0.0).to_list()


@st.composite
def grouped_splits(draw: st.DrawFn) -> tuple[pl.DataFrame, dict[int, int]]:
    """Rows of up to four groups in any order, weights exact in binary (many ties), and each
    group's total in fen (small: every remainder exact to far below `REMAINDER_STEPS`)."""
    size = draw(st.integers(min_value=1, max_value=60))
    groups = draw(st.lists(st.integers(0, 3), min_size=size, max_size=size))
    weights = draw(
        st.lists(st.sampled_from([0.0, 1.0, 1.5, 2.0, 3.25, 7.0]), min_size=size, max_size=size)
    )
    totals = {g: draw(st.integers(min_value=0, max_value=10_000)) for g in sorted(set(groups))}
    frame = pl.DataFrame({"g": groups, "w": weights, "t": [totals[g] / 100 for g in groups]})
    return frame, totals


@settings(max_examples=200, deadline=None)
@given(split=grouped_splits())
def test_each_group_is_split_as_exact_arithmetic_splits_it(
    split: tuple[pl.DataFrame, dict[int, int]],
) -> None:
    """Each group's rows (wherever they stand in the frame) get the split computed in rationals
    of the group alone (`exact_allocation`, ties to the earlier row); a group whose weights sum
    to zero pays nothing."""
    frame, totals = split
    paid = allocate(frame, total="t", weight="w", by=["g"], out="p")["p"]
    for group, total in totals.items():
        rows = [i for i, g in enumerate(frame["g"]) if g == group]
        weights = [frame["w"][i] for i in rows]
        expected = exact_allocation(total, weights)[0] if sum(weights) > 0 else [0] * len(rows)
        assert [round(paid[i] * 100) for i in rows] == expected


@settings(max_examples=200, deadline=None)
@given(
    weights=WEIGHTS,
    data=st.data(),
)
def test_a_group_is_split_as_if_alone(weights: list[float | None], data: st.DataObject) -> None:
    """Groups do not touch each other: each group's payments in fen (NaN where its weights or
    total are not money a file can hold) are those of its rows split alone, whatever the other
    groups hold."""
    groups = data.draw(st.lists(st.integers(0, 2), min_size=len(weights), max_size=len(weights)))
    total = st.integers(0, 10**12).map(lambda fen: fen / 100) | st.sampled_from(
        [None, math.nan, 1e20]
    )
    totals = data.draw(st.lists(total, min_size=3, max_size=3))
    frame = pl.DataFrame(
        {"g": groups, "w": weights, "t": [totals[g] for g in groups]},
        schema={"g": pl.Int64, "w": pl.Float64, "t": pl.Float64},
    ).with_row_index("row")
    together = allocate(frame, total="t", weight="w", by=["g"], out="p")
    for group in set(groups):
        rows = frame.filter(pl.col("g") == group)
        alone = allocate(rows, total="t", weight="w", by=["g"], out="p")["p"]
        got = together.filter(pl.col("g") == group)["p"]
        assert in_fen(got) == in_fen(alone)


def in_fen(paid: pl.Series) -> list[int | None]:
    """Payments in fen, None for NaN (a yuan amount's last bit is polars': a column of one row
    is divided by 100, a longer one multiplied by 0.01)."""
    return [None if math.isnan(p) else round(p * 100) for p in paid]


@pytest.mark.parametrize(("by", "paid"), [([], None), (["g"], [0.5, 0.5])])
def test_a_subnormal_largest_weight_leaves_the_period_unsplit_and_splits_a_group(
    by: list[str], paid: list[float] | None
) -> None:
    """The weights are divided by the largest as polars divided them (`money.Groups.divide`):
    over the whole period × its reciprocal, infinite for a weight below 2⁻¹⁰²² (NaN: the run
    stops, naming the definition); over groups ÷, which splits."""
    frame = pl.DataFrame({"g": ["A", "A"], "w": [1e-310, 1e-310], "t": [1.0, 1.0]})
    got = allocate(frame, total="t", weight="w", by=by, out="p")["p"]
    assert got.is_nan().all() if paid is None else got.to_list() == paid


def _old_units(units: float) -> float:
    """The rule before its cap: the relative tolerance at every size."""
    return math.floor(units * (1 + 1e-14) + 0.5)


@given(st.integers(min_value=0, max_value=2**53 - 1), st.sampled_from([1, -1]))
def test_an_amount_in_whole_units_rounds_to_itself(units: int, sign: int) -> None:
    """Up to 2⁵³ (every whole number a double holds), in both paths: before the tolerance was
    capped, from 5e13 units it moved such an amount up (`money.CAPPED_FROM`)."""
    value = float(sign * units)
    assert round_half_away(value) == value
    batch = pl.DataFrame({"x": [value]}).select(round_half_away_expr(pl.col("x"))).item()
    assert batch == value


def test_a_national_budget_rounds_to_itself() -> None:
    """100M cases' budget (`bench/handwritten_duckdb.py` at 100M): 1.68e14 fen, which the
    uncapped tolerance (1e-14 of it, 1.68 fen) paid 2 fen high."""
    budget = 1676937772600.00
    assert _old_units(budget * 100) == 167693777260002  # the rule before its cap
    assert pl.DataFrame({"x": [budget]}).select(to_fen(pl.col("x"))).item() == 167693777260000
    assert round_half_away(budget, 2) == budget
    assert round_half_away(1676937772600.005, 2) == 1676937772600.01  # half a fen: away


@given(st.floats(min_value=0, max_value=CAPPED_FROM, allow_subnormal=False))
def test_below_its_cap_the_tolerance_is_relative_as_before(units: float) -> None:
    """The same bits as the rule before its cap, up to `CAPPED_FROM` units: no amount a city
    settles rounds otherwise (its golden outputs unchanged)."""
    assert round_half_away(units) == _old_units(units)
    batch = pl.DataFrame({"x": [units]}).select(round_half_away_expr(pl.col("x"))).item()
    assert batch == _old_units(units)


def test_duckdb_rounds_as_polars_around_the_cap() -> None:
    """The SQL lowering's rounding (`sql.expressions.round_half_away`) at and beyond the cap,
    missing, NaN and infinite values: what the polars path gives."""
    values = [
        CAPPED_FROM,
        CAPPED_FROM * (1 + 2**-52),
        CAPPED_FROM + 0.5,
        5e13 - 0.5,
        5e13,
        167693777260002.0,
        167693777260002.5,
        2.0**53 - 1,
        -(2.0**53 - 1),
        0.5,
        -2.5,
        None,
        math.nan,
        math.inf,
    ]
    frame = pl.DataFrame({"x": values}, schema={"x": pl.Float64})
    expected = frame.select(round_half_away_expr(pl.col("x")))["x"].to_list()
    con = duckdb.connect()
    con.register("t", frame.to_arrow())
    query = exp.select(b.alias(sql_round(b.col("x")), "x")).from_(b.table("t"))
    got = [r[0] for r in con.execute(query.sql(dialect="duckdb")).fetchall()]
    assert [str(v) for v in got] == [str(v) for v in expected]


@pytest.mark.parametrize(
    "order", ["random", "ascending", "descending", "equal", "few values", "every 64th apart"]
)
def test_the_cut_of_the_fen_left_over_is_the_partitions_kth_smallest(order: str) -> None:
    """`kth_smallest` (the cut of `_give_left_over`: among a sample's bounds where they hold
    it) gives the value `numpy.partition` gives, on remainders' steps in any order — those that
    put its sample far off included (it then partitions them all)."""
    rows = SAMPLED_ROWS * 3 + 17
    rng = np.random.default_rng(11)
    steps = rng.integers(-(2**24), 1, rows)
    values = {
        "random": steps,
        "ascending": np.sort(steps),
        "descending": np.sort(steps)[::-1].copy(),
        "equal": np.zeros(rows, np.int64),
        "few values": rng.integers(-3, 1, rows),
        "every 64th apart": (np.arange(rows) % 64 == 0) * -5,
    }[order].astype(np.int32)
    for k in sorted({0, 1, rows // 3, rows // 2, rows - 2, rows - 1, *rng.integers(0, rows, 8)}):
        assert kth_smallest(values, int(k)) == np.partition(values, int(k))[int(k)]

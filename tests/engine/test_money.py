"""Money to the fen: the rounding rule in both paths, and exact allocation of a total."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.plan.exact import exact_sum
from engine.plan.money import allocate, fen_text, round_half_away, to_fen


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
    gives the same rows as ranking every remainder (ties — many here — to the earlier row)."""
    frame = pl.DataFrame({"w": weights, "t": [total / 100] * len(weights)})
    got = allocate(frame, total="t", weight="w", by=[], out="paid")["paid"]
    weight_sum = sum(weights)
    if weight_sum <= 0:
        assert got.to_list() == [0.0] * len(weights)
        return
    # the shares as the engine computes them: weights relative to the largest, summed exactly
    unit = pl.col("w") / pl.col("w").abs().max()
    share = frame.select((float(total) * unit / exact_sum(unit)).alias("s"))["s"].to_list()
    floors = [math.floor(s) for s in share]
    left = total - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (floors[i] - share[i], i))[:left]
    expected = [(f + (1 if i in order else 0)) / 100 for i, f in enumerate(floors)]
    assert got.to_list() == pytest.approx(expected, abs=1e-12)
    assert round(got.sum() * 100) == total

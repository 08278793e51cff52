"""Aggregates tallied per group by numpy (`batch_windows.RowValues.tallied`: a group-by with
a `cv`) against polars' group-by of the same aggregates, bit for bit, whatever the order of
the rows, and against an exact oracle in `fractions.Fraction` on the grid of `engine.plan.exact`."""

from __future__ import annotations

import math
import struct
from fractions import Fraction
from types import SimpleNamespace
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.plan.exact import EXACT_SCALE
from engine.plan.polars import batch_windows
from engine.plan.polars.keys import KeyCodes
from policy_dsl import ir

HOSPITALS = ["H1", "H2", "H3"]
CODES = KeyCodes({"hospital_id": pl.Series(HOSPITALS)})
ROWS = st.lists(
    st.tuples(
        st.sampled_from([*HOSPITALS, None]),
        st.one_of(st.none(), st.floats(-1e7, 1e7).map(lambda v: round(v, 2)), st.floats(-1, 1)),
    ),
    min_size=1,
    max_size=60,
)
FNS = ("count", "count_where", "sum", "mean", "cv")


def aggregates(rows: batch_windows.RowValues) -> list[tuple[Any, str]]:
    """Each of `FNS` over `x` by hospital, reduced by `rows`."""
    arg = ir.FieldRef(name="x", table="cases", column="x")
    made = []
    for fn in FNS:
        where = pl.col("x") > 0 if fn == "count_where" else None
        node = ir.Aggregate(fn=fn.removesuffix("_where"), arg=arg, source=["case"])  # type: ignore[arg-type]
        made.append((rows.reduce(node, pl.col("x"), where), fn))
    return made


def bits(value: float | None) -> bytes | None:
    """A double's bits (a NaN is then equal to itself)."""
    return None if value is None else struct.pack("<d", value)


def by_code(found: pl.DataFrame) -> dict[int, tuple[bytes | None, ...]]:
    rows = found.select("__code", *FNS).iter_rows()
    return {row[0]: tuple(bits(v) for v in row[1:]) for row in rows}


def tallied(data: pl.DataFrame) -> pl.DataFrame | None:
    rows = batch_windows.RowValues()
    names = [name for _, name in aggregates(rows)]
    compiler = SimpleNamespace(run=SimpleNamespace(data=SimpleNamespace(codes=CODES), frames={}))
    return rows.tallied(compiler, data, ["hospital_id"], names)  # type: ignore[arg-type]


def grouped(data: pl.DataFrame) -> pl.DataFrame:
    rows = batch_windows.RowValues()
    made = aggregates(rows)
    compiler = SimpleNamespace(run=SimpleNamespace(data=SimpleNamespace(codes=CODES), frames={}))
    added = rows.added(compiler, data, ["hospital_id"])  # type: ignore[arg-type]
    reduced = [make().alias(name) for make, name in made]
    code = CODES.packed(added, ["hospital_id"]).alias("__code")
    return added.lazy().group_by(code).agg(reduced).collect(engine="in-memory")


def on_grid(value: float) -> Fraction:
    """A double rounded half up to the grid 2⁻⁴⁰ (`exact.grid_units`)."""
    steps = int(EXACT_SCALE)
    return Fraction(math.floor(Fraction(value) * steps + Fraction(1, 2)), steps)


def oracle(values: list[float]) -> dict[str, float | None]:
    """The aggregates of a group's values by their definition, exact sums in fractions: the
    sum, its mean, and √(Σ (v − mean)² ÷ n) ÷ mean with each squared deviation a double."""
    taken = [v for v in values if v is not None]
    total = float(sum((on_grid(v) for v in taken), Fraction(0)))
    found: dict[str, float | None] = {
        "count": float(len(values)),
        "count_where": float(sum(v > 0 for v in taken)),
        "sum": total,
        "mean": total / float(len(taken)) if taken else None,
        "cv": None,
    }
    if taken:
        mean = total / float(len(taken))
        squares = float(sum((on_grid((v - mean) * (v - mean)) for v in taken), Fraction(0)))
        spread = math.sqrt(squares / float(len(taken)))
        found["cv"] = spread / mean if mean else math.copysign(math.inf, mean) * spread
    return found


@settings(max_examples=80, deadline=None)
@given(rows=ROWS, order=st.randoms(use_true_random=False))
def test_tallies_are_the_group_by_bit_for_bit_in_any_order(rows: list[Any], order: Any) -> None:
    data = pl.DataFrame(rows, schema={"hospital_id": pl.String, "x": pl.Float64}, orient="row")
    got = tallied(data)
    assert got is not None
    expected = by_code(grouped(data))
    assert by_code(got) == expected
    shuffled = list(rows)
    order.shuffle(shuffled)
    again = pl.DataFrame(shuffled, schema=data.schema, orient="row")
    assert by_code(tallied(again)) == expected  # type: ignore[arg-type]
    per_hospital: dict[str | None, list[float]] = {}
    for hospital, value in rows:
        per_hospital.setdefault(hospital, []).append(value)
    codes = data.select(CODES.packed(data, ["hospital_id"]).alias("code"), "hospital_id")
    hospital_of = dict(zip(codes["code"], codes["hospital_id"], strict=True))
    for code, values in by_code(got).items():
        expected_values = oracle(per_hospital[hospital_of[code]])
        expected_bits = tuple(bits(expected_values[fn]) for fn in FNS)
        assert values == expected_bits, hospital_of[code]

"""The benchmark's simple policy (`bench/simple/simple.policy`) settled by hand in polars.

Classification by cost ratio with tiered high-ratio thresholds, bilateral and multi-site
adjustments, an 80/20 hospital coefficient from the level's and the hospital's mean cost ratio,
a point value per month, payments and hospital totals — every rule hard-coded, as an expert
would write it for this one policy. Keys are integers made once on load (`prepare`); a
settlement is three lazy queries over the cases (points; the coefficients' means; the monthly
point value and payments), values of a group, hospital or month reaching a case by `gather`.
The money rule is the project's (`bench/handwritten.py`): a division as × reciprocal, a
comparison within the 1e-14 relative tolerance, rounding half away from zero after it. The
results are the same bits on every run: sums of floats in case order (numpy's `bincount`, or a
list's sum per group), costs as whole fen (exact) — not in the order polars' threads take them.

    prepared = prepare(load_inputs(Path("sample"), budget_names=["drg_fund"]), 2024)
    result = settle_prepared(prepared)      # .cases, .hospitals
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from bench.handwritten import (
    TOLERANCE,
    at_most,
    coded_cases,
    div,
    grouped_mean_cost,
    high_ratio_k,
)
from engine.inputs.contract import Inputs

POLICY = Path(__file__).with_name("simple.policy")

CLASSES = ["ungrouped", "high", "low", "normal"]
CATEGORY = pl.Enum(CLASSES)
BY_BASE = ("normal", "high", "low")
POINTS_PER_WEIGHT = 100.0
LOW_RATIO = 0.4
LEVEL_SHARE, HOSPITAL_SHARE = 0.8, 0.2
BILATERAL = 1.5
SECONDARY_SHARE = 0.5
MONTHS = 12

CASE_COLUMNS = [
    "case_id",
    "hospital_id",
    "drg_code",
    "month",
    "total_cost",
    "bilateral",
    "multi_site",
    "secondary_drg",
    "ungrouped",
]


@dataclass
class Prepared:
    """The year's cases with integer keys: `h` (hospital row), `g` (catalog group row, null
    outside the catalog), `sec` (the secondary operation's no-CC group row), `m` (month 0–11)
    and the hospital's `level`."""

    cases: pl.DataFrame
    hospitals: pl.DataFrame
    groups: pl.DataFrame
    fund: float


def prepare(inputs: Inputs, year: int) -> Prepared:
    """The cases of `year`, keyed by integers (see `Prepared`)."""
    cases, hospitals, groups = coded_cases(inputs, year, CASE_COLUMNS)
    return Prepared(cases, hospitals, groups, float(inputs.budget["values"]["drg_fund"]))


def _category(name: str) -> pl.Expr:
    return pl.lit(name, dtype=CATEGORY)


def at_least(value: pl.Expr, bound: pl.Expr) -> pl.Expr:
    """`value >= bound` within the money rule's relative tolerance (both columns)."""
    return bound - value <= TOLERANCE * pl.max_horizontal(value.abs(), bound.abs())


def case_points(prepared: Prepared) -> pl.LazyFrame:
    """Category, base points, cost ratio and adjusted case points of every case."""
    cases, groups = prepared.cases, prepared.groups
    g = pl.col("g")
    base, ratio, k, cost = (pl.col(c) for c in ("base_points", "cost_ratio", "k", "total_cost"))
    all_avg_cost = grouped_mean_cost(cases)
    inverse = 1.0 / all_avg_cost if all_avg_cost else None
    category = (
        pl.when(pl.col("ungrouped"))
        .then(_category("ungrouped"))
        .when(at_least(ratio, k))
        .then(_category("high"))
        .when(at_most(ratio, LOW_RATIO))
        .then(_category("low"))
        .otherwise(_category("normal"))
    )
    kind = pl.col("category")
    class_points = (
        pl.when(kind == "ungrouped")
        .then(cost * inverse * POINTS_PER_WEIGHT)
        .when(kind == "high")
        .then(base + (ratio - k) * base)
        .when(kind == "low")
        .then(base * ratio)
        .otherwise(base)
    )
    by_base = kind.is_in(BY_BASE)
    bilateral = pl.col("bilateral") & by_base
    multi_site = pl.col("multi_site") & (pl.col("secondary_drg") != "") & by_base
    weight = pl.lit(groups["weight"] * POINTS_PER_WEIGHT)
    secondary = (weight.gather(pl.col("sec")) * SECONDARY_SHARE).fill_null(0.0)
    points = (
        pl.when(bilateral)
        .then(pl.max_horizontal(class_points, base * BILATERAL))
        .otherwise(class_points)
    )
    points = pl.when(multi_site).then(pl.max_horizontal(points, base + secondary)).otherwise(points)
    return (
        cases.lazy()
        .with_columns(
            base_points=weight.gather(g),
            cost_ratio=div(cost, pl.lit(groups["avg_cost"]).gather(g)),
        )
        .with_columns(k=high_ratio_k(base))
        .with_columns(category=category)
        .with_columns(case_points=points)
    )


def in_order_sums(keys: pl.Series, values: pl.Series, size: int) -> np.ndarray:
    """Per key (an integer below `size`), the sum of its `values` (nulls as 0) in case order."""
    return np.bincount(keys.to_numpy(), weights=values.fill_null(0.0).to_numpy(), minlength=size)


def coefficients(prepared: Prepared, cases: pl.DataFrame) -> pl.Series:
    """Per hospital row: 80% of its level's mean cost ratio of normal cases + 20% of its own
    (its level's where it has no normal case)."""
    normal = (
        cases.lazy()
        .filter((pl.col("category") == "normal") & pl.col("cost_ratio").is_not_null())
        .select("level", "h", "cost_ratio")
        .collect()
    )
    levels = prepared.hospitals["level"]
    means = {}
    for key, size in (("level", int(levels.max() or 0) + 1), ("h", len(levels))):
        ratios = in_order_sums(normal[key], normal["cost_ratio"], size)
        count = np.bincount(normal[key].to_numpy(), minlength=size)
        with np.errstate(invalid="ignore", divide="ignore"):
            means[key] = pl.Series(ratios / count).fill_nan(None)
    level_mean = means["level"].gather(levels)
    own = means["h"].fill_null(level_mean)
    return (level_mean * LEVEL_SHARE + own * HOSPITAL_SHARE).alias("coefficient")


def round_fen(yuan: pl.Expr) -> pl.Expr:
    """Whole fen, half away from zero after the tolerance (`round_fen` of the language)."""
    magnitude = (yuan.abs() * 100 * (1 + TOLERANCE) + 0.5).floor()
    return pl.when(yuan < 0).then(-magnitude).otherwise(magnitude).cast(pl.Int64)


@dataclass
class Result:
    """Per case: category, base points, case points, coefficient, settled points, the month's
    point value and the payment in fen (Int64); per hospital with cases, its totals."""

    cases: pl.DataFrame
    hospitals: pl.DataFrame


def settle_prepared(prepared: Prepared) -> Result:
    """Settle prepared cases (see the module docstring)."""
    points = case_points(prepared).collect()
    per_hospital = coefficients(prepared, points)
    coefficient = pl.when(pl.col("category") == "ungrouped").then(1.0)
    settled = points.lazy().with_columns(
        coefficient=coefficient.otherwise(pl.lit(per_hospital).gather(pl.col("h")))
    )
    settled = settled.with_columns(settled_points=pl.col("case_points") * pl.col("coefficient"))
    month_fund = prepared.fund * (1.0 / MONTHS)
    months = settled.select("m", "settled_points").collect()
    point_value = (
        pl.DataFrame({"total": in_order_sums(months["m"], months["settled_points"], MONTHS)})
        .select(point_value=div(pl.lit(month_fund), pl.col("total")))
        .to_series()
    )
    cases = (
        settled.with_columns(point_value=pl.lit(point_value).gather(pl.col("m")))
        .select(
            "case_id",
            "hospital_id",
            "h",
            "month",
            "category",
            "base_points",
            "case_points",
            "coefficient",
            "settled_points",
            "point_value",
            payment=round_fen(pl.col("settled_points") * pl.col("point_value")),
        )
        .collect()
    )
    return Result(cases, hospital_totals(cases))


def hospital_totals(cases: pl.DataFrame) -> pl.DataFrame:
    """Per hospital with cases: payment (fen) and settled points."""
    return (
        cases.group_by("hospital_id")
        .agg(
            hospital_payment=pl.col("payment").sum(),
            # in case order: the same bits on every run
            hospital_points=pl.col("settled_points").implode().list.sum(),
        )
        .sort("hospital_id")
    )

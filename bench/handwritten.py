"""Xuancheng 2024 settled by hand: the benchmark's reference implementation.

What a competent engineer would write for this one policy without the policy language: plain
polars (group-bys, joins, windows), every rule of `policies/xuancheng/2023.policy` and
`2024.policy` hard-coded. Hospitals and groups are numbered by their row in the input tables, so
that per-group values reach a case by `gather` and per hospital × group (or level × group)
averages are windows over one integer key. It shares nothing with the engine's IR or batch plan;
only the input contract loader (`engine.inputs.contract.load_inputs`) is reused to read and validate
the data.

It follows the project's money rule (`README.md`, "Money"): a division `a / b` is computed as
`a × (1 / b)` (and gives null when `b` is 0), a rounding step rounds half away from zero after a
relative tolerance of 1e-14, and the budget is split to the fen by largest remainders, ties to
the smaller case id. Its results are the same bits on every run: a float sum's last bits depend on
the order of its additions, which polars' threads and the frame's chunks set, so costs (exact to
the fen by the input contract) are summed as whole fen (exact), and other sums (points, the squared
deviations of a group's costs) in case order by numpy.

    inputs = load_inputs(Path("sample"), budget_names=["drg_fund"])
    result = settle(inputs, 2024)
    write_outputs(result, Path("out/hand"), stamp)
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from engine.inputs.contract import Inputs

# ---- the rules' numbers (each from the policy file named) -----------------------------------

CLASSES = ["special", "ungrouped", "unstable", "high", "low", "normal"]
CATEGORY = pl.Enum(CLASSES)
BY_COST = ("special", "ungrouped", "unstable")  # paid by cost; coefficient 1
BY_BASE = ("normal", "high", "low")  # paid from base points; bilateral / multi-site apply

POINTS_PER_WEIGHT = 100.0  # 2023: base_points = weight × 100
LARGE_NUMBER_CASES = 100  # 2024: stable if (n ≥ 100 ...
MIN_STABLE_CASES = 5  # 2024: ... or n > 5) and CV ≤ 1
CV_LIMIT = 1.0
LOW_RATIO_GRASSROOTS = 0.3  # 2024: level ≤ 1, cost ratio ≤ 0.3 (低于……0.3倍以下, read as 以下)
LOW_RATIO_STANDARD = 0.4  # 2023: level ≥ 2, cost ratio ≤ 0.4 (inclusive)
LEVEL_SHARE, COST_SHARE = 0.8, 0.2  # 2024: level coefficient 80% + cost coefficient 20%
NEW_HOSPITAL_SHARE = 0.8  # 2024: 80% of the level coefficient, not below the level minimum
# (the lowest coefficient in force among the level's hospitals with history: filed, else measured)
# (one coefficient per hospital, from its history: cost per weight = hist_avg_cost × hist_cases ÷
# hist_weight_total, of the hospital, its level and the city; a filed coefficient > 0 wins, a new
# or no-history hospital's not below the level minimum)
# 2024: 4‰ (level 0 unrated, 1, 2) / 6‰ (level 3) of the hospital's DRG cases
INCENTIVE_SHARE = {0: 0.004, 1: 0.004, 2: 0.004, 3: 0.006}
BILATERAL = 1.5  # 2024: 1.5 × the base points (the higher of that and the class points)
SECONDARY_SHARE = 0.5  # 2024: base points + 50% of the secondary operation's no-CC group
MONTHS_PER_YEAR = 12.0
TOLERANCE = 1e-14  # money rule (README "Money")


def high_ratio_k(base_points: pl.Expr) -> pl.Expr:
    """2023 table high_ratio_k: [0, 100) → 3, [100, 300) → 2.5, [300, ∞) → 2."""
    return (
        pl.when((base_points >= 0) & (base_points < 100))
        .then(3.0)
        .when((base_points >= 100) & (base_points < 300))
        .then(2.5)
        .when(base_points >= 300)
        .then(2.0)
    )


# ---- small helpers -------------------------------------------------------------------------


def div(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """`numerator / denominator` by the money rule (× reciprocal); null when dividing by 0."""
    return pl.when(denominator != 0).then(numerator * (1.0 / denominator))


def at_most(value: pl.Expr, bound: float) -> pl.Expr:
    """`value <= bound` within the money rule's relative tolerance (bound > 0)."""
    return value <= bound * (1 + TOLERANCE)


def div_float(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator * (1.0 / denominator)


def round_half_away(value: float) -> int:
    """Whole units, half away from zero, after the money rule's tolerance: 1e-14 relative, a
    quarter unit from 2.5e13 units (README "Money")."""
    units = abs(value)
    if units <= 2.5e13:
        magnitude = math.floor(units * (1 + TOLERANCE) + 0.5)
    else:
        whole = math.floor(units)
        magnitude = whole + (units - whole >= 0.25)
    return int(math.copysign(magnitude, value))


def _fen(yuan: pl.Expr) -> pl.Expr:
    """An amount in yuan as whole fen (Int64)."""
    return whole_fen(yuan).cast(pl.Int64)


def whole_fen(yuan: Any) -> Any:
    """Amounts exact to the fen (the input contract's money) as whole numbers of fen in doubles
    (an expression or a numpy array): their sums are exact, so the same in any order, below
    2⁵³ fen (90 trillion yuan)."""
    return (yuan * 100).round()


def grouped_mean_cost(cases: pl.DataFrame) -> float | None:
    """The mean cost of the grouped cases (None for none), their costs summed as whole fen:
    exact in any order (`all_avg_cost`)."""
    grouped = cases.lazy().filter(~pl.col("ungrouped"))
    fen, count = grouped.select(whole_fen(pl.col("total_cost")).sum(), pl.len()).collect().row(0)
    return fen / 100 / count if count else None


def fen_text(fen: pl.Expr) -> pl.Expr:
    """Integer fen as an exact 2-decimal amount: 123456 → 1234.56 (a Decimal, so the CSV text is
    exact)."""
    return fen.cast(pl.Decimal(38, 2)) / 100


def no_cc_groups(codes: pl.Series) -> pl.DataFrame:
    """adrg → the ADRG's group without CC: its '5' group, else its '9' (not split) group. An
    ADRG with neither is left out (a secondary operation there adds no points)."""
    known = set(codes.to_list())
    rows = [
        (adrg, next((adrg + s for s in "59" if adrg + s in known), None))
        for adrg in sorted({code[:3] for code in known})
    ]
    frame = pl.DataFrame(rows, schema={"adrg": pl.String, "no_cc": pl.String}, orient="row")
    return frame.drop_nulls()


# ---- load: integer-coded keys, made once per dataset ---------------------------------------


@dataclass
class Prepared:
    """The year's cases with integer codes of their keys, made once on load: `h` (the
    hospital's row), `g` (the catalog group's row; null for a code not in the catalog), `sec`
    (the row of the secondary operation's no-CC group; null where there is none) and the
    hospital's level. A settlement then reaches per-group and per-hospital values by `gather`."""

    year: int
    cases: pl.DataFrame  # sorted by case_id
    hospitals: pl.DataFrame  # sorted by hospital_id; row h
    groups: pl.DataFrame  # sorted by drg_code; row g
    fund: float
    rejects: pl.DataFrame
    rows: dict[str, int]


def _codes(values: pl.Series) -> dict[str, int]:
    return {value: index for index, value in enumerate(values.to_list())}


def coded_cases(
    inputs: Inputs, year: int, columns: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The `columns` of the cases of `year`, by case id, with `h`, `g`, `sec`, `m` (the month,
    0–11) and the hospital's `level` (see `Prepared`); the hospitals and the groups in the
    order of their rows."""
    hospitals = inputs.hospitals.sort("hospital_id")
    groups = inputs.groups.sort("drg_code")
    group_row = _codes(groups["drg_code"])
    secondary = {
        adrg: group_row[code] for adrg, code in no_cc_groups(groups["drg_code"]).iter_rows()
    }
    cases = (
        inputs.cases.lazy()
        .filter(pl.col("discharge_date").dt.year() == year)
        .select(
            *columns,
            h=pl.col("hospital_id").replace_strict(
                _codes(hospitals["hospital_id"]), return_dtype=pl.UInt32
            ),
            g=pl.col("drg_code").replace_strict(group_row, default=None, return_dtype=pl.UInt32),
            sec=pl.col("secondary_drg")
            .str.slice(0, 3)
            .replace_strict(secondary, default=None, return_dtype=pl.UInt32),
            m=(pl.col("discharge_date").dt.month() - 1).cast(pl.UInt32),
        )
        .with_columns(level=pl.lit(hospitals["level"]).gather(pl.col("h")))
        .sort("case_id")  # the loader sorts by key: a no-op then; allocation needs it
        .collect()
    )
    return cases, hospitals, groups


def prepare(inputs: Inputs, year: int) -> Prepared:
    """The cases of `year` with their keys as integers (see `Prepared`)."""
    cases, hospitals, groups = coded_cases(inputs, year, CASE_COLUMNS)
    read = inputs.rows_read["cases"]
    rejected = int(inputs.rejects["file"].str.starts_with("cases").sum())
    return Prepared(
        year=year,
        cases=cases,
        hospitals=hospitals,
        groups=groups,
        fund=float(inputs.budget["values"]["drg_fund"]),
        rejects=inputs.rejects,
        rows={
            "read": read,
            "rejected": rejected,
            "outside_period": read - rejected - cases.height,
            "settled": cases.height,
        },
    )


# ---- settlement ----------------------------------------------------------------------------


@dataclass
class Result:
    """Per-case results and per-hospital reports of one year's settlement."""

    period: str
    cases: pl.DataFrame  # case_id … payment (fen, Int64), total_cost (fen, Int64)
    reports: pl.DataFrame  # per hospital: level, tier, cases_paid, cost_per_point, rank
    point_value: float | None
    budget_fen: int
    total_points: float
    rejects: pl.DataFrame
    rows: dict[str, int]


CASE_COLUMNS = [
    "case_id",
    "hospital_id",
    "drg_code",
    "month",
    "total_cost",
    "unreasonable_cost",
    "patient_paid",
    "bilateral",
    "multi_site",
    "secondary_drg",
    "incentive_approved",
    "special_review",
    "ungrouped",
]


def settle(inputs: Inputs, year: int) -> Result:
    """Settle the year's cases under Xuancheng 2024 (`prepare`, then `settle_prepared`)."""
    return settle_prepared(prepare(inputs, year))


def settle_prepared(prepared: Prepared) -> Result:
    """Settle prepared cases: per-group values (a group-by on `g`), per-hospital coefficients,
    then one query over the cases for class, points, coefficient and settled points."""
    hospitals = _coefficients(prepared.hospitals)
    groups = _groups(prepared.groups, prepared.cases)
    points = _case_points(prepared.cases, groups, hospitals)
    period_fund = prepared.fund * MONTHS_PER_YEAR * (1.0 / 12)  # drg_fund × 12 / 12
    weights = points["settled_points"].fill_null(0.0).to_numpy()
    # in case order (numpy's pairwise sum): the same bits however polars would split the sum
    total_points = float(np.sum(weights))
    point_value = div_float(period_fund, total_points)
    payable = total_points * point_value if point_value is not None else None
    case_table = points.select(
        "case_id",
        "hospital_id",
        "drg_code",
        "month",
        "category",
        "base_points",
        "case_points",
        "coefficient",
        "settled_points",
        point_value=pl.lit(point_value, dtype=pl.Float64),
        payment=_allocate(weights, total_points, payable),
        patient_paid=_fen(pl.col("patient_paid")),
    ).with_columns(
        # 基金支付 = 应付 − 个人负担 (the fund pays the payable amount less what the patient paid)
        fund_payment=pl.col("payment") - pl.col("patient_paid"),
        total_cost=_fen(points["total_cost"]),
    )
    return Result(
        period=str(prepared.year),
        cases=case_table,
        reports=_hospital_reports(hospitals, points),
        point_value=point_value,
        budget_fen=round_half_away(period_fund * 100),
        total_points=total_points,
        rejects=prepared.rejects,
        rows=prepared.rows,
    )


def _cost_cv(cases: pl.DataFrame, groups: int) -> pl.DataFrame:
    """Per catalog group (row g, `groups` of them): its cases `n` and the coefficient of
    variation of their cost `cv` (population standard deviation ÷ mean; null for no case), the
    same bits on every run: each group's cost summed as whole fen (exact in any order), the
    squared deviations from its mean in case order (numpy's `bincount`)."""
    coded = cases.lazy().select("g", "total_cost").filter(pl.col("g").is_not_null()).collect()
    g, cost = coded["g"].to_numpy(), coded["total_cost"].to_numpy()
    n = np.bincount(g, minlength=groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(g, weights=whole_fen(cost), minlength=groups) / 100 / n
        deviation = cost - mean[g]
        spread = np.sqrt(np.bincount(g, weights=deviation * deviation, minlength=groups) / n)
    return pl.DataFrame({"n": n, "cv": spread / mean}).with_columns(pl.col("cv").fill_nan(None))


def _groups(catalog: pl.DataFrame, cases: pl.DataFrame) -> pl.DataFrame:
    """Per catalog group (row g): base points, benchmark cost, stable or not."""
    n = pl.col("n")
    return (
        pl.concat(
            [
                catalog.select(
                    base_points=pl.col("weight") * POINTS_PER_WEIGHT, benchmark=pl.col("avg_cost")
                ),
                _cost_cv(cases, catalog.height),
            ],
            how="horizontal",
        )
        .lazy()
        .select(
            "base_points",
            "benchmark",
            stable=(
                ((n >= LARGE_NUMBER_CASES) | (n > MIN_STABLE_CASES)) & (pl.col("cv") <= CV_LIMIT)
            ).fill_null(False),
        )
        .collect()
    )


def _coefficients(hospitals: pl.DataFrame) -> pl.DataFrame:
    """The 2024 coefficient of each hospital (row h), from the hospitals' history (cost per
    weight of the hospital, its level and the city), or the filed coefficient where one is
    given — a new or no-history hospital's not below the lowest in force at its level."""
    column = {c: pl.col(c) for c in ("is_new", "hist_avg_cost", "hist_cases", "hist_weight_total")}
    no_history = (
        column["is_new"]
        | (column["hist_cases"] == 0)
        | (column["hist_avg_cost"] == 0)
        | (column["hist_weight_total"] == 0)
    )
    total = column["hist_avg_cost"] * column["hist_cases"]
    with_history = ~pl.col("no_history")
    cost_sum, weight_sum = (
        pl.col("hist_total").filter(with_history).sum(),
        pl.col("hist_weight_total").filter(with_history).sum(),
    )
    filed = pl.col("filed_coefficient") if "filed_coefficient" in hospitals.columns else pl.lit(0.0)
    kind = pl.col("hospital_type") if "hospital_type" in hospitals.columns else pl.lit("")
    combined = pl.col("level_coefficient") * LEVEL_SHARE + pl.col("cost_coefficient") * COST_SHARE
    eighty = pl.col("level_coefficient") * NEW_HOSPITAL_SHARE
    return (
        hospitals.lazy()
        .select(
            "hospital_id",
            pl.col("name").alias("hospital_name"),
            "level",
            "tier",
            "hist_weight_total",
            no_history=no_history,
            hist_total=total,
            filed=filed.fill_null(0.0),
            general=kind.fill_null("").is_in(["综合", ""]),
        )
        .with_columns(
            city=div(cost_sum, weight_sum), level_cpw=div(cost_sum, weight_sum).over("level")
        )
        .with_columns(
            level_coefficient=div(pl.col("level_cpw"), pl.col("city")),
            cost_coefficient=pl.when(pl.col("no_history"))
            .then(0.0)
            .otherwise(div(div(pl.col("hist_total"), pl.col("hist_weight_total")), pl.col("city"))),
        )
        .with_columns(combined=combined)
        .with_columns(
            level_min=pl.when(pl.col("filed") > 0)
            .then("filed")
            .otherwise("combined")
            .filter(with_history)
            .min()
            .over("level")
        )
        .with_columns(
            measured=pl.when(pl.col("no_history"))
            .then(pl.max_horizontal(eighty, "level_min"))
            .otherwise("combined")
        )
        .with_columns(
            hospital_coefficient=pl.when((pl.col("filed") > 0) & pl.col("no_history"))
            .then(pl.max_horizontal("filed", "level_min"))
            .when(pl.col("filed") > 0)
            .then("filed")
            .otherwise("measured"),
            coefficient_gap=pl.when(pl.col("filed") > 0)
            .then(pl.col("filed") - pl.col("measured"))
            .otherwise(0.0),
        )
        .select(
            "hospital_id",
            "hospital_name",
            "level",
            "tier",
            "general",
            "hospital_coefficient",
            "coefficient_gap",
        )
        .collect()
    )


def _kept_incentives(cases: pl.DataFrame) -> pl.Series:
    """Whether each case is an approved grouped incentive case whose incentive points exceed its
    group points times the coefficient it would have without them, within its hospital's quota
    (highest incentive points first, ties by case id).
    Only the candidates (a few per thousand) are sorted; the quota is a count per hospital."""
    candidate = (
        pl.col("incentive_approved")
        & ~pl.col("ungrouped")
        & (pl.col("incentive_points") > pl.col("group_settled"))
    )
    drg_cases = (
        cases.lazy()
        .filter(~pl.col("ungrouped"))
        .group_by("h")
        .agg(drg_cases=pl.len(), level=pl.col("level").first())
        .with_columns(
            quota=(
                pl.col("level").replace_strict(INCENTIVE_SHARE, default=None) * pl.col("drg_cases")
            ).floor()
        )
        .select("h", "quota")
    )
    kept = (
        cases.lazy()
        .with_row_index("row")
        .filter(candidate)
        .select("row", "h", "incentive_points", "case_id")
        .sort("h", "incentive_points", "case_id", descending=[False, True, False], nulls_last=True)
        .with_columns(rank=pl.int_range(1, pl.len() + 1).over("h"))
        .join(drg_cases, on="h", how="left")
        .filter(pl.col("rank") <= pl.col("quota"))
        .select("row")
        .collect()["row"]
    )
    mask = np.zeros(cases.height, dtype=bool)
    mask[kept.to_numpy()] = True
    return pl.Series("kept", mask)


def _category(name: str) -> pl.Expr:
    return pl.lit(name, dtype=CATEGORY)


def _case_points(
    cases: pl.DataFrame, groups: pl.DataFrame, hospitals: pl.DataFrame
) -> pl.DataFrame:
    """Category, class points, adjustments, coefficient and settled points of every case: one
    lazy query (per-group and per-hospital values gathered by the integer codes), plus the
    incentive quota over the few candidates."""
    g, h = pl.col("g"), pl.col("h")
    cost, unreasonable = pl.col("total_cost"), pl.col("unreasonable_cost")
    base, ratio, k = pl.col("base_points"), pl.col("cost_ratio"), pl.col("k")
    all_avg_cost = grouped_mean_cost(cases)
    inverse_avg = 1.0 / all_avg_cost if all_avg_cost else None
    by_cost = cost * inverse_avg * POINTS_PER_WEIGHT
    reasonable = (cost - unreasonable) * inverse_avg * POINTS_PER_WEIGHT
    level = pl.col("level")
    low = ((level <= 1) & at_most(ratio, LOW_RATIO_GRASSROOTS)) | (
        (level >= 2) & at_most(ratio, LOW_RATIO_STANDARD)
    )
    category = (
        pl.when(pl.col("special_review"))
        .then(_category("special"))
        .when(pl.col("ungrouped"))
        .then(_category("ungrouped"))
        .when(~pl.col("stable"))
        .then(_category("unstable"))
        .when(ratio >= k)
        .then(_category("high"))
        .when(low)
        .then(_category("low"))
        .otherwise(_category("normal"))
    )
    kind = pl.col("category")
    class_points = (
        pl.when(kind == "special")
        .then(pl.col("incentive_points"))
        .when(kind.is_in(["ungrouped", "unstable"]))
        .then(by_cost)
        .when(kind == "high")
        .then(base + (ratio - k) * base)
        .when(kind == "low")
        .then(base * ratio)
        .when(kind == "normal")
        .then(base)
    )
    by_base = kind.is_in(BY_BASE)
    bilateral = pl.col("bilateral") & by_base
    multi_site = pl.col("multi_site") & (pl.col("secondary_drg") != "") & by_base
    points = (
        pl.when(bilateral)
        .then(pl.max_horizontal(class_points, base * BILATERAL))
        .otherwise(class_points)
    )
    secondary = (pl.lit(groups["base_points"]).gather(pl.col("sec")) * SECONDARY_SHARE).fill_null(
        0.0
    )
    points = pl.when(multi_site).then(pl.max_horizontal(points, base + secondary)).otherwise(points)
    frame = (
        cases.lazy()
        .with_columns(
            base_points=pl.lit(groups["base_points"]).gather(g),
            stable=pl.lit(groups["stable"]).gather(g),
            cost_ratio=div(cost, pl.lit(groups["benchmark"]).gather(g)),
            hospital_coefficient=pl.lit(hospitals["hospital_coefficient"]).gather(h),
            incentive_points=reasonable,
        )
        .with_columns(k=high_ratio_k(base))
        .with_columns(category=category)
        .with_columns(points=points)
        .with_columns(
            group_settled=pl.col("points")
            * pl.when(kind.is_in(BY_COST)).then(1.0).otherwise("hospital_coefficient")
        )
        .collect()
    )
    kept = pl.lit(_kept_incentives(frame))
    return (
        frame.lazy()
        .select(
            "case_id",
            "hospital_id",
            "h",
            "drg_code",
            "month",
            "total_cost",
            "patient_paid",
            "category",
            "base_points",
            # a kept incentive case (its incentive points above its group points times its
            # coefficient) is settled at its incentive points, with coefficient 1
            case_points=pl.when(kept).then("incentive_points").otherwise("points"),
            # a kept incentive case is paid by its cost too
            coefficient=pl.when(kind.is_in(BY_COST) | kept)
            .then(1.0)
            .otherwise("hospital_coefficient"),
        )
        .with_columns(settled_points=pl.col("case_points") * pl.col("coefficient"))
        .collect()
    )


def _allocate(weights: np.ndarray, weight_sum: float, payable: float | None) -> pl.Series:
    """Payments in fen: the payable total split by `weights` (the settled points, a missing
    one 0; `weight_sum` their sum), exact to the fen (floors, then one fen each to the largest
    remainders, ties to the earlier case). The fen left over are found by a selection (numpy's
    partition), not a sort of every case."""
    if payable is None or weight_sum <= 0:
        return pl.Series("payment", np.zeros(len(weights), dtype=np.int64))
    total = round_half_away(payable * 100)
    share = float(total) * weights / weight_sum
    floor = np.floor(share)
    fen = floor.astype(np.int64)
    left_over = total - int(fen.sum())
    if left_over > 0:
        # remainders on steps of 2⁻²⁴ fen: equal in exact arithmetic, equal here (ties to the
        # earlier case), whatever the last bits of the division
        remainder = -np.floor((floor - share) * 2.0**24 + 0.5)
        fen[largest_first(remainder, left_over)] += 1
    return pl.Series("payment", fen)


def largest_first(values: np.ndarray, count: int) -> np.ndarray:
    """The positions of the `count` largest values, ties to the earlier position (as a stable
    sort, descending, would take them) — in linear time."""
    if count <= 0:
        return np.arange(0)
    if count >= len(values):
        return np.arange(len(values))
    cut = np.partition(values, len(values) - count)[len(values) - count]  # the count-th largest
    above = np.flatnonzero(values > cut)
    at = np.flatnonzero(values == cut)[: count - len(above)]
    return np.concatenate([above, at])


def _hospital_reports(hospitals: pl.DataFrame, points: pl.DataFrame) -> pl.DataFrame:
    """The reports per hospital: cases paid, the coefficient, the filed − measured gap, cost per
    point, and the horse-race rank of cost per point (lowest first) among the general hospitals
    (type 综合, or none given) of each level 2+."""
    # per hospital (row h) in case order, the same bits on every run (cost as whole fen)
    h, size = points["h"].to_numpy(), hospitals.height
    fen = whole_fen(points["total_cost"].to_numpy())
    per_hospital = pl.DataFrame(
        {
            "cases_paid": np.bincount(h, minlength=size).astype(np.float64),
            "cost": np.bincount(h, weights=fen, minlength=size) / 100,
            "points": np.bincount(h, weights=points["case_points"].fill_null(0.0), minlength=size),
        }
    )
    reports = (
        pl.concat([hospitals.with_row_index("h"), per_hospital], how="horizontal")
        .with_columns(cost_per_point=div(pl.col("cost"), pl.col("points")))
        .rename({"hospital_coefficient": "hospital_coefficient_used"})
    )
    race = (
        reports.filter((pl.col("level") >= 2) & pl.col("general"))
        .sort("level", "cost_per_point", "hospital_id", nulls_last=True)
        .select("h", horse_race_rank=pl.int_range(1, pl.len() + 1).over("level").cast(pl.Float64))
    )
    return reports.join(race, on="h", how="left", maintain_order="left").select(
        "hospital_id",
        "hospital_name",
        "level",
        "tier",
        "cases_paid",
        "hospital_coefficient_used",
        "coefficient_gap",
        "cost_per_point",
        "horse_race_rank",
    )


# ---- statements (written with the outputs) ---------------------------------------------------


def _category_counts() -> list[pl.Expr]:
    return [(pl.col("category") == c).sum().alias(f"cases_{c}") for c in CLASSES]


def _totals() -> list[pl.Expr]:
    return [
        pl.len().alias("cases"),
        pl.col("total_cost").sum(),
        pl.col("settled_points").implode().list.sum(),  # in case order: the same bits every run
        pl.col("payment").sum(),
        pl.col("patient_paid").sum(),
        pl.col("fund_payment").sum(),
        *_category_counts(),
    ]


def hospital_statement(result: Result) -> pl.DataFrame:
    """Per hospital: cases, cost, points, payment, cases per category, then the reports."""
    totals = result.cases.group_by("hospital_id").agg(_totals())
    reports = result.reports
    return (
        reports.select("hospital_id", "hospital_name", "level", "tier")
        .join(totals, on="hospital_id", how="left", maintain_order="left")
        .with_columns(
            pl.col("cases", "payment", "patient_paid", "fund_payment", "total_cost").fill_null(0)
        )
        .join(
            reports.drop("hospital_name", "level", "tier"),
            on="hospital_id",
            how="left",
            maintain_order="left",
        )
    )


def period_summary(result: Result) -> pl.DataFrame:
    return result.cases.select(_totals()).with_columns(
        period=pl.lit(result.period),
        point_value=pl.lit(result.point_value, dtype=pl.Float64),
        budget=pl.lit(result.budget_fen, dtype=pl.Int64),
        total_points=pl.lit(result.total_points, dtype=pl.Float64),
    )


# ---- files ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stamp:
    """The policy a result was settled under (written into the manifest)."""

    city: str = "xuancheng"
    version: str = "2024"
    hash: str = ""


MONEY = ("payment", "patient_paid", "fund_payment", "total_cost", "budget")


def _written(frame: pl.DataFrame) -> pl.DataFrame:
    """Money (integer fen) as exact decimal amounts, categories as text."""
    columns = []
    for name, dtype in frame.schema.items():
        if name in MONEY:
            columns.append(fen_text(pl.col(name)).alias(name))
        elif isinstance(dtype, pl.Enum):
            columns.append(pl.col(name).cast(pl.String))
        else:
            columns.append(pl.col(name))
    return frame.select(columns)


def _write(frame: pl.DataFrame, path: Path) -> None:
    """CSV or Parquet (snappy), as the suffix says."""
    if path.suffix == ".parquet":
        _written(frame).write_parquet(path, compression="snappy")
    else:
        _written(frame).write_csv(path, float_precision=None)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def write_outputs(result: Result, out: Path, stamp: Stamp, fmt: str = "csv") -> dict[str, Any]:
    """Write rejects, settlement/{cases,hospitals,summary} (`fmt`: csv or parquet) and
    manifest.json."""
    stage = out / "settlement"
    stage.mkdir(parents=True, exist_ok=True)
    files = {
        f"rejects.{fmt}": result.rejects,
        f"settlement/cases.{fmt}": result.cases,
        f"settlement/hospitals.{fmt}": hospital_statement(result).with_columns(
            pl.col("cases_paid", "horse_race_rank").round().cast(pl.Int64)  # counts
        ),
        f"settlement/summary.{fmt}": period_summary(result),
    }
    for name, frame in files.items():
        _write(frame, out / name)
    outputs = ["base_points", "case_points", "coefficient", "settled_points", "payment"]
    missing = result.cases.select(pl.col(outputs).null_count()).row(0, named=True)
    manifest = {
        "policy": {"city": stamp.city, "version": stamp.version, "hash": stamp.hash},
        "period": result.period,
        "rows": result.rows,
        "missing_outputs": {k: v for k, v in missing.items() if v},
        "outputs": {name: _sha256(out / name) for name in sorted(files)},
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return manifest

"""Xuancheng 2024 settled by hand in DuckDB SQL: the floor a DuckDB plan sets (issue 14).

What an engineer fluent in DuckDB would write for this one policy, Parquet in and Parquet out,
to learn how fast *any* DuckDB plan can settle 100 million cases on this machine (the engine's
lowering, `engine/plan/sql/`, is measured against it). It mirrors the hand-written polars plan
(`bench/handwritten.py`) stage by stage and reuses its rules and its small-table steps; only the
per-case work runs in DuckDB, in as few passes over the cases as the rules allow:

1. one scan of the cases' Parquet (seven of its columns): per group its case count and CV, per
   hospital its DRG cases and its incentive candidates (a list, a few per thousand), the mean
   cost of the grouped cases — one `GROUP BY GROUPING SETS`;
2. in Python, on those small results: the groups' base points and stability, the hospitals'
   coefficients (`handwritten._coefficients`); the candidates' group points by the same SQL as
   the next scan (a candidate counts only where its incentive points exceed them), then each
   hospital's last kept incentive case (its points and case id: "kept" is then a comparison in
   the next scan, not a rank);
3. one scan of the cases joined to the small tables (602 groups, 300 hospitals) computing
   category, points, coefficient and settled points into the table `settled` of the run's own
   database file (on disk, compressed: in the spill folder);
4. the budget split to the fen as the engine splits it (`engine.plan.sql.allocation`): the
   remainders counted in buckets (a GROUP BY), the last fen-taker of the bucket across the cut
   read back (ORDER BY … LIMIT 1 OFFSET), then each case's fen is a comparison;
5. the per-case file by `COPY (… ORDER BY case_id) TO … (FORMAT parquet)`, as the engine orders
   it; the hospital statement and summary from one GROUP BY, their 300 rows finished in polars.

`--plan floor` instead measures the I/O floor: read the cases, compute one value per case
(the cost in fen), write a per-case file ordered by case id — no settlement at all.
`--plan floor-unsorted` is the same without the ORDER BY (the cases in the order read).

    .venv/bin/python bench/handwritten_duckdb.py --data /tmp/drgpolicy-bench/backends-10000000 \\
        --out /tmp/hand-10m --limit 4GB --json hand-10m.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: `bench` is a package of the repository
    sys.path.insert(0, str(ROOT))

from bench import handwritten  # noqa: E402
from bench.backends_bench import Largest  # noqa: E402
from engine.inputs.contract import UNGROUPED_CODES  # noqa: E402


def connect(database: Path, limit: str, threads: int, spill: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB database file of the run's own (its tables compressed on disk), with the memory
    limit, the threads and the spill folder given."""
    con = duckdb.connect(str(database))
    con.execute(f"SET memory_limit = '{limit}'")
    con.execute(f"SET threads = {threads}")
    con.execute(f"SET temp_directory = '{spill}'")
    return con


def floor(con: duckdb.DuckDBPyConnection, data: Path, out: Path, ordered: bool) -> None:
    """The I/O floor: every case read, one value computed (its cost in fen), a per-case file
    written — ordered by case id when `ordered`."""
    order = "ORDER BY case_id" if ordered else ""
    out.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"""COPY (
            SELECT case_id, CAST(round(total_cost * 100) AS BIGINT) AS total_cost
            FROM read_parquet('{data / "cases.parquet"}') {order}
        ) TO '{out / "cases.parquet"}' (FORMAT parquet, COMPRESSION snappy)"""
    )


# ---- settlement ----------------------------------------------------------------------------

#: Each class's code in the cases table (an ENUM, written as its text).
CLASSES = handwritten.CLASSES
#: Decimals a double is written with (`engine.run.decimals.DECIMALS`: points and ratios 4, the
#: point value 6), rounded as the engine writes it: `round(x × 10ᵈ) / 10ᵈ`.
POINTS_DECIMALS, VALUE_DECIMALS = 4, 6
#: Remainder steps (`engine.plan.money.REMAINDER_STEPS`) and steps per bucket of the split.
STEPS, BUCKET = 2.0**24, 2.0**12


def double(value: float | None) -> str:
    """A double as SQL, exactly (its shortest repr read back by DuckDB's parser)."""
    return "CAST(NULL AS DOUBLE)" if value is None else f"CAST('{value!r}' AS DOUBLE)"


def fen(yuan: str) -> str:
    """Whole fen by the money rule: half away from zero after the 1e-14 tolerance."""
    magnitude = f"floor(abs({yuan}) * 100.0 * {double(1 + handwritten.TOLERANCE)} + 0.5)"
    return f"CAST(CASE WHEN {yuan} < 0 THEN -{magnitude} ELSE {magnitude} END AS BIGINT)"


def money(fen_value: str) -> str:
    """Fen as the 2-decimal DECIMAL(38, 2) the engine writes."""
    return f"CAST({fen_value} AS DECIMAL(38, 0)) * CAST('0.01' AS DECIMAL(3, 2))"


def shown(value: str, digits: int = POINTS_DECIMALS) -> str:
    """A double rounded as written (`engine.run.case_file.polars_round`)."""
    scale = double(10.0**digits)
    rounded = f"round({value} * {scale}) / {scale}"
    return f"CASE WHEN isfinite({rounded}) THEN {rounded} ELSE {value} END"


def frame_table(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """A small polars frame as a table of the database (its rows as literals: no pyarrow)."""
    types = {pl.Float64: "DOUBLE", pl.Int64: "BIGINT", pl.UInt32: "BIGINT", pl.Boolean: "BOOLEAN"}
    columns = ", ".join(
        f"{c} {types.get(t.base_type(), 'VARCHAR')}" for c, t in frame.schema.items()
    )
    con.execute(f"CREATE OR REPLACE TABLE {name} ({columns})")
    if frame.height:
        marks = ", ".join("?" for _ in frame.columns)
        con.executemany(f"INSERT INTO {name} VALUES ({marks})", frame.rows())


def scan_cases(data: Path) -> str:
    return f"read_parquet('{data / 'cases.parquet'}')"


def first_pass(con: duckdb.DuckDBPyConnection, data: Path, year: int) -> dict[str, Any]:
    """One scan of the cases: per group its count and CV, per hospital its DRG cases and its
    incentive candidates, the grouped cases' mean cost."""
    ungrouped = ", ".join(f"'{code}'" for code in UNGROUPED_CODES)
    rows = con.execute(
        f"""
        WITH c AS (
            SELECT case_id, hospital_id, drg_code, total_cost, unreasonable_cost,
                   bilateral, multi_site, secondary_drg, special_review,
                   incentive_approved, drg_code IN ({ungrouped}) AS ungrouped
            FROM {scan_cases(data)} WHERE year(discharge_date) = {year}
        )
        SELECT GROUPING(drg_code) AS by_hospital, GROUPING(hospital_id) AS by_group,
               drg_code, hospital_id, count(*) AS n,
               stddev_pop(total_cost) / avg(total_cost) AS cv,
               count(*) FILTER (WHERE NOT ungrouped) AS drg_cases,
               fsum(total_cost) FILTER (WHERE NOT ungrouped) AS grouped_cost,
               list(struct_pack(case_id, hospital_id, drg_code, total_cost, unreasonable_cost,
                                bilateral, multi_site, secondary_drg, special_review,
                                incentive_approved))
                   FILTER (WHERE incentive_approved AND NOT ungrouped) AS candidates
        FROM c GROUP BY GROUPING SETS ((drg_code), (hospital_id), ())
        """
    ).fetchall()
    groups = {r[2]: (r[4], r[5]) for r in rows if r[0] == 0}
    hospitals = {r[3]: (r[6], r[8] or []) for r in rows if r[1] == 0 and r[0] == 1}
    total = next(r for r in rows if r[0] == 1 and r[1] == 1)
    return {
        "groups": groups,
        "hospitals": hospitals,
        "cases": total[4],
        "grouped": (total[6], total[7]),
    }


def small_tables(con: duckdb.DuckDBPyConnection, data: Path, found: dict[str, Any]) -> float | None:
    """The groups (`gr`), the no-CC groups of each ADRG (`sec`) and the hospitals (`ho`, with
    their coefficient and the last incentive case each keeps) as tables; the inverse of the
    grouped cases' mean cost (None when there is none)."""
    catalog = pl.read_parquet(data / "groups.parquet").sort("drg_code")
    stats = pl.DataFrame(
        [(code, n, cv) for code, (n, cv) in found["groups"].items()],
        schema={"drg_code": pl.String, "n": pl.Int64, "cv": pl.Float64},
        orient="row",
    )
    n = pl.col("n").fill_null(0)
    base = pl.col("weight") * handwritten.POINTS_PER_WEIGHT
    groups = catalog.join(stats, on="drg_code", how="left", maintain_order="left").select(
        "drg_code",
        base_points=base,
        inverse_benchmark=pl.when(pl.col("avg_cost") != 0).then(1.0 / pl.col("avg_cost")),
        stable=(
            ((n >= handwritten.LARGE_NUMBER_CASES) | (n > handwritten.MIN_STABLE_CASES))
            & (pl.col("cv") <= handwritten.CV_LIMIT)
        ).fill_null(False),
        k=handwritten.high_ratio_k(base),
    )
    frame_table(con, "gr", groups)
    no_cc = handwritten.no_cc_groups(catalog["drg_code"]).join(
        groups.select(
            no_cc="drg_code", secondary=pl.col("base_points") * handwritten.SECONDARY_SHARE
        ),
        on="no_cc",
    )
    frame_table(con, "sec", no_cc.select("adrg", "secondary"))
    count, cost = found["grouped"]
    inverse = 1.0 / (cost / count) if count and cost else None
    hospitals = handwritten._coefficients(
        pl.read_parquet(data / "hospitals.parquet").sort("hospital_id")
    ).with_row_index("h")
    table = hospitals.select(
        "hospital_id", pl.col("h").cast(pl.Int64), "level", "hospital_coefficient"
    )
    frame_table(con, "ho", table)
    enum = ", ".join(f"'{c}'" for c in CLASSES)
    con.execute(f"CREATE TYPE category AS ENUM ({enum})")
    gaining = gaining_candidates(con, found["hospitals"], inverse)
    kept = [
        (hospital, *last_kept(gaining.get(hospital, []), quota(level, drg_cases)))
        for hospital, level in hospitals.select("hospital_id", "level").iter_rows()
        for drg_cases, _ in [found["hospitals"].get(hospital, (0, []))]
    ]
    cuts = pl.DataFrame(
        kept,
        schema={"hospital_id": pl.String, "cut_points": pl.Float64, "cut_case": pl.String},
        orient="row",
    )
    frame_table(con, "ho", table.join(cuts, on="hospital_id", maintain_order="left"))
    return inverse


#: The columns of a case the points read (`points_ctes`), with their types.
CANDIDATE_COLUMNS = {
    "case_id": pl.String,
    "hospital_id": pl.String,
    "drg_code": pl.String,
    "total_cost": pl.Float64,
    "unreasonable_cost": pl.Float64,
    "bilateral": pl.Boolean,
    "multi_site": pl.Boolean,
    "secondary_drg": pl.String,
    "special_review": pl.Boolean,
    "incentive_approved": pl.Boolean,
}


def gaining_candidates(
    con: duckdb.DuckDBPyConnection,
    per_hospital: dict[str, tuple[int, list[dict[str, Any]]]],
    inverse: float | None,
) -> dict[str, list[tuple[float, str]]]:
    """Per hospital, the incentive points and case id of each candidate whose incentive points
    exceed its group points times the coefficient it would have without the incentive — those
    points computed by the second pass's own SQL (`points_ctes`) over the few candidates."""
    rows = [c for _, candidates in per_hospital.values() for c in candidates]
    if not rows or inverse is None:
        return {}
    frame_table(con, "cand", pl.DataFrame(rows, schema=CANDIDATE_COLUMNS, orient="row"))
    found: dict[str, list[tuple[float, str]]] = {}
    for hospital, points, case_id in con.execute(
        f"""WITH {points_ctes("cand", inverse)}
        SELECT hospital_id, reasonable, case_id FROM compared
        WHERE candidate AND reasonable > group_settled"""
    ).fetchall():
        found.setdefault(hospital, []).append((points, case_id))
    return found


def quota(level: int, drg_cases: int) -> int:
    """2024: 4‰ / 6‰ of the hospital's DRG cases, rounded down."""
    return math.floor(handwritten.INCENTIVE_SHARE[level] * drg_cases)


def last_kept(ranked: list[tuple[float, str]], quota: int) -> tuple[float | None, str | None]:
    """The incentive points and case id of the last candidate the hospital keeps (highest points
    first, ties by case id), or none kept."""
    if quota <= 0 or not ranked:
        return None, None
    ranked = sorted(ranked, key=lambda pc: (-pc[0], pc[1]))
    return ranked[min(quota, len(ranked)) - 1]


def points_ctes(source: str, inverse: float | None) -> str:
    """The CTEs `c`, `classed`, `pointed`, `adjusted` and `compared` over the cases of `source`
    (a table or a subquery with `CANDIDATE_COLUMNS`): each case's category, class points and
    group points (`points`, after the bilateral and multi-site steps, before the incentive),
    those times the coefficient it would have without the incentive (`group_settled`), its
    incentive points (`reasonable`) and whether it is an approved grouped case (`candidate`)."""
    ungrouped = ", ".join(f"'{code}'" for code in UNGROUPED_CODES)
    tolerance = 1 + handwritten.TOLERANCE
    grassroots = double(handwritten.LOW_RATIO_GRASSROOTS * tolerance)
    standard = double(handwritten.LOW_RATIO_STANDARD * tolerance)
    inv, per_weight = double(inverse), double(handwritten.POINTS_PER_WEIGHT)
    return f"""c AS (
            SELECT c.*, c.drg_code IN ({ungrouped}) AS ungrouped,
                   c.incentive_approved AND NOT ungrouped AS candidate,
                   ho.* EXCLUDE (hospital_id),
                   gr.base_points, gr.stable, gr.k, sec.secondary,
                   c.total_cost * gr.inverse_benchmark AS ratio,
                   c.total_cost * {inv} * {per_weight} AS by_cost,
                   (c.total_cost - c.unreasonable_cost) * {inv} * {per_weight} AS reasonable
            FROM {source} c
            JOIN ho ON c.hospital_id = ho.hospital_id
            LEFT JOIN gr ON c.drg_code = gr.drg_code
            LEFT JOIN sec ON substr(c.secondary_drg, 1, 3) = sec.adrg
        ), classed AS (
            SELECT *,
                CAST(CASE
                    WHEN special_review THEN 'special'
                    WHEN ungrouped THEN 'ungrouped'
                    WHEN NOT stable THEN 'unstable'
                    WHEN ratio >= k THEN 'high'
                    WHEN (level <= 1 AND ratio <= {grassroots})
                      OR (level >= 2 AND ratio <= {standard}) THEN 'low'
                    ELSE 'normal' END AS category) AS category
            FROM c
        ), pointed AS (
            SELECT *, CASE category
                    WHEN 'special' THEN reasonable
                    WHEN 'ungrouped' THEN by_cost
                    WHEN 'unstable' THEN by_cost
                    WHEN 'high' THEN base_points + (ratio - k) * base_points
                    WHEN 'low' THEN base_points * ratio
                    WHEN 'normal' THEN base_points END AS class_points,
                category IN ('normal', 'high', 'low') AS by_base
            FROM classed
        ), doubled AS (
            SELECT *, CASE WHEN bilateral AND by_base
                    THEN greatest(class_points, base_points * {double(handwritten.BILATERAL)})
                    ELSE class_points END AS bilateral_points
            FROM pointed
        ), adjusted AS (
            SELECT *, CASE WHEN multi_site AND secondary_drg != '' AND by_base
                    THEN greatest(bilateral_points, base_points + coalesce(secondary, 0.0))
                    ELSE bilateral_points END AS points
            FROM doubled
        ), compared AS (
            SELECT *, points * CASE WHEN category IN ('special', 'ungrouped', 'unstable')
                    THEN 1.0 ELSE hospital_coefficient END AS group_settled
            FROM adjusted
        )"""


def second_pass(
    con: duckdb.DuckDBPyConnection, data: Path, year: int, inverse: float | None
) -> None:
    """The second scan: every case's category, points, coefficient and settled points, into
    the table `settled` of the run's database file."""
    columns = ", ".join([*CANDIDATE_COLUMNS, "discharge_date", "patient_paid"])
    cases = f"(SELECT {columns} FROM {scan_cases(data)} WHERE year(discharge_date) = {year})"
    con.execute(
        f"""
        CREATE TABLE settled AS
        WITH {points_ctes(cases, inverse)}, kept AS (
            SELECT *, candidate AND reasonable > group_settled AND (reasonable > cut_points
                    OR (reasonable = cut_points AND case_id <= cut_case)) AS kept
            FROM compared
        ), final AS (
            SELECT *,
                CASE WHEN kept THEN reasonable ELSE points END AS case_points,
                CASE WHEN category IN ('special', 'ungrouped', 'unstable') OR kept THEN 1.0
                    ELSE hospital_coefficient END AS coefficient
            FROM kept
        )
        SELECT case_id, hospital_id, drg_code, strftime(discharge_date, '%Y-%m') AS month, h,
               category, base_points, case_points, coefficient,
               case_points * coefficient AS settled_points,
               {fen("patient_paid")} AS patient_paid, {fen("total_cost")} AS total_cost,
               total_cost AS cost
        FROM final
        """
    )


def allocation(con: duckdb.DuckDBPyConnection, total: int, weight_sum: float) -> str:
    """The view `paid`: the settled cases with their payment in fen, the budget `total` split
    by settled points to the fen (floors, then one fen each to the largest remainders, ties to
    the smaller case id) — the remainders counted in buckets, the cut found without a sort of
    every case (`engine.plan.sql.allocation`). Returns the SQL of a case's extra fen."""
    share = f"CAST({total} AS DOUBLE) * coalesce(settled_points, 0.0) / {double(weight_sum)}"
    con.execute(
        f"""CREATE VIEW shares AS
        SELECT *, CAST(fl AS BIGINT) AS floored,
               -floor((fl - share) * {double(STEPS)} + 0.5) AS remainder,
               floor(-floor((fl - share) * {double(STEPS)} + 0.5) * {double(1 / BUCKET)}) AS bucket
        FROM (SELECT *, floor(share) AS fl FROM (SELECT *, {share} AS share FROM settled))"""
    )
    counts = con.execute(
        "SELECT bucket, count(*), sum(floored) FROM shares GROUP BY bucket ORDER BY bucket DESC"
    ).fetchall()
    rows = sum(count for _, count, _ in counts)
    left = total - sum(int(floors) for _, _, floors in counts)
    if left <= 0:
        return "0"
    if left >= rows:
        return "1"
    bucket, within, count = cut_bucket(counts, left)
    if within == count:
        return f"CASE WHEN bucket >= {double(bucket)} THEN 1 ELSE 0 END"
    remainder, case_id = con.execute(
        f"""SELECT remainder, case_id FROM shares WHERE bucket = {double(bucket)}
        ORDER BY remainder DESC, case_id LIMIT 1 OFFSET {within - 1}"""
    ).fetchone() or (None, None)
    last, at_cut = double(remainder), double(bucket)
    at = f"remainder > {last} OR (remainder = {last} AND case_id <= '{case_id}')"
    return f"CASE WHEN bucket > {at_cut} OR (bucket = {at_cut} AND ({at})) THEN 1 ELSE 0 END"


def cut_bucket(counts: list[tuple[Any, ...]], left: int) -> tuple[float, int, int]:
    """The bucket (largest remainders first) holding the `left`-th fen taker, how many of its
    rows take one, and how many rows it holds."""
    before = 0
    for bucket, count, _ in counts:
        if before + count >= left:
            return bucket, left - before, count
        before += count
    raise AssertionError("fewer cases than fen left over")  # `left < rows` checked first


class Clock:
    """Seconds per stage, printed to stderr as each ends: where a run's time goes."""

    def __init__(self) -> None:
        self.last = time.perf_counter()

    def done(self, stage: str) -> None:
        now = time.perf_counter()
        print(f"{now - self.last:7.1f} s  {stage}", file=sys.stderr, flush=True)
        self.last = now


def settle(con: duckdb.DuckDBPyConnection, data: Path, out: Path, year: int = 2024) -> None:
    """Xuancheng 2024 over the year's cases: `settlement/cases.parquet` (by case id),
    `settlement/hospitals.parquet` and `settlement/summary.parquet` in `out`."""
    clock = Clock()
    found = first_pass(con, data, year)
    clock.done("first pass (group and hospital counts, incentive candidates)")
    inverse = small_tables(con, data, found)
    clock.done("small tables (groups, coefficients, incentive cuts)")
    second_pass(con, data, year, inverse)
    clock.done("second pass (category, points, settled points: the table `settled`)")
    budget = yaml.safe_load((data / "budget.yaml").read_text(encoding="utf-8"))
    period_fund = float(budget["values"]["drg_fund"]) * handwritten.MONTHS_PER_YEAR * (1.0 / 12)
    row = con.execute("SELECT fsum(settled_points) FROM settled").fetchone()
    total_points = float(row[0] or 0.0) if row else 0.0
    point_value = handwritten.div_float(period_fund, total_points)
    if point_value is None or total_points <= 0:
        total, extra = 0, "0"
        con.execute("CREATE VIEW shares AS SELECT *, 0 AS floored FROM settled")
    else:
        total = handwritten.round_half_away(total_points * point_value * 100)
        extra = allocation(con, total, total_points)
    con.execute(f"CREATE VIEW paid AS SELECT *, floored + {extra} AS payment FROM shares")
    clock.done("the split (total points, remainder buckets, the cut)")
    stage = out / "settlement"
    stage.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"""COPY (
            SELECT case_id, hospital_id, drg_code, month, CAST(category AS VARCHAR) AS category,
                   {shown("base_points")} AS base_points, {shown("case_points")} AS case_points,
                   {shown("coefficient")} AS coefficient,
                   {shown("settled_points")} AS settled_points,
                   {shown(double(point_value), VALUE_DECIMALS)} AS point_value,
                   {money("payment")} AS payment, {money("patient_paid")} AS patient_paid,
                   {money("payment - patient_paid")} AS fund_payment,
                   {money("total_cost")} AS total_cost
            FROM paid ORDER BY case_id
        ) TO '{stage / "cases.parquet"}' (FORMAT parquet, COMPRESSION snappy)"""
    )
    clock.done("settlement/cases.parquet (ORDER BY case_id)")
    statements(
        con,
        data,
        stage,
        str(year),
        point_value,
        total_points,
        handwritten.round_half_away(period_fund * 100),
    )
    clock.done("hospital statement and summary")


def statements(
    con: duckdb.DuckDBPyConnection,
    data: Path,
    stage: Path,
    period: str,
    point_value: float | None,
    total_points: float,
    budget_fen: int,
) -> None:
    """The hospital statement and the period summary (`handwritten.hospital_statement`,
    `period_summary`): sums per hospital in DuckDB, the 300 rows finished in polars."""
    counts = ", ".join(f"count(*) FILTER (WHERE category = '{c}') AS cases_{c}" for c in CLASSES)
    sums = con.execute(
        f"""SELECT h, count(*) AS cases, sum(total_cost) AS total_cost,
               fsum(settled_points) AS settled_points, sum(payment) AS payment,
               sum(patient_paid) AS patient_paid, {counts},
               fsum(cost) AS cost, fsum(case_points) AS points
        FROM paid GROUP BY h"""
    )
    names = [d[0] for d in sums.description]
    per_hospital = pl.DataFrame(sums.fetchall(), schema=names, orient="row").with_columns(
        pl.col("h").cast(pl.UInt32),
        pl.col("total_cost", "payment", "patient_paid").cast(pl.Int64),
        pl.col("settled_points", "cost", "points").cast(pl.Float64),
    )
    hospitals = handwritten._coefficients(
        pl.read_parquet(data / "hospitals.parquet").sort("hospital_id")
    ).with_row_index("h")
    fen = ["total_cost", "payment", "patient_paid", "fund_payment"]
    joined = (
        hospitals.join(per_hospital, on="h", how="left", maintain_order="left")
        .with_columns(
            fund_payment=pl.col("payment") - pl.col("patient_paid"),
            cost_per_point=handwritten.div(pl.col("cost"), pl.col("points")),
        )
        .with_columns(pl.col("cases", *fen).fill_null(0))
    )
    race = (
        joined.filter((pl.col("level") >= 2) & pl.col("general"))
        .sort("level", "cost_per_point", "hospital_id", nulls_last=True)
        .select("h", horse_race_rank=pl.int_range(1, pl.len() + 1).over("level").cast(pl.Int64))
    )
    counted = [pl.col(f"cases_{c}").cast(pl.UInt32) for c in CLASSES]
    totals = [
        pl.col("cases").cast(pl.UInt32),
        *(written(c) for c in fen[:1]),
        round_shown("settled_points"),
        *(written(c) for c in fen[1:]),
        *counted,
    ]
    statement = joined.join(race, on="h", how="left", maintain_order="left").select(
        "hospital_id",
        "hospital_name",
        "level",
        "tier",
        *totals,
        cases_paid=pl.col("cases").cast(pl.Int64),
        hospital_coefficient_used=round_shown("hospital_coefficient"),
        coefficient_gap=round_shown("coefficient_gap"),
        cost_per_point=round_shown("cost_per_point", VALUE_DECIMALS),  # 元 per point
        horse_race_rank=pl.col("horse_race_rank"),
    )
    statement.write_parquet(stage / "hospitals.parquet", compression="snappy")
    summary = joined.select(
        pl.col("cases").sum().cast(pl.UInt32),
        written("total_cost", pl.col("total_cost").sum()),
        pl.col("settled_points").sum().round(POINTS_DECIMALS, mode="half_away_from_zero"),
        *(written(c, pl.col(c).sum()) for c in fen[1:]),
        *(pl.col(f"cases_{c}").sum().cast(pl.UInt32) for c in CLASSES),
    ).with_columns(
        period=pl.lit(period),
        point_value=pl.lit(point_value, dtype=pl.Float64).round(
            VALUE_DECIMALS, mode="half_away_from_zero"
        ),
        budget=pl.lit(budget_fen, dtype=pl.Int64).cast(pl.Decimal(38, 2)) / 100,
        total_points=pl.lit(total_points, dtype=pl.Float64).round(
            POINTS_DECIMALS, mode="half_away_from_zero"
        ),
    )
    summary.write_parquet(stage / "summary.parquet", compression="snappy")


def written(name: str, value: pl.Expr | None = None) -> pl.Expr:
    """Fen as the exact 2-decimal amount written (`handwritten.fen_text`)."""
    return handwritten.fen_text(pl.col(name) if value is None else value).alias(name)


def round_shown(name: str, digits: int = POINTS_DECIMALS) -> pl.Expr:
    """A double rounded as the engine writes it (half away from zero)."""
    return pl.col(name).round(digits, mode="half_away_from_zero")


def run(args: argparse.Namespace) -> None:
    """One plan in this process (the child of `measure`)."""
    args.spill.mkdir(parents=True, exist_ok=True)
    database = args.spill / "work.duckdb"
    database.unlink(missing_ok=True)  # a run's own: the tables of an earlier run go
    con = connect(database, args.limit, args.threads, args.spill)
    if args.plan == "settle":
        settle(con, args.data, args.out)
    else:
        floor(con, args.data, args.out, ordered=args.plan == "floor")
    con.close()


def measure(args: argparse.Namespace, argv: Sequence[str]) -> dict[str, Any]:
    """The plan in a fresh process: wall and CPU seconds, peak resident memory (`wait4`), the
    largest size its spill folder (and database file) reached, the load before and after."""
    spill = args.spill
    shutil.rmtree(spill, ignore_errors=True)
    spill.mkdir(parents=True)
    load = os.getloadavg()
    start = time.perf_counter()
    child = [sys.executable, __file__, *argv, "--child"]
    process = subprocess.Popen(child)
    watched = Largest(spill)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    spilled = watched.stop()
    shutil.rmtree(spill, ignore_errors=True)
    return {
        "plan": args.plan,
        "data": str(args.data),
        "memory_limit": args.limit,
        "threads": args.threads,
        "exit": os.waitstatus_to_exitcode(status),
        "wall_s": round(wall, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_gb": round(usage.ru_maxrss / 2**20, 2),
        "spill_gb": round(spilled / 2**30, 2),
        "load_before": [round(x, 2) for x in load],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="a sample folder (Parquet)")
    parser.add_argument("--out", type=Path, required=True, help="the output folder")
    parser.add_argument("--plan", choices=["settle", "floor", "floor-unsorted"], default="settle")
    parser.add_argument("--limit", default="4GB", help="DuckDB's memory limit")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--spill", type=Path, help="DuckDB's database file and spill folder (default: OUT-tmp)"
    )
    parser.add_argument("--json", type=Path, help="measure in a child process; append the row")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.spill = args.spill or args.out.with_name(args.out.name + "-tmp")
    if args.json and not args.child:
        row = measure(args, argv)
        print(json.dumps(row), flush=True)
        with args.json.open("a") as stream:
            stream.write(json.dumps(row) + "\n")
        return int(row["exit"])
    run(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Run summaries for people: one row per policy and settling stage (the period's totals), and
one row per hospital level — what `make demo` prints."""

from __future__ import annotations

from typing import Any

import polars as pl

from engine.outputs import stage_tables
from engine.settle import Settlement


def stage_rows(result: Settlement) -> list[dict[str, Any]]:
    """Per settling stage: cases, points or weight, point value or rate, payment, budget and
    cases per category over the whole period (a monthly stage's months added up)."""
    method = result.policy.method
    settled = "settled_points" if method == "points" else "settled_weight"
    price = "point_value" if method == "points" else "rate"
    rows = []
    for stage in result.settling_stages():
        summary = stage_tables(result, stage)["summary"]
        categories = [c for c in summary.columns if c.startswith("cases_")]
        totals = summary.select(pl.col("cases", settled, "payment", *categories).sum()).row(
            0, named=True
        )
        prices = summary[price].unique().to_list() if price in summary.columns else []
        rows.append(
            {
                "city": result.policy.city,
                "version": result.policy.version,
                "stage": stage,
                "period": result.period.label
                if summary.height == 1
                else f"{result.period.label} ({summary.height} months)",
                "cases": totals["cases"],
                "points_or_weight": totals[settled],
                "price": f"{prices[0]:,.4f}"
                if len(prices) == 1
                else ("per month" if prices else "per tier"),
                "payment": totals["payment"] / 100,
                "budget": summary["budget"].sum() if "budget" in summary.columns else None,
                "categories": {
                    c.removeprefix("cases_"): totals[c] for c in categories if totals[c]
                },
            }
        )
    return rows


def level_rows(result: Settlement) -> list[dict[str, Any]]:
    """Per hospital level, in the last settling stage: hospitals, cases, payment, share."""
    stage = result.settling_stages()[-1]
    hospitals = stage_tables(result, stage)["hospitals"]
    by_level = (
        hospitals.group_by("level")
        .agg(
            pl.col("hospital_id").n_unique().alias("hospitals"),
            pl.col("cases").sum(),
            pl.col("payment").sum(),
        )
        .sort("level")
    )
    total = max(int(by_level["payment"].sum()), 1)
    return [
        {
            "city": result.policy.city,
            "version": result.policy.version,
            "stage": stage,
            "level": row["level"],
            "hospitals": row["hospitals"],
            "cases": row["cases"],
            "payment": row["payment"] / 100,
            "per_case": row["payment"] / 100 / max(row["cases"], 1),
            "share": row["payment"] / total,
        }
        for row in by_level.iter_rows(named=True)
    ]

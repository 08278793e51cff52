"""Xuancheng 2023 → 2024 on the bundled sample: low-ratio cases of grassroots hospitals (level 1
and below) with a cost ratio in (0.3, 0.4] become normal — 2023 is ≤ 0.4 for every level, 2024
≤ 0.3 (inclusive) for level ≤ 1 — counted here independently from the sample files with polars."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from engine.inputs.contract import Inputs
from engine.inputs.rundata import Period
from engine.page import show
from engine.run.settle import load_policy
from engine.whatif import Runs, compare
from tests.conftest import SAMPLE
from tests.whatif.conftest import NEW, OLD

#: 2023: high_ratio_k by base points.
HIGH_K = [(0, 100, 3.0), (100, 300, 2.5), (300, float("inf"), 2.0)]
#: 2023's stable group: (≥ 100 cases (大数定理界值), or more than 10 cases) with a CV ≤ 1.
LARGE_NUMBER, MIN_STABLE = 100, 10


def _fen(column: str) -> pl.Expr:
    return (pl.col(column) * 100).round().cast(pl.Int64)


def grassroots_moves() -> int:
    """Cases of level ≤ 1 hospitals that 2023 classifies low (ratio ≤ 0.4) and 2024 does not
    (ratio > 0.3): not special review, not ungrouped, of a group stable in 2023 (so in 2024
    too), not high. The ratio's bounds are compared exactly, in fen: 10 × cost > 3 × average
    and 10 × cost ≤ 4 × average."""
    cases = pl.read_csv(SAMPLE / "cases.csv").filter(
        pl.col("discharge_date").str.starts_with("2024")
    )
    groups = pl.read_csv(SAMPLE / "groups.csv")
    hospitals = pl.read_csv(SAMPLE / "hospitals.csv").select("hospital_id", "level")
    stats = cases.group_by("drg_code").agg(
        pl.len().alias("n"),
        (pl.col("total_cost").std(ddof=0) / pl.col("total_cost").mean()).alias("cv"),
    )
    frame = (
        cases.join(hospitals, on="hospital_id")
        .join(groups, on="drg_code", how="left")
        .join(stats, on="drg_code")
        .with_columns(ratio=pl.col("total_cost") * (1.0 / pl.col("avg_cost")))
    )
    k = pl.lit(None, dtype=pl.Float64)
    for low, high, value in reversed(HIGH_K):
        k = (
            pl.when((pl.col("weight") * 100 >= low) & (pl.col("weight") * 100 < high))
            .then(value)
            .otherwise(k)
        )
    ungrouped = (pl.col("drg_code") == "0000") | pl.col("drg_code").str.contains(r"^[A-Z]QY$")
    stable = ((pl.col("n") >= LARGE_NUMBER) | (pl.col("n") > MIN_STABLE)) & (pl.col("cv") <= 1)
    cost, average = _fen("total_cost"), _fen("avg_cost")
    chosen = frame.filter(
        (pl.col("level") <= 1)
        & ~pl.col("special_review")
        & ~ungrouped
        & stable
        & (pl.col("ratio") < k)
        & (cost * 10 > average * 3)
        & (cost * 10 <= average * 4)
    )
    return chosen.height


def test_grassroots_low_ratio_cases_move_to_normal(sample_inputs: Inputs) -> None:
    expected = grassroots_moves()
    assert expected > 0
    impact = compare(Runs(sample_inputs, Period.parse("2024")), load_policy(OLD), load_policy(NEW))
    low_to_normal = impact.moved().filter((pl.col("from") == "low") & (pl.col("to") == "normal"))
    assert low_to_normal.select("level", "cases").rows() == [(1, expected)]
    level_one = impact.cases.filter(pl.col("level") == 1)
    assert (
        level_one.filter(
            (pl.col("category_base") == "low") & (pl.col("category_new") != "low")
        ).height
        == expected
    )


def test_the_report_says_so(report_dir: Path) -> None:
    expected = grassroots_moves()
    summary = (report_dir / "summary.md").read_text(encoding="utf-8")
    assert f"{show.level(1)}: {expected:,} cases low → normal" in summary
    assert f"| {show.level(1)} | low | normal | {expected:,} |" in summary
    data = json.loads((report_dir / "whatif.json").read_text(encoding="utf-8"))
    rows = [r for r in data["impact"]["transitions"] if (r["from"], r["to"]) == ("low", "normal")]
    assert [(r["level"], r["cases"]) for r in rows] == [(1, expected)]
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    assert f"{show.level(1)}: {expected:,} cases low → normal" in html

"""What a new version does to the money, in one sentence (影响概述): the case payments, and each
money report of the hospital statement that moves (Wuxi's `year_total`…), with the hospitals it
moves for — the terminal summary, the report's totals and whatif.json say it the same way."""

from __future__ import annotations

import polars as pl

from engine.page import show
from engine.whatif.impact import Impact

#: Hospitals named per money report; more are counted.
NAMED = 3


def effect(impact: Impact) -> str:
    """`no effect on case payments; year_total +¥30,999.31 (H0011 +¥30,999.31), …`."""
    if impact.payments_move:
        moved = int(impact.hospitals["delta"].clip(lower_bound=0).sum())
        head = (
            f"case payments {show.yuan(impact.delta, True)} in total, "
            f"{show.yuan(moved)} moved between hospitals"
        )
    else:
        head = "no effect on case payments"
    changes = report_changes(impact)
    if changes:
        return f"{head}; " + ", ".join(changes)
    if not impact.payments_move and not impact.reports.is_empty():
        return "no effect on case payments or on the money the statement reports"
    return head


def report_changes(impact: Impact) -> list[str]:
    """Per money report that moves: its city total and the hospitals it moves for."""
    found = []
    for name in impact.moved_reports():
        total = impact.reports.filter(pl.col("report") == name)["delta"].sum()
        found.append(f"{name} {show.yuan(int(total), True)} ({_hospitals(impact, name)})")
    return found


def _hospitals(impact: Impact, report: str) -> str:
    moved = impact.by_hospital(report).filter(pl.col("delta") != 0)
    ranked = moved.sort(pl.col("delta").abs(), "hospital_id", descending=[True, False])
    named = ", ".join(
        f"{r['hospital_id']} {show.yuan(r['delta'], True)}"
        for r in ranked.head(NAMED).iter_rows(named=True)
    )
    if moved.height <= NAMED:
        return named
    return f"{moved.height} hospitals; most: {named}"


__all__ = ["effect", "report_changes"]

"""Supervision in a what-if (监管扣款与考核): the deductions (违规扣款, 拒付) and assessment scores
of each hospital whose money moves. They are data, the same under both versions; what a version
changes is how they are applied, so they are shown beside the hospitals that gain or lose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from engine.page import show
from engine.page.layout import Section, table
from engine.run.supervision_outputs import supervision_inputs

if TYPE_CHECKING:
    from engine.whatif.impact import Impact


def declared(impact: Impact) -> dict[str, tuple[str, str]]:
    """The deductions and assessments either version declares (the new one's order first):
    name → (table, label)."""
    found: dict[str, tuple[str, str]] = {}
    for outcome in (impact.new, impact.base):
        for i in supervision_inputs(outcome.policy):
            found.setdefault(i.name, (i.table, i.label))
    return found


def moving_hospitals(impact: Impact) -> list[str]:
    """The hospitals whose case payments or some money report change."""
    paid = impact.hospitals.filter(pl.col("delta") != 0)["hospital_id"]
    reported = impact.hospital_reports.filter(pl.col("delta") != 0)["hospital_id"]
    return sorted(set(paid.to_list()) | set(reported.to_list()))


def supervision_frame(impact: Impact) -> pl.DataFrame:
    """Per moving hospital: `hospital_id`, `level`, each deduction (fen) and score, as the new
    version's run read them (the base's for what only the base declares)."""
    names = declared(impact)
    frame = impact.hospitals.select("hospital_id", "level").filter(
        pl.col("hospital_id").is_in(moving_hospitals(impact))
    )
    for outcome in (impact.new, impact.base):
        columns = [n for n in names if n in outcome.supervision.columns and n not in frame.columns]
        if columns:
            values = outcome.supervision.select("hospital_id", *columns)
            frame = frame.join(values, on="hospital_id", how="left")
    return frame.sort("hospital_id")


def supervision_rows(impact: Impact) -> list[dict[str, Any]]:
    """`supervision_frame` as JSON rows (money in fen)."""
    return supervision_frame(impact).to_dicts() if declared(impact) else []


def supervision_section(impact: Impact) -> Section | None:
    """The deductions and scores of each hospital that moves; None if neither version
    declares any."""
    names = declared(impact)
    if not names:
        return None
    frame = supervision_frame(impact)
    columns = [n for n in names if n in frame.columns]
    headers = ["hospital", "level", *(f"`{n}` {names[n][1]}" for n in columns)]
    rows = [
        [r["hospital_id"], show.level(r["level"]), *(_cell(names[n][0], r[n]) for n in columns)]
        for r in frame.iter_rows(named=True)
    ]
    lead = [
        "Deductions (违规扣款, 拒付: the period's total per hospital) and assessment scores (考核) "
        "of the hospitals whose money moves. They are data, the same under both versions; a "
        "version changes how they are applied."
    ]
    if not rows:
        lead.append("No hospital's money moves.")
        return Section("supervision", "Deductions and assessments", lead)
    numeric = [False, False, *[True] * len(columns)]
    return Section(
        "supervision", "Deductions and assessments", lead, [], [table(headers, rows, numeric)]
    )


def _cell(kind: str, value: Any) -> str:
    if kind == "deduction":
        return show.yuan(value)
    return show.number(value) if value is not None else "missing"


__all__ = ["supervision_frame", "supervision_rows", "supervision_section"]

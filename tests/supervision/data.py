"""Data for the supervision tests: the test policy, small data folders with deductions and
assessments, and hypothesis strategies that add deductions to generated cities."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import strategies as st

from engine.run.settle import load_policy

HERE = Path(__file__).resolve().parent
#: Monthly refusals (拒付), a year-end audit deduction (智能审核违规扣款), two assessments.
POLICY_PATH = HERE / "supervised.policy"
POLICY = load_policy(POLICY_PATH)
KINDS = ("audit_deduction", "refusal")
ASSESSMENTS = ("insurance_assessment", "drg_assessment")


def write_supervision(
    folder: Path, deductions: list[dict[str, Any]], assessments: list[dict[str, Any]]
) -> Path:
    """`deductions.csv` and `assessments.csv` (a file is not written when its list is empty)."""
    if deductions:
        pl.DataFrame(deductions).write_csv(folder / "deductions.csv")
    if assessments:
        pl.DataFrame(assessments).write_csv(folder / "assessments.csv")
    return folder


def scores_for(hospitals: list[str], year: int = 2024) -> list[dict[str, Any]]:
    """Both assessments for every hospital: 60, 70, 80… by position."""
    return [
        {"hospital_id": h, "assessment": name, "score": 60 + 10 * (i % 5), "year": year}
        for i, h in enumerate(hospitals)
        for name in ASSESSMENTS
    ]


def deduction_rows(
    draw: st.DrawFn, hospitals: list[str], n: int, kinds: Sequence[str] = KINDS
) -> list[dict[str, Any]]:
    """`n` deductions of `kinds` at random hospitals, amounts to the fen, dated in 2024 (some in
    months without a case), with a reason."""
    return [
        {
            "hospital_id": draw(st.sampled_from(hospitals)),
            "kind": draw(st.sampled_from(list(kinds))),
            "amount": draw(st.integers(1, 5_000_000)) / 100,
            "date": dt.date(2024, draw(st.integers(1, 12)), draw(st.integers(1, 28))).isoformat(),
            "reason": draw(st.sampled_from(["高套分值", "分解住院", "低标入院"])),
            "reference": draw(st.sampled_from(["", "稽核〔2024〕7号"])),
        }
        for _ in range(n)
    ]

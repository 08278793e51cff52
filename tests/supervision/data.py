"""Data for the supervision tests: the test policy, small data folders with deductions and
assessments, and hypothesis strategies that add deductions to generated cities."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import strategies as st

from engine.settle import load_policy
from tests.engine.datasets import datasets, write_dataset

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


def deduction_rows(draw: st.DrawFn, hospitals: list[str], n: int) -> list[dict[str, Any]]:
    """`n` deductions of the declared kinds at random hospitals, amounts to the fen, dated in
    2024 (some in months without a case), with a reason."""
    return [
        {
            "hospital_id": draw(st.sampled_from(hospitals)),
            "kind": draw(st.sampled_from(KINDS)),
            "amount": draw(st.integers(1, 5_000_000)) / 100,
            "date": dt.date(2024, draw(st.integers(1, 12)), draw(st.integers(1, 28))).isoformat(),
            "reason": draw(st.sampled_from(["高套分值", "分解住院", "低标入院"])),
            "reference": draw(st.sampled_from(["", "稽核〔2024〕7号"])),
        }
        for _ in range(n)
    ]


@st.composite
def supervised_cities(draw: st.DrawFn) -> dict[str, Any]:
    """A generated city (`tests.engine.datasets`) with up to 8 deductions, both scores for every
    hospital, and one more deduction (`extra`) to add."""
    city = draw(datasets())
    hospitals = [h["hospital_id"] for h in city["hospitals"]]
    city["deductions"] = deduction_rows(draw, hospitals, draw(st.integers(0, 8)))
    city["assessments"] = scores_for(hospitals)
    city["extra"] = deduction_rows(draw, hospitals, 1)[0]
    return city


def write_city(city: dict[str, Any], folder: Path, *, with_extra: bool = False) -> Path:
    """The city as contract files; `with_extra` adds its extra deduction."""
    write_dataset(city, folder)
    deductions = city["deductions"] + ([city["extra"]] if with_extra else [])
    return write_supervision(folder, deductions, city["assessments"])

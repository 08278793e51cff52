"""Hypothesis strategies for small settlement datasets written as contract files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import yaml
from hypothesis import strategies as st

from tests.supervision.data import deduction_rows, write_supervision

CODES = ["GB15", "GB11", "HC23", "HC25", "ES35", "FV25"]
#: Cost ratios to the group benchmark: the usual thresholds and values either side of them.
RATIOS = [0.05, 0.25, 0.3, 0.35, 0.4, 0.45, 0.8, 1.0, 1.3, 2.0, 2.5, 3.0, 4.0, 9.0]
#: The deduction kinds and the assessments of the sample, which the shipped policies read (a
#: policy counts the kinds it does not declare as "not declared").
KINDS = ("audit_deduction", "refusal", "assessment_penalty")
ASSESSMENTS = ("insurance_assessment", "drg_assessment", "data_quality")


@st.composite
def datasets(draw: st.DrawFn) -> dict[str, Any]:
    """Hospitals of every level (some new), a few real-shaped groups, and cases with costs at and
    around the ratio thresholds, bilateral / multi-site / incentive / special review flags; a
    score of every hospital on each assessment and a few deductions of each kind."""
    hospital_count = draw(st.integers(1, 4))
    hospitals = [
        {
            "hospital_id": f"H{i}",
            # H0 is a level-2+ hospital that the first case goes to: every city pays it under DRG
            # (Yantai and Suzhou pay level-1 hospitals outside DRG), so a budget has a pool
            "level": draw(st.integers(2 if i == 0 else 1, 3)),
            "is_new": draw(st.booleans()),
            "hist_avg_cost": draw(st.sampled_from([0, 8000])),
            "hist_cases": draw(st.sampled_from([0, 40, 300])),
            "tier": draw(st.sampled_from(["A", "B", "C"])),
            "hist_weight_total": draw(st.sampled_from([50, 400, 3000])),
            "admission_ratio_growth": draw(st.sampled_from([-0.05, 0.0, 0.12])),
            "cost_per_weight_growth": draw(st.sampled_from([-0.02, 0.0, 0.08])),
            "list_accuracy": draw(st.sampled_from([0.88, 0.97, 1.0])),
            "assessment_score": draw(st.sampled_from([60, 85, 100])),
        }
        for i in range(hospital_count)
    ]
    codes = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=4, unique=True))
    groups = [
        {
            "drg_code": c,
            "weight": draw(st.sampled_from([0.3, 0.8, 1.2, 3.5])),
            "avg_cost": draw(st.sampled_from([3000, 8000, 12000, 40000])),
        }
        for c in codes
    ]
    by_code = {g["drg_code"]: g for g in groups}
    case_count = draw(st.integers(1, 40))
    cases = []
    for i in range(case_count):
        code = draw(st.sampled_from([*codes, "0000"] if i else codes))  # one grouped case at least
        benchmark = by_code[code]["avg_cost"] if code in by_code else 10000
        cost = round(benchmark * draw(st.sampled_from(RATIOS)), 2)
        cases.append(
            {
                "case_id": f"C{i:03d}",
                "hospital_id": f"H{draw(st.integers(0, hospital_count - 1)) if i else 0}",
                "drg_code": code,
                "total_cost": cost,
                "discharge_date": dt.date(2024, draw(st.integers(1, 12)), 15).isoformat(),
                "bilateral": draw(st.booleans()),
                "multi_site": draw(st.booleans()),
                "secondary_drg": draw(st.sampled_from(["", *codes])),
                "incentive_approved": draw(st.booleans()),
                "special_review": draw(st.sampled_from([False] * 5 + [True])),
                "unreasonable_cost": round(cost * draw(st.sampled_from([0, 0, 0.1])), 2),
            }
        )
    fund = draw(st.sampled_from([100000.0, 987654.32, 12345678.91]))
    names = [h["hospital_id"] for h in hospitals]
    return {
        "hospitals": hospitals,
        "groups": groups,
        "cases": cases,
        "deductions": deduction_rows(draw, names, draw(st.integers(0, 4)), KINDS),
        "assessments": [
            {
                "hospital_id": h,
                "assessment": name,
                "score": draw(st.sampled_from([0, 55, 85.5, 90, 100])),
                "year": 2024,
            }
            for h in names
            for name in ASSESSMENTS
        ],
        "budget": {
            "drg_fund": fund,
            "inpatient_fund": round(fund * 1.25, 2),
            "tier_budget": {
                "A": round(fund / 2, 2),
                "B": round(fund / 3, 2),
                "C": round(fund / 6, 2),
            },
        },
    }


def write_dataset(data: dict[str, Any], folder: Path, *, reverse: bool = False) -> Path:
    """The dataset as contract files (`reverse` writes every table's rows in reverse order);
    deductions and assessments when it has any."""
    folder.mkdir(parents=True, exist_ok=True)

    def rows(name: str) -> list[dict[str, Any]]:
        return list(reversed(data.get(name, []))) if reverse else data.get(name, [])

    for name in ("hospitals", "groups", "cases"):
        pl.DataFrame(rows(name)).write_csv(folder / f"{name}.csv")
    write_supervision(folder, rows("deductions"), rows("assessments"))
    document = {"contract_version": "1.0", "year": 2024, "values": data["budget"]}
    (folder / "budget.yaml").write_text(yaml.safe_dump(document))
    return folder

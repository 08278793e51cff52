"""Supervision rows of the synthetic city (`engine.synthetic.sample`): a few deductions per hospital
and three assessment scores per hospital, from a random stream of their own, so the other sample
files do not change with them.

Deductions are of the three kinds the shipped cities name (违规扣款 `audit_deduction`, 拒付
`refusal`, 考核扣罚 `assessment_penalty`; each city reads those its document names), 0–4 per
hospital over the year, each a share of the hospital's median case cost, with a reason and a
decision id. Scores: `insurance_assessment` (年度医保考核) is the hospital's `assessment_score`
(the same number, so a policy reading either gives the same deposit), `drg_assessment`
(DRG专项考核, seven dimensions) is drawn between 70 and 100, `data_quality` (数据质控审查,
Yantai) between 75 and 100.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from engine.inputs.fields import TableKind

#: The deduction kinds and the assessments the sample has, with their Chinese names and, for a
#: deduction, the reasons it is given for.
DEDUCTION_KINDS = (
    ("audit_deduction", "违规扣款", ("高套分值", "分解住院", "诊断与操作不符", "重复收费")),
    ("refusal", "拒付", ("低标入院", "超标准收费")),
    ("assessment_penalty", "考核扣罚", ("结算清单质控不达标", "指标异常未整改")),
)
ASSESSMENTS = (
    ("insurance_assessment", "年度医保考核"),
    ("drg_assessment", "DRG专项考核"),
    ("data_quality", "数据质控审查"),
)


def supervision_frames(
    rng: np.random.Generator, hospitals: pl.DataFrame, cases: pl.DataFrame, year: int
) -> dict[TableKind, pl.DataFrame]:
    """The `deductions` and `assessments` tables (contract columns, deterministic order)."""
    return {
        "deductions": _deductions(rng, hospitals, cases, year),
        "assessments": _assessments(rng, hospitals, year),
    }


def _deductions(
    rng: np.random.Generator, hospitals: pl.DataFrame, cases: pl.DataFrame, year: int
) -> pl.DataFrame:
    ids = hospitals["hospital_id"].to_list()
    counts = rng.integers(0, 5, len(ids))
    hospital = np.repeat(np.array(ids, dtype=object), counts)
    n = len(hospital)
    costs = cases.group_by("hospital_id").agg(pl.col("total_cost").median())
    median = dict(costs.iter_rows())
    amount = [
        round(float(median.get(h, 10_000.0)) * share, 2)
        for h, share in zip(hospital, rng.uniform(0.1, 0.8, n), strict=True)
    ]
    first = date(year, 1, 1).toordinal()
    days = date(year + 1, 1, 1).toordinal() - first
    dates = [date.fromordinal(first + int(d)) for d in rng.integers(0, days, n)]
    kinds = [DEDUCTION_KINDS[i] for i in rng.integers(0, len(DEDUCTION_KINDS), n)]
    reasons = [
        kind[2][int(i) % len(kind[2])]
        for kind, i in zip(kinds, rng.integers(0, 12, n), strict=True)
    ]
    frame = pl.DataFrame(
        {
            "hospital_id": pl.Series(hospital.tolist(), dtype=pl.String),
            "kind": [kind[0] for kind in kinds],
            "amount": pl.Series(amount, dtype=pl.Float64),
            "date": pl.Series(dates, dtype=pl.Date),
            "reason": reasons,
        }
    ).sort("date", "hospital_id", "amount")
    audit = pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(3)
    return frame.with_columns(
        reference=pl.concat_str(pl.lit(f"示范医保稽〔{year}〕"), audit, pl.lit("号"))
    )


def _assessments(rng: np.random.Generator, hospitals: pl.DataFrame, year: int) -> pl.DataFrame:
    ids = hospitals["hospital_id"]
    drg = np.round(rng.uniform(70, 100, len(ids)), 1)
    quality = np.round(rng.uniform(75, 100, len(ids)), 1)
    frames = [
        pl.DataFrame(
            {
                "hospital_id": ids,
                "assessment": [name] * len(ids),
                "score": pl.Series(scores, dtype=pl.Float64),
            }
        )
        for (name, _), scores in zip(
            ASSESSMENTS, (hospitals["assessment_score"].to_numpy(), drg, quality), strict=True
        )
    ]
    return pl.concat(frames).with_columns(
        year=pl.lit(year, dtype=pl.Int64), date=pl.lit(None, dtype=pl.Date)
    )

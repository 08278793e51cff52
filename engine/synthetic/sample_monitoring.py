"""The columns of the synthetic city (`engine.synthetic.sample`) that only the run-monitoring
indicators read, drawn from a random stream of their own (so every other column keeps its values):

- per case: the insured person (`person_id`; each hospital admits its patients 1.05–1.25 times
  in the year on average), how the stay ended (`discharge_outcome`, the settlement list's codes: a
  death more likely in heavier groups), the fully self-paid amount (`self_paid`, 2–10% of the
  cost, never more than the patient paid), drug and consumable costs (`drug_cost` 18–40%,
  `consumable_cost` 8–30% of the cost, together at most 70%);
- per group: targeted-therapy groups (`targeted_therapy`: the tumour groups of MDC R treated
  medically, RT and RU6) and groups where traditional Chinese medicine has an advantage
  (`tcm_advantage`: stroke and other cerebral ischaemia, neck and back disorders).
"""

from __future__ import annotations

import numpy as np
import polars as pl

#: Groups of the catalog where traditional Chinese medicine has an advantage (中医优势病组):
#: 脑卒中, 其他脑缺血性疾病, 颈腰背疾病 — conditions of the national lists of TCM-advantage
#: diseases (中风, 颈椎病, 腰椎间盘突出症).
TCM_GROUPS = ("BR15", "BR25", "IU29")
#: Code prefixes of the targeted-therapy groups (靶向治疗组): tumours treated medically.
TARGETED_PREFIXES = ("RT", "RU6")
#: Discharge outcomes other than death and the ordinary discharge (离院方式), with their shares.
OTHER_OUTCOMES = ((2, 0.03), (3, 0.01), (4, 0.02), (9, 0.005))
DEATH = 5


def with_monitoring_columns(
    rng: np.random.Generator, cases: pl.DataFrame, groups: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The cases and groups with the monitoring columns added after their own."""
    weight = cases.select(
        pl.col("drg_code").replace_strict(groups["drg_code"], groups["weight"], default=0.5)
    ).to_series()
    total = cases["total_cost"].to_numpy()
    n = cases.height
    drug_share = rng.uniform(0.18, 0.40, n)
    consumable_share = np.minimum(rng.uniform(0.08, 0.30, n), 0.70 - drug_share)
    self_paid = np.minimum(total * rng.uniform(0.02, 0.10, n), cases["patient_paid"].to_numpy())
    cases = cases.with_columns(
        person_id=_persons(rng, cases["hospital_id"]),
        discharge_outcome=pl.Series(_outcomes(rng, weight.to_numpy()), dtype=pl.Int64),
        self_paid=pl.Series(_fen_down(self_paid)),
        drug_cost=pl.Series(_fen_down(total * drug_share)),
        consumable_cost=pl.Series(_fen_down(total * consumable_share)),
    )
    code = pl.col("drg_code")
    groups = groups.with_columns(
        targeted_therapy=pl.any_horizontal(code.str.starts_with(p) for p in TARGETED_PREFIXES),
        tcm_advantage=code.is_in(TCM_GROUPS),
    )
    return cases, groups


def _persons(rng: np.random.Generator, hospitals: pl.Series) -> pl.Series:
    """A person per case: a hospital with n cases and an admissions-per-person ratio r (drawn
    from 1.05–1.25) has round(n ÷ r) patients; its cases, in a random order, are each first
    admission of one of them, and the rest readmissions of one drawn at random."""
    ids = hospitals.to_numpy()
    names = np.unique(ids)
    ratios = rng.uniform(1.05, 1.25, len(names))
    persons = np.empty(len(ids), dtype=object)
    for hospital, ratio in zip(names, ratios, strict=True):
        at = rng.permutation(np.flatnonzero(ids == hospital))
        pool = max(1, round(len(at) / ratio))
        index = np.concatenate([np.arange(pool), rng.integers(0, pool, len(at) - pool)])
        persons[at] = [f"P{hospital}-{i:06d}" for i in index]
    return pl.Series(persons.tolist(), dtype=pl.String)


def _outcomes(rng: np.random.Generator, weight: np.ndarray) -> np.ndarray:
    """离院方式: death with a chance rising with the group's weight, then the other outcomes
    at their shares, else discharged on the doctor's order (1)."""
    death = np.minimum(0.002 * weight**1.6, 0.25)
    draw = rng.random(len(weight))
    outcome = np.ones(len(weight), dtype=np.int64)
    outcome[draw < death] = DEATH
    low = death.copy()
    for code, share in OTHER_OUTCOMES:
        outcome[(draw >= low) & (draw < low + share)] = code
        low = low + share
    return outcome


def _fen_down(yuan: np.ndarray) -> np.ndarray:
    """Amounts to the fen, rounded down (parts of a cost never add up past it)."""
    return np.floor(yuan * 100 + 1e-6) / 100  # 1e-6 fen: 0.29 × 100 is 28.999…

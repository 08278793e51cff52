"""What the attribution and the exposure read of a re-settled run (测算口径): per case the payment
in fen and the category, per hospital each money report — and nothing else of its outputs.

A clause applied alone, or a threshold moved one step, needs four numbers of the run, not the
whole comparison: building its `Outcome` (the cases, statement and summary tables) and its
`Impact` (every group-by of the comparison) cost as much as re-settling it. `Measured.of` reads
the payment and category from the stage's case frame as `Outcome.of` does; the money reports
come from the statement, which is built only for a policy that has some (Wuxi's year-end
corrections, the deductions). `shift_of` gives what `impact_of` would for a shift, number for
number (`tests/whatif/test_measured.py` compares them on every shipped policy).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from engine.inputs.rundata import Period
from engine.plan import money
from engine.run.settle import (
    Settlement,
    case_results,
    definitions_reached,
    definitions_read,
    output_names,
    stages_for,
)
from engine.whatif.impact import report_totals
from engine.whatif.runs import Outcome, money_reports
from policy_dsl import ir

#: The per-case values a run without money reports is measured by.
CASE_VALUES = ("category", "payment")


@dataclass(frozen=True)
class Measured:
    """A run as the attribution and the exposure read it: `cases` (`hospital_id`, `category`
    as the run has it — the classification's Enum, or text from an `Outcome` —, `payment` in
    fen, nulls as 0) in the run's case order, `reports` as `Outcome.reports` (per hospital, one
    column in fen per money report)."""

    cases: pl.DataFrame
    reports: pl.DataFrame

    @classmethod
    def of(cls, settlement: Settlement) -> Measured:
        stage = settlement.settling_stages()[-1]
        if money_reports(settlement.policy, stage):
            return cls.of_outcome(Outcome.of(settlement))
        result = settlement.stages[stage]
        cases = case_results(result, list(CASE_VALUES), settlement.data.codes).select(
            "hospital_id",
            "category",
            money.to_fen(pl.col("payment")).fill_null(0).alias("payment"),
        )
        return cls(cases, pl.DataFrame({"hospital_id": []}, schema={"hospital_id": pl.String}))

    @classmethod
    def of_outcome(cls, outcome: Outcome) -> Measured:
        return cls(outcome.cases.select("hospital_id", "category", "payment"), outcome.reports)


def measured_definitions(policy: ir.Policy, period: Period) -> set[tuple[str, str]]:
    """(stage, name) of every definition `Measured.of` reads of a run of `policy` for
    `period`, fixed ones included: what a re-settlement for it evaluates (`rerun.resettle`'s
    `only`). Without money reports, the category and payment of the last settling stage and
    what they read — not, say, a ranking report or the standard indicators' helpers; with
    some, every definition the outputs and reports read (`Outcome.of` reads the statement)."""
    stage = [s.name for s in stages_for(policy, period) if s.settles_cases][-1]
    if money_reports(policy, stage):
        return set(definitions_read(policy.stages, output_names(policy.method), {}))
    return set(definitions_reached(policy.stages, [(stage, n) for n in CASE_VALUES], ()))


@dataclass(frozen=True)
class Shift:
    """A run against the base, as a threshold's step reports it (fen): the change of the total
    payment, per hospital level, the cases that change category, the change of each money
    report."""

    delta: int
    levels: dict[int, int]
    moved_cases: int
    reports: dict[str, int]


def shift_of(base: Outcome, shifted: Measured, hospital_levels: pl.DataFrame) -> Shift:
    """`shifted` against `base` (the same cases, in the same order); `hospital_levels` the
    hospitals' `level` column, whose every level is reported (0 where nothing moves)."""
    change = shifted.cases["payment"] - base.cases["payment"]
    by_level = (
        pl.DataFrame({"level": base.cases["level"], "delta": change})
        .group_by("level")
        .agg(pl.col("delta").sum())
    )
    levels = (
        hospital_levels.select("level")
        .unique()
        .join(by_level, on="level", how="left")
        .fill_null(0)
        .sort("level")
    )
    return Shift(
        int(shifted.cases["payment"].sum()) - base.totals.payment,
        {int(level): int(delta) for level, delta in levels.rows()},
        _moved(base, shifted.cases["category"]),
        {
            r: int(d or 0)
            for r, d in report_totals(base.reports, shifted.reports)
            .select("report", "delta")
            .rows()
        },
    )


def _moved(base: Outcome, after: pl.Series) -> int:
    """The cases whose class differs from the base run's: compared as the classification's
    Enum where both runs have the same one (no text made of every case's class), else as text."""
    result = base.settlement.stages[base.stage]
    before = case_results(result, ["category"], base.settlement.data.codes)["category"]
    if before.dtype != after.dtype:
        before, after = base.cases["category"], after.cast(pl.String)
    return int((before != after).sum())


__all__ = ["Measured", "Shift", "measured_definitions", "shift_of"]

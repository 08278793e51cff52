"""Supervision in a run's outputs (监管扣款与考核的输出): every declared deduction and assessment
as a column of each hospital statement, `deductions.csv` listing every deduction row of the period
with the stage that applied it, and the rows counted for the manifest.

Σ over the hospitals of a statement's deduction column is Σ of the `amount`s of deductions.csv
for that kind (a `per month` statement has a row for each month a deduction falls in, cases or
not): the test suite checks it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from engine.inputs.supervision import Declared, hospital_values, value_keys
from engine.plan.polars.frames import StageResult
from policy_dsl import ir

if TYPE_CHECKING:
    from engine.run.settle import Settlement

#: The columns of `deductions.csv`, in order.
DEDUCTION_COLUMNS = ("hospital_id", "kind", "label", "amount", "date", "reason", "reference")


def supervision_inputs(policy: ir.Policy) -> list[ir.Input]:
    """The deductions and assessments a policy declares, in its order."""
    return [i for i in policy.inputs if i.table in ("deduction", "assessment")]


def with_months_deducted(totals: pl.DataFrame, settlement: Settlement) -> pl.DataFrame:
    """A monthly statement's rows (`hospital_id`, `month`, sums over cases) with a row of zeros
    for each month in which a hospital has a deduction but no case."""
    extra = settlement.data.deduction_months
    if extra.is_empty() or not Declared.of(settlement.policy).deductions:
        return totals
    zeros = [
        pl.lit(0, dtype=dtype).alias(name)
        for name, dtype in totals.schema.items()
        if name not in extra.columns
    ]
    return pl.concat([totals, extra.with_columns(zeros).select(totals.columns)])


def with_supervision_columns(
    statement: pl.DataFrame, result: StageResult, settlement: Settlement
) -> pl.DataFrame:
    """The statement with one column per declared deduction (the hospital's total, of the month
    in a monthly statement) and assessment (its score), where no report of the same name is."""
    monthly = "month" in result.period_keys
    for declared in supervision_inputs(settlement.policy):
        if declared.name in statement.columns:
            continue
        table = declared.table + "s"
        values = hospital_values(settlement.data, table, declared.name, monthly)
        keys = value_keys(table, monthly)
        statement = statement.join(values, on=keys, how="left", maintain_order="left")
    return statement


def stages_reading(settlement: Settlement) -> dict[str, list[str]]:
    """Per deduction, the stages of the run that read it (in a definition not fixed from
    outside), in stage order: the stages that applied it."""
    fixed = settlement.settings.definitions
    found: dict[str, list[str]] = {}
    for name, result in settlement.stages.items():
        for definition in result.stage.definitions:
            if definition.name in fixed:
                continue
            for node in ir.walk(definition.expr):
                if isinstance(node, ir.FieldRef) and node.table == "deductions":
                    stages = found.setdefault(node.column, [])
                    if name not in stages:
                        stages.append(name)
    return found


def applied_deductions(settlement: Settlement) -> pl.DataFrame:
    """Every deduction row of the period, once per stage that applied it (`stage`; empty when
    no stage of this run reads its kind, e.g. a year-end deduction in a month's run), ordered
    by stage, hospital, kind, date, amount, reason and reference."""
    declared = Declared.of(settlement.policy)
    rows = settlement.data.deductions
    if rows is None:
        rows = pl.DataFrame(schema={c: pl.String for c in DEDUCTION_COLUMNS if c != "label"})
    order = list(settlement.stages)
    readers = [
        (kind, stage, order.index(stage))
        for kind, stages in stages_reading(settlement).items()
        for stage in stages
    ]
    applied = pl.DataFrame(
        readers, schema={"kind": pl.String, "stage": pl.String, "__order": pl.Int64}, orient="row"
    )
    labels = pl.col("kind").replace_strict(declared.deductions, default=pl.col("kind"))
    return (
        rows.join(applied, on="kind", how="left")
        .with_columns(labels.alias("label"), pl.col("stage").fill_null(""))
        .sort(
            "__order",
            "hospital_id",
            "kind",
            "date",
            "amount",
            "reason",
            "reference",
            nulls_last=True,
        )
        .select(*DEDUCTION_COLUMNS, "stage")
    )


def supervision_rows(settlement: Settlement) -> dict[str, Any]:
    """For the manifest: per supervision file read, rows read = in the period + rejected +
    of kinds the policy does not declare + outside the period (deductions dated elsewhere,
    scores of other years)."""
    counts: dict[str, Any] = {}
    inputs = settlement.inputs
    for kind, frame in (
        ("deductions", settlement.data.deductions),
        ("assessments", settlement.data.assessments),
    ):
        if kind not in inputs.rows_read or frame is None:
            continue
        file = inputs.files[kind]
        read = inputs.rows_read[kind]
        rejected = int((inputs.rejects["file"] == file).sum())
        other = inputs.other_kinds.get(kind, {})
        counts[kind] = {
            "read": read,
            "rejected": rejected,
            "not_declared": sum(other.values()),
            "not_declared_by_name": other,
            "outside_period": read - rejected - sum(other.values()) - frame.height,
            "in_period": frame.height,
        }
    return counts

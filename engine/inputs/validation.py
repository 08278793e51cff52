"""Checking a data folder before it is settled (数据预检): `drgpolicy validate --data DIR`.

Nothing here is a validator of its own. It runs what a settlement runs — the contract's checks
of every row (`engine.inputs.contract.load_tables`), budget.yaml against the figures the policy
declares (`with_budget`), the deductions and scores the policy reads (`engine.inputs.supervision`)
and, with a policy, the refusals `settle` makes before it settles (`engine.run.settle`: the period
against the policy's dates and the budget's year, a column an output reads but the file lacks,
a period without a case, a hospital without a score) — and reports what they reject: counted
per file and reason, with the first rows and the cases rejected because of their hospital or
group, instead of stopping at the first problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from engine.inputs.contract import ContractError, Inputs, load_tables, with_budget
from engine.inputs.rundata import Period
from engine.inputs.supervision import Declared, check_scores, load_supervision
from engine.run.settle import (
    check_columns,
    check_not_empty,
    data_folder,
    date_problems,
    fields_read,
    output_names,
    policy_fields,
    run_data,
    stages_for,
)
from engine.run.summary import copied_keys, rejected_because_lines
from policy_dsl import ir
from policy_dsl.errors import PolicyError

#: How many rejected rows are shown, and row numbers per reason.
FIRST = 10
ROWS_PER_REASON = 5
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Reason:
    """The rows of one file rejected for one reason: how many, the first one's words (with its
    values), and the first rows' numbers."""

    file: str
    field: str
    rows: int
    example: str
    first_rows: tuple[int, ...]


@dataclass(frozen=True)
class FileCount:
    """Rows read and rejected in one input file."""

    file: str
    read: int
    rejected: int


@dataclass(frozen=True)
class Findings:
    """What a settlement of the folder would reject (`reasons`, `first`, `because`) or refuse
    outright (`refused`), and what was read (`notes`)."""

    folder: Path
    files: list[FileCount] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    first: list[dict[str, object]] = field(default_factory=list)
    because: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Nothing would be rejected or refused."""
        return not self.reasons and not self.refused


def validate_folder(
    data_dir: Path | str,
    policy: ir.Policy | None = None,
    period: Period | None = None,
    encoding: str = "utf8",
) -> Findings:
    """Load `data_dir` as a settlement under `policy` would (the contract alone without one) and
    say what it would reject; `period` (default: the budget's year) for the checks settle
    makes before it settles."""
    folder = data_folder(data_dir)
    extra, figures = policy_fields(policy) if policy else ({}, [])
    try:
        inputs = load_tables(folder, extra=extra, encoding=encoding)
    except ContractError as exc:
        return Findings(folder, refused=[exc.message])
    refused, notes = [], []
    try:
        inputs = with_budget(inputs, figures)
    except ContractError as exc:
        refused.append(exc.message)
    if policy is None:
        notes.append(
            "deductions and assessments are checked with --policy (a row's kind must be one the "
            "policy declares), and so are the policy's own columns and budget figures"
        )
    else:
        try:
            inputs = load_supervision(folder, inputs, Declared.of(policy), encoding)
        except ContractError as exc:
            refused.append(exc.message)
        refused += before_settling(policy, inputs, period, notes)
    notes += coverage(inputs, [f.name for f in figures])
    copies = copied_keys(inputs)
    notes += [f"{words}: settle fails on it, whatever the share" for words in copies.failing]
    notes += copies.noted
    return Findings(
        folder,
        files=file_counts(inputs),
        reasons=reasons(inputs.rejects),
        first=inputs.rejects.head(FIRST).to_dicts(),
        because=rejected_because_lines(inputs),
        refused=refused,
        notes=notes,
    )


def before_settling(
    policy: ir.Policy, inputs: Inputs, period: Period | None, notes: list[str]
) -> list[str]:
    """What `settle` would refuse before settling `period` (default: the budget's year)."""
    if period is None and "year" in inputs.budget:
        period = Period(int(inputs.budget["year"]))
    if period is None:
        notes.append("no period checked: give --period, or a budget.yaml with its year")
        return []
    notes.append(f"checked as `settle --period {period.label}` would settle it")
    problems = [
        f"{problem} (settle refuses this unless --any-date)"
        for problem in date_problems(policy, inputs, period)
    ]
    stages = stages_for(policy, period)
    data = run_data(inputs, period)
    read = fields_read(stages, output_names(policy.method), {})
    for check in (
        lambda: check_columns(policy, inputs, read),
        lambda: check_not_empty(inputs, data),
        lambda: check_scores(policy, inputs, data, read),
    ):
        try:
            check()
        except PolicyError as exc:
            problems.append(str(exc))
    return problems


def file_counts(inputs: Inputs) -> list[FileCount]:
    """Rows read and rejected per file, in the order the loader reads them."""
    rejected = dict(inputs.rejects.group_by("file").len().iter_rows())
    return [
        FileCount(inputs.files[kind], read, int(rejected.get(inputs.files[kind], 0)))
        for kind, read in inputs.rows_read.items()
    ]


def reasons(rejects: pl.DataFrame) -> list[Reason]:
    """The rejects grouped by file, field and the words of their reason (their values, keys and
    numbers set aside), in the order of their first row."""
    if rejects.is_empty():
        return []
    shapes = [
        _DIGITS.sub("#", _without(_without(reason, value), key))
        for reason, value, key in rejects.select("reason", "value", "key").iter_rows()
    ]
    grouped = (
        rejects.with_columns(pl.Series("shape", shapes))
        .group_by("file", "field", "shape", maintain_order=True)
        .agg(
            pl.len().alias("rows"),
            pl.col("reason").first().alias("example"),
            pl.col("row").head(ROWS_PER_REASON).alias("first_rows"),
        )
    )
    return [
        Reason(r["file"], r["field"], r["rows"], r["example"], tuple(r["first_rows"]))
        for r in grouped.iter_rows(named=True)
    ]


def _without(reason: str, value: str | None) -> str:
    return reason.replace(value, "…") if value else reason


def coverage(inputs: Inputs, read: list[str]) -> list[str]:
    """The months of the accepted cases, and the budget's year and figures: those the policy
    `read`, then the others."""
    notes = []
    months = inputs.cases["month"].drop_nulls().sort()
    if months.len():
        notes.append(f"cases discharged {months[0]} … {months[-1]}")
    if inputs.budget:
        values = inputs.budget["values"]
        parts = [f"year {inputs.budget['year']}"]
        if read:
            parts.append("the policy reads " + ", ".join(_figure(n, values[n]) for n in read))
        others = [_figure(name, value) for name, value in values.items() if name not in read]
        if others:
            parts.append(("not read: " if read else "") + ", ".join(others))
        notes.append(f"budget.yaml: {'; '.join(parts)}")
    return notes


def _figure(name: str, value: object) -> str:
    if isinstance(value, dict):
        amounts = ", ".join(f"{key}: {amount:,.2f}" for key, amount in value.items())
        return f"{name} (one amount per key: {amounts} 元)"
    assert isinstance(value, float)
    return f"{name} ({value:,.2f} 元)"


__all__ = ["FileCount", "Findings", "Reason", "validate_folder"]

"""Supervision that moves money (医保监管): per-hospital deductions (违规扣款, 拒付, 考核扣罚) and
assessment scores (考核得分), read from `deductions.csv` and `assessments.csv` (or `.parquet`).

A policy declares what it reads: `input deduction audit_deduction "智能审核违规扣款" : money` is,
per hospital, the sum of the `amount`s of the rows whose `kind` is `audit_deduction` and whose
`date` lies in the settled period — in a `per month` stage, in the month (0 元 for a hospital
without a row: a deduction not imposed is zero); `input assessment drg_assessment … : number` is a
hospital's score, from the row of that `assessment` whose `year` (or `date`'s year) is the
period's year, or that names no year. Both files are optional; a policy without such inputs does
not read them. Bad rows are rejected with their reason, as for the other tables
(`engine.inputs.contract`); a hospital without a score that an output reads stops the run
(`check_scores`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from engine.inputs.contract import (
    CAUSES_SCHEMA,
    DUPLICATE,
    REJECT_SCHEMA,
    ROW,
    ContractError,
    Inputs,
    _accepted,
    _Check,
    _field_checks,
    _fields_check,
    _Reference,
    _reference_checks,
    _rejects,
    _says,
    _Table,
    _typed_frame,
    file_sha256,
)
from engine.inputs.fields import POLARS_DTYPES, TABLES, FieldSpec, TableKind
from engine.inputs.reading import FIELDS, locate, not_a_file, read_table
from engine.inputs.rundata import Period, RunData
from engine.inputs.stored import distinct, replaced
from engine.plan import money
from engine.plan.polars.keys import carried_codes, code_column
from policy_dsl import ir

#: The declaration's input table and the column of the data file naming it.
NAME_COLUMNS: dict[TableKind, str] = {"deductions": "kind", "assessments": "assessment"}


@dataclass(frozen=True)
class Declared:
    """The deductions and assessments a policy declares: name → label (中文名)."""

    deductions: dict[str, str]
    assessments: dict[str, str]

    @classmethod
    def of(cls, policy: ir.Policy) -> Declared:
        def named(table: str) -> dict[str, str]:
            return {i.name: i.label for i in policy.inputs if i.table == table}

        return cls(named("deduction"), named("assessment"))

    def names(self, kind: TableKind) -> dict[str, str]:
        return self.deductions if kind == "deductions" else self.assessments

    def label(self, name: str) -> str:
        return self.deductions.get(name) or self.assessments.get(name) or name


# ---- loading ---------------------------------------------------------------------------------


def load_supervision(
    folder: Path, inputs: Inputs, declared: Declared, encoding: str = "utf8"
) -> Inputs:
    """`inputs` with the declared deductions and assessments read, checked and counted: the
    rows accepted (`inputs.deductions`, `inputs.assessments`), the others in `inputs.rejects`.
    A table the policy declares nothing from is not read."""
    hospitals = _hospital_table(inputs)
    for kind in ("deductions", "assessments"):
        names = declared.names(kind)
        if not names:
            continue
        if not _present(folder, kind):
            inputs = _with_table(inputs, kind, None)
            continue
        other, table = _load(folder, kind, names, hospitals, encoding)
        inputs = _with_table(inputs, kind, table)
        if other:
            inputs = replaced(inputs, other_kinds=inputs.other_kinds | {kind: other})
    return inputs


def _present(folder: Path, kind: str) -> bool:
    """Whether the folder has the kind's file — or something under its name that is not one (a
    link to nothing, a pipe, a folder), which `locate` refuses: never read as no deductions."""
    paths = [folder / f"{kind}.{ext}" for ext in ("csv", "parquet")]
    return any(path.is_file() or not_a_file(path) is not None for path in paths)


def _hospital_table(inputs: Inputs) -> _Table:
    """The hospitals as a reference target: accepted ids, and the ids rejected there."""
    file = inputs.files.get("hospitals", "hospitals.csv")
    rejected = inputs.rejects.filter(pl.col("file") == file)["key"].drop_nulls()
    return _Table(
        file=file,
        key="hospital_id",
        frame=inputs.hospitals,
        rejected_keys=rejected.unique().sort(),
        rejects=inputs.rejects.clear(),
        rows_read=inputs.hospitals.height,
        sha256="",
        columns=frozenset(inputs.hospitals.columns),
        causes=pl.DataFrame(schema=CAUSES_SCHEMA),
    )


def _load(
    folder: Path, kind: TableKind, names: Mapping[str, str], hospitals: _Table, encoding: str
) -> tuple[dict[str, int], _Table]:
    """One supervision file read by the contract's loader rules (`engine.inputs.reading`) and
    checked; with the rows of kinds the policy does not declare, counted by name."""
    path = locate(folder, kind)
    fields = TABLES[kind]
    read = read_table(path, fields, encoding)
    raw = read.frame
    present = [spec for spec in fields if spec.name in raw.columns]
    frame = _typed_frame(raw, present, "hospital_id")
    frame, other = _declared_only(frame, kind, names)
    if kind == "assessments":
        frame = _with_overlaps(frame)
    width = len(read.columns) if FIELDS in raw.columns else None
    checks = [_fields_check(width)] if width is not None else []
    checks += _checks(kind, present, hospitals)
    fails = pl.any_horizontal([c.fails.fill_null(False) for c in checks])
    bad = frame.select(fails).to_series()
    accepted = _accepted(frame.filter(~bad), fields, present)
    return other, _Table(
        file=path.name,
        key="hospital_id",
        frame=_finished(kind, accepted),
        rejected_keys=pl.Series([], dtype=pl.String),
        rejects=_rejects(frame.filter(bad), checks, path.name, "hospital_id").select(
            REJECT_SCHEMA.names()
        ),
        rows_read=raw.height,
        sha256=file_sha256(path),
        columns=frozenset(read.columns),
        causes=pl.DataFrame(schema=CAUSES_SCHEMA),
    )


def _checks(kind: TableKind, present: Sequence[FieldSpec], hospitals: _Table) -> list[_Check]:
    """Each field, then for assessments one score per hospital, assessment and year, then the
    hospital (rows of kinds the policy does not declare are set aside before: `_declared_only`)."""
    checks: list[_Check] = []
    for spec in TABLES[kind]:
        if spec in present:
            checks += _field_checks(spec)
    if kind == "assessments":
        checks.append(_overlap_check())
    reference = _Reference("hospital_id", "hospital", hospitals, ())
    return checks + _reference_checks(reference)


def _declared_only(
    frame: pl.DataFrame, kind: TableKind, names: Mapping[str, str]
) -> tuple[pl.DataFrame, dict[str, int]]:
    """The rows of the kinds the policy declares, and the count of the others by name. One
    file may serve several cities (the bundled sample serves five): a row of a kind this policy
    does not declare is not its to read — counted and named, not rejected (a misspelt kind shows
    as a kind the policy does not read). A row with no kind stays, to be rejected."""
    column = NAME_COLUMNS[kind]
    other = pl.col(column).is_not_null() & ~pl.col(column).is_in(list(names))
    counts = frame.filter(other).group_by(column).len().sort(column)
    return frame.filter(~other), dict(counts.iter_rows())


#: The year a score holds for: `year`, else the year of `date`, else null (every year).
YEAR = "__year"


def _with_overlaps(frame: pl.DataFrame) -> pl.DataFrame:
    """Flag (`DUPLICATE`) the scores of one hospital and assessment that hold in one year — the
    same year, or one of them naming no year — and list the rows each clashes with."""
    frame = frame.with_columns(
        pl.lit(None, dtype=POLARS_DTYPES[spec.dtype]).alias(spec.name)
        for spec in TABLES["assessments"]
        if spec.name not in frame.columns
    )
    pair, by_year = ["hospital_id", "assessment"], ["hospital_id", "assessment", YEAR]
    frame = frame.with_columns(
        pl.coalesce(pl.col("year"), pl.col("date").dt.year().cast(pl.Int64)).alias(YEAR)
    )
    undated = pl.col(YEAR).is_null()
    clash = (
        pl.when(undated)
        .then(pl.len().over(pair) > 1)
        .otherwise(pl.len().over(by_year) + undated.sum().over(pair) > 1)
    )
    frame = frame.with_columns(clash.fill_null(False).alias(DUPLICATE))
    flagged = pl.col(ROW).filter(pl.col(DUPLICATE))
    every = flagged.over(pair, mapping_strategy="join")
    same_year = pl.concat_list(
        flagged.over(by_year, mapping_strategy="join"),
        pl.col(ROW).filter(pl.col(DUPLICATE) & undated).over(pair, mapping_strategy="join"),
    )
    rows = pl.when(undated).then(every).otherwise(same_year).list.unique().list.sort()
    return frame.with_columns(
        rows.list.len().alias("__clashes"),
        rows.cast(pl.List(pl.String)).list.join(", ").alias("__clash_rows"),
    )


def _overlap_check() -> _Check:
    year = (
        pl.when(pl.col(YEAR).is_null())
        .then(pl.lit("every year"))
        .otherwise(pl.col(YEAR).cast(pl.String))
    )
    reason = _says(
        "assessment {} of hospital {} for {} is given {} times (rows {}); a hospital has one "
        "score per assessment and year — all copies rejected",
        pl.col("assessment"),
        pl.col("hospital_id"),
        year,
        pl.col("__clashes"),
        pl.col("__clash_rows"),
    )
    return _Check("assessment", pl.col(DUPLICATE), reason)


def _finished(kind: TableKind, accepted: pl.DataFrame) -> pl.DataFrame:
    """Accepted rows in an order that does not depend on the file's: deductions with the month
    they count in, assessments with the year they hold for."""
    if kind == "deductions":
        month = pl.col("date").dt.strftime("%Y-%m").alias("month")
        return accepted.with_columns(month).sort(pl.all())
    year = pl.coalesce(pl.col("year"), pl.col("date").dt.year().cast(pl.Int64))
    return accepted.with_columns(year.alias("year")).sort(pl.all(), nulls_last=True)


def _with_table(inputs: Inputs, kind: TableKind, table: _Table | None) -> Inputs:
    """`inputs` with one supervision table: its rows, rejects, file, hash and row count (an
    absent file: no rows)."""
    frame = table.frame if table is not None else empty(kind)
    changes: dict[str, object] = {kind: frame}
    if table is not None:
        changes |= {
            "rejects": pl.concat([inputs.rejects, table.rejects]),
            "file_hashes": inputs.file_hashes | {table.file: table.sha256},
            "rows_read": inputs.rows_read | {kind: table.rows_read},
            "files": inputs.files | {kind: table.file},
            "columns": inputs.columns | {kind: table.columns},
        }
    return replaced(inputs, **changes)


def empty(kind: TableKind) -> pl.DataFrame:
    """No rows, with the columns accepted rows have."""
    schema = {spec.name: POLARS_DTYPES[spec.dtype] for spec in TABLES[kind]}
    if kind == "deductions":
        schema["month"] = pl.String()
    return pl.DataFrame(schema=schema)


# ---- the period's rows and each hospital's value ---------------------------------------------

#: The input tables of supervision, as the IR names them (`FieldRef.table`).
SUPERVISION_TABLES = frozenset({"deductions", "assessments"})


def in_period(inputs: Inputs, period: Period) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The deductions dated in the period, and the scores that hold in it (its year's, or
    naming no year)."""
    deductions = inputs.deductions if inputs.deductions is not None else empty("deductions")
    assessments = inputs.assessments if inputs.assessments is not None else empty("assessments")
    dated = pl.col("date").is_between(period.first_day, period.last_day)
    holds = pl.col("year").is_null() | (pl.col("year") == period.year)
    return deductions.filter(dated), assessments.filter(holds)


def hospital_values(data: RunData, table: str, name: str, monthly: bool) -> pl.DataFrame:
    """Every hospital's value of a declared deduction (元, summed to the fen; 0 without a row)
    or assessment (its score; null without one), with its key columns: `hospital_id`, and
    `month` for a deduction read in a `per month` stage."""
    hospitals = data.hospitals.select("hospital_id")
    if table == "assessments":
        scores = _rows(data, "assessments").filter(pl.col("assessment") == name)
        return hospitals.join(
            scores.select("hospital_id", pl.col("score").alias(name)), on="hospital_id", how="left"
        )
    keys = ["hospital_id", "month"] if monthly else ["hospital_id"]
    rows = _rows(data, "deductions").filter(pl.col("kind") == name)
    fen = money.to_fen(pl.col("amount")).sum()
    sums = rows.group_by(keys).agg(money.yuan_from_fen(fen).alias(name))
    if monthly:
        hospitals = hospitals.join(pl.DataFrame({"month": data.period.month_labels()}), how="cross")
    joined = hospitals.join(sums, on=keys, how="left", maintain_order="left")
    return joined.with_columns(pl.col(name).fill_null(0.0))


def _rows(data: RunData, kind: TableKind) -> pl.DataFrame:
    found = data.deductions if kind == "deductions" else data.assessments
    return found if found is not None else empty(kind)


def value_keys(table: str, monthly: bool) -> list[str]:
    """The key columns of `hospital_values`."""
    return ["hospital_id", "month"] if table == "deductions" and monthly else ["hospital_id"]


def check_scores(
    policy: ir.Policy, inputs: Inputs, data: RunData, read: Mapping[tuple[str, str], str]
) -> None:
    """Refuse (`ContractError`) a run in which a hospital with cases in the period has no score
    of an assessment that an output reads (`read`: (table, column) → the definition reading it):
    a missing score would be a guess. The hospitals with cases are found only where an
    assessment is read: a pass over every case's hospital (1M cases: 45 ms, a tenth of a
    settlement) that a policy without one does not need."""
    assessed = {name: reader for (table, name), reader in read.items() if table == "assessments"}
    if not assessed:
        return
    settled = distinct(data, ["hospital_id"])["hospital_id"].sort()
    file = inputs.files.get("assessments")
    problems = []
    for name, reader in assessed.items():
        scored = _rows(data, "assessments").filter(pl.col("assessment") == name)["hospital_id"]
        missing = settled.filter(~settled.is_in(scored.implode())).to_list()
        if missing:
            problems.append(_missing_scores(policy, file, name, reader, missing, data, inputs))
    if problems:
        raise ContractError(file or "assessments.csv", "score", "\n".join(problems))


def _missing_scores(
    policy: ir.Policy,
    file: str | None,
    name: str,
    reader: str,
    missing: list[str],
    data: RunData,
    inputs: Inputs,
) -> str:
    label = Declared.of(policy).label(name)
    shown = ", ".join(missing[:10]) + (", …" if len(missing) > 10 else "")
    rejected = inputs.rejects.filter(
        (pl.col("file") == (file or ""))
        & pl.col("key").is_in(missing)
        & pl.col("reason").str.contains(name)
    )
    if rejected.height:
        first = rejected.row(0, named=True)
        shown += f" ({rejected.height} row(s) rejected, e.g. row {first['row']}: {first['reason']})"
    where = (
        f"{file} has no {name} score for {data.period.label}"
        if file
        else f"assessments file not found in {inputs.source}; it gives no {name} score"
    )
    return (
        f"{where} for {len(missing)} hospital(s) with cases: {shown}; {policy.city} "
        f"{policy.version} reads {name} ({label}) in `{reader}`, and a missing score would be a "
        f"guess: add a row per hospital (hospital_id, assessment: {name}, score, year: "
        f"{data.period.year})"
    )


def with_deduction_months(data: RunData, closure: Sequence[str]) -> pl.DataFrame:
    """The rows a hospital × month grain is made from: the cases (the very frame, when every
    deduction falls in a month with cases), and the hospital-months with a deduction but no
    case (`RunData.deduction_months`), with the `closure` key columns and their codes."""
    if data.deduction_months.is_empty():
        return data.cases
    columns = [*closure, *carried_codes(data.cases, closure)]
    return pl.concat([data.cases.select(columns), deduction_month_rows(data, columns)])


def deduction_month_rows(data: RunData, columns: Sequence[str]) -> pl.DataFrame:
    """The hospital-months with a deduction but no case, as rows of `columns` of the cases
    (key columns and their codes)."""
    hospitals = data.codes.hospital_codes(data.hospitals.select("hospital_id", "level", "tier"))
    month_code = data.codes.encode("month", pl.col("month")).alias(code_column("month"))
    rows = data.deduction_months.join(hospitals, on="hospital_id").with_columns(month_code)
    return rows.select(columns)

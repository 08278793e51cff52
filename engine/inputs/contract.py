"""Load and validate the input files (输入数据校验): bad rows go to `rejects`, bad files raise.

Every check is a vectorized polars expression over the whole table; a row's reject names its
first failing check, in the order documented in `engine/CONTRACT.md`:

0. a CSV row with more or fewer fields than the header (its values would be in the wrong
   columns);
1. each field in contract order (then the policy's extra fields): missing → unparseable →
   out of range (minimum, plausible bound, choices) → more than 2 decimals (money);
2. duplicate key (all copies rejected);
3. row rules: unreasonable_cost, self_paid, drug_cost, consumable_cost and drug_cost +
   consumable_cost ≤ total_cost;
4. references: hospital, drg_code, secondary_drg (rejected upstream, then unknown).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from engine.inputs.budget import KEYS_USED, BudgetInput, load_budget
from engine.inputs.fields import (
    CONTRACT_VERSION,
    POLARS_DTYPES,
    TABLES,
    FieldSpec,
    TableKind,
    bound_text,
    key_field,
    needs_trimming,
    raw_value,
    typed_value,
)
from engine.inputs.reading import FIELDS, ContractError, locate, read_table
from engine.inputs.stored import CaseStore, frame_field, held, replaced
from engine.inputs.terms import CONTROL_CHARACTERS, ESCAPED, POLARS, RAW_PREFIX, Terms
from engine.plan.money import MAX_MONEY

if TYPE_CHECKING:
    from engine.plan.sql.database import Database

__all__ = [
    "CONTRACT_VERSION",
    "ContractError",
    "FieldSpec",
    "Inputs",
    "load_inputs",
    "load_tables",
    "with_budget",
]

ROW = "__row"
#: The `field` of a reject that concerns the whole row (a CSV row that does not fit the header).
ROW_FIELD = "(row)"
DUPLICATE = "__duplicate"
UNGROUPED_CODES = ["0000", *(f"{chr(letter)}QY" for letter in range(ord("A"), ord("Z") + 1))]
REJECT_SCHEMA = pl.Schema(
    {
        "file": pl.String(),
        "row": pl.Int64(),
        "key": pl.String(),
        "field": pl.String(),
        "reason": pl.String(),
        "value": pl.String(),
    }
)
#: Cases rejected because of their hospital or group, per cause and upstream key.
CAUSES_SCHEMA = pl.Schema({"cause": pl.String(), "key": pl.String(), "cases": pl.Int64()})


@frame_field("cases")
@dataclass(frozen=True)
class Inputs:
    """Validated inputs: typed frames sorted by key, the rejects, what was read — and, per table,
    the file it came from (`files`) and the columns that file has (`columns`: a column not among
    them holds its default); `source` is the data folder. On DuckDB the cases may stay in the
    database (`engine.inputs.stored`): read back when `cases` is first read."""

    cases: pl.DataFrame
    hospitals: pl.DataFrame
    groups: pl.DataFrame
    budget: dict[str, Any]
    rejects: pl.DataFrame
    file_hashes: dict[str, str]
    rows_read: dict[str, int]
    files: dict[str, str] = field(default_factory=dict)
    columns: dict[str, frozenset[str]] = field(default_factory=dict)
    source: Path | None = None
    #: supervision rows (`engine.inputs.supervision`): accepted deductions and assessment scores,
    # None
    #: when the policy declares none (the file is then not read)
    deductions: pl.DataFrame | None = None
    assessments: pl.DataFrame | None = None
    #: cases rejected because of their hospital or group: cause, the hospital or group, cases
    causes: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=CAUSES_SCHEMA))
    #: supervision rows of kinds (assessments) the policy does not declare, by table and name:
    #: not this policy's to read (another city's on shared data), counted, not rejected
    other_kinds: dict[str, dict[str, int]] = field(default_factory=dict)
    #: the budget figures at 0 元, with the words that refuse them where a run reads them
    #: (`engine.inputs.budget.zero_figures`, `engine.run.settle.check_budget_money`)
    budget_zero: dict[str, str] = field(default_factory=dict)
    #: the cases cut to a period and keyed by integer codes, per period (`engine.run.settle.
    #: run_data`): made once per dataset, re-used by every settlement of it; not copied by
    #: `dataclasses.replace` (a replaced frame gets a cache of its own)
    prepared: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def rejected_because(self) -> dict[str, dict[str, int]]:
        """Cases rejected because of their hospital or group (rejected upstream, or not in its
        file), per cause and upstream key: `{"hospital rejected in hospitals.csv": {"H0003":
        780}}` — the money of those cases goes to the others, so it is never silent."""
        found: dict[str, dict[str, int]] = {}
        for row in self.causes.iter_rows(named=True):
            found.setdefault(row["cause"], {})[row["key"]] = row["cases"]
        return found


@dataclass(frozen=True)
class _Table:
    """One input table after validation."""

    file: str
    key: str
    #: the accepted rows (the cases may stay in the database: `engine.inputs.stored`)
    frame: pl.DataFrame | CaseStore
    rejected_keys: pl.Series
    rejects: pl.DataFrame
    rows_read: int
    sha256: str
    columns: frozenset[str]
    causes: pl.DataFrame


@dataclass(frozen=True)
class _Check:
    """One validity check: `fails` flags bad rows — in the `Terms` the check was made with: a
    polars expression, or a SQL tree (`engine.plan.sql.validation`) — and `reason` words them
    (in polars, on bad rows only); a reference check names its `cause` (the row is rejected
    because of another table's)."""

    field: str
    fails: Any
    reason: pl.Expr
    cause: str | None = None
    shown: pl.Expr | None = None

    @property
    def value(self) -> pl.Expr:
        """The value shown in the reject: the field's raw value, unless the check says."""
        return _raw(self.field).cast(pl.String) if self.shown is None else self.shown


@dataclass(frozen=True)
class _Reference:
    """A column whose values must be keys of an accepted row of another table."""

    field: str
    noun: str
    target: _Table
    always_valid: Sequence[str]


def load_inputs(
    data_dir: Path,
    *,
    extra: Mapping[str, Sequence[FieldSpec]] | None = None,
    budget_names: Sequence[str | BudgetInput] = (),
    encoding: str = "utf8",
    database: Database | None = None,
) -> Inputs:
    """Read cases, hospitals, groups (CSV or Parquet) and budget.yaml from `data_dir`.

    `extra` maps "cases" / "hospitals" / "groups" to the extra fields a policy declares;
    `budget_names` are the budget figures the policy needs (a name is one amount or a mapping
    of amounts; a `BudgetInput` says which, as `load_data` gives them); `encoding` is that of
    the CSV files (`reading.ENCODINGS`); on a DuckDB `database` the case file is checked there
    (`engine.plan.sql.validation`), with the same rejects.
    """
    tables = load_tables(data_dir, extra=extra, encoding=encoding, database=database)
    return with_budget(tables, budget_names)


def load_tables(
    data_dir: Path,
    *,
    extra: Mapping[str, Sequence[FieldSpec]] | None = None,
    encoding: str = "utf8",
    database: Database | None = None,
) -> Inputs:
    """`load_inputs` without the budget (`Inputs.budget` is `{}`): hospitals, groups, then the
    cases, which refer to both."""
    extra = extra or {}
    hospitals = _load_table(data_dir, "hospitals", extra.get("hospitals", ()), encoding)
    groups = _load_table(data_dir, "groups", extra.get("groups", ()), encoding)
    references = _case_references(hospitals, groups)
    case_fields = extra.get("cases", ())
    if database is not None and database.name == "duckdb":
        from engine.plan.sql.duckdb_runner import DuckDB
        from engine.plan.sql.validation import load_cases

        assert isinstance(database, DuckDB)
        fields = _merge_fields("cases", case_fields, locate(data_dir, "cases").name)
        keep = database.cases_on_demand
        cases = load_cases(database, data_dir, fields, references, encoding, keep)
    else:
        cases = _load_table(data_dir, "cases", case_fields, encoding, references)
    tables = {"hospitals": hospitals, "groups": groups, "cases": cases}
    return Inputs(
        cases=_with_case_derivations(cases.frame)
        if isinstance(cases.frame, pl.DataFrame)
        else held(cases.frame),  # kept in the database, its derivations made there
        hospitals=_frame(hospitals),
        groups=_frame(groups),
        budget={},
        rejects=pl.concat([table.rejects for table in tables.values()]),
        file_hashes={t.file: t.sha256 for t in tables.values()},
        rows_read={kind: t.rows_read for kind, t in tables.items()},
        files={kind: t.file for kind, t in tables.items()},
        columns={kind: t.columns for kind, t in tables.items()},
        source=data_dir,
        causes=cases.causes,
    )


def with_budget(inputs: Inputs, budget_names: Sequence[str | BudgetInput] = ()) -> Inputs:
    """`inputs` with the budget.yaml of its folder read and validated against the figures
    (`load_inputs`); a per-tier figure needs an amount for every tier the hospitals use."""
    assert inputs.source is not None
    figures = [f if isinstance(f, BudgetInput) else BudgetInput(f, "*") for f in budget_names]
    used = {  # a column the file lacks: `settle.check_columns` says so, with who reads it
        per: inputs.hospitals[column]
        for per, (_, column) in KEYS_USED.items()
        if column in inputs.columns["hospitals"]
    }
    budget_path = inputs.source / "budget.yaml"
    budget, zero = load_budget(budget_path, figures, used)
    budget_hash = {budget_path.name: file_sha256(budget_path)} if budget else {}
    hashes = inputs.file_hashes | budget_hash
    return replaced(inputs, budget=budget, budget_zero=zero, file_hashes=hashes)


def _case_references(hospitals: _Table, groups: _Table) -> tuple[_Reference, ...]:
    return (
        _Reference("hospital_id", "hospital", hospitals, ()),
        _Reference("drg_code", "DRG code", groups, UNGROUPED_CODES),
        _Reference("secondary_drg", "secondary_drg", groups, ()),
    )


def _frame(table: _Table) -> pl.DataFrame:
    assert isinstance(table.frame, pl.DataFrame)  # only the cases stay in a database
    return table.frame


def _with_case_derivations(cases: pl.DataFrame) -> pl.DataFrame:
    """Add `month` (YYYY-MM of discharge) and `ungrouped` (0000 or xQY, 未入组/歧义组)."""
    return cases.with_columns(
        month=pl.col("discharge_date").dt.strftime("%Y-%m"),
        ungrouped=pl.col("drg_code").is_in(UNGROUPED_CODES),
    )


# ---- reading files ---------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, read in pieces (a manifest's record of an input or output)."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def _raw(name: str) -> pl.Expr:
    """The normalized raw value of a field (kept next to the typed value for rejects)."""
    return pl.col(f"{RAW_PREFIX}{name}")


# ---- checks ----------------------------------------------------------------------------------

_TOO_LARGE = (
    "{} {{}} is out of range; money must be at most 90,071,992,547,409.92 元 "
    "(the largest amount kept exact to the fen)"
)

_UNPARSEABLE = {
    "money": "is not an amount of money; write a number such as 1234.50",
    "number": "is not a number",
    "int": "is not a whole number",
    "bool": "is not true or false; write true/false (1/0, yes/no, 是/否 also accepted)",
    "date": "is not a date; write YYYY-MM-DD, e.g. 2024-03-31",
}


def _says(template: str, *values: pl.Expr) -> pl.Expr:
    """A reason built from a template with `{}` holes (only evaluated on rejected rows)."""
    return pl.format(template, *values)


def _field_checks(spec: FieldSpec, t: Terms = POLARS) -> list[_Check]:
    """Checks of one present column, in order: missing, unparseable, range, decimals."""
    name, raw, value = spec.name, t.raw(spec.name), t.col(spec.name)
    shown = _raw(name).cast(pl.String)
    checks = []
    if spec.required:
        checks.append(_Check(name, t.is_null(raw), pl.lit(f"{name} is missing; it is required")))
    if spec.dtype == "text":
        holds = (
            "a text holds none but a tab or a line break"
            if spec.free_text
            else "an identifier or code holds none, nor a tab or a line break"
        )
        reason = _says(
            f"{name} '{{}}' holds a control character (shown escaped, e.g. \\u001b); {holds}",
            shown,
        )
        checks.append(_Check(name, t.control(raw, spec.free_text), reason))
    else:
        unparseable = _says(f"{name} '{{}}' {_UNPARSEABLE[spec.dtype]}", shown)
        checks.append(_Check(name, t.and_(t.not_null(raw), t.is_null(value)), unparseable))
    checks += _range_checks(spec, t)
    if spec.dtype == "money":
        fen = t.mul(value, t.num(100))
        margin = t.add(t.num(1e-6), t.mul(t.abs(fen), t.num(1e-15)))
        inexact = t.gt(t.abs(t.sub(fen, t.round(fen))), margin)
        reason = _says(
            f"{name} {{}} has more than 2 decimals; money is exact to the fen (0.01 元)", shown
        )
        checks.append(_Check(name, inexact, reason))
    return checks


def _range_checks(spec: FieldSpec, t: Terms) -> list[_Check]:
    name, shown, value = spec.name, _raw(spec.name).cast(pl.String), t.col(spec.name)
    checks = [] if spec.minimum is None else [_minimum_check(spec, shown, value, t)]
    if spec.maximum is not None:
        bound = bound_text(spec.maximum)
        reason = _says(
            f"{name} {{}} is above its plausible bound {bound} ({spec.why}); check the value "
            "(engine/CONTRACT.md, Bounds)",
            shown,
        )
        checks.append(_Check(name, t.gt(value, t.num(spec.maximum)), reason))
    elif spec.dtype == "money":
        too_large = _says(_TOO_LARGE.format(name), shown)
        checks.append(_Check(name, t.gt(t.abs(value), t.num(MAX_MONEY)), too_large))
    if spec.choices:
        allowed = ", ".join(map(str, spec.choices))
        reason = _says(f"{name} {{}} is not one of {allowed}", shown)
        checks.append(_Check(name, t.not_(t.among(value, spec.choices)), reason))
    return checks


def _minimum_check(spec: FieldSpec, shown: pl.Expr, value: Any, t: Terms) -> _Check:
    name, low = spec.name, spec.minimum or 0.0
    if spec.exclusive_minimum:
        reason = _says(f"{name} is {{}}; must be > {low:g}", shown)
        return _Check(name, t.le(value, t.num(low)), reason)
    words = f"{name} is negative ({{}})" if low == 0 else f"{name} is {{}}"
    reason = _says(f"{words}; must be ≥ {bound_text(low)}", shown)
    return _Check(name, t.lt(value, t.num(low)), reason)


def _fields_check(width: int, t: Terms = POLARS) -> _Check:
    """A CSV row with more or fewer fields than the header's `width` (`reading.FIELDS`)."""
    reason = _says(
        f"row {{}} (line {{}} of the file) has {{}} fields, the header has {width}: its values "
        'would fall in the wrong columns; quote a value that holds a comma ("1,234.50")',
        pl.col(ROW),
        pl.col(ROW) + 1,
        pl.col(FIELDS),
    )
    shown = pl.col(FIELDS).cast(pl.String)
    return _Check(ROW_FIELD, t.not_null(t.col(FIELDS)), reason, shown=shown)


def _duplicate_check(kind: TableKind, t: Terms = POLARS) -> _Check:
    key = key_field(kind)
    noun = kind.removesuffix("s")
    reason = _says(
        f"{key} {{}} appears {{}} times (rows {{}}); every {noun} must be unique — all copies "
        "rejected",
        pl.col(key),
        pl.col("__copies"),
        pl.col("__copy_rows"),
    )
    return _Check(key, t.col(DUPLICATE), reason)


#: Half a fen, in yuan: the margin of a comparison of sums of amounts exact to the fen.
HALF_FEN = 0.005
#: Parts of a stay's cost (不合理费用, 全自费, 药品费, 耗材费): each at most the stay's total cost.
COST_PARTS = ("unreasonable_cost", "self_paid", "drug_cost", "consumable_cost")


def _row_rule_checks(present: set[str], t: Terms = POLARS) -> list[_Check]:
    """Each part of a stay's cost at most its total (in `COST_PARTS` order), then the drugs and
    consumables together."""
    if "total_cost" not in present:
        return []
    checks = []
    for part in (p for p in COST_PARTS if p in present):
        over = t.gt(t.col(part), t.col("total_cost"))
        reason = _says(
            f"{part} {{}} is more than total_cost {{}}; it must be ≤ total_cost",
            _raw(part).cast(pl.String),
            _raw("total_cost").cast(pl.String),
        )
        checks.append(_Check(part, over, reason))
    if {"drug_cost", "consumable_cost"} <= present:
        # amounts exact to the fen: a sum more than half a fen above the total is above it
        both = t.add(t.col("drug_cost"), t.col("consumable_cost"))
        reason = _says(
            "drug_cost {} + consumable_cost {} is more than total_cost {}; together they are "
            "part of it",
            _raw("drug_cost").cast(pl.String),
            _raw("consumable_cost").cast(pl.String),
            _raw("total_cost").cast(pl.String),
        )
        over = t.gt(both, t.add(t.col("total_cost"), t.num(HALF_FEN)))
        checks.append(_Check("consumable_cost", over, reason))
    return checks


def _reference_checks(ref: _Reference, t: Terms = POLARS) -> list[_Check]:
    """Rejected upstream, then unknown; an empty optional reference (null here) passes."""
    value, file = pl.col(ref.field), ref.target.file
    upstream = t.among_keys(t.col(ref.field), ref.target.rejected_keys)
    valid = pl.concat(
        [_frame(ref.target)[ref.target.key], pl.Series(ref.always_valid, dtype=pl.String)]
    )
    unknown = t.and_(t.not_(t.among_keys(t.col(ref.field), valid)), t.not_(upstream))
    return [
        _Check(
            ref.field,
            upstream,
            _says(
                f"{ref.noun} {{}} is in {file} but was rejected there "
                "(see its reject); fix that row first",
                value,
            ),
            cause=f"{ref.noun} rejected in {file}",
        ),
        _Check(
            ref.field,
            unknown,
            _says(f"{ref.noun} {{}} is not in {file}", value),
            cause=f"{ref.noun} not in {file}",
        ),
    ]


# ---- one table -------------------------------------------------------------------------------


def _merge_fields(kind: TableKind, extra: Sequence[FieldSpec], file: str) -> tuple[FieldSpec, ...]:
    """Contract fields then the policy's extra fields; an extra that repeats a field must agree."""
    fields = {spec.name: spec for spec in TABLES[kind]}
    for spec in extra:
        known = fields.setdefault(spec.name, spec)
        if known.dtype != spec.dtype:
            raise ContractError(
                file,
                spec.name,
                f"the policy declares {kind}.{spec.name} "
                f"as {spec.dtype}, but the contract defines it as {known.dtype}",
            )
    return tuple(fields.values())


def _load_table(
    data_dir: Path,
    kind: TableKind,
    extra: Sequence[FieldSpec],
    encoding: str,
    refs: Sequence[_Reference] = (),
) -> _Table:
    path, key = locate(data_dir, kind), key_field(kind)
    fields = _merge_fields(kind, extra, path.name)
    raw = read_table(path, fields, encoding)
    present = [spec for spec in fields if spec.name in raw.frame.columns]
    frame = _typed_frame(raw.frame, present, key)
    width = len(raw.columns) if FIELDS in raw.frame.columns else None
    checks = _checks(kind, present, [ref for ref in refs if ref.field in raw.frame.columns], width)
    fails = pl.any_horizontal([c.fails.fill_null(False) for c in checks])
    bad = frame.lazy().select(fails).collect().to_series()
    rejected = frame.filter(bad)
    accepted = frame.filter(~bad) if rejected.height else frame  # no copy of a clean file
    return checked_table(
        path, key, fields, present, checks, rejected, accepted, raw.frame.height, raw.columns
    )


def checked_table(
    path: Path,
    key: str,
    fields: Sequence[FieldSpec],
    present: Sequence[FieldSpec],
    checks: Sequence[_Check],
    rejected: pl.DataFrame,
    accepted: pl.DataFrame | CaseStore,
    rows_read: int,
    columns: Sequence[str],
) -> _Table:
    """A table once its rows are checked (here, or in a database: `engine.plan.sql.validation`):
    the `rejected` rows worded by their first failing check, the `accepted` ones (in key order)
    typed as the contract says (rows kept in a database are typed there: `_accepted` by parts)."""
    rejects = _rejects(rejected, checks, path.name, key)
    return _Table(
        file=path.name,
        key=key,
        frame=_accepted(accepted, fields, present)
        if isinstance(accepted, pl.DataFrame)
        else accepted,
        rejected_keys=rejected[key].drop_nulls().unique().sort(),
        rejects=rejects.select(REJECT_SCHEMA.names()),
        rows_read=rows_read,
        sha256=file_sha256(path),
        columns=frozenset(columns),
        causes=_causes(rejects),
    )


def _causes(rejects: pl.DataFrame) -> pl.DataFrame:
    """Rows rejected because of another table's row, counted per cause and upstream key."""
    return (
        rejects.filter(pl.col("cause").is_not_null())
        .group_by("cause", "value")
        .agg(pl.len().cast(pl.Int64).alias("cases"))
        .rename({"value": "key"})
        .sort("cause", "key")
        .cast(CAUSES_SCHEMA)
    )


def _checks(
    kind: TableKind,
    present: Sequence[FieldSpec],
    refs: Sequence[_Reference],
    width: int | None,
    t: Terms = POLARS,
) -> list[_Check]:
    """All checks of a table in the documented order (first failing one names the reject)."""
    checks = [] if width is None else [_fields_check(width, t)]
    checks += [c for spec in present for c in _field_checks(spec, t)]
    checks += [_duplicate_check(kind, t), *_row_rule_checks({spec.name for spec in present}, t)]
    return checks + [c for ref in refs for c in _reference_checks(ref, t)]


def _typed_frame(raw: pl.DataFrame, present: Sequence[FieldSpec], key: str) -> pl.DataFrame:
    """Row number, normalized raw values, typed values and the duplicate-key flag, by key."""
    schema = raw.schema
    texts = [s.name for s in present if schema[s.name] == pl.String]
    checked = raw.select(needs_trimming(name).alias(name) for name in texts) if texts else None
    trimmed = checked.row(0, named=True) if checked is not None else {}

    def raw_of(spec: FieldSpec) -> pl.Expr:
        as_is = spec.name in trimmed and not trimmed[spec.name]
        return pl.col(spec.name) if as_is else raw_value(spec, schema[spec.name])

    normalized = raw.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(ROW),
        *[raw_of(spec).alias(f"__raw__{spec.name}") for spec in present],
        *[pl.col(FIELDS)] * (FIELDS in raw.columns),
    )
    typed = _sorted(normalized, f"__raw__{key}").with_columns(
        [typed_value(spec, _raw(spec.name), schema[spec.name]).alias(spec.name) for spec in present]
    )
    same_as_next = (pl.col(key) == pl.col(key).shift(-1)).fill_null(False)
    return typed.with_columns(
        (same_as_next | same_as_next.shift(1, fill_value=False)).alias(DUPLICATE)
    )


def _sorted(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Sorted by `column` (nulls first, ties by row); an O(n) check skips sorted input."""
    if frame[column].is_sorted():
        return frame
    return frame.sort(column, ROW)


def _accepted(
    frame: pl.DataFrame, fields: Sequence[FieldSpec], present: Sequence[FieldSpec]
) -> pl.DataFrame:
    """Typed columns in contract order, defaults filled in, money rounded to the fen (rows stay
    in key order)."""
    names = {spec.name for spec in present}
    return frame.select(_final(spec, spec.name in names) for spec in fields)


def _final(spec: FieldSpec, present: bool) -> pl.Expr:
    value = pl.col(spec.name) if present else pl.lit(None)
    if not spec.required and spec.default is not None:
        value = value.fill_null(spec.default)
    if spec.dtype == "money":
        value = value.round(2)
    return value.cast(POLARS_DTYPES[spec.dtype]).alias(spec.name)


def _escaped(text: pl.Expr) -> pl.Expr:
    """A text as a reject shows it: its control characters escaped, so that a value written to
    rejects.csv or the terminal cannot move the cursor, retitle the window or hide a line."""
    return text.str.replace_many(CONTROL_CHARACTERS, ESCAPED)


def _rejects(rejected: pl.DataFrame, checks: Sequence[_Check], file: str, key: str) -> pl.DataFrame:
    """One reject row per rejected input row, worded by its first failing check; the texts
    from the data escaped (`_escaped`)."""
    first = pl.coalesce(
        [pl.when(c.fails.fill_null(False)).then(pl.lit(i, pl.Int32)) for i, c in enumerate(checks)]
    )
    return (
        _with_copies(rejected, key)
        .with_columns(first.alias("__first"))
        .select(
            pl.lit(file).alias("file"),
            pl.col(ROW).alias("row"),
            _escaped(_raw(key).cast(pl.String)).alias("key"),
            _of_first([pl.lit(c.field) for c in checks]).alias("field"),
            _escaped(_of_first([c.reason for c in checks])).alias("reason"),
            _escaped(_of_first([c.value for c in checks])).alias("value"),
            _of_first([pl.lit(c.cause, pl.String) for c in checks]).alias("cause"),
        )
        .sort("row")
        .cast(REJECT_SCHEMA | {"cause": pl.String()})
    )


def _of_first(per_check: Sequence[pl.Expr]) -> pl.Expr:
    """For each row, the expression belonging to its first failing check (`__first`)."""
    return pl.coalesce(
        [pl.when(pl.col("__first") == i).then(expr) for i, expr in enumerate(per_check)]
    )


def _with_copies(rejected: pl.DataFrame, key: str) -> pl.DataFrame:
    """Join to each duplicated key its number of copies and their rows (first 10)."""
    copies = (
        rejected.filter(pl.col(DUPLICATE))
        .group_by(key)
        .agg(pl.len().alias("__copies"), pl.col(ROW).sort().alias("__rows"))
        .select(
            key,
            "__copies",
            pl.concat_str(
                pl.col("__rows").list.head(10).cast(pl.List(pl.String)).list.join(", "),
                pl.when(pl.col("__copies") > 10).then(pl.lit(", …")).otherwise(pl.lit("")),
            ).alias("__copy_rows"),
        )
    )
    return rejected.join(copies, on=key, how="left")

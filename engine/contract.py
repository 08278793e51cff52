"""Load and validate the input files (输入数据校验): bad rows go to `rejects`, bad files raise.

Every check is a vectorized polars expression over the whole table; a row's reject names its
first failing check, in the order documented in `engine/CONTRACT.md`:

1. each field in contract order (then the policy's extra fields): missing → unparseable →
   out of range (minimum, choices) → more than 2 decimals (money);
2. duplicate key (all copies rejected);
3. row rules: unreasonable_cost ≤ total_cost;
4. references: hospital, drg_code, secondary_drg (rejected upstream, then unknown).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from engine.fields import (
    CONTRACT_VERSION,
    POLARS_DTYPES,
    TABLES,
    FieldSpec,
    TableKind,
    key_field,
    raw_value,
    typed_value,
)
from policy_dsl.errors import PolicyError

__all__ = ["CONTRACT_VERSION", "ContractError", "FieldSpec", "Inputs", "load_inputs"]

ROW = "__row"
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


class ContractError(PolicyError):
    """A whole input file is unusable (missing, unreadable, missing a column, bad budget)."""

    def __init__(self, file: str, field: str | None, message: str) -> None:
        super().__init__(message)
        self.file = file
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Inputs:
    """Validated inputs: typed frames sorted by key, the rejects, what was read — and, per table,
    the file it came from (`files`) and the columns that file has (`columns`: a column not among
    them holds its default); `source` is the data folder."""

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
    #: supervision rows (`engine.supervision`): accepted deductions and assessment scores, None
    #: when the policy declares none (the file is then not read)
    deductions: pl.DataFrame | None = None
    assessments: pl.DataFrame | None = None


@dataclass(frozen=True)
class _Table:
    """One input table after validation."""

    file: str
    key: str
    frame: pl.DataFrame
    rejected_keys: pl.Series
    rejects: pl.DataFrame
    rows_read: int
    sha256: str
    columns: frozenset[str]


@dataclass(frozen=True)
class _Check:
    """One validity check: `fails` flags bad rows, `reason` words them (on bad rows only)."""

    field: str
    fails: pl.Expr
    reason: pl.Expr


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
    budget_names: Sequence[str] = (),
) -> Inputs:
    """Read cases, hospitals, groups (CSV or Parquet) and budget.yaml from `data_dir`.

    `extra` maps "cases" / "hospitals" / "groups" to the extra fields a policy declares;
    `budget_names` are the budget values the policy needs.
    """
    extra = extra or {}
    hospitals = _load_table(data_dir, "hospitals", extra.get("hospitals", ()), ())
    groups = _load_table(data_dir, "groups", extra.get("groups", ()), ())
    cases = _load_table(
        data_dir, "cases", extra.get("cases", ()), _case_references(hospitals, groups)
    )
    budget, budget_hash = _load_budget(data_dir / "budget.yaml", budget_names)
    tables = {"hospitals": hospitals, "groups": groups, "cases": cases}
    return Inputs(
        cases=_with_case_derivations(cases.frame),
        hospitals=hospitals.frame,
        groups=groups.frame,
        budget=budget,
        rejects=pl.concat([table.rejects for table in tables.values()]),
        file_hashes={t.file: t.sha256 for t in tables.values()} | budget_hash,
        rows_read={kind: t.rows_read for kind, t in tables.items()},
        files={kind: t.file for kind, t in tables.items()},
        columns={kind: t.columns for kind, t in tables.items()},
        source=data_dir,
    )


def _case_references(hospitals: _Table, groups: _Table) -> tuple[_Reference, ...]:
    return (
        _Reference("hospital_id", "hospital", hospitals, ()),
        _Reference("drg_code", "DRG code", groups, UNGROUPED_CODES),
        _Reference("secondary_drg", "secondary_drg", groups, ()),
    )


def _with_case_derivations(cases: pl.DataFrame) -> pl.DataFrame:
    """Add `month` (YYYY-MM of discharge) and `ungrouped` (0000 or xQY, 未入组/歧义组)."""
    return cases.with_columns(
        month=pl.col("discharge_date").dt.strftime("%Y-%m"),
        ungrouped=pl.col("drg_code").is_in(UNGROUPED_CODES),
    )


# ---- reading files ---------------------------------------------------------------------------


def _locate(data_dir: Path, kind: str) -> Path:
    found = [data_dir / f"{kind}.{ext}" for ext in ("csv", "parquet")]
    present = [path for path in found if path.is_file()]
    if len(present) == 1:
        return present[0]
    if present:
        raise ContractError(
            present[0].name,
            None,
            f"both {kind}.csv and {kind}.parquet are in {data_dir}; keep exactly one",
        )
    raise ContractError(
        f"{kind}.csv",
        None,
        f"{kind} file not found in {data_dir}; expected {kind}.csv or {kind}.parquet",
    )


def _scan(path: Path) -> pl.LazyFrame:
    if path.suffix == ".csv":
        return pl.scan_csv(path, infer_schema=False, encoding="utf8")
    return pl.scan_parquet(path)


def _read(path: Path, fields: Sequence[FieldSpec]) -> pl.DataFrame:
    """The known columns of one file, raw (all text for CSV, native types for Parquet)."""
    try:
        scan = _scan(path)
        found = scan.collect_schema().names()
        _require_columns(path.name, fields, found)
        known = [spec.name for spec in fields if spec.name in found]
        return scan.select(known).collect()
    except (pl.exceptions.PolarsError, OSError) as exc:
        kind = "CSV (UTF-8, comma-separated, header line)" if path.suffix == ".csv" else "Parquet"
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ContractError(
            path.name, None, f"{path.name} could not be read as {kind}: {detail}"
        ) from exc


def _require_columns(file: str, fields: Sequence[FieldSpec], found: Sequence[str]) -> None:
    required = [spec.name for spec in fields if spec.required]
    missing = [name for name in required if name not in found]
    if missing:
        raise ContractError(
            file,
            missing[0],
            f"{file} has no column {', '.join(missing)}; "
            f"required columns: {', '.join(required)}; "
            f"columns found: {', '.join(found) or '(none)'}",
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def _raw(name: str) -> pl.Expr:
    """The normalized raw value of a field (kept next to the typed value for rejects)."""
    return pl.col(f"__raw__{name}")


# ---- checks ----------------------------------------------------------------------------------

#: The largest amount in 元 a double holds exactly to the fen (2**53 fen).
MAX_MONEY = 2.0**53 / 100
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


def _field_checks(spec: FieldSpec) -> list[_Check]:
    """Checks of one present column, in order: missing, unparseable, range, decimals."""
    name, raw, value = spec.name, _raw(spec.name), pl.col(spec.name)
    checks = []
    if spec.required:
        checks.append(_Check(name, raw.is_null(), pl.lit(f"{name} is missing; it is required")))
    if spec.dtype != "text":
        unparseable = _says(f"{name} '{{}}' {_UNPARSEABLE[spec.dtype]}", raw.cast(pl.String))
        checks.append(_Check(name, raw.is_not_null() & value.is_null(), unparseable))
    checks += _range_checks(spec)
    if spec.dtype == "money":
        fen = value * 100
        inexact = (fen - fen.round()).abs() > 1e-6 + fen.abs() * 1e-15
        reason = _says(
            f"{name} {{}} has more than 2 decimals; money is exact to the fen (0.01 元)",
            raw.cast(pl.String),
        )
        checks.append(_Check(name, inexact, reason))
    return checks


def _range_checks(spec: FieldSpec) -> list[_Check]:
    name, shown, value = spec.name, _raw(spec.name).cast(pl.String), pl.col(spec.name)
    checks = [] if spec.minimum is None else [_minimum_check(spec, shown, value)]
    if spec.dtype == "money":
        checks.append(_Check(name, value.abs() > MAX_MONEY, _says(_TOO_LARGE.format(name), shown)))
    if spec.choices:
        allowed = ", ".join(map(str, spec.choices))
        reason = _says(f"{name} {{}} is not one of {allowed}", shown)
        checks.append(_Check(name, ~value.is_in(list(spec.choices)), reason))
    return checks


def _minimum_check(spec: FieldSpec, shown: pl.Expr, value: pl.Expr) -> _Check:
    name, low = spec.name, spec.minimum or 0.0
    if spec.exclusive_minimum:
        return _Check(name, value <= low, _says(f"{name} is {{}}; must be > {low:g}", shown))
    words = f"{name} is negative ({{}})" if low == 0 else f"{name} is {{}}"
    return _Check(name, value < low, _says(f"{words}; must be ≥ {low:g}", shown))


def _duplicate_check(kind: TableKind) -> _Check:
    key = key_field(kind)
    noun = kind.removesuffix("s")
    reason = _says(
        f"{key} {{}} appears {{}} times (rows {{}}); every {noun} must be unique — all copies "
        "rejected",
        pl.col(key),
        pl.col("__copies"),
        pl.col("__copy_rows"),
    )
    return _Check(key, pl.col(DUPLICATE), reason)


def _row_rule_checks(present: set[str]) -> list[_Check]:
    if not {"unreasonable_cost", "total_cost"} <= present:
        return []
    over = pl.col("unreasonable_cost") > pl.col("total_cost")
    reason = _says(
        "unreasonable_cost {} is more than total_cost {}; it must be ≤ total_cost",
        _raw("unreasonable_cost").cast(pl.String),
        _raw("total_cost").cast(pl.String),
    )
    return [_Check("unreasonable_cost", over, reason)]


def _reference_checks(ref: _Reference) -> list[_Check]:
    """Rejected upstream, then unknown; an empty optional reference (null here) passes."""
    value, file = pl.col(ref.field), ref.target.file
    upstream = value.is_in(ref.target.rejected_keys.implode())
    valid = pl.concat(
        [ref.target.frame[ref.target.key], pl.Series(ref.always_valid, dtype=pl.String)]
    )
    unknown = ~value.is_in(valid.implode()) & ~upstream
    return [
        _Check(
            ref.field,
            upstream,
            _says(
                f"{ref.noun} {{}} is in {file} but was rejected there "
                "(see its reject); fix that row first",
                value,
            ),
        ),
        _Check(ref.field, unknown, _says(f"{ref.noun} {{}} is not in {file}", value)),
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
    data_dir: Path, kind: TableKind, extra: Sequence[FieldSpec], refs: Sequence[_Reference]
) -> _Table:
    path, key = _locate(data_dir, kind), key_field(kind)
    fields = _merge_fields(kind, extra, path.name)
    raw = _read(path, fields)
    present = [spec for spec in fields if spec.name in raw.columns]
    frame = _typed_frame(raw, present, key, from_csv=path.suffix == ".csv")
    checks = _checks(kind, present, [ref for ref in refs if ref.field in raw.columns])
    fails = pl.any_horizontal([c.fails.fill_null(False) for c in checks])
    bad = frame.lazy().select(fails).collect().to_series()
    rejected = frame.filter(bad)
    accepted = frame.filter(~bad) if rejected.height else frame  # no copy of a clean file
    return _Table(
        file=path.name,
        key=key,
        frame=_accepted(accepted, fields, present),
        rejected_keys=rejected[key].drop_nulls().unique().sort(),
        rejects=_rejects(rejected, checks, path.name, key),
        rows_read=raw.height,
        sha256=_sha256(path),
        columns=frozenset(raw.columns),
    )


def _checks(
    kind: TableKind, present: Sequence[FieldSpec], refs: Sequence[_Reference]
) -> list[_Check]:
    """All checks of a table in the documented order (first failing one names the reject)."""
    checks = [c for spec in present for c in _field_checks(spec)] + [_duplicate_check(kind)]
    checks += _row_rule_checks({spec.name for spec in present})
    return checks + [c for ref in refs for c in _reference_checks(ref)]


def _typed_frame(
    raw: pl.DataFrame, present: Sequence[FieldSpec], key: str, *, from_csv: bool
) -> pl.DataFrame:
    """Row number, normalized raw values, typed values and the duplicate-key flag, by key."""
    schema = raw.schema
    normalized = raw.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(ROW),
        *[
            raw_value(spec, schema[spec.name], from_csv=from_csv).alias(f"__raw__{spec.name}")
            for spec in present
        ],
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


def _rejects(rejected: pl.DataFrame, checks: Sequence[_Check], file: str, key: str) -> pl.DataFrame:
    """One reject row per rejected input row, worded by its first failing check."""
    first = pl.coalesce(
        [pl.when(c.fails.fill_null(False)).then(pl.lit(i, pl.Int32)) for i, c in enumerate(checks)]
    )
    return (
        _with_copies(rejected, key)
        .with_columns(first.alias("__first"))
        .select(
            pl.lit(file).alias("file"),
            pl.col(ROW).alias("row"),
            _raw(key).cast(pl.String).alias("key"),
            _of_first([pl.lit(c.field) for c in checks]).alias("field"),
            _of_first([c.reason for c in checks]).alias("reason"),
            _of_first([_raw(c.field).cast(pl.String) for c in checks]).alias("value"),
        )
        .sort("row")
        .cast(REJECT_SCHEMA)
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


# ---- budget ----------------------------------------------------------------------------------


class _BudgetLoader(yaml.SafeLoader):
    """Safe YAML loader that also reads 1e8 and 1.0e8 as numbers (YAML 1.2; PyYAML's 1.1 rules
    would read them as text)."""


_BudgetLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?([0-9][0-9_]*(\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)

_BUDGET_SHAPE = (
    'expected a YAML mapping with contract_version (e.g. "1.0"), year (e.g. 2024) and values '
    "(name: number, or name: {key: number})"
)


def _load_budget(path: Path, names: Sequence[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Read budget.yaml; absent is fine only when the policy needs no budget value."""
    if not path.is_file():
        if names:
            raise ContractError(
                path.name,
                names[0],
                f"{path.name} not found in {path.parent}; the "
                f"policy needs budget values {', '.join(names)}; {_BUDGET_SHAPE}",
            )
        return {}, {}
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_BudgetLoader)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ContractError(
            path.name, None, f"{path.name} is not valid YAML ({exc}); {_BUDGET_SHAPE}"
        ) from exc
    budget = _checked_budget(path.name, document)
    _require_budget_names(path.name, budget["values"], names)
    return budget, {path.name: _sha256(path)}


def _checked_budget(file: str, document: object) -> dict[str, Any]:
    if not isinstance(document, dict) or not {"contract_version", "year", "values"} <= set(
        document
    ):
        raise ContractError(file, None, f"{file} is malformed; {_BUDGET_SHAPE}")
    version = str(document["contract_version"])
    if version.split(".")[0] != CONTRACT_VERSION.split(".")[0]:
        raise ContractError(
            file,
            "contract_version",
            f"{file} has contract_version {version}; expected {CONTRACT_VERSION} (or another 1.x)",
        )
    if not _is_int(document["year"]):
        raise ContractError(
            file, "year", f"{file}: year is {document['year']!r}; expected a year such as 2024"
        )
    values = document["values"]
    if not isinstance(values, dict):
        raise ContractError(file, "values", f"{file}: values is not a mapping; {_BUDGET_SHAPE}")
    for name, value in values.items():
        _check_budget_value(file, str(name), value)
    return {"contract_version": version, "year": document["year"], "values": values}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_amount(value: object) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= MAX_MONEY
    )


def _check_budget_value(file: str, name: str, value: object) -> None:
    inner = value.values() if isinstance(value, dict) else [value]
    if not inner or not all(_is_amount(v) for v in inner):
        raise ContractError(
            file,
            name,
            f"{file}: values.{name} is {value!r}; expected a number "
            "≥ 0 in 元 (at most 90,071,992,547,409.92), or a mapping of keys to such numbers "
            "(e.g. {A: 1.0e8})",
        )


def _require_budget_names(file: str, values: Mapping[str, Any], names: Sequence[str]) -> None:
    missing = [name for name in names if name not in values]
    if missing:
        raise ContractError(
            file,
            missing[0],
            f"{file}: values has no {', '.join(missing)}; the "
            f"policy needs it (a number in 元, or a mapping such as "
            f"{{A: 1.0e8, B: 5.0e7}}); found: {', '.join(map(str, values)) or '(none)'}",
        )

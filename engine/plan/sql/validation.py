"""The contract's validation of the case file in DuckDB (SQL 校验): out of core, over the file.

The case file is checked by the contract's own checks (`engine.inputs.contract`), stated once
in `engine.inputs.terms.Terms` and rendered here as SQL trees (`SqlTerms`): a Parquet file is
read by DuckDB (`read_parquet`, its row numbers from the file); a CSV file is read by the
contract's reader (`engine.inputs.reading`: its rules for ragged rows, BOMs and encodings) and
its text checked in DuckDB. Values are read as polars reads them (`engine.inputs.fields`:
trimmed text, empty as missing, numbers, whole numbers, booleans and ISO dates), each row's
first failing check is found in the database, and only the rejected rows come back, to be
worded by the same polars code as on the polars backend — same rows, same causes, same words.
The accepted cases are read back in key order.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import duckdb
import polars as pl
from sqlglot import exp

from engine.inputs import contract as c
from engine.inputs.fields import (
    BOOL_WORDS,
    POLARS_DTYPES,
    FieldSpec,
    empty_text,
    fits_natively,
    key_field,
    white_space_around,
)
from engine.inputs.reading import (
    FIELDS,
    ContractError,
    checked_columns,
    read_table,
    refuse_float32_money,
    refuse_nested,
    refuse_zoned_dates,
    unreadable,
)
from engine.inputs.terms import CONTROL, KEY_CONTROL, RAW_PREFIX
from engine.plan.sql import build as b
from engine.plan.sql.case_table import DuckCases
from engine.plan.sql.duckdb_runner import DuckDB

#: What polars' `str.strip_chars()` strips: Unicode white space (Rust's `char::is_whitespace`).
WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
WHITE_SPACE += "\u2028\u2029\u202f\u205f\u3000"
_SQL_TYPES = {
    "money": "DOUBLE",
    "number": "DOUBLE",
    "int": "BIGINT",
    "bool": "BOOLEAN",
    "date": "DATE",
    "text": "VARCHAR",
}
_FIRST = "__first"
#: What a String column's texts hold (`_texts_found`): white space around one; an empty one.
Found = tuple[bool, bool]
#: The answer for a column not asked about (not a String column): both, so it is trimmed.
_UNKNOWN: Found = (True, True)
#: Case files checked in this process: each load's tables have names of their own.
_LOADS = itertools.count(1)


class SqlTerms:
    """The contract's checks as SQL trees (`engine.inputs.terms.Terms`) on a DuckDB database."""

    def __init__(self, db: DuckDB, prefix: str) -> None:
        self.db = db
        self.prefix = prefix
        self.tables: list[str] = []

    def col(self, name: str) -> b.Node:
        return b.col(name)

    def raw(self, name: str) -> b.Node:
        return b.col(f"{RAW_PREFIX}{name}")

    def num(self, value: float) -> b.Node:
        return b.num(value)

    def is_null(self, value: b.Node) -> b.Node:
        return b.is_null(value)

    def not_null(self, value: b.Node) -> b.Node:
        return b.is_not_null(value)

    def not_(self, value: b.Node) -> b.Node:
        return b.not_(value)

    def and_(self, left: b.Node, right: b.Node) -> b.Node:
        return b.and_(left, right)

    def lt(self, left: b.Node, right: b.Node) -> b.Node:
        return b.compare("<", left, right)

    def le(self, left: b.Node, right: b.Node) -> b.Node:
        return b.compare("<=", left, right)

    def gt(self, left: b.Node, right: b.Node) -> b.Node:
        return b.compare(">", left, right)

    def add(self, left: b.Node, right: b.Node) -> b.Node:
        return b.add(left, right)

    def sub(self, left: b.Node, right: b.Node) -> b.Node:
        return b.sub(left, right)

    def mul(self, left: b.Node, right: b.Node) -> b.Node:
        return b.mul(left, right)

    def abs(self, value: b.Node) -> b.Node:
        return b.abs_(value)

    def round(self, value: b.Node) -> b.Node:
        return exp.Round(this=value)

    def control(self, value: b.Node, free_text: bool) -> b.Node:
        pattern = CONTROL if free_text else KEY_CONTROL
        return exp.RegexpLike(this=value, expression=b.text(pattern))

    def among(self, value: b.Node, choices: Sequence[int | str]) -> b.Node:
        literals = [b.text(v) if isinstance(v, str) else b.integer(v) for v in choices]
        return b.in_(value, literals)

    def among_keys(self, value: b.Node, keys: pl.Series) -> b.Node:
        name = f"{self.prefix}_keys{len(self.tables)}"
        self.db.register(name, pl.DataFrame({"key": keys.cast(pl.String)}))
        self.tables.append(name)
        query = exp.select(b.col("key")).from_(b.table(name))
        return exp.Paren(this=exp.In(this=b.paren(value), query=query.subquery()))


def raw_sql(spec: FieldSpec, dtype: pl.DataType, found: Found = _UNKNOWN) -> b.Node:
    """`fields.raw_value` in SQL: native if it fits, else trimmed text, empty as missing.
    `found` (`_texts_found`) says whether any text of the column has white space around it and
    whether any is empty: a column with neither is its raw value as it is (as
    `contract._typed_frame` takes it, `fields.needs_trimming`), one with no white space is not
    trimmed — each text tested costs more than the column's one test."""
    if fits_natively(spec, dtype):
        return b.col(spec.name)
    text, spaces = b.cast(b.col(spec.name), "VARCHAR"), b.text(WHITE_SPACE)
    around, empty = found
    if around:  # trimming by a set of characters costs five times a plain TRIM: where it trims
        edge = b.or_(
            b.func("CONTAINS", spaces, b.func("LEFT", text, b.integer(1))),
            b.func("CONTAINS", spaces, b.func("RIGHT", text, b.integer(1))),
        )
        text = b.case([(edge, exp.Trim(this=text, expression=spaces))], text)
    if around or empty:
        return b.case([(b.compare("!=", text, b.text("")), text)])
    return text


def typed_sql(spec: FieldSpec, dtype: pl.DataType, raw: b.Node) -> b.Node:
    """`fields.typed_value` in SQL: the contract-typed value, null where missing or unparseable."""
    if fits_natively(spec, dtype):
        if spec.dtype in ("money", "number"):
            return _finite(b.cast(raw, "DOUBLE"))
        return b.try_cast(raw, _SQL_TYPES[spec.dtype])  # a UINT64 beyond BIGINT: rejected
    match spec.dtype:
        case "money" | "number":
            return _finite(_number(raw))
        case "int":
            number = _number(raw)
            whole = b.and_(
                b.func("ISFINITE", number),
                b.compare("==", number, b.floor(number)),
                b.compare("<", b.abs_(number), b.num(2.0**53)),
            )
            return b.case([(whole, b.cast(number, "BIGINT"))])
        case "bool":
            words = exp.Lower(this=raw)
            return b.case(
                (b.in_(words, [b.text(w) for w, truth in BOOL_WORDS.items() if truth is flag]),
                 b.boolean(flag))
                for flag in (True, False)
            )  # fmt: skip
        case "date":
            iso = exp.RegexpFullMatch(this=raw, expression=b.text(r"\d{4}-\d{2}-\d{2}"))
            day = b.func("TRY_STRPTIME", raw, b.text("%Y-%m-%d"))
            return b.case([(iso, b.cast(day, "DATE"))])
    return raw


def _number(raw: b.Node) -> b.Node:
    """Text as polars reads a number: DuckDB's cast, except that polars reads no `1_000`."""
    underscored = b.func("CONTAINS", raw, b.text("_"))
    return b.case([(underscored, b.typed_null("DOUBLE"))], b.try_cast(raw, "DOUBLE"))


def _finite(value: b.Node) -> b.Node:
    return b.case([(b.func("ISFINITE", value), value)])


def load_cases(
    db: DuckDB,
    data_dir: Path,
    fields: Sequence[FieldSpec],
    refs: Sequence[c._Reference],
    encoding: str,
    keep: bool = False,
) -> c._Table:
    """The case file checked in DuckDB (`contract._load_table`'s result, the same rows);
    `keep`: the accepted rows stay in the database (`_kept`), never read back whole."""
    path, key = c.locate(data_dir, "cases"), key_field("cases")
    prefix = f"__cases{next(_LOADS)}"
    source, schema, columns, read = _source(db, path, fields, encoding, prefix)
    present = [spec for spec in fields if spec.name in schema]
    width = len(columns) if FIELDS in schema else None
    terms = SqlTerms(db, prefix)
    found = [ref for ref in refs if ref.field in schema]
    checked = exp.Table(this=b.ident(f"{prefix}_checked"))
    copies = exp.Table(this=b.ident(f"{prefix}_copies"))
    texts = _texts_found(read, [spec.name for spec in present if schema[spec.name] == pl.String])
    try:
        sql_checks = c._checks("cases", present, found, width, terms)
        row = _checked(db, source, present, schema, key, sql_checks, checked, texts)
        duplicate = _duplicate(db, checked, key, copies)
        rows_read = int(db.fetch(exp.select(exp.Count(this=exp.Star())).from_(checked)).item())
        typed = {spec.name: POLARS_DTYPES[spec.dtype] for spec in present}
        failed = b.or_(b.is_not_null(b.col(_FIRST)), duplicate.copy())
        with_duplicate = row | {c.DUPLICATE: duplicate}
        rejected = _read(db, checked, with_duplicate, failed, [b.col(c.ROW)])
        rejected = rejected.cast(typed)  # type: ignore[arg-type]
        passed = b.and_(b.is_null(b.col(_FIRST)), b.not_(duplicate.copy()))
        accepted: pl.DataFrame | DuckCases
        if keep:
            accepted = _kept(db, checked, passed, typed, fields, present, f"{prefix}_accepted")
        else:
            order = [row[f"{RAW_PREFIX}{key}"], b.col(c.ROW)]
            values = {name: row[name] for name in typed}
            accepted = _read(db, checked, values, passed, order)
            accepted = accepted.cast(typed)  # type: ignore[arg-type]
    except duckdb.Error as exc:  # a Parquet file polars reads the schema of, DuckDB not
        detail = str(exc).strip().splitlines()[0]
        message = f"{path.name} could not be read as Parquet: {detail}"
        raise ContractError(path.name, None, message) from exc
    finally:
        for table in (checked, copies):
            db.con.execute(db.sql(exp.Drop(tables=[table], kind="TABLE", exists=True)))
        for name in [*terms.tables, *([source.name] if path.suffix == ".csv" else [])]:
            db.con.unregister(name)
    checks = c._checks("cases", present, found, width)
    return c.checked_table(
        path, key, fields, present, checks, rejected, accepted, rows_read, columns
    )


def _kept(
    db: DuckDB,
    checked: exp.Table,
    passed: b.Node,
    typed: dict[str, pl.DataType],
    fields: Sequence[FieldSpec],
    present: Sequence[FieldSpec],
    name: str,
) -> DuckCases:
    """The rows of `checked` that `passed` as table `name`, typed as the contract types them —
    `contract._accepted` (defaults, money to the fen) and `contract._with_case_derivations`
    (month, ungrouped) said in SQL, one statement in the database: no row leaves it (until
    2026-12-07 the rows went to polars and back, a million at a time: a third of checking the
    case file). The types are those polars gives an empty frame; the values are polars'
    (`tests/backends`)."""
    names = {spec.name for spec in present}
    final = [b.alias(_final_sql(spec, spec.name in names), spec.name) for spec in fields]
    month = b.func("STRFTIME", b.col("discharge_date"), b.text("%Y-%m"))
    ungrouped = b.in_(b.col("drg_code"), [b.text(code) for code in c.UNGROUPED_CODES])
    accepted = exp.select(*final).from_(checked.copy()).where(passed).subquery("a")
    query = exp.select(exp.Star(), b.alias(month, "month"), b.alias(ungrouped, "ungrouped"))
    db.execute(exp.Create(this=b.table(name), kind="TABLE", expression=query.from_(accepted)))
    empty = c._with_case_derivations(c._accepted(pl.DataFrame(schema=typed), fields, present))
    return DuckCases(db, name, dict(empty.schema))


def _final_sql(spec: FieldSpec, present: bool) -> b.Node:
    """`contract._final` in SQL: the typed value, its default where missing, money to the fen
    (DuckDB's `ROUND(x, 2)` is polars' `round(2)`: x × 100 rounded, ÷ 100)."""
    kind = _SQL_TYPES[spec.dtype]
    value = b.col(spec.name) if present else b.typed_null(kind)
    if not spec.required and spec.default is not None:
        value = b.coalesce(value, _literal(spec))
    if spec.dtype == "money":
        value = exp.Round(this=value, decimals=b.integer(2))
    return b.cast(value, kind)


def _literal(spec: FieldSpec) -> b.Node:
    default = spec.default
    if isinstance(default, bool):
        return b.boolean(default)
    if spec.dtype in ("money", "number"):
        return b.num(float(default))  # type: ignore[arg-type]
    return b.integer(default) if isinstance(default, int) else b.text(str(default))


def _source(
    db: DuckDB, path: Path, fields: Sequence[FieldSpec], encoding: str, prefix: str
) -> tuple[exp.Table, dict[str, pl.DataType], list[str], pl.LazyFrame]:
    """The file as a table of its known columns and `ROW` (and `FIELDS` for a CSV), their types,
    all the file's column names, and the same columns as polars reads them (lazily)."""
    if path.suffix == ".csv":
        raw = read_table(path, fields, encoding)
        frame = raw.frame.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(c.ROW))
        name = f"{prefix}_csv"
        db.register(name, frame)
        return exp.Table(this=b.ident(name)), dict(frame.schema), raw.columns, frame.lazy()
    scan = pl.scan_parquet(path)
    try:
        names = scan.collect_schema().names()
    except (pl.exceptions.PolarsError, OSError) as exc:  # as the contract's reader says it
        raise unreadable(path, exc, encoding) from exc
    known = checked_columns(path.name, fields, names)
    schema = dict(scan.select(known).collect_schema())
    refuse_nested(path.name, schema, fields)
    single = [s.name for s in fields if s.dtype == "money" and schema.get(s.name) == pl.Float32]
    if single:
        refuse_float32_money(path.name, scan.select(single).drop_nulls().head(1).collect(), fields)
    refuse_zoned_dates(path.name, schema, fields)
    read = b.func(
        "read_parquet",
        b.text(str(path)),
        exp.PropertyEQ(this=b.ident("file_row_number"), expression=b.boolean(True)),
    )
    row = b.alias(b.add(b.col("file_row_number"), b.integer(1)), c.ROW)
    query = exp.select(row, *(b.col(n) for n in known)).from_(exp.Table(this=read))
    return exp.Table(this=query.subquery()), schema | {c.ROW: pl.Int64()}, names, scan


def _texts_found(frame: pl.LazyFrame, names: Sequence[str]) -> dict[str, Found]:
    """Whether any text of each String column `names` has white space around it, and whether
    any is empty: one pass of polars over those columns (streaming, bounded memory), as the
    polars backend asks (`fields.needs_trimming`). A file polars cannot read so is trimmed
    throughout (`raw_sql`'s default): DuckDB then says what it cannot read, as before."""
    around = [white_space_around(name).alias(f"around{i}") for i, name in enumerate(names)]
    empty = [empty_text(name).alias(f"empty{i}") for i, name in enumerate(names)]
    try:
        found = frame.select(*around, *empty).collect(engine="streaming").row(0)
    except (pl.exceptions.PolarsError, OSError):
        return {}
    return {name: (found[i], found[len(names) + i]) for i, name in enumerate(names)}


def _checked(
    db: DuckDB,
    source: exp.Table,
    present: Sequence[FieldSpec],
    schema: dict[str, pl.DataType],
    key: str,
    checks: Sequence[c._Check],
    checked: exp.Table,
    texts: dict[str, Found],
) -> dict[str, b.Node]:
    """Make `checked`, a table of the rows in one pass over the file: row number, raw and typed
    values (a text once: its typed value is its raw one) and the index of the first failing
    check but the duplicate key (`__first`, null for a row no other check rejects: duplicates
    are known once every row is, `_duplicate`). Returns a row's columns as `contract.
    _typed_frame` names them — row, raw values, `FIELDS`, typed values — read from `checked`."""
    raw = {
        spec.name: raw_sql(spec, schema[spec.name], texts.get(spec.name, _UNKNOWN))
        for spec in present
    }
    normalized = exp.select(
        b.col(c.ROW),
        *(b.alias(node, f"{RAW_PREFIX}{name}") for name, node in raw.items()),
        *([b.col(FIELDS)] if FIELDS in schema else []),
    ).from_(source.copy())
    typed = [
        b.alias(typed_sql(spec, schema[spec.name], b.col(f"{RAW_PREFIX}{spec.name}")), spec.name)
        for spec in present
    ]
    with_typed = exp.select(exp.Star(), *typed).from_(normalized.subquery("n"))
    first = b.case(  # a null test fails no row: a CASE takes no WHEN that is null
        (check.fails, b.integer(i))
        for i, check in enumerate(checks)
        if check.fails != b.col(c.DUPLICATE)
    )
    # a text's typed value is its raw value (`typed_sql`): kept once, under the field's name
    row: dict[str, b.Node] = {c.ROW: b.col(c.ROW)}
    row |= {
        f"{RAW_PREFIX}{spec.name}": b.col(
            spec.name if spec.dtype == "text" else f"{RAW_PREFIX}{spec.name}"
        )
        for spec in present
    }
    row |= {FIELDS: b.col(FIELDS)} if FIELDS in schema else {}
    row |= {spec.name: b.col(spec.name) for spec in present}
    kept = dict.fromkeys(node.name for node in row.values())
    query = exp.select(*map(b.col, kept), b.alias(first, _FIRST)).from_(with_typed.subquery("t"))
    db.con.execute(db.sql(exp.Create(this=checked.copy(), kind="TABLE", expression=query)))
    return row


def _duplicate(db: DuckDB, checked: exp.Table, key: str, copies: exp.Table) -> b.Node:
    """Whether a row of `checked` has a key another row has too: the keys held more than once
    made a table (`copies`) from `checked`'s key column, the file not read again."""
    counted = exp.select(b.col(key)).from_(checked.copy()).where(b.is_not_null(b.col(key)))
    held = counted.group_by(b.col(key)).having(
        b.compare(">", exp.Count(this=exp.Star()), b.integer(1))
    )
    db.con.execute(db.sql(exp.Create(this=copies.copy(), kind="TABLE", expression=held)))
    among = exp.select(b.col(key)).from_(copies.copy()).subquery()
    return b.coalesce(exp.In(this=b.col(key), query=among), b.boolean(False))


def _read(
    db: DuckDB,
    table: exp.Table,
    columns: dict[str, b.Node],
    where: b.Node,
    order: Sequence[b.Node],
) -> pl.DataFrame:
    selected = [b.alias(node.copy(), name) for name, node in columns.items()]
    query = exp.select(*selected).from_(table.copy()).where(where)
    return db.fetch(query.order_by(*(b.ordered(n.copy()) for n in order)))

"""A settling stage's cases table written by the database (病例表由数据库写出): on DuckDB,
`<stage>/cases.csv` / `.parquet` is `COPY (<query>) TO '<staging>/<stage>/cases.<fmt>'`, so a
province's cases never come back into polars to be written.

The query is the polars path's table column for column (`engine.run.outputs.stage_tables`, then
`whole_counts`, `decimals.rounded`, `table_files.csv_frame` and, with `--labels zh`,
`output_labels.in_chinese`), the same operations in the same order:

- the case keys and outputs, a coarser value (`point_value`) joined to each case by its keys;
- money in whole fen by the money rule, written as a 2-decimal DECIMAL (`123.45`, `-0.05`);
- a `count` as `round` (half to even, polars' default) cast to BIGINT;
- any other double rounded as polars rounds it (`round(x × 10ᵈ) / 10ᵈ`, the value itself where
  that is not finite), unless a later stage reads it as computed;
- in CSV, a double below 10⁻⁴ written as polars writes it (`0.00001`, `1.5e-7`: DuckDB would
  write `1e-05`, `1.5e-07`); every other double, text, boolean, date and null DuckDB writes
  byte for byte as polars does, given `COMMENT ''` (else DuckDB quotes a text holding `#`).

CSV is byte-identical to polars'; Parquet is equal in content (the same columns, types —
money DECIMAL(38, 2), classes as text — values, order and key-value metadata), not in bytes:
DuckDB's writer cuts row groups and encodes pages its own way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from sqlglot import exp

from engine.inputs.contract import file_sha256
from engine.inputs.earlier import read_later
from engine.plan.polars.frames import key_columns
from engine.plan.sql import build as b
from engine.plan.sql.database import Database
from engine.plan.sql.expressions import round_half_away
from engine.plan.sql.narrow import CASE_AMOUNTS, CASE_KEYS
from engine.plan.sql.plan import SqlStage
from engine.plan.sql.results import column_types
from engine.run.decimals import decimals
from engine.run.out_folder import inside
from engine.run.output_labels import class_labels, headers, policy_labels
from engine.run.settle import Settlement
from engine.run.table_files import MONEY_COLUMNS, PARQUET_COMPRESSION
from policy_dsl import ir
from policy_dsl.grains import CASE

if TYPE_CHECKING:
    from engine.plan.sql.duckdb_runner import DuckDB

#: The amounts every cases table ends with, in fen (`engine.run.outputs.stage_tables`).
AMOUNTS = ("patient_paid", "fund_payment", "total_cost")
#: A double below this (not zero) is written in CSV as polars writes it, not as DuckDB does.
TINY = 1e-4

_SQL_TYPES: dict[type[pl.DataType], str] = {
    pl.Float64: "DOUBLE",
    pl.Boolean: "BOOLEAN",
    pl.String: "VARCHAR",
    pl.Date: "DATE",
    pl.Int64: "BIGINT",
    pl.Enum: "VARCHAR",
}


@dataclass(frozen=True)
class Shown:
    """How the cases table is written: the money definitions (yuan), the `count` definitions,
    each value's type (`decimals.value_types`), the values a later stage reads as computed, and
    the labels (`en`, `zh`)."""

    yuan: frozenset[str]
    counts: frozenset[str]
    types: Mapping[str, str]
    kept: frozenset[str] = frozenset()
    labels: str = "en"


Values = dict[str, tuple[b.Node, pl.DataType]]


def case_query(
    db: Database, policy: ir.Policy, stage: SqlStage, names: list[str], shown: Shown, fmt: str
) -> exp.Select:
    """The stage's cases table as written (see the module docstring): `names` are the outputs
    and the later stages' values (`Settlement.case_values`), `fmt` `csv` or `parquet`."""
    query, values = _case_values(db, policy, stage, names)
    columns = [_written(name, *values[name], shown, fmt) for name in values]
    columns += [_fen_column("patient_paid"), _fund_payment(values), _fen_column("total_cost")]
    return query.select(*_labelled(columns, policy, shown.labels), append=False)


def case_frame(db: Database, policy: ir.Policy, stage: SqlStage, names: list[str]) -> pl.DataFrame:
    """The few columns the outputs read of a stage's cases (`outputs.stage_tables`: the
    statements' and the summary's sums, the missing outputs, the report page), from the
    database: the case keys, `names` (the method's outputs) and the amounts in fen, typed as
    the polars path types them — not the stage's whole case table."""
    query, values = _case_values(db, policy, stage, names)
    columns = [
        b.alias(to_fen(_as(node, pl.Float64())), name)
        if name == "payment"
        else b.alias(_as(node, dtype), name)
        for name, (node, dtype) in values.items()
    ]
    amounts = {"patient_paid": _fen(b.col("patient_paid", "c"))}
    amounts["fund_payment"] = b.sub(_fen(values["payment"][0]), amounts["patient_paid"])
    amounts["total_cost"] = _fen(b.col("total_cost", "c"))
    columns += [b.alias(node, name) for name, node in amounts.items()]
    frame = db.fetch(query.select(*columns, append=False))
    enums = [pl.col(n).cast(d) for n, (_, d) in values.items() if isinstance(d, pl.Enum)]
    return frame.with_columns(*enums, pl.col("payment", *amounts).cast(pl.Int64))


def _case_values(
    db: Database, policy: ir.Policy, stage: SqlStage, names: list[str]
) -> tuple[exp.Select, Values]:
    """The stage's cases in key order, and the case keys and `names` at each case (a coarser
    value joined by its keys, as `settle.case_results` brings it) with their polars types."""
    cases = stage.frames[CASE]
    table, parts = cases.table, stage.case_parts
    read = [*CASE_KEYS, *(n for n in names if n in cases.columns), *CASE_AMOUNTS]
    if parts is not None and parts.holds(read):
        table = parts.steps  # what is read, carried in the steps: no join back to the cases
    types = column_types(policy, stage.stage)
    typed = _typed(db, table, types)
    query = exp.select().from_(b.table(table, "c"))
    values: Values = {}
    for name in [*CASE_KEYS, *names]:
        grain = stage.home.get(name, CASE) if name not in CASE_KEYS else None
        if grain is None or name in cases.columns:
            values[name] = (b.col(name, "c"), typed[name])
            continue
        source = stage.frames[grain]
        dtype = _typed(db, source.table, types)[name]
        picked = exp.select(*(b.col(k) for k in [*key_columns(grain), name]))
        picked = picked.from_(b.table(source.table))
        if not grain:
            values[name] = (exp.Subquery(this=picked.limit(1)), dtype)
            continue
        joined = f"j{len(values)}"
        keys = [b.compare("==", b.col(k, "c"), b.col(k, joined)) for k in key_columns(grain)]
        side = exp.Subquery(this=picked, alias=b.ident(joined))
        query = query.join(side, on=b.and_(*keys), join_type="LEFT")
        values[name] = (b.col(name, joined), dtype)
    return query.order_by(b.ordered(b.col("case_id", "c"), nulls_first=True)), values


def _typed(db: Database, table: str, types: Mapping[str, pl.DataType]) -> dict[str, pl.DataType]:
    """The polars type of each of a table's columns, as `results.fetch_frame` would read it."""
    schema = db.fetch(exp.select(exp.Star()).from_(b.table(table)).limit(0)).schema
    typed: dict[str, pl.DataType] = {}
    for name, dtype in schema.items():
        typed[name] = types.get(name, pl.Float64() if dtype == pl.Null else dtype)
    return typed


def _as(node: b.Node, dtype: pl.DataType) -> b.Node:
    """The value as the SQL type of its polars type."""
    kind = _SQL_TYPES.get(type(dtype))
    return b.cast(node, kind) if kind else node


def _written(
    name: str,
    node: b.Node,
    dtype: pl.DataType,
    shown: Shown,
    fmt: str,
) -> b.Node:
    """One column as the polars path writes it."""
    if name == "payment":
        return b.alias(_fen_decimal(to_fen(_as(node, pl.Float64()))), name)
    value = _as(node, dtype)
    if not dtype.is_float():
        return b.alias(value, name)
    if name in shown.counts:
        return b.alias(b.cast(b.func("ROUND_EVEN", value, b.integer(0)), "BIGINT"), name)
    if name not in shown.kept and shown.types.get(name) != "money":
        value = polars_round(value, decimals(shown.types.get(name)))
    if name in shown.yuan or name in MONEY_COLUMNS or name == "budget":
        return b.alias(_fen_decimal(to_fen(value)), name)
    return b.alias(double_text(value) if fmt == "csv" else value, name)


def _fen(yuan: b.Node) -> b.Node:
    return to_fen(b.cast(yuan, "DOUBLE"))


def _fen_column(name: str) -> b.Node:
    """An amount of the case's own (its cost, the patient's share) in fen, as written."""
    return b.alias(_fen_decimal(_fen(b.col(name, "c"))), name)


def _fund_payment(values: Values) -> b.Node:
    """基金支付 = 应付 − 个人负担, in fen."""
    fund = b.sub(_fen(values["payment"][0]), _fen(b.col("patient_paid", "c")))
    return b.alias(_fen_decimal(fund), "fund_payment")


def to_fen(yuan: b.Node) -> b.Node:
    """`money.to_fen`: whole fen by the money rule (half away from zero after the tolerance)."""
    return b.cast(round_half_away(b.mul(yuan, b.num(100.0))), "BIGINT")


def _fen_decimal(fen: b.Node) -> b.Node:
    """`table_files._fen_decimal`: fen as a 2-decimal DECIMAL(38, 2)."""
    cent = exp.cast(exp.Literal.string("0.01"), exp.DataType.build("DECIMAL(3, 2)"))
    return b.mul(exp.cast(fen, exp.DataType.build("DECIMAL(38, 0)")), cent)


def polars_round(value: b.Node, digits: int) -> b.Node:
    """polars' `round(digits, mode="half_away_from_zero")` on a double: `round(x × 10ᵈ) / 10ᵈ`,
    or `x` where that is not finite (DuckDB's own `ROUND(x, d)` differs in the last bit)."""
    scale = b.num(10.0**digits)
    result = b.div(b.func("ROUND", b.mul(value, scale)), scale)
    return b.case([(b.func("ISFINITE", result), result)], value)


def double_text(value: b.Node) -> b.Node:
    """A double as polars writes it in CSV: DuckDB's text, except below 10⁻⁴ — `1e-05` as
    `0.00001` (an exponent of −5 in decimals), `1.5e-07` as `1.5e-7` (no padded exponent)."""
    text = b.cast(value, "VARCHAR")
    positive = b.cast(b.abs_(value), "VARCHAR")
    mantissa = b.func("SPLIT_PART", positive, b.text("e"), b.integer(1))
    digits = b.func("REPLACE", mantissa, b.text("."), b.text(""))
    sign = b.case([(b.compare("<", value, b.num(0.0)), b.text("-"))], b.text(""))
    decimal = b.func("CONCAT", sign, b.text("0.0000"), digits)
    unpadded = b.func("REGEXP_REPLACE", text, b.text("e-0"), b.text("e-"))
    tiny = b.and_(b.compare("!=", value, b.num(0.0)), b.compare("<", b.abs_(value), b.num(TINY)))
    fifth = b.func("ENDS_WITH", text, b.text("e-05"))
    return b.case([(b.and_(tiny, fifth), decimal), (tiny, unpadded)], text)


def _labelled(columns: list[b.Node], policy: ir.Policy, labels: str) -> list[b.Node]:
    """With `--labels zh`: class names as their labels and the Chinese headers
    (`output_labels.in_chinese`)."""
    if labels != "zh":
        return columns
    classes = class_labels(policy)
    names = [c.alias_or_name for c in columns]
    shown = headers(names, policy_labels(policy))
    renamed = []
    for column, name in zip(columns, names, strict=True):
        node = column.this if isinstance(column, exp.Alias) else column
        if name in classes:
            labelled = classes[name].items()
            branches = [(b.compare("==", node, b.text(c)), b.text(t)) for c, t in labelled]
            node = b.case(branches, node) if branches else node
        renamed.append(b.alias(node, shown[name]))
    return renamed


def copy_query(
    db: DuckDB, query: exp.Select, path: Path, fmt: str, metadata: Mapping[str, str]
) -> str:
    """Write `query`'s rows to `path` by the database (`COPY … TO`), as CSV with a header or as
    Parquet (snappy, with `metadata`); the file's sha256."""
    params = [_param("FORMAT", exp.var(fmt))]
    if fmt == "csv":
        params += [_param("HEADER", b.boolean(True)), _param("COMMENT", b.text(""))]
    else:
        pairs = [exp.PropertyEQ(this=b.text(k), expression=b.text(v)) for k, v in metadata.items()]
        params += [_param("COMPRESSION", exp.var(PARQUET_COMPRESSION))]
        params += [_param("KV_METADATA", exp.Struct(expressions=pairs))] if pairs else []
    copy = exp.Copy(
        this=exp.Subquery(this=query), kind=False, files=[b.text(str(path))], params=params
    )
    db.execute(copy)
    return file_sha256(path)


def _param(name: str, value: b.Node) -> exp.CopyParameter:
    return exp.CopyParameter(this=exp.var(name), expression=value)


def in_database(settlement: Settlement, fmt: str | None = None) -> DuckDB | None:
    """The open DuckDB the settlement ran on, which writes its cases tables as `fmt` (CSV or
    Parquet; any, without `fmt`); None where polars writes them (another backend, a closed
    database, a workbook)."""
    run = settlement.sql
    if run is None or fmt not in (None, "csv", "parquet"):
        return None
    from engine.plan.sql.duckdb_runner import DuckDB  # only where a SQL backend ran

    db = run.db
    return db if isinstance(db, DuckDB) and db.is_open else None


def write_case_files(
    settlement: Settlement,
    db: DuckDB,
    folder: Path,
    fmt: str,
    shown: Shown,
    metadata: Mapping[str, str],
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Write every settling stage's cases table by the database into `folder`; each file's
    sha256, and with `--labels zh` its headers (Chinese → name), by file name."""
    assert settlement.sql is not None
    hashes: dict[str, str] = {}
    found: dict[str, dict[str, str]] = {}
    policy = settlement.policy
    for stage in settlement.settling_stages():
        names = settlement.case_values(stage)
        kept = replace(shown, kept=frozenset(read_later(policy, stage)))
        query = case_query(db, policy, settlement.sql.done[stage], names, kept, fmt)
        name = f"{stage}/cases.{fmt}"
        path = inside(folder, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        hashes[name] = copy_query(db, query, path, fmt, metadata)
        if shown.labels == "zh":
            columns = [*CASE_KEYS, *names, *AMOUNTS]
            chinese = headers(columns, policy_labels(policy))
            found[name] = {header: column for column, header in chinese.items()}
    return hashes, found

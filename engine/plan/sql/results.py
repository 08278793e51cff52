"""Reading a stage's tables back from the database (结果回读): each table sorted by its keys and
typed as the polars plan types its frame, so that the run's outputs (`engine.run.outputs`), the
explainer and the what-if read a SQL run exactly as a polars one."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl
from sqlglot import exp

from engine.plan.polars import finite
from engine.plan.polars.batch import StageRun
from engine.plan.polars.frames import StageResult, key_columns
from engine.plan.sql import build as b
from engine.plan.sql.database import Database
from engine.plan.sql.plan import SqlStage, SqlStageRun
from policy_dsl import grains as g
from policy_dsl import ir


def class_names(policy: ir.Policy) -> dict[str, list[str]]:
    """Per classification, its classes in order."""
    return {
        d.name: [c.name for c in d.expr.classes]
        for s in policy.stages
        for d in s.definitions
        if isinstance(d.expr, ir.Classify)
    }


def column_types(policy: ir.Policy, stage: ir.Stage) -> dict[str, pl.DataType]:
    """The polars type of each definition's column (and of its `stage.name` copies)."""
    classes = class_names(policy)
    found: dict[str, pl.DataType] = {}
    for s in policy.stages:
        for d in s.definitions:
            dtype = _dtype(d.type, classes)
            found[f"{s.name}.{d.name}"] = dtype
            if s.name == stage.name:
                found[d.name] = dtype
    return found


def _dtype(typ: ir.TypeIR, classes: Mapping[str, list[str]]) -> pl.DataType:
    if typ.kind == "class":
        return pl.Enum(classes.get(typ.classes_of or "", []))
    kinds: dict[str, pl.DataType] = {
        "number": pl.Float64(),
        "bool": pl.Boolean(),
        "text": pl.String(),
        "date": pl.Date(),
    }
    return kinds[typ.kind]


def fetch_frame(
    db: Database, table: str, grain: g.Grain, types: Mapping[str, pl.DataType]
) -> pl.DataFrame:
    """A table's rows in key order (nulls first, as the polars plan sorts), typed."""
    order = [b.ordered(b.col(c), nulls_first=True) for c in key_columns(grain)]
    query = exp.select(exp.Star()).from_(b.table(table))
    frame = db.fetch(query.order_by(*order) if order else query)
    casts = [pl.col(c).cast(types[c]) if c in types else _plain(frame, c) for c in frame.columns]
    return frame.select(casts)


def _plain(frame: pl.DataFrame, column: str) -> pl.Expr:
    dtype = frame.schema[column]
    if dtype == pl.Null:
        return pl.col(column).cast(pl.Float64)
    if dtype.is_integer() and column == "__all":
        return pl.col(column).cast(pl.Int64)
    return pl.col(column)


def to_result(db: Database, policy: ir.Policy, stage: SqlStage) -> StageResult:
    """The stage as the polars plan would have left it."""
    types = column_types(policy, stage.stage)
    frames = {
        grain: fetch_frame(db, frame.table, grain, types) for grain, frame in stage.frames.items()
    }
    return StageResult(stage.stage, frames, dict(stage.home), stage.period_keys, stage.fallthrough)


def check_finite(run: SqlStageRun, definition: ir.Definition, grain: g.Grain) -> None:
    """Stop the run where the polars plan would (`engine.plan.polars.finite`): a sum and a largest
    value in the database; only when they are not all finite and in range is the stage read back,
    and the polars check words the error."""
    if definition.type.kind != "number":
        return
    frame = run.frame(grain)
    column = b.col(definition.name)
    query = exp.select(
        b.alias(b.func("SUM", column), "total"), b.alias(b.func("MAX", b.abs_(column)), "largest")
    ).from_(b.table(frame.table))
    total, largest = run.db.fetch(query).row(0)
    bound = finite._bound(definition)
    within = bound is None or largest is None or float(largest) <= bound
    if finite._finite(total) and within:
        return
    partial = SqlStage(run.stage, run.frames, run.home, run.period, run.fallthrough)
    result = to_result(run.db, run.policy, partial)
    polars_run = StageRun.resume(run.policy, result, run.data, run.tables.results, run.settings)
    finite.check_values(polars_run, definition, grain)

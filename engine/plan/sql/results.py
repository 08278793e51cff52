"""Reading a stage's tables back from the database (结果回读): each table sorted by its keys and
typed as the polars plan types its frame, so that the run's outputs (`engine.run.outputs`), the
explainer and the what-if read a SQL run exactly as a polars one."""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterator, KeysView, Mapping, ValuesView
from functools import partial
from typing import Any

import polars as pl
from sqlglot import exp

from engine.plan.polars import finite
from engine.plan.polars.batch import StageRun
from engine.plan.polars.frames import StageResult, key_columns
from engine.plan.sql import build as b
from engine.plan.sql.database import Database
from engine.plan.sql.narrow import CaseParts
from engine.plan.sql.plan import SqlStage, SqlStageRun
from policy_dsl import grains as g
from policy_dsl import ir
from policy_dsl.grains import CASE


def every_stage(policy: ir.Policy) -> list[ir.Stage]:
    """The policy's stages, and its monitoring stage if it has indicators."""
    return [*policy.stages, *([policy.monitoring] if policy.monitoring is not None else [])]


def class_names(policy: ir.Policy) -> dict[str, list[str]]:
    """Per classification, its classes in order."""
    return {
        d.name: [c.name for c in d.expr.classes]
        for s in every_stage(policy)
        for d in s.definitions
        if isinstance(d.expr, ir.Classify)
    }


def column_types(policy: ir.Policy, stage: ir.Stage) -> dict[str, pl.DataType]:
    """The polars type of each definition's column (and of its `stage.name` copies)."""
    classes = class_names(policy)
    found: dict[str, pl.DataType] = {}
    for s in every_stage(policy):
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
    db: Database,
    table: str,
    grain: g.Grain,
    types: Mapping[str, pl.DataType],
    columns: list[str] | None = None,
) -> pl.DataFrame:
    """A table's rows in key order (nulls first, as the polars plan sorts), typed: every column,
    or `columns`."""
    order = [b.ordered(b.col(c), nulls_first=True) for c in key_columns(grain)]
    picked = [b.col(c) for c in columns] if columns is not None else [exp.Star()]
    query = exp.select(*picked).from_(b.table(table))
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


def to_result(
    db: Database, policy: ir.Policy, stage: SqlStage, on_demand: bool = False
) -> StageResult:
    """The stage as the polars plan would have left it; `on_demand`, its case frame is read back
    only when something reads it (`OnDemand`)."""
    types = column_types(policy, stage.stage)
    frames: dict[g.Grain, pl.DataFrame] = {}
    pending: dict[g.Grain, Fetch] = {}
    for grain, frame in stage.frames.items():
        fetch: Fetch = partial(fetch_frame, db, frame.table, grain, types)
        if grain == CASE and stage.case_parts is not None:
            fetch = partial(fetch_parts, db, stage.case_parts, types)
        if on_demand and grain == CASE:
            pending[grain] = fetch
        else:
            frames[grain] = fetch(None)
    if pending:
        frames = OnDemand(list(stage.frames), frames, pending)
    return StageResult(stage.stage, frames, dict(stage.home), stage.period_keys, stage.fallthrough)


#: Reads a frame back: every column (None), or the columns named.
Fetch = Callable[[list[str] | None], pl.DataFrame]


def fetch_parts(
    db: Database,
    parts: CaseParts,
    types: Mapping[str, pl.DataType],
    columns: list[str] | None = None,
) -> pl.DataFrame:
    """A stage's case table read back from its parts (`engine.plan.sql.narrow`), each in case
    order, side by side: no join in the database, which would hold a side's rows in memory."""
    wanted = parts.columns if columns is None else columns
    found = [
        fetch_frame(db, table, CASE, types, picked)
        for side, table in (("n", parts.steps), ("c", parts.inputs))
        if (picked := [c for c in wanted if parts.side(c) == side])
    ]
    return pl.concat(found, how="horizontal").select(wanted)


def case_columns(result: StageResult, names: list[str]) -> pl.DataFrame:
    """Columns of a stage's case frame — read from the database, only these, where the frame is
    not read back (`OnDemand`): what the indicators read of a settled stage."""
    frames = result.frames
    if isinstance(frames, OnDemand) and CASE in frames.pending:
        return frames.columns(CASE, names)
    return frames[CASE].select(names)


class OnDemand(dict[g.Grain, pl.DataFrame]):
    """A stage's frames, some read back from the database only when first read: on a run whose
    outputs the database writes (`engine.run.case_file`), a hundred million cases never come
    back unless the explainer, an indicator or the what-if reads them. Reading every frame
    (`items`, `values`, `keys`) reads them all, in the stage's order."""

    def __init__(
        self,
        order: list[g.Grain],
        frames: Mapping[g.Grain, pl.DataFrame],
        pending: Mapping[g.Grain, Fetch],
    ) -> None:
        super().__init__(frames)
        self._order = order
        self._pending = dict(pending)

    @property
    def pending(self) -> frozenset[g.Grain]:
        """The grains not read back yet."""
        return frozenset(self._pending)

    def _read_all(self) -> None:
        if not self._pending:
            return
        read = {grain: self[grain] for grain in self._order}
        super().clear()
        super().update(read)

    def __getitem__(self, grain: g.Grain) -> pl.DataFrame:
        if grain in self._pending:
            super().__setitem__(grain, self._pending.pop(grain)(None))
        return super().__getitem__(grain)

    def columns(self, grain: g.Grain, names: list[str]) -> pl.DataFrame:
        """Only `names` of a frame, read back from the database if it is not yet."""
        if grain in self._pending:
            return self._pending[grain](names)
        return super().__getitem__(grain).select(names)

    def __contains__(self, grain: object) -> bool:
        return grain in self._pending or super().__contains__(grain)

    def __iter__(self) -> Iterator[g.Grain]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._order)

    def get(self, grain: g.Grain, default: Any = None) -> Any:
        try:
            return self[grain]
        except KeyError:
            return default

    def keys(self) -> KeysView[g.Grain]:  # type: ignore[override]
        self._read_all()
        return super().keys()

    def items(self) -> ItemsView[g.Grain, pl.DataFrame]:  # type: ignore[override]
        self._read_all()
        return super().items()

    def values(self) -> ValuesView[pl.DataFrame]:  # type: ignore[override]
        self._read_all()
        return super().values()

    def copy(self) -> dict[g.Grain, pl.DataFrame]:
        self._read_all()
        return dict(super().items())


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
    result = to_result(run.db, run.policy, run.result())
    polars_run = StageRun.resume(run.policy, result, run.data, run.tables.results, run.settings)
    finite.check_values(polars_run, definition, grain)

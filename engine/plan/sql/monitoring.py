"""The monitoring stage in the database (运行监测指标下推): on a run whose stages ran on a SQL
backend, the indicators are evaluated where the cases are, as one more SQL stage, so that no
column of the cases comes back; only the coarse grains' tables the indicator table reads (the
city, levels, tiers, hospitals, groups, months: small) are read back
(`engine.plan.sql.results.to_result`), the case table left in the database.

What the polars `MonitoringRun` (`engine.run.indicators`) does besides a stage, done here too:
`settled.<name>` is the last settling stage (`SqlStages.monitoring` hands its tables over under
that name), whose case table is this stage's, row for row (a view: its case values are read in
place, as the polars run takes them without a join); a previous run's
`previous.<name>@<grain>` is a small table of its values brought by key, null where absent;
with `only`, those definitions alone are evaluated (each holds every definition it reads).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Set

import polars as pl
from sqlglot import exp

from engine.inputs.previous import Previous
from engine.plan.polars.batch import Settings
from engine.plan.polars.frames import key_columns
from engine.plan.polars.monitoring_batch import ahead_points
from engine.plan.sql import build as b
from engine.plan.sql.monitoring_cube import aggregate_ahead
from engine.plan.sql.plan import Frame, SqlStage, SqlStageRun, Tables
from policy_dsl import grains as g
from policy_dsl import ir
from policy_dsl.check.indicators import PREVIOUS, SETTLED
from policy_dsl.grains import CASE


class SqlMonitoringRun(SqlStageRun):
    """The policy's monitoring stage on the database (`engine.run.indicators.MonitoringRun`)."""

    def __init__(
        self,
        policy: ir.Policy,
        tables: Tables,
        earlier: Mapping[str, SqlStage],
        settings: Settings,
        previous: Previous | None,
        only: Set[str] | None = None,
    ) -> None:
        assert policy.monitoring is not None
        super().__init__(policy, policy.monitoring, tables, earlier, settings)
        self.previous = previous
        #: the definitions evaluated (None: all)
        self.only = only
        #: the settled stage's cases as this stage reads them (`_settled_cases`)
        self._settled: Frame | None = None

    def definitions(self) -> Iterator[ir.Definition]:
        """The definitions evaluated, in order; at the points the polars run computes the
        aggregates of the cases ahead (`monitoring_batch.ahead_points`), those the rest read
        (as far as what they read is defined) are computed (`monitoring_cube`)."""
        every = self.stage.definitions
        points = ahead_points(every)
        for index, definition in enumerate(every):
            if index in points:
                aggregate_ahead(self, [d for d in every[index:] if self._wanted(d)])
            if self._wanted(definition):
                yield definition

    def _wanted(self, definition: ir.Definition) -> bool:
        return self.only is None or definition.name in self.only

    def _shared_or_deep(self) -> list[str]:
        """As `SqlStageRun._shared_or_deep`, and every coarser grain's table, computed once
        its definition is done: its rows are a few thousand at most (hospitals, groups,
        months…), and DuckDB binds a view over a chain of views again at each new one, which
        costs more than computing them (the stage has a few hundred definitions)."""
        coarse = [frame.table for grain, frame in self.frames.items() if grain != CASE]
        return [*super()._shared_or_deep(), *coarse]

    def _kept_at_end(self) -> list[str]:
        """As `SqlStageRun._kept_at_end`, but the case table where no definition of it awaits
        its check: the stage's case frame is read back only if something reads it
        (`results.OnDemand`; the settle command does not), and computing it would write every
        case once more (a view: computed if read)."""
        pending = any(grain == CASE for _, grain in self._unchecked)
        return [f.table for grain, f in self.frames.items() if grain != CASE or pending]

    def case_source(self) -> Frame:
        return self._settled_cases() or super().case_source()

    def carried(self, columns: list[str]) -> exp.Select:
        """The first case step's columns read from the settled stage's case steps where they
        hold them all (it carried the inputs this stage reads: `narrow.later_reads`), not
        from its case table, which joins the other inputs back to them by `case_id`."""
        settled = self.earlier.get(SETTLED)
        parts = settled.case_parts if settled is not None else None
        read = {c: c.removeprefix(f"{SETTLED}.") for c in columns}
        if parts is None or self._cases != self._settled or not parts.holds(read.values()):
            return super().carried(columns)
        kept = [b.alias(b.col(source), name) for name, source in read.items()]
        return exp.select(*kept).from_(b.table(parts.steps))

    def _settled_cases(self) -> Frame | None:
        """The cases as the settled stage's case table holds them, its own values there as
        `settled.<name>`: read in place, a view (no join of two case tables, nothing copied).
        None where that table lacks an input column (a stage taken from earlier runs' files) or
        names a value as one (a definition named as a column of the cases)."""
        settled = self.earlier.get(SETTLED)
        table = settled.frames.get(CASE) if settled is not None else None
        if settled is None or table is None:
            return None
        inputs = self.tables.cases.columns
        values = [name for name, grain in settled.home.items() if grain == CASE]
        if not set(inputs) <= set(table.columns) or set(inputs) & set(values):
            return None
        columns: list[b.Node] = [b.col(c) for c in inputs]
        columns += [b.alias(b.col(name), f"{SETTLED}.{name}") for name in values]
        name = self.tables.name("in")  # not a step's: never computed, nor dropped with one
        query = exp.select(*columns).from_(b.table(table.table))
        self._settled = Frame(name, self.db.create(name, query))
        return self._settled

    def field(self, ref: ir.FieldRef, grain: g.Grain) -> b.Node:
        """As `SqlStageRun.field`; `previous.<name>@<grain>`: the previous run's value of the
        row's key (null where it has none)."""
        if ref.table != PREVIOUS:
            return super().field(ref, grain)
        name, _, word = ref.column.rpartition("@")
        found = self.previous.value(name, word) if self.previous is not None else None
        keys = key_columns(grain)
        if found is None:
            return b.typed_null("DOUBLE")
        if not keys:
            return b.num(float(found["value"][0]))
        alias = f"{PREVIOUS}.{ref.column}"
        values = found.select(pl.col("key").cast(self._key_type(keys[0])).alias(keys[0]), "value")
        source = self.tables.put(f"{PREVIOUS}:{ref.column}", values)
        if alias not in self.frame(grain).columns:
            self.bring(grain, source, keys, {"value": alias})
        return b.col(alias)

    def _key_type(self, key: str) -> pl.DataType:
        """The polars type of a grain's key column (its text in `indicators.csv` read back as
        it): a hospital's or a group's as the inputs type it, a month's text."""
        for frame in (self.data.hospitals, self.data.groups):
            if key in frame.schema:
                return frame.schema[key]
        return pl.String()

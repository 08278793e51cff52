"""The SQL plan of one stage (SQL 执行计划): the batch plan's steps (`engine.plan.polars.batch`) as
tables of a SQL database, one per grain, each definition a new table with one more column.

A grain's table holds its key columns and every value computed or read there, as the polars
frame does; a coarser value is brought by a LEFT JOIN on the shared keys, an aggregate is a
GROUP BY of the finer table joined back. Rows carry no order: each table is sorted by its keys
when it is read back (`engine.plan.sql.results`).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlglot import exp

from engine.inputs import catalog, supervision
from engine.inputs.rundata import RunData
from engine.inputs.stored import store_of
from engine.plan.polars.batch import HOSPITAL_MONTH, Settings
from engine.plan.polars.fallthrough import Fallthrough
from engine.plan.polars.frames import (
    HOSPITAL_SIDE,
    KEY_COLUMNS,
    StageResult,
    closure_columns,
    key_columns,
    value_home,
)
from engine.plan.sql import build as b
from engine.plan.sql.database import Database
from engine.plan.sql.narrow import CaseParts, case_reads, later_reads
from policy_dsl import grains as g
from policy_dsl import ir
from policy_dsl.grains import CASE


@dataclass
class Frame:
    """A grain's table in the database and its columns."""

    table: str
    columns: list[str]


@dataclass
class SqlStage:
    """A stage evaluated in the database: where each definition lives, and the tables."""

    stage: ir.Stage
    frames: dict[g.Grain, Frame]
    home: dict[str, g.Grain]
    period_keys: frozenset[str]
    fallthrough: dict[str, Fallthrough] = field(default_factory=dict)
    #: the case table's parts where its steps did not carry every input
    #: (`engine.plan.sql.narrow`): read back side by side, not joined
    case_parts: CaseParts | None = None


@dataclass
class Tables:
    """The run's input tables, registered once: cases (without the polars plan's key codes),
    hospitals, groups, and names for the tables made from them."""

    db: Database
    data: RunData
    cases: Frame
    hospitals: Frame
    groups: Frame
    #: this run's number: its tables' names are its own on a database several runs share
    run: int = 0
    counter: list[int] = field(default_factory=lambda: [0])
    registered: dict[str, Frame] = field(default_factory=dict)
    #: the stages read back so far (for the polars checks that word an error)
    results: dict[str, StageResult] = field(default_factory=dict)

    @classmethod
    def register(cls, db: Database, data: RunData) -> Tables:
        run = next(_RUNS)

        def put(name: str, frame: pl.DataFrame) -> Frame:
            kept = plain(frame)
            db.register(f"{name}{run}", kept)
            return Frame(f"{name}{run}", kept.columns)

        store = store_of(data)  # the cases left in the database: read where they are
        cases = put("cases", data.cases) if store is None else Frame(store.table, store.columns)
        hospitals = put("hospitals", data.hospitals)
        return cls(db, data, cases, hospitals, put("groups", data.groups), run)

    def name(self, prefix: str = "t") -> str:
        self.counter[0] += 1
        return f"{prefix}{self.run}_{self.counter[0]}"

    def put(self, key: str, frame: pl.DataFrame) -> Frame:
        """A small table made in polars (budget per key, supervision values), once per key."""
        if key not in self.registered:
            name, kept = self.name("in"), plain(frame)
            self.db.register(name, kept)
            self.registered[key] = Frame(name, kept.columns)
        return self.registered[key]

    def with_rows(
        self, key: str, closure: list[str], rows: Callable[[RunData, list[str]], pl.DataFrame]
    ) -> Frame:
        """The cases' `closure` columns and the `rows` made in polars (hospital-months with a
        deduction but no case), as one view, once per key: the cases stay in the database."""
        if key not in self.registered:
            extra = self.put(f"{key}:rows", rows(self.data, closure))
            both = exp.union(
                exp.select(*map(b.col, closure)).from_(b.table(self.cases.table)),
                exp.select(*map(b.col, closure)).from_(b.table(extra.table)),
                distinct=False,
            )
            query = exp.select(*map(b.col, closure)).from_(both.subquery("rows"))
            name = self.name("in")
            self.registered[key] = Frame(name, self.db.create(name, query))
        return self.registered[key]


def plain(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame as a database table: without the polars plan's key codes, classes as text."""
    kept = frame.select(c for c in frame.columns if not c.startswith("__code_"))
    return kept.with_columns(
        pl.col(c).cast(pl.String) for c, t in kept.schema.items() if isinstance(t, pl.Enum)
    )


#: Runs numbered in this process (`Tables.run`).
_RUNS = itertools.count(1)


class SqlStageRun:
    """Evaluates one stage in the database, definition by definition
    (`engine.plan.polars.batch.StageRun`)."""

    def __init__(
        self,
        policy: ir.Policy,
        stage: ir.Stage,
        tables: Tables,
        earlier: Mapping[str, SqlStage],
        settings: Settings,
    ) -> None:
        self.policy = policy
        self.stage = stage
        self.tables = tables
        self.db = tables.db
        self.data = tables.data
        self.earlier = earlier
        self.settings = settings
        self.period: frozenset[str] = frozenset({"month"}) if stage.period == "month" else g.ALL
        self.frames: dict[g.Grain, Frame] = {}
        self.home: dict[str, g.Grain] = {}
        self.params = {p.name: settings.params.get(p.name, p.value) for p in policy.params}
        self.policy_tables = {t.name: t for t in policy.tables}
        self.no_cc = catalog.no_cc_groups(self.data.groups["drg_code"].to_list())
        self.fallthrough: dict[str, Fallthrough] = {}
        self._temp = 0
        #: aggregates computed ahead for every definition, by their IR and grain: the value's
        #: column (or constant) — the monitoring stage's (`engine.plan.sql.monitoring`)
        self.kept_aggregates: dict[tuple[str, g.Grain], b.Node] = {}
        #: grains whose table changed since the last `keep`, and the step tables to drop then
        self._changed: set[g.Grain] = set()
        self._garbage: list[str] = []
        #: (lazy databases) the step views not computed yet, each with the tables it reads;
        #: every step table this run made; the definitions whose values are still to check
        self._views: dict[str, list[str]] = {}
        self._made: list[str] = []
        self._unchecked: list[tuple[ir.Definition, g.Grain]] = []
        #: the step views that select columns (and values computed from them) of one table
        self._projections: set[str] = set()
        #: each step of a grain's chain: the table it was made from (the same rows) and the
        #: columns it carries from it unchanged (`holder`)
        self._carried: dict[str, tuple[str, frozenset[str]]] = {}
        #: the cases the first case step narrows (`engine.plan.sql.narrow`), and the columns
        #: the stage wrote at the case grain
        self._cases: Frame | None = None
        self._case_written: set[str] = set()
        #: definitions left out of the run, as the polars plan's (`StageRun.skip`)
        self.skip: Set[str] = frozenset()

    def run(self) -> SqlStage:
        from engine.plan.sql.expressions import define

        for definition in self.definitions():
            define(self, definition)
        if self.db.lazy:
            self._compute(self._kept_at_end())
            self._collect()
        return self.result()

    def _kept_at_end(self) -> list[str]:
        """The views computed when the stage ends: every grain's table but one that only
        projects a computed table (`_projects_a_table`)."""
        return [f.table for f in self.frames.values() if not self._projects_a_table(f.table)]

    def _projects_a_table(self, name: str) -> bool:
        """Whether a view is a chain of projections (`_projection`, or the whole period's one
        row brought to each row: `bring`) down to a table this run computed: computed too, it
        would copy every column of that table (the settled case table: some forty columns, a
        hundred million rows); a reader reads the columns it reads and computes their new
        values (a few sums and rounds)."""
        if name not in self._views:
            return False
        while name in self._views:
            if name not in self._projections:
                return False
            name = self._views[name][0]
        return name in self._made

    def definitions(self) -> Iterable[ir.Definition]:
        """The definitions this run evaluates, in order: the stage's, but those left out."""
        return [d for d in self.stage.definitions if d.name not in self.skip]

    def result(self) -> SqlStage:
        """The stage as evaluated so far, its case table with every column of the cases again
        (a view joining back those its steps did not carry, `engine.plan.sql.narrow`)."""
        frames, parts = dict(self.frames), None
        steps, cases = frames.get(CASE), self._cases
        if steps is not None and cases is not None:
            args = (steps.table, steps.columns, cases.table, cases.columns, self._case_written)
            parts = CaseParts.of(*args)
        if parts is not None:
            name = self.tables.name("in")  # not a step's: never computed, nor dropped
            frames[CASE] = Frame(name, self.db.create(name, parts.joined()))
        return SqlStage(self.stage, frames, self.home, self.period, self.fallthrough, parts)

    # ---- grains and tables ----
    def effective(self, grain: list[str] | g.Grain) -> g.Grain:
        return g.normalize(frozenset(grain) | self.period)

    def frame(self, grain: g.Grain) -> Frame:
        if grain not in self.frames:
            self.frames[grain] = self._new_frame(grain)
            self._changed.add(grain)
        return self.frames[grain]

    def _new_frame(self, grain: g.Grain) -> Frame:
        if grain == CASE:
            return self._narrow_cases()
        if not grain:
            return self.create(exp.select(b.alias(b.integer(0), "__all")))
        source, closure = self.key_source(grain), closure_columns(grain)
        query = exp.select(*(b.col(c) for c in closure)).from_(b.table(source.table)).distinct()
        return self.create(query)

    def _narrow_cases(self) -> Frame:
        """The first case step: the columns of the cases the stage reads, and those read of its
        case table after it (`engine.plan.sql.narrow`), or the cases themselves where it reads
        them all."""
        self._cases = self.case_source()
        reads = case_reads(self.stage) | later_reads(self.policy, self.stage)
        carried = [c for c in self._cases.columns if c in reads]
        if len(carried) == len(self._cases.columns):
            return self._cases
        return self.create(self.carried(carried))

    def carried(self, columns: list[str]) -> exp.Select:
        """The first case step's query: these columns of the cases."""
        assert self._cases is not None
        return exp.select(*map(b.col, columns)).from_(b.table(self._cases.table))

    def case_source(self) -> Frame:
        """The cases, every column, that the stage's case grain starts from."""
        return self.tables.cases

    def key_source(self, grain: g.Grain) -> Frame:
        """The rows of a grain, as in the polars plan (`StageRun.key_source`)."""
        if grain <= HOSPITAL_SIDE:
            return self.tables.hospitals
        if grain == frozenset({"group"}):
            return self.tables.groups
        deducted = {"hospital", "month"} <= grain <= HOSPITAL_MONTH
        if deducted and not self.data.deduction_months.is_empty():
            closure, key = closure_columns(grain), f"months:{sorted(grain)}"
            if store_of(self.data) is None:
                rows = supervision.with_deduction_months(self.data, closure)
                return self.tables.put(key, rows.select(rows.columns))
            return self.tables.with_rows(key, closure, supervision.deduction_month_rows)
        return self.tables.cases

    def replace(self, grain: g.Grain, frame: Frame, carried: Iterable[str]) -> None:
        """Make `frame` the grain's table, made from the one it replaces (its rows, and the
        `carried` columns unchanged); that table, made by this run, is dropped."""
        old = self.frames[grain]
        self.frames[grain] = frame
        self._changed.add(grain)
        self._carried[frame.table] = (old.table, frozenset(carried))
        self.discard(old.table)

    def discard(self, table: str) -> None:
        """A step's table no later step reads: dropped when the definition is kept (a view
        made after it may still read it until then)."""
        if table.startswith("t"):
            self._garbage.append(table)

    def create(self, query: exp.Select) -> Frame:
        """A new step table (a view until the definition is kept) holding the rows of `query`."""
        name = self.tables.name()
        columns = self.db.create(name, query)
        if self.db.lazy:
            self._views[name] = [t.name for t in query.find_all(exp.Table)]
            self._made.append(name)
            if _projection(query):
                self._projections.add(name)
        return Frame(name, columns)

    def with_columns(self, grain: g.Grain, values: Mapping[str, b.Node]) -> None:
        """Replace the grain's table by one with these columns added (or replaced)."""
        frame = self.frame(grain)
        kept = [b.col(c) for c in frame.columns if c not in values]
        added = [b.alias(node, name) for name, node in values.items()]
        self._wrote(grain, values)
        step = self.create(exp.select(*kept, *added).from_(b.table(frame.table)))
        self.replace(grain, step, [c for c in frame.columns if c not in values])

    def over_chosen(self, grain: g.Grain, flag: str, value: b.Node) -> str:
        """A temporary column of the grain's table: `value` (a DOUBLE) computed over the rows
        where the column `flag` (never null) holds, null on the others. The two sets of rows
        are a UNION ALL, so a window in `value` sorts the chosen rows alone, not every row
        with all its columns (`rank … where`: a few candidates per thousand cases). The grain's
        table is read twice; it counts as one reader where it is `_readable` (a computed table,
        or projections of one: evaluated once per set of rows), else as two, and is computed
        first (Xuancheng at 1M: its chain of joins evaluated twice by the rank's table, 1.5
        CPU-s, against 0.8 for computing it first)."""
        frame = self.frame(grain)
        alias = self.temp()
        columns = [b.col(c) for c in frame.columns]
        chosen = exp.select(*columns, b.alias(value, alias)).from_(b.table(frame.table))
        others = exp.select(*columns, b.alias(b.typed_null("DOUBLE"), alias))
        others = others.from_(b.table(frame.table)).where(b.not_(b.col(flag)))
        rows = exp.union(chosen.where(b.col(flag)), others, distinct=False)
        self._wrote(grain, [alias])
        step = self.create(exp.select(*columns, b.col(alias)).from_(rows.subquery("rows")))
        if step.table in self._views and self._readable(frame.table):
            self._views[step.table] = [frame.table]  # one reader of the table, not two
        self.replace(grain, step, frame.columns)
        return alias

    def _wrote(self, grain: g.Grain, names: Iterable[str]) -> None:
        if grain == CASE:
            self._case_written.update(names)

    def keep(self, definition: ir.Definition, grain: g.Grain) -> None:
        """A definition is done: on a lazy database (`Database.lazy`) its steps stay views until
        `_shared_or_deep` says to compute them, its values checked (`engine.plan.polars.finite`)
        once its table is computed; otherwise the tables it changed are computed and kept now, its
        values checked, and the steps' views dropped, the latest first."""
        from engine.plan.sql.results import check_finite

        if not self.db.lazy:
            self._keep_changed()
            check_finite(self, definition, grain)
            return
        self._unchecked.append((definition, grain))
        self._changed = set()
        self._compute(self._shared_or_deep())
        self._collect()

    def _keep_changed(self) -> None:
        for grain in self._changed:
            frame = self.frames[grain]
            kept = self.db.keep(frame.table)
            if kept != frame.table:
                self.frames[grain] = Frame(kept, frame.columns)
                self.discard(frame.table)
        for table in reversed(self._garbage):
            self.db.drop(table)
        self._changed, self._garbage = set(), []

    def _readers(self) -> Counter[str]:
        """Every table and view a grain's table reads (itself included), with how many of
        them read it (a grain's table counts as one reader)."""
        readers: Counter[str] = Counter(f.table for f in self.frames.values())
        todo, seen = list(readers), set()
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                for read in self._views.get(name, ()):
                    readers[read] += 1
                    todo.append(read)
        return readers

    def _shared_or_deep(self) -> list[str]:
        """The views to compute now: one that two steps read (else both would compute it), and
        a grain's table whose chain of views is `Database.lazy` deep."""
        readers = self._readers()
        shared = [
            n
            for n, count in readers.items()
            if count > 1 and n in self._views and not self._projects_a_table(n)
        ]
        depths = self._depths(set(shared))
        deep = [f.table for f in self.frames.values() if depths.get(f.table, 0) >= self.db.lazy]
        return shared + deep

    def _depths(self, computed: set[str]) -> dict[str, int]:
        """How many views deep each view is (a table, or one of `computed`: 0)."""
        depths: dict[str, int] = {}
        for name in self._made:  # in the order made: a view reads only earlier ones
            if name in self._views and name not in computed:
                depths[name] = 1 + max((depths.get(r, 0) for r in self._views[name]), default=0)
        return depths

    def _compute(self, names: list[str]) -> None:
        """Compute these views (those they read first) and keep their rows under their names;
        then check the values of the definitions whose tables are computed, in their order."""
        order = {name: i for i, name in enumerate(self._made)}
        for name in sorted(set(names) & self._views.keys(), key=order.__getitem__):
            self.db.keep(name)
            del self._views[name]
        from engine.plan.sql.results import check_finite

        while self._unchecked and self._readable(self.frame(self._unchecked[0][1]).table):
            definition, grain = self._unchecked.pop(0)
            check_finite(self, definition, grain)

    def holder(self, query: exp.Select) -> exp.Select:
        """`query`, which reads one step view of a grain's chain, reading instead the nearest
        table of the chain before it that is computed (`_readable`: the same rows) and carries
        every column the query reads. A GROUP BY or a sum of values made before the last
        computed table then does not compute the view (a copy of every column) nor count as
        its second reader: the chain since stays a view, made one table later."""
        names = {t.name for t in query.find_all(exp.Table)}
        if len(names) != 1 or any(
            isinstance(s.parent, exp.Select) for s in query.find_all(exp.Star)
        ):
            return query
        (name,) = names
        read = {c.name for c in query.find_all(exp.Column) if _reads_table(c)}
        found = name
        while not self._readable(found) and found in self._carried:
            parent, carried = self._carried[found]
            if not read <= carried:
                break
            found = parent
        if found == name or not self._readable(found):
            return query

        def moved(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Table) and node.name == name:
                node = node.copy()
                node.set("this", b.ident(found))
            return node

        read_there = query.transform(moved)
        assert isinstance(read_there, exp.Select)
        return read_there

    def _readable(self, name: str) -> bool:
        """Whether a table is read without computing views: computed, or a projection of one
        that is (`_projects_a_table`)."""
        return name not in self._views or self._projects_a_table(name)

    def _collect(self) -> None:
        """Drop the step tables and views no grain's table reads any more."""
        readers = self._readers()
        for name in reversed(self._made):
            if name not in readers:
                self.db.drop(name)
                self._views.pop(name, None)
        self._made = [n for n in self._made if n in readers]
        self._garbage = []

    def no_cc_table(self) -> Frame:
        """Each ADRG's no-CC group (`catalog.no_cc_groups`), a table `no_cc` joins on."""
        adrgs = pl.DataFrame(
            {"adrg": list(self.no_cc), "no_cc": list(self.no_cc.values())},
            schema={"adrg": pl.String, "no_cc": pl.String},
        )
        return self.tables.put("no_cc", adrgs)

    def fetch(self, query: exp.Select) -> pl.DataFrame:
        """The rows of a query over this run's tables, the views it reads computed first (so
        that a later step does not compute them again), or from an earlier table (`holder`)."""
        query = self.holder(query)
        self._compute([t.name for t in query.find_all(exp.Table) if not self._readable(t.name)])
        return self.db.fetch(query)

    def fetch_through(self, query: exp.Select) -> pl.DataFrame:
        """The rows of a query read through the steps' views: the views two steps read are
        computed first (as at a definition's end), not the table the query reads — a grain's
        table computed for a few sums is a copy of every column (the classes' missing
        conditions counted, `classes.count_arms`)."""
        self._compute(self._shared_or_deep())
        return self.db.fetch(self.holder(query))

    def temp(self) -> str:
        self._temp += 1
        return f"__t{self._temp}"

    def drop_temporaries(self) -> None:
        for grain, frame in list(self.frames.items()):
            kept = [c for c in frame.columns if not c.startswith("__t")]
            if len(kept) < len(frame.columns):
                query = exp.select(*(b.col(c) for c in kept)).from_(b.table(frame.table))
                self.replace(grain, self.create(query), kept)

    # ---- reading values into a table ----
    def bring(
        self,
        grain: g.Grain,
        source: Frame,
        keys: list[str],
        values: Mapping[str, str],
        left_on: list[str] | None = None,
    ) -> None:
        """LEFT JOIN columns of `source` (one row per `keys`; `values`: its column → the name
        here) onto the grain's table, matching its `left_on` columns (by default the keys)."""
        frame = self.frame(grain)
        new = {name for name in values.values()}
        self._wrote(grain, new)
        kept = [b.col(c, "f") for c in frame.columns if c not in new]
        added = [b.alias(b.col(c, "s"), name) for c, name in values.items()]
        query = exp.select(*kept, *added).from_(b.table(frame.table, "f"))
        if keys:
            on = b.and_(
                *(
                    b.compare("==", b.col(left, "f"), b.col(right, "s"))
                    for left, right in zip(left_on or keys, keys, strict=True)
                )
            )
            query = query.join(b.table(source.table, "s"), on=on, join_type="left")
        else:
            query = query.join(b.table(source.table, "s"), join_type="cross")
        step = self.create(query)
        if not keys and step.table in self._views:
            # the whole period's one row beside each row: a projection (`_projects_a_table`:
            # Xuancheng's split is then not a copy of its cases, 0.6 CPU-s at 1M)
            self._projections.add(step.table)
            self._views[step.table] = [frame.table, source.table]
        self.replace(grain, step, [c for c in frame.columns if c not in new])

    def value(self, name: str, stage: str | None, grain: g.Grain) -> str:
        """A definition's value (of this or an earlier stage) as a column at `grain`."""
        home, source, alias = value_home(name, stage, self, self.earlier)
        if stage is None and home == grain:
            return name
        if alias not in self.frame(grain).columns:
            self.bring(grain, source, key_columns(home), {name: alias})
        return alias

    def field(self, ref: ir.FieldRef, grain: g.Grain) -> b.Node:
        """An input column at `grain` (`StageRun.field`)."""
        if ref.table == "run":
            from engine.inputs.rundata import run_value

            return b.num(run_value(self.data.period, ref.column))
        if ref.table == "budget":
            return self._budget(ref.column, grain)
        if ref.table in supervision.SUPERVISION_TABLES:
            monthly = "month" in self.period
            values = supervision.hospital_values(self.data, ref.table, ref.column, monthly)
            keys = supervision.value_keys(ref.table, monthly)
            source = self.tables.put(f"{ref.table}:{ref.column}:{monthly}", values)
            return self._brought(grain, source, keys, ref.column)
        if ref.column in self.frame(grain).columns:
            return b.col(ref.column)
        if ref.table == "hospitals":
            return self._brought(grain, self.tables.hospitals, ["hospital_id"], ref.column)
        if ref.table == "groups":
            return self._brought(grain, self.tables.groups, ["drg_code"], ref.column)
        raise KeyError(f"case field `{ref.column}` is not at grain {g.show(grain)}")

    def _brought(self, grain: g.Grain, source: Frame, keys: list[str], column: str) -> b.Node:
        if column not in self.frame(grain).columns:
            self.bring(grain, source, keys, {column: column})
        return b.col(column)

    def _budget(self, name: str, grain: g.Grain) -> b.Node:
        value = self.data.budget["values"][name]
        if not isinstance(value, Mapping):
            return b.num(float(value))
        declared = next(i for i in self.policy.inputs if i.name == name)
        key = KEY_COLUMNS[declared.grain[0]]
        dtype = self.data.hospitals.schema.get(key, pl.String)
        table = pl.DataFrame({key: list(value), name: [float(v) for v in value.values()]})
        source = self.tables.put(f"budget:{name}", table.with_columns(pl.col(key).cast(dtype)))
        return self._brought(grain, source, [key], name)


def _projection(query: exp.Select) -> bool:
    """Whether a step's query is a projection of one table: each row's values from that row
    alone (no join, grouping, window, DISTINCT or union)."""
    tables = list(query.find_all(exp.Table))
    return len(tables) == 1 and not (
        query.args.get("group")
        or query.args.get("distinct")
        or query.find(exp.Join, exp.Window, exp.Union, exp.AggFunc, exp.Subquery)
    )


def _reads_table(column: exp.Column) -> bool:
    """Whether a column is one of a table's: its SELECT reads a table, not a subquery's rows."""
    select = column.find_ancestor(exp.Select)
    source = select.args.get("from_") if select is not None else None
    return source is not None and isinstance(source.this, exp.Table)


def literal(value: Any, typ: ir.TypeIR) -> b.Node:
    """A value fixed from outside, or a parameter, as a typed SQL literal."""
    if value is None:
        return b.typed_null("DOUBLE") if typ.kind == "number" else b.null()
    if typ.kind == "number" or (isinstance(value, int | float) and not isinstance(value, bool)):
        return b.num(float(value))
    if typ.kind == "date":
        return b.cast(b.text(str(value)), "DATE")
    if isinstance(value, bool):
        return b.boolean(value)
    return b.text(str(value))

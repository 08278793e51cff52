"""The batch plan: every definition of a stage evaluated over whole columns with polars.

Each grain has one frame (its key columns plus every value computed or read there). A reference
to a coarser value is a join on the shared keys; an aggregate is a group-by of the finer frame
joined back; conditions, classes and adjustments are `when/then` chains; rank and allocate are
window steps. No Python loop runs over cases. In a `per month` stage every grain also carries the
month, so all months settle in one pass.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from engine.inputs import catalog, supervision
from engine.inputs.rundata import RunData, run_value
from engine.inputs.stored import case_columns, count
from engine.plan import functions
from engine.plan.lowering import ExpressionLowering
from engine.plan.polars import batch_windows, finite
from engine.plan.polars import keys as keys_mod
from engine.plan.polars.fallthrough import Fallthrough, count_fallthrough
from engine.plan.polars.frames import (
    HOSPITAL_SIDE,
    KEY_COLUMNS,
    StageResult,
    closure_columns,
    key_columns,
    value_home,
    with_columns,
)
from policy_dsl import grains as g
from policy_dsl import ir
from policy_dsl.grains import CASE


@dataclass
class Settings:
    """Values fixed from outside: definitions (tests, what-ifs) and parameters (sweeps)."""

    definitions: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)


class StageRun:
    """Evaluates one stage, definition by definition, in the IR's dependency order."""

    def __init__(
        self,
        policy: ir.Policy,
        stage: ir.Stage,
        data: RunData,
        earlier: Mapping[str, StageResult],
        settings: Settings,
    ) -> None:
        self.policy = policy
        self.stage = stage
        self.data = data
        self.earlier = earlier
        self.settings = settings
        self.period: frozenset[str] = frozenset({"month"}) if stage.period == "month" else g.ALL
        self.frames: dict[g.Grain, pl.DataFrame] = {}
        self.home: dict[str, g.Grain] = {}
        self.params = {p.name: settings.params.get(p.name, p.value) for p in policy.params}
        self.tables = {t.name: t for t in policy.tables}
        self.no_cc = catalog.no_cc_groups(data.groups["drg_code"].to_list())
        self.fallthrough: dict[str, Fallthrough] = {}
        self._temp = 0
        #: aggregates of the definition being compiled, computed ahead: (node, grain) → column
        self.aggregates: dict[tuple[str, g.Grain], str] = {}
        #: aggregates computed ahead for every definition (the monitoring stage's, in one
        #: group-by per grain: `engine.run.indicators`), kept from one definition to the next
        self.kept_aggregates: dict[tuple[str, g.Grain], str] = {}
        #: aggregates over the whole period (one value), by their IR: `sum(settled_points)`
        #: read by three definitions is summed once
        self.totals: dict[str, pl.Expr] = {}
        #: table lookups computed into a column, by their IR and grain (`Compiler._table`):
        #: `high_ratio_k[base_points]` read by the classification and the class points is
        #: looked up once
        self.kept_lookups: dict[tuple[str, g.Grain], str] = {}
        #: definitions left out of the run: no value of theirs is computed, nor any aggregate
        #: ahead for them (`settle(..., written_only=True)`, a what-if's re-run of a few values)
        self.skip: Set[str] = frozenset()

    @classmethod
    def resume(
        cls,
        policy: ir.Policy,
        result: StageResult,
        data: RunData,
        earlier: Mapping[str, StageResult],
        settings: Settings,
    ) -> StageRun:
        """A run over a stage's settled frames, to evaluate further expressions on them (the
        explainer's window steps, invariants, threshold exposure); the result is not changed."""
        run = cls(policy, result.stage, data, earlier, settings)
        run.frames, run.home = dict(result.frames), dict(result.home)
        return run

    def run(self) -> StageResult:
        for definition in self.stage.definitions:
            if definition.name not in self.skip:
                self.define(definition)
        self._drop_kept()
        return StageResult(self.stage, self.frames, self.home, self.period, self.fallthrough)

    # ---- grains and frames ----
    def effective(self, grain: list[str] | g.Grain) -> g.Grain:
        return g.normalize(frozenset(grain) | self.period)

    def frame(self, grain: g.Grain) -> pl.DataFrame:
        if grain not in self.frames:
            self.frames[grain] = self._new_frame(grain)
        return self.frames[grain]

    def _new_frame(self, grain: g.Grain) -> pl.DataFrame:
        if grain == g.CASE:
            return self.data.cases
        if not grain:
            return pl.DataFrame({"__all": [0]})
        source, closure = self.key_source(grain), closure_columns(grain)
        columns = [*closure, *keys_mod.carried_codes(source, closure)]
        return keys_mod.distinct_rows(self.data.codes, source, closure, columns).sort(
            key_columns(grain)
        )

    def key_source(self, grain: g.Grain) -> pl.DataFrame:
        """Rows of a grain: every hospital (or group) of the inputs for hospital-side grains
        (or the group grain) — cases or not — otherwise the combinations that cases have, and
        a hospital's months with a deduction but no case (`RunData.deduction_months`)."""
        if grain <= HOSPITAL_SIDE:
            return self.data.hospitals
        if grain == frozenset({"group"}):
            return self.data.groups
        if {"hospital", "month"} <= grain <= HOSPITAL_MONTH:
            return supervision.with_deduction_months(self.data, closure_columns(grain))
        return self.data.cases

    def add(self, grain: g.Grain, frame: pl.DataFrame) -> None:
        self.frames[grain] = frame

    def temp(self) -> str:
        self._temp += 1
        return f"__t{self._temp}"

    # ---- definitions ----
    def define(self, definition: ir.Definition) -> None:
        grain = self.effective(definition.grain)
        if definition.name in self.settings.definitions:
            value = _literal(self.settings.definitions[definition.name], definition.type)
            expr: pl.Expr = value
        else:
            compiler = Compiler(self, grain)
            batch_windows.aggregate_together(compiler, definition, self._later(definition))
            self.aggregates = dict(self.kept_aggregates)
            compiler.prefetch_aggregates(definition.expr)
            expr = compiler.expr(definition.expr)
            if compiler.arms:
                key = "case_id" if "case_id" in self.frame(grain).columns else None
                found = count_fallthrough(self.frame(grain), compiler.arms, key)
                if found.counts:
                    self.fallthrough[definition.name] = found
        self.add(grain, with_columns(self.frame(grain), expr.alias(definition.name)))
        self.home[definition.name] = grain
        self.aggregates = dict(self.kept_aggregates)
        self._drop_temporaries()
        finite.check_values(self, definition, grain)

    def evaluates(self, definition: ir.Definition) -> bool:
        """Whether the run computes `definition` when its turn comes (not a value fixed from
        outside, nor one left out): its aggregates may be computed ahead
        (`batch_windows.aggregate_together`)."""
        return definition.name not in self.settings.definitions and definition.name not in self.skip

    def _later(self, definition: ir.Definition) -> list[ir.Definition]:
        """The stage's definitions after `definition` that the run computes."""
        definitions = self.stage.definitions
        after = next((i + 1 for i, d in enumerate(definitions) if d is definition), None)
        return [d for d in definitions[after:] if self.evaluates(d)] if after else []

    def _drop_kept(self) -> None:
        """The aggregates computed ahead and the lookups kept, out of the stage's frames (what
        it gives are its definitions' values)."""
        kept = {*self.kept_aggregates.values(), *self.kept_lookups.values()}
        for grain, frame in self.frames.items():
            if found := [c for c in frame.columns if c in kept]:
                self.frames[grain] = frame.drop(found)

    def _drop_temporaries(self) -> None:
        for grain, frame in self.frames.items():
            temporary = [c for c in frame.columns if c.startswith(("__t", TEMPORARY_CODE))]
            if temporary:
                self.frames[grain] = frame.drop(temporary)

    # ---- reading values into a frame ----
    def bring(
        self,
        grain: g.Grain,
        source: pl.DataFrame,
        keys: list[str],
        column: str,
        alias: str | None = None,
    ) -> str:
        """Join `column` of `source` (identified by `keys`) onto the frame at `grain`."""
        name = alias or column
        frame = self.frame(grain)
        if name in frame.columns:
            return name
        if not keys:
            value = source[column][0] if source.height else None
            self.add(grain, frame.with_columns(pl.lit(value).alias(name)))
        else:
            values = {column: name}
            self.add(grain, keys_mod.bring_values(self.data.codes, frame, source, keys, values))
        return name

    def value(self, name: str, stage: str | None, grain: g.Grain) -> str:
        """Make the value of a definition (of this or an earlier stage) a column at `grain`."""
        home, source, alias = value_home(name, stage, self, self.earlier)
        if stage is None and home == grain:
            return name
        return self.bring(grain, source, key_columns(home), name, alias)

    def field(self, ref: ir.FieldRef, grain: g.Grain) -> pl.Expr:
        if ref.table == "run":
            return pl.lit(run_value(self.data.period, ref.column))
        if ref.table == "budget":
            return self._budget(ref.column, grain)
        if ref.table in supervision.SUPERVISION_TABLES:
            return self._supervision(ref, grain)
        frame = self.frame(grain)
        if ref.column in frame.columns:
            return pl.col(ref.column)
        if ref.table == "hospitals":
            source, keys = self.data.hospitals, ["hospital_id"]
        elif ref.table == "groups":
            source, keys = self.data.groups, ["drg_code"]
        else:
            raise KeyError(f"case field `{ref.column}` is not at grain {g.show(grain)}")
        return pl.col(self.bring(grain, source, keys, ref.column))

    def _supervision(self, ref: ir.FieldRef, grain: g.Grain) -> pl.Expr:
        """A hospital's deduction (of the month, in a `per month` stage) or assessment score."""
        monthly = "month" in self.period
        values = supervision.hospital_values(self.data, ref.table, ref.column, monthly)
        keys = supervision.value_keys(ref.table, monthly)
        return pl.col(self.bring(grain, values, keys, ref.column))

    def _budget(self, name: str, grain: g.Grain) -> pl.Expr:
        value = self.data.budget["values"][name]
        if not isinstance(value, Mapping):
            return pl.lit(float(value))
        declared = next(i for i in self.policy.inputs if i.name == name)
        key = KEY_COLUMNS[declared.grain[0]]
        table = pl.DataFrame({key: list(value), name: [float(v) for v in value.values()]})
        table = table.with_columns(pl.col(key).cast(self.frame(grain).schema[key]))
        return pl.col(self.bring(grain, table, [key], name))


#: The code columns of temporary columns (`Compiler._given_key`), dropped with them.
TEMPORARY_CODE = keys_mod.code_column("__t")

#: The keys of a hospital's month: its rows include the months with a deduction but no case.
HOSPITAL_MONTH = HOSPITAL_SIDE | {"month"}

#: `c op x` is `x FLIPPED[op] c`.
FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _literal(value: Any, typ: ir.TypeIR) -> pl.Expr:
    if typ.kind == "number":
        return pl.lit(None if value is None else float(value), dtype=pl.Float64)
    if typ.kind == "date" and isinstance(value, str):
        return pl.lit(dt.date.fromisoformat(value))
    return pl.lit(value)


class Compiler(ExpressionLowering["StageRun", pl.Expr]):
    """IR expression → polars expression over the frame at one grain (joins done on the way)."""

    def _lit(self, node: ir.Lit) -> pl.Expr:
        return _literal(node.value, node.type)

    def _param(self, node: ir.ParamRef) -> pl.Expr:
        value = self.run.params[node.name]
        return pl.lit(
            float(value)
            if isinstance(value, int | float) and not isinstance(value, bool)
            else value
        )

    def _table(self, node: ir.TableLookup) -> pl.Expr:
        """A table's value for each row; computed into a column once per grain and kept for the
        stage's later definitions (`StageRun.kept_lookups`), unless its key reads an
        adjustment's running value (`current`), which each step changes."""
        if ir.contains(node.key, ir.Current):
            return self._lookup(node)
        kept = (node.model_dump_json(), self.grain)
        name = self.run.kept_lookups.get(kept)
        if name is None or name not in self.frame().columns:
            home = self._key_home(node)
            if home is not None:  # looked up at the key's grain, brought here
                column = self.at(home).expr(node).meta.output_name()
                name = f"__lookup{len(self.run.kept_lookups)}"
                self.run.bring(self.grain, self.run.frame(home), key_columns(home), column, name)
            else:
                found = self._lookup(node)  # brings its key to the frame first
                name = f"__lookup{len(self.run.kept_lookups)}"
                self.replace(with_columns(self.frame(), found.alias(name)))
            self.run.kept_lookups[kept] = name
        return pl.col(name)

    def _key_home(self, node: ir.TableLookup) -> g.Grain | None:
        """The grain to look a table up at, where not this one: the home of a key that is a
        value of this stage at a coarser grain (`high_ratio_k[base_points]`: a group's value,
        looked up once per group, not once per case) — the same value for every row, a row
        whose key has no row there (null) included, as long as the table has no `else` row
        (which a null key would take)."""
        key, table = node.key, self.run.tables[node.name]
        home = self.run.home.get(key.name) if isinstance(key, ir.Ref) and not key.stage else None
        if home is None or home == self.grain or any(r.default for r in table.rows):
            return None
        columns = self.frame().columns
        keys = key_columns(home)
        return home if keys and all(k in columns for k in keys) else None

    def _lookup(self, node: ir.TableLookup) -> pl.Expr:
        table = self.run.tables[node.name]
        key = self.shared(node.key)  # read once per row of the table
        if table.kind == "ranges":
            return _range_lookup(table, key)
        numeric = table.key_type.kind == "number"

        def compare(op: str, a: Any, b: Any) -> Any:
            if numeric:
                return functions.near_constant(op, a, float(b))
            return functions.COMPARISONS[op](a, b)

        chain: Any = pl
        fallback: Any = None
        for row in table.rows:
            if row.default:
                fallback = row.value
                continue
            matches = functions.row_matches(row, key, compare)
            chain = chain.when(matches).then(pl.lit(_number(row.value)))
        if chain is pl:
            return pl.lit(_number(fallback))
        return chain.otherwise(pl.lit(_number(fallback)))

    def _rekey(self, node: ir.Rekey) -> pl.Expr:
        target_grain, frame, column = self._rekey_target(node.target)
        right_on = [KEY_COLUMNS[key] for key in g.order(target_grain)]
        coded = self.run.data.codes.codable(right_on) and self.frame().height >= keys_mod.SMALL
        given = {kv.key: self._given_key(kv, coded) for kv in node.keys}
        left_on = [given.get(key, KEY_COLUMNS[key]) for key in g.order(target_grain)]
        alias = self.run.temp()
        codes, values = self.run.data.codes, {column: alias}
        self.replace(keys_mod.bring_values(codes, self.frame(), frame, right_on, values, left_on))
        return pl.col(alias)

    def _given_key(self, given: ir.KeyValue, coded: bool) -> str:
        """The column of a key value given to a rekey. Where the rekey goes by codes (`coded`:
        `keys.bring_values`) and the value is a function of one text column (`no_cc(<a text
        column>)`), a code column (`keys.code_column`) instead, the function computed once per
        distinct text (`keys.codes_of_texts`): a string function over a million rows, then the
        codes of its results, cost several times more."""
        node, kind = given.value, KEY_COLUMNS[given.key]
        expr = self.expr(node)
        read = set(expr.meta.root_names())
        if coded and not isinstance(node, ir.FieldRef | ir.Ref) and len(read) == 1:
            frame, text = self.frame(), read.pop()
            found = self._text_codes(kind, frame.get_column(text), expr)
            if found is not None:
                alias = self.run.temp()
                self.replace(frame.with_columns(found.alias(keys_mod.code_column(alias))))
                return alias
        return self.materialize(expr)

    def _text_codes(self, kind: str, texts: pl.Series, expr: pl.Expr) -> pl.Series | None:
        """`keys.codes_of_texts`; of a case column of the inputs, made once per dataset
        (`RunData.text_codes`) where the case frame's rows are the inputs' cases, in their order
        — not a part of them (a re-run evaluating the changed cases alone: `engine.whatif`).
        Cases left in the database are asked their columns and count, not read back."""
        data = self.run.data
        whole = self.grain == CASE and texts.name in case_columns(data)
        if not whole or len(texts) != count(data):
            return keys_mod.codes_of_texts(data.codes, kind, texts, expr)
        key = (kind, texts.name, expr.meta.serialize(format="json"))
        if key not in data.text_codes:
            data.text_codes[key] = keys_mod.codes_of_texts(data.codes, kind, texts, expr)
        return data.text_codes[key]

    def _rekey_target(self, target: Any) -> tuple[g.Grain, pl.DataFrame, str]:
        if isinstance(target, ir.Ref):
            result = self.run.earlier[target.stage] if target.stage else None
            home = result.home[target.name] if result else self.run.home[target.name]
            frames = result.frames if result else self.run.frames
            return home, frames[home], target.name
        source = self.run.data.groups if target.table == "groups" else self.run.data.hospitals
        grain = frozenset({"group"}) if target.table == "groups" else frozenset({"hospital"})
        return grain, source, target.column

    def _neg(self, node: ir.Unary) -> pl.Expr:
        return -self.expr(node.operand) if node.op == "neg" else ~self.expr(node.operand)

    _not = _neg

    def _arith(self, node: ir.Arith) -> pl.Expr:
        if node.fn == "/":
            left, right = self.expr(node.left), self.shared(node.right)
            return pl.when(right != 0).then(left * (1.0 / right))
        return functions.ARITHMETIC[node.fn](self.expr(node.left), self.expr(node.right))

    def _cmp(self, node: ir.Cmp) -> pl.Expr:
        if node.numeric and (constant := self.constant(node.right)) is not None:
            return functions.near_constant(node.fn, self.shared(node.left), constant)
        if node.numeric and (constant := self.constant(node.left)) is not None:
            return functions.near_constant(FLIPPED[node.fn], self.shared(node.right), constant)
        if node.numeric:  # Float64 both: a value missing everywhere is a column of dtype Null
            left, right = (self.shared(side).cast(pl.Float64) for side in (node.left, node.right))
            return functions.near_compare(node.fn, left, right, pl.max_horizontal)
        return functions.COMPARISONS[node.fn](self.expr(node.left), self.expr(node.right))

    def _and(self, node: ir.Logic) -> pl.Expr:
        """All conditions at once (Kleene, as `&`): a chain of `&` would be as deep as it is
        long, and polars takes time growing faster than the depth of an expression."""
        return pl.all_horizontal([self.expr(arg) for arg in node.args])

    def _or(self, node: ir.Logic) -> pl.Expr:
        return pl.any_horizontal([self.expr(arg) for arg in node.args])

    def _if(self, node: ir.IfExpr) -> pl.Expr:
        chain: Any = pl
        for branch in node.branches:
            chain = chain.when(self.expr(branch.condition)).then(self.expr(branch.value))
        return chain.otherwise(self.expr(node.otherwise))

    def _is_in(self, node: ir.IsIn) -> pl.Expr:
        test = self.expr(node.operand).is_in(node.classes)  # Enum vs names: no String cast
        return ~test if node.negated else test

    def _call(self, node: ir.Call) -> pl.Expr:
        if node.fn == "no_cc":
            return catalog.no_cc_expr(self.expr(node.args[0]), self.run.no_cc)
        if node.fn == "round" and len(node.args) == 2:
            digits = node.args[1]
            assert isinstance(digits, ir.Lit)
            return functions.POLARS["round"](self.shared(node.args[0]), int(digits.value or 0))
        read = self.shared if node.fn in functions.READ_TWICE else self.expr
        return functions.POLARS[node.fn](*(read(arg) for arg in node.args))

    def _classify(self, node: ir.Classify) -> pl.Expr:
        """First match; each condition is computed into a column first (`arms`), so that the
        cases it could not decide (a missing value) are counted
        (`engine.plan.polars.fallthrough`)."""
        enum = pl.Enum([c.name for c in node.classes])
        tried = list(itertools.takewhile(lambda c: c.when is not None, node.classes))
        conditions = [self.expr(c.when) for c in tried]
        self.arms = [(c.name, self.run.temp()) for c in tried]
        columns = [e.alias(a) for e, (_, a) in zip(conditions, self.arms, strict=True)]
        self.replace(with_columns(self.frame(), *columns))
        chain: Any = pl
        for cls, (_, column) in zip(tried, self.arms, strict=True):
            chain = chain.when(pl.col(column)).then(pl.lit(cls.name, dtype=enum))
        fallback = node.classes[len(tried)].name if len(tried) < len(node.classes) else None
        otherwise = pl.lit(fallback, dtype=enum)
        return chain.otherwise(otherwise) if chain is not pl else otherwise

    def _match(self, node: ir.Match) -> pl.Expr:
        on = self.expr(node.on)  # an Enum: compared with class names as is
        chain: Any = pl
        fallback: pl.Expr = pl.lit(None, dtype=pl.Float64)
        for arm in node.arms:
            if arm.class_name is None:
                fallback = self.expr(arm.expr)
            else:
                chain = chain.when(on == arm.class_name).then(self.expr(arm.expr))
        return chain.otherwise(fallback) if chain is not pl else fallback

    def _adjust(self, node: ir.AdjustIR) -> pl.Expr:
        """The steps as one expression, each step's running value read as an expression: the
        lazy `with_columns` computes it once (common sub-expressions). A step reads it up to
        three times, so the expression grows threefold a step: every `ADJUST_STEPS` steps it
        is computed into a column."""
        running = self.expr(node.start)
        for number, step in enumerate(node.steps, 1):
            inner = Compiler(self.run, self.grain, running)
            running = pl.when(inner.expr(step.when)).then(inner.expr(step.expr)).otherwise(running)
            if number % ADJUST_STEPS == 0 and number < len(node.steps):
                running = pl.col(self.materialize(running))
        return running

    # ---- steps over many rows (engine/plan/polars/batch_windows.py) ----
    def prefetch_aggregates(self, node: Any) -> None:
        batch_windows.prefetch_aggregates(self, node)

    def _agg(self, node: ir.Aggregate) -> pl.Expr:
        return batch_windows.aggregate(self, node)

    def _rank(self, node: ir.RankIR) -> pl.Expr:
        return batch_windows.rank(self, node)

    def _allocate(self, node: ir.Allocate) -> pl.Expr:
        return batch_windows.allocate(self, node)

    # ---- frame helpers ----
    def frame(self) -> pl.DataFrame:
        return self.run.frame(self.grain)

    def replace(self, frame: pl.DataFrame) -> None:
        self.run.add(self.grain, frame)

    def materialize(self, expr: pl.Expr) -> str:
        """Compute an expression into a temporary column of the frame; its name."""
        alias = self.run.temp()
        self.replace(with_columns(self.frame(), expr.alias(alias)))
        return alias

    def column(self, name: str) -> pl.Expr:
        return pl.col(name)


#: An adjustment's steps computed in one pass (`Compiler._adjust`): two took least time on six
#: steps reading `current` (300k cases: 11 ms against 13-14 for one or three; six, 49 ms).
ADJUST_STEPS = 2


#: Range tables of at most this many rows are looked up by a `when/then` chain (`_range_chain`),
#: larger ones by a search (`_range_search`): on a million keys, a three-row chain takes a few
#: milliseconds where the search of a literal Series takes tens (and a chain of a thousand rows
#: takes polars seconds).
CHAIN_ROWS = 16


def _range_lookup(table: ir.Table, key: pl.Expr) -> pl.Expr:
    """A range table's value: each row's ends as the thresholds `functions.near_constant`
    compares with (a key within the tolerance of an end is judged as `functions.row_matches`
    judges it), the row with the last lower end at or below the key, and its value if the key
    is within its upper end too; else the `else` row's. The checker leaves no two ranges
    overlapping (E501), so that row is the one a first-match `when/then` chain over the table's
    rows would find."""
    rows = sorted((r for r in table.rows if not r.default), key=_lower_end)
    fallback = pl.lit(_number(next((r.value for r in table.rows if r.default), None)))
    if not rows:
        return fallback
    lookup = _range_chain if len(rows) <= CHAIN_ROWS else _range_search
    return lookup(rows, key.cast(pl.Float64), fallback)


def _range_chain(rows: list[ir.Row], key: pl.Expr, fallback: pl.Expr) -> pl.Expr:
    """`_range_lookup` as a chain, the row of the highest lower end first: the first row whose
    lower end is at or below the key decides (a null key matches none)."""
    values = pl.Series([_number(r.value) for r in rows])
    chain: Any = pl
    for row, value in zip(reversed(rows), reversed(values.to_list()), strict=True):
        within = pl.when(key <= _upper_end(row)).then(pl.lit(value, dtype=values.dtype))
        chain = chain.when(key >= _lower_end(row)).then(within.otherwise(fallback))
    return chain.otherwise(fallback)


def _range_search(rows: list[ir.Row], key: pl.Expr, fallback: pl.Expr) -> pl.Expr:
    """`_range_lookup` in one search, whatever the number of rows: a chain of one `when` a row
    costs polars time growing faster than the rows (hours for twenty thousand)."""
    lows = pl.lit(pl.Series([_lower_end(r) for r in rows], dtype=pl.Float64))
    highs = pl.lit(pl.Series([_upper_end(r) for r in rows], dtype=pl.Float64))
    values = pl.lit(pl.Series([_number(r.value) for r in rows]))
    index = lows.search_sorted(key, side="right").cast(pl.Int64) - 1
    row = index.clip(lower_bound=0)
    found = key.is_not_null() & (index >= 0) & (key <= highs.gather(row))
    return pl.when(found).then(values.gather(row)).otherwise(fallback)


def _lower_end(row: ir.Row) -> float:
    """The least key a range row takes (as `near_constant` judges `>=` or `>` its bound)."""
    if row.low is None:
        return math.inf
    return functions.near_threshold(">=" if row.low_closed else ">", row.low)


def _upper_end(row: ir.Row) -> float:
    if row.high is None:
        return math.inf
    return functions.near_threshold("<=" if row.high_closed else "<", row.high)


def _number(value: Any) -> Any:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else value

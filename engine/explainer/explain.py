"""The explainer: why one case got what it got, as a trace recorded as data.

It re-evaluates the case's own definitions one by one in Python from the IR — the second
evaluation path — taking values at coarser grains (group averages, coefficients, the point value)
from the batch run. A `rank` is recomputed: the rows of the case's group that sort before it,
counted in the batch frame. An `allocate` is shown, not recomputed: the batch run's allocation,
with the case's exact share of the total and the whole fen of it, so that a payment more than a
fen from its share shows (`explain_windows`). The conformance suite checks that both paths agree
value for value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from engine.explainer import explain_windows
from engine.explainer.explain_windows import BatchRows
from engine.explainer.trace import AllocationCheck, ClassCheck, RankCheck, Step, StepCheck, Trace
from engine.inputs import catalog, supervision
from engine.inputs.rundata import run_value
from engine.plan import functions
from engine.plan.polars.frames import KEY_COLUMNS, StageResult, key_columns
from engine.run.settle import Settlement, definitions_reached
from policy_dsl import ir
from policy_dsl.errors import PolicyError


class UnknownCase(PolicyError):
    """The case asked for is not among the settled cases."""


def explain(settlement: Settlement, case_id: str, stage: str | None = None) -> Trace:
    """The trace of one case in a settling stage (the last one by default)."""
    if stage is not None and stage not in settlement.stages:
        raise PolicyError(
            f"--stage {stage}: the policy has no such stage; its stages: "
            + ", ".join(settlement.stages)
        )
    return explainer_of(settlement, stage or settlement.settling_stages()[-1]).explain(case_id)


def payment_trace(settlement: Settlement, case_id: str, stage: str | None = None) -> Trace:
    """The trace of one case with only the steps that lead to its payment: the values its row
    of the stage's cases table holds (the method's outputs — class, points or weight, payment…
    — and what a later stage reads of it, as Wuxi's monthly `deposit`) and the definitions
    they read, through the IR (`definitions_reached`, as a what-if re-settles) — what
    `drgpolicy explain` and the studio's Explain page show. `explain` records every case-grain
    definition of the stage, also those nothing of the payment reads (the standard indicators'
    `grouped`, `died`): the conformance suite compares them all."""
    trace = explain(settlement, case_id, stage)
    return leading_to(settlement, trace, settlement.case_values(trace.stage))


def leading_to(settlement: Settlement, trace: Trace, names: Iterable[str]) -> Trace:
    """`trace` with only the steps of `names` and the definitions they read, found through the
    IR (`definitions_reached`, as a what-if re-settles). A definition fixed from outside
    (`--fix`) is kept where the path reads it; what it would have read is not."""
    names = list(names)
    fixed = settlement.settings.definitions
    stages = [settlement.stages[trace.stage].stage]
    reached = definitions_reached(stages, [(trace.stage, n) for n in names], fixed)
    kept = {name for _, name in reached} | {name for name in names if name in fixed}
    # a fixed definition the path reads is a step of its own; what it would have read is not
    kept |= {n for step in trace.steps if step.name in kept for n in step.inputs if n in fixed}
    return trace.only(kept)


def explainer_of(settlement: Settlement, stage: str) -> Explainer:
    """The run's explainer of a stage, made once and kept with the run: what it prepares (the
    definitions read from the batch run, the rows of each rank's and allocation's groups)
    serves every case explained after."""
    result = settlement.stages[stage]
    kept = settlement.explainers.get(stage)
    if not isinstance(kept, Explainer) or kept.result is not result:
        kept = settlement.explainers[stage] = Explainer(settlement, result)
    return kept


class Explainer:
    """Evaluates one case's definitions of a stage in Python, recording each step."""

    def __init__(self, settlement: Settlement, result: StageResult) -> None:
        self.settlement = settlement
        self.result = result
        self.policy = settlement.policy
        self.definitions = {d.name: d for d in result.stage.definitions}
        self.settings = settlement.settings
        self.params = {
            p.name: self.settings.params.get(p.name, p.value) for p in self.policy.params
        }
        self.tables = {t.name: t for t in self.policy.tables}
        self.no_cc = catalog.no_cc_groups(settlement.data.groups["drg_code"].to_list())
        self.rows = BatchRows(settlement, result.stage)
        #: definitions read from the batch run because they need many rows at once
        self.windowed = {d.name for d in result.stage.definitions if _windowed(d.expr)}
        self._position: tuple[str | None, int | None] = (None, None)

    def explain(self, case_id: str, changes: dict[str, Any] | None = None) -> Trace:
        """The case's trace; `changes` replaces some of its input fields (what-if on one case,
        coarser values held as the batch run computed them)."""
        row = {**self._case_row(case_id), **(changes or {})}
        case = CaseEval(self, row)
        for definition in self.result.stage.definitions:
            if definition.grain == ["case"]:
                case.definition(definition.name)
        for name in self.settlement.outputs():
            case.definition(name)
        stage = self.result.stage
        return Trace(
            case_id,
            self.policy.city,
            self.policy.version,
            self.policy.hash,
            stage.name,
            self.settlement.period.label,
            self._facts(row),
            case.steps(),
            list(self.definitions),
        )

    def _case_row(self, case_id: str) -> dict[str, Any]:
        cases = self.settlement.data.cases
        found = self.position(case_id)
        if found is None:
            raise UnknownCase(
                f"case {case_id} is not among the {cases.height} cases settled "
                f"for {self.settlement.period.label}"
            )
        return cases.row(found, named=True)

    def position(self, case_id: str) -> int | None:
        """The case's row among the settled cases, kept for the case explained (the stage's
        case frame has the cases' rows in the same order): a binary search, as the run's cases
        are sorted by id (`RunData`); a scan where they are not."""
        if self._position[0] != case_id:
            ids = self.settlement.data.cases["case_id"]
            at = ids.search_sorted(case_id)
            found = at if at < ids.len() and ids[at] == case_id else ids.index_of(case_id)
            self._position = (case_id, found)
        return self._position[1]

    def _case_value(self, frame: pl.DataFrame, name: str, case_id: str) -> Any:
        """A value of the case in a case-grain frame: at the case's row where the frame has it
        there, else looked up by its id."""
        at = self.position(case_id)
        if at is not None and at < frame.height and frame["case_id"][at] == case_id:
            return frame[name][at]
        return lookup(frame, {"case_id": case_id}, name)

    def _facts(self, row: dict[str, Any]) -> dict[str, Any]:
        keys = (
            "case_id",
            "hospital_id",
            "level",
            "tier",
            "drg_code",
            "month",
            "total_cost",
            "discharge_date",
        )
        return {k: row[k] for k in keys if k in row}

    # ---- values the case reads from the batch run ----
    def stage_result(self, stage: str | None) -> StageResult:
        """The settled frames of an earlier stage, or of this one."""
        return self.settlement.stages[stage] if stage else self.result

    def input_table(self, table: str) -> tuple[pl.DataFrame, str]:
        """An input table a field is read from (hospitals or groups), and its key column."""
        data = self.settlement.data
        if table == "hospitals":
            return data.hospitals, "hospital_id"
        return data.groups, "drg_code"

    def batch_value(self, name: str, stage: str | None, row: dict[str, Any]) -> Any:
        result = self.stage_result(stage)
        grain = result.home[name]
        frame = result.frames[grain]
        keys = key_columns(grain)
        if not keys:
            return frame[name][0]
        if keys == ["case_id"]:
            return self._case_value(frame, name, row["case_id"])
        return lookup(frame, {k: row[k] for k in keys}, name)

    def field_value(self, ref: ir.FieldRef, row: dict[str, Any]) -> Any:
        if ref.table == "run":
            return run_value(self.settlement.period, ref.column)
        if ref.table == "budget":
            value = self.settlement.data.budget["values"][ref.column]
            if isinstance(value, dict):
                declared = next(i for i in self.policy.inputs if i.name == ref.column)
                return float(value[row[KEY_COLUMNS[declared.grain[0]]]])
            return float(value)
        if ref.table in supervision.SUPERVISION_TABLES:
            monthly = "month" in self.result.period_keys
            data = self.settlement.data
            values = supervision.hospital_values(data, ref.table, ref.column, monthly)
            keys = supervision.value_keys(ref.table, monthly)
            return lookup(values, {k: row[k] for k in keys}, ref.column)
        if ref.column in row:
            return row[ref.column]
        table, key = self.input_table(ref.table)
        return lookup(table, {key: row[key]}, ref.column)


def lookup(frame: pl.DataFrame, keys: dict[str, Any], column: str) -> Any:
    """The value of `column` in the row of `frame` with these key values (None if absent, or
    if a key is missing: as in the batch plan's joins, a missing key matches no row)."""
    if any(v is None for v in keys.values()):
        return None
    match = rows_at(frame, keys)
    return match[column][0] if match.height else None


def rows_at(frame: pl.DataFrame, keys: dict[str, Any]) -> pl.DataFrame:
    """The rows of `frame` with these key values (every row for no keys; several rows for a
    part of its keys)."""
    if not keys:
        return frame
    return frame.filter(pl.all_horizontal(pl.col(k) == v for k, v in keys.items()))


def _windowed(node: Any) -> bool:
    """Whether an expression needs many rows at once and is read from the batch run (an
    aggregate; an allocate inside a formula)."""
    return ir.contains(node, (ir.Allocate, ir.Aggregate))


@dataclass
class Notes:
    """What the evaluation of one definition noted down for its step."""

    inputs: dict[str, Any] = field(default_factory=dict)
    classes: list[ClassCheck] = field(default_factory=list)
    adjustments: list[StepCheck] = field(default_factory=list)
    allocations: list[AllocationCheck] = field(default_factory=list)
    ranks: list[RankCheck] = field(default_factory=list)
    arm: str | None = None


class CaseEval:
    """Python evaluation of one case's values, with the steps recorded."""

    def __init__(self, explainer: Explainer, row: dict[str, Any]) -> None:
        self.explainer = explainer
        self.row = row
        self.values: dict[str, Any] = {}
        self.recorded: dict[str, Step] = {}
        self.notes = Notes()

    def steps(self) -> list[Step]:
        return list(self.recorded.values())

    def definition(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        definition = self.explainer.definitions[name]
        saved, self.notes = self.notes, Notes()
        value, source = self._evaluate(definition)
        notes, self.notes = self.notes, saved
        formula = f"{definition.text}: {notes.arm}" if notes.arm else definition.text
        step = Step(
            definition.name,
            definition.label,
            definition.grain,
            formula,
            value,
            source,
            origin_text(definition),
            [citation_text(c) for c in definition.citations],
            notes.inputs,
            notes.classes,
            notes.adjustments,
            notes.allocations,
            notes.ranks,
        )
        self.values[name] = value
        self.recorded[name] = step
        return value

    def _evaluate(self, definition: ir.Definition) -> tuple[Any, str]:
        fixed = self.explainer.settings.definitions
        if definition.name in fixed:
            return fixed[definition.name], "fixed"
        if definition.grain != ["case"]:
            return self.explainer.batch_value(definition.name, None, self.row), "batch"
        if isinstance(definition.expr, ir.Allocate):
            return self._allocated(definition.name, definition.expr), "window"
        if definition.name in self.explainer.windowed:
            return self.explainer.batch_value(definition.name, None, self.row), "window"
        return self.expr(definition.expr), "computed"

    def _allocated(self, name: str, node: ir.Allocate) -> Any:
        """The batch run's allocation to the case, with its share of the total noted."""
        allocated = self.explainer.batch_value(name, None, self.row)
        operands = (self.expr(node.total), self.expr(node.weight))
        rows = self.explainer.rows
        check = explain_windows.allocation(rows, node, self.row, operands, allocated)
        self.notes.allocations.append(check)
        return allocated

    def expr(self, node: Any, current: Any = None) -> Any:
        method: Callable[[Any, Any], Any] = getattr(self, "_" + node.op)
        return method(node, current)

    # ---- leaves ----
    def _lit(self, node: ir.Lit, current: Any) -> Any:
        if node.type.kind == "date" and isinstance(node.value, str):
            return dt.date.fromisoformat(node.value)
        return node.value

    def _field(self, node: ir.FieldRef, current: Any) -> Any:
        value = self.explainer.field_value(node, self.row)
        self.notes.inputs[node.name] = value
        return value

    def _param(self, node: ir.ParamRef, current: Any) -> Any:
        value = self.explainer.params[node.name]
        self.notes.inputs[node.name] = value
        return value

    def _ref(self, node: ir.Ref, current: Any) -> Any:
        if node.stage is None:
            value = self.definition(node.name)
            self.notes.inputs[node.name] = value
            return value
        value = self.explainer.batch_value(node.name, node.stage, self.row)
        self.notes.inputs[f"{node.stage}.{node.name}"] = value
        return value

    def _table(self, node: ir.TableLookup, current: Any) -> Any:
        key = self.expr(node.key, current)
        value = table_value(self.explainer.tables[node.name], key)
        self.notes.inputs[f"{node.name}[{_show(key)}]"] = value
        return value

    def _rekey(self, node: ir.Rekey, current: Any) -> Any:
        given = {kv.key: self.expr(kv.value, current) for kv in node.keys}
        target = node.target
        if isinstance(target, ir.Ref):
            result = self.explainer.stage_result(target.stage)
            grain = result.home[target.name]
            keys = {KEY_COLUMNS[k]: given.get(k, self.row.get(KEY_COLUMNS[k])) for k in grain}
            value = lookup(result.frames[grain], keys, target.name)
        else:
            table, key = self.explainer.input_table(target.table)
            value = lookup(table, {key: next(iter(given.values()))}, target.column)
        shown = ", ".join(f"{k} = {_show(v)}" for k, v in given.items())
        self.notes.inputs[f"{target.name}[{shown}]"] = value
        return value

    def _current(self, node: ir.Current, current: Any) -> Any:
        return current

    # ---- steps over many rows ----
    def _rank(self, node: ir.RankIR, current: Any) -> Any:
        keys = [self.expr(k.expr, current) for k in node.keys]
        eligible = node.where is None or self.expr(node.where, current) is True
        check = explain_windows.rank(self.explainer.rows, node, self.row, keys, eligible)
        self.notes.ranks.append(check)
        return None if check.position is None else float(check.position)

    # ---- operators ----
    def _neg(self, node: ir.Unary, current: Any) -> Any:
        value = self.expr(node.operand, current)
        if value is None:
            return None
        return -value if node.op == "neg" else not value

    _not = _neg

    def _arith(self, node: ir.Arith, current: Any) -> Any:
        left, right = self.expr(node.left, current), self.expr(node.right, current)
        if left is None or right is None:
            return None
        if node.fn == "/":
            return None if right == 0 else left * (1.0 / right)
        return functions.ARITHMETIC[node.fn](left, right)

    def _cmp(self, node: ir.Cmp, current: Any) -> Any:
        left, right = self.expr(node.left, current), self.expr(node.right, current)
        if left is None or right is None:
            return None
        if node.numeric:
            return functions.near_compare(node.fn, left, right, max)
        return functions.COMPARISONS[node.fn](left, right)

    def _and(self, node: ir.Logic, current: Any) -> Any:
        values = [self.expr(arg, current) for arg in node.args]
        if any(value is False for value in values):
            return False
        return None if any(value is None for value in values) else True

    def _or(self, node: ir.Logic, current: Any) -> Any:
        values = [self.expr(arg, current) for arg in node.args]
        if any(value is True for value in values):
            return True
        return None if any(value is None for value in values) else False

    def _if(self, node: ir.IfExpr, current: Any) -> Any:
        for branch in node.branches:
            if self.expr(branch.condition, current) is True:
                return self.expr(branch.value, current)
        return self.expr(node.otherwise, current)

    def _is_in(self, node: ir.IsIn, current: Any) -> Any:
        value = self.expr(node.operand, current)
        found = value in node.classes
        return not found if node.negated else found

    def _call(self, node: ir.Call, current: Any) -> Any:
        args = [self.expr(arg, current) for arg in node.args]
        if node.fn == "no_cc":
            return catalog.no_cc_code(args[0], self.explainer.no_cc)
        return functions.PYTHON[node.fn](*args)

    def _classify(self, node: ir.Classify, current: Any) -> Any:
        chosen = None
        for cls in node.classes:
            result = True if cls.when is None else self.expr(cls.when, current)
            hit = chosen is None and result is True
            self.notes.classes.append(ClassCheck(cls.name, cls.label, cls.text, result, hit))
            if hit:
                chosen = cls.name
                break
        return chosen

    def _match(self, node: ir.Match, current: Any) -> Any:
        on = self.expr(node.on, current)
        arm = next((a for a in node.arms if a.class_name == on), None) or next(
            (a for a in node.arms if a.class_name is None), None
        )
        if arm is None:
            return None
        self.notes.arm = f"{on} -> {arm.text}"
        return self.expr(arm.expr, current)

    def _adjust(self, node: ir.AdjustIR, current: Any) -> Any:
        value = self.expr(node.start, current)
        for step in node.steps:
            applied = self.expr(step.when, value) is True
            if applied:
                value = self.expr(step.expr, value)
            self.notes.adjustments.append(
                StepCheck(step.name, step.label, step.when_text, step.text, applied, value)
            )
        return value


def table_value(table: ir.Table, key: Any) -> Any:
    """The row of a table that `key` falls in (same rules as the batch plan)."""
    if key is None:
        return None
    numeric = isinstance(key, int | float) and not isinstance(key, bool)

    def compare(op: str, a: Any, b: Any) -> Any:
        if numeric:
            return functions.near_compare(op, a, float(b), max)
        return functions.COMPARISONS[op](a, b)

    fallback = None
    for row in table.rows:
        if row.default:
            fallback = row.value
        elif functions.row_matches(row, key, compare):
            return row.value
    return fallback


def origin_text(definition: ir.Definition) -> str | None:
    origin = definition.origin
    return f"{origin.file}:{origin.line}" if origin else None


def citation_text(citation: ir.Citation) -> str:
    if citation.assumption is not None:
        return f"assumption: {citation.assumption}"
    return f"{citation.document} {citation.article or ''}".strip()


def _show(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)

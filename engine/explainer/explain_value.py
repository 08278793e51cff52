"""The trace of a value at a grain coarser than the case — a hospital's, a hospital's in a month,
the period's (医院、月度、全期数值的解释) — read from the batch run.

For a definition at a row's keys: its label, formula, citations and place, its value in the
stage's frames, and every name its formula reads with its value at the same keys. A value at the
same or a coarser grain is the batch run's; an aggregate of finer values (`sum(monthly.payment)`)
is shown as written, evaluated by the batch plan at the definition's grain. Then the same for
each input that is a definition of the stage, one level down at a time, each definition once.
`drgpolicy test` shows it under a hospital or period value that an example does not get.
"""

from __future__ import annotations

from collections import deque
from typing import Any, cast

from engine.explainer.explain import citation_text, lookup, origin_text, rows_at
from engine.explainer.ir_text import expr_text, input_nodes
from engine.explainer.trace import ValueStep, ValueTrace
from engine.inputs.fields import TABLES, TableKind
from engine.plan.polars.batch import Compiler, StageRun
from engine.plan.polars.frames import StageResult, closure_columns, key_columns, with_columns
from engine.run.settle import Settlement
from policy_dsl import grains as g
from policy_dsl import ir


def explain_values(
    settlement: Settlement, name: str, keys: dict[str, Any], stage: str | None = None
) -> list[ValueTrace]:
    """The traces of `name` at `keys` (`{"hospital_id": "H70"}`, `{}` for the period): one, or
    one per month when a monthly stage computes it per month."""
    result = settlement.stages[stage or settlement.settling_stages()[-1]]
    columns = key_columns(result.home[name])
    explainer = ValueExplainer(settlement, result)
    rows = rows_at(result.frame_of(name), keys).iter_rows(named=True)
    return [explainer.trace(name, {c: row[c] for c in columns}) for row in rows]


class ValueExplainer:
    """Steps of values at coarser grains in one stage, read from its batch frames."""

    def __init__(self, settlement: Settlement, result: StageResult) -> None:
        self.settlement = settlement
        self.result = result
        self.policy = settlement.policy
        self.definitions = {d.name: d for d in result.stage.definitions}
        self._run: StageRun | None = None

    def trace(self, name: str, keys: dict[str, Any]) -> ValueTrace:
        """`name` at `keys` (its row's key columns), then the definitions it reads, each once."""
        steps: list[ValueStep] = []
        queue, seen = deque([(name, keys)]), {name}
        while queue:
            step = self.step(*queue.popleft())
            steps.append(step)
            for read in self.definitions_read(step):
                if read not in seen:
                    seen.add(read)
                    queue.append((read, self.keys_of(read, step.keys)))
        s = self.settlement
        return ValueTrace(
            name,
            keys,
            s.policy.city,
            s.policy.version,
            s.policy.hash,
            self.result.stage.name,
            s.period.label,
            self.facts(name, keys),
            steps,
        )

    def definitions_read(self, step: ValueStep) -> list[str]:
        """The definitions of the stage the step's formula reads; none for a value fixed from
        outside (`--fix`, an example's `fix`): its formula is not evaluated."""
        if step.source == "fixed":
            return []
        definition = self.definitions[step.name]
        names = [n.name for n in input_nodes(definition.expr) if _same_stage_ref(n)]
        return [n for n in dict.fromkeys(names) if n != step.name and n in self.definitions]

    def step(self, name: str, keys: dict[str, Any]) -> ValueStep:
        definition = self.definitions[name]
        grain = self.result.home[name]
        fixed = name in self.settlement.settings.definitions
        nodes = {} if fixed else read_by(definition.expr)
        money = [name] if definition.type.is_money else []
        return ValueStep(
            name,
            definition.label,
            definition.grain,
            keys,
            definition.text,
            lookup(self.result.frames[grain], keys, name),
            "fixed" if fixed else "batch",
            origin_text(definition),
            [citation_text(c) for c in definition.citations],
            {label: self.evaluated(node, grain, keys) for label, node in nodes.items()},
            money + [label for label, node in nodes.items() if self.node_money(node)],
        )

    def evaluated(self, node: Any, grain: g.Grain, keys: dict[str, Any]) -> Any:
        """The batch plan's value of an expression on the stage's frame at `grain`, at `keys`."""
        run = self.run()
        expr = Compiler(run, grain).expr(node)
        frame = with_columns(run.frame(grain), expr.alias("__value"))
        return lookup(frame, keys, "__value")

    def run(self) -> StageRun:
        if self._run is None:
            s = self.settlement
            self._run = StageRun.resume(s.policy, self.result, s.data, s.stages, s.settings)
        return self._run

    def keys_of(self, name: str, keys: dict[str, Any]) -> dict[str, Any]:
        """The keys of `name`'s row as read from a row with `keys` (a hospital's tier…)."""
        grain = self.result.home[name]
        columns = key_columns(grain)
        if set(columns) <= set(keys):
            return {c: keys[c] for c in columns}
        row = self.facts_row(keys)
        return {c: row[c] for c in columns}

    def facts(self, name: str, keys: dict[str, Any]) -> dict[str, Any]:
        row = self.facts_row(keys)
        return {c: row[c] for c in closure_columns(self.result.home[name]) if c in row}

    def facts_row(self, keys: dict[str, Any]) -> dict[str, Any]:
        """The row at `keys` of the frame they are the keys of, with the keys it determines."""
        grain = next(gr for gr in self.result.frames if set(key_columns(gr)) == set(keys))
        frame = rows_at(self.result.frames[grain], keys)
        return frame.row(0, named=True) if frame.height else dict(keys)

    def node_money(self, node: Any) -> bool:
        """Whether an input is an amount in 元 (shown to the fen)."""
        match node:
            case ir.Ref(stage=stage, name=name):
                result = self.settlement.stages[stage] if stage else self.result
                found = next(d for d in result.stage.definitions if d.name == name)
                return found.type.is_money
            case ir.ParamRef(name=name):
                return self.policy.param(name).type.is_money
            case ir.FieldRef():
                return self.field_money(node)
            case ir.Aggregate(fn="sum" | "mean" | "min" | "max", arg=arg):
                return self.node_money(arg)
            case ir.Call(fn="round_fen"):
                return True
            case ir.Call(fn="min" | "max" | "clamp" | "round" | "floor", args=args):
                return self.node_money(args[0])
            case ir.Arith(fn="+" | "-", left=left):
                return self.node_money(left)
            case ir.Rekey(target=target):
                return self.node_money(target)
            case ir.TableLookup(name=name):
                return next(t for t in self.policy.tables if t.name == name).value_type.is_money
        return False

    def field_money(self, node: ir.FieldRef) -> bool:
        declared = next((i for i in self.policy.inputs if i.name == node.name), None)
        if declared is not None:
            return declared.type.is_money
        specs = TABLES.get(cast(TableKind, node.table), ())
        return any(s.name == node.column and s.dtype == "money" for s in specs)


def read_by(expr: Any) -> dict[str, Any]:
    """The inputs of a formula by the name it reads them by (an adjustment's `current` aside)."""
    found: dict[str, Any] = {}
    for node in input_nodes(expr):
        if not _reads_current(node):
            found.setdefault(expr_text(node), node)
    return found


def _same_stage_ref(node: Any) -> bool:
    return isinstance(node, ir.Ref) and node.stage is None


def _reads_current(node: Any) -> bool:
    """Whether an expression reads an adjustment's running value (`current`)."""
    return ir.contains(node, ir.Current)


__all__ = ["ValueExplainer", "explain_values", "expr_text", "input_nodes"]

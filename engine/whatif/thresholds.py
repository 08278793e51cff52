"""Thresholds of a policy (阈值), found in its IR: every comparison (`<`, `<=`, `>`, `>=`) one side
of which reads parameters or tables — directly, or through row-wise definitions, which are
inlined (a definition that aggregates, ranks, allocates, classifies or chooses with `if` is read
as it is: a coefficient chosen by level is not a threshold). The
other side is the quantity compared. Each comparison carries the conditions under which it
decides anything (the other side of an `and` holds, of an `or` fails, earlier classes and
branches fail), so cases it cannot affect are not counted near it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from policy_dsl import ir
from policy_dsl.limits import MAX_DEPTH

ORDERINGS = ("<", "<=", ">", ">=")
#: Definitions that are not inlined: their value is read from the settled run.
WHOLE = (ir.Aggregate, ir.RankIR, ir.Allocate, ir.Classify, ir.Match, ir.AdjustIR, ir.IfExpr)
#: Expressions whose comparisons are not followed (other rows, other keys, the running value).
OPAQUE = (ir.RankIR, ir.Allocate, ir.Rekey, ir.TableLookup, ir.Current)


@dataclass(frozen=True)
class ThresholdUse:
    """One comparison against a threshold (阈值的使用): in which definition (and stage), at
    which grain (an aggregate's rows when the comparison is inside one), the quantity compared,
    the threshold's side, the conditions under which it decides, and the parameters and tables
    the threshold's side reads."""

    definition: str
    stage: str
    grain: list[str]
    text: str
    quantity: Any
    threshold: Any
    guard: Any
    reads: tuple[str, ...]


def threshold_uses(policy: ir.Policy) -> list[ThresholdUse]:
    """Every comparison against a threshold, once (the last stage that evaluates it)."""
    found: dict[tuple[str, str], ThresholdUse] = {}
    for stage in policy.stages:
        inline = _Inliner({d.name: d for d in stage.definitions})
        for definition in stage.definitions:
            walk = _walk(definition.expr, definition.grain, [])
            for grain, cmp, guard in walk:
                use = _use(cmp, guard, grain, definition, stage.name, inline)
                if use is not None:
                    found[(definition.name, use.text)] = use
    return list(found.values())


def _use(
    cmp: ir.Cmp,
    guard: list[Any],
    grain: list[str],
    definition: ir.Definition,
    stage: str,
    inline: _Inliner,
) -> ThresholdUse | None:
    left, right = inline.expr(cmp.left), inline.expr(cmp.right)
    left_reads, right_reads = _threshold_names(left), _threshold_names(right)
    if bool(left_reads) == bool(right_reads):
        return None
    quantity, threshold, reads = (
        (cmp.left, right, right_reads) if right_reads else (cmp.right, left, left_reads)
    )
    return ThresholdUse(
        definition.name,
        stage,
        grain,
        text(cmp),
        quantity,
        threshold,
        _conjunction(guard),
        tuple(sorted(reads)),
    )


def _walk(
    node: Any, grain: list[str], guard: list[Any]
) -> Iterator[tuple[list[str], Any, list[Any]]]:
    """(grain, comparison, guard) for every ordering comparison under `node`."""
    match node:
        case ir.Cmp() if node.fn in ORDERINGS:
            yield grain, node, guard
        case ir.Logic(op=op, args=args):
            other = (lambda x: x) if op == "and" else _not
            for i, arg in enumerate(args):
                yield from _walk(arg, grain, [*guard, *map(other, args[:i] + args[i + 1 :])])
        case ir.Unary():
            yield from _walk(node.operand, grain, guard)
        case ir.IfExpr():
            failed: list[Any] = []
            for branch in node.branches:
                yield from _walk(branch.condition, grain, [*guard, *failed])
                yield from _walk(branch.value, grain, [*guard, *failed, branch.condition])
                failed.append(_not(branch.condition))
            yield from _walk(node.otherwise, grain, [*guard, *failed])
        case ir.Classify():
            failed = []
            for cls in node.classes:
                if cls.when is not None:
                    yield from _walk(cls.when, grain, [*guard, *failed])
                    failed.append(_not(cls.when))
        case ir.Aggregate():
            for part in (node.arg, node.where):
                if part is not None:
                    yield from _walk(part, node.source, [])
        case ir.Model() if not isinstance(node, OPAQUE):
            for name in type(node).model_fields:
                yield from _walk(getattr(node, name), grain, guard)
        case list():
            for item in node:
                yield from _walk(item, grain, guard)


def _not(expr: Any) -> ir.Unary:
    return ir.Unary(op="not", operand=expr)


def _conjunction(conditions: list[Any]) -> Any:
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else ir.Logic(op="and", args=conditions)


#: How far formulas are inlined into a comparison: to at most this many levels and nodes. A
#: chain of definitions each reading the one before (or each reading another twice) would
#: otherwise give an expression as deep as the chain (or exponentially large); a definition past
#: these is read as it is, from the settled run, as one that aggregates is.
INLINE_DEPTH = MAX_DEPTH // 2
INLINE_NODES = 10_000

#: An inlined expression with its depth and its number of nodes.
Inlined = tuple[Any, int, int]


class _Inliner:
    """Replaces references to row-wise definitions of a stage by their formulas: each formula
    inlined once, in the stage's order (what a definition reads comes before it), and kept only
    within `INLINE_DEPTH` and `INLINE_NODES`."""

    def __init__(self, definitions: dict[str, ir.Definition]) -> None:
        self.formulas: dict[str, Inlined] = {}
        for definition in definitions.values():
            if not ir.contains(definition.expr, WHOLE):
                formula = self._inline(definition.expr)
                if formula[1] <= INLINE_DEPTH and formula[2] <= INLINE_NODES:
                    self.formulas[definition.name] = formula

    def expr(self, node: Any) -> Any:
        return self._inline(node)[0]

    def _inline(self, node: Any) -> Inlined:
        if isinstance(node, ir.Ref) and node.stage is None and node.name in self.formulas:
            return self.formulas[node.name]
        if isinstance(node, list):
            items = [self._inline(x) for x in node]
            depth = max((i[1] for i in items), default=0)
            return [i[0] for i in items], depth, sum(i[2] for i in items)
        if isinstance(node, ir.Model):
            parts = {n: self._inline(getattr(node, n)) for n in type(node).model_fields}
            changes = {n: part[0] for n, part in parts.items()}
            depth = 1 + max((part[1] for part in parts.values()), default=0)
            return node.model_copy(update=changes), depth, 1 + sum(p[2] for p in parts.values())
        return node, 0, 0


def _threshold_names(node: Any) -> set[str]:
    """Parameters and tables an expression reads."""
    return {n.name for n in ir.walk(node) if isinstance(n, ir.ParamRef | ir.TableLookup)}


# ---- text -------------------------------------------------------------------------------------


def text(node: Any) -> str:
    """An IR expression as the policy language writes it (for labels)."""
    match node:
        case ir.Lit():
            return _number(node.value)
        case ir.FieldRef() | ir.ParamRef():
            return node.name
        case ir.Ref():
            return f"{node.stage}.{node.name}" if node.stage else node.name
        case ir.TableLookup():
            return f"{node.name}[{text(node.key)}]"
        case ir.Arith() | ir.Cmp():
            return f"{_operand(node.left)} {node.fn} {_operand(node.right)}"
        case ir.Call():
            return f"{node.fn}({', '.join(text(x) for x in node.args)})"
        case ir.Aggregate():
            inner = text(node.arg) if node.arg is not None else ", ".join(node.source)
            where = f" where {text(node.where)}" if node.where is not None else ""
            return f"{node.fn}({inner}{where})"
        case ir.Unary():
            return f"not {text(node.operand)}" if node.op == "not" else f"-{text(node.operand)}"
        case ir.Logic():
            return f" {node.op} ".join(_operand(arg) for arg in node.args)
    return str(getattr(node, "op", node))


def _operand(node: Any) -> str:
    shown = text(node)
    return f"({shown})" if isinstance(node, ir.Arith | ir.Logic) else shown


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def row_text(row: ir.Row) -> str:
    """A table row's key or range as the policy writes it: `1`, `[100, 300)`, `else`."""
    if row.default:
        return "else"
    if row.key is not None:
        return _number(row.key)
    high = "inf" if row.high is None else _number(row.high)
    opening, closing = "[" if row.low_closed else "(", "]" if row.high_closed else ")"
    return f"{opening}{_number(row.low)}, {high}{closing}"


__all__ = ["ThresholdUse", "row_text", "text", "threshold_uses"]

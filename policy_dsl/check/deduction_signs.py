"""The sign with which each deduction (`input deduction`, 违规扣款 / 拒付) enters a definition: +1
when the definition rises with it, −1 when it falls, 0 when either may happen (in a condition, a
product of two deductions, an absolute value). A value read without a deduction is assumed not to
be negative where it multiplies or divides (coefficients, rates, shares), as in a payment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from policy_dsl import ast as a
from policy_dsl.check.scope import Scope
from policy_dsl.loader import Entry

DefKey = tuple[str | None, str]

#: Functions whose value never falls when an argument rises (the others: 0 for every argument).
RISING = frozenset(
    {"sum", "mean", "min", "max", "clamp", "round_fen", "round", "floor", "ceil", "if_missing"}
)


@dataclass(frozen=True)
class Flow:
    """How the deductions enter a value (`signs`), and whether the value is made of deductions
    and constants only — a total of deductions, not a payment (`deductions_only`)."""

    signs: dict[str, int] = field(default_factory=dict)
    deductions_only: bool = True

    def flipped(self) -> Flow:
        return Flow({n: -s for n, s in self.signs.items()}, self.deductions_only)

    def unsigned(self) -> Flow:
        """The same deductions, each either way (inside a condition, a lookup key…)."""
        return Flow(dict.fromkeys(self.signs, 0), self.deductions_only)

    def other(self) -> Flow:
        """Not a total of deductions any more (a count, a class, a table value)."""
        return Flow(self.signs, False)

    def __add__(self, other: Flow) -> Flow:
        signs = dict(self.signs)
        for name, sign in other.signs.items():
            signs[name] = sign if signs.get(name, sign) == sign else 0
        return Flow(signs, self.deductions_only and other.deductions_only)


CONSTANT = Flow()
OTHER = Flow(deductions_only=False)


def total(flows: list[Flow]) -> Flow:
    found = CONSTANT
    for flow in flows:
        found = found + flow
    return found


class Signs:
    """The flow of every definition of a resolved policy (memoized; a cycle reads as `OTHER`)."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.flows: dict[DefKey, Flow] = {}

    def label(self, name: str) -> str:
        symbol = self.scope.lookup(name, None)
        decl = symbol.entry.decl if symbol and symbol.entry else None
        return decl.label if isinstance(decl, a.Input) else name

    def dependencies_first(self, order: list[DefKey]) -> None:
        """Work out each definition's flow in `order` (each after the definitions it reads,
        `check._dependencies_first`): working one out then finds the others memoized, and
        a long chain of definitions does not nest Python calls as deep as it is long."""
        for stage, name in order:
            symbol = self.scope.lookup(name, stage)
            if symbol is not None and symbol.entry is not None and _defines(symbol.entry.decl):
                self.definition(symbol.entry)

    def definition(self, entry: Entry) -> Flow:
        key = (entry.stage, entry.decl.name)
        if key not in self.flows:
            self.flows[key] = OTHER
            self.flows[key] = _Walk(self, entry).declaration(entry.decl)
        return self.flows[key]

    def name(self, name: str, stage: str | None) -> Flow:
        symbol = self.scope.lookup(name, stage)
        if symbol is None or symbol.entry is None:
            return OTHER  # a core input field, or unknown (reported elsewhere)
        decl = symbol.entry.decl
        if isinstance(decl, a.Input):
            return Flow({name: 1}) if decl.table == "deduction" else OTHER
        if isinstance(decl, a.Param):
            return CONSTANT
        if _defines(decl):
            return self.definition(symbol.entry)
        return OTHER


def _defines(decl: a.Declaration) -> bool:
    return isinstance(decl, a.Let | a.Formula | a.Adjust | a.Classify)


class _Walk:
    """The flow of one declaration's expressions."""

    def __init__(self, signs: Signs, entry: Entry) -> None:
        self.signs = signs
        self.stage = entry.stage
        self.current = OTHER

    def declaration(self, decl: a.Declaration) -> Flow:
        if isinstance(decl, a.Let):
            return self.expr(decl.expr)
        if isinstance(decl, a.Formula):
            return total([self.expr(arm.expr) for arm in decl.arms])
        if isinstance(decl, a.Adjust):
            return self._adjust(decl)
        if isinstance(decl, a.Classify):
            conditions = [self.expr(c.when).unsigned() for c in decl.classes if c.when]
            return total(conditions).other()
        return OTHER

    def _adjust(self, decl: a.Adjust) -> Flow:
        self.current = running = self.expr(decl.start)
        for step in decl.steps:
            running = running + self.expr(step.expr) + self.expr(step.when).unsigned()
            self.current = running
        return running

    def expr(self, node: a.Expr) -> Flow:
        method: Callable[[a.Expr], Flow] = getattr(self, "_" + type(node).__name__, self._other)
        return method(node)

    def _other(self, node: a.Expr) -> Flow:
        return CONSTANT if isinstance(node, a.Number | a.Bool | a.Text | a.Date) else OTHER

    def _Current(self, node: a.Current) -> Flow:
        return self.current

    def _Name(self, node: a.Name) -> Flow:
        return self.signs.name(node.name, self.stage)

    def _StageRef(self, node: a.StageRef) -> Flow:
        return self.signs.name(node.name, node.stage)

    def _Lookup(self, node: a.Lookup) -> Flow:
        return self.expr(node.key).unsigned().other()

    def _Rekeyed(self, node: a.Rekeyed) -> Flow:
        keys = total([self.expr(k.value) for k in node.keys]).unsigned()
        return self.signs.name(node.name, self.stage) + keys

    def _Call(self, node: a.Call) -> Flow:
        where = self.expr(node.where).unsigned() if node.where is not None else CONSTANT
        args = [self.expr(arg) for arg in node.args]
        if node.function == "allocate" and len(args) == 2:
            return args[0] + args[1].unsigned() + where
        if node.function == "round" and args:
            return args[0] + where
        if node.function in RISING:
            return total(args) + where
        return (total(args).unsigned() + where).other()

    def _Rank(self, node: a.Rank) -> Flow:
        keys = [self.expr(k.expr) for k in node.keys]
        where = [self.expr(node.where)] if node.where is not None else []
        return total(keys + where).unsigned().other()

    def _Neg(self, node: a.Neg) -> Flow:
        return self.expr(node.operand).flipped()

    def _Binary(self, node: a.Binary) -> Flow:
        left, right = self.expr(node.left), self.expr(node.right)
        if node.op == "+":
            return left + right
        if node.op == "-":
            return left + right.flipped()
        if node.op == "/":
            return left + right.unsigned()
        both = left.signs and right.signs
        return (left + right).unsigned() if both else left + right

    def _condition(self, *operands: a.Expr) -> Flow:
        return total([self.expr(x) for x in operands]).unsigned().other()

    def _Compare(self, node: a.Compare) -> Flow:
        return self._condition(node.left, node.right)

    def _And(self, node: a.And) -> Flow:
        return self._condition(*node.operands)

    _Or = _And

    def _Not(self, node: a.Not) -> Flow:
        return self._condition(node.operand)

    def _IsClass(self, node: a.IsClass) -> Flow:
        return self._condition(node.operand)

    def _InClasses(self, node: a.InClasses) -> Flow:
        return self._condition(node.operand)

    def _If(self, node: a.If) -> Flow:
        conditions = total([self.expr(b.condition) for b in node.branches]).unsigned()
        values = total([self.expr(b.value) for b in node.branches] + [self.expr(node.otherwise)])
        return values + Flow(conditions.signs)

"""The state and the type judgements every inference pass shares: what a value is (`Info`), where
an expression stands (`Ctx`), dispatch on the node type, and the checks that report a wrong type
or unit (conditions, numbers, unification, expected types: E301–E304, E605, E606)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from policy_dsl import ast as a
from policy_dsl import grains as g
from policy_dsl.check.scope import Scope, Symbol, did_you_mean
from policy_dsl.diagnostics import Diagnostic
from policy_dsl.loader import Entry
from policy_dsl.types import BOOL, TYPE_NAMES, Type, Unit


@dataclass(frozen=True)
class Info:
    """What inference knows of a value: its type and grain; `zero` marks a bare literal 0,
    which takes the unit of whatever it meets."""

    type: Type
    grain: g.Grain
    zero: bool = False


@dataclass(frozen=True)
class Ctx:
    """Where an expression stands: its declaration, the grain its leaves must be readable at
    (None inside an aggregate), whether it is in an adjustment step and the step's running value
    (None when unknown, e.g. its start names something unknown)."""

    entry: Entry
    target: g.Grain | None
    in_step: bool = False
    current: Info | None = None

    @property
    def stage(self) -> str | None:
        return self.entry.stage


DefKey = tuple[str | None, str]


class InferenceBase:
    """What every inference pass records and shares; each expression node is inferred by the
    method `_<NodeType>` of the pass that knows it (`Inference` gathers them all)."""

    def __init__(self, scope: Scope, report: Callable[[Diagnostic], None]) -> None:
        self.scope = scope
        self.report = report
        self.infos: dict[DefKey, Info | None] = {}
        self.visiting: set[DefKey] = set()
        self.edges: dict[DefKey, set[DefKey]] = {}
        self.used: set[DefKey] = set()
        self.sources: dict[int, g.Grain] = {}
        self.numeric_comparisons: set[int] = set()

    def definition(self, symbol: Symbol) -> Info | None:
        """The type and grain of a definition (see `Inference.definition`)."""
        raise NotImplementedError

    def expression(self, expr: a.Expr, ctx: Ctx) -> Info | None:
        """The type and grain of an expression; problems are reported, None means unknown."""
        method: Callable[[a.Expr, Ctx], Info | None] = getattr(self, "_" + type(expr).__name__)
        return method(expr, ctx)

    def named_type(self, name: str | None, node: a.Node, entry: Entry) -> Type | None:
        if name is None:
            return None
        if name in TYPE_NAMES:
            return TYPE_NAMES[name]
        self._error(
            entry,
            "E304",
            f"unknown type `{name}`",
            node.span,
            did_you_mean(name, TYPE_NAMES) or f"types: {', '.join(TYPE_NAMES)}",
        )
        return None

    def grain_of(self, grain: a.Grain, entry: Entry) -> g.Grain:
        keys = [k for k in grain.keys if k != "all"]
        for key in keys:
            if key not in g.KEYS:
                self._error(
                    entry,
                    "E203",
                    f"`{key}` is not a grain",
                    grain.span,
                    did_you_mean(key, g.KEYS) or f"grains: {', '.join(g.KEYS)}, all",
                )
        return g.normalize(k for k in keys if k in g.KEYS)

    def _classes_of(
        self, symbol: Symbol | None, name: str, node: a.Node, entry: Entry
    ) -> list[str] | None:
        if symbol is not None and symbol.entry is not None:
            decl = symbol.entry.decl
            if isinstance(decl, a.Classify):
                return [c.name for c in decl.classes]
        self._error(
            entry,
            "E606",
            f"`{name}` is not a classification",
            node.span,
            "`by` and `is` need a name declared with `classify`",
        )
        return None

    def _condition(self, expr: a.Expr, ctx: Ctx, what: str) -> Info | None:
        info = self.expression(expr, ctx)
        if info is not None and info.type != BOOL:
            self._type_error(
                ctx.entry,
                expr,
                f"{what} must be true or false, not {info.type}",
                "write a comparison such as `cost_ratio >= 3`, or a yes/no value",
            )
            return None
        return info

    def _numeric(self, info: Info, node: a.Expr, ctx: Ctx, what: str) -> bool:
        if info.type.kind == "number":
            return True
        self._type_error(ctx.entry, node, f"{what} needs numbers, not {info.type}")
        return False

    def _unify(
        self, infos: list[Info | None], exprs: list[a.Expr], entry: Entry, what: str
    ) -> Info | None:
        known = [(i, e) for i, e in zip(infos, exprs, strict=True) if i is not None]
        if not known:
            return None
        typed = [(i, e) for i, e in known if not i.zero] or known
        first, _ = typed[0]
        for info, expr in known:
            if info.zero and first.type.kind == "number":
                continue
            if not info.type.same(first.type):
                self._mismatch(entry, expr, what, first.type, info.type)
                return None
        return first

    def _expect(self, info: Info, expected: Type, expr: a.Expr, entry: Entry, why: str) -> None:
        if info.zero and expected.kind == "number":
            return
        if not info.type.same(expected):
            code = "E303" if info.type.kind == expected.kind else "E302"
            hint = _unit_hint(expected.unit, info.type.unit) if code == "E303" else None
            self._error(entry, code, f"{why}, but this value is {info.type}", expr.span, hint)

    def _mismatch(self, entry: Entry, expr: a.Expr, what: str, first: Type, other: Type) -> None:
        if first.kind == other.kind == "number":
            self._error(
                entry,
                "E301",
                f"{what} must have the same unit: {first} and {other}",
                expr.span,
                _unit_hint(first.unit, other.unit),
            )
        else:
            self._type_error(entry, expr, f"{what} must have the same type: {first} and {other}")

    def _type_error(
        self, entry: Entry, expr: a.Node, message: str, hint: str | None = None
    ) -> None:
        self._error(entry, "E302", message, expr.span, hint)

    def _unknown_class(
        self, name: str, classification: str, classes: list[str], node: a.Node, entry: Entry
    ) -> None:
        self._error(
            entry,
            "E605",
            f"`{classification}` has no class `{name}`",
            node.span,
            did_you_mean(name, classes) or f"classes: {', '.join(classes)}",
        )

    def _error(self, entry: Entry, code: str, message: str, span: a.Span, hint: str | None) -> None:
        self.report(entry.file.source.diagnostic(code, message, span, hint))


def _unit_hint(expected: Unit, got: Unit) -> str:
    pair = {expected, got}
    if pair == {Unit(money=1), Unit(points=1)}:
        return (
            "money and points do not mix: "
            "points × point_value → money, money ÷ point_value → points"
        )
    if Unit() in pair:
        return "give a literal its unit: `100 pt`, `¥1200` or `1200 元`; ratios are plain numbers"
    return f"expected {expected}, got {got}: check which values are multiplied or divided"

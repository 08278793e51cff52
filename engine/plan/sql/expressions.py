"""Lowering of IR expressions to sqlglot trees (表达式下推), one method per IR node as in the polars
compiler (`engine.plan.polars.batch.Compiler`), with the same arithmetic in the same order: a
division is `left * (1 / right)`, a numeric comparison uses the thresholds `engine.plan.functions`
works out, a rounding the engine's rule (half away from zero after the tolerance,
`engine.plan.money`)."""

from __future__ import annotations

import math
from collections.abc import Callable

from engine.plan import functions
from engine.plan.lowering import ExpressionLowering
from engine.plan.money import CAPPED_FROM, TOLERANCE, TOLERANCE_CAP
from engine.plan.polars.batch import FLIPPED
from engine.plan.polars.frames import KEY_COLUMNS, key_columns
from engine.plan.sql import aggregates, classes, windows
from engine.plan.sql import build as b
from engine.plan.sql.plan import SqlStageRun, literal
from policy_dsl import grains as g
from policy_dsl import ir


def define(run: SqlStageRun, definition: ir.Definition) -> None:
    """Add one definition's column to its grain's table (`StageRun.define`)."""
    grain = run.effective(definition.grain)
    if definition.name in run.settings.definitions:
        node = literal(run.settings.definitions[definition.name], definition.type)
    else:
        lowering = Lowering(run, grain)
        node = lowering.expr(definition.expr)
        if lowering.arms:
            classes.count_arms(run, grain, definition.name, lowering.arms)
    run.with_columns(grain, {definition.name: node})
    run.home[definition.name] = grain
    run.drop_temporaries()
    run.keep(definition, grain)


class Lowering(ExpressionLowering[SqlStageRun, b.Node]):
    """IR expression → sqlglot tree over the grain's table (joins done on the way)."""

    def column(self, name: str) -> b.Node:
        return b.col(name)

    def materialize(self, node: b.Node) -> str:
        """Compute a tree into a temporary column of the grain's table; its name."""
        alias = self.run.temp()
        self.run.with_columns(self.grain, {alias: node})
        return alias

    # ---- leaves ----
    def _lit(self, node: ir.Lit) -> b.Node:
        return literal(node.value, node.type)

    def _param(self, node: ir.ParamRef) -> b.Node:
        value = self.run.params[node.name]
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return literal(value, ir.TypeIR(kind="number" if number else "text"))

    def _rekey(self, node: ir.Rekey) -> b.Node:
        """`base_points[group = g]`: a join on the keys the expressions give."""
        if isinstance(node.target, ir.Ref):
            target = node.target
            result = self.run.earlier[target.stage] if target.stage else None
            home = result.home[target.name] if result else self.run.home[target.name]
            frame = (result.frames if result else self.run.frames)[home]
            column = target.name
        else:
            groups = node.target.table == "groups"
            home = frozenset({"group"}) if groups else frozenset({"hospital"})
            frame = self.run.tables.groups if groups else self.run.tables.hospitals
            column = node.target.column
        given = {kv.key: self.materialize(self.expr(kv.value)) for kv in node.keys}
        left_on = [given.get(key, KEY_COLUMNS[key]) for key in g.order(home)]
        alias = self.run.temp()
        self.run.bring(self.grain, frame, key_columns(home), {column: alias}, left_on)
        return b.col(alias)

    # ---- operators ----
    def _neg(self, node: ir.Unary) -> b.Node:
        operand = self.expr(node.operand)
        return b.neg(operand) if node.op == "neg" else b.not_(operand)

    _not = _neg

    def _arith(self, node: ir.Arith) -> b.Node:
        if node.fn == "/":
            left, right = self.expr(node.left), self.shared(node.right)
            quotient = b.mul(left, b.div(b.num(1.0), right))
            return b.case([(b.compare("!=", right, b.num(0.0)), quotient)])
        kinds = {"+": b.add, "-": b.sub, "*": b.mul}
        return kinds[node.fn](self.expr(node.left), self.expr(node.right))

    def _cmp(self, node: ir.Cmp) -> b.Node:
        if node.numeric and (constant := self.constant(node.right)) is not None:
            return near_constant(node.fn, self.shared(node.left), constant)
        if node.numeric and (constant := self.constant(node.left)) is not None:
            return near_constant(FLIPPED[node.fn], self.shared(node.right), constant)
        if node.numeric:
            return near_compare(node.fn, self.shared(node.left), self.shared(node.right))
        return b.compare(node.fn, self.expr(node.left), self.expr(node.right))

    def _and(self, node: ir.Logic) -> b.Node:
        return b.and_(*(self.expr(arg) for arg in node.args))

    def _or(self, node: ir.Logic) -> b.Node:
        return b.or_(*(self.expr(arg) for arg in node.args))

    def _if(self, node: ir.IfExpr) -> b.Node:
        branches = [(self.expr(br.condition), self.expr(br.value)) for br in node.branches]
        return b.case(branches, self.expr(node.otherwise))

    def _is_in(self, node: ir.IsIn) -> b.Node:
        test = b.in_(self.expr(node.operand), [b.text(c) for c in node.classes])
        return b.not_(test) if node.negated else test

    def _call(self, node: ir.Call) -> b.Node:
        if node.fn == "no_cc":
            return self._no_cc(node.args[0])
        if node.fn == "ln":  # the C library's log in every backend (`Database.ln`)
            value = self.shared(node.args[0])
            return b.case([(b.compare(">", value, b.num(0.0)), b.func(self.run.db.ln, value))])
        if node.fn == "round" and len(node.args) == 2:
            digits = node.args[1]
            assert isinstance(digits, ir.Lit)
            return round_half_away(self.shared(node.args[0]), int(digits.value or 0))
        read = self.shared if node.fn in functions.READ_TWICE else self.expr
        return FUNCTIONS[node.fn](*(read(arg) for arg in node.args))

    def _no_cc(self, code: ir.Expr) -> b.Node:
        """`catalog.no_cc_expr`: the no-CC group of the code's ADRG (missing where none), joined
        from a table of the ADRGs (`SqlStageRun.no_cc_table`) on the code's first three
        letters: one probe of a small hash table a row, where a MAP literal of every ADRG cost
        DuckDB more than the rest of the case step (it is built again for every batch of rows)."""
        if not self.run.no_cc:
            return b.cast(b.null(), "VARCHAR")
        adrg = self.materialize(b.func("SUBSTRING", self.expr(code), b.integer(1), b.integer(3)))
        alias = self.run.temp()
        self.run.bring(self.grain, self.run.no_cc_table(), ["adrg"], {"no_cc": alias}, [adrg])
        return b.col(alias)

    # ---- classes, tables, adjustments (engine/plan/sql/classes.py) ----
    def _table(self, node: ir.TableLookup) -> b.Node:
        return classes.lookup(self, node)

    def _classify(self, node: ir.Classify) -> b.Node:
        return classes.classify(self, node)

    def _match(self, node: ir.Match) -> b.Node:
        return classes.match(self, node)

    def _adjust(self, node: ir.AdjustIR) -> b.Node:
        return classes.adjust(self, node)

    # ---- steps over many rows ----
    def _agg(self, node: ir.Aggregate) -> b.Node:
        return aggregates.aggregate(self, node)

    def _rank(self, node: ir.RankIR) -> b.Node:
        return windows.rank(self, node)

    def _allocate(self, node: ir.Allocate) -> b.Node:
        return windows.allocate(self, node)


def near_constant(op: str, value: b.Node, constant: float) -> b.Node:
    """`functions.near_constant`: plain comparisons with the thresholds worked out once."""
    if not math.isfinite(constant):
        return near_compare(op, value, b.num(constant))
    if op in ("==", "!="):
        low, high = (
            functions.near_threshold(">=", constant),
            functions.near_threshold("<=", constant),
        )
        inside = b.and_(b.compare(">=", value, b.num(low)), b.compare("<=", value, b.num(high)))
        return inside if op == "==" else b.not_(inside)
    threshold = b.num(functions.near_threshold(op, constant))
    return b.compare(">=" if op in (">", ">=") else "<=", value, threshold)


def near_compare(op: str, left: b.Node, right: b.Node) -> b.Node:
    """`functions.near_compare`: values within the tolerance (relative) count as equal."""
    scale = b.mul(b.num(TOLERANCE), b.greatest(b.abs_(left), b.abs_(right)))
    gap = b.sub(left, right)
    tests = {
        "==": lambda: b.compare("<=", b.abs_(gap), scale),
        "!=": lambda: b.compare(">", b.abs_(gap), scale),
        "<": lambda: b.compare(">", b.neg(gap), scale),
        "<=": lambda: b.compare("<=", gap, scale),
        ">": lambda: b.compare(">", gap, scale),
        ">=": lambda: b.compare("<=", b.neg(gap), scale),
    }
    return tests[op]()


def round_half_away(value: b.Node, digits: int = 0) -> b.Node:
    """`money.round_half_away_expr`, the same operations in the same order."""
    scale = 10.0**digits
    units = b.mul(b.abs_(value), b.num(scale))
    relative = b.floor(b.add(b.mul(units.copy(), b.num(1 + TOLERANCE)), b.num(0.5)))
    whole = b.floor(units.copy())
    fraction = b.sub(units.copy(), whole.copy())
    up = b.case([(b.compare(">=", fraction, b.num(0.5 - TOLERANCE_CAP)), b.num(1.0))], b.num(0.0))
    magnitude = b.case([(b.compare("<=", units, b.num(CAPPED_FROM)), relative)], b.add(whole, up))
    signed = b.case([(b.compare("<", value, b.num(0.0)), b.neg(magnitude))], magnitude)
    return b.mul(signed, b.num(1.0 / scale))


def _clamp(x: b.Node, low: b.Node, high: b.Node) -> b.Node:
    missing = b.or_(b.is_null(x), b.is_null(low), b.is_null(high))
    return b.case([(missing, b.typed_null("DOUBLE"))], b.least(b.greatest(x, low), high))


#: The row-wise built-ins (`functions.POLARS`) as trees; min/max skip missing values as
#: LEAST/GREATEST do in DuckDB and Spark. `no_cc`, `ln` and `round` with digits: `Lowering._call`.
FUNCTIONS: dict[str, Callable[..., b.Node]] = {
    "min": lambda *xs: b.least(*xs),
    "max": lambda *xs: b.greatest(*xs),
    "clamp": _clamp,
    "floor": lambda x: b.cast(b.floor(x), "DOUBLE"),
    "ceil": lambda x: b.cast(b.func("CEIL", x), "DOUBLE"),
    "round": lambda x: round_half_away(x, 0),
    "round_fen": lambda x: round_half_away(x, 2),
    "abs": b.abs_,
    "if_missing": lambda x, y: b.coalesce(x, y),
    "adrg": lambda code: b.func("SUBSTRING", code, b.integer(1), b.integer(3)),
}
#: The built-ins `Lowering._call` lowers itself.
SPECIAL = frozenset({"no_cc", "ln", "round"})

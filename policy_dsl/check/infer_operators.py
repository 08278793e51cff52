"""Inference of operators: arithmetic and its units, comparisons, class tests, `and`/`or`/`not`
and `if` (E301, E302, E605)."""

from __future__ import annotations

from policy_dsl import ast as a
from policy_dsl import grains as g
from policy_dsl.check.infer_base import Ctx, InferenceBase, Info
from policy_dsl.types import ANY_CLASSES, BOOL, Type


class OperatorInference(InferenceBase):
    """Arithmetic, comparisons and logic."""

    def _Neg(self, node: a.Neg, ctx: Ctx) -> Info | None:
        info = self.expression(node.operand, ctx)
        return info if info is None or self._numeric(info, node.operand, ctx, "`-`") else None

    def _Binary(self, node: a.Binary, ctx: Ctx) -> Info | None:
        left, right = self.expression(node.left, ctx), self.expression(node.right, ctx)
        if left is None or right is None:
            return None
        if not (
            self._numeric(left, node.left, ctx, f"`{node.op}`")
            and self._numeric(right, node.right, ctx, f"`{node.op}`")
        ):
            return None
        grain = g.join(left.grain, right.grain)
        if node.op in "+-":
            unified = self._unify(
                [left, right], [node.left, node.right], ctx.entry, f"both sides of `{node.op}`"
            )
            return Info(unified.type, grain) if unified else None
        unit = (
            left.type.unit * right.type.unit
            if node.op == "*"
            else (left.type.unit / right.type.unit)
        )
        return Info(Type("number", unit), grain)

    def _Compare(self, node: a.Compare, ctx: Ctx) -> Info | None:
        left, right = self.expression(node.left, ctx), self.expression(node.right, ctx)
        if left is None or right is None:
            return None
        if left.type.kind == "class" or right.type.kind == "class":
            self._type_error(
                ctx.entry,
                node,
                "a class is tested with `is`, not compared",
                "write `category is normal` or `category in (high, low)`",
            )
            return None
        if node.op not in ("==", "!=") and left.type.kind not in ("number", "date"):
            self._type_error(
                ctx.entry, node.left, f"`{node.op}` compares numbers or dates, not {left.type}"
            )
            return None
        self._unify([left, right], [node.left, node.right], ctx.entry, f"both sides of `{node.op}`")
        if left.type.kind == "number":
            self.numeric_comparisons.add(id(node))
        return Info(BOOL, g.join(left.grain, right.grain))

    def _IsClass(self, node: a.IsClass, ctx: Ctx) -> Info | None:
        return self._class_test(node.operand, (node.class_name,), node, ctx)

    def _InClasses(self, node: a.InClasses, ctx: Ctx) -> Info | None:
        return self._class_test(node.operand, node.classes, node, ctx)

    def _class_test(
        self, operand: a.Expr, names: tuple[str, ...], node: a.Node, ctx: Ctx
    ) -> Info | None:
        info = self.expression(operand, ctx)
        if info is None:
            return None
        if info.type.kind == "class" and info.type.classes_of == ANY_CLASSES:
            return Info(BOOL, info.grain)  # the classes are the including policy's
        if info.type.kind != "class" or info.type.classes_of is None:
            self._type_error(
                ctx.entry,
                operand,
                f"`is`/`in` test a classification, not {info.type}",
                "e.g. `category is normal`",
            )
            return None
        symbol = self.scope.lookup(info.type.classes_of, ctx.stage)
        classes = self._classes_of(symbol, info.type.classes_of, node, ctx.entry)
        for name in names:
            if classes is not None and name not in classes:
                self._unknown_class(name, info.type.classes_of, classes, node, ctx.entry)
        return Info(BOOL, info.grain)

    def _And(self, node: a.And, ctx: Ctx) -> Info | None:
        return self._logic(list(node.operands), ctx, "`and`")

    def _Or(self, node: a.Or, ctx: Ctx) -> Info | None:
        return self._logic(list(node.operands), ctx, "`or`")

    def _Not(self, node: a.Not, ctx: Ctx) -> Info | None:
        return self._logic([node.operand], ctx, "`not`")

    def _logic(self, operands: list[a.Expr], ctx: Ctx, what: str) -> Info | None:
        infos = [self._condition(op, ctx, what) for op in operands]
        if any(i is None for i in infos):
            return None
        return Info(BOOL, g.join(*(i.grain for i in infos if i is not None)))

    def _If(self, node: a.If, ctx: Ctx) -> Info | None:
        conditions = [
            self._condition(b.condition, ctx, "the condition of `if`") for b in node.branches
        ]
        exprs = [b.value for b in node.branches] + [node.otherwise]
        values = [self.expression(e, ctx) for e in exprs]
        unified = self._unify(values, exprs, ctx.entry, "the branches of `if`")
        if unified is None or any(c is None for c in conditions):
            return None
        known = [i.grain for i in [*conditions, *values] if i is not None]
        return Info(unified.type, g.join(*known))

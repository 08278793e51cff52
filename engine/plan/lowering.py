"""What the two lowerings of an IR expression share — the polars `Compiler`
(`engine.plan.polars.batch`) and the SQL `Lowering` (`engine.plan.sql.expressions`): the run and
grain an expression is lowered at, the dispatch on a node's `op`, the leaves that read a column
or a constant, and `shared` (a sub-expression read more than once becomes a column of its own).
Each backend adds the nodes it builds differently."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Generic, Protocol, Self, TypeVar

from policy_dsl import grains as g
from policy_dsl import ir

#: IR nodes lowered to a column or a literal: read twice, they cost nothing.
COLUMNS = (ir.Lit, ir.FieldRef, ir.ParamRef, ir.Ref, ir.Current, ir.Aggregate)

E = TypeVar("E")


class StageRunLike(Protocol):
    """What a lowering reads of its stage's run (`StageRun`, `SqlStageRun`)."""

    params: Mapping[str, Any]

    def field(self, ref: ir.FieldRef, grain: g.Grain) -> Any: ...
    def value(self, name: str, stage: str | None, grain: g.Grain) -> str: ...
    def temp(self) -> str: ...


R = TypeVar("R", bound=StageRunLike)


class ExpressionLowering(Generic[R, E]):
    """IR expression → a backend's expression `E` over the table of one grain."""

    def __init__(self, run: R, grain: g.Grain, current: E | None = None) -> None:
        self.run = run
        self.grain = grain
        self.current = current
        #: a classification's conditional classes, each with the column of its condition
        self.arms: list[tuple[str, str]] = []

    def expr(self, node: Any) -> E:
        method: Callable[[Any], E] = getattr(self, "_" + node.op)
        return method(node)

    def at(self, grain: g.Grain) -> Self:
        """A lowering of the same run at another grain (e.g. an aggregate's rows)."""
        return type(self)(self.run, grain)

    def column(self, name: str) -> E:
        """The backend's reference to a column of the grain's table."""
        raise NotImplementedError

    def materialize(self, expr: E) -> str:
        """Compute an expression into a temporary column of the grain's table; its name."""
        raise NotImplementedError

    def shared(self, node: Any) -> E:
        """The expression of `node` for a builder that reads it more than once (a comparison
        within the money tolerance, a table's rows, a divisor, `clamp`, `round`): a column of
        its own unless it is a column already. Read twice as an expression, it would be built
        twice, and nested such builders would double the expression at each level: 2^depth
        nodes, a run that never ends at a depth the language allows."""
        expr = self.expr(node)
        return expr if isinstance(node, COLUMNS) else self.column(self.materialize(expr))

    def constant(self, node: Any) -> float | None:
        """The finite number a literal or parameter stands for (None for anything else)."""
        if isinstance(node, ir.Lit):
            value = node.value
        elif isinstance(node, ir.ParamRef):
            value = self.run.params[node.name]
        else:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value) if math.isfinite(value) else None

    # ---- leaves ----
    def _field(self, node: ir.FieldRef) -> E:
        field: E = self.run.field(node, self.grain)
        return field

    def _ref(self, node: ir.Ref) -> E:
        return self.column(self.run.value(node.name, node.stage, self.grain))

    def _current(self, node: ir.Current) -> E:
        assert self.current is not None
        return self.current

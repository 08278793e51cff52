"""Small builders of sqlglot expression trees (SQL 表达式树): columns, typed literals, arithmetic
with explicit parentheses, CASE chains. Every SQL the lowering runs is a tree built here and
rendered for the backend's dialect; no SQL text is assembled from strings."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from sqlglot import exp

Node = exp.Expr


def col(name: str, table: str | None = None) -> exp.Column:
    """A quoted column (names such as `monthly.payment` hold a dot)."""
    return exp.column(name, table=table, quoted=True)


def table(name: str, alias: str | None = None) -> Node:
    found = exp.Table(this=ident(name))
    return found.as_(alias, quoted=True) if alias else found


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def num(value: float) -> Node:
    """A double, exactly: its shortest text cast to DOUBLE (a bare `0.1` would be a DECIMAL in
    DuckDB and Spark, and a DECIMAL → DOUBLE cast may round twice)."""
    value = float(value)
    if math.isnan(value):
        text = "NaN"
    elif math.isinf(value):
        text = "Infinity" if value > 0 else "-Infinity"
    else:
        text = repr(value)
    return exp.cast(exp.Literal.string(text), exp.DataType.Type.DOUBLE)


def integer(value: int) -> Node:
    return exp.Literal.number(int(value))


def text(value: str) -> Node:
    return exp.Literal.string(value)


def boolean(value: bool) -> Node:
    return exp.Boolean(this=bool(value))


def null() -> Node:
    return exp.Null()


def typed_null(kind: str) -> Node:
    return exp.cast(exp.Null(), kind)


def cast(node: Node, kind: str) -> Node:
    return exp.cast(node, kind)


def paren(node: Node) -> Node:
    return node if isinstance(node, exp.Paren | exp.Column | exp.Literal) else exp.Paren(this=node)


def binary(kind: type[exp.Binary], left: Node, right: Node) -> Node:
    """`(left op right)`: parenthesized, so a tree renders with its own evaluation order."""
    return exp.Paren(this=kind(this=paren(left), expression=paren(right)))


def add(left: Node, right: Node) -> Node:
    return binary(exp.Add, left, right)


def sub(left: Node, right: Node) -> Node:
    return binary(exp.Sub, left, right)


def mul(left: Node, right: Node) -> Node:
    return binary(exp.Mul, left, right)


def div(left: Node, right: Node) -> Node:
    return binary(exp.Div, left, right)


def neg(node: Node) -> Node:
    return exp.Paren(this=exp.Neg(this=paren(node)))


def not_(node: Node) -> Node:
    return exp.Paren(this=exp.Not(this=paren(node)))


def is_null(node: Node) -> Node:
    return exp.Paren(this=exp.Is(this=paren(node), expression=exp.Null()))


def is_not_null(node: Node) -> Node:
    return not_(is_null(node))


def and_(*nodes: Node) -> Node:
    return exp.Paren(this=exp.and_(*(paren(n) for n in nodes)))


def or_(*nodes: Node) -> Node:
    return exp.Paren(this=exp.or_(*(paren(n) for n in nodes)))


COMPARE: dict[str, type[exp.Binary]] = {
    "==": exp.EQ,
    "!=": exp.NEQ,
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
}


def compare(op: str, left: Node, right: Node) -> Node:
    return binary(COMPARE[op], left, right)


def case(branches: Iterable[tuple[Node, Node]], otherwise: Node | None = None) -> Node:
    """`CASE WHEN c THEN v … ELSE otherwise END` (no branch: `otherwise`)."""
    ifs = [exp.If(this=condition, true=value) for condition, value in branches]
    if not ifs:
        return otherwise if otherwise is not None else exp.Null()
    return exp.Case(ifs=ifs, default=otherwise)


def func(name: str, *args: Node) -> Node:
    """A function by name, rendered as is in every dialect (LEAST, GREATEST, ISNAN…)."""
    return exp.Anonymous(this=name, expressions=list(args))


def floor(node: Node) -> Node:
    return exp.Floor(this=node)


def abs_(node: Node) -> Node:
    return exp.Abs(this=node)


def coalesce(first: Node, *rest: Node) -> Node:
    return exp.Coalesce(this=first, expressions=list(rest))


def least(*nodes: Node) -> Node:
    """LEAST skipping missing values, as polars' min_horizontal (`ignore_nulls`: without it
    sqlglot writes DuckDB's as NULL when any argument is)."""
    return exp.Least(this=nodes[0], expressions=list(nodes[1:]), ignore_nulls=True)


def greatest(*nodes: Node) -> Node:
    """GREATEST skipping missing values (see `least`)."""
    return exp.Greatest(this=nodes[0], expressions=list(nodes[1:]), ignore_nulls=True)


def in_(node: Node, values: Sequence[Node]) -> Node:
    return exp.Paren(this=exp.In(this=paren(node), expressions=list(values)))


def ordered(node: Node, descending: bool = False, nulls_first: bool = False) -> exp.Ordered:
    return exp.Ordered(this=node, desc=descending, nulls_first=nulls_first)


def window(
    function: Node, partition: Sequence[Node], order: Sequence[exp.Ordered] = ()
) -> exp.Window:
    return exp.Window(
        this=function,
        partition_by=list(partition) or None,
        order=exp.Order(expressions=list(order)) if order else None,
    )


def alias(node: Node, name: str) -> Node:
    return exp.alias_(node, ident(name))


def try_cast(node: Node, kind: str) -> Node:
    """A cast that gives NULL where the value does not fit (polars' `strict=False`)."""
    return exp.TryCast(this=node, to=exp.DataType.build(kind))

"""The row-wise built-in functions, each in both evaluation paths side by side: a polars
expression for the batch plan and a Python function for the explainer. Missing values (None /
null) follow the same rules in both: they propagate, except that `min`/`max` skip them and
`if_missing` replaces them."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

from engine.money import TOLERANCE, round_half_away, round_half_away_expr
from policy_dsl import ir

Value = Any


def near_compare(op: str, left: Any, right: Any, bigger: Callable[[Any, Any], Any]) -> Any:
    """A numeric comparison in which values within `TOLERANCE` (relative) of each other count
    as equal — the same formula in both paths (`bigger` is `max` or `pl.max_horizontal`)."""
    scale = TOLERANCE * bigger(abs(left), abs(right))
    gap = left - right
    tests = {
        "==": lambda: abs(gap) <= scale,
        "!=": lambda: abs(gap) > scale,
        "<": lambda: -gap > scale,
        "<=": lambda: gap <= scale,
        ">": lambda: gap > scale,
        ">=": lambda: -gap <= scale,
    }
    return tests[op]()


def row_matches(row: ir.Row, key: Any, compare: Callable[[str, Any, Any], Any]) -> Any:
    """Whether a table key falls in a row (its key, or its range with the range's own open or
    closed ends), for either path: `compare(op, a, b)` is the path's comparison."""
    if row.key is not None:
        return compare("==", key, row.key)
    low = compare(">=" if row.low_closed else ">", key, row.low)
    if row.high is None:
        return low
    return low & compare("<=" if row.high_closed else "<", key, row.high)


#: Comparisons and `+ - *`, one table for both paths (polars expressions overload the operators).
COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
}


def _skip_missing(pick: Callable[..., Value]) -> Callable[..., Value]:
    def apply(*args: Value) -> Value:
        present = [a for a in args if a is not None]
        return pick(present) if present else None

    return apply


def _rowwise(fn: Callable[..., Value]) -> Callable[..., Value]:
    def apply(*args: Value) -> Value:
        return None if any(a is None for a in args) else fn(*args)

    return apply


def _digits(args: Sequence[Value]) -> int:
    return int(args[1]) if len(args) > 1 else 0


PYTHON: dict[str, Callable[..., Value]] = {
    "min": _skip_missing(min),
    "max": _skip_missing(max),
    "clamp": _rowwise(lambda x, low, high: min(max(x, low), high)),
    "floor": _rowwise(lambda x: float(math.floor(x))),
    "ceil": _rowwise(lambda x: float(math.ceil(x))),
    "round": lambda *args: round_half_away(args[0], _digits(args)),
    "round_fen": lambda x: round_half_away(x, 2),
    "abs": _rowwise(abs),
    "if_missing": lambda x, y: y if x is None else x,
    "adrg": _rowwise(lambda code: code[:3]),
}


def _clamp(x: pl.Expr, low: pl.Expr, high: pl.Expr) -> pl.Expr:
    missing = x.is_null() | low.is_null() | high.is_null()
    return pl.when(missing).then(None).otherwise(pl.min_horizontal(pl.max_horizontal(x, low), high))


#: `round` takes its digits as a plain int (the checker allows only a literal there).
POLARS: dict[str, Callable[..., pl.Expr]] = {
    "min": lambda *xs: pl.min_horizontal(*xs),
    "max": lambda *xs: pl.max_horizontal(*xs),
    "clamp": _clamp,
    "floor": lambda x: x.floor(),
    "ceil": lambda x: x.ceil(),
    "round": lambda x, digits=0: round_half_away_expr(x, digits),
    "round_fen": lambda x: round_half_away_expr(x, 2),
    "abs": lambda x: x.abs(),
    "if_missing": lambda x, y: pl.coalesce(x, y),
    "adrg": lambda code: code.str.slice(0, 3),
}


def stable_sum(values: pl.Expr) -> pl.Expr:
    """A group's float sum in row order. polars' plain group-by `sum`/`mean` add partial sums
    from several threads in whatever order they finish, so the last bits can differ between
    runs; gathering the group first makes every run add in the same order."""
    return values.implode().list.sum()


def stable_mean(values: pl.Expr) -> pl.Expr:
    return values.implode().list.mean()


def stable_std(values: pl.Expr) -> pl.Expr:
    """Population standard deviation (ddof = 0), in row order."""
    return values.implode().list.std(ddof=0)

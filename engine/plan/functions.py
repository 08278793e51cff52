"""The row-wise built-in functions, each in both evaluation paths side by side: a polars
expression for the batch plan and a Python function for the explainer. Missing values (None /
null) follow the same rules in both: they propagate, except that `min`/`max` skip them and
`if_missing` replaces them."""

from __future__ import annotations

import functools
import math
import operator
import struct
from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

from engine.plan.money import TOLERANCE, round_half_away, round_half_away_expr
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


def near_constant(op: str, value: pl.Expr, constant: float) -> pl.Expr:
    """`near_compare(op, value, constant)` over a column as plain comparisons with thresholds
    worked out once: for a constant right side, the doubles that compare true form a half-line
    (an interval for `==`) ending within the tolerance of the constant — ten times faster than
    the tolerance arithmetic on every row."""
    if not math.isfinite(constant):
        return near_compare(op, value, pl.lit(constant), pl.max_horizontal)
    if op in ("==", "!="):
        low, high = near_threshold(">=", constant), near_threshold("<=", constant)
        inside = (value >= low) & (value <= high)
        return inside if op == "==" else ~inside
    threshold = near_threshold(op, constant)
    return value >= threshold if op in (">", ">=") else value <= threshold


@functools.cache
def near_threshold(op: str, constant: float) -> float:
    """For `op` in `<`, `<=`, `>`, `>=`: the double t such that `near_compare(op, a, constant)`
    holds exactly when a >= t (for `>`, `>=`) or a <= t (for `<`, `<=`), for every finite double
    a. Found by bisection over the doubles near the constant: the comparison is monotone in a
    (the gap grows by one step of a while the tolerance grows by 1e-14 of it)."""

    def holds(a: float) -> bool:
        return bool(near_compare(op, a, constant, max))

    margin = 4 * TOLERANCE * abs(constant) + 1e-290
    upward = op in (">", ">=")  # true above the threshold
    outside, inside = (
        (constant - margin, constant + margin) if upward else (constant + margin, constant - margin)
    )
    if holds(outside) or not holds(inside):
        raise ValueError(f"no threshold for {op} {constant!r}")
    low, high = _ordered(outside), _ordered(inside)  # holds(low) is false, holds(high) true
    while abs(high - low) > 1:
        middle = (low + high) // 2
        if holds(_double(middle)):
            high = middle
        else:
            low = middle
    return _double(high)


def _ordered(x: float) -> int:
    """Doubles as integers in the same order (consecutive doubles: consecutive integers)."""
    bits: int = struct.unpack("<q", struct.pack("<d", x))[0]
    return bits if bits >= 0 else -(bits & 0x7FFF_FFFF_FFFF_FFFF)


def _double(ordered: int) -> float:
    bits = ordered if ordered >= 0 else (-ordered) | (1 << 63)
    value: float = struct.unpack("<d", struct.pack("<Q", bits))[0]
    return value


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
    "ln": _rowwise(lambda x: math.log(x) if x > 0 else None),
    "if_missing": lambda x, y: y if x is None else x,
    "adrg": _rowwise(lambda code: code[:3]),
}


def _clamp(x: pl.Expr, low: pl.Expr, high: pl.Expr) -> pl.Expr:
    missing = x.is_null() | low.is_null() | high.is_null()
    return pl.when(missing).then(None).otherwise(pl.min_horizontal(pl.max_horizontal(x, low), high))


#: The functions whose polars expression reads an argument more than once (the batch plan gives
#: them their arguments as columns: `Compiler.shared`).
READ_TWICE = frozenset({"clamp", "round", "round_fen", "ln"})

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
    "ln": lambda x: pl.when(x > 0).then(x.log()),
    "if_missing": lambda x, y: pl.coalesce(x, y),
    "adrg": lambda code: code.str.slice(0, 3),
}


def stable_sum(values: pl.Expr) -> pl.Expr:
    """A group's float sum in row order (the monitoring stage's roll-ups,
    `engine.plan.polars.monitoring_batch`; the settlement's sums are exact: `engine.plan.exact`)."""
    return values.implode().list.sum()

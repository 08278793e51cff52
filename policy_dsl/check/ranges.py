"""Checks of parameter ranges (`param low_ratio "…" : ratio in [0, 1] = 40%`): the range suits
the type (E311), is not empty (E312), and the value lies in it — or, with no range declared, in
its type's default range (E310, `policy_dsl.ranges`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal

from policy_dsl import ast as a
from policy_dsl import ir
from policy_dsl.check.tables import literal_value
from policy_dsl.diagnostics import Diagnostic
from policy_dsl.loader import Entry
from policy_dsl.ranges import WHOLE_TYPES, default_range
from policy_dsl.types import TYPE_NAMES
from policy_dsl.unparse import expr_text, number_text, range_text

Report = Callable[[Diagnostic], None]


def declared_range(node: a.ParamRange, type_name: str) -> ir.ValueRange | None:
    """The range a parameter declares, in the type's units (`[0%, 100%]` is `[0, 1]`); None if
    a bound is not a finite number."""
    low, high = literal_value(node.low), literal_value(node.high)
    if not (isinstance(low, Decimal) and (node.high is None or isinstance(high, Decimal))):
        return None
    bounds = [float(low), float(high) if isinstance(high, Decimal) else None]
    if not all(b is None or math.isfinite(b) for b in bounds):
        return None
    return ir.ValueRange(
        low=bounds[0],
        low_closed=node.low_closed,
        high=bounds[1],
        high_closed=node.high_closed,
        whole=type_name in WHOLE_TYPES,
    )


def check_param_range(entry: Entry, report: Report) -> None:
    """E311/E312 for the declared range, then E310 for the value."""
    decl = entry.decl
    assert isinstance(decl, a.Param)
    at = entry.file.source.diagnostic
    if decl.type not in TYPE_NAMES:
        return  # E304
    default = default_range(decl.type)
    node = decl.range
    if node is not None and default is None:
        report(
            at(
                "E311",
                f"`{decl.name}` is {decl.type}: only a number has a range",
                node.span,
                "remove `in …`, or declare a number type (e.g. `: ratio in [0, 1]`)",
            )
        )
        return
    chosen = default if node is None else _checked_range(decl, node, at, report)
    value = literal_value(decl.value)
    if chosen is None or not isinstance(value, Decimal) or chosen.contains(float(value)):
        return
    report(at("E310", _outside(decl, value, chosen), decl.value.span, _hint(decl, value, chosen)))


def _checked_range(
    decl: a.Param, node: a.ParamRange, at: Callable[..., Diagnostic], report: Report
) -> ir.ValueRange | None:
    found = declared_range(node, decl.type)
    if found is None:
        report(
            at(
                "E311",
                f"the range of `{decl.name}` is not made of two numbers",
                node.span,
                "write numbers in the parameter's unit, e.g. `in [0, 1]`, `in [0%, 100%]`, "
                "`in [0, inf)` (inf only as the upper bound)",
            )
        )
        return None
    low, high = found.low or 0.0, found.high
    if decl.type in WHOLE_TYPES and not all(b is None or b.is_integer() for b in (low, high)):
        report(
            at(
                "E311",
                f"`{decl.name}` is a {decl.type}: its range must have whole-number bounds",
                node.span,
                f"write whole numbers, e.g. `in [{math.floor(low)}, "
                f"{'inf)' if high is None else str(math.ceil(high)) + ']'}`",
            )
        )
        return None
    closed = node.low_closed and node.high_closed
    if high is not None and (high < low or (high == low and not closed)):
        report(
            at(
                "E312",
                f"the range of `{decl.name}` {range_text(node)} holds no value",
                node.span,
                "write the lower bound first; a range of one value is closed on both ends, "
                "e.g. `in [1, 1]`",
            )
        )
        return None
    return found


def _outside(decl: a.Param, value: Decimal, chosen: ir.ValueRange) -> str:
    shown = expr_text(decl.value)
    whose = "its range" if decl.range is not None else f"a {decl.type}'s default range"
    return f"`{decl.name}` is {shown}, outside {whose}: {chosen}"


def _hint(decl: a.Param, value: Decimal, chosen: ir.ValueRange) -> str:
    if decl.type == "ratio" and isinstance(decl.value, a.Number) and decl.value.kind == "number":
        as_percent = a.Number(decl.value.value, "percent")
        if chosen.contains(float(value / 100)):
            return (
                f"did you mean `{number_text(as_percent)}`? A ratio written without % is a "
                "multiple (40 is 4000%)"
            )
    if decl.range is None:
        return (
            f"give a value {chosen}, or declare the range the policy allows after the type: "
            f"`: {decl.type} in [low, high]`"
        )
    return f"give a value {chosen}, or widen the range"


__all__ = ["check_param_range", "declared_range"]

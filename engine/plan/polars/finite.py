"""A value that is not a finite number stops the run (非有限数值即停止).

A weight of 1e300 or a constant of 1e-300 can make a payment infinite or NaN; turned into fen, it
would crash deep in polars, or — summed and split — come out as a wrong payment. After each
definition of the batch plan, its values are checked: a number that is NaN or infinite, money
beyond what a double keeps exact to the fen (`MAX_MONEY`), a count beyond the whole numbers a
double keeps, stops the run with `NotFinite`, naming the definition, where it is (the case,
hospital… and how many), and the values its formula read there. The check costs one sum per
definition: a finite sum means finite values (an infinite one only calls for a closer look: finite
values can overflow when summed, and then they stand).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from engine.explainer.ir_text import expr_text, input_nodes
from engine.plan.money import MAX_MONEY
from engine.plan.polars.frames import key_columns
from policy_dsl import grains as g
from policy_dsl import ir
from policy_dsl.errors import PolicyError

if TYPE_CHECKING:
    from engine.plan.polars.batch import StageRun

#: The largest whole number a double keeps exactly (a count beyond it is not a count).
MAX_COUNT = 2.0**53


class NotFinite(PolicyError):
    """A definition's value is NaN, infinite or out of range somewhere: the run stops."""


def check_values(run: StageRun, definition: ir.Definition, grain: g.Grain) -> None:
    """Raise `NotFinite` if the definition's values at `grain` are not all finite numbers in
    range (missing values are fine: they are counted as missing outputs)."""
    frame = run.frames[grain]
    values = frame[definition.name]
    if not values.dtype.is_float():
        return
    bound = _bound(definition)
    total = values.sum()
    if _finite(total) and (bound is None or _within(values, bound)):
        return
    column = pl.col(definition.name)
    bad = ~column.is_finite() if bound is None else ~column.is_finite() | (column.abs() > bound)
    rows = frame.filter(bad.fill_null(False))
    if rows.height:
        raise NotFinite(_message(run, definition, grain, rows))


def _bound(definition: ir.Definition) -> float | None:
    if definition.type.is_money:
        return MAX_MONEY
    return MAX_COUNT if definition.declared_type == "count" else None


def _finite(value: Any) -> bool:
    return value is None or (value - value == 0)


def _within(values: pl.Series, bound: float) -> bool:
    """Whether every value's magnitude is at most `bound`, from the least and the greatest value
    (no column of magnitudes made: read after a finite sum, the values have no NaN)."""
    least, greatest = values.min(), values.max()
    if least is None or greatest is None:
        return True
    return max(-float(least), float(greatest)) <= bound  # type: ignore[arg-type]


def _message(run: StageRun, definition: ir.Definition, grain: g.Grain, rows: pl.DataFrame) -> str:
    keys = key_columns(grain)
    first = rows.row(0, named=True)
    value = first[definition.name]
    what = "money beyond 90,071,992,547,409.92 元, the largest amount kept exact to the fen"
    if not _finite(value):
        what = "NaN (not a number)" if value != value else f"{value}, not a finite number"
    elif definition.declared_type == "count":
        what = "beyond the whole numbers a double keeps"
    origin = definition.origin
    place = f", {origin.file}:{origin.line}" if origin else ""
    others = f" and {rows.height - 1} more {_noun(grain)}" if rows.height > 1 else ""
    inputs = _inputs(run, definition, grain)
    frame = run.frames[grain]
    there = _row(frame, keys, first).select(**inputs).row(0, named=True) if inputs else {}
    read = ", ".join(f"{name} = {_shown(v)}" for name, v in there.items())
    return (
        f"stage {run.stage.name}: `{definition.name}` ({definition.label}{place}) is {what} "
        f"{_where(keys, first)}{others}: the run is stopped and nothing is written. "
        f"Formula: {definition.text}; there it reads {read or 'no named value'}"
        f"{_extremes(frame, keys, inputs)}. A value this large or small comes from an input, "
        "a constant of the policy or a value set with --set/--fix: check them (the contract's "
        "bounds: engine/CONTRACT.md)"
    )


def _where(keys: list[str], row: dict[str, Any]) -> str:
    if not keys:
        return "for the period"
    return "at " + ", ".join(f"{k.removesuffix('_id')} {row[k]}" for k in keys)


def _noun(grain: g.Grain) -> str:
    return "rows" if not grain else f"{g.show(grain)} rows"


def _row(frame: pl.DataFrame, keys: list[str], row: dict[str, Any]) -> pl.DataFrame:
    return frame.filter(*[pl.col(k) == row[k] for k in keys]).head(1) if keys else frame.head(1)


def _inputs(run: StageRun, definition: ir.Definition, grain: g.Grain) -> dict[str, pl.Expr]:
    """The names the formula reads, as expressions over the frame at `grain`."""
    found: dict[str, pl.Expr] = {}
    for node in input_nodes(definition.expr):
        name = expr_text(node)
        if name not in found and isinstance(node, ir.Ref | ir.FieldRef | ir.ParamRef):
            found[name] = _expr(run, node, grain)
    return found


def _expr(run: StageRun, node: ir.Ref | ir.FieldRef | ir.ParamRef, grain: g.Grain) -> pl.Expr:
    if isinstance(node, ir.ParamRef):
        return pl.lit(run.params[node.name])
    if isinstance(node, ir.Ref):
        return pl.col(run.value(node.name, node.stage, grain))
    return run.field(node, grain)


def _extremes(frame: pl.DataFrame, keys: list[str], inputs: dict[str, pl.Expr]) -> str:
    """The inputs whose largest magnitude is out of the ordinary (≥ 1e15, or not finite),
    and where: the place to look."""
    found = []
    for name, expr in inputs.items():
        values = frame.select(*keys, expr.alias("__v"))
        if not values["__v"].dtype.is_float():
            continue
        largest = values.filter(pl.col("__v").is_not_null()).sort(
            pl.col("__v").abs().fill_nan(float("inf")), descending=True
        )
        if largest.height and not abs(largest["__v"][0]) < 1e15:
            row = largest.row(0, named=True)
            found.append(f"{name} reaches {_shown(row['__v'])} {_where(keys, row)}")
    return f"; the largest: {', '.join(found)}" if found else ""


def _shown(value: Any) -> str:
    if isinstance(value, float):
        ordinary = value == 0 or 0.01 <= abs(value) < 1e15
        return f"{value:,.2f}" if ordinary else f"{value:g}"
    return str(value)

"""How many decimals an output value is written with (小数位数): by the type the policy gives it.

A policy states each value's type — `let coefficient "…" : ratio`, `formula case_points … :
points` — and the type sets the decimals it is written with, one table (`DECIMALS`):

| type | decimals | e.g. |
|---|---:|---|
| `points`, `weight` | 4 | `123.4567` |
| `ratio`, `number` | 4 | `0.9876` |
| `point_value` | 6 | `11.839342` (元 per point) |
| `rate` | 4 | `12345.6789` (元 per weight) |
| `count`, `level` | 0 | `12` |
| `money` | 2 | exact to the fen, never rounded here: computed in fen |

A value written is rounded half away from zero to those decimals, so that no float noise
(`88.44999999999999`) reaches a file an analyst opens; the run computes with the unrounded
values (a payment is not recomputed from a written point value). A value that a later stage
reads (Wuxi's monthly values read at the year end) is written as computed, so that a year's run
can take the months from their files (`engine.inputs.earlier`) and pay exactly what a full run pays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import polars as pl

from policy_dsl import ir
from policy_dsl.ranges import type_name

DECIMALS: dict[str, int] = {
    "points": 4,
    "weight": 4,
    "ratio": 4,
    "number": 4,
    "point_value": 6,
    "rate": 4,
    "count": 0,
    "level": 0,
}

#: Decimals of a value whose type is not known (a column the engine adds).
DEFAULT = DECIMALS["number"]


def value_types(policy: ir.Policy) -> dict[str, str]:
    """The type of every value a policy names — its definitions (`declared_type`, or the type
    inferred) and its inputs — by name."""
    types = {i.name: type_name(i.type) for i in policy.inputs}
    for stage in policy.stages:
        for d in stage.definitions:
            types[d.name] = d.declared_type or type_name(d.type)
    return types


def rounded(
    frame: pl.DataFrame, types: Mapping[str, str], as_computed: Iterable[str] = ()
) -> pl.DataFrame:
    """`frame` with each floating-point column rounded to the decimals of its type, except the
    columns `as_computed` (read by a later stage)."""
    kept = set(as_computed)
    return frame.with_columns(
        pl.col(name).round(decimals(types.get(name)), mode="half_away_from_zero")
        for name, dtype in frame.schema.items()
        if dtype.is_float() and name not in kept and types.get(name) != "money"
    )


def decimals(type_name: str | None) -> int:
    """The decimals a value of this type is written with."""
    return DECIMALS.get(type_name or "number", DEFAULT)


__all__ = ["DECIMALS", "decimals", "rounded", "value_types"]

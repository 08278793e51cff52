"""The values a parameter may take (取值范围): declared in the language (`: ratio in [0, 1]`), or
else its type's default range — one table, `DEFAULT_RANGES`:

| type | default range | a value fixed for a definition (`--fix`) |
|---|---|---|
| `number` | any finite number | the same |
| `ratio`, `weight`, `money`, `points` | ≥ 0 | any finite number (a difference can be negative) |
| `count` | a whole number ≥ 0 | the same |
| `level` | a whole number from 0 to 3 | the same |
| `point_value`, `rate` | > 0 | the same |

A declared range replaces the default (`: ratio in [-1, 1]` allows a fall of up to 100%); a
count's or level's range keeps to whole numbers. NaN and ±inf are in no range. The checker holds
each parameter's literal to its range (E310); every value set from outside
(`engine.plan.overrides.typed_value`) is held to the same range.
"""

from __future__ import annotations

from policy_dsl.ir import Definition, Param, TypeIR, ValueRange

#: Type names whose values are whole numbers.
WHOLE_TYPES = ("count", "level")

#: Each number type's range where none is declared, and whether a computed value of the type
#: always lies in it (a count, a level, a price), so that a value fixed for a definition is
#: held to it too.
DEFAULT_RANGES: dict[str, tuple[ValueRange, bool]] = {
    "number": (ValueRange(), True),
    "ratio": (ValueRange(low=0), False),
    "weight": (ValueRange(low=0), False),
    "money": (ValueRange(low=0), False),
    "points": (ValueRange(low=0), False),
    "count": (ValueRange(low=0, whole=True), True),
    "level": (ValueRange(low=0, high=3, whole=True), True),
    "point_value": (ValueRange(low=0, low_closed=False), True),
    "rate": (ValueRange(low=0, low_closed=False), True),
}


def default_range(type_name: str) -> ValueRange | None:
    """A type's default range (None for a type that is not a number: bool, text, date)."""
    found = DEFAULT_RANGES.get(type_name)
    return found[0] if found else None


def param_range(param: Param) -> ValueRange | None:
    """The range a parameter's values must lie in: the one it declares, or its type's default."""
    return param.range or default_range(param.declared_type or type_name(param.type))


def fixed_range(definition: Definition) -> ValueRange | None:
    """The range a value fixed for a definition must lie in: its type's default range where a
    computed value of the type always lies in it (see the table above), else any finite number."""
    found = DEFAULT_RANGES.get(definition.declared_type or type_name(definition.type))
    if found is None:
        return None
    return found[0] if found[1] else ValueRange()


def type_name(typ: TypeIR) -> str:
    """The type name a value is read under when none is declared: money per point is a
    `point_value`, money `money`, points `points`, any other number a `number`."""
    if typ.kind != "number":
        return typ.kind
    units = {(1, -1): "point_value", (1, 0): "money", (0, 1): "points"}
    return units.get((typ.money, typ.points), "number")


__all__ = [
    "DEFAULT_RANGES",
    "WHOLE_TYPES",
    "default_range",
    "fixed_range",
    "param_range",
    "type_name",
]

"""Value types and units: money (元), points (点), dimensionless numbers, booleans, texts, dates,
and the classes of a classification.

Units multiply like physical units: points × point value (money/points) → money; money + points
is an error. Weights (RW) and ratios are dimensionless, so weight × rate (money) → money.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["number", "bool", "text", "date", "class"]


@dataclass(frozen=True, slots=True)
class Unit:
    """Exponents of the two base units."""

    money: int = 0
    points: int = 0

    def __mul__(self, other: Unit) -> Unit:
        return Unit(self.money + other.money, self.points + other.points)

    def __truediv__(self, other: Unit) -> Unit:
        return Unit(self.money - other.money, self.points - other.points)

    def __str__(self) -> str:
        return _UNIT_NAMES.get(self, _compose(self))


def _compose(unit: Unit) -> str:
    up = [n for n, e in (("money", unit.money), ("points", unit.points)) if e > 0]
    down = [n for n, e in (("money", unit.money), ("points", unit.points)) if e < 0]
    return (" × ".join(up) or "1") + ("/" + "/".join(down) if down else "")


NONE = Unit()
MONEY = Unit(money=1)
POINTS = Unit(points=1)
POINT_VALUE = Unit(money=1, points=-1)
#: How messages name units: in an analyst's words, not as exponents.
_UNIT_NAMES = {
    NONE: "a plain number",
    MONEY: "money",
    POINTS: "points",
    POINT_VALUE: "money per point",
}


@dataclass(frozen=True, slots=True)
class Type:
    """The type of a value: its kind, and its unit for numbers or classification for classes."""

    kind: Kind
    unit: Unit = NONE
    classes_of: str | None = None

    def __str__(self) -> str:
        if self.kind == "number":
            return str(self.unit)
        if self.kind == "class":
            return f"a class of `{self.classes_of}`"
        return {"bool": "true/false", "date": "a date"}.get(self.kind, self.kind)

    def same(self, other: Type) -> bool:
        """Whether two values of these types can be added, compared or be branches of one `if`."""
        return (
            self.kind == other.kind
            and self.unit == other.unit
            and (self.classes_of == other.classes_of)
        )


#: The classes of a classification not known where it is read: a library module's
#: `settled.category`, whose classes are those of the policy that includes it.
ANY_CLASSES = "*"

NUMBER = Type("number")
BOOL = Type("bool")
TEXT = Type("text")
DATE = Type("date")

#: Type names a policy may write after `:`; several are the same type under a domain name.
TYPE_NAMES: dict[str, Type] = {
    "number": NUMBER,
    "ratio": NUMBER,
    "count": NUMBER,
    "weight": NUMBER,
    "level": NUMBER,
    "money": Type("number", MONEY),
    "rate": Type("number", MONEY),
    "points": Type("number", POINTS),
    "point_value": Type("number", POINT_VALUE),
    "bool": BOOL,
    "text": TEXT,
    "date": DATE,
}

#: Unit of each literal suffix.
LITERAL_UNITS: dict[str, Unit] = {
    "number": NONE,
    "percent": NONE,
    "permille": NONE,
    "money": MONEY,
    "points": POINTS,
}

"""Grains: the keys a value is computed for (case, hospital, group, level, tier, month).

A case determines its hospital, group and month; a hospital determines its level and tier.
A value at grain G can be read at grain F when F determines every key of G (a join); moving a
value to a coarser grain needs an aggregate (sum, mean, count, …). `all` is the empty grain.
"""

from __future__ import annotations

from collections.abc import Iterable

Grain = frozenset[str]

KEYS = ("case", "hospital", "group", "level", "tier", "month")
ALL: Grain = frozenset()
#: The grain of the cases (病例): a frame at it has one row per case of the inputs.
CASE: Grain = frozenset({"case"})

#: Functional dependencies: a key determines these keys.
DETERMINES: dict[str, frozenset[str]] = {
    "case": frozenset({"hospital", "group", "month", "level", "tier"}),
    "hospital": frozenset({"level", "tier"}),
}


def closure(grain: Iterable[str]) -> frozenset[str]:
    """Every key that `grain` determines, itself included."""
    keys = set(grain)
    for key in list(keys):
        keys |= DETERMINES.get(key, frozenset())
    return frozenset(keys)


def normalize(grain: Iterable[str]) -> Grain:
    """The smallest set of keys with the same closure (`hospital, level` → `hospital`)."""
    keys = frozenset(grain)
    return frozenset(k for k in keys if k not in closure(keys - {k}))


def join(*grains: Grain) -> Grain:
    """The grain of a value combining values of these grains."""
    return normalize(frozenset().union(*grains))


def readable_at(value: Grain, at: Grain) -> bool:
    """Whether a value at grain `value` can be read from rows at grain `at` (by a join)."""
    return value <= closure(at)


def finer(inner: Grain, outer: Grain) -> bool:
    """Whether `inner` is strictly finer than `outer`, so an aggregate can move it there."""
    return readable_at(outer, inner) and not readable_at(inner, outer)


def order(grain: Iterable[str]) -> list[str]:
    """Keys in canonical order."""
    return sorted(grain, key=KEYS.index)


def show(grain: Iterable[str]) -> str:
    """`hospital, group` or `all`."""
    keys = order(grain)
    return ", ".join(keys) if keys else "all"

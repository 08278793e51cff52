"""Values set from outside a policy (外部设定): `--set PARAM=VALUE` and `--fix NAME=VALUE` on the
command line (settle, explain, whatif), `set:` and `fix:` in an example test, the studio's
sliders. Every one is checked here, before a run, by one function (`typed_value`):

- a parameter must be one of the policy's parameters, a fixed name one of its definitions (in
  any stage), each with a "did you mean" for a typo;
- a value must suit the declared type: a number (`0.3`, `30%`, `300‰`) for a number, `true` /
  `false` for a yes/no, a class name for a class, a date (`2024-03-31`) for a date, text only for
  text; NaN, inf and a number too large for a double (`1e999`) are refused; an amount (money,
  points, a point value) is written in its unit, never with `%` or `‰`;
- a number must lie in its range (`policy_dsl.ranges`): a parameter's declared range or its
  type's default (a whole number ≥ 0 for a count, > 0 for a point value…), a fixed definition's
  type's range where a computed value keeps to it (`--fix point_value=-5` is refused);
- a ratio written as a plain number above 1 (`--set low_ratio=40`) is refused when the ratio
  cannot be meant as a multiple — its range tops at 1 or below, or the policy writes it at
  100% or less — with `40%` suggested. A value that is not written by a person (a number from
  Python or a slider) is in the type's units and is not second-guessed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.plan.polars.batch import Settings
from policy_dsl import ir
from policy_dsl.check.scope import did_you_mean
from policy_dsl.errors import PolicyError
from policy_dsl.ranges import WHOLE_TYPES, fixed_range, param_range, type_name

#: How a setting is named in a message: on the command line, in an example file.
CLI_LABELS = ("--fix {}", "--set {}")
EXAMPLE_LABELS = ("fix.{}", "set.{}")


class SettingError(PolicyError):
    """A set or fixed value that names nothing in the policy, or does not suit its type."""


def split_assignments(items: list[str]) -> dict[str, str]:
    """`["a=1", "b=30%"]` → `{"a": "1", "b": "30%"}`; a malformed item is a `SettingError`."""
    values: dict[str, str] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise SettingError(f"`{item}`: write NAME=VALUE, e.g. low_ratio_grassroots=0.3")
        values[name.strip()] = text.strip()
    return values


def parse_value(text: str) -> Any:
    """A value read without knowing its type: true/false, a number (`30%`, `6‰`), else text."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    number = _number(text)
    return text if number is None else number.value


@dataclass(frozen=True)
class _Written:
    """A number: its value in the type's units, the unit sign it was written with (`%`, `‰` or
    none), and whether a person wrote it (text, YAML) rather than a program."""

    value: float
    sign: str = ""
    by_person: bool = True


def _number(text: str) -> _Written | None:
    text = text.strip()
    sign = text[-1] if text.endswith(("%", "‰")) else ""
    scale = {"%": 100.0, "‰": 1000.0}.get(sign, 1.0)
    try:
        return _Written(float(text.rstrip("%‰").strip()) / scale, sign)
    except ValueError:
        return None


@dataclass(frozen=True)
class Target:
    """What a value is for: its name in messages, type, declared type name, allowed range
    (and whose range it is, for messages) and, for a parameter, the value the policy writes
    (the ratio rule reads it)."""

    label: str
    type: ir.TypeIR
    declared: str
    allowed: ir.ValueRange | None
    whose: str = ""
    as_written: float | None = None


def param_target(policy: ir.Policy, name: str, label: str) -> Target:
    """The target of a value set for parameter `name` (which must exist)."""
    param = policy.param(name)
    declared = param.declared_type or type_name(param.type)
    whose = f"the range `{name}` declares" if param.range else f"a {declared}'s range"
    written = _float(param.value)
    return Target(label, param.type, declared, param_range(param), whose, written)


def fixed_target(definition: ir.Definition, label: str) -> Target:
    """The target of a value fixed for `definition`."""
    declared = definition.declared_type or type_name(definition.type)
    return Target(
        label, definition.type, declared, fixed_range(definition), f"a {declared}'s range"
    )


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class _Names:
    """The names one kind of setting may take: definitions (fix) or parameters (set)."""

    word: str
    label: str
    targets: Callable[[str, str], Target]
    names: list[str]


def checked_settings(
    policy: ir.Policy,
    fix: Mapping[str, Any],
    params: Mapping[str, Any],
    labels: tuple[str, str] = CLI_LABELS,
    *,
    written: bool = True,
) -> Settings:
    """`Settings` with every name checked against `policy` and every value by `typed_value`
    (`written`: numbers are as a person wrote them, e.g. in an example's YAML)."""
    defs = {d.name: d for s in policy.stages for d in s.definitions}
    definitions = _Names(
        "definition", labels[0], lambda n, label: fixed_target(defs[n], label), sorted(defs)
    )
    parameters = _Names(
        "parameter",
        labels[1],
        lambda n, label: param_target(policy, n, label),
        [p.name for p in policy.params],
    )
    return Settings(
        definitions=_checked(fix, definitions, parameters, policy, written),
        params=_checked(params, parameters, definitions, policy, written),
    )


def _checked(
    values: Mapping[str, Any], names: _Names, other: _Names, policy: ir.Policy, written: bool
) -> dict[str, Any]:
    checked = {}
    for name, value in values.items():
        label = names.label.format(name)
        if name not in names.names:
            raise SettingError(_unknown(label, name, names, other, policy))
        checked[name] = typed_value(value, names.targets(name, label), policy, written=written)
    return checked


def _unknown(label: str, name: str, names: _Names, other: _Names, policy: ir.Policy) -> str:
    message = f"{label}: `{name}` is not a {names.word} of {policy.city} {policy.version}"
    if name in other.names:
        return f"{message}; it is a {other.word}: use {other.label.format(name)}=…"
    known = sorted(names.names)
    listed = ", ".join(known[:15]) + (", …" if len(known) > 15 else "")
    return f"{message}; {did_you_mean(name, known) or f'{names.word}s: {listed}'}"


def typed_value(value: Any, target: Target, policy: ir.Policy, *, written: bool = True) -> Any:
    """`value` (text, a YAML scalar or a Python value) as a value of `target`: see the module
    docstring. A number not given as text is taken as written by a person only if `written`."""
    if value is None:
        return None
    shown = value if isinstance(value, str) else repr(value)
    if target.type.kind != "number":
        typed = _READERS[target.type.kind](value, target.type, policy)
        if typed is None:
            raise SettingError(f"{target.label}: `{shown}` is not {_expected(target.type, policy)}")
        return typed
    number = _as_number(value, written)
    if number is None:
        raise SettingError(f"{target.label}: `{shown}` is not {_expected(target.type, policy)}")
    problem = _number_problem(number, target)
    if problem:
        raise SettingError(f"{target.label}: `{shown}` {problem}")
    return number.value


def _as_number(value: Any, written: bool) -> _Written | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _Written(float(value), by_person=written)
    return _number(value) if isinstance(value, str) else None


def _number_problem(number: _Written, target: Target) -> str | None:
    """Why a number does not suit its target, or None."""
    value = number.value
    if math.isnan(value):
        return "is not a number (NaN): give a finite number"
    if math.isinf(value):
        return "is not a finite number (too large for a double, or inf): give a finite number"
    if number.sign and _unit(target.type):  # `--set per_diem_rate=30%` is not 0.30 元
        return (
            f"is a share (written with {number.sign}), but this value is in "
            f"{_unit(target.type)}: write the amount itself, without {number.sign}"
        )
    if target.declared in WHOLE_TYPES and not value.is_integer():
        return f"is not a whole number (it sets a {target.declared})"
    if _ambiguous_ratio(number, target):
        return (
            f"is a ratio written without %: as written it is {value:g} times ({value * 100:g}%), "
            f"while the policy writes {_percent(target.as_written)}; write "
            f"{value:g}% — or {value * 100:g}% if you mean {value:g} times"
        )
    allowed = target.allowed
    if allowed is None or allowed.contains(value):
        return None
    problem = f"is outside {target.whose}: {allowed}"
    if _plain_ratio(number, target) and allowed.contains(value / 100):
        problem += f"; did you mean {value:g}%?"
    return problem


def _plain_ratio(number: _Written, target: Target) -> bool:
    """A ratio a person wrote without % or ‰."""
    return target.declared == "ratio" and number.by_person and not number.sign


def _ambiguous_ratio(number: _Written, target: Target) -> bool:
    """A plain ratio above 1 where the policy writes the ratio at 100% or less, so nothing says
    it is meant as a multiple (a range that tops at 1 or below refuses it anyway, suggesting
    `40%`)."""
    if not _plain_ratio(number, target) or number.value <= 1:
        return False
    allowed = target.allowed
    if allowed is not None and allowed.high is not None and allowed.high <= 1:
        return False
    return target.as_written is not None and target.as_written <= 1


def _percent(value: float | None) -> str:
    return f"{(value or 0) * 100:g}%"


def _as_bool(value: Any, typ: ir.TypeIR, policy: ir.Policy) -> bool | None:
    if isinstance(value, bool):
        return value
    words = {"true": True, "false": False}
    return words.get(value.strip().lower()) if isinstance(value, str) else None


def _as_text(value: Any, typ: ir.TypeIR, policy: ir.Policy) -> str | None:
    return value if isinstance(value, str) else None


def _as_date(value: Any, typ: ir.TypeIR, policy: ir.Policy) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value.strip()) if isinstance(value, str) else None
    except ValueError:
        return None


def _as_class(value: Any, typ: ir.TypeIR, policy: ir.Policy) -> str | None:
    return value if isinstance(value, str) and value in classes(policy, typ) else None


_READERS: dict[str, Callable[[Any, ir.TypeIR, ir.Policy], Any]] = {
    "bool": _as_bool,
    "text": _as_text,
    "date": _as_date,
    "class": _as_class,
}


def classes(policy: ir.Policy, typ: ir.TypeIR) -> list[str]:
    """The class names of a class-valued type (the classification it comes from)."""
    for stage in policy.stages:
        for definition in stage.definitions:
            if definition.name == typ.classes_of and isinstance(definition.expr, ir.Classify):
                return [c.name for c in definition.expr.classes]
    return []


def _unit(typ: ir.TypeIR) -> str:
    """The unit of a number type (`元`, `元 per point`, `points`), "" for a plain number."""
    units = {(1, 0): "元", (1, -1): "元 per point", (0, 1): "points"}
    return (
        "" if (typ.money, typ.points) == (0, 0) else units.get((typ.money, typ.points), "its unit")
    )


def _expected(typ: ir.TypeIR, policy: ir.Policy) -> str:
    match typ.kind:
        case "number" if _unit(typ):
            return f"a number in {_unit(typ)}: write e.g. 350"
        case "number":
            return "a number: write e.g. 0.3, 30% or 300‰"
        case "bool":
            return "true or false"
        case "date":
            return "a date: write YYYY-MM-DD, e.g. 2024-03-31"
        case "class":
            return "a class: one of " + ", ".join(classes(policy, typ))
    return "text"


__all__ = [
    "CLI_LABELS",
    "EXAMPLE_LABELS",
    "SettingError",
    "Target",
    "checked_settings",
    "fixed_target",
    "param_target",
    "parse_value",
    "split_assignments",
    "typed_value",
]

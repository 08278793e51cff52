"""Values set from outside a policy (外部设定): `--set PARAM=VALUE` and `--fix NAME=VALUE` on the
command line, `set:` and `fix:` in an example test. Each is checked against the policy before a
run: a parameter must be one of its parameters, a fixed name one of its definitions (in any
stage), each with a "did you mean" for a typo; a value must suit the declared type — a number
(`0.3`, `30%`, `300‰`) for a number, `true`/`false` for a yes/no, a class name for a class, a date
(`2024-03-31`) for a date, text only for text; given the declared type names (`count`, `level`:
`engine.whatif.declared_types`), a whole number for a count or a level.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.batch import Settings
from policy_dsl import ir
from policy_dsl.check.scope import did_you_mean
from policy_dsl.errors import PolicyError

#: How a setting is named in a message: on the command line, in an example file.
CLI_LABELS = ("--fix {}", "--set {}")
EXAMPLE_LABELS = ("fix.{}", "set.{}")
#: Declared types whose values are whole numbers.
WHOLE = ("count", "level")


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
    return text if number is None else number


def _number(text: str) -> float | None:
    scale = 100.0 if text.endswith("%") else (1000.0 if text.endswith("‰") else 1.0)
    try:
        return float(text.rstrip("%‰")) / scale
    except ValueError:
        return None


@dataclass(frozen=True)
class _Names:
    """The names one kind of setting may take: definitions (fix) or parameters (set)."""

    word: str
    label: str
    types: Mapping[str, ir.TypeIR]


def checked_settings(
    policy: ir.Policy,
    fix: Mapping[str, Any],
    params: Mapping[str, Any],
    labels: tuple[str, str] = CLI_LABELS,
    declared: Mapping[str, str] | None = None,
) -> Settings:
    """`Settings` with every name checked against `policy` and every value typed by it (and,
    with `declared` type names of the parameters, whole for a count)."""
    definitions = _Names("definition", labels[0], definition_types(policy))
    parameters = _Names("parameter", labels[1], {p.name: p.type for p in policy.params})
    return Settings(
        definitions=_checked(fix, definitions, parameters, policy),
        params=_checked(params, parameters, definitions, policy, declared or {}),
    )


def definition_types(policy: ir.Policy) -> dict[str, ir.TypeIR]:
    """The type of every definition of any stage, by name."""
    return {d.name: d.type for s in policy.stages for d in s.definitions}


def _checked(
    values: Mapping[str, Any],
    names: _Names,
    other: _Names,
    policy: ir.Policy,
    declared: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    checked = {}
    for name, value in values.items():
        label = names.label.format(name)
        if name not in names.types:
            raise SettingError(_unknown(label, name, names, other, policy))
        kind = (declared or {}).get(name)
        checked[name] = typed_value(label, value, names.types[name], policy, kind)
    return checked


def _unknown(label: str, name: str, names: _Names, other: _Names, policy: ir.Policy) -> str:
    message = f"{label}: `{name}` is not a {names.word} of {policy.city} {policy.version}"
    if name in other.types:
        return f"{message}; it is a {other.word}: use {other.label.format(name)}=…"
    known = sorted(names.types)
    listed = ", ".join(known[:15]) + (", …" if len(known) > 15 else "")
    return f"{message}; {did_you_mean(name, known) or f'{names.word}s: {listed}'}"


def typed_value(
    label: str, value: Any, typ: ir.TypeIR, policy: ir.Policy, declared: str | None = None
) -> Any:
    """`value` (text from the command line, or a YAML scalar) as a value of `typ`; a value of a
    `declared` count or level must be a whole number."""
    if value is None:
        return None
    reader = _READERS[typ.kind]
    typed = reader(value, typ, policy)
    shown = value if isinstance(value, str) else repr(value)
    if typed is None:
        raise SettingError(f"{label}: `{shown}` is not {_expected(typ, policy)}")
    if declared in WHOLE and isinstance(typed, float) and not typed.is_integer():
        raise SettingError(f"{label}: `{shown}` is not a whole number (it sets a {declared})")
    return typed


def _as_number(value: Any, typ: ir.TypeIR, policy: ir.Policy) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return _number(value.strip()) if isinstance(value, str) else None


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
    "number": _as_number,
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


def _expected(typ: ir.TypeIR, policy: ir.Policy) -> str:
    match typ.kind:
        case "number":
            return "a number: write e.g. 0.3, 30% or 300‰" + (" (元)" if typ.money == 1 else "")
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
    "WHOLE",
    "SettingError",
    "checked_settings",
    "definition_types",
    "parse_value",
    "split_assignments",
    "typed_value",
]

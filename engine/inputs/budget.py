"""The budget file (预算, `budget.yaml`), validated against the shape the policy declares.

A policy declares its budget figures: `input budget drg_fund "…" : money` is one amount,
`input budget tier_budget "…" at tier : money` one amount per tier. `budget_model` builds a
pydantic model from those declarations, so `drg_fund: {A: 1.0e7}` and `tier_budget: 36989608`
are refused, and `budget_schema` publishes the same model as JSON Schema. The YAML is read with
a loader that refuses a key given twice (PyYAML keeps the last) and reads numbers as decimals,
so that `0.1` is 0.1 when its decimals are counted. Every error names the file, the line, the
key and what would be valid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model
from pydantic import WithJsonSchema as JsonSchema

from engine.inputs.fields import BUDGET_VALUES, CONTRACT_VERSION, bound_text, schema_header
from engine.inputs.reading import ContractError, not_a_file

#: The plausible bound of one budget figure: 10 万亿元, more than all of China's basic medical
#: insurance funds spend in a year (about 3 万亿元).
BUDGET_MAX = Decimal(10) ** 13
_SHAPE = (
    'expected a YAML mapping with contract_version (e.g. "1.0"), year (e.g. 2024) and values '
    "(name: amount, or name: {key: amount})"
)
#: The largest budget.yaml read, in bytes: a budget holds a few figures (the sample's is 700
#: bytes; one figure per hospital of a large city, a few thousand, about 100 kB). YAML is read
#: in Python at about 4 s a megabyte: a 40 MB file given by mistake took minutes and gigabytes.
BUDGET_BYTES = 1_000_000
#: The grain key of a per-key budget figure → (input table, column) holding the keys used.
KEYS_USED = {"tier": ("hospitals", "tier"), "level": ("hospitals", "level")}


@dataclass(frozen=True)
class BudgetInput:
    """One budget figure a policy reads: one amount (`per` None), one per key of a grain
    (`per="tier"`), or either (`per="*"`, for the generic schema)."""

    name: str
    per: str | None = None
    label: str = ""


# ---- amounts --------------------------------------------------------------------------------


def _amount(value: object) -> Decimal:
    """A budget amount: a finite number ≥ 0, at most 2 decimals, within `BUDGET_MAX`."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"is {_long(value)}; expected an amount in 元, a number such as 1.2e9")
    amount = Decimal(value) if not isinstance(value, float) else Decimal(repr(value))
    if not amount.is_finite():
        raise ValueError(f"is {value}; expected a finite amount in 元")
    if amount < 0:
        raise ValueError(f"is negative ({_long(value)}); a budget amount is ≥ 0")
    if amount > BUDGET_MAX:
        raise ValueError(
            f"is {_long(value)}, above the plausible bound of {bound_text(float(BUDGET_MAX))} 元 "
            "(10 万亿元, more than all of China's medical insurance funds spend in a year)"
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"{value} has more than 2 decimals; money is exact to the fen (0.01 元)")
    return amount


def _long(value: object) -> str:
    """A value as the words show it (a text quoted): a long one cut, with its length."""
    text = repr(value) if isinstance(value, str) else str(value)
    if len(text) <= 40:
        return text
    if isinstance(value, str):
        return f"{text[:20]}… ({len(value):,} characters)"
    return f"{text[:20]}… ({sum(c.isdigit() for c in text):,} digits)"


_AMOUNT_SCHEMA = {"type": "number", "minimum": 0, "maximum": float(BUDGET_MAX), "x-unit": "元"}
Amount = Annotated[
    Decimal, BeforeValidator(_amount), JsonSchema(_AMOUNT_SCHEMA | {"x-decimals": 2})
]


def _one_amount(name: str) -> Any:
    def check(value: object) -> object:
        if isinstance(value, Mapping):
            raise ValueError(
                f"is a mapping ({_mapping_text(value)}); the policy declares {name} as one amount "
                f"(input budget {name} … : money): write {name}: 1.2e9"
            )
        return value

    return Annotated[Amount, BeforeValidator(check)]


def _per_key(name: str, per: str) -> Any:
    def check(value: object) -> object:
        if not isinstance(value, Mapping):
            raise ValueError(
                f"is one number ({value}); the policy declares {name} per {per} (input budget "
                f"{name} … at {per} : money): write one amount per {per}, e.g. "
                f"{name}: {{A: 2.5e8, B: 6.4e7, C: 1.5e7}}"
            )
        if not value:
            raise ValueError(f"is empty; expected one amount per {per}")
        return {_key(k, per): v for k, v in value.items()}

    key_type = int if per == "level" else str
    return Annotated[dict[key_type, Amount], BeforeValidator(check)]  # type: ignore[valid-type]


def _key(key: object, per: str) -> object:
    if isinstance(key, bool) or key is None or isinstance(key, Mapping | list):
        raise ValueError(f"has the key {key!r}; a {per} is a name such as A")
    return key if per == "level" else str(key)


def _mapping_text(value: Mapping[Any, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"


def _one_or_per_key(value: object) -> object:
    if isinstance(value, Mapping):
        return {_key(k, "key"): _amount(v) for k, v in value.items()}
    return _amount(value)


_EITHER_SCHEMA = {
    "oneOf": [_AMOUNT_SCHEMA, {"type": "object", "additionalProperties": _AMOUNT_SCHEMA}]
}
#: A figure of unknown shape: one amount or a mapping of amounts (names no policy declares).
Either = Annotated[
    Decimal | dict[str, Decimal], BeforeValidator(_one_or_per_key), JsonSchema(_EITHER_SCHEMA)
]


def _value_type(figure: BudgetInput) -> Any:
    if figure.per is None:
        return _one_amount(figure.name)
    return Either if figure.per == "*" else _per_key(figure.name, figure.per)


# ---- the model ------------------------------------------------------------------------------


def _version(value: object) -> str:
    version = str(value)
    if version.split(".")[0] != CONTRACT_VERSION.split(".")[0]:
        raise ValueError(f"is {version}; expected {CONTRACT_VERSION} (or another 1.x)")
    return version


def _year(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"is {_long(value)}; expected a year such as 2024")
    return value


def budget_model(figures: Sequence[BudgetInput]) -> type[BaseModel]:
    """The pydantic model of budget.yaml for these declared figures; other names are kept and
    checked as one amount or a mapping of amounts."""
    declared = {
        f.name: (_value_type(f), Field(description=f.label or BUDGET_VALUES.get(f.name, "")))
        for f in figures
    }
    values = create_model(  # type: ignore[call-overload]
        "BudgetValues", __config__=ConfigDict(extra="allow"), **declared
    )
    return create_model(
        "Budget",
        __config__=ConfigDict(extra="forbid"),
        contract_version=(
            Annotated[str, BeforeValidator(_version)],
            Field(description='contract version, e.g. "1.0"'),
        ),
        year=(Annotated[int, BeforeValidator(_year)], Field(description="Budget year (预算年度).")),
        values=(values, Field(description="the budget figures, in 元")),
    )


def budget_schema(figures: Sequence[BudgetInput] | None = None) -> dict[str, Any]:
    """JSON Schema 2020-12 of budget.yaml: for a policy's figures, or generic (the names the
    shipped policies use, each one amount or a mapping)."""
    generic = figures is None
    if figures is None:
        figures = [BudgetInput(name, "*") for name in BUDGET_VALUES]
    schema = budget_model(figures).model_json_schema()
    values = schema.pop("$defs")["BudgetValues"]
    if generic:
        values.pop("required", None)  # a policy says which it needs
    values["additionalProperties"] = _EITHER_SCHEMA
    schema["properties"]["values"] = values | {"description": "the budget figures, in 元"}
    schema["properties"]["contract_version"] = {
        "type": ["string", "number"],
        "description": 'e.g. "1.0"',
    }
    return schema | schema_header("budget", "The budget file budget.yaml (预算).")


# ---- reading --------------------------------------------------------------------------------


class PlainLoader(yaml.SafeLoader):
    """Safe YAML loader that takes no alias (`*name`): a few lines of aliases of aliases make
    billions of values (billion laughs) — a file a person writes states each value."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "an alias (*name) is not read: write the value itself", event.start_mark
            )
        return super().compose_node(parent, index)


class _Loader(PlainLoader):
    """Plain YAML loader: numbers with a fraction or an exponent (1e8, 1.0e8: YAML 1.2) are
    decimals, read from their text; a whole number is its decimal digits (YAML 1.2), so
    `0332771605` is 332,771,605 — not YAML 1.1's octal 57,406,341 — and a hexadecimal, binary or
    base-60 (`1:30`) one is text, refused as an amount. A key is its text as written: the tier
    `08:` is "08", as the hospitals file writes it, not the number 8."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode):
                key.tag = "tag:yaml.org,2002:str"
        return super().construct_mapping(node, deep=deep)


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?([0-9][0-9_]*(\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)
_SPECIAL = {".inf": "Infinity", "+.inf": "Infinity", "-.inf": "-Infinity", ".nan": "NaN"}


def _decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal | str:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        return Decimal(_SPECIAL.get(text.lower(), text))
    except InvalidOperation:
        return text


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9][0-9_]*$"), list("-+0123456789")
)


def _integer(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int | Decimal | str:
    """A whole number; one longer than Python converts to an int (4,300 digits: a ValueError,
    which was a traceback) is a Decimal, which the bound then refuses."""
    text = str(loader.construct_scalar(node)).replace("_", "")
    if not re.fullmatch(r"[-+]?[0-9]+", text):
        return text
    return int(text) if len(text) <= INT_DIGITS else Decimal(text)


#: The longest whole number `_integer` makes an int (below Python's own limit, 4,300 digits).
INT_DIGITS = 4000


_Loader.add_constructor("tag:yaml.org,2002:float", _decimal)
_Loader.add_constructor("tag:yaml.org,2002:int", _integer)
Path_ = tuple[str, ...]


def read_yaml(path: Path) -> tuple[object, dict[Path_, int]]:
    """The document and the line of every key (by its path); a key given twice is refused."""
    if (size := path.stat().st_size) > BUDGET_BYTES:
        raise ContractError(
            path.name,
            None,
            f"{path.name} is {size:,} bytes, more than the {BUDGET_BYTES:,} a budget is read up "
            f"to (a budget holds a few figures: a few hundred bytes, or about 100 kB with one per "
            f"hospital): is it another file? {_SHAPE}",
        )
    try:
        loader = _Loader(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ContractError(path.name, None, f"{path.name} is not UTF-8 text ({exc})") from exc
    except OSError as exc:  # permission denied, an I/O error: as the tables say it
        raise ContractError(
            path.name, None, f"{path.name} could not be read: {exc.strerror or exc}"
        ) from exc
    try:
        node = loader.get_single_node()
        lines: dict[Path_, int] = {}
        if node is not None:
            _index(path.name, node, (), lines)
        return (loader.construct_document(node) if node is not None else None), lines
    except yaml.YAMLError as exc:
        raise ContractError(
            path.name, None, f"{path.name} is not valid YAML ({exc}); {_SHAPE}"
        ) from exc
    finally:
        loader.dispose()


def _index(file: str, node: yaml.Node, at: Path_, lines: dict[Path_, int]) -> None:
    if not isinstance(node, yaml.MappingNode):
        return
    for key, value in node.value:
        where = (*at, str(key.value))
        line = key.start_mark.line + 1
        if where in lines:
            raise ContractError(
                file,
                ".".join(where),
                f"{file}:{line}: {'.'.join(where)} is given twice (lines {lines[where]} and "
                f"{line}); YAML would keep the last silently: keep one",
            )
        lines[where] = line
        _index(file, value, where, lines)


def load_budget(
    path: Path, figures: Sequence[BudgetInput], keys_used: Mapping[str, pl.Series]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Read and validate budget.yaml (absent is fine only when the policy needs no figure):
    `{"contract_version", "year", "values"}`, amounts as floats in 元 — and the figures at 0 元
    with their words (`zero_figures`). `keys_used` gives, per grain key (tier…), the keys the
    data uses: a per-key figure needs an amount for each."""
    if (what := not_a_file(path)) is not None:
        raise ContractError(path.name, None, f"{what}; {_SHAPE}")
    if not path.is_file():
        if figures:
            names = ", ".join(f.name for f in figures)
            raise ContractError(
                path.name,
                figures[0].name,
                f"{path.name} not found in {path.parent}; the policy needs budget values "
                f"{names}; {_SHAPE}",
            )
        return {}, {}
    document, lines = read_yaml(path)
    if not isinstance(document, dict) or not {"contract_version", "year", "values"} <= set(
        document
    ):
        raise ContractError(path.name, None, f"{path.name} is malformed; {_SHAPE}")
    if not isinstance(document["values"], dict):
        raise ContractError(path.name, "values", f"{path.name}: values is not a mapping; {_SHAPE}")
    _require_names(path.name, document["values"], figures)
    declared = {f.name for f in figures}
    others = [BudgetInput(str(n), "*") for n in document["values"] if str(n) not in declared]
    model = budget_model([*figures, *others])
    try:
        budget = model.model_validate(document | {"values": _text_keys(document["values"])})
    except ValidationError as exc:
        raise _refusal(path.name, exc, lines) from None
    values = budget.model_dump()["values"]
    _require_keys(path.name, values, figures, keys_used, lines)
    return {
        "contract_version": budget.contract_version,  # type: ignore[attr-defined]
        "year": budget.year,  # type: ignore[attr-defined]
        "values": {name: _floats(value) for name, value in values.items()},
    }, zero_figures(path.name, values, figures, lines)


def _text_keys(values: dict[Any, Any]) -> dict[str, Any]:
    return {str(name): value for name, value in values.items()}


def _floats(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: float(amount) for key, amount in value.items()}
    return float(value)


def _require_names(file: str, values: Mapping[Any, Any], figures: Sequence[BudgetInput]) -> None:
    missing = [f.name for f in figures if f.name not in values]
    if missing:
        raise ContractError(
            file,
            missing[0],
            f"{file}: values has no {', '.join(missing)}; the policy needs it (a number in 元, "
            f"or a mapping such as {{A: 1.0e8, B: 5.0e7}}); found: "
            f"{', '.join(map(str, values)) or '(none)'}",
        )


def _refusal(file: str, error: ValidationError, lines: Mapping[Path_, int]) -> ContractError:
    """The first problem pydantic found, with its line and key path."""
    first = error.errors()[0]
    where = tuple(str(part) for part in first["loc"])
    line = next((lines[where[:n]] for n in range(len(where), 0, -1) if where[:n] in lines), None)
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = f"is not a budget field; {_SHAPE}"
    place = f"{file}:{line}" if line else file
    return ContractError(file, ".".join(where), f"{place}: {'.'.join(where)} {message}")


def zero_figures(
    file: str, values: Mapping[str, Any], figures: Sequence[BudgetInput], lines: Mapping[Path_, int]
) -> dict[str, str]:
    """Each figure at 0 元, with the words that refuse it: a fund that pays nothing pays every
    case 0.00 — an empty cell or a placeholder, not a budget. `settle` refuses those that the
    period's stages read (`engine.run.settle.check_budget_money`): Wuxi's monthly runs do not
    read the year's `drg_fund`, which a fund office may leave 0 until the year end. One tier of
    a per-tier budget may be 0 (a tier whose hospitals have no DRG case: `drgpolicy sample`
    writes one); every tier may not."""
    found = {}
    for figure in figures:
        value = values[figure.name]
        amounts = list(value.values()) if isinstance(value, dict) else [value]
        if any(amounts):
            continue
        line = lines.get(("values", figure.name))
        what = (
            f"0 for every {figure.per} ({_mapping_text(value)})" if isinstance(value, dict) else "0"
        )
        found[figure.name] = (
            f"{file}{f':{line}' if line else ''}: values.{figure.name} is {what}: a budget of 0 "
            "元 pays every case of the period 0.00, which is no settlement (an empty cell, a "
            "placeholder?): give the fund's amount in 元, e.g. drg_fund: 332771895"
        )
    return found


def _require_keys(
    file: str,
    values: Mapping[str, Any],
    figures: Sequence[BudgetInput],
    keys_used: Mapping[str, pl.Series],
    lines: Mapping[Path_, int],
) -> None:
    """Every key the data uses (each hospital's tier…) has an amount in a per-key figure."""
    for figure in figures:
        used = keys_used.get(figure.per or "")
        if used is None:
            continue
        given = set(values[figure.name])
        missing = [key for key in used.unique().sort().to_list() if key not in given]
        if missing:
            line = lines.get(("values", figure.name))
            shown = ", ".join(repr(k) if k == "" else str(k) for k in missing)
            raise ContractError(
                file,
                f"values.{figure.name}",
                f"{file}{f':{line}' if line else ''}: values.{figure.name} has no amount for "
                f"{figure.per} {shown}, which the hospitals use; it has "
                f"{', '.join(map(str, sorted(given, key=str)))}: give one amount per {figure.per}",
            )

"""The words a validity check is written in (校验规则的表达): columns, literals, comparisons.

Each check of the contract (`engine.inputs.contract`) states when a row fails once, in these
terms; `POLARS` renders it as a polars expression, and the DuckDB backend's `SqlTerms`
(`engine.plan.sql.validation`) as a SQL tree over the same columns — one rule, two renderings,
so a row is rejected for the same cause whichever engine checked it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import polars as pl

#: The column of a field's normalized raw value (kept next to the typed value for rejects).
RAW_PREFIX = "__raw__"
#: Every control character (C0, DEL and C1), as a reject shows it escaped (`\u001b`).
CONTROL_CHARACTERS = [chr(code) for code in (*range(0x20), *range(0x7F, 0xA0))]
#: The control characters a free text of the contract (`FieldSpec.free_text`: a deduction's
#: reason, a name copied from a document) holds none of (`Terms.control`): all but a tab and a
#: line break (CR, LF), which a quoted CSV value or a multi-line cell may hold, and which only lay
#: text out; ESC, NUL, BEL, C1… drive the terminal. An identifier or a code (a case id, a
#: hospital, a group, a tier…) holds none at all (`CONTROL_CHARACTERS`, `KEY_CONTROL`): a CR in
#: a case id printed on stderr returns the cursor and hides what was before it. polars looks for
#: any of them (Aho-Corasick: a third less CPU than the regular expression), SQL for `CONTROL`
#: or `KEY_CONTROL`, read alike by RE2 (DuckDB) and Java (Spark).
CONTROLS = [char for char in CONTROL_CHARACTERS if char not in "\t\n\r"]
CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
KEY_CONTROL = r"[\x00-\x1f\x7f-\x9f]"
#: How a reject shows a control character (`contract._escaped`): `\u001b`, not ESC.
ESCAPED = [f"\\u{ord(char):04x}" for char in CONTROL_CHARACTERS]
_SHOWN = dict(zip(map(ord, CONTROL_CHARACTERS), ESCAPED, strict=True))


def shown(text: str) -> str:
    """A text from the data (a value, a column name) as a message prints it on the terminal:
    escaped as a reject shows it, whatever the contract let through."""
    return text.translate(_SHOWN)


def shown_lines(text: str) -> str:
    """`shown`, its line breaks and tabs kept: a message of several lines (a refusal that
    quotes an argument typed, `--set $'x\\e[2J=1'`, or a policy's line under a diagnostic)."""
    return "\n".join("\t".join(map(shown, line.split("\t"))) for line in text.split("\n"))


class Terms(Protocol):
    """What a check may say of a row; `Any` is the renderer's expression type."""

    def col(self, name: str) -> Any: ...
    def raw(self, name: str) -> Any: ...
    def num(self, value: float) -> Any: ...
    def is_null(self, value: Any) -> Any: ...
    def not_null(self, value: Any) -> Any: ...
    def not_(self, value: Any) -> Any: ...
    def and_(self, left: Any, right: Any) -> Any: ...
    def lt(self, left: Any, right: Any) -> Any: ...
    def le(self, left: Any, right: Any) -> Any: ...
    def gt(self, left: Any, right: Any) -> Any: ...
    def add(self, left: Any, right: Any) -> Any: ...
    def sub(self, left: Any, right: Any) -> Any: ...
    def mul(self, left: Any, right: Any) -> Any: ...
    def abs(self, value: Any) -> Any: ...
    def round(self, value: Any) -> Any: ...
    def control(self, value: Any, free_text: bool) -> Any:
        """`value`, a text, holds a control character (a free text: one of `CONTROLS`, an
        identifier: any, a tab or a line break too; null for a null value)."""
        ...

    def among(self, value: Any, choices: Sequence[int | str]) -> Any:
        """`value` is one of `choices` (null for a null value)."""
        ...

    def among_keys(self, value: Any, keys: pl.Series) -> Any:
        """`value` is one of `keys`, another table's keys (null for a null value)."""
        ...


class PolarsTerms:
    """The checks as polars expressions."""

    def col(self, name: str) -> pl.Expr:
        return pl.col(name)

    def raw(self, name: str) -> pl.Expr:
        return pl.col(f"{RAW_PREFIX}{name}")

    def num(self, value: float) -> pl.Expr:
        return pl.lit(float(value))

    def is_null(self, value: pl.Expr) -> pl.Expr:
        return value.is_null()

    def not_null(self, value: pl.Expr) -> pl.Expr:
        return value.is_not_null()

    def not_(self, value: pl.Expr) -> pl.Expr:
        return ~value

    def and_(self, left: pl.Expr, right: pl.Expr) -> pl.Expr:
        return left & right

    def lt(self, left: pl.Expr, right: pl.Expr) -> pl.Expr:
        return left < right

    def le(self, left: pl.Expr, right: pl.Expr) -> pl.Expr:
        return left <= right

    def gt(self, left: pl.Expr, right: pl.Expr) -> pl.Expr:
        return left > right

    def add(self, left: pl.Expr, right: pl.Expr) -> pl.Expr:
        return left + right

    def sub(self, left: pl.Expr, right: pl.Expr) -> pl.Expr:
        return left - right

    def mul(self, left: pl.Expr, right: pl.Expr) -> pl.Expr:
        return left * right

    def abs(self, value: pl.Expr) -> pl.Expr:
        return value.abs()

    def round(self, value: pl.Expr) -> pl.Expr:
        return value.round()

    def control(self, value: pl.Expr, free_text: bool) -> pl.Expr:
        return value.str.contains_any(CONTROLS if free_text else CONTROL_CHARACTERS)

    def among(self, value: pl.Expr, choices: Sequence[int | str]) -> pl.Expr:
        return value.is_in(list(choices))

    def among_keys(self, value: pl.Expr, keys: pl.Series) -> pl.Expr:
        return value.is_in(keys.implode())


POLARS = PolarsTerms()

"""Expressions back to canonical text, with exactly the parentheses the grammar needs.

`parse` of the text gives the same tree again; the formatter, the IR's formula texts, the
semantic diff and the explainer all print expressions through here.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from policy_dsl import ast as a

WIDTH = 100

#: Binding strength of each form; a child weaker than its slot needs parentheses.
_IF, _OR, _AND, _NOT, _COMPARE, _SUM, _TERM, _NEG, _ATOM = range(9)


def number_text(node: a.Number) -> str:
    """`1.5`, `80%`, `6‰`, `1200 元`, `100 pt`."""
    text = _plain(node.value)
    if node.kind == "money":
        if "." in text:
            whole, frac = text.split(".")
            text = f"{whole}.{frac.ljust(2, '0')}"
        return f"{text} 元"
    suffix = {"number": "", "percent": "%", "permille": "‰", "points": " pt"}[node.kind]
    return text + suffix


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def range_text(node: a.RangeRow | a.ParamRange) -> str:
    """`[0, 100)`, `(0%, inf)`: a table row's range or a parameter's."""
    high = expr_text(node.high) if node.high is not None else "inf"
    opening, closing = "[" if node.low_closed else "(", "]" if node.high_closed else ")"
    return f"{opening}{expr_text(node.low)}, {high}{closing}"


def string_text(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def precedence(node: a.Expr) -> int:
    if isinstance(node, a.If):
        return _IF
    if isinstance(node, a.Or):
        return _OR
    if isinstance(node, a.And):
        return _AND
    if isinstance(node, a.Not):
        return _NOT
    if isinstance(node, a.Compare | a.IsClass | a.InClasses):
        return _COMPARE
    if isinstance(node, a.Binary):
        return _SUM if node.op in "+-" else _TERM
    if isinstance(node, a.Neg):
        return _NEG
    return _ATOM


def expr_text(node: a.Expr) -> str:
    """The expression on one line."""
    printer: Callable[[a.Expr], str] = _PRINTERS[type(node)]
    return printer(node)


def _wrap(node: a.Expr, minimum: int) -> str:
    text = expr_text(node)
    return f"({text})" if precedence(node) < minimum or isinstance(node, a.If) else text


def _and_operand(node: a.Expr) -> str:
    """An operand of `and`: an `and` or `or` in it is bracketed (it was, or it would join the
    chain)."""
    return _wrap(node, _NOT)


def _or_operand(node: a.Expr) -> str:
    """An operand of `or`: an `or` in it is bracketed, and an `and` too, for the reader, though
    the grammar does not need it."""
    return f"({expr_text(node)})" if isinstance(node, a.And) else _wrap(node, _AND)


def _binary(node: a.Binary) -> str:
    level = precedence(node)
    return f"{_wrap(node.left, level)} {node.op} {_wrap(node.right, level + 1)}"


def _compare(node: a.Compare) -> str:
    return f"{_wrap(node.left, _SUM)} {node.op} {_wrap(node.right, _SUM)}"


def _is(node: a.IsClass) -> str:
    return f"{_wrap(node.operand, _SUM)} is {'not ' if node.negated else ''}{node.class_name}"


def _in(node: a.InClasses) -> str:
    return f"{_wrap(node.operand, _SUM)} in ({', '.join(node.classes)})"


def _if(node: a.If) -> str:
    parts = []
    for i, branch in enumerate(node.branches):
        keyword = "if" if i == 0 else "elif"
        parts.append(f"{keyword} {_wrap(branch.condition, _OR)} then {_wrap(branch.value, _OR)}")
    return " ".join([*parts, f"else {_wrap(node.otherwise, _OR)}"])


def _call(node: a.Call) -> str:
    args = ", ".join(_wrap(arg, _OR) for arg in node.args)
    where = f" where {_wrap(node.where, _OR)}" if node.where is not None else ""
    return f"{node.function}({args}{where})"


def _rank(node: a.Rank) -> str:
    keys = ", ".join(f"{_wrap(k.expr, _OR)} {'desc' if k.descending else 'asc'}" for k in node.keys)
    where = f" where {_wrap(node.where, _OR)}" if node.where is not None else ""
    return f"rank({keys} within {', '.join(node.within)}{where})"


_PRINTERS: dict[type, Callable[..., str]] = {
    a.Number: number_text,
    a.Bool: lambda n: "true" if n.value else "false",
    a.Text: lambda n: string_text(n.value),
    a.Date: lambda n: n.value.isoformat(),
    a.Name: lambda n: n.name,
    a.StageRef: lambda n: f"{n.stage}.{n.name}",
    a.Lookup: lambda n: f"{n.table}[{_wrap(n.key, _OR)}]",
    a.Rekeyed: lambda n: (
        f"{n.name}[" + ", ".join(f"{k.key} = {_wrap(k.value, _OR)}" for k in n.keys) + "]"
    ),
    a.Call: _call,
    a.Rank: _rank,
    a.Current: lambda n: "current",
    a.Neg: lambda n: f"-{_wrap(n.operand, _NEG)}",
    a.Binary: _binary,
    a.Compare: _compare,
    a.IsClass: _is,
    a.InClasses: _in,
    a.And: lambda n: " and ".join(_and_operand(op) for op in n.operands),
    a.Or: lambda n: " or ".join(_or_operand(op) for op in n.operands),
    a.Not: lambda n: f"not {_wrap(n.operand, _NOT)}",
    a.If: _if,
}


def expr_lines(node: a.Expr, indent: int, first_width: int | None = None) -> list[str]:
    """The expression broken over lines at `or`, `and` and `if` when it is too wide."""
    text = expr_text(node)
    budget = WIDTH - indent if first_width is None else first_width
    if len(text) <= budget:
        return [text]
    if isinstance(node, a.If):
        return _if_lines(node, indent)
    if isinstance(node, a.Or | a.And):
        return _chain_lines(node)
    return [text]


def _chain_lines(node: a.Or | a.And) -> list[str]:
    word, operand = ("or", _or_operand) if isinstance(node, a.Or) else ("and", _and_operand)
    first, *rest = node.operands
    return [operand(first), *(f"  {word} {operand(op)}" for op in rest)]


def _if_lines(node: a.If, indent: int) -> list[str]:
    lines = []
    for i, branch in enumerate(node.branches):
        keyword = "if" if i == 0 else "elif"
        lines.append(f"{keyword} {_wrap(branch.condition, _OR)} then {_wrap(branch.value, _OR)}")
    return [*lines, f"else {_wrap(node.otherwise, _OR)}"]

"""Table rows read without the parser: a table may have tens of thousands of rows (a weight per
DRG group, a tier per point range), and Lark's pure-Python LALR parser and the syntax tree take
about 0.15 ms a row — 3 s for 20,000 rows, where a regular expression takes a few microseconds.

`set_aside` finds the rows in their plain forms — `[low, high) -> value`, `key -> value`,
`else -> value`, each on a line of its own (a comment after it allowed), the values numbers
with or without a unit (`%`, `‰`, `元`, `¥`, `pt`, `点`) and a minus, the keys numbers, quoted
texts, `true` or `false` — on the lines after a `table` header, reads each into the node the
parser would have made (the same values and spans), and blanks its line in the text the parser
reads, keeping the first row of each table there so that the table still has one. `put_back`
puts the rows set aside into their tables, in the order of their lines. Any other row (a
malformed one, a number past the language's limits) is left to the parser, so its diagnostic
is the parser's. `tests/dsl/test_table_rows.py` checks that both ways give equal trees.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from decimal import Decimal

from policy_dsl import ast as a
from policy_dsl.limits import number_problem
from policy_dsl.transform import NOT_DIGITS, unquote

_UNIT_KINDS: dict[str, a.LiteralKind] = {
    "%": "percent",
    "‰": "permille",
    "元": "money",
    "pt": "points",
    "点": "points",
}
#: A literal as the grammar's terminals read it: a unit's number has no exponent; `¥` leads;
#: digits are ASCII (`\d` would take a full-width `８` for a digit that `_digits` then drops).
_LITERAL = (
    r"(?:¥\s*[0-9]+(?:\.[0-9]+)?"
    r"|[0-9]+(?:\.[0-9]+)?\s*(?:%|‰|元|(?:pt|点)(?![A-Za-z0-9_]))"
    r"|[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?![\w.%‰元点]))"
)
_SIGNED = rf"(?:-[ \t]*)?{_LITERAL}"
_KEY = (
    r"(?:[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?![\w.%‰元点])"
    r'|"(?:[^"\\\n]|\\.)*"|(?:true|false)(?!\w))'
)
_END = r"[ \t]*(?:#[^\n]*)?$"
_RANGE = re.compile(
    rf"[ \t]*(?P<open>[\[(])[ \t]*(?P<low>{_SIGNED})[ \t]*,[ \t]*(?P<high>{_SIGNED}|inf(?!\w))"
    rf"[ \t]*(?P<close>[\])])[ \t]*->[ \t]*(?P<value>{_SIGNED}){_END}"
)
_KEYED = re.compile(rf"[ \t]*(?P<key>{_KEY})[ \t]*->[ \t]*(?P<value>{_SIGNED}){_END}")
_DEFAULT = re.compile(rf"[ \t]*(?P<key>else)(?!\w)[ \t]*->[ \t]*(?P<value>{_SIGNED}){_END}")
_HEADER = re.compile(r"[ \t]*(?:override[ \t]+)?table(?!\w)")
_CITATION = re.compile(r"[ \t]*(?:source|assumption)(?!\w)")
_UNIT = re.compile(r"%|‰|元|¥|pt|点")


@dataclass
class SetAside:
    """The rows read here, by the line of the row of their table that the parser reads."""

    text: str
    rows: dict[int, list[a.TableRow]] = field(default_factory=dict)


def set_aside(text: str) -> SetAside:
    """The text for the parser, with the plain rows of every table but its first blanked."""
    lines = text.split("\n")
    found = SetAside(text)
    anchor: int | None = None  # the line (1-based) of the current table's row the parser reads
    in_table = False
    for index, line in enumerate(lines):
        if _HEADER.match(line):
            in_table, anchor = True, None
            continue
        stripped = line.strip()
        if not in_table or not stripped or stripped.startswith("#"):
            continue
        row = _row(line, index + 1)
        if row is None:
            # a citation before the rows, or a row left to the parser: the table goes on
            in_table = (anchor is None and bool(_CITATION.match(line))) or _row_shaped(stripped)
            continue
        if anchor is None:
            anchor = index + 1
            found.rows[anchor] = []
            continue
        found.rows[anchor].append(row)
        lines[index] = " " * len(line)
    if any(found.rows.values()):
        found.text = "\n".join(lines)
    return found


def put_back(policy: a.Policy, aside: SetAside) -> a.Policy:
    """`policy` with the rows set aside in their tables (a table is found by its row on an
    anchor line), each table's span reaching its last row."""
    if not any(aside.rows.values()):
        return policy

    def items(declarations: tuple[a.Declaration, ...]) -> tuple[a.Declaration, ...]:
        return tuple(_with_rows(d, aside) if isinstance(d, a.Table) else d for d in declarations)

    stages = []
    for stage in policy.stages:
        inside = items(stage.items)
        stages.append(dataclasses.replace(stage, items=inside, span=_reaching(stage.span, inside)))
    shared = items(policy.items)
    span = _reaching(policy.span, (*shared, *stages))
    return dataclasses.replace(policy, items=shared, stages=tuple(stages), span=span)


def _reaching(span: a.Span, parts: tuple[a.Node, ...]) -> a.Span:
    """`span` reaching the end of its last part (a table whose last rows were set aside)."""
    end = max(((p.span.end_line, p.span.end_column) for p in parts), default=(0, 0))
    if end <= (span.end_line, span.end_column):
        return span
    return a.Span(span.line, span.column, *end)


def _with_rows(table: a.Table, aside: SetAside) -> a.Table:
    extra = [row for r in table.rows for row in aside.rows.get(r.span.line, [])]
    if not extra:
        return table
    rows = tuple(sorted((*table.rows, *extra), key=lambda r: (r.span.line, r.span.column)))
    return dataclasses.replace(table, rows=rows, span=_reaching(table.span, rows))


def _row_shaped(stripped: str) -> bool:
    """Whether a line the parser must read starts as a row does (a declaration starts with a
    keyword; a row with a bracket, a number, a sign, a quote, `else`, `true` or `false`)."""
    first = re.match(r"\w+", stripped)
    return first is None or first[0] in ("else", "true", "false") or first[0][0].isdigit()


def _row(line: str, number: int) -> a.TableRow | None:
    """The row on `line` (line `number`) if it is in a plain form, else None."""
    if match := _RANGE.match(line):
        low, high, value = (_signed(match, g, number) for g in ("low", "high", "value"))
        if low is None or value is None or (high is None and match["high"] != "inf"):
            return None
        span = _span(number, match.start("open"), match.end("value"))
        return a.RangeRow(low, match["open"] == "[", high, match["close"] == "]", value, span=span)
    if match := _KEYED.match(line):
        key, value = _key(match, number), _signed(match, "value", number)
        if key is None or value is None:
            return None
        return a.KeyRow(key, value, span=_span(number, match.start("key"), match.end("value")))
    if match := _DEFAULT.match(line):
        value = _signed(match, "value", number)
        if value is None:
            return None
        return a.DefaultRow(value, span=_span(number, match.start("key"), match.end("value")))
    return None


def _span(line: int, start: int, end: int) -> a.Span:
    return a.Span(line, start + 1, line, end + 1)


def _signed(match: re.Match[str], group: str, line: int) -> a.Expr | None:
    """A literal with its sign, as the parser makes it: `Neg(Number)` for a minus."""
    text, start, end = match[group], match.start(group), match.end(group)
    if text == "inf":
        return None
    if not text.startswith("-"):
        return _number(text, line, start, end)
    digits = len(text) - len(text[1:].lstrip())
    inner = _number(text[digits:], line, start + digits, end)
    return None if inner is None else a.Neg(inner, span=_span(line, start, end))


def _number(text: str, line: int, start: int, end: int) -> a.Number | None:
    unit = _UNIT.search(text)
    digits = NOT_DIGITS.sub("", text)
    if number_problem(digits) is not None:
        return None  # the parser says what is wrong with it (E011)
    kind: a.LiteralKind = (
        "money" if unit and unit[0] == "¥" else _UNIT_KINDS.get(unit[0] if unit else "", "number")
    )
    return a.Number(Decimal(digits), kind, span=_span(line, start, end))


def _key(match: re.Match[str], line: int) -> a.Expr | None:
    text, start, end = match["key"], match.start("key"), match.end("key")
    span = _span(line, start, end)
    if text in ("true", "false"):
        return a.Bool(text == "true", span=span)
    if text.startswith('"'):
        return a.Text(unquote(text), span=span)
    return _number(text, line, start, end)

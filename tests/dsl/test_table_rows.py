"""Table rows read without the parser (`policy_dsl.table_rows`) give the very tree — values,
kinds, spans — and the very diagnostics that the parser gives reading every row itself."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import policy_dsl.parser as parser
from policy_dsl import ast as a
from policy_dsl import table_rows
from policy_dsl.diagnostics import PolicyErrors

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(
    [
        *(ROOT / "policies").rglob("*.policy"),
        *(ROOT / "policy_dsl" / "library").rglob("*.policy"),
        *(ROOT / "tests" / "golden").rglob("*.policy"),
    ]
)
HEAD = 'policy demo version "2024"\n  effective 2024-01-01 to 2024-12-31\n  method points\n\n'


@contextmanager
def parser_reads_every_row() -> Iterator[None]:
    saved = parser.set_aside
    parser.set_aside = table_rows.SetAside
    try:
        yield
    finally:
        parser.set_aside = saved


def outcome(text: str) -> Any:
    """The tree with every node's span (nodes compare without them), or the diagnostics
    (code, place, message) of a text that does not parse."""
    try:
        tree = parser.parse(text)
    except PolicyErrors as exc:
        return [(d.code, d.line, d.column, d.message, d.hint) for d in exc.diagnostics]
    return tree, list(spans(tree))


def spans(node: Any) -> Iterator[tuple[str, a.Span]]:
    """Each node's type and span, depth first."""
    if isinstance(node, a.Node):
        yield type(node).__name__, node.span
        for name in node.__dataclass_fields__:
            yield from spans(getattr(node, name))
    elif isinstance(node, tuple | list):
        for item in node:
            yield from spans(item)


def both_ways(text: str) -> tuple[Any, Any]:
    fast = outcome(text)
    with parser_reads_every_row():
        slow = outcome(text)
    return fast, slow


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_policy_of_the_repository_parses_alike(path: Path) -> None:
    fast, slow = both_ways(path.read_text(encoding="utf-8"))
    assert fast == slow


def test_rows_are_set_aside_and_put_back_in_their_place() -> None:
    text = HEAD + (
        'table k "档" from points to ratio\n'
        '  assumption "假设"\n'
        "  [0, 100) -> 300%   # low\n"
        "  [100, 200] -> - 2.5 ‰\n"
        "  (200, inf) -> ¥ 12\n"
        "\n"
        'table g "组" from drg_code to weight\n'
        '  "GB1\\"5" -> 1.2\n'
        '  "GB17" -> 3 pt\n'
        "  else -> 1e3\n"
        'let x "x" : ratio at case = k[1]\n'
    )
    aside = table_rows.set_aside(text)
    assert sorted(aside.rows) == [7, 12]  # the first row of each table: read by the parser
    assert [r.span.line for r in aside.rows[7]] == [8, 9]
    assert [r.span.line for r in aside.rows[12]] == [13, 14]
    assert aside.text.split("\n")[7].strip() == ""  # line 8, blanked
    fast, slow = both_ways(text)
    assert fast == slow
    k, g = fast[0].items[0], fast[0].items[1]
    assert isinstance(k, a.Table) and isinstance(g, a.Table)
    assert [type(r).__name__ for r in g.rows] == ["KeyRow", "KeyRow", "DefaultRow"]
    high = k.rows[1]
    assert isinstance(high, a.RangeRow) and high.high_closed
    assert high.value == a.Neg(
        a.Number(Decimal("2.5"), "permille", span=a.Span(8, 19, 8, 24)), span=a.Span(8, 17, 8, 24)
    )
    assert k.span.end_line == 9 and g.span.end_line == 14


def test_a_row_the_parser_must_read_keeps_its_diagnostic() -> None:
    rows = "  [0, 100) -> 300%\n  [100, 200 -> 250%\n  [200, inf) -> 200%\n"
    fast, slow = both_ways(HEAD + 'table k "档" from points to ratio\n  assumption "假设"\n' + rows)
    assert fast == slow and isinstance(fast, list) and fast[0][1] == 8


LITERALS = st.sampled_from(
    [
        "1", "0.5", "300%", "300 %", "6‰", "¥12", "¥ 12.5", "12元", "100 pt", "100pt", "3点",
        "1e3", "2.5E-2", "- 4", "-4%", "12345678901234567890", "1.", "x", "1 pt2", "inf",
    ]
)  # fmt: skip
KEYS = st.sampled_from(['"GB15"', '"a\\"b"', "7", "2.5", "true", "false", "else", "x", '"'])


@st.composite
def rows(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["range", "key", "other"]))
    if kind == "range":
        open_, close = draw(st.sampled_from("[(")), draw(st.sampled_from("])"))
        low, high, value = draw(LITERALS), draw(LITERALS), draw(LITERALS)
        row = f"{open_}{low}, {high}{close} -> {value}"
    elif kind == "key":
        row = f"{draw(KEYS)} -> {draw(LITERALS)}"
    else:
        row = draw(st.sampled_from(["# a comment", "", 'source d "第三条"', "[1, 2 -> 3", "->"]))
    comment = draw(st.sampled_from(["", "  # note", "#"]))
    return "  " + row + (comment if row else "")


@given(st.lists(rows(), min_size=1, max_size=12), st.booleans())
def test_any_rows_parse_alike(lines: list[str], cited: bool) -> None:
    citation = '  assumption "假设"\n' if cited else ""
    text = HEAD + 'table k "档" from points to ratio\n' + citation + "\n".join(lines) + "\n"
    text += 'let x "x" : ratio at case = 1\n'
    fast, slow = both_ways(text)
    assert fast == slow

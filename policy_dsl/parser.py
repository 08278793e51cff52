"""Parser facade: text → `ast.Policy`, with every Lark error turned into a `Diagnostic`."""

from __future__ import annotations

import re
from functools import cache

from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError
from lark.lexer import PatternStr, TerminalDef

from policy_dsl import ast as a
from policy_dsl import grammar_tables
from policy_dsl.diagnostics import Diagnostic, PolicyErrors, SourceText
from policy_dsl.syntax_errors import describe_syntax_error
from policy_dsl.transform import InvalidDate, ToAst, span_of

WORD = re.compile(r"[A-Za-z_]\w*")

#: The byte-order mark some editors (Windows Notepad) put at the start of a UTF-8 file.
BOM = "\ufeff"


@cache
def _lark() -> Lark:
    """The LALR parser, once per process: from the tables shipped beside the grammar, or built
    from the grammar when they are stale (`policy_dsl.grammar_tables`). Nothing is read from a
    cache another user could write."""
    grammar = grammar_tables.grammar_text()
    return grammar_tables.load(grammar) or grammar_tables.build(grammar)


def terminals() -> dict[str, TerminalDef]:
    """The grammar's terminals by name (token patterns, e.g. for a highlighter)."""
    return {t.name: t for t in _lark().terminals}


@cache
def keywords() -> frozenset[str]:
    """The language's keywords: the words the grammar spells out (`policy`, `param`, `when`,
    `asc`, `inf`…). No declaration may be named after one; the studio colours them."""
    return frozenset(
        t.pattern.value
        for t in terminals().values()
        if isinstance(t.pattern, PatternStr) and WORD.fullmatch(t.pattern.value)
    )


def without_bom(text: str) -> str:
    """A file's text without a byte-order mark at its start: the mark is not part of the text,
    and lines and columns count from the first character after it, as an editor shows them."""
    return text.removeprefix(BOM)


def parse(text: str, file: str = "<text>") -> a.Policy:
    """Parse a policy file's text (a byte-order mark at its start is ignored); raises
    `PolicyErrors` with one diagnostic on a syntax error."""
    text = without_bom(text)
    source = SourceText(text, file)
    try:
        tree = _lark().parse(text)
    except (UnexpectedCharacters, UnexpectedEOF, UnexpectedInput) as exc:
        raise PolicyErrors([describe_syntax_error(exc, source)]) from None
    try:
        return ToAst().transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, InvalidDate):
            raise PolicyErrors([_bad_date(exc.orig_exc, source)]) from None
        raise


def _bad_date(exc: InvalidDate, source: SourceText) -> Diagnostic:
    return source.diagnostic(
        "E004",
        f"`{exc.token}` is not a calendar date",
        span_of(exc.token),
        "write a real date as YYYY-MM-DD, e.g. 2024-02-29",
    )

"""Parser facade: text → `ast.Policy`, with every Lark error turned into a `Diagnostic`."""

from __future__ import annotations

import re
from functools import cache

from lark import Lark, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput
from lark.lexer import PatternStr, TerminalDef

from policy_dsl import ast as a
from policy_dsl import grammar_tables
from policy_dsl.diagnostics import LINE_BREAK, Diagnostic, PolicyErrors, SourceText
from policy_dsl.limits import MAX_DEPTH, abbreviated, ensure_recursion_limit, too_deep
from policy_dsl.syntax_errors import describe_syntax_error
from policy_dsl.table_rows import put_back, set_aside
from policy_dsl.transform import InvalidDate, InvalidNumber, ToAst, span_of

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


def normalize_text(text: str) -> str:
    """A file's text as the language reads it: no byte-order mark, and every line ending —
    CR LF (Windows), a lone CR (classic Mac), LF — written LF. The parser counts lines by LF
    only; after this, its lines and columns are those an editor shows for the file as saved
    (`diagnostics.source_lines` splits lines the same way)."""
    return LINE_BREAK.sub("\n", without_bom(text))


def parse(text: str, file: str = "<text>") -> a.Policy:
    """Parse a policy file's text (`normalize_text` first: a byte-order mark is ignored, any
    line ending is one); raises `PolicyErrors` with one diagnostic on a syntax error, on an
    expression nested too deeply (E010, checked before anything recursive runs) or a number
    past the language's limits (E011). Makes sure Python's recursion limit leaves every later
    pass room (`limits.ensure_recursion_limit`)."""
    ensure_recursion_limit()
    text = normalize_text(text)
    source = SourceText(text, file)
    aside = set_aside(text)
    try:
        tree = _lark().parse(aside.text)
    except (UnexpectedCharacters, UnexpectedEOF, UnexpectedInput) as exc:
        raise PolicyErrors([describe_syntax_error(exc, source)]) from None
    deep = too_deep(tree)
    if deep is not None:
        raise PolicyErrors([_too_deep(deep, source)])
    try:
        return put_back(ToAst().transform(tree), aside)
    except InvalidDate as exc:
        raise PolicyErrors([_bad_date(exc, source)]) from None
    except InvalidNumber as exc:
        raise PolicyErrors([_bad_number(exc, source)]) from None


def _too_deep(node: Tree, source: SourceText) -> Diagnostic:
    return source.diagnostic(
        "E010",
        f"expression nested more than {MAX_DEPTH} levels deep",
        span_of(node.meta),
        "give inner parts a name (`let … = …`) and use the name; each call, `if`, `not`, "
        "`-`, comparison, `[…]` and each `+ - * /` of a chain is a level, a chain of `and` "
        "(or of `or`) is one",
    )


def _bad_number(exc: InvalidNumber, source: SourceText) -> Diagnostic:
    message = f"`{abbreviated(str(exc.token))}` {exc.problem}"
    return source.diagnostic("E011", message, span_of(exc.token), exc.hint)


def _bad_date(exc: InvalidDate, source: SourceText) -> Diagnostic:
    return source.diagnostic(
        "E004",
        f"`{exc.token}` is not a calendar date",
        span_of(exc.token),
        "write a real date as YYYY-MM-DD, e.g. 2024-02-29",
    )

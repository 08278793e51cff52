"""Turn Lark's parse errors into diagnostics an analyst understands (codes E001–E003, E105).

Lark never reaches the user raw: the expected terminals are named in words, and a few common
mistakes (`=` for `==`, a definition without `at <grain>`, full-width punctuation, a reserved word
used as a name) get a message and hint of their own.
"""

from __future__ import annotations

import difflib
import re

from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr, Token

from policy_dsl.ast import Span
from policy_dsl.diagnostics import Diagnostic, SourceText
from policy_dsl.types import TYPE_NAMES

_WORDS = {
    "NAME": "a name",
    "STRING": 'a quoted text ("…")',
    "NUMBER": "a number",
    "DATE": "a date (YYYY-MM-DD)",
    "PERCENT": "a percentage (80%)",
    "PERMILLE": "a per-mille value (6‰)",
    "MONEY": "an amount of money (¥1200 or 1200 元)",
    "POINTS": "a number of points (100 pt)",
    "COMP_OP": "a comparison (==, !=, <, <=, >, >=)",
    "$END": "the end of the file",
}

_FULL_WIDTH = {
    "（": "(",
    "）": ")",
    "，": ",",
    "：": ":",
    "＝": "=",
    "；": ";",
    "［": "[",
    "］": "]",
    "“": '"',
    "”": '"',
    "＋": "+",
    "－": "-",
    "＊": "*",
    "／": "/",
    "＜": "<",
    "＞": ">",
    "％": "%",
    "￥": "¥",
    "．": ".",
    **{chr(0xFF10 + d): str(d) for d in range(10)},  # ０–９: `\d` would read them as digits
}

#: Characters an analyst types for a symbol of the language (from the document's formulas, or a
#: Chinese keyboard), with what to write instead.
_LOOKALIKES = {
    "≤": "<=",
    "≦": "<=",
    "≥": ">=",
    "≧": ">=",
    "≠": "!=",
    "×": "*",
    "÷": "/",
    "−": "-",
    "—": "-",
    "‘": '"',
    "’": '"',
    "且": "and",
    "或": "or",
}

#: Chinese units of money an analyst writes after a number, with how the language writes them.
_UNIT_WORDS = {
    "分": "amounts of money are in 元: write `0.01 元` for 1 分 (`0 元` for none)",
    "角": "amounts of money are in 元: write `0.1 元` for 1 角",
    "万": "amounts of money are in 元: write `10000 元` for 1 万元",
    "亿": "amounts of money are in 元: write `100000000 元` for 1 亿元",
}

_VALUE_STARTERS = {"NAME", "NUMBER", "PERCENT", "MONEY", "POINTS", "STRING", "LPAR"}

_DECLARATION_STARTERS = {
    "ADJUST",
    "CLASSIFY",
    "DOCUMENT",
    "FORMULA",
    "INPUT",
    "INVARIANT",
    "LET",
    "OVERRIDE",
    "PARAM",
    "REPORT",
    "STAGE",
    "TABLE",
}


#: The keywords that open a line of their own: a declaration, or a clause of one.
_LINE_STARTERS = _DECLARATION_STARTERS | {
    "ASSUMPTION",
    "CLASS",
    "EFFECTIVE",
    "EXTENDS",
    "INCLUDE",
    "INDICATOR",
    "METHOD",
    "SOURCE",
    "STEP",
    "TARGET",
    "TITLE",
}


def describe_syntax_error(exc: UnexpectedInput, source: SourceText) -> Diagnostic:
    """One diagnostic for a Lark parse error."""
    from policy_dsl.parser import _lark

    if isinstance(exc, UnexpectedCharacters):
        return _bad_character(exc, source)
    if isinstance(exc, UnexpectedEOF):
        return _early_end(set(exc.expected), source, _lark())
    assert isinstance(exc, UnexpectedToken)
    if exc.token.type == "$END":
        return _early_end(exc.expected, source, _lark())
    return _bad_token(exc, source, _lark())


def _bad_character(exc: UnexpectedCharacters, source: SourceText) -> Diagnostic:
    ch = exc.char
    span = Span(exc.line, exc.column, exc.line, exc.column + 1)
    if ch in _FULL_WIDTH:
        return _full_width(ch, span, source)
    if ch in _LOOKALIKES:
        return source.diagnostic(
            "E002",
            f"`{ch}` is not part of the language",
            span,
            f"write `{_LOOKALIKES[ch]}`; `{ch}` belongs only inside quotes",
        )
    if ch in _UNIT_WORDS:
        return source.diagnostic(
            "E002", f"`{ch}` is not a unit of the language", span, _UNIT_WORDS[ch]
        )
    if ch == "\u3000":
        return source.diagnostic(
            "E002",
            "a full-width space is not part of the language",
            span,
            "indent and separate with half-width spaces (the formatter, `drgpolicy fmt`, indents)",
        )
    if ch == '"':
        return source.diagnostic(
            "E002",
            "this quoted text is not closed on its line",
            span,
            'end the text with `"` before the end of the line',
        )
    return source.diagnostic(
        "E002",
        f"`{ch}` is not part of the language",
        span,
        "names use letters, digits and _; labels and Chinese text go inside quotes",
    )


def _full_width(ch: str, span: Span, source: SourceText) -> Diagnostic:
    return source.diagnostic(
        "E002",
        f"full-width `{ch}` is not part of the language here",
        span,
        f"write the half-width `{_FULL_WIDTH[ch]}`; full-width text belongs inside quotes",
    )


def _full_width_in_word(span: Span, source: SourceText) -> Diagnostic | None:
    """A full-width character later in the word an unexpected token starts (`2024-１2-31`): the
    parser stopped at the token before the lexer reached the character, which is what to fix."""
    line = source.line(span.line) or ""
    word = re.match(r'[^\s"#]*', line[span.column - 1 :])
    for offset, ch in enumerate(word.group() if word else ""):
        if ch in _FULL_WIDTH:
            column = span.column + offset
            return _full_width(ch, Span(span.line, column, span.line, column + 1), source)
    return None


def _early_end(expected: set[str], source: SourceText, lark: Lark) -> Diagnostic:
    last = max(len(source.lines), 1)
    width = len(source.line(last) or "") + 1
    if all(not line.strip() or line.lstrip().startswith("#") for line in source.lines):
        return source.diagnostic(
            "E003",
            "the file has nothing but comments and blank lines: a policy file starts with "
            '`policy <city> version "<year>"`',
            Span(last, width, last, width + 1),
            "`drgpolicy init CITY` writes a starting file (`--from xuancheng/2024` copies a "
            "shipped city's version)",
        )
    return source.diagnostic(
        "E003",
        f"the file ends too early: expected {_expected_words(expected, lark)}",
        Span(last, width, last, width + 1),
        "finish the last declaration",
    )


def _bad_token(exc: UnexpectedToken, source: SourceText, lark: Lark) -> Diagnostic:
    token = exc.token
    span = Span(token.line or 0, token.column or 0, token.end_line or 0, token.end_column or 0)
    expected = set(exc.expected)
    shown = f"`{token}`"
    glued = _full_width_in_word(span, source)
    if glued is not None:
        return glued
    unfinished = _unfinished_line(token, expected, source, lark)
    if unfinished is not None:
        return unfinished
    if "NAME" in expected and token.type != "NAME" and str(token).isidentifier():
        return source.diagnostic(
            "E105",
            f"`{token}` is a reserved word and cannot be used as a name",
            span,
            f"choose another name, e.g. `{token}_value`",
        )
    message, hint = _common_mistake(token.type, str(token), expected)
    if message is None and expected in ({"COLON"}, {"NAME"}):
        message, hint = _param_without_type(str(token), span, source)
    if message is None and str(token) == "->":
        message, hint = _key_read_as_article(span, source)
    if message is None and token.type == "STRING":
        message, hint = _second_document_text(span, source)
    if message is None:
        message = f"unexpected {shown}: expected {_expected_words(expected, lark)}"
        hint = _misspelt_keyword(str(token), expected, lark) if token.type == "NAME" else None
    return source.diagnostic("E001", message, span, hint)


def _unfinished_line(
    token: Token, expected: set[str], source: SourceText, lark: Lark
) -> Diagnostic | None:
    """A keyword opening its line (`let`, `source`, `override`…) where the parser cannot yet
    take a new declaration: the line before it stopped short (`3 ->` without its value, an
    `assumption` without its text, a `(` not closed), so the place to fix is that line's end."""
    at = token.line or 0
    line = source.line(at) or ""
    if token.type not in _LINE_STARTERS or line[: (token.column or 1) - 1].strip():
        return None
    if expected & _DECLARATION_STARTERS or "$END" in expected:
        return None  # the line before was complete: the keyword itself is the mistake
    before = next(
        (
            (number, text.rstrip())
            for number, text in reversed(list(enumerate(source.lines[: at - 1], 1)))
            if text.strip() and not text.lstrip().startswith("#")
        ),
        None,
    )
    if before is None:
        return None
    number, text = before
    end = len(text) + 1
    return source.diagnostic(
        "E001",
        f"line {number} stops short: expected {_expected_words(expected, lark)}",
        Span(number, end, number, end + 1),
        f"finish line {number}; `{token}` on line {at} starts something new",
    )


def _key_read_as_article(span: Span, source: SourceText) -> tuple[str | None, str | None]:
    """`source doc` right before a row with a text key: the key was read as the article."""
    key = (source.line(span.line) or "")[: span.column - 1].strip()
    previous = next(
        (
            text.split("#")[0].strip()
            for text in reversed(source.lines[: span.line - 1])
            if text.split("#")[0].strip()
        ),
        "",
    )
    if not (re.fullmatch(r'"([^"\\]|\\.)*"', key) and re.fullmatch(r"source\s+\w+", previous)):
        return None, None
    return (
        f"the key {key} was read as the article of `{previous}` on the line before",
        f'give the source its article, e.g. `{previous} "第三条"`, so that {key} is read as a key',
    )


def _param_without_type(text: str, span: Span, source: SourceText) -> tuple[str | None, str | None]:
    """`param bilateral_multiple "双侧手术倍数" = 150%` (or `… ratio = 150%`, `… : = 150%`): a
    parameter's type follows its label, after `:`."""
    before = (source.line(span.line) or "")[: span.column - 1]
    label = r'\s*(override\s+)?param\s+\w+\s+"([^"\\]|\\.)*"\s*'
    if re.fullmatch(label, before) and text in TYPE_NAMES:
        return "a parameter's type follows `:`", f"write `: {text}`"
    if re.fullmatch(label, before) or re.fullmatch(label + r":\s*", before):
        return (
            "a parameter needs its type after its label and `:`",
            "write it before the value: `: ratio` (a share or multiple: 30%, 1.5), `: money` "
            "(元), `: points`, `: count`, `: number`… — the types: docs/language.md, Types and "
            "units",
        )
    return None, None


def _second_document_text(span: Span, source: SourceText) -> tuple[str | None, str | None]:
    """`document doc "文号" "title"`, the old form: a document now has one title, its fields
    follow."""
    before = (source.line(span.line) or "")[: span.column - 1]
    if not re.fullmatch(r'\s*(override\s+)?document\s+\w+\s+"([^"\\]|\\.)*"\s*', before):
        return None, None
    return (
        "a document has one text after its name, its title; the rest are fields",
        'write the title as the document gives it, then one field per line: `issuer "…"`, '
        '`number "…"` (文号, or `number none`), `date 2021-05-10`, `status in_force` (or draft, '
        'report) and `text "<file>"`',
    )


def _misspelt_keyword(text: str, expected: set[str], lark: Lark) -> str | None:
    """A `did you mean` hint when a name is close to a keyword expected here."""
    keywords = [w.strip("`") for w in _words(expected, lark) if w[1:-1].isidentifier()]
    close = difflib.get_close_matches(text, keywords, n=1, cutoff=0.7)
    return f"did you mean `{close[0]}`?" if close else None


def _common_mistake(kind: str, text: str, expected: set[str]) -> tuple[str | None, str | None]:
    operators = {"COMP_OP", "PLUS", "STAR", "MINUS", "SLASH"}
    if text == "=" and "AT" not in expected and expected & operators:
        return "`=` gives a value; to compare two values write `==`", "write `==`"
    if "AT" in expected and text in {"=", "->"}:
        return (
            "a definition needs its grain before `=`",
            "add `at case`, `at hospital`, `at group`, `at hospital, group`, … or `at all`",
        )
    if kind in _VALUE_STARTERS and expected & operators:
        return (
            f"unexpected `{text}` right after a complete value",
            "join two values with an operator (+ - * / == and or …), "
            "or start a new declaration with its keyword (let, param, table, …)",
        )
    return None, None


def _expected_words(expected: set[str], lark: Lark) -> str:
    if len(expected & _DECLARATION_STARTERS) >= 4:
        rest = expected - _DECLARATION_STARTERS
        words = ["a new declaration (`let`, `param`, `table`, …)", *_words(rest, lark)]
    elif len(expected & _VALUE_STARTERS) >= 4:
        rest = (
            expected
            - _VALUE_STARTERS
            - {"MINUS", "DATE", "PERMILLE", "CURRENT", "RANK", "TRUE", "FALSE", "IF", "NOT", "LSQB"}
        )
        words = ["a value (a number, a name, a text, `(`…)", *_words(rest, lark)]
    else:
        words = _words(expected, lark)
    if len(words) > 8:
        words = [*words[:8], "…"]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _words(names: set[str], lark: Lark) -> list[str]:
    return sorted({_word(name, lark) for name in names})


def _word(name: str, lark: Lark) -> str:
    if name in _WORDS:
        return _WORDS[name]
    try:
        pattern = lark.get_terminal(name).pattern
    except KeyError:
        return name.lower()
    return f"`{pattern.value}`" if isinstance(pattern, PatternStr) else name.lower()

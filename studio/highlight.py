"""The language's colours (语法着色), derived from `policy_dsl/grammar.lark`: the keywords and token
patterns the editor component colours the text with (`language()`, sent to the browser as JSON),
and the marked listing (标注清单) the plain-text fallback shows beside its box: the buffer as HTML
with line numbers, each diagnostic underlined where it points, its message under the line."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import TypedDict

from engine.page.markup import html_text
from policy_dsl import parser
from policy_dsl.diagnostics import Diagnostic

#: The grammar's terminals the highlighter colours, by kind; literals (numbers with their units
#: `%`, `‰`, `元`/`¥`, `pt`/`点`, dates) in the grammar's order of priority.
LITERAL_TERMINALS = ("DATE", "MONEY", "POINTS", "PERCENT", "PERMILLE", "NUMBER")
NAME, STRING, COMMENT = "NAME", "STRING", "COMMENT"
#: Operators and punctuation (their terminals are plain strings in the grammar).
OPERATORS = r"==|!=|<=|>=|->|[-+*/<>=\[\](),.:]"
#: A string still being typed (no closing quote yet) is coloured as a string all the same.
OPEN_STRING = r'"(?:[^"\\\n]|\\.)*'


def keywords() -> frozenset[str]:
    """The language's keywords (`policy`, `param`, `when`…): the words the grammar spells out."""
    return parser.keywords()


class Language(TypedDict):
    """Regular expressions (Python and JavaScript both read them) and keywords of the language."""

    keywords: list[str]
    literals: list[str]
    name: str
    string: str
    open_string: str
    comment: str
    operators: str


@cache
def language() -> Language:
    """What the editor component needs to colour the language, as JSON: the keywords and the
    grammar's regular expressions of names, strings, comments and literals."""
    terminals = parser.terminals()
    literals = sorted(LITERAL_TERMINALS, key=lambda name: -terminals[name].priority)
    return Language(
        keywords=sorted(keywords()),
        literals=[terminals[name].pattern.to_regexp() for name in literals],
        name=terminals[NAME].pattern.to_regexp(),
        string=terminals[STRING].pattern.to_regexp(),
        open_string=OPEN_STRING,
        comment=terminals[COMMENT].pattern.to_regexp(),
        operators=OPERATORS,
    )


@cache
def _tokens() -> re.Pattern[str]:
    """Token patterns in the order they are tried (literals with units before plain numbers)."""
    lang = language()
    literals = "|".join(f"(?:{p})" for p in lang["literals"])
    return re.compile(
        f"(?P<comment>{lang['comment']})|(?P<string>{lang['string']}|{lang['open_string']})"
        f"|(?P<literal>{literals})|(?P<name>{lang['name']})|(?P<op>{lang['operators']})"
    )


STYLE = """
<style>
.drg-listing{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px;
  line-height:1.45;background:#fbfbfd;border:1px solid #e3e5ea;border-radius:6px;padding:6px 0;
  overflow-x:auto;max-height:640px;overflow-y:auto}
.drg-line{display:flex;white-space:pre}
.drg-line.error{background:#fdecec}.drg-line.warning{background:#fff8e1}
.drg-no{flex:0 0 auto;min-width:3.2em;text-align:right;padding-right:.8em;color:#9aa0aa;
  user-select:none}
.drg-mark{flex:0 0 1.2em;width:1.2em;text-align:center;user-select:none}
.drg-mark.error{color:#d32f2f}.drg-mark.warning{color:#e6a100}
.drg-note{margin:0 0 2px 4.4em;padding:1px 6px;font-size:12px;white-space:pre-wrap;
  border-left:3px solid #d32f2f;color:#6b1b1b;background:#fff4f4}
.drg-note.warning{border-color:#e6a100;color:#6b5000;background:#fffbea}
.tk-comment{color:#7a8594;font-style:italic}.tk-string{color:#0b7a36}
.tk-literal{color:#b35900}.tk-keyword{color:#6f2dbd;font-weight:600}.tk-name{color:#1f3a93}
.tk-op{color:#555}
.mk-error{text-decoration:underline wavy #d32f2f;text-decoration-skip-ink:none}
.mk-warning{text-decoration:underline wavy #e6a100;text-decoration-skip-ink:none}
</style>
"""


def token_classes(line: str) -> list[str]:
    """The colour class of each character of a line ('' for white space and the unknown)."""
    classes = [""] * len(line)
    words = keywords()
    for match in _tokens().finditer(line):
        kind = match.lastgroup or ""
        if kind == "name" and match.group() in words:
            kind = "keyword"
        for i in range(match.start(), match.end()):
            classes[i] = kind
    return classes


def _marks(lines: list[str], diagnostics: Iterable[Diagnostic]) -> dict[int, list[str]]:
    """Per line number, the severity marking each character ('' where none)."""
    marks: dict[int, list[str]] = {}
    for d in diagnostics:
        if d.line <= 0 or d.line > len(lines):
            continue
        end_line = max(d.span.end_line, d.line)
        for number in range(d.line, min(end_line, len(lines)) + 1):
            text = lines[number - 1]
            row = marks.setdefault(number, [""] * len(text))
            start = d.column - 1 if number == d.line else len(text) - len(text.lstrip())
            stop = d.span.end_column - 1 if number == end_line else len(text)
            start = min(max(start, 0), len(text))
            stop = max(min(stop, len(text)), start + 1)
            for i in range(start, min(stop, len(text))):
                if row[i] != "error":
                    row[i] = d.severity
            if start >= len(text) and not row:
                marks[number] = row
    return marks


def _runs(text: str, colours: list[str], marks: list[str]) -> str:
    out, i = [], 0
    while i < len(text):
        j = i
        while j < len(text) and (colours[j], marks[j]) == (colours[i], marks[i]):
            j += 1
        css = " ".join(
            c
            for c in (
                f"tk-{colours[i]}" if colours[i] else "",
                f"mk-{marks[i]}" if marks[i] else "",
            )
            if c
        )
        piece = html_text(text[i:j])
        out.append(f'<span class="{css}">{piece}</span>' if css else piece)
        i = j
    return "".join(out)


def listing_html(text: str, diagnostics: Iterable[Diagnostic] = ()) -> str:
    """The whole buffer as a coloured, numbered listing with the diagnostics marked."""
    found = list(diagnostics)
    lines = text.split("\n")
    marks = _marks(lines, found)
    by_line: dict[int, list[Diagnostic]] = {}
    for d in found:
        by_line.setdefault(min(max(d.line, 1), len(lines)), []).append(d)
    rows = [STYLE, '<div class="drg-listing">']
    for number, line in enumerate(lines, start=1):
        notes = by_line.get(number, [])
        severity = _worst(notes)
        symbol = {"error": "●", "warning": "▲"}.get(severity, "")
        title = html_text("\n".join(f"{d.code}: {d.message}" for d in notes))
        body = _runs(line, token_classes(line), marks.get(number, [""] * len(line)))
        rows.append(
            f'<div class="drg-line {severity}" id="L{number}"><span class="drg-no">{number}</span>'
            f'<span class="drg-mark {severity}" title="{title}">{symbol}</span>'
            f"<span>{body or ' '}</span></div>"
        )
        rows += [_note(d) for d in notes]
    rows.append("</div>")
    return "\n".join(rows)


def _worst(notes: list[Diagnostic]) -> str:
    if any(d.severity == "error" for d in notes):
        return "error"
    return "warning" if notes else ""


def _note(d: Diagnostic) -> str:
    hint = f"\nhint: {d.hint}" if d.hint else ""
    text = html_text(f"{d.severity} {d.code} ({d.line}:{d.column}): {d.message}{hint}")
    return f'<div class="drg-note {d.severity}">{text}</div>'


__all__ = ["Language", "keywords", "language", "listing_html", "token_classes"]

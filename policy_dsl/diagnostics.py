"""Diagnostics: a stable code, a severity, a place, a message, a caret excerpt and a hint.

Every problem the language finds in a policy file is one `Diagnostic`. The checker collects
them all and reports them together; `PolicyErrors` carries a list of them as one exception.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from policy_dsl.ast import NO_SPAN, Span
from policy_dsl.errors import PolicyError

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding about a policy file."""

    code: str
    message: str
    file: str
    span: Span = NO_SPAN
    hint: str | None = None
    source_line: str | None = None

    @property
    def severity(self) -> Severity:
        """`E…` codes are errors, `W…` codes warnings."""
        return "warning" if self.code.startswith("W") else "error"

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def column(self) -> int:
        return self.span.column

    def render(self) -> str:
        """The diagnostic as an analyst reads it: place, code, message, caret, hint."""
        head = f"{self.file}:{self.line}:{self.column}: {self.severity} {self.code}: {self.message}"
        lines = [head, *self._excerpt()]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)

    def _excerpt(self) -> list[str]:
        if self.source_line is None or self.line <= 0:
            return []
        gutter = f"{self.line:>5} | "
        width = _caret_width(self.span, self.source_line)
        pad = _display_width(self.source_line[: max(self.column - 1, 0)])
        return [gutter + self.source_line, " " * (len(gutter) - 2) + "| " + " " * pad + "^" * width]

    def to_json(self) -> dict[str, object]:
        """The diagnostic as plain data (for `--json` and the studio)."""
        return {
            "code": self.code,
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "message": self.message,
            "hint": self.hint,
        }


def _display_width(text: str) -> int:
    """Terminal columns of `text`: CJK and full-width characters take two."""
    return sum(2 if _is_wide(ch) else 1 for ch in text)


def _is_wide(ch: str) -> bool:
    code = ord(ch)
    return code >= 0x1100 and (
        code <= 0x115F
        or 0x2E80 <= code <= 0xA4CF
        or 0xAC00 <= code <= 0xD7A3
        or 0xF900 <= code <= 0xFAFF
        or 0xFE30 <= code <= 0xFE4F
        or 0xFF00 <= code <= 0xFF60
        or 0xFFE0 <= code <= 0xFFE6
    )


def _caret_width(span: Span, line: str) -> int:
    start = max(span.column - 1, 0)
    end = span.end_column - 1 if span.end_line == span.line else len(line)
    return max(_display_width(line[start : max(end, start)]), 1)


#: What ends a line: `\r\n` (Windows), `\r` (classic Mac) or `\n`. Nothing else does (not a form
#: feed, not U+2028), as in the parser, which counts lines after `parser.normalize_text`.
LINE_BREAK = re.compile(r"\r\n|\r|\n")


def source_lines(text: str) -> list[str]:
    """The lines of a file's text, numbered as the parser and an editor number them (a line
    break at the end starts no new line)."""
    lines = LINE_BREAK.split(text)
    return lines[:-1] if lines[-1] == "" else lines


class SourceText:
    """A file's text, for attaching source lines to diagnostics; split into lines once, when
    the first diagnostic needs one (a file checked clean is never split)."""

    def __init__(self, text: str, file: str) -> None:
        self.file = file
        self.text = text

    @cached_property
    def lines(self) -> list[str]:
        return source_lines(self.text)

    def line(self, number: int) -> str | None:
        return self.lines[number - 1] if 0 < number <= len(self.lines) else None

    def diagnostic(
        self, code: str, message: str, span: Span, hint: str | None = None
    ) -> Diagnostic:
        """A diagnostic at `span` with the line's text for the caret excerpt."""
        return Diagnostic(code, message, self.file, span, hint, self.line(span.line))


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics in reading order: file, line, column, code."""
    return sorted(diagnostics, key=lambda d: (d.file, d.line, d.column, d.code, d.message))


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in diagnostics)


class PolicyErrors(PolicyError):
    """A policy file has errors; carries every diagnostic found."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__("\n\n".join(d.render() for d in self.diagnostics))

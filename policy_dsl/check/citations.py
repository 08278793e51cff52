"""Quotes checked against their documents' texts (引文核对): E137 for a quote that is not in its
document, W130 once for a document whose text is not available.

Run by `drgpolicy check` and the studio, not by a settlement: a citation documents a rule, it
does not change what the rule pays. Each quote (`source <doc> "quote"`) ends `verified` (found,
with the passage around it), `not_found` (E137, the closest passage in the hint) or
`unverifiable` (the document's text is not available: W130 says so once per document).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from policy_dsl import ast as a
from policy_dsl import quotes
from policy_dsl.check.declarations import cited
from policy_dsl.diagnostics import Diagnostic
from policy_dsl.loader import Entry, PolicyFile, Resolved
from policy_dsl.sources import (
    ENV,
    DocumentText,
    SourceFolders,
    UnreadableText,
    find_text,
    read_text,
    unsafe_text_path,
)

Report = Callable[[Diagnostic], None]
Outcome = Literal["verified", "not_found", "unverifiable"]
#: A quote not in its document: an error for `check`, never a reason not to settle.
QUOTE_NOT_FOUND = "E137"


@dataclass(frozen=True)
class QuoteCheck:
    """What became of one quote: the file it stands in, its citation (document, words, span),
    and the passage it was found in (None unless verified)."""

    file: Path
    citation: a.Source
    outcome: Outcome
    passage: quotes.Passage | None = None


@dataclass
class Citations:
    """Every quote of a resolved version, checked."""

    checks: list[QuoteCheck] = field(default_factory=list)

    def tally(self, path: Path) -> dict[Outcome, int]:
        """How many quotes of the file `path` ended each way."""
        counts = Counter(c.outcome for c in self.checks if _same(c.file, path))
        return {o: counts[o] for o in ("verified", "not_found", "unverifiable")}

    def in_file(self, path: Path) -> list[QuoteCheck]:
        return [c for c in self.checks if _same(c.file, path)]


def _same(a_path: Path, b_path: Path) -> bool:
    return a_path.resolve() == b_path.resolve()


@dataclass(frozen=True)
class FoundText:
    """A cited document's text, or why there is none: `missing` is "no text" (no `text`
    field), "not found" (in `folders`), the reason it cannot be read, or "" when an error
    (E133, E136) already says why."""

    text: DocumentText | None
    missing: str = ""
    folders: tuple[Path, ...] = ()


def check_quotes(resolved: Resolved, folders: SourceFolders, report: Report) -> Citations:
    """Look every quote up in its document's text (see the module docstring)."""
    documents = {e.decl.name: e for e in resolved.entries if isinstance(e.decl, a.Document)}
    texts: dict[str, FoundText] = {}
    result = Citations()
    for entry in resolved.entries:
        for _node, citations in cited(entry.decl):
            for citation in citations:
                if not isinstance(citation, a.Source) or citation.article is None:
                    continue
                document = documents.get(citation.document)
                if document is None:
                    continue  # E106
                if citation.document not in texts:
                    texts[citation.document] = document_text(document, folders)
                found = texts[citation.document]
                result.checks.append(_check(entry.file, citation, found, report))
    for name, found in texts.items():
        if found.text is None and found.missing:
            count = sum(c.citation.document == name for c in result.checks)
            report(_unavailable(documents[name], found, count))
    return result


def document_text(document: Entry, folders: SourceFolders) -> FoundText:
    decl = document.decl
    assert isinstance(decl, a.Document)
    field = decl.field("text")
    if field is None:
        return FoundText(None, "no text")
    if not isinstance(field.value, a.Text) or unsafe_text_path(field.value.value) is not None:
        return FoundText(None)
    searched = folders.for_policy(document.file.path)
    path = find_text(field.value.value, searched)
    if path is None:
        return FoundText(None, "not found", searched)
    try:
        return FoundText(read_text(path))
    except UnreadableText as exc:
        return FoundText(None, f"{path}: {exc}")


def _check(file: PolicyFile, citation: a.Source, found: FoundText, report: Report) -> QuoteCheck:
    assert citation.article is not None
    if found.text is None:
        return QuoteCheck(file.path, citation, "unverifiable")
    spans = quotes.find(citation.article, found.text)
    if spans is not None:
        return QuoteCheck(file.path, citation, "verified", quotes.passage(found.text, spans))
    report(_not_found(file, citation, found.text))
    return QuoteCheck(file.path, citation, "not_found")


def _not_found(file: PolicyFile, citation: a.Source, text: DocumentText) -> Diagnostic:
    assert citation.article is not None
    closest = quotes.closest(citation.article, text)
    several = len(quotes.parts(citation.article)) > 1
    what = "these parts are not, in this order within one paragraph," if several else "this quote"
    hint = (
        f"the closest passage of the document: “{closest}” — quote its words"
        if closest
        else "quote the document's own words"
    )
    return file.source.diagnostic(
        QUOTE_NOT_FOUND,
        f"`source {citation.document}`: {what} is not in the document's text ({text.path.name})",
        citation.span,
        hint + " (white space and the width of punctuation do not matter; …… joins parts)",
    )


def searched_hint(name: str, folders: tuple[Path, ...]) -> str:
    """What to do about a document's text `name` not found in `folders`."""
    return (
        f"looked for `{name}` in {', '.join(map(str, folders))}; "
        f"give the folder holding it with `drgpolicy check --sources DIR` (or {ENV})"
    )


def _unavailable(document: Entry, found: FoundText, count: int) -> Diagnostic:
    decl = document.decl
    assert isinstance(decl, a.Document)
    field = decl.field("text")
    quoted = (
        f"its {count} quote{'s' if count != 1 else ''} {'are' if count != 1 else 'is'} not checked"
    )
    if found.missing == "no text":
        message = f"document `{decl.name}` does not say where its text is: {quoted}"
        hint = (
            'add `text "<file name>"` naming its text in a sources folder (the policy\'s '
            "`sources/`, one given with `--sources DIR`, or one listed in " + ENV + ")"
        )
    elif found.missing == "not found":
        message = f"the text of document `{decl.name}` is not found: {quoted}"
        hint = searched_hint(decl.value("text") or "", found.folders)
    else:
        message = f"the text of document `{decl.name}` cannot be read: {quoted}"
        hint = f"{found.missing}; save it as UTF-8 text"
    span = field.span if field is not None else decl.span
    return document.file.source.diagnostic("W130", message, span, hint)


__all__ = ["QUOTE_NOT_FOUND", "Citations", "QuoteCheck", "check_quotes"]

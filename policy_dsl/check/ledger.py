"""A city's fidelity ledger (条文对照表, `fidelity.md` in the city's folder) checked against its
document and the versions it covers (E710–E716, W710).

A ledger lists, sentence by sentence, what the city's document fixes for paying a case or a
hospital, and for each the rules of the files that encode it and how:

    Document: `000_9040d25257a7a8dc.txt`
    Policy: `policies/wuxi/2024.policy`

    | # | the document's words | in the file | how |
    |---:|---|---|---|
    | 1 | 在24家试点医院率先开展DRG实际付费 | — | not encoded — a past milestone of the reform |
    | 16 | 未达到70%的，直接按实际发生的…… | `retain_full_below` | as written |

The header: one `Document:` line, the `text` of a document the versions declare; one `Policy:`
line or more, each a version of the ledger's folder (the path before the file's name is for the
reader; several may share a line). The rows are those of the table whose first header cell is
`#` (another table of the file is not read): numbered 1…n in order; the document's own words (the
quotation marks around them — “”, ‘’, 「」, 『』, "" — white space and the width of punctuation
do not matter; `……` joins parts, as in a `source` quote; a `|` in a cell is written `\\|`); the
rules of the file in backticks (`name`, `stage.name`, `name.class`, `name.arm`, `name.step`), or
`—` when it has none; and how — `as written`, `reading — <what the file fixes>` or
`not encoded — <why>`. A row not encoded names no rule; any other names one.

Run by `drgpolicy check` for the folder of every file it checks (and for a ledger given by
itself); a city folder without a ledger has none to check (a new city writes one when it signs
off its document). `tests/dsl/test_fidelity_ledgers.py` checks the shipped ledgers with it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path, PurePath

from policy_dsl import ast as a
from policy_dsl import quotes
from policy_dsl.ast import Span
from policy_dsl.check.citations import Outcome, document_text, searched_hint
from policy_dsl.check.scope import did_you_mean
from policy_dsl.citation_counts import part_name
from policy_dsl.diagnostics import Diagnostic, SourceText, sort_diagnostics
from policy_dsl.errors import PolicyError
from policy_dsl.loader import SUFFIX, Entry, Folder, Resolved, read_folder, resolve
from policy_dsl.sources import (
    DocumentText,
    SourceFolders,
)

#: The ledger's file name in a city's folder.
LEDGER = "fidelity.md"
#: How a row's file has its sentence: the last cell is one of these, the last two followed by
#: ` — ` and why.
HOW = ("as written", "reading", "not encoded")
#: What a row's `how` must say after ` — `, at least, in characters (a Chinese reason may be
#: short: 已废止; a dash alone is not one).
SHORTEST_WHY = 2

_HEADER = re.compile(r"^(Document|Policy):[ \t]*`([^`]+)`")
#: Where a table's line opens: up to a few spaces, or inside a quote (`>`).
_OPENING = re.compile(r"^[ \t>]*")
_ROW_START = re.compile(r"^[ \t>]*\|\s*(\d+)\s*\|")
#: A cell's border: a `|` not escaped as `\|`.
_PIPE = re.compile(r"(?<!\\)\|")
_NAME = re.compile(r"`([^`]+)`")
_NONE = "—"
#: The quotation marks a row's words may stand in, opening to closing.
_QUOTES = {"“": "”", '"': '"', "‘": "’", "「": "」", "『": "』"}

ROW_EXAMPLE = (
    "| 3 | <the document's words> | `rule`, `stage.rule` | as written "
    "(or `reading — <what the file fixes>`, or — and `not encoded — <why>`) |"
)


@dataclass(frozen=True)
class Row:
    """One sentence of the ledger: its number, the document's words, the rules named, how the
    file has it (one of `HOW`), and where they stand in the ledger; `note` is what the last cell
    says after ` — ` (why, or what the file fixes; "" when nothing)."""

    number: int
    words: str
    names: tuple[tuple[str, Span], ...]
    how: str
    line: int
    words_span: Span
    note: str = ""


@dataclass(frozen=True)
class Ledger:
    """A ledger read: the document and versions it names (with the spans of their lines) and
    its rows."""

    path: Path
    document: tuple[str, Span] | None
    policies: tuple[tuple[str, Span], ...]
    rows: tuple[Row, ...]
    source: SourceText = field(compare=False, repr=False)

    def counts(self) -> Counter[str]:
        """How many rows say each `how`."""
        return Counter(row.how for row in self.rows)

    def covers(self, policy: Path) -> bool:
        """Whether the ledger is of this version of its folder: a `Policy:` line names it (or
        none does, when the header cannot tell: its E710 says so)."""
        here = self.path.parent.resolve()
        if policy.resolve().parent != here:
            return False
        return not self.policies or any(_names(n, policy.name, here) for n, _ in self.policies)


@dataclass
class LedgerCheck:
    """What checking a ledger found: its diagnostics, its rows and how its sentences fared
    against the document (None when the document or the versions could not be read)."""

    ledger: Ledger
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sentences: dict[Outcome, int] | None = None

    @property
    def errors(self) -> int:
        return sum(d.severity == "error" for d in self.diagnostics)

    def tally(self) -> str:
        """`44 rows: 3 as written, 29 reading, 12 not encoded; sentences: 44 verified, 0 not
        found, 0 unverifiable` (the sentences when they were looked up)."""
        counts = self.ledger.counts()
        shown = f"{counted(len(self.ledger.rows), 'row')}: " + ", ".join(
            f"{counts[how]} {how}" for how in HOW
        )
        if self.sentences is None:
            return shown
        found = ", ".join(
            f"{n} {outcome.replace('_', ' ')}" for outcome, n in self.sentences.items()
        )
        return f"{shown}; sentences: {found}"


def ledger_of(folder: Path) -> Path | None:
    """The ledger of a city folder, when it has one."""
    path = folder / LEDGER
    return path if path.is_file() else None


def read_ledger(path: Path, report: list[Diagnostic] | None = None) -> Ledger:
    """The header and rows of a ledger; each problem of its form (E710, E712–E714) appended to
    `report` (a row whose `how` cannot be read is left out of the rows)."""
    source = SourceText(path.read_text(encoding="utf-8").removeprefix("\ufeff"), str(path))
    found: list[Diagnostic] = [] if report is None else report
    heads: dict[str, list[tuple[str, Span]]] = {"Document": [], "Policy": []}
    for number, line in enumerate(source.lines, start=1):
        if (match := _HEADER.match(line)) is not None:
            for name in _NAME.finditer(line, match.start(2) - 1):
                span = Span(number, name.start(1) + 1, number, name.end(1) + 1)
                heads[match[1]].append((name[1], span))
    top = Span(1, 1, 1, 2)
    if not heads["Document"]:
        found.append(_header(source, "has no `Document:` line", top))
    for _, span in heads["Document"][1:]:
        found.append(_header(source, "gives `Document:` twice: a ledger is of one document", span))
    if not heads["Policy"]:
        found.append(_header(source, "has no `Policy:` line", top))
    numbered = _ledger_rows(source.lines)
    _check_numbers(source, numbered, found)
    rows = [row for n, line in numbered if (row := _row(source, n, line, found)) is not None]
    document = heads["Document"][0] if heads["Document"] else None
    return Ledger(path, document, tuple(heads["Policy"]), tuple(rows), source)


def check_ledger(path: Path, sources: SourceFolders) -> LedgerCheck:
    """Every problem of a ledger: its form, its document (E711) and each sentence in it (E716;
    W710 once when its text is not available), each rule it names declared in a version it
    covers (E715). The versions are those of the ledger's folder; one that does not read (or
    whose base is missing) leaves the names and sentences unchecked: its own check says why."""
    found: list[Diagnostic] = []
    ledger = read_ledger(path, found)
    result = LedgerCheck(ledger, found)
    source = ledger.source
    versions = _versions(ledger, source, read_folder(path.parent), found)
    if versions is not None:
        _check_names(ledger, source, versions, found)
        result.sentences = _check_document(ledger, source, versions, sources, found)
    result.diagnostics = sort_diagnostics(found)
    return result


def readable_ledger(path: Path, sources: SourceFolders) -> LedgerCheck:
    """`check_ledger`, a ledger that cannot be read (missing, not UTF-8) a `PolicyError`."""
    try:
        return check_ledger(path, sources)
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read {path}: {exc}") from None


def document_entries(resolved: Resolved) -> dict[str, Entry]:
    """Each document a version declares (its base's included), by its `text`."""
    return {
        e.decl.value("text") or "": e for e in resolved.entries if isinstance(e.decl, a.Document)
    }


def declared(resolved: Resolved) -> set[str]:
    """Every name in force in a version (its base's and the library's included), stages too;
    a stage's own also as `stage.name`, and a classification's classes, a formula's arms and an
    adjustment's steps as `name.part` (`category.high`, `group_case_points.bilateral`)."""
    names = {s.name for s in resolved.stages}
    for entry in resolved.entries:
        name = getattr(entry.decl, "name", None)
        if not name:
            continue
        names |= rule_names(name, entry.stage)
        match entry.decl:
            case a.Classify(classes=parts) | a.Formula(arms=parts) | a.Adjust(steps=parts):
                names |= {
                    n for part in parts for n in rule_names(name, entry.stage, part_name(part))
                }
    return names


def _ledger_rows(lines: list[str]) -> list[tuple[int, str]]:
    """The lines (numbered from 1) of the ledger's table — the table whose first header cell is
    `#` — that open with a row number."""
    rows: list[tuple[int, str]] = []
    inside = False
    for number, line in enumerate(lines, start=1):
        opened = _OPENING.sub("", line, count=1)
        if not opened.startswith("|"):
            inside = False
        elif not inside:
            inside = opened[1:].split("|")[0].strip() == "#"
        elif _ROW_START.match(line):
            rows.append((number, line))
    return rows


def _cells(line: str) -> list[tuple[str, int]] | None:
    """A row's four cells between its unescaped `|`, each with the offset where it starts
    (None unless it has four and nothing after the last `|`)."""
    pipes = [m.start() for m in _PIPE.finditer(line)]
    if len(pipes) != 5 or line[pipes[-1] + 1 :].strip():
        return None
    return [(line[a + 1 : b], a + 1) for a, b in pairwise(pipes)]


def rule_names(name: str, stage: str | None = None, part: str | None = None) -> set[str]:
    """The names a ledger may give a declaration (`name`, and `stage.name` for a stage's own) or
    one of its classes, arms or steps (`name.part`, `stage.name.part`)."""
    bases = {name, f"{stage}.{name}"} if stage else {name}
    return bases if part is None else {f"{base}.{part}" for base in bases}


def _row(source: SourceText, number: int, line: str, found: list[Diagnostic]) -> Row | None:
    cells = _cells(line)
    if cells is None:
        found.append(
            source.diagnostic(
                "E713",
                "this row does not have its four cells: number, words, rules, how",
                Span(number, 1, number, len(line) + 1),
                f"write it as {ROW_EXAMPLE}",
            )
        )
        return None
    spans = [_cell(raw, start, number) for raw, start in cells]
    index, words, names, how = (raw.strip().replace("\\|", "|") for raw, _ in cells)
    kind = next((h for h in HOW if how == h or how.startswith(f"{h} — ")), None)
    if kind is None:
        close = did_you_mean(how.split(" — ")[0], HOW)
        found.append(
            source.diagnostic(
                "E713",
                f"row {index} does not say how the file has its sentence: `{how}`",
                spans[3],
                (f"{close} " if close else "")
                + "the last cell is `as written`, `reading — <what the file fixes>` or "
                "`not encoded — <why>`",
            )
        )
        return None
    if kind != "as written" and len(how[len(kind) + 3 :].strip()) < SHORTEST_WHY:
        found.append(
            source.diagnostic(
                "E713",
                f"row {index}: `{kind}` does not say {_WHY[kind]}",
                spans[3],
                f"write `{kind} — <{_WHY[kind]}>`",
            )
        )
    named = tuple(
        (m[1], Span(number, spans[2].column + m.start(), number, spans[2].column + m.end()))
        for m in _NAME.finditer(names)
    )
    _check_names_cell(source, index, names, named, kind, spans[2], found)
    note = how[len(kind) :].removeprefix(" — ").strip()
    return Row(int(index), _unquoted(words), named, kind, number, spans[1], note)


def _unquoted(words: str) -> str:
    """The words without a pair of quotation marks around them all (“3”是指… keeps its own)."""
    if len(words) > 1 and _QUOTES.get(words[0]) == words[-1]:
        return words[1:-1].strip()
    return words


_WHY = {"reading": "what the file fixes", "not encoded": "why not"}


def _check_names_cell(
    source: SourceText,
    index: str,
    names: str,
    named: tuple[tuple[str, Span], ...],
    kind: str,
    span: Span,
    found: list[Diagnostic],
) -> None:
    if not named and names != _NONE:
        found.append(
            source.diagnostic(
                "E714",
                f"row {index}: the rules are not named in backticks: `{names}`",
                span,
                "name each rule of the file in backticks, `rule`, `stage.rule`, separated by "
                "commas, or write — when the file has none",
            )
        )
    elif kind == "not encoded" and named:
        found.append(
            source.diagnostic(
                "E714",
                f"row {index} is not encoded but names {counted(len(named), 'rule')}",
                span,
                "write — in place of the rules, or say how the file has the sentence: "
                "`as written` or `reading — <what the file fixes>`",
            )
        )
    elif kind != "not encoded" and not named:
        found.append(
            source.diagnostic(
                "E714",
                f"row {index} is `{kind}` but names no rule of the file",
                span,
                "name the rules that encode it in backticks, or write "
                "`not encoded — <why>` in the last cell",
            )
        )


def _check_numbers(
    source: SourceText, numbered: list[tuple[int, str]], found: list[Diagnostic]
) -> None:
    """The rows (lines opening `| <number> |`) numbered 1…n in order; the first out of order
    reported."""
    if not numbered:
        found.append(
            source.diagnostic(
                "E712",
                "the ledger has no rows",
                Span(1, 1, 1, 2),
                f"list the document's sentences, one a row: {ROW_EXAMPLE}",
            )
        )
        return
    for expected, (line, text) in enumerate(numbered, start=1):
        match = _ROW_START.match(text)
        assert match is not None
        if int(match[1]) != expected:
            found.append(
                source.diagnostic(
                    "E712",
                    f"row {match[1]} stands where row {expected} is expected",
                    Span(line, match.start(1) + 1, line, match.end(1) + 1),
                    f"number the rows 1, 2, 3… in order: this one is {expected}",
                )
            )
            return


def _versions(
    ledger: Ledger, source: SourceText, folder: Folder, found: list[Diagnostic]
) -> list[Resolved] | None:
    """The versions the ledger covers, resolved (None when one of them does not read)."""
    here = ledger.path.parent.resolve()
    files = {Path(real).name: file for real, file in folder.files if Path(real).parent == here}
    unreadable = {name for _, name in folder.unreadable}
    versions = []
    ok = True
    for name, span in ledger.policies:
        given = PurePath(name)
        if given.name in unreadable:
            ok = False
        elif given.name not in files or not _names(name, given.name, here):
            known = sorted(n for n in files if n.endswith(SUFFIX))
            close = did_you_mean(given.name, known)
            found.append(
                _header(
                    source,
                    f"names `{name}`, which is no version of {ledger.path.parent}",
                    span,
                    (f"{close} " if close else "")
                    + f"name a version of the ledger's folder: {', '.join(known) or 'none'}",
                )
            )
            ok = False
        else:
            versions.append(resolve(files[given.name], folder))
    if not ok or not versions or any(v.base_missing for v in versions):
        return None  # E701 or the version's own check says why
    return versions


def _check_names(
    ledger: Ledger, source: SourceText, versions: list[Resolved], found: list[Diagnostic]
) -> None:
    names = set().union(*(declared(v) for v in versions))
    for row in ledger.rows:
        for name, span in row.names:
            if name not in names:
                close = did_you_mean(name, names)
                found.append(
                    source.diagnostic(
                        "E715",
                        f"row {row.number} names `{name}`, which no version it covers declares",
                        span,
                        (f"{close} " if close else "")
                        + "name a parameter, table, definition or stage of the file, a stage's "
                        "own as `stage.name`, a class, arm or step as `name.part`",
                    )
                )


def _check_document(
    ledger: Ledger,
    source: SourceText,
    versions: list[Resolved],
    sources: SourceFolders,
    found: list[Diagnostic],
) -> dict[Outcome, int] | None:
    """E711 for a document none of the versions declares; else each row's words looked up in
    its text (E716), W710 once when the text is not available."""
    if ledger.document is None:
        return None
    name, span = ledger.document
    documents: dict[str, Entry] = {}
    for version in versions:
        documents.update(document_entries(version))
    documents.pop("", None)
    if name not in documents:
        close = did_you_mean(name, documents)
        listed = ", ".join(f"`{t}`" for t in sorted(documents)) or "none: give one a `text`"
        found.append(
            source.diagnostic(
                "E711",
                f"`Document: {name}` is not the text of a document the versions declare",
                span,
                (f"{close} " if close else "") + f"the documents' texts are {listed}",
            )
        )
        return None
    text = _text(documents[name], sources, source, span, len(ledger.rows), found)
    if text is None:
        return {"verified": 0, "not_found": 0, "unverifiable": len(ledger.rows)}
    missing = [row for row in ledger.rows if quotes.find(row.words, text) is None]
    for row in missing:
        closest = quotes.closest(row.words, text) if row.words else None
        found.append(
            source.diagnostic(
                "E716",
                f"row {row.number}: these are not the words of the document ({text.path.name})",
                row.words_span,
                (
                    f"the closest sentence of the document: “{closest}” — copy its words"
                    if closest
                    else "copy the document's own words"
                )
                + " (white space and the width of punctuation do not matter; …… joins parts)",
            )
        )
    return {
        "verified": len(ledger.rows) - len(missing),
        "not_found": len(missing),
        "unverifiable": 0,
    }


def _text(
    document: Entry,
    sources: SourceFolders,
    source: SourceText,
    span: Span,
    rows: int,
    found: list[Diagnostic],
) -> DocumentText | None:
    """The document's text, looked up as its quotes are (`citations.document_text`: the
    policy's `sources/`, then `--sources`, then DRGPOLICY_SOURCES); W710 when it is not
    available."""
    text = document_text(document, sources)
    if text.text is not None:
        return text.text
    name = document.decl.value("text") if isinstance(document.decl, a.Document) else None
    unchecked = f"its {counted(rows, 'sentence')} {'is' if rows == 1 else 'are'} not checked"
    if text.missing == "not found":
        message = f"the text `{name}` is not found: {unchecked}"
        hint = searched_hint(name or "", text.folders)
    else:
        message = f"the text `{name}` cannot be read: {unchecked}"
        hint = f"{text.missing}; save it as UTF-8 text"
    found.append(source.diagnostic("W710", message, span, hint))
    return None


def _names(given: str, file: str, here: Path) -> bool:
    """Whether a `Policy:` line's path names the version `file` of the folder `here`: the same
    name, the path before it (for the reader) that folder's name or nothing."""
    path = PurePath(given)
    return path.name == file and path.parent.name in ("", here.name)


def _cell(raw: str, offset: int, line: int) -> Span:
    """Where a cell's text stands, white space around it left out (1-based columns)."""
    start = offset + len(raw) - len(raw.lstrip()) + 1
    return Span(line, start, line, start + max(len(raw.strip()), 1))


def _header(source: SourceText, what: str, span: Span, hint: str | None = None) -> Diagnostic:
    return source.diagnostic(
        "E710",
        f"the ledger {what}",
        span,
        hint
        or "open the ledger with a line Document: `<the document's text file>` and a line "
        "Policy: `policies/<city>/<version>.policy` for each version it covers",
    )


def counted(n: int, noun: str) -> str:
    """`1 row`, `44 rows`."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


__all__ = [
    "HOW",
    "LEDGER",
    "Ledger",
    "LedgerCheck",
    "Row",
    "check_ledger",
    "counted",
    "declared",
    "document_entries",
    "ledger_of",
    "read_ledger",
    "readable_ledger",
    "rule_names",
]

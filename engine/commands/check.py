"""`drgpolicy check PATH…`: check policy files and report every problem they have, at once.

    drgpolicy check policies                     # every city, every version
    drgpolicy check policies/xuancheng/2024.policy
    drgpolicy check --json policies              # diagnostics as JSON, for tools
    drgpolicy check --sources ../shared/sources policies   # quotes against the documents

Each PATH is a `.policy` file or a folder (every `*.policy` under it, recursively). Each
diagnostic goes to stderr once, even when several files surface it (checking a version also
checks its base versions); then one summary line per file goes to stdout. The exit code is 0
when no diagnostic is an error (warnings are allowed) and 1 otherwise. A syntax error is a
diagnostic like the others.

Every quote (`source <doc> "…"`) is looked up in its document's text, searched for in the policy's
`sources/` folder, then in each `--sources DIR`, then in the folders of `DRGPOLICY_SOURCES`: a
quote not found is error E137, a document whose text is not available warning W130 (once). The
summary line of a file counts its quotes verified, not found and unverifiable.

For each city folder checked clean, the versions' effective periods are checked too: a gap
between them is warning W702, an overlap error E707; each counts in the summary line of the file
it points at.

The folder of each file checked is searched for the city's fidelity ledger (条文对照表,
`fidelity.md`; a PATH may also name one alone): its header, rows, the rules it names and every
sentence against the document's text, found as the quotes' are (E710–E716, W710 once when the
text is not available; see `policy_dsl.check.ledger`). The ledger has its own summary line, after
its folder's files, counting its rows and how its sentences fared. A folder without a ledger has
none to check and no line: a ledger is optional, written when a city signs off its document.

Other code calls `check_paths` (every diagnostic, each once) or `check_files` (per file).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from policy_dsl import versions
from policy_dsl.check import check_path
from policy_dsl.check.citations import Outcome
from policy_dsl.check.ledger import LEDGER, counted, ledger_of, readable_ledger
from policy_dsl.diagnostics import Diagnostic, PolicyErrors, sort_diagnostics
from policy_dsl.errors import PolicyError
from policy_dsl.loader import SUFFIX, Folder, read_folder
from policy_dsl.sources import ENV, SourceFolders, source_folders
from policy_dsl.versions import check_timeline, load_city


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        description="Check policy files and print every problem found, each once, with its "
        "place, a caret under it and a hint. Exit code 1 when any problem is an error.",
    )
    parser.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="a .policy file, or a folder to search for them (e.g. policies)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the diagnostics as a JSON list to stdout"
    )
    add_sources_argument(parser)
    parser.set_defaults(run=run)


def add_sources_argument(parser: argparse.ArgumentParser, what_for: str = "") -> None:
    """`--sources DIR` (repeatable): where the documents' texts are, after the policy's own
    `sources/` folder and before those of `DRGPOLICY_SOURCES`."""
    parser.add_argument(
        "--sources",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="a folder holding documents' texts (repeatable); searched after the policy's "
        f"sources/ folder, before the folders of {ENV}{what_for}",
    )


def sources_of(args: argparse.Namespace) -> SourceFolders:
    """The search path of documents' texts from `--sources` and `DRGPOLICY_SOURCES`; a folder
    given that is not there is an error."""
    for folder in args.sources:
        if not folder.is_dir():
            raise PolicyError(f"--sources {folder}: no such folder")
    return source_folders(args.sources)


@dataclass(frozen=True)
class FileReport:
    """What checking one file found: its own diagnostics, those of its base versions and those
    of its city's timeline located in it."""

    path: Path
    diagnostics: tuple[Diagnostic, ...]
    #: its quotes checked against their documents, by outcome (None when not checked); for a
    #: ledger, its sentences
    quotes: dict[Outcome, int] | None = None
    #: for a ledger, how many rows it has (None for a policy file)
    rows: int | None = None

    @property
    def errors(self) -> int:
        return sum(d.severity == "error" for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return sum(d.severity == "warning" for d in self.diagnostics)

    def summary(self) -> str:
        """`policies/xuancheng/2024.policy: ok (0 errors, 1 warning)`."""
        status = "failed" if self.errors else "ok"
        counts = f"{counted(self.errors, 'error')}, {counted(self.warnings, 'warning')}"
        elsewhere = [d for d in self.diagnostics if not _in_file(d, self.path)]
        if elsewhere:
            files = ", ".join(dict.fromkeys(d.file for d in elsewhere))
            counts += f"; {len(elsewhere)} of them in {files}"
        if self.rows is not None:
            return f"{self.path}: {status} ({counts}); {counted(self.rows, 'row')}{self._quotes()}"
        return f"{self.path}: {status} ({counts}){self._quotes()}"

    def _quotes(self) -> str:
        """`; quotes: 12 verified, 1 not found, 3 unverifiable` (nothing without quotes); for
        a ledger `, sentences: …`."""
        if not self.quotes or not sum(self.quotes.values()):
            return ""
        shown = ", ".join(f"{n} {outcome.replace('_', ' ')}" for outcome, n in self.quotes.items())
        return f", sentences: {shown}" if self.rows is not None else f"; quotes: {shown}"


def policy_files(paths: Iterable[Path]) -> list[Path]:
    """The policy files named by `paths`: a file as given, a folder searched recursively."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.rglob(f"*{SUFFIX}") if p.is_file())
            if not inside:
                raise PolicyError(f"no {SUFFIX} files under {path}")
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        else:
            raise PolicyError(f"no such file or folder: {path}")
    return list(dict.fromkeys(found))


def check_file(
    path: Path, sources: SourceFolders | None = None, folder: Folder | None = None
) -> FileReport:
    """Every diagnostic of one file (and of its base versions, looked up in `folder` when
    given), a syntax error being one of them; given `sources`, its quotes are looked up in
    their documents and counted."""
    try:
        checked = check_path(path, sources, folder)
    except PolicyErrors as exc:
        return FileReport(path, tuple(exc.diagnostics))
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read {path}: {exc}") from None
    tally = checked.citations.tally(path) if checked.citations is not None else None
    return FileReport(path, tuple(checked.diagnostics), tally)


def check_files(paths: Iterable[Path], sources: SourceFolders | None = None) -> list[FileReport]:
    """One report per policy file named by `paths` (see `policy_files`); each folder is read
    once for all its files."""
    files = policy_files(paths)
    folders = {folder: read_folder(folder) for folder in dict.fromkeys(p.parent for p in files)}
    return [check_file(path, sources, folders[path.parent]) for path in files]


def unique(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Each diagnostic once (the same file reached by two spellings counts as one), in reading
    order."""
    seen: dict[tuple[object, ...], Diagnostic] = {}
    for d in diagnostics:
        key = (Path(d.file).resolve(), d.span, d.code, d.message)
        seen.setdefault(key, d)
    return sort_diagnostics(seen.values())


def check_paths(paths: Iterable[Path], sources: SourceFolders | None = None) -> list[Diagnostic]:
    """Every diagnostic of the policy files named by `paths`, each once, in reading order."""
    return unique(d for report in check_files(paths, sources) for d in report.diagnostics)


def timeline_diagnostics(reports: Sequence[FileReport]) -> list[Diagnostic]:
    """Gaps (W702) and overlaps (E707) between the effective periods of each city's versions,
    for every city folder whose files all check without errors."""
    folders = dict.fromkeys(report.path.parent for report in reports)
    found: list[Diagnostic] = []
    for folder in folders:
        if any(r.errors for r in reports if r.path.parent == folder):
            continue
        reported = {r.path.resolve() for r in reports if r.path.parent == folder}
        every_file_checked = reported >= {p.resolve() for p in versions.policy_files(folder)}
        try:
            # files checked here are not checked and compiled again for their dates
            found += check_timeline(load_city(folder, compile_versions=not every_file_checked))
        except PolicyError:
            continue  # a sibling file outside the paths does not check; its own run says why
    return found


def with_timeline(
    reports: Sequence[FileReport], timeline: Sequence[Diagnostic]
) -> list[FileReport]:
    """Each report with the timeline diagnostics (W702, E707) located in its file added."""
    return [
        replace(r, diagnostics=(*r.diagnostics, *(d for d in timeline if _in_file(d, r.path))))
        for r in reports
    ]


def with_ledgers(
    reports: Sequence[FileReport], sources: SourceFolders, alone: Iterable[Path] = ()
) -> list[FileReport]:
    """`reports` with, after the last file of each folder, the report of the folder's ledger
    (when it has one); then those of the ledgers named `alone`."""
    last = {r.path.parent.resolve(): r for r in reports}
    ledgers = {f: p for f, r in last.items() if (p := ledger_of(r.path.parent)) is not None}
    ledgers |= {f: p for p in alone if (f := p.parent.resolve()) not in ledgers}
    out: list[FileReport] = []
    for report in reports:
        out.append(report)
        folder = report.path.parent.resolve()
        if last[folder] is report and folder in ledgers:
            out.append(_ledger_report(ledgers.pop(folder), sources))
    return out + [_ledger_report(p, sources) for p in ledgers.values()]


def _ledger_report(path: Path, sources: SourceFolders) -> FileReport:
    checked = readable_ledger(path, sources)
    return FileReport(path, tuple(checked.diagnostics), checked.sentences, len(checked.ledger.rows))


def run(args: argparse.Namespace) -> int:
    sources = sources_of(args)
    alone = [p for p in args.paths if p.name == LEDGER and p.is_file()]
    paths = [p for p in args.paths if p not in alone]
    files = check_files(paths, sources)
    timeline = timeline_diagnostics(files)
    reports = with_ledgers(with_timeline(files, timeline), sources, alone)
    diagnostics = unique([*(d for report in reports for d in report.diagnostics), *timeline])
    if args.json:
        print(json.dumps([d.to_json() for d in diagnostics], ensure_ascii=False, indent=2))
    else:
        _print_text(reports, diagnostics)
    return 1 if any(d.severity == "error" for d in diagnostics) else 0


def _print_text(reports: Sequence[FileReport], diagnostics: Sequence[Diagnostic]) -> None:
    for d in diagnostics:
        print(d.render() + "\n", file=sys.stderr)
    for report in reports:
        print(report.summary())


def _in_file(d: Diagnostic, path: Path) -> bool:
    return Path(d.file).resolve() == path.resolve()

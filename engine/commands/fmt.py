"""`drgpolicy fmt FILE…`: rewrite policy files in the canonical layout, comments kept.

    drgpolicy fmt policies/xuancheng/2024.policy   # rewrite in place
    drgpolicy fmt --check policies                 # rewrite nothing; exit 1 if any would change
    drgpolicy fmt --diff policies                  # rewrite nothing; print what would change

A FILE may also be a folder (every `*.policy` under it). A file is rewritten atomically (a
temporary file in the same folder, then `os.replace`), so a reader never sees half a file. A
file with a syntax error is reported on stderr and left untouched; the exit code is then 1.
A file that starts with a UTF-8 byte-order mark (as Windows Notepad saves) is read as usual and
written back without it; a file whose lines end with CR LF (Windows) or a lone CR (classic Mac),
or a mix, is read with every one of them a line end, as `drgpolicy check` reads it, and written
back with LF. `--check` lists either as not formatted. When every file is formatted already,
stderr says so.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from engine.commands.check import policy_files
from engine.run.atomic import write_file_atomically
from policy_dsl.diagnostics import PolicyErrors
from policy_dsl.errors import PolicyError
from policy_dsl.format import format_policy
from policy_dsl.parser import parse

Outcome = Literal["unchanged", "changed", "broken"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "fmt",
        description="Rewrite policy files in the canonical layout (comments and blank lines "
        "kept). With --check or --diff, nothing is rewritten.",
    )
    parser.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="a .policy file, or a folder to search for them",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="rewrite nothing; list the files that are not formatted and exit 1 if any",
    )
    parser.add_argument(
        "--diff", action="store_true", help="rewrite nothing; print a unified diff per file"
    )
    parser.set_defaults(run=run)


@dataclass(frozen=True)
class Formatted:
    """A file's text before and after formatting (`after` is None when it does not parse)."""

    path: Path
    before: str
    after: str | None

    @property
    def outcome(self) -> Outcome:
        if self.after is None:
            return "broken"
        return "unchanged" if self.after == self.before else "changed"

    def diff(self) -> str:
        """Unified diff from the file to its formatted text."""
        lines = difflib.unified_diff(
            self.before.splitlines(keepends=True),
            (self.after or "").splitlines(keepends=True),
            fromfile=str(self.path),
            tofile=f"{self.path} (formatted)",
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def format_file(path: Path) -> Formatted:
    """The canonical text of one file; its diagnostics go to stderr if it does not parse."""
    before = read_text(path)
    try:
        tree = parse(before, str(path))
    except PolicyErrors as exc:
        for d in exc.diagnostics:
            print(d.render() + "\n", file=sys.stderr)
        return Formatted(path, before, None)
    after = format_policy(tree, before)
    if parse(after, str(path)) != tree:
        raise PolicyError(
            f"{path}: the formatter would change what the policy means; left untouched "
            "(this is a bug in drgpolicy fmt, please report it)"
        )
    return Formatted(path, before, after)


def read_text(path: Path) -> str:
    """A file's text exactly as stored (line endings included), so `--check` sees CR LF."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read {path}: {exc}") from None


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` by `text` in one step, its permissions kept (`engine.run.atomic`)."""
    write_file_atomically(path, text)


def run(args: argparse.Namespace) -> int:
    results = [format_file(path) for path in policy_files(args.paths)]
    for result in results:
        if result.outcome == "changed":
            _act_on(result, args)
    if all(r.outcome == "unchanged" for r in results):
        what = str(results[0].path) if len(results) == 1 else f"all {len(results)} files"
        print(f"already formatted: {what}; nothing to rewrite", file=sys.stderr)
    broken = any(r.outcome == "broken" for r in results)
    unformatted = args.check and any(r.outcome == "changed" for r in results)
    return 1 if broken or unformatted else 0


def _act_on(result: Formatted, args: argparse.Namespace) -> None:
    """Show (`--diff`), list (`--check`) or rewrite a file that is not formatted."""
    if args.diff:
        sys.stdout.write(result.diff())
    if args.check:
        print(f"not formatted: {result.path}")
    if not (args.check or args.diff):
        try:
            write_atomically(result.path, result.after or "")
        except OSError as exc:
            raise PolicyError(f"cannot write {result.path}: {exc}") from None
        print(f"formatted: {result.path}")

"""The golden diagnostics under `tests/golden/diagnostics/`: one bad policy per code.

A case is `<CODE>.policy`, or a folder `<CODE>/` holding a version and its base (E701–E707,
W702, and the ledger's E710–E716, W710); a folder whose files check is also checked as one city's
timeline (E707, W702), and a folder's `fidelity.md` as its ledger, as `drgpolicy check` does.
The file that is checked opens with comments stating what the checker must report:

    # expect: E201 line 13 column 54 words: "case value" "computed at hospital"
    # also: W101 line 9 column 1
    #
    # What the code means, in plain words (this text goes to docs/diagnostics.md).

`expect` is the one diagnostic the file is about; `also` lines list any other diagnostic it
may report (exactly those, no more). `in <file>` after the code names another file of the
folder, for a diagnostic located in the base version. Words are quoted, `\\"` for a quote.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

from policy_dsl.check import check_path
from policy_dsl.check.ledger import check_ledger, ledger_of
from policy_dsl.diagnostics import Diagnostic, PolicyErrors
from policy_dsl.errors import PolicyError
from policy_dsl.sources import source_folders
from policy_dsl.versions import check_timeline, load_city

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "diagnostics"
#: The documents' texts the golden files quote, given as `drgpolicy check --sources` would be
#: (a file of the folder finds them in its own `sources/` too); the environment is left out.
SOURCES = source_folders([GOLDEN.relative_to(ROOT) / "sources"], environ={})

_LINE = re.compile(
    r"# (?P<kind>expect|also): (?P<code>[EW]\d{3})(?: in (?P<file>\S+))?"
    r" line (?P<line>\d+) column (?P<column>\d+)(?: words: (?P<words>.*))?"
)
_WORD = re.compile(r'"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Expected:
    """One diagnostic a golden file must produce."""

    code: str
    file: str
    line: int
    column: int
    words: tuple[str, ...] = ()

    def matches(self, d: Diagnostic) -> bool:
        return (d.code, Path(d.file).name, d.line, d.column) == (
            self.code,
            self.file,
            self.line,
            self.column,
        )


@dataclass(frozen=True)
class GoldenCase:
    """A golden file with what it must produce and what its code means."""

    path: Path
    expect: Expected
    also: tuple[Expected, ...]
    about: str

    @property
    def code(self) -> str:
        return self.expect.code

    def files(self) -> list[Path]:
        """Every file of the case (one, or the versions of its folder), base versions first."""
        if self.path.parent == GOLDEN:
            return [self.path]
        return sorted(self.path.parent.glob("*.policy"), key=lambda p: (p == self.path, p.name))

    def diagnostics(self) -> list[Diagnostic]:
        """What the checker reports for the file (a syntax error is a diagnostic too), checked
        from the repository root so that paths in messages are the same on every machine."""
        with contextlib.chdir(ROOT):
            try:
                checked = check_path(self.path.relative_to(ROOT), SOURCES)
                return [*checked.diagnostics, *self._timeline(), *self._ledger()]
            except PolicyErrors as exc:
                return list(exc.diagnostics)

    def _timeline(self) -> list[Diagnostic]:
        """Gaps and overlaps between the versions of a folder case whose files all check."""
        if self.path.parent == GOLDEN:
            return []
        try:
            return check_timeline(load_city(self.path.parent.relative_to(ROOT)))
        except PolicyError:
            return []  # a file of the folder does not check: its case is about that

    def _ledger(self) -> list[Diagnostic]:
        """What checking the folder's ledger (`fidelity.md`) finds, when it has one."""
        folder = self.path.parent.relative_to(ROOT)
        ledger = ledger_of(folder) if self.path.parent != GOLDEN else None
        return check_ledger(ledger, SOURCES).diagnostics if ledger is not None else []


def read_case(path: Path) -> GoldenCase:
    """The expectations and explanation at the top of a golden file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or not lines[0].startswith("# expect:"):
        raise ValueError(f"{path}: the first line must be `# expect: …`")
    expected: list[Expected] = []
    about: list[str] = []
    for line in itertools.takewhile(lambda text: text.startswith("#"), lines):
        found = _LINE.fullmatch(line)
        if found:
            expected.append(_expected(found, path))
        elif line.startswith(("# expect:", "# also:")):
            raise ValueError(f"{path}: cannot read {line!r}")
        else:
            about.append(line[1:].strip())
    return GoldenCase(path, expected[0], tuple(expected[1:]), " ".join(w for w in about if w))


def _expected(found: re.Match[str], path: Path) -> Expected:
    words = tuple(w.replace('\\"', '"') for w in _WORD.findall(found["words"] or ""))
    return Expected(
        found["code"],
        found["file"] or path.name,
        int(found["line"]),
        int(found["column"]),
        words,
    )


def golden_cases() -> list[GoldenCase]:
    """Every golden case, by code."""
    paths = [
        p
        for p in sorted(GOLDEN.rglob("*.policy"))
        if p.read_text(encoding="utf-8").startswith("# expect:")
    ]
    return sorted((read_case(p) for p in paths), key=lambda case: case.code)

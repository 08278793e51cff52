"""The editor's buffer (编辑区): checking unsaved text, formatting it, starting a new version.

All of it works on text, without Streamlit, so that it is tested like any other module.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from policy_dsl import ast as a
from policy_dsl.check import Checked, check
from policy_dsl.check.citations import QUOTE_NOT_FOUND, QuoteCheck
from policy_dsl.diagnostics import Diagnostic, PolicyErrors, has_errors
from policy_dsl.format import format_policy
from policy_dsl.loader import SUFFIX, PolicyFile, policy_from_text, resolve
from studio import workspace

ONE_DAY = dt.timedelta(days=1)
#: The studio's own check (not a language code): a file saved in another city's folder.
WRONG_CITY = "S001"
#: A version name that is no plain name (`../x`, an absolute path) could not be saved: the
#: checker's own code (`policy_dsl.names`), repeated beside the Save buttons.
UNSAFE_VERSION = "E140"
_HEADER_VERSION = re.compile(r'^\s*policy\s+\w+\s+version\s+"([^"\n]*)"', re.MULTILINE)


@dataclass
class Analysis:
    """What the checker says of the buffer: the parsed file (None on a syntax error), the
    checked policy (None when it did not parse) and every diagnostic."""

    text: str
    path: str
    file: PolicyFile | None
    checked: Checked | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Parses and has no errors (warnings allowed): what `drgpolicy check` passes, and what
        a version must be to be saved."""
        return self.file is not None and not has_errors(self.diagnostics)

    @property
    def compiles(self) -> bool:
        """Parses and has no errors but quotes not found in their documents (E137): what a
        settlement, a what-if or an explanation needs (citations document a rule, they do not
        change what it pays)."""
        errors = [d for d in self.diagnostics if d.code != QUOTE_NOT_FOUND]
        return self.file is not None and self.checked is not None and not has_errors(errors)

    def passages(self) -> list[QuoteCheck]:
        """The buffer's own quotes found in their documents, each with its passage."""
        if self.checked is None or self.checked.citations is None or self.file is None:
            return []
        mine = self.checked.citations.in_file(self.file.path)
        return [c for c in mine if c.passage is not None]

    def document_title(self, name: str) -> str:
        """The title of a document the buffer (or its base versions) declares."""
        entry = self.checked.scope.documents().get(name) if self.checked else None
        if entry is None or not isinstance(entry.decl, a.Document):
            return name
        return entry.decl.title

    @property
    def version(self) -> str | None:
        return self.file.header.version if self.file else None

    @property
    def city(self) -> str | None:
        return self.file.header.city if self.file else None

    def own_diagnostics(self) -> list[Diagnostic]:
        """The diagnostics located in the buffer itself (those of a base version are about
        another file, at its lines): what the editor marks in the text."""
        return [d for d in self.diagnostics if d.file == self.path]

    def elsewhere(self, diagnostic: Diagnostic) -> str | None:
        """`<city>/<file>` of a diagnostic located in another file than the buffer (a base
        version: its line is that file's), or None for the buffer's own."""
        if diagnostic.file == self.path:
            return None
        located = Path(diagnostic.file)
        return f"{located.parent.name}/{located.name}"

    def counts(self) -> tuple[int, int]:
        errors = sum(d.severity == "error" for d in self.diagnostics)
        return errors, len(self.diagnostics) - errors


def analyse(text: str, root: Path, city: str, fallback_version: str = "new") -> Analysis:
    """Parse and check the buffer as version `<root>/<city>/<its version>.policy`, its base
    versions looked up among the city's saved files (the one it replaces left out), its quotes
    looked up in their documents' texts (`workspace.sources`) as `drgpolicy check` does."""
    version = header_version(text) or fallback_version
    if not workspace.is_safe_name(version):  # E140 says why; the path is only a label
        version = fallback_version
    path = str(Path(root.name) / city / f"{version}{SUFFIX}")
    try:
        file = policy_from_text(text, path)
    except PolicyErrors as exc:
        return Analysis(text, path, None, None, exc.diagnostics)
    others = workspace.siblings(root, city, file.header.version)
    checked = check(resolve(file, others), workspace.sources(root, city))
    diagnostics = list(checked.diagnostics)
    if file.header.city != city:
        diagnostics.insert(0, _wrong_city(file, city))
    return Analysis(text, path, file, checked, diagnostics)


def _wrong_city(file: PolicyFile, city: str) -> Diagnostic:
    return file.source.diagnostic(
        WRONG_CITY,
        f"this file says `policy {file.header.city}` but it is edited in the folder of `{city}`",
        file.header.span,
        f"write `policy {city}`, or open the city `{file.header.city}`",
    )


def header_version(text: str) -> str | None:
    """The version named in the header, read even when the rest does not parse."""
    match = _HEADER_VERSION.search(text)
    return match.group(1) if match else None


def format_text(text: str) -> str:
    """The canonical layout of the buffer; raises `PolicyErrors` when it does not parse."""
    return format_policy(policy_from_text(text).tree, text)


# ---- a new version --------------------------------------------------------------------------


def next_version_name(version: str, taken: set[str]) -> str:
    """The name after `version`: `2024` → `2025`, `2024-2` → `2024-3`, else `<name>-2`; never
    one already taken."""
    match = re.fullmatch(r"(.*?)(\d+)", version)
    if match:
        prefix, number = match.groups()
        candidate = f"{prefix}{int(number) + 1:0{len(number)}d}"
    else:
        candidate = f"{version}-2"
    while candidate in taken:
        candidate = next_version_name(candidate, set())
    return candidate


def base_in_force(files: list[PolicyFile], today: dt.date) -> PolicyFile:
    """The version in force on `today`, or else the latest to take effect."""
    dated = [f for f in files if f.header.effective_from is not None]
    ordered = sorted(dated, key=lambda f: (f.header.effective_from, f.header.version))
    for file in reversed(ordered):
        start, end = file.header.effective_from, file.header.effective_to
        assert start is not None
        if start <= today and (end is None or today <= end):
            return file
    return ordered[-1]


def new_version_text(base: PolicyFile, taken: set[str]) -> tuple[str, str]:
    """A new version extending `base`: its name and a header prefilled with `extends`, the next
    name and a start after the base (the day after its end, or a year after its start)."""
    header = base.header
    version = next_version_name(header.version, taken)
    start = _start_after(header)
    title = f"{header.title or header.city}（{version} 修订）"
    text = (
        f'policy {header.city} version "{version}"\n'
        f"  title {_quoted(title)}\n"
        f"  effective {start.isoformat()}\n"
        f'  extends "{header.version}"\n'
        f"  method {header.method or 'points'}\n"
        "\n"
        f"# 在 {header.version} 版基础上修改的条款写在这里：用 override 改写已有的声明，\n"
        "# 例如把一个参数的新值连同出处写成\n"
        '#   override param low_ratio_grassroots "…" : ratio = 35%\n'
        '#     source <文件> "<条款原文>"\n'
    )
    return version, text


def _start_after(header: a.Header) -> dt.date:
    if header.effective_to is not None:
        return header.effective_to + ONE_DAY
    start = header.effective_from or dt.date.today()
    try:
        return start.replace(year=start.year + 1)
    except ValueError:  # 29 February
        return start + dt.timedelta(days=365)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


__all__ = [
    "UNSAFE_VERSION",
    "WRONG_CITY",
    "Analysis",
    "analyse",
    "base_in_force",
    "format_text",
    "new_version_text",
    "next_version_name",
]

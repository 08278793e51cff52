"""Reading policy files and resolving `extends` and `include`: a version is the declarations of the
library modules it (or a base) includes, then its base's, with its own overrides and additions
applied, stage by stage.

Problems with `extends` are diagnostics (E701–E706), with `include` E160, collected with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path

from policy_dsl import ast as a
from policy_dsl.diagnostics import Diagnostic, PolicyErrors, SourceText
from policy_dsl.errors import PolicyError
from policy_dsl.parser import normalize_text, parse

SUFFIX = ".policy"


@dataclass(frozen=True)
class PolicyFile:
    """One parsed file: its path, text and tree."""

    path: Path
    text: str
    tree: a.Policy

    @cached_property
    def source(self) -> SourceText:
        """The text for diagnostics' excerpts: one per file, split into lines once."""
        return SourceText(self.text, str(self.path))

    @property
    def header(self) -> a.Header:
        return self.tree.header


#: The longest policy file read: a hundred times the largest shipped one, which a file of another
#: kind given by mistake (a data file, a disk image) exceeds before it fills the memory.
MAX_CHARACTERS = 2_000_000


class PolicyFileError(PolicyError):
    """A policy file that cannot be read (missing, a folder, not readable, not UTF-8)."""


def read_policy_file(path: Path | str) -> PolicyFile:
    """Parse one file (UTF-8, with or without a byte-order mark, any line endings); raises
    `PolicyFileError` if it cannot be read, `PolicyErrors` on a syntax error. The file is read
    each time; its text is parsed once per process (`_parsed`)."""
    path = Path(path)
    if path.exists() and not path.is_file() and not path.is_dir():
        raise PolicyFileError(
            f"cannot read policy file {path}: it is not a file but a device or a pipe, which "
            "may never end (/dev/zero): give a .policy file"
        )
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            text = handle.read(MAX_CHARACTERS + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyFileError(f"cannot read policy file {path}: {_why(path, exc)}") from None
    if len(text) > MAX_CHARACTERS:
        raise PolicyFileError(
            f"cannot read policy file {path}: it is longer than {MAX_CHARACTERS:,} characters "
            "(the largest shipped policy has about 22,000): not a policy"
        )
    return _parsed(path, normalize_text(text))


@lru_cache(maxsize=1024)
def _parsed(path: Path, text: str) -> PolicyFile:
    """A file's text parsed, kept for the next read of the same text: checking each version of
    a city reads every other version of its folder (`resolve`), which without this would parse
    n versions n times. Keyed by the text read, so an edited file is parsed again; the tree is
    immutable, so sharing it is safe. 1,024 files: more than any city has versions."""
    return PolicyFile(path, text, parse(text, str(path)))


def _why(path: Path, exc: OSError | UnicodeDecodeError) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "it is not UTF-8 text (save it as UTF-8)"
    if isinstance(exc, FileNotFoundError):
        return "no such file (`drgpolicy versions policies/<city>` lists a city's versions)"
    if isinstance(exc, IsADirectoryError):
        return f"it is a folder: give a .policy file in it, e.g. {path / '2024.policy'}"
    return exc.strerror or str(exc)


def policy_from_text(text: str, path: str = "<editor>") -> PolicyFile:
    """A file that exists only as text (the studio's editor buffer)."""
    text = normalize_text(text)
    return PolicyFile(Path(path), text, parse(text, path))


@dataclass(frozen=True)
class Entry:
    """A declaration in force in a resolved version, with its stage and the file it came from."""

    stage: str | None
    decl: a.Declaration
    file: PolicyFile


@dataclass(frozen=True)
class StageInfo:
    """A stage's header, from the newest file that declares it."""

    name: str
    label: str
    period: str
    node: a.Stage
    file: PolicyFile


@dataclass
class Resolved:
    """A version with `extends` applied: everything in force, each with its origin."""

    top: PolicyFile
    chain: list[PolicyFile]
    entries: list[Entry]
    stages: list[StageInfo]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: the library modules taken in (`include`), in the order their declarations apply
    modules: list[PolicyFile] = field(default_factory=list)

    @property
    def header(self) -> a.Header:
        return self.top.header

    def files(self) -> list[PolicyFile]:
        return self.chain

    @property
    def base_missing(self) -> bool:
        """Whether the oldest version found extends one that is not there (E701, E705)."""
        wanted = self.chain[0].header.extends
        return wanted is not None and all(f.header.version != wanted for f in self.chain)


def resolve(top: PolicyFile, siblings: list[PolicyFile] | Folder | None = None) -> Resolved:
    """Apply the `extends` chain of `top`; base versions are looked up among `siblings` (by
    default the other `.policy` files of the same folder, read now; a `Folder` read once serves
    every version of a city)."""
    if siblings is None:
        siblings = read_folder(top.path.parent) if top.header.extends is not None else []
    unreadable = siblings.unreadable_besides(top) if isinstance(siblings, Folder) else []
    others = siblings.others(top) if isinstance(siblings, Folder) else siblings
    diagnostics: list[Diagnostic] = []
    chain = _chain(top, [top, *others], diagnostics, unreadable)
    modules = _modules(chain, diagnostics, siblings.modules if isinstance(siblings, Folder) else {})
    entries: list[Entry] = []
    places: dict[Place, int] = {}
    stages: list[StageInfo] = []
    files = [*modules, *chain]
    for file, base in zip(files, [None, *files[:-1]], strict=True):
        _apply(file, base, _Entries(entries, places), stages, diagnostics)
    return Resolved(top, chain, entries, stages, diagnostics, modules)


def _modules(
    chain: list[PolicyFile], out: list[Diagnostic], read: dict[str, PolicyFile]
) -> list[PolicyFile]:
    """The library modules the files of `chain` include, each once, oldest file's first (taken
    from `read`, the modules read before for the same folder, or read now and kept there); a
    module that is not in the library, or does not parse, is reported (E160, or its own syntax
    error)."""
    from policy_dsl.library import module_names, module_path

    found: dict[str, PolicyFile] = {}
    for file in chain:
        for name in file.header.includes:
            if name in found:
                continue
            path = module_path(name)
            if path is None:
                known = ", ".join(f'"{n}"' for n in module_names()) or "none"
                out.append(
                    _at_header(
                        file,
                        "E160",
                        f'`include "{name}"`: the library has no module "{name}"',
                        f"modules: {known} (policy_dsl/library/)",
                    )
                )
                continue
            try:
                module = read.get(name) or read_policy_file(path)
            except PolicyErrors as exc:
                out += exc.diagnostics
                continue
            read[name] = module
            if not module.header.library:
                out.append(
                    _at_header(module, "E160", f"{path.name} is not a library module", _MODULE)
                )
                continue
            found[name] = module
    return list(found.values())


_MODULE = 'a module starts `library <name> version "…"`'


@dataclass(frozen=True)
class Folder:
    """The policy files of one folder, each read once: checking every version of a city
    resolves each against all the others, and reading the folder again for each would make
    that quadratic in files read. Holds the files that parse and the names of those that do
    not (their own check says why), each with its path resolved once (as text: compared for
    every pair of versions), and the library modules they include, read once for them all."""

    files: tuple[tuple[str, PolicyFile], ...]
    unreadable: tuple[tuple[str, str], ...]
    #: the library modules read for the versions resolved so far, by name
    modules: dict[str, PolicyFile] = field(default_factory=dict, compare=False)

    def others(self, top: PolicyFile) -> list[PolicyFile]:
        """The files that parse, `top`'s own file left out."""
        here = str(top.path.resolve())
        return [file for real, file in self.files if real != here]

    def unreadable_besides(self, top: PolicyFile) -> list[str]:
        """The names of the files that do not parse, `top`'s own file left out."""
        here = str(top.path.resolve())
        return [name for real, name in self.unreadable if real != here]


def read_folder(folder: Path) -> Folder:
    """Every `.policy` file of `folder`, by name."""
    files, unreadable = [], []
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        try:
            files.append((str(path.resolve()), read_policy_file(path)))
        except Exception:
            unreadable.append((str(path.resolve()), path.name))
    return Folder(tuple(files), tuple(unreadable))


def _chain(
    top: PolicyFile, pool: list[PolicyFile], out: list[Diagnostic], unreadable: list[str]
) -> list[PolicyFile]:
    """Base-first list of files: [oldest base, …, top]; bases are looked up in `pool`, which
    holds `top` itself so that a loop back to it is found."""
    chain = [top]
    versions = {top.header.version}
    by_version: dict[str, list[PolicyFile]] = {}
    for file in pool:
        by_version.setdefault(file.header.version, []).append(file)
    while (wanted := chain[-1].header.extends) is not None:
        current = chain[-1]
        base = _find_base(current, wanted, by_version.get(wanted, []), pool, out, unreadable)
        if base is None:
            break
        if base.header.version in versions:
            out.append(
                _at_header(
                    current,
                    "E706",
                    f'`extends "{wanted}"` makes a loop of versions',
                    "a version can only extend an older one",
                )
            )
            break
        _check_dates(current, base, out)
        chain.append(base)
        versions.add(base.header.version)
    return list(reversed(chain))


def _find_base(
    current: PolicyFile,
    wanted: str,
    same_version: list[PolicyFile],
    siblings: list[PolicyFile],
    out: list[Diagnostic],
    unreadable: list[str],
) -> PolicyFile | None:
    """The base version `wanted` of `current` among `same_version` (the files of that version
    in the pool), or None with E705 or E701 reported."""
    base = next((f for f in same_version if f.header.city == current.header.city), None)
    if base is not None:
        return base
    if same_version:
        other = same_version[0]
        out.append(
            _at_header(
                current,
                "E705",
                f'`extends "{wanted}"` names a version of `{other.header.city}`, '
                f"not of `{current.header.city}`",
                "a version can only extend a version of the same city",
            )
        )
        return None
    known = sorted(
        {
            f.header.version
            for f in siblings
            if f.header.city == current.header.city and f.header.version != current.header.version
        }
    )
    hint = f"versions found: {', '.join(known) or 'none'}"
    if unreadable:
        hint += f"; {', '.join(unreadable)} could not be read: check it and fix it first"
    out.append(
        _at_header(
            current,
            "E701",
            f'base version "{wanted}" of `{current.header.city}` is not in {current.path.parent}',
            hint,
        )
    )
    return None


def _check_dates(current: PolicyFile, base: PolicyFile, out: list[Diagnostic]) -> None:
    start, base_start = current.header.effective_from, base.header.effective_from
    if start is not None and base_start is not None and start <= base_start:
        out.append(
            _at_header(
                current,
                "E703",
                f'version "{current.header.version}" takes effect on {start}, not after its base '
                f'"{base.header.version}" ({base_start})',
                "a version that extends another must take effect after it",
            )
        )


def _at_header(file: PolicyFile, code: str, message: str, hint: str) -> Diagnostic:
    return file.source.diagnostic(code, message, file.header.span, hint)


#: Where a declaration stands: its stage (None = shared) and name.
Place = tuple[str | None, str]


@dataclass(frozen=True)
class _Entries:
    """The entries in force so far, with the index of each by its place (so that applying a
    version costs the size of the version, not that times the size of its bases)."""

    entries: list[Entry]
    places: dict[Place, int]


def _apply(
    file: PolicyFile,
    base: PolicyFile | None,
    known: _Entries,
    stages: list[StageInfo],
    out: list[Diagnostic],
) -> None:
    for decl in file.tree.items:
        _put(Entry(None, decl, file), base, known, out)
    for stage in file.tree.stages:
        info = StageInfo(stage.name, stage.label, stage.period, stage, file)
        index = next((i for i, s in enumerate(stages) if s.name == stage.name), None)
        if index is None:
            stages.append(info)
        else:
            stages[index] = info
        for decl in stage.items:
            _put(Entry(stage.name, decl, file), base, known, out)


def _put(entry: Entry, base: PolicyFile | None, known: _Entries, out: list[Diagnostic]) -> None:
    decl, entries = entry.decl, known.entries
    index = known.places.get((entry.stage, decl.name))
    if index is not None and entries[index].file is entry.file:
        first = entries[index].decl.span.line
        out.append(
            entry.file.source.diagnostic(
                "E103",
                f"`{decl.name}` is declared twice (first on line {first})",
                decl.span,
                "give one of them another name, or remove it",
            )
        )
        return
    if index is None:
        if decl.override:
            out.append(_override_missing(entry, base, known))
        known.places[(entry.stage, decl.name)] = len(entries)
        entries.append(
            replace(entry, decl=replace(decl, override=False)) if decl.override else entry
        )
        return
    if not decl.override and base is not None:
        out.append(
            entry.file.source.diagnostic(
                "E704",
                f"`{decl.name}` is already declared in {described(entries[index].file)}",
                decl.span,
                f"write `override` before it to replace the base version's `{decl.name}`",
            )
        )
    entries[index] = entry


def described(file: PolicyFile) -> str:
    """`version "2023"`, or `library module "indicators"`."""
    header = file.header
    return f'library module "{header.city}"' if header.library else f'version "{header.version}"'


def _override_missing(entry: Entry, base: PolicyFile | None, known: _Entries) -> Diagnostic:
    from policy_dsl.check.scope import did_you_mean  # the checker imports this module

    inherited = [
        name
        for (stage, name), index in known.places.items()
        if stage == entry.stage and known.entries[index].file is not entry.file
    ]
    close = did_you_mean(entry.decl.name, inherited)
    where = described(base) if base else "a base version (this file extends none)"
    if base is not None and base.header.library and not entry.file.header.library:
        where = "the library modules it includes"
    scope = f" in stage `{entry.stage}`" if entry.stage else ""
    return entry.file.source.diagnostic(
        "E702",
        f"`override {entry.decl.name}`: no `{entry.decl.name}`{scope} in {where} to override",
        entry.decl.span,
        "remove `override` to add a new declaration, or check the name"
        + (f": {close}" if close else ""),
    )

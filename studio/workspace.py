"""The studio's files (工作区): where policies, data and caches live, and how a version is saved.

Every path the studio writes is built here from a city and a version name, checked to stay
inside the policies root. A version is saved only when it checks clean, atomically (a temporary
file in the same folder, then a rename), and never over a version that another version extends
unless the caller confirms it. Drafts (草稿) are kept apart from the versions, in
`<root>/.drafts/<city>/<version>.policy.draft`: no `*.policy` glob ever picks them up.

The roots come from the environment, so that tests and `drgpolicy studio` can point the app at
another folder: `DRGPOLICY_POLICIES` (default `policies`), `DRGPOLICY_DATA` (default `sample`),
`DRGPOLICY_STUDIO_CACHE` (default `out/studio-cache`); the documents' texts are looked for in
`<city>/sources/`, then in the folders of `DRGPOLICY_SOURCES`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.run.atomic import write_file_atomically
from policy_dsl.check.ledger import LedgerCheck, ledger_of, readable_ledger
from policy_dsl.diagnostics import PolicyErrors
from policy_dsl.errors import PolicyError
from policy_dsl.loader import SUFFIX, PolicyFile, read_policy_file
from policy_dsl.names import name_problem
from policy_dsl.sources import FOLDER, SourceFolders, source_folders
from policy_dsl.versions import city_folders, policy_files

DRAFTS = ".drafts"
DRAFT_SUFFIX = ".policy.draft"


class UnsafeName(PolicyError):
    """A city or version name that would put a file outside its folder."""


class SaveRefused(PolicyError):
    """A save that would lose work or write a policy that does not check."""


class NeedsConfirmation(SaveRefused):
    """A save that replaces an existing version; repeat it with `confirm=True`."""


def policies_root() -> Path:
    return Path(os.environ.get("DRGPOLICY_POLICIES", "policies")).resolve()


def data_root() -> Path:
    return Path(os.environ.get("DRGPOLICY_DATA", "sample")).resolve()


def sources(root: Path, city: str) -> SourceFolders:
    """Where the texts of a city's documents are looked for: its `sources/` folder, then the
    folders of `DRGPOLICY_SOURCES` (`drgpolicy studio --sources DIR` puts DIR there)."""
    return source_folders([root / city / FOLDER])


def ledger(root: Path, city: str) -> LedgerCheck | None:
    """The city's fidelity ledger (`fidelity.md`) checked against its saved versions and their
    document's text (`sources`), when it has one (raises `PolicyError` when it cannot be read)."""
    path = ledger_of(root / check_name(city, "city"))
    return None if path is None else readable_ledger(path, sources(root, city))


def cache_root() -> Path:
    return Path(os.environ.get("DRGPOLICY_STUDIO_CACHE", "out/studio-cache")).resolve()


# ---- names and paths ------------------------------------------------------------------------


def check_name(name: str, what: str = "version") -> str:
    """`name` if it is a plain name (`policy_dsl.names`, the checker's E140/E141 rule); raises
    `UnsafeName` with the reason otherwise."""
    problem = name_problem(name, what)
    if problem is not None:
        raise UnsafeName(f"{problem}: give a plain name such as 2025")
    return name


def is_safe_name(name: str, what: str = "version") -> bool:
    """Whether `check_name` accepts `name`."""
    try:
        check_name(name, what)
    except UnsafeName:
        return False
    return True


def _inside(root: Path, path: Path) -> Path:
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise UnsafeName(f"{path} is outside the policies folder {root}")
    return resolved


def version_path(root: Path, city: str, version: str) -> Path:
    """`<root>/<city>/<version>.policy`, checked to stay inside `root`."""
    return _inside(root, root / check_name(city, "city") / f"{check_name(version)}{SUFFIX}")


def draft_path(root: Path, city: str, version: str) -> Path:
    """Where the draft of a version is kept, outside the city folder's versions."""
    name = f"{check_name(version)}{DRAFT_SUFFIX}"
    return _inside(root, root / DRAFTS / check_name(city, "city") / name)


# ---- what is there --------------------------------------------------------------------------


def cities(root: Path) -> list[str]:
    """The city folders under `root` (folders holding `.policy` files)."""
    return [folder.name for folder in city_folders(root) if folder != root]


@dataclass(frozen=True)
class VersionFile:
    """A version file of a city as the studio lists it; `file` is None if it does not parse."""

    version: str
    path: Path
    file: PolicyFile | None
    extends: str | None


def version_files(root: Path, city: str) -> list[VersionFile]:
    """The version files of a city, by name (a file that does not parse is listed by its stem)."""
    found = []
    for path in policy_files(root / check_name(city, "city")):
        try:
            file = read_policy_file(path)
        except PolicyErrors:
            found.append(VersionFile(path.name.removesuffix(SUFFIX), path, None, None))
            continue
        found.append(VersionFile(file.header.version, path, file, file.header.extends))
    return found


def saved_path(root: Path, city: str, version: str) -> Path:
    """The file of a version as `version_files` lists it — found, not built from the name, so
    that a file whose header names an unsafe version can still be read and shown."""
    for found in version_files(root, city):
        if found.version == version:
            return found.path
    raise FileNotFoundError(f"{city} has no version {version}")


def siblings(root: Path, city: str, except_version: str | None) -> list[PolicyFile]:
    """The parsed versions of a city other than `except_version` (the one being edited)."""
    return [
        v.file
        for v in version_files(root, city)
        if v.file is not None and v.version != except_version
    ]


def extended_by(root: Path, city: str, version: str) -> list[str]:
    """The versions of a city whose `extends` names `version`."""
    return sorted(v.version for v in version_files(root, city) if v.extends == version)


def drafts(root: Path, city: str) -> list[str]:
    folder = root / DRAFTS / check_name(city, "city")
    return sorted(p.name.removesuffix(DRAFT_SUFFIX) for p in folder.glob(f"*{DRAFT_SUFFIX}"))


def read_draft(root: Path, city: str, version: str) -> str:
    return draft_path(root, city, version).read_text(encoding="utf-8")


# ---- writing --------------------------------------------------------------------------------


def atomic_write(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it into place
    (`engine.run.atomic`)."""
    write_file_atomically(path, text)


def overwrite_warning(root: Path, city: str, version: str, opened: Path | None) -> str | None:
    """Why saving `version` needs a confirmation, or None: the file exists and another version
    extends it, or it is not the file that was opened in the editor."""
    path = version_path(root, city, version)
    if not path.exists():
        return None
    dependants = [v for v in extended_by(root, city, version) if v != version]
    if dependants:
        names = ", ".join(f'"{v}"' for v in dependants)
        inherits = "they inherit" if len(dependants) > 1 else "it inherits"
        return (
            f"version {version} is extended by {names}: saving it changes what {inherits}. "
            "Confirm to overwrite it."
        )
    if opened is None or opened.resolve() != path:
        return (
            f"{path.name} already exists and is not the file you opened. Confirm to overwrite it."
        )
    return None


def save_version(
    root: Path,
    city: str,
    version: str,
    text: str,
    *,
    clean: bool,
    opened: Path | None = None,
    confirm: bool = False,
) -> Path:
    """Save `text` as `<root>/<city>/<version>.policy`.

    Refused (`SaveRefused`) when the text does not check clean (`clean` False); needs
    `confirm=True` (`NeedsConfirmation` otherwise) where `overwrite_warning` says why."""
    path = version_path(root, city, version)
    if not clean:
        raise SaveRefused(
            f"version {version} has errors: fix them first, or save it as a draft "
            "(drafts are kept apart from the versions)"
        )
    warning = overwrite_warning(root, city, version, opened)
    if warning and not confirm:
        raise NeedsConfirmation(warning)
    _write(path, text)
    return path


def _write(path: Path, text: str) -> None:
    """`atomic_write`, a failure of the file system (no space, no permission) raised as
    `SaveRefused` naming the file; the file is then as it was."""
    try:
        atomic_write(path, text)
    except OSError as exc:
        raise SaveRefused(f"{path} could not be written: {exc.strerror or exc}") from exc


def save_draft(root: Path, city: str, version: str, text: str) -> Path:
    """Save unfinished text as a draft (no check), outside the city's versions."""
    path = draft_path(root, city, version)
    _write(path, text)
    return path


__all__ = [
    "NeedsConfirmation",
    "SaveRefused",
    "UnsafeName",
    "VersionFile",
    "atomic_write",
    "cache_root",
    "check_name",
    "cities",
    "data_root",
    "draft_path",
    "drafts",
    "extended_by",
    "is_safe_name",
    "ledger",
    "overwrite_warning",
    "policies_root",
    "read_draft",
    "save_draft",
    "save_version",
    "saved_path",
    "siblings",
    "version_files",
    "version_path",
]

"""A city's versions on one timeline for the Versions page (版本时间线), each version checked on
its own: one that does not check stays on the timeline, marked, with its errors, and the others
are shown as usual (`policy_dsl.versions.load_city` refuses the whole city instead). A file that
does not parse, or has no effective date, cannot be placed: it is listed apart."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from policy_dsl.check import check
from policy_dsl.diagnostics import PolicyErrors
from policy_dsl.errors import PolicyError
from policy_dsl.loader import SUFFIX, PolicyFile, read_policy_file, resolve
from policy_dsl.lower import lower
from policy_dsl.versions import CityVersions, Version, VersionsError, policy_files

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Timeline:
    """The versions of a city that have a start date, in order (`hash` empty for one that does
    not check); the errors of each version that does not check, rendered; and the files that
    cannot be placed, by file name, with their errors."""

    city: CityVersions
    failing: dict[str, list[str]] = field(default_factory=dict)
    unplaced: dict[str, list[str]] = field(default_factory=dict)

    def checks(self, version: str) -> bool:
        return version not in self.failing


def load_timeline(folder: Path) -> Timeline:
    """Read and check every version file of a city folder; raises `VersionsError` when the
    folder holds no policy file or mixes cities."""
    files, unplaced = _read(policy_files(folder))
    if not files and not unplaced:
        raise VersionsError(f"no {SUFFIX} files in {folder}")
    cities = sorted({f.header.city for f in files})
    if len(cities) > 1:
        raise VersionsError(f"{folder} mixes versions of several cities: {', '.join(cities)}")
    hashes, failing = _checked(files)
    dated = sorted(
        (f for f in files if f.header.effective_from is not None),
        key=lambda f: (f.header.effective_from, f.header.version),
    )
    for file in files:
        if file.header.effective_from is None:
            unplaced[file.path.name] = failing.pop(file.header.version, ["no effective date"])
    starts = [f.header.effective_from for f in dated if f.header.effective_from is not None]
    versions = tuple(_version(f, hashes.get(f.path, ""), starts) for f in dated)
    city = cities[0] if cities else folder.name
    return Timeline(CityVersions(city, folder, versions), failing, unplaced)


def _read(paths: list[Path]) -> tuple[list[PolicyFile], dict[str, list[str]]]:
    files, unplaced = [], {}
    for path in paths:
        try:
            files.append(read_policy_file(path))
        except PolicyErrors as exc:
            unplaced[path.name] = [d.render() for d in exc.diagnostics]
        except PolicyError as exc:
            unplaced[path.name] = [str(exc)]
    return files, unplaced


def _checked(files: list[PolicyFile]) -> tuple[dict[Path, str], dict[str, list[str]]]:
    """The IR hash of each version that checks (`extends` looked up among `files`), and the
    rendered errors of each that does not."""
    hashes, failing = {}, {}
    for file in files:
        checked = check(resolve(file, [f for f in files if f is not file]))
        errors = [d.render() for d in checked.diagnostics if d.severity == "error"]
        if errors:
            failing[file.header.version] = errors
        else:
            hashes[file.path] = lower(checked).hash
    return hashes, failing


def _version(file: PolicyFile, hash_: str, starts: list[dt.date]) -> Version:
    header = file.header
    start = header.effective_from
    assert start is not None
    later = [s for s in starts if s > start]
    return Version(
        version=header.version,
        effective_from=start,
        effective_to=header.effective_to,
        ends=header.effective_to or (min(later) - ONE_DAY if later else None),
        extends=header.extends,
        path=file.path,
        hash=hash_,
        file=file,
    )


__all__ = ["Timeline", "load_timeline"]

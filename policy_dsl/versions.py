"""The versions of a city's policy (政策版本) on one timeline: which one is in force on a date.

A city folder (`policies/<city>/`) holds one file per version. Each version is in force from its
`effective` date to its `to` date. A version with no `to` date is open-ended: it stays in force
until the next version (by effective date) takes effect, and the day before that start is its last
day. So an open-ended version never overlaps a later one; only a written `to` date on or after the
next version's start does (E707, as do two versions taking effect on the same day). Days between
one version's last day and the next version's start are a gap (W702): no rule is in force there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from policy_dsl.check import check
from policy_dsl.diagnostics import Diagnostic, PolicyErrors
from policy_dsl.errors import PolicyError
from policy_dsl.loader import SUFFIX, PolicyFile, read_policy_file, resolve
from policy_dsl.lower import lower

ONE_DAY = dt.timedelta(days=1)


class VersionsError(PolicyError):
    """A folder that is not one city's versions (empty, or several cities mixed)."""


@dataclass(frozen=True)
class Version:
    """One version file of a city: its dates as written, its last day in force, its IR hash."""

    version: str
    effective_from: dt.date
    effective_to: dt.date | None
    ends: dt.date | None
    extends: str | None
    path: Path
    hash: str
    file: PolicyFile = field(compare=False, repr=False)

    def covers(self, day: dt.date) -> bool:
        """Whether `day` is within the version's period (both ends inclusive)."""
        return self.effective_from <= day and (self.ends is None or day <= self.ends)


@dataclass(frozen=True)
class CityVersions:
    """A city's versions in order of effective date."""

    city: str
    folder: Path
    versions: tuple[Version, ...]


@dataclass(frozen=True)
class InForce:
    """The version of a city in force on a day, or None and the reason there is none."""

    city: str
    day: dt.date
    version: Version | None
    reason: str | None = None


def policy_files(folder: Path | str) -> list[Path]:
    """The `.policy` files directly in `folder`, by name."""
    return sorted(Path(folder).glob(f"*{SUFFIX}"))


def city_folders(root: Path | str) -> list[Path]:
    """`root` itself if it holds policy files, else its sub-folders that do (none if `root` is
    not a folder)."""
    root = Path(root)
    if not root.is_dir():
        return []
    if policy_files(root):
        return [root]
    return [sub for sub in sorted(root.iterdir()) if sub.is_dir() and policy_files(sub)]


def load_city(folder: Path | str) -> CityVersions:
    """Read, check and compile every version in a city folder; raises `PolicyErrors` with the
    errors of every file that does not check."""
    folder = Path(folder)
    files = [f for f in _read_all(policy_files(folder)) if not f.header.library]  # no version
    cities = sorted({f.header.city for f in files})
    if not cities:
        raise VersionsError(f"no {SUFFIX} files in {folder}")
    if len(cities) > 1:
        raise VersionsError(f"{folder} mixes versions of several cities: {', '.join(cities)}")
    hashes = _compile_all(files)
    ordered = sorted(files, key=_start_key)
    versions = tuple(_version(f, hashes[f.path], ordered) for f in ordered)
    return CityVersions(cities[0], folder, versions)


def _read_all(paths: list[Path]) -> list[PolicyFile]:
    files, errors = [], []
    for path in paths:
        try:
            files.append(read_policy_file(path))
        except PolicyErrors as exc:
            errors += exc.diagnostics
    if errors:
        raise PolicyErrors(errors)
    return files


def _compile_all(files: list[PolicyFile]) -> dict[Path, str]:
    """The IR content hash of each file, with `extends` looked up among `files`."""
    hashes, errors = {}, []
    for file in files:
        checked = check(resolve(file, [f for f in files if f is not file]))
        if checked.ok:
            hashes[file.path] = lower(checked).hash
        errors += [d for d in checked.diagnostics if d.severity == "error"]
    if errors:
        raise PolicyErrors(errors)
    return hashes


def _start_key(file: PolicyFile) -> tuple[dt.date, str]:
    start = file.header.effective_from
    assert start is not None  # a file without one does not check (E120)
    return start, file.header.version


def _version(file: PolicyFile, hash_: str, ordered: list[PolicyFile]) -> Version:
    header = file.header
    start, _ = _start_key(file)
    return Version(
        version=header.version,
        effective_from=start,
        effective_to=header.effective_to,
        ends=header.effective_to or _day_before_next(start, ordered),
        extends=header.extends,
        path=file.path,
        hash=hash_,
        file=file,
    )


def _day_before_next(start: dt.date, ordered: list[PolicyFile]) -> dt.date | None:
    """The last day of an open-ended version: the day before the next later start, if any."""
    later = [s for s, _ in map(_start_key, ordered) if s > start]
    return min(later) - ONE_DAY if later else None


# ---- which version is in force ------------------------------------------------------


def in_force(city: CityVersions | Path | str, day: dt.date) -> InForce:
    """The version in force on `day`; None with the reason when there is none or two are."""
    if not isinstance(city, CityVersions):
        city = load_city(city)
    found = [v for v in city.versions if v.covers(day)]
    if len(found) == 1:
        return InForce(city.city, day, found[0])
    if found:
        names = " and ".join(f'"{v.version}"' for v in found)
        reason = f"versions {names} of {city.city} overlap on {day} (E707)"
        return InForce(city.city, day, None, reason)
    return InForce(city.city, day, None, _none_reason(city, day))


def _none_reason(city: CityVersions, day: dt.date) -> str:
    first = city.versions[0]
    if day < first.effective_from:
        return (
            f"no version of {city.city} is in force before {first.effective_from} "
            f'(the first, "{first.version}", takes effect then)'
        )
    for gap_start, gap_end in _gaps(city):
        if gap_start <= day <= gap_end:
            return _gap_text(city.city, gap_start, gap_end)
    last = max(city.versions, key=lambda v: v.ends or dt.date.max)
    return f'no version of {city.city} is in force after {last.ends} (when "{last.version}" ends)'


def versions_on(day: dt.date, root: Path | str = "policies") -> list[InForce]:
    """For each city folder under `root`, the version in force on `day`."""
    folders = city_folders(root)
    if not folders:
        raise VersionsError(f"no city folders with {SUFFIX} files under {root}")
    return [in_force(load_city(folder), day) for folder in folders]


# ---- timeline check -------------------------------------------------------------------


def check_timeline(city: CityVersions) -> list[Diagnostic]:
    """Gaps (W702) and overlaps (E707) between a city's versions, each at the later file's
    header."""
    return list(_gap_diagnostics(city)) + list(_overlap_diagnostics(city))


def _gaps(city: CityVersions) -> Iterator[tuple[dt.date, dt.date]]:
    """(first, last) day of each stretch no version covers, between the first and last start."""
    covered: dt.date | None = city.versions[0].ends
    for version in city.versions[1:]:
        if covered is None:
            return
        if covered + ONE_DAY < version.effective_from:
            yield covered + ONE_DAY, version.effective_from - ONE_DAY
        covered = None if version.ends is None else max(covered, version.ends)


def _gap_text(city: str, first: dt.date, last: dt.date) -> str:
    return f"no version of {city} is in force from {first} to {last}"


def _gap_diagnostics(city: CityVersions) -> Iterator[Diagnostic]:
    for first, last in _gaps(city):
        before = next(v for v in reversed(city.versions) if v.ends == first - ONE_DAY)
        after = next(v for v in city.versions if v.effective_from == last + ONE_DAY)
        yield _at_header(
            after,
            "W702",
            _gap_text(city.city, first, last),
            f'version "{before.version}" ends on {before.ends} and "{after.version}" takes '
            f"effect on {after.effective_from}; move one of the dates, or drop the `to` date of "
            f'"{before.version}" (an open-ended version stays in force until the next one starts)',
        )


def _overlap_diagnostics(city: CityVersions) -> Iterator[Diagnostic]:
    for i, earlier in enumerate(city.versions):
        for later in city.versions[i + 1 :]:
            if later.effective_from <= (earlier.ends or dt.date.max):
                yield _overlap(city.city, earlier, later)


def _overlap(city: str, earlier: Version, later: Version) -> Diagnostic:
    ends = [d for d in (earlier.ends, later.ends) if d is not None]
    until = f"to {min(ends)}" if ends else "onwards"
    if earlier.effective_from == later.effective_from:
        hint = f'give "{later.version}" a later effective date, or remove one of the two files'
    else:
        hint = (
            f'end "{earlier.version}" on {later.effective_from - ONE_DAY}, the day before '
            f'"{later.version}" takes effect, or drop its `to` date (an open-ended version '
            "ends when the next one starts)"
        )
    return _at_header(
        later,
        "E707",
        f'versions "{earlier.version}" and "{later.version}" of {city} are both in force '
        f"from {later.effective_from} {until}",
        hint,
    )


def _at_header(version: Version, code: str, message: str, hint: str) -> Diagnostic:
    file = version.file
    return file.source.diagnostic(code, message, file.header.span, hint)


__all__ = [
    "CityVersions",
    "InForce",
    "Version",
    "VersionsError",
    "check_timeline",
    "city_folders",
    "in_force",
    "load_city",
    "policy_files",
    "versions_on",
]

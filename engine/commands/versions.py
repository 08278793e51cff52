"""`drgpolicy versions`: a city's versions in date order, or which version is in force on a day.

    drgpolicy versions policies/xuancheng          # versions, dates, base, IR hash
    drgpolicy versions --on 2024-06-30 [policies]  # the version of each city in force that day

PATH is a city folder or a folder of city folders. Gaps (W702) and overlaps (E707) between a
city's versions go to stderr; the exit code is 1 when there is an overlap.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from policy_dsl.diagnostics import has_errors
from policy_dsl.versions import (
    CityVersions,
    InForce,
    Version,
    VersionsError,
    check_timeline,
    city_folders,
    in_force,
    load_city,
)

SHORT_HASH = 12


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "versions",
        description="List each city's versions in order of effective date with their base "
        "version and IR content hash; with --on, the version of each city in force that day.",
    )
    parser.add_argument(
        "path",
        nargs="?",
        default=Path("policies"),
        type=Path,
        help="a city folder, or a folder of city folders (default: policies)",
    )
    parser.add_argument("--on", type=_day, metavar="YYYY-MM-DD", help="the day to look up")
    parser.add_argument("--json", action="store_true", help="print JSON for tools")
    parser.set_defaults(run=run)


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def run(args: argparse.Namespace) -> int:
    folders = city_folders(args.path)
    if not folders:
        raise VersionsError(
            f"no policy files in {args.path}: give a city folder or a folder of city folders"
        )
    cities = [load_city(folder) for folder in folders]
    if args.on is None:
        data: dict[str, Any] = {"cities": [_city_json(c) for c in cities]}
        text = "\n\n".join(_city_text(c) for c in cities)
    else:
        found = [in_force(c, args.on) for c in cities]
        data = {"date": args.on.isoformat(), "cities": [_in_force_json(f) for f in found]}
        text = _in_force_text(args.on, found)
    print(json.dumps(data, ensure_ascii=False, indent=2) if args.json else text)
    diagnostics = [d for c in cities for d in check_timeline(c)]
    for diagnostic in diagnostics:
        print(diagnostic.render(), file=sys.stderr)
    return 1 if has_errors(diagnostics) else 0


# ---- listing -----------------------------------------------------------------------------------


def _city_text(city: CityVersions) -> str:
    rows = [("version", "in force", "extends", "hash")]
    rows += [(v.version, _period(v), v.extends or "-", v.hash[:SHORT_HASH]) for v in city.versions]
    widths = [max(len(cell) for cell in column) for column in zip(*rows, strict=True)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join([f"{city.city}  ({city.folder})", *("  " + line.rstrip() for line in lines)])


def _period(version: Version) -> str:
    start = version.effective_from.isoformat()
    if version.ends is None:
        return f"{start} onwards"
    implicit = " (until the next version)" if version.effective_to is None else ""
    return f"{start} to {version.ends.isoformat()}{implicit}"


def _city_json(city: CityVersions) -> dict[str, Any]:
    return {
        "city": city.city,
        "folder": str(city.folder),
        "versions": [_version_json(v) for v in city.versions],
        "diagnostics": [d.to_json() for d in check_timeline(city)],
    }


def _version_json(version: Version) -> dict[str, Any]:
    return {
        "version": version.version,
        "effective_from": version.effective_from.isoformat(),
        "effective_to": _iso(version.effective_to),
        "in_force_to": _iso(version.ends),
        "extends": version.extends,
        "path": str(version.path),
        "hash": version.hash,
    }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


# ---- in force on a day ---------------------------------------------------------------------------


def _in_force_text(day: dt.date, found: list[InForce]) -> str:
    width = max(len(f.city) for f in found)
    lines = [f"in force on {day.isoformat()}:"]
    for item in found:
        version = item.version
        if version is None:
            lines.append(f"  {item.city.ljust(width)}  none: {item.reason}")
        else:
            lines.append(
                f'  {item.city.ljust(width)}  "{version.version}"  {version.path}  '
                f"{version.hash[:SHORT_HASH]}"
            )
    return "\n".join(lines)


def _in_force_json(item: InForce) -> dict[str, Any]:
    version = item.version
    return {
        "city": item.city,
        "version": version.version if version else None,
        "path": str(version.path) if version else None,
        "hash": version.hash if version else None,
        "reason": item.reason,
    }

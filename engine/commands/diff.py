"""`drgpolicy diff OLD NEW`: what changed in the rules between two versions (版本比对).

Text for analysts, grouped as added / removed / changed / citation only; `--json` for tools.
A diff is not an error: the exit code is 0 whatever changed, and 1 only when a file does not
check (its diagnostics go to stderr).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from policy_dsl.check import Checked
from policy_dsl.diff import Change, checked_versions, diff_versions
from policy_dsl.lower import lower

GROUPS = (
    ("added", "+"),
    ("removed", "-"),
    ("changed", "~"),
    ("citation only", "~"),
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="compare two policy versions by meaning",
        description="List every change of rules between two policy files: parameters, tables "
        "and rows, definitions, classes, formula arms, adjustment steps, header. Layout and "
        "comments are not changes; a change of sources only is marked as such.",
    )
    parser.add_argument("old", type=Path, help="the base version's file")
    parser.add_argument("new", type=Path, help="the new version's file")
    parser.add_argument("--json", action="store_true", help="print JSON for tools")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    old, new = checked_versions(args.old, args.new)
    changes = diff_versions(old.resolved, new.resolved)
    if args.json:
        data = {
            "old": _side(args.old, old),
            "new": _side(args.new, new),
            "changes": [c.to_json() for c in changes],
        }
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(render(args.old, old, args.new, new, changes))
    return 0


def _side(path: Path, checked: Checked) -> dict[str, Any]:
    header = checked.resolved.header
    return {
        "file": str(path),
        "city": header.city,
        "version": header.version,
        "hash": lower(checked).hash,
    }


def group_of(change: Change) -> str:
    return "citation only" if change.citation_only else change.kind


def render(
    old_path: Path, old: Checked, new_path: Path, new: Checked, changes: list[Change]
) -> str:
    """The diff as an analyst reads it: a title line, then one block per group of changes."""
    before, after = old.resolved.header, new.resolved.header
    lines = [
        f'{before.city} "{before.version}" ({old_path}) → {after.city} "{after.version}" '
        f"({new_path}): {_count(changes)}"
    ]
    for group, mark in GROUPS:
        members = [c for c in changes if group_of(c) == group]
        if members:
            lines += ["", f"{group} ({len(members)})"]
            lines += [line for c in members for line in _change_lines(c, mark)]
    return "\n".join(lines)


def _count(changes: list[Change]) -> str:
    if not changes:
        return "no changes"
    counts = [f"{sum(group_of(c) == g for c in changes)} {g}" for g, _ in GROUPS]
    kept = [text for text in counts if not text.startswith("0 ")]
    return f"{len(changes)} change{'s' if len(changes) != 1 else ''} ({', '.join(kept)})"


def _change_lines(change: Change, mark: str) -> list[str]:
    if change.kind == "added":
        return [f"  {mark} {change.subject}: {change.new}", *_notes(change.new_citations, change)]
    if change.kind == "removed":
        return [f"  {mark} {change.subject}: {change.old}", *_notes(change.old_citations, change)]
    lines = [f"  {mark} {change.subject}"]
    for aspect in change.aspects:
        pad = "      " if aspect.is_value else "        "
        if not aspect.is_value:
            lines.append(f"      {aspect.name}")
        lines += [f"{pad}- {aspect.old or '(none)'}", f"{pad}+ {aspect.new or '(none)'}"]
    return lines + [f"      {detail}" for detail in change.details]


def _notes(citations: tuple[str, ...], change: Change) -> list[str]:
    return [f"      {text}" for text in (*citations, *change.details)]

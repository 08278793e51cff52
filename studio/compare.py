"""Versions and their differences (版本与比对), as data for the Versions page: the timeline of
a city's versions, the semantic diff as rows with citations, and the text diff side by side."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.page.markup import html_text
from engine.render.clauses import KINDS, by_clause, clauses
from engine.render.redline import GROUP_WORDS
from policy_dsl.diff import Change, diff_versions
from policy_dsl.loader import PolicyFile, Resolved, resolve
from policy_dsl.versions import CityVersions, check_timeline

SHORT_HASH = 12
#: The timeline table's and the changes table's columns as the Versions page heads them.
TIMELINE_LABELS = {
    "version": "版本 version",
    "checks": "检查 checks",
    "from": "生效 from",
    "to": "截止 to",
    "in force until": "有效至 in force until",
    "extends": "基于 extends",
    "hash": "哈希 hash",
    "file": "文件 file",
}
CHANGE_LABELS = {
    "kind": "变更 kind",
    "label": "名称 label",
    "subject": "条款 subject",
    "clause": "clause",
    "old": "旧 old",
    "new": "新 new",
    "old_citations": "旧出处 source before",
    "new_citations": "新出处 source after",
}


def timeline_rows(
    city: CityVersions, failing: Mapping[str, Sequence[str]] | None = None
) -> list[dict[str, Any]]:
    """One row per version: dates as written, the last day in force, base and hash, and whether
    it checks (`failing`: the errors of each version that does not). An open-ended last version
    is drawn to a year after its start."""
    failing = failing or {}
    rows = []
    for v in city.versions:
        drawn_end = v.ends or v.effective_from.replace(year=v.effective_from.year + 1)
        errors = failing.get(v.version)
        rows.append(
            {
                "version": v.version,
                "shown": f"{v.version} ✗" if errors else v.version,
                "checks": f"no: {len(errors)} error(s)" if errors else "yes",
                "from": v.effective_from.isoformat(),
                "to": v.effective_to.isoformat() if v.effective_to else "",
                "in force until": v.ends.isoformat() if v.ends else "open-ended",
                "extends": v.extends or "",
                "hash": v.hash[:SHORT_HASH] if v.hash else "—",
                "file": v.path.name,
                "start": v.effective_from,
                "end": drawn_end + dt.timedelta(days=1),
            }
        )
    return rows


def timeline_problems(city: CityVersions) -> list[str]:
    return [d.render() for d in check_timeline(city)]


def resolved_in(city: CityVersions, version: str, override: PolicyFile | None = None) -> Resolved:
    """A version of `city` with `extends` applied; `override` (the editor's buffer) replaces
    the saved file of the same version, or adds a new one."""
    files = [v.file for v in city.versions]
    if override is not None:
        files = [f for f in files if f.header.version != override.header.version] + [override]
    top = next(f for f in files if f.header.version == version)
    return resolve(top, [f for f in files if f is not top])


@dataclass(frozen=True)
class ChangeRow:
    """A change as the page lists it: what happened (`修改 changed`), the clause's Chinese label
    (from the version that has it), what it is (`参数 parameter low_ratio_grassroots`), its id,
    both sides' text and sources."""

    kind: str
    label: str
    subject: str
    clause: str
    old: str
    new: str
    old_citations: str
    new_citations: str
    description: str

    @classmethod
    def of(cls, change: Change, labels: Mapping[str, str]) -> ChangeRow:
        kind = KINDS.get(change.what, "")
        return cls(
            GROUP_WORDS[change.kind],
            labels.get(change.clause, ""),
            f"{kind} {change.subject}".strip(),
            change.clause,
            change.old or "",
            change.new or "",
            "; ".join(change.old_citations),
            "; ".join(change.new_citations),
            change.describe(),
        )


def semantic_diff(old: Resolved, new: Resolved) -> list[ChangeRow]:
    """The changes from `old` to `new`, each with the label its clause has in the policy
    document (`engine.render.clauses`: the new version's, or the old one's for a removal)."""
    named = {**by_clause(clauses(old)), **by_clause(clauses(new))}
    labels = {clause: found.label for clause, found in named.items() if found.label}
    return [ChangeRow.of(c, labels) for c in diff_versions(old, new)]


def text_diff_html(old: str, new: str, old_name: str, new_name: str, context: bool = True) -> str:
    """The two texts side by side in two equal columns that fit the page (long lines wrap),
    each headed by the side it is — `old · 2023`, `new · 2024` — and changed lines marked
    (difflib's table without its navigation column, styled). difflib escapes the lines but puts
    the two headings in as HTML: they are escaped here."""
    table = difflib.HtmlDiff(tabsize=2).make_table(
        old.splitlines(),
        new.splitlines(),
        html_text(f"old · {old_name}"),
        html_text(f"new · {new_name}"),
        context=context,
        numlines=3,
    )
    return DIFF_STYLE + f'<div class="drg-diff">{_fitted(table)}</div>'


def _fitted(table: str) -> str:
    """difflib's table made to fit: no navigation cells, no `nowrap`, and four columns (line
    number and text of each side) laid out at fixed widths."""
    table = _NEXT_CELL.sub("", table).replace(' nowrap="nowrap"', "")
    table = _COLGROUPS.sub(_COLUMNS, table, count=1)
    return _COLGROUPS.sub("", table)


_NEXT_CELL = re.compile(r'<t([dh]) class="diff_next"[^>]*>.*?</t\1>')
_COLGROUPS = re.compile(r"<colgroup></colgroup>\s*")
_COLUMNS = '<colgroup><col class="no"><col><col class="no"><col></colgroup>'


def text_diff_stats(old: str, new: str) -> tuple[int, int]:
    """Lines removed and added."""
    removed = added = 0
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        removed += line.startswith("- ")
        added += line.startswith("+ ")
    return removed, added


def read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


DIFF_STYLE = """
<style>
.drg-diff{font-size:12.5px;max-width:100%}
.drg-diff table.diff{font-family:ui-monospace,Menlo,Consolas,monospace;border-collapse:collapse;
  width:100%;table-layout:fixed}
.drg-diff col.no{width:3.4em}
.drg-diff td{padding:0 6px;vertical-align:top;white-space:pre-wrap;overflow-wrap:anywhere}
.drg-diff th{background:#f0f2f6;padding:3px 6px;text-align:left;font-weight:600;color:#31333f}
.drg-diff td.diff_header{color:#9aa0aa;text-align:right;background:#fafafa}
.drg-diff .diff_add{background:#d9f7e1}.drg-diff .diff_chg{background:#fff3c4}
.drg-diff .diff_sub{background:#fde0e0}
</style>
"""


__all__ = [
    "CHANGE_LABELS",
    "TIMELINE_LABELS",
    "ChangeRow",
    "resolved_in",
    "semantic_diff",
    "text_diff_html",
    "text_diff_stats",
    "timeline_problems",
    "timeline_rows",
]

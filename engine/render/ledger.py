"""The city's fidelity ledger (条文对照表) in the policy document: when the version's folder has a
ledger that covers it, a section after the clauses — each row's number, the document's words, the
rules (each a link to its clause on the same page, where the version has it) and how — with its
counts at the top; a ledger that does not check is still shown, under the list of its problems
(`policy_dsl.check.ledger.check_ledger`), so that nobody signs a drifted ledger unknowingly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from engine.page.markup import html_text
from engine.render.clauses import Clause
from policy_dsl.check.ledger import (
    LedgerCheck,
    Row,
    counted,
    ledger_of,
    readable_ledger,
    rule_names,
)
from policy_dsl.sources import SourceFolders

#: How a row's file has its sentence, as the page says it.
HOW = {
    "as written": "照原文 as written",
    "reading": "解读 reading",
    "not encoded": "未编码 not encoded",
}


def covering_ledger(policy: Path, folders: SourceFolders) -> LedgerCheck | None:
    """The ledger of the version's folder checked (its sentences looked up in `folders`), when
    the folder has one that covers this version (raises `PolicyError` when it cannot be read)."""
    path = ledger_of(policy.parent)
    if path is None:
        return None
    found = readable_ledger(path, folders)
    return found if found.ledger.covers(policy) else None


def by_rule_name(found: Iterable[Clause]) -> dict[str, list[str]]:
    """The clauses (ids, in the page's order) of each name a ledger may give a rule."""
    named: dict[str, list[str]] = defaultdict(list)
    for clause in (c for top in found for c in top.all()):
        item = clause.item
        if item.what != "row":  # a table's rows are not named in a ledger
            for name in rule_names(item.name, item.stage, item.part):
                named[name].append(clause.clause)
    return named


def ledger_html(found: LedgerCheck, clauses: Iterable[Clause]) -> str:
    """The section: its counts, its problems (if any), then one table row per sentence."""
    named = by_rule_name(clauses)
    ledger = found.ledger
    rows = "".join(_row(row, named) for row in ledger.rows)
    head = "".join(
        f"<th>{h}</th>" for h in ("#", "文件原文 the document's words", "规则 rules", "方式 how")
    )
    document = ledger.document[0] if ledger.document else "—"
    return (
        '<section id="ledger"><h2>条文对照表 Rule by rule</h2>'
        f"<p><code>{html_text(shown_path(found))}</code>，原文 <code>{html_text(document)}</code>："
        f"{html_text(found.tally())}</p>{_problems(found)}"
        f'<table class="ledger"><tr>{head}</tr>{rows}</table></section>'
    )


def shown_path(found: LedgerCheck) -> str:
    """`wuxi/fidelity.md`: the ledger named by its city's folder, so that the page is the same
    bytes wherever it is rendered from."""
    return f"{found.ledger.path.parent.name}/{found.ledger.path.name}"


def _problems(found: LedgerCheck) -> str:
    """The ledger's diagnostics, each at its line (`wuxi/fidelity.md:29:7 E716 …`, with its
    hint)."""
    if not found.diagnostics:
        return ""
    name = shown_path(found)  # every diagnostic of a ledger check is located in the ledger
    shown = len(found.diagnostics)
    errors, warnings = found.errors, shown - found.errors
    items = "".join(
        f"<li><code>{html_text(f'{name}:{d.line}:{d.column}')}</code> {html_text(d.code)} "
        f"{html_text(d.message)}"
        + (f'<br><span class="hint">hint: {html_text(d.hint)}</span>' if d.hint else "")
        + "</li>"
        for d in found.diagnostics
    )
    return (
        f'<div class="problems"><b>对照表有 {shown} 处问题 — the ledger has '
        f"{counted(shown, 'problem')} ({counted(errors, 'error')}, "
        f"{counted(warnings, 'warning')}): "
        f"check it (<code>drgpolicy check</code>) before signing</b><ul>{items}</ul></div>"
    )


def _row(row: Row, named: dict[str, list[str]]) -> str:
    rules = ", ".join(_rule(name, named.get(name, [])) for name, _ in row.names) or "—"
    note = f" — {html_text(row.note)}" if row.note else ""
    how = f'<span class="how {row.how.replace(" ", "-")}">{HOW[row.how]}</span>{note}'
    return (
        f'<tr id="ledger-{row.number}" data-row="{row.number}"><td>{row.number}</td>'
        f"<td>{html_text(row.words)}</td><td>{rules}</td><td>{how}</td></tr>"
    )


def _rule(name: str, clauses: list[str]) -> str:
    """A rule named: a link to its clause (to each, when the name is in several stages), or
    the name alone when this version has no such clause."""
    code = f"<code>{html_text(name)}</code>"
    if not clauses:
        return f'<span class="unlinked" title="本版本无此条款 not in this version">{code}</span>'
    return " ".join(
        f'<a href="#{html_text(c)}" title="{html_text(c)}" data-rule="{html_text(name)}">{code}</a>'
        for c in clauses
    )


__all__ = ["by_rule_name", "covering_ledger", "ledger_html", "shown_path"]

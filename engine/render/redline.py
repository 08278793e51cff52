"""A version against its predecessor as a redline (修订对照): exactly the changes of `drgpolicy
diff` (`policy_dsl.diff.diff_versions`), grouped as it groups them — added, removed, changed,
citation only — each with its clause id, what it was and what it is (struck out and inserted),
and its sources before and after, with the passages of the documents' texts where found.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.commands.diff import GROUPS, group_of
from engine.page.markup import html_text
from engine.render.clauses import Clause, by_clause, clauses
from engine.render.document import Sources, labels_of, page
from engine.render.formula import in_words
from policy_dsl.diff import Change, diff_versions
from policy_dsl.loader import Resolved

GROUP_WORDS = {
    "added": "新增 added",
    "removed": "删除 removed",
    "changed": "修改 changed",
    "citation only": "仅出处变更 citation only",
}
BADGES = {"added": "added", "removed": "removed", "changed": "changed", "citation only": "cited"}


def render_redline(old: Resolved, new: Resolved, old_sources: Sources, new_sources: Sources) -> str:
    """The redline page of `old` → `new`."""
    changes = diff_versions(old, new)
    before, after = by_clause(clauses(old)), by_clause(clauses(new))
    labels = {**labels_of(old), **labels_of(new)}
    blocks = []
    for group, _ in GROUPS:
        members = [c for c in changes if group_of(c) == group]
        if members:
            blocks.append(f"<h2>{GROUP_WORDS[group]}（{len(members)}）</h2>")
            blocks += [
                _change(c, group, before.get(c.clause), after.get(c.clause), labels)
                + _sources(c, before.get(c.clause), after.get(c.clause), old_sources, new_sources)
                + "</article>"
                for c in changes
                if c in members
            ]
    head = old.header, new.header
    title = f"修订对照 Redline：{head[1].city} {head[0].version} → {head[1].version}"
    summary = (
        f"<p>{len(changes)} 处变更（与 <code>drgpolicy diff</code> 所列相同）："
        + "，".join(
            f"{GROUP_WORDS[g]} {sum(group_of(c) == g for c in changes)}"
            for g, _ in GROUPS
            if any(group_of(c) == g for c in changes)
        )
        + "。删除线为旧版本的文字，底色为新版本的文字。</p>"
    )
    if not changes:
        summary = "<p>两个版本的规则相同（<code>drgpolicy diff</code>：no changes）。</p>"
    return page(title, summary + "".join(blocks))


def _change(
    change: Change,
    group: str,
    old: Clause | None,
    new: Clause | None,
    labels: Mapping[str, str],
) -> str:
    shown = new or old
    label = shown.label if shown is not None else ""
    head = (
        f'<article class="clause" id="{html_text(change.clause)}" '
        f'data-clause="{html_text(change.clause)}" data-kind="{change.kind}">'
        f'<h3><span class="badge {BADGES[group]}">{GROUP_WORDS[group]}</span> '
        f'{html_text(label)} <span class="id">{html_text(change.clause)}</span></h3>'
    )
    if change.kind == "added":
        return head + _text(change.new, labels, "ins") + _details(change)
    if change.kind == "removed":
        return head + _text(change.old, labels, "del") + _details(change)
    rows = "".join(
        f"<tr><th>{html_text(aspect.name)}</th><td><del>{html_text(aspect.old or '（无）')}</del>"
        f"</td><td><ins>{html_text(aspect.new or '（无）')}</ins></td></tr>"
        for aspect in change.aspects
        if aspect.name != "citations"
    )
    table = f"<table><tr><th></th><th>旧 before</th><th>新 after</th></tr>{rows}</table>"
    return head + (_text(change.new, labels, "ins") if change.new else "") + (table if rows else "")


def _text(text: str | None, labels: Mapping[str, str], tag: str) -> str:
    if text is None:
        return ""
    return (
        f'<p class="words"><{tag}>{html_text(in_words(text, labels))}</{tag}></p>'
        f"<pre><{tag}>{html_text(text)}</{tag}></pre>"
    )


def _details(change: Change) -> str:
    if not change.details:
        return ""
    return (
        "<ul>" + "".join(f"<li><code>{html_text(d)}</code></li>" for d in change.details) + "</ul>"
    )


def _sources(
    change: Change,
    old: Clause | None,
    new: Clause | None,
    old_sources: Sources,
    new_sources: Sources,
) -> str:
    """The sources before and after (only the side there is for an added or removed clause;
    none for the header, which cites nothing)."""
    if old is None and new is None:
        return ""
    sides = []
    if change.kind != "added":
        sides.append(("出处（旧）sources before", old, old_sources))
    if change.kind != "removed":
        sides.append(("出处（新）sources after", new, new_sources))
    cells = "".join(
        f"<div><h4>{title}</h4>{sources.html(clause.citations if clause else ())}</div>"
        for title, clause, sources in sides
    )
    return f'<div class="grid">{cells}</div>'


__all__ = ["render_redline"]

"""`summary.md`: the report's sections as Markdown (tables, no charts). The texts are put in
inert (`engine.page.markup.markdown_inert`): a label or an id holding `<img …>` or `![…](…)` shows
as those characters in a Markdown viewer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.page.layout import Table
from engine.page.markup import markdown_inert
from engine.whatif.sections import sections, title

if TYPE_CHECKING:
    from engine.whatif.report import Report


def render_markdown(report: Report) -> str:
    lines = [f"# {markdown_inert(title(report))}", ""]
    for section in sections(report):
        lines += [f"## {markdown_inert(section.title)}", ""]
        for paragraph in section.lead:
            lines += [markdown_inert(paragraph), ""]
        if section.bullets:
            lines += [f"- {markdown_inert(b)}" for b in section.bullets] + [""]
        for table in section.tables:
            lines += [*_table(table), ""]
    lines.append("Charts: report.html. Every number: whatif.json (money in fen).")
    return "\n".join(lines) + "\n"


def _table(table: Table) -> list[str]:
    align = ["---:" if n else "---" for n in table.numeric]
    rows = [table.headers, *table.rows]
    return [
        "| " + " | ".join(_cell(c) for c in rows[0]) + " |",
        "| " + " | ".join(align) + " |",
        *("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows[1:]),
    ]


def _cell(text: str) -> str:
    return markdown_inert(text).replace("|", "\\|").replace("\n", " ")


__all__ = ["render_markdown"]

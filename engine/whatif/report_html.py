"""`report.html`: the report's sections as one self-contained page — inline CSS, charts as inline
SVG, no script and nothing fetched from anywhere."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from engine.markup import html_text
from engine.whatif.layout import Section, Table
from engine.whatif.sections import sections, title

if TYPE_CHECKING:
    from engine.whatif.report import Report

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { padding: 3px 8px; border-bottom: 1px solid #e5e5e5; vertical-align: top; }
th { background: #f4f4f4; text-align: left; } td.n, th.n { text-align: right; white-space: nowrap; }
figure { margin: 1em 0; } nav a { margin-right: 1em; } code { background: #f4f4f4; }
.read { background: #f8f8f0; padding: 0.6em 1em; border-left: 3px solid #c9b458; }
"""

NUMERIC = ' class="n"'
HOW_TO_READ = (
    "Green bars gain, red bars lose (in yuan, exact to the fen). <b>Totals</b> and <b>by level</b> "
    "compare the two versions on the same cases; <b>attribution</b> applies each changed clause "
    "alone to the base version — the parts and the interaction add up to the change; <b>cases "
    "that change category</b> shows which classification rules moved cases; <b>threshold "
    "exposure</b> says where a small change of a parameter moves many cases or much money."
)


def render_html(report: Report) -> str:
    return render_page(title(report), HOW_TO_READ, sections(report))


def render_page(heading: str, how_to_read: str, found: list[Section], style: str = "") -> str:
    """One self-contained page of `found` sections (the what-if report, the monitoring
    report): `how_to_read` is markup, the rest is text and charts; `style` adds CSS."""
    nav = " ".join(f'<a href="#{s.key}">{html_text(s.title)}</a>' for s in found)
    body = "".join(_section(s) for s in found)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html_text(heading)}</title><style>{STYLE}{style}</style></head><body>"
        f'<h1>{html_text(heading)}</h1><p class="read">{how_to_read}</p><nav>{nav}</nav>'
        f"{body}</body></html>\n"
    )


def _section(section: Section) -> str:
    parts = [f'<section id="{section.key}"><h2>{html_text(section.title)}</h2>']
    parts += [f"<p>{_inline(p)}</p>" for p in section.lead]
    if section.bullets:
        parts.append("<ul>" + "".join(f"<li>{_inline(b)}</li>" for b in section.bullets) + "</ul>")
    parts += [f"<figure>{chart}</figure>" for chart in section.charts]
    parts += [_table(t) for t in section.tables]
    return "".join(parts) + "</section>"


def _table(table: Table) -> str:
    def cells(tag: str, row: list[str]) -> str:
        return "".join(
            f"<{tag}{NUMERIC if n else ''}>{_inline(c)}</{tag}>"
            for c, n in zip(row, table.numeric, strict=True)
        )

    head = f"<tr>{cells('th', table.headers)}</tr>"
    rows = "".join(f"<tr>{cells('td', row)}</tr>" for row in table.rows)
    return f"<table><thead>{head}</thead><tbody>{rows}</tbody></table>"


def _inline(text: str) -> str:
    """Escaped text with Markdown's `code` spans as <code>."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", html_text(text))


__all__ = ["render_html", "render_page"]

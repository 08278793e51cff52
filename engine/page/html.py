"""A report's sections as one self-contained HTML page: inline CSS, charts as inline SVG, no
script and nothing fetched from anywhere. Every text is escaped (`engine.page.markup`); Markdown's
`code` spans become <code>."""

from __future__ import annotations

import re

from engine.page.layout import Section, Table
from engine.page.markup import html_text

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


def page(
    title: str, how_to_read: str, found: list[Section], lang: str = "en", style: str = ""
) -> str:
    """The page: a title, a box saying how to read it (our own markup), a table of contents
    and the sections; `style` adds CSS."""
    nav = " ".join(f'<a href="#{s.key}">{html_text(s.title)}</a>' for s in found)
    body = "".join(section_html(s) for s in found)
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{html_text(title)}</title><style>{STYLE}{style}</style></head><body>"
        f'<h1>{html_text(title)}</h1><p class="read">{how_to_read}</p><nav>{nav}</nav>'
        f"{body}</body></html>\n"
    )


def section_html(section: Section) -> str:
    parts = [f'<section id="{section.key}"><h2>{html_text(section.title)}</h2>']
    parts += [f"<p>{inline(p)}</p>" for p in section.lead]
    if section.bullets:
        parts.append("<ul>" + "".join(f"<li>{inline(b)}</li>" for b in section.bullets) + "</ul>")
    parts += [f"<figure>{chart}</figure>" for chart in section.charts]
    parts += [table_html(t) for t in section.tables]
    return "".join(parts) + "</section>"


def table_html(table: Table) -> str:
    def cells(tag: str, row: list[str]) -> str:
        return "".join(
            f"<{tag}{NUMERIC if n else ''}>{inline(c)}</{tag}>"
            for c, n in zip(row, table.numeric, strict=True)
        )

    head = f"<tr>{cells('th', table.headers)}</tr>"
    rows = "".join(f"<tr>{cells('td', row)}</tr>" for row in table.rows)
    return f"<table><thead>{head}</thead><tbody>{rows}</tbody></table>"


def inline(text: str) -> str:
    """Escaped text with Markdown's `code` spans as <code>."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", html_text(text))


__all__ = ["STYLE", "inline", "page", "section_html", "table_html"]

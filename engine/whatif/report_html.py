"""`report.html`: the what-if report's sections as one self-contained page (`engine.page.html`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.page.html import page
from engine.whatif.sections import sections, title

if TYPE_CHECKING:
    from engine.whatif.report import Report

HOW_TO_READ = (
    "Green bars gain, red bars lose (in yuan, exact to the fen). <b>Totals</b> and <b>by level</b> "
    "compare the two versions on the same cases; <b>attribution</b> applies each changed clause "
    "alone to the base version — the parts and the interaction add up to the change; <b>cases "
    "that change category</b> shows which classification rules moved cases; <b>threshold "
    "exposure</b> says where a small change of a parameter moves many cases or much money."
)


def render_html(report: Report) -> str:
    return page(title(report), HOW_TO_READ, sections(report))


__all__ = ["render_html"]

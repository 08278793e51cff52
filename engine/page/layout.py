"""The parts of a what-if report as text, tables and charts, before any markup."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Table:
    """Headers and rows of text; `numeric` columns are aligned right."""

    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool]


@dataclass(frozen=True)
class Section:
    """One part of the report."""

    key: str
    title: str
    lead: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[bool]) -> Table:
    """A table of any values, shown as text."""
    return Table(list(headers), [[str(c) for c in row] for row in rows], list(numeric))


__all__ = ["Section", "Table", "table"]

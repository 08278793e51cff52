"""Symbols in force in each stage of a resolved policy, and `did you mean` suggestions."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from policy_dsl import ast as a
from policy_dsl.builtins import CORE_FIELDS, Field
from policy_dsl.loader import Entry, Resolved, StageInfo

SymbolKind = Literal[
    "field", "input", "param", "table", "definition", "invariant", "document", "indicator", "target"
]


@dataclass(frozen=True)
class Symbol:
    """A name and what it stands for."""

    name: str
    kind: SymbolKind
    entry: Entry | None = None
    field: Field | None = None

    @property
    def stage(self) -> str | None:
        return self.entry.stage if self.entry else None


def _kind(decl: a.Declaration) -> SymbolKind:
    if isinstance(decl, a.Param):
        return "param"
    if isinstance(decl, a.Table):
        return "table"
    if isinstance(decl, a.Input):
        return "input"
    if isinstance(decl, a.Invariant):
        return "invariant"
    if isinstance(decl, a.Document):
        return "document"
    if isinstance(decl, a.Indicator):
        return "indicator"
    if isinstance(decl, a.Target):
        return "target"
    return "definition"


class Scope:
    """Name lookup: a stage's own declarations, then shared ones, then the core input fields."""

    def __init__(self, resolved: Resolved) -> None:
        self.resolved = resolved
        self.by_stage: dict[str | None, dict[str, Symbol]] = {None: {}}
        for info in resolved.stages:
            self.by_stage.setdefault(info.name, {})
        for entry in resolved.entries:
            table = self.by_stage.setdefault(entry.stage, {})
            table.setdefault(entry.decl.name, Symbol(entry.decl.name, _kind(entry.decl), entry))

    def stage_info(self, name: str) -> StageInfo | None:
        return next((s for s in self.resolved.stages if s.name == name), None)

    def stage_index(self, name: str | None) -> int:
        names = [s.name for s in self.resolved.stages]
        return names.index(name) if name in names else -1

    def lookup(self, name: str, stage: str | None) -> Symbol | None:
        if stage is not None and name in self.by_stage.get(stage, {}):
            return self.by_stage[stage][name]
        if name in self.by_stage[None]:
            return self.by_stage[None][name]
        field = CORE_FIELDS.get(name)
        return Symbol(name, "field", field=field) if field else None

    def visible(self, stage: str | None) -> list[str]:
        own = list(self.by_stage.get(stage, {})) if stage else []
        return own + list(self.by_stage[None]) + list(CORE_FIELDS)

    def documents(self) -> dict[str, Entry]:
        return {e.decl.name: e for e in self.resolved.entries if isinstance(e.decl, a.Document)}


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """`did you mean \\`x\\`?` for the closest candidate, if any is close."""
    close = difflib.get_close_matches(name, list(dict.fromkeys(candidates)), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None

"""Checking a library module's declarations (库模块) once for every version that includes it.

Every version of a city takes in the standard indicators (`include "indicators"`): the same
declarations — the same parsed objects, the module being parsed once per process — inferred
again, each indicator at each grain it lists, for each version; that was half of checking a city.
The check of a module's definition or indicator is a function of its declaration, of what the
names it reads stand for in the including policy (looked up in its scope) and of the policy's
method and output stages. So the first check of a module's declaration records, as a build tool
records its inputs:

- each name it looked up and what that name stood for: a definition by its inferred type and
  grain (and a classification's classes), any other declaration by its whole text and place, a
  core field by itself; each stage it looked up, by its name and period;
- what it gave (a definition's type and grain) and what it added to the inference (the reads
  between definitions, the names used, the grain each aggregate combines, the comparisons of
  numbers), which the lowering needs.

A later version replays a record when every name and stage it holds stands for the same thing
in that version's scope: it adds what the check added and reports nothing. Only a check that
reported nothing is recorded, and not one that inferred another definition first or read one
not inferred (a circle of definitions): so a version that overrides a name the module reads
(with another type, grain or text) is checked again in full and gets exactly the diagnostics
it gets without the memo (`tests/dsl/test_module_memo.py` compares the two).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from policy_dsl import ast as a
from policy_dsl import grains as g
from policy_dsl.check.infer_base import DefKey, InferenceBase, Info
from policy_dsl.check.scope import Scope, Symbol
from policy_dsl.diagnostics import Diagnostic
from policy_dsl.loader import Entry, StageInfo

Report = Callable[[Diagnostic], None]
T = TypeVar("T")
#: One read and what it gave: (`name`, (name, stage), …) or (`stage`, (name, None), …).
Read = tuple[str, tuple[str, str | None], Hashable]

#: Records kept per declaration (the variants of a city seldom differ in what a module reads),
#: and declarations in all before the memo starts afresh (a studio session editing a module).
PER_DECLARATION, DECLARATIONS = 8, 4096


@dataclass(frozen=True)
class _Added:
    """What one check added to the inference."""

    edges: dict[DefKey, set[DefKey]]
    used: set[DefKey]
    sources: dict[int, g.Grain]
    numeric_comparisons: set[int]


@dataclass(frozen=True)
class _Record(Generic[T]):
    """One clean check of a declaration: the reads it depended on, what it gave and added."""

    context: Hashable
    reads: tuple[Read, ...]
    gave: T
    added: _Added


@dataclass
class ModuleMemo:
    """The records of module declarations' checks, by declaration (held, so its id stays its)."""

    enabled: bool = True
    records: dict[int, tuple[a.Declaration, list[_Record[Any]]]] = field(default_factory=dict)

    def check(self, entry: Entry, inference: InferenceBase, run: Callable[[Report], T]) -> T:
        """`run(report)` — the check of `entry`, reporting to `report` — or the replay of a
        record that holds; what it gives."""
        if not self.enabled or not entry.file.header.library or entry.stage is not None:
            return run(inference.report)  # (a module has no stages: what it declares is shared)
        context = _context(inference.scope)
        held = self.records.get(id(entry.decl))
        kept = held[1] if held is not None and held[0] is entry.decl else []
        for record in kept:
            if record.context == context and _still_hold(record.reads, inference):
                _add(inference, record.added)
                gave: T = record.gave
                return gave
        new, gave = _recorded(run, inference, context)
        if new is not None:
            if len(self.records) >= DECLARATIONS:
                self.records.clear()
            self.records[id(entry.decl)] = (entry.decl, [new, *kept][:PER_DECLARATION])
        return gave


MEMO = ModuleMemo()


class _RecordingScope:
    """The including policy's scope, with every name and stage looked up noted."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.names: dict[tuple[str, str | None], Symbol | None] = {}
        self.stages: dict[str, StageInfo | None] = {}

    def lookup(self, name: str, stage: str | None) -> Symbol | None:
        symbol = self.scope.lookup(name, stage)
        self.names[(name, stage)] = symbol
        return symbol

    def stage_info(self, name: str) -> StageInfo | None:
        info = self.scope.stage_info(name)
        self.stages[name] = info
        return info

    def __getattr__(self, name: str) -> Any:
        return getattr(self.scope, name)


def _recorded(
    run: Callable[[Report], T], inference: InferenceBase, context: Hashable
) -> tuple[_Record[T] | None, T]:
    """Run the check with the scope recorded and the additions collected apart; what it gave,
    and its record when the check reported nothing, inferred no definition anew and read none
    not inferred."""
    scope, report, saved = inference.scope, inference.report, _added_of(inference)
    recording = _RecordingScope(scope)
    added = _Added({}, set(), {}, set())
    reported: list[Diagnostic] = []
    inferred = len(inference.infos)

    def noted(diagnostic: Diagnostic) -> None:
        reported.append(diagnostic)
        report(diagnostic)

    inference.scope, inference.report = recording, noted  # type: ignore[assignment]
    _set_added(inference, added)
    try:
        gave = run(noted)
    finally:
        inference.scope, inference.report = scope, report
        _set_added(inference, saved)
        _add(inference, added)
    if reported or len(inference.infos) != inferred:
        return None, gave
    reads = [("name", k, _symbol_signature(sym, inference)) for k, sym in recording.names.items()]
    reads += [("stage", (n, None), _stage_signature(i)) for n, i in recording.stages.items()]
    if any(was is _NOT_INFERRED for _, _, was in reads):
        return None, gave
    return _Record(context, tuple(reads), gave, added), gave


def _still_hold(reads: tuple[Read, ...], inference: InferenceBase) -> bool:
    scope = inference.scope
    for kind, (name, stage), was in reads:
        if kind == "stage":
            now = _stage_signature(scope.stage_info(name))
        else:
            now = _symbol_signature(scope.lookup(name, stage), inference)
        if now != was:
            return False
    return True


def _symbol_signature(symbol: Symbol | None, inference: InferenceBase) -> Hashable:
    """What a check can learn of a name: a definition its type and grain (a classification also
    its classes), any other declaration its whole text and place, a core field itself."""
    if symbol is None or symbol.entry is None:
        return symbol
    decl, key = symbol.entry.decl, (symbol.stage, symbol.name)
    if symbol.kind != "definition":
        return (symbol.kind, key, decl)
    if key not in inference.infos:
        return _NOT_INFERRED
    info: Info | None = inference.infos[key]
    classes = tuple(c.name for c in decl.classes) if isinstance(decl, a.Classify) else None
    return ("definition", key, info, classes)


#: A definition read before it was inferred (in a circle): such a check is not recorded.
_NOT_INFERRED = object()


def _stage_signature(info: StageInfo | None) -> Hashable:
    return None if info is None else (info.name, info.period)


def _context(scope: Scope) -> Hashable:
    """What a module indicator's check reads of the including policy besides its names: its
    method, whether it is a module itself, and the stages that settle cases (`settled.`)."""
    from policy_dsl.check.structure import output_scopes

    header = scope.resolved.header
    return (header.library, header.method, tuple(output_scopes(scope)))


def _added_of(inference: InferenceBase) -> _Added:
    return _Added(inference.edges, inference.used, inference.sources, inference.numeric_comparisons)


def _set_added(inference: InferenceBase, added: _Added) -> None:
    inference.edges, inference.used = added.edges, added.used
    inference.sources, inference.numeric_comparisons = added.sources, added.numeric_comparisons


def _add(inference: InferenceBase, added: _Added) -> None:
    """Add what one check added, in the order it added it."""
    for key, reads in added.edges.items():
        inference.edges.setdefault(key, set()).update(reads)
    inference.used.update(added.used)
    inference.sources.update(added.sources)
    inference.numeric_comparisons.update(added.numeric_comparisons)

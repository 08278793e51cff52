"""Applying changes of a semantic diff to the base version (条款补丁): the base version's rules with
just those changes made, on the syntax tree, as a resolved policy ready to check and lower.

A change is found by its `clause` (see `policy_dsl.diff`). A changed declaration takes the new
version's declaration but keeps the base's parts (rows, classes, arms, steps), which are changes
of their own; a part is put in place of the base's one, or, when added or moved, after the part
that precedes it in the new version. A change that reads declarations the new version adds (a
rewritten definition that reads a new parameter, a class citing a new document, a declaration of a
new stage) brings them along; `Patched.brought` names them.

`separate` splits a diff into the units a what-if measures one by one: each change with what it
brings along, and changes that do not check without each other grouped, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from policy_dsl import ast as a
from policy_dsl.check import Checked, check
from policy_dsl.diff import Change, clause_id
from policy_dsl.facets import declaration_item, row_key
from policy_dsl.loader import Entry, PolicyFile, Resolved, StageInfo
from policy_dsl.references import Key, references

#: The field of each declaration that holds its parts.
PARTS = {a.Table: "rows", a.Classify: "classes", a.Formula: "arms", a.Adjust: "steps"}
HEADER = {
    "title": ("title",),
    "effective": ("effective_from", "effective_to"),
    "method": ("method",),
    "include": ("includes",),
}


@dataclass(frozen=True)
class Patched:
    """The base version with some changes applied, and the clauses of what they brought along."""

    resolved: Resolved
    applied: tuple[str, ...]
    brought: tuple[str, ...]


def patch(base: Resolved, new: Resolved, changes: Iterable[Change]) -> Patched:
    """`base` with `changes` (from `diff_versions(base, new)`) applied, and what they need."""
    state = _State(base, new)
    applied = []
    for change in changes:
        state.apply(change)
        applied.append(change.clause)
    brought = state.bring_needed()
    return Patched(state.resolved(), tuple(applied), tuple(brought))


def part_name(part: a.Node) -> str:
    """A part's name as the diff writes it: a row's key or range, a class, arm or step name."""
    if isinstance(part, a.RangeRow | a.KeyRow | a.DefaultRow):
        return row_key(part)[1]
    if isinstance(part, a.FormulaArm):
        return part.class_name or "otherwise"
    assert isinstance(part, a.ClassArm | a.Step)
    return part.name


def clause_of(entry: Entry) -> str:
    """The clause that names a whole declaration, e.g. `param:low_ratio_grassroots`."""
    return clause_id(declaration_item(entry.decl, entry.stage).what, entry.decl.name, entry.stage)


class _State:
    """The entries, stages and header being patched."""

    def __init__(self, base: Resolved, new: Resolved) -> None:
        self.base = base
        self.new = new
        self.header = base.header
        self.entries: dict[Key, Entry] = {(e.stage, e.decl.name): e for e in base.entries}
        self.stages: dict[str, StageInfo] = {s.name: s for s in base.stages}
        self.new_entries = {(e.stage, e.decl.name): e for e in new.entries}
        self.new_stages = {s.name: s for s in new.stages}
        self.touched: list[Entry] = []

    def apply(self, change: Change) -> None:
        if change.what in HEADER:
            values = {f: getattr(self.new.header, f) for f in HEADER[change.what]}
            self.header = replace(self.header, **values)
        elif change.what == "stage":
            self._put_stage(change.name)
        elif change.part is None:
            self._put_declaration((change.stage, change.name))
        else:
            self._put_part((change.stage, change.name), change.part, "order" in _aspects(change))

    def _put_stage(self, name: str) -> None:
        info = self.new_stages.get(name)
        if info is None:
            self.stages.pop(name, None)
        else:
            self.stages[name] = info

    def _put_declaration(self, key: Key) -> None:
        entry = self.new_entries.get(key)
        if entry is None:
            self.entries.pop(key, None)
            return
        old = self.entries.get(key)
        field = PARTS.get(type(entry.decl))
        if old is not None and field is not None and type(old.decl) is type(entry.decl):
            entry = replace(entry, decl=_with_parts(entry.decl, field, getattr(old.decl, field)))
        self.entries[key] = entry
        self.touched.append(entry)

    def _put_part(self, key: Key, name: str, moved: bool) -> None:
        old, new = self.entries[key], self.new_entries[key]
        field = PARTS[type(old.decl)]
        parts = _merged(getattr(old.decl, field), getattr(new.decl, field), name, moved)
        entry = replace(old, decl=_with_parts(old.decl, field, parts))
        self.entries[key] = entry
        self.touched.append(replace(new, decl=_only_part(new.decl, field, name)))

    def bring_needed(self) -> list[str]:
        """Bring the new version's declarations and stages that the applied changes read and the
        patched version lacks, and what those read in turn; their clauses."""
        brought: list[str] = []
        pending = list(self.touched)
        while pending:
            entry = pending.pop()
            if entry.stage is not None and entry.stage not in self.stages:
                self.stages[entry.stage] = self.new_stages[entry.stage]
                brought.append(f"stage:{entry.stage}")
            for key in sorted(references(entry), key=str):
                found = self._find(key, self.new_entries)
                if found is not None and self._find(key, self.entries) is None:
                    self.entries[(found.stage, found.decl.name)] = found
                    brought.append(clause_of(found))
                    pending.append(found)
        return sorted(brought)

    def _find(self, key: Key, entries: dict[Key, Entry]) -> Entry | None:
        stage, name = key
        return entries.get((stage, name)) or entries.get((None, name))

    def resolved(self) -> Resolved:
        top = self.base.top
        top = replace(top, tree=replace(top.tree, header=self.header))
        order = [*self.new_stages, *self.stages]
        stages = sorted(self.stages.values(), key=lambda s: order.index(s.name))
        entries = list(self._ordered_entries())
        return Resolved(top, self.base.chain, entries, stages, modules=self._modules())

    def _modules(self) -> list[PolicyFile]:
        """The library modules of the version whose `include`s the patched header has."""
        same = self.header.includes == self.new.header.includes
        return self.new.modules if same else self.base.modules

    def _ordered_entries(self) -> Iterator[Entry]:
        """Entries in the base's order, new ones after the entry that precedes them in `new`."""
        base_keys = [(e.stage, e.decl.name) for e in self.base.entries]
        placed = [k for k in base_keys if k in self.entries]
        for key in self.new_entries:
            if key in self.entries and key not in placed:
                placed.insert(_after(placed, list(self.new_entries), key), key)
        placed += [k for k in self.entries if k not in placed]
        return (self.entries[k] for k in placed)


def _aspects(change: Change) -> set[str]:
    return {x.name for x in change.aspects}


def _merged(old: Sequence[Any], new: Sequence[Any], name: str, moved: bool) -> tuple[Any, ...]:
    """`old` parts with part `name` as in `new`: replaced in place, removed, or (when added or
    moved) put after the part that precedes it in `new`."""
    wanted = next((p for p in new if part_name(p) == name), None)
    names = [part_name(p) for p in old]
    if wanted is not None and name in names and not moved:
        return tuple(wanted if n == name else p for p, n in zip(old, names, strict=True))
    kept = [p for p in old if part_name(p) != name]
    if wanted is None:
        return tuple(kept)
    kept_names = [part_name(p) for p in kept]
    kept.insert(_after(kept_names, [part_name(p) for p in new], name), wanted)
    return tuple(kept)


def _after(placed: list[Any], order: list[Any], key: Any) -> int:
    """Where `key` goes in `placed`: after the nearest item before it in `order` that is placed."""
    before = order[: order.index(key)]
    return next((placed.index(k) + 1 for k in reversed(before) if k in placed), 0)


def _only_part(decl: a.Declaration, field: str, name: str) -> a.Declaration:
    """The declaration with only part `name` (what a part change reads)."""
    parts = tuple(p for p in getattr(decl, field) if part_name(p) == name)
    return _with_parts(decl, field, parts)


def _with_parts(decl: Any, field: str, parts: tuple[Any, ...]) -> a.Declaration:
    result: a.Declaration = replace(decl, **{field: parts})
    return result


# ---- units of measurement ------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """Changes measured together: one change, or several that do not check without each other
    (`note` says why), with the declarations they bring along."""

    changes: tuple[Change, ...]
    patched: Patched
    checked: Checked
    note: str | None = None

    @property
    def clauses(self) -> tuple[str, ...]:
        return tuple(c.clause for c in self.changes)

    @property
    def ok(self) -> bool:
        return self.checked.ok


def separate(base: Resolved, new: Resolved, changes: Sequence[Change]) -> list[Unit]:
    """The units of a diff: every change alone, except the declarations that other changes bring
    along; changes that do not check alone are grouped with the changes they read or that read
    them, then with every other failing one, until each unit checks."""
    alone = {c.clause: patch(base, new, [c]) for c in changes}
    needed = {clause for p in alone.values() for clause in p.brought}
    groups = [[c] for c in changes if c.clause not in needed]
    units = [_unit(base, new, g) for g in groups]
    while any(not u.ok for u in units) and len(units) > 1:
        merged = _merge_failing(base, new, units)
        if len(merged) == len(units):
            merged = _merge_all_failing(base, new, units)
        units = merged
    return units


def _unit(base: Resolved, new: Resolved, changes: list[Change], note: str | None = None) -> Unit:
    patched = patch(base, new, changes)
    return Unit(tuple(changes), patched, check(patched.resolved), note)


def _merge_failing(base: Resolved, new: Resolved, units: list[Unit]) -> list[Unit]:
    """The first failing unit merged with the units related to it."""
    failing = next(u for u in units if not u.ok)
    related = [u for u in units if u is failing or _related(failing, u)]
    if len(related) == 1:
        return units
    return _replace(base, new, units, related, _why(failing))


def _merge_all_failing(base: Resolved, new: Resolved, units: list[Unit]) -> list[Unit]:
    failing = [u for u in units if not u.ok]
    group = failing if len(failing) > 1 else units
    return _replace(base, new, units, group, _why(failing[0]))


def _replace(
    base: Resolved, new: Resolved, units: list[Unit], group: list[Unit], note: str
) -> list[Unit]:
    changes = [c for u in units if u in group for c in u.changes]
    notes = [n for u in group if (n := u.note)]
    merged = _unit(base, new, changes, "; ".join(dict.fromkeys([*notes, note])))
    at = units.index(group[0])
    rest = [u for u in units if u not in group]
    return [*rest[:at], merged, *rest[at:]]


def _why(unit: Unit) -> str:
    error = next(d for d in unit.checked.diagnostics if d.severity == "error")
    return f"{', '.join(unit.clauses)} cannot be applied alone ({error.code}: {error.message})"


def _related(first: Unit, second: Unit) -> bool:
    """Units that touch the same declaration, or one reads what the other changes."""
    return bool(
        _subjects(first) & (_subjects(second) | _read(second)) or _subjects(second) & _read(first)
    )


def _subjects(unit: Unit) -> set[str]:
    return {c.name for c in unit.changes}


def _read(unit: Unit) -> set[str]:
    entries = unit.patched.resolved.entries
    wanted = _subjects(unit)
    return {name for e in entries if e.decl.name in wanted for _, name in references(e)}


__all__ = ["Patched", "Unit", "clause_of", "part_name", "patch", "separate"]

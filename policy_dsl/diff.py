"""Semantic diff of two versions (版本比对): what changed in the rules, item by item.

Both sides are resolved policies (`extends` applied), so the diff compares the rules in force, not
the files. Declarations are matched by stage and name; classes, formula arms and adjustment steps
by name; table rows by their key or range. Layout, comments, `override` and the spelling of a
number (`40%` = `0.4`, `¥5` = `5 元`) are not changes. The version string and `extends` name the
files, not the rules, and are not compared.

Granularity: a declaration present on both sides is one change (its value, formula, label, type,
grain or citations), plus one change per class, arm, step or row that differs; a class, step or
stage that moved is `changed` in its `order` (classes match first-come, steps apply in turn,
stages run in turn). A declaration added or removed is one change with all its parts. A definition
that changes its form (a `let` that becomes an `adjust`) is one `changed definition`, aspect
`form`.

Every change has a `clause` that names it stably across runs and layouts, for tools that apply one
change alone to the base version. Names in a stage are written `stage.name`, as in the language:

    header:title   header:effective   header:method   stage:<stage>
    document:<name>   input:<name>   param:<name>   table:<name>   invariant:<name>
    definition:<name>                 (let, report, classify, formula, adjust)
    row:<table>/<key or range>   class:<classify>/<class>   arm:<formula>/<class>
    step:<adjust>/<step>
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any, Literal

from policy_dsl import ast as a
from policy_dsl.check import Checked, check
from policy_dsl.diagnostics import PolicyErrors
from policy_dsl.facets import (
    DEFINITIONS,
    FORMS,
    Facet,
    Item,
    citation_texts,
    declaration_item,
    label_facet,
    part_items,
    stage_item,
    word_facet,
)
from policy_dsl.loader import Resolved, read_policy_file, resolve

Kind = Literal["added", "removed", "changed"]
HEADER_FIELDS = ("title", "effective", "method", "include")

#: Clause prefix of each kind of item.
PREFIXES = {
    **{name: "header" for name in HEADER_FIELDS},
    "stage": "stage",
    "document": "document",
    "input": "input",
    "parameter": "param",
    "table": "table",
    "definition": "definition",
    "report": "definition",
    "classification": "definition",
    "formula": "definition",
    "adjustment": "definition",
    "invariant": "invariant",
    "indicator": "indicator",
    "target": "target",
    "row": "row",
    "class": "class",
    "arm": "arm",
    "step": "step",
}

#: Aspects that are the item's value itself, shown without their name.
VALUE_ASPECTS = ("value", "form")


@dataclass(frozen=True)
class Aspect:
    """One aspect of an item that changed (value, condition, label, citations, order…)."""

    name: str
    old: str | None
    new: str | None

    @property
    def is_value(self) -> bool:
        return self.name in VALUE_ASPECTS

    def describe(self) -> str:
        change = f"{_shown(self.old)} → {_shown(self.new)}"
        return change if self.is_value else f"{self.name} {change}"


@dataclass(frozen=True)
class Change:
    """One difference between two versions: `old` and `new` are each side's canonical text;
    `details` lists the parts (rows, classes, arms, steps) of an added or removed declaration, or
    of the new form of a definition whose form changed."""

    kind: Kind
    what: str
    name: str
    stage: str | None = None
    part: str | None = None
    old: str | None = None
    new: str | None = None
    aspects: tuple[Aspect, ...] = ()
    old_citations: tuple[str, ...] = ()
    new_citations: tuple[str, ...] = ()
    details: tuple[str, ...] = ()

    @property
    def clause(self) -> str:
        """Stable identifier, e.g. `param:low_ratio_grassroots`, `class:category/low`."""
        return clause_id(self.what, self.name, self.stage, self.part)

    @property
    def citation_only(self) -> bool:
        """Only the sources changed (出处变更): the rule reads the same."""
        return self.kind == "changed" and all(x.name == "citations" for x in self.aspects)

    @property
    def subject(self) -> str:
        """What changed, as a reader names it: `parameter cv_limit`, `class category/low`."""
        return self.what if self.what in HEADER_FIELDS else f"{self.what} {self._qualified()}"

    def _qualified(self) -> str:
        return _qualified(self.name, self.stage, self.part)

    def describe(self) -> str:
        """One line for a reader: `changed parameter low_ratio_standard: 40% → 30%`."""
        head = f"{self.kind} {self.subject}"
        if self.kind == "added":
            return f"{head}: {self.new}"
        if self.kind == "removed":
            return f"{head} (was {self.old})"
        flag = " (citation only)" if self.citation_only else ""
        return f"{head}{flag}: " + "; ".join(x.describe() for x in self.aspects)

    def to_json(self) -> dict[str, Any]:
        """The change as plain data, stable across runs."""
        return {
            "clause": self.clause,
            "kind": self.kind,
            "what": self.what,
            "stage": self.stage,
            "name": self.name,
            "part": self.part,
            "old": self.old,
            "new": self.new,
            "aspects": [{"aspect": x.name, "old": x.old, "new": x.new} for x in self.aspects],
            "citation_only": self.citation_only,
            "old_citations": list(self.old_citations),
            "new_citations": list(self.new_citations),
            "details": list(self.details),
            "description": self.describe(),
        }


def _shown(text: str | None) -> str:
    return "(none)" if text is None else text


def clause_id(what: str, name: str, stage: str | None = None, part: str | None = None) -> str:
    """The clause of an item (a change's, or a declaration's or part's as `render` shows it):
    `header:title`, `param:low_ratio_grassroots`, `class:category/low`, `step:monthly.x/y`."""
    if what in HEADER_FIELDS:
        return f"header:{name}"
    return f"{PREFIXES[what]}:{_qualified(name, stage, part)}"


def _qualified(name: str, stage: str | None, part: str | None) -> str:
    named = f"{stage}.{name}" if stage else name
    return f"{named}/{part}" if part is not None else named


# ---- entry points ------------------------------------------------------------------------


def diff_versions(old: Resolved, new: Resolved) -> list[Change]:
    """Every change from `old` to `new`: header, stages, then declarations in `new`'s order
    (removed ones last)."""
    changes = list(_header_changes(old, new))
    stages = [stage_item(s) for s in old.stages], [stage_item(s) for s in new.stages]
    changes += _matched(*stages, ordered=True)
    before = {(e.stage, e.decl.name): e.decl for e in old.entries}
    after = {(e.stage, e.decl.name): e.decl for e in new.entries}
    for stage, name in _union(after, before):
        changes += _declaration_changes(before.get((stage, name)), after.get((stage, name)), stage)
    return changes


def checked_versions(*paths: Path | str) -> list[Checked]:
    """Read, resolve and check each file; raises `PolicyErrors` with the errors of them all."""
    checked = [check(resolve(read_policy_file(path))) for path in paths]
    errors = [d for c in checked for d in c.diagnostics if d.severity == "error"]
    if errors:
        raise PolicyErrors(errors)
    return checked


def diff_files(old: Path | str, new: Path | str) -> list[Change]:
    """The diff of two policy files that check clean."""
    before, after = checked_versions(old, new)
    return diff_versions(before.resolved, after.resolved)


def _union(first: dict[Any, Any], second: dict[Any, Any]) -> list[Any]:
    return [*first, *(key for key in second if key not in first)]


# ---- header and declarations ----------------------------------------------------------------


def _header_changes(old_version: Resolved, new_version: Resolved) -> Iterator[Change]:
    old, new = old_version.header, new_version.header
    for name, before, after in (
        ("title", label_facet(old.title), label_facet(new.title)),
        ("effective", _period(old), _period(new)),
        ("method", word_facet(old.method), word_facet(new.method)),
        ("include", _includes(old_version), _includes(new_version)),
    ):
        if before[0] != after[0]:
            aspect = Aspect("value", before[1], after[1])
            yield Change("changed", name, name, old=before[1], new=after[1], aspects=(aspect,))


def _includes(version: Resolved) -> Facet:
    """The modules in force: a version that extends another keeps the includes of its base."""
    names = list(dict.fromkeys(n for f in version.chain for n in f.header.includes))
    return names, ", ".join(f'"{n}"' for n in names) or None


def _period(header: a.Header) -> Facet:
    start, end = header.effective_from, header.effective_to
    return (start, end), _date(start) + (f" to {_date(end)}" if end else "")


def _date(day: dt.date | None) -> str:
    return day.isoformat() if day else "(none)"


def _declaration_changes(
    old: a.Declaration | None, new: a.Declaration | None, stage: str | None
) -> list[Change]:
    if old is not None and new is not None and type(old) is not type(new):
        if isinstance(old, DEFINITIONS) and isinstance(new, DEFINITIONS):
            return [_form_change(old, new, stage)]
        return [*_declaration_changes(old, None, stage), *_declaration_changes(None, new, stage)]
    before = declaration_item(old, stage) if old is not None else None
    after = declaration_item(new, stage) if new is not None else None
    change = _compare(before, after)
    parts: list[Change] = []
    if old is not None and new is not None:
        ordered = isinstance(new, a.Classify | a.Adjust)
        parts = _matched(part_items(old, stage), part_items(new, stage), ordered)
    return ([change] if change else []) + parts


def _form_change(old: a.Declaration, new: a.Declaration, stage: str | None) -> Change:
    """A definition that changed its form, e.g. `let` → `adjust`: one change of the whole."""
    before, after = declaration_item(old, stage), declaration_item(new, stage)
    old_text = f"{FORMS[type(old)]} {before.summary}"
    new_text = f"{FORMS[type(new)]} {after.summary}"
    return Change(
        "changed",
        "definition",
        new.name,
        stage,
        old=old_text,
        new=new_text,
        aspects=(Aspect("form", old_text, new_text),),
        old_citations=citation_texts(before.citations),
        new_citations=citation_texts(after.citations),
        details=after.details,
    )


# ---- matching and comparing ------------------------------------------------------------------


def _matched(old: list[Item], new: list[Item], ordered: bool = False) -> list[Change]:
    """Changes between two lists of items, matched by key; in `new`'s order, removed ones last."""
    before = {item.match_key: item for item in old}
    after = {item.match_key: item for item in new}
    moves = _moves(old, new) if ordered else {}
    found = (_compare(before.get(k), after.get(k), moves.get(k)) for k in _union(after, before))
    return [change for change in found if change is not None]


def _moves(old: list[Item], new: list[Item]) -> dict[object, Aspect]:
    """Items that changed place among the items on both sides, with where they stood."""
    new_keys = {item.match_key for item in new}
    common = [item.match_key for item in old if item.match_key in new_keys]
    common_new = [item.match_key for item in new if item.match_key in set(common)]
    matcher = SequenceMatcher(None, common, common_new, autojunk=False)
    kept = {k for b in matcher.get_matching_blocks() for k in common[b.a : b.a + b.size]}
    return {
        key: Aspect("order", _place(old, key), _place(new, key))
        for key in common
        if key not in kept
    }


def _place(items: list[Item], key: object) -> str:
    index = next(i for i, item in enumerate(items) if item.match_key == key)
    if index == 0:
        return "first"
    before = items[index - 1]
    return f"after {before.part or before.name}"


def _compare(old: Item | None, new: Item | None, moved: Aspect | None = None) -> Change | None:
    if old is None:
        return _one_side("added", new)
    if new is None:
        return _one_side("removed", old)
    before, after = old.all_facets(), new.all_facets()
    aspects = [Aspect(k, before[k][1], after[k][1]) for k in after if before[k][0] != after[k][0]]
    if moved is not None:
        aspects.insert(0, moved)
    if not aspects:
        return None
    return Change(
        "changed",
        new.what,
        new.name,
        new.stage,
        new.part,
        old.summary,
        new.summary,
        tuple(aspects),
        citation_texts(old.citations),
        citation_texts(new.citations),
    )


def _one_side(kind: Literal["added", "removed"], item: Item | None) -> Change:
    """An item only one side has, shown with its citations and parts."""
    assert item is not None
    cited = citation_texts(item.citations)
    added = kind == "added"
    return Change(
        kind,
        item.what,
        item.name,
        item.stage,
        item.part,
        old=None if added else item.summary,
        new=item.summary if added else None,
        old_citations=() if added else cited,
        new_citations=cited if added else (),
        details=item.details,
    )


__all__ = ["Aspect", "Change", "checked_versions", "clause_id", "diff_files", "diff_versions"]

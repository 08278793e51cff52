"""What the semantic diff compares of each declaration, and how it shows it.

Every declaration, stage and part (table row, class, formula arm, adjustment step) is seen as an
`Item`: a summary text, and its facets: the aspects that carry meaning (value, condition, label,
type, grain…), each as a pair (meaning, text). Meanings drop spans and spell numbers one way
(`40%` is `0.4`), so two items differ exactly when a facet's meaning differs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import Any

from policy_dsl import ast as a
from policy_dsl.check.tables import literal_value
from policy_dsl.format import citation_text, field_text
from policy_dsl.loader import StageInfo
from policy_dsl.types import LITERAL_UNITS
from policy_dsl.unparse import expr_text, range_text, string_text

#: One aspect of an item: its meaning (compared) and its canonical text (shown).
Facet = tuple[object, str | None]

#: Definitions: one name space, so a `let` may become an `adjust` under the same name.
DEFINITIONS = (a.Let, a.Classify, a.Formula, a.Adjust)

#: The keyword that introduces each form of definition, before its summary.
FORMS: dict[type, str] = {
    a.Let: "let =",
    a.Classify: "classify",
    a.Formula: "formula",
    a.Adjust: "adjust",
}


@dataclass(frozen=True)
class Item:
    """Something one side has that can be added, removed or changed: a declaration, a stage or a
    part of a declaration (`part` names it within its declaration)."""

    what: str
    name: str
    stage: str | None
    summary: str
    facets: dict[str, Facet]
    citations: tuple[a.Citation, ...] = ()
    part: str | None = None
    key: object = None
    details: tuple[str, ...] = ()

    @property
    def match_key(self) -> object:
        """What pairs it with the other side's item: its name, or a row's key by value."""
        return self.key if self.key is not None else (self.part or self.name)

    def all_facets(self) -> dict[str, Facet]:
        """Its facets, citations last."""
        texts = "; ".join(citation_texts(self.citations)) or None
        return {**self.facets, "citations": (meaning(self.citations), texts)}


def meaning(node: object) -> object:
    """A node's meaning: spans dropped, numbers as value and unit (`40%` is `0.4`)."""
    if isinstance(node, a.Number):
        return ("number", literal_value(node), LITERAL_UNITS[node.kind])
    if isinstance(node, a.Node):
        parts = (meaning(getattr(node, f.name)) for f in fields(node) if f.name != "span")
        return (type(node).__name__, *parts)
    if isinstance(node, tuple):
        return tuple(meaning(x) for x in node)
    return node


def citation_texts(citations: Iterable[a.Citation]) -> tuple[str, ...]:
    """`source doc "article"` / `assumption "…"`, one text per citation."""
    return tuple(citation_text(c) for c in citations)


def expr_facet(expr: a.Expr | None, absent: str | None = None) -> Facet:
    return meaning(expr), expr_text(expr) if expr is not None else absent


def label_facet(text: str | None) -> Facet:
    return text, string_text(text) if text is not None else None


def word_facet(word: str | None) -> Facet:
    return word, word


def _grain(grain: a.Grain | None) -> Facet:
    keys = grain.keys if grain else ()
    return frozenset(keys), ", ".join(keys) or None


# ---- stages and declarations -------------------------------------------------------------------


def stage_item(info: StageInfo) -> Item:
    facets = {"period": word_facet(info.period), "label": label_facet(info.label)}
    return Item("stage", info.name, None, f"per {info.period}", facets, info.node.citations)


def declaration_item(decl: a.Declaration, stage: str | None) -> Item:
    what, summary, facets = _VIEWS[type(decl)](decl)
    citations = getattr(decl, "citations", ())
    details = tuple(f"{p.what} {p.part}: {p.summary}" for p in part_items(decl, stage))
    return Item(what, decl.name, stage, summary, facets, citations, details=details)


View = tuple[str, str, dict[str, Facet]]


def _document(d: a.Document) -> View:
    """A document's title and each of its fields is a facet: a changed 文号, date, status or
    text is a change of the document clause."""
    facets: dict[str, Facet] = {"title": label_facet(d.title)}
    facets |= {name: (None, None) for name in a.DOCUMENT_FIELDS}
    for field in d.fields:
        if facets.get(field.name, (None, None)) == (None, None):
            facets[field.name] = (meaning(field.value), field_text(field))
    number = d.value("number")
    shown = f" ({number})" if number and number != "none" else ""
    return "document", string_text(d.title) + shown, facets


def _input(d: a.Input) -> View:
    grain = f" at {', '.join(d.grain.keys)}" if d.grain else ""
    facets = {
        "table": word_facet(d.table),
        "type": word_facet(d.type),
        "grain": _grain(d.grain),
        "label": label_facet(d.label),
    }
    return "input", f"{d.table}.{d.name} : {d.type}{grain}", facets


def _param(d: a.Param) -> View:
    facets = {
        "value": expr_facet(d.value),
        "type": word_facet(d.type),
        "range": (meaning(d.range), range_text(d.range) if d.range else None),
        "label": label_facet(d.label),
    }
    return "parameter", expr_text(d.value), facets


def _table(d: a.Table) -> View:
    facets = {
        "key type": word_facet(d.key_type),
        "value type": word_facet(d.value_type),
        "label": label_facet(d.label),
    }
    return "table", f"from {d.key_type} to {d.value_type}", facets


def _let(d: a.Let) -> View:
    facets = {
        "value": expr_facet(d.expr),
        "type": word_facet(d.type),
        "grain": _grain(d.grain),
        "label": label_facet(d.label),
        "keyword": word_facet("report" if d.report else "let"),
    }
    return ("report" if d.report else "definition"), expr_text(d.expr), facets


def _classify(d: a.Classify) -> View:
    return "classification", ", ".join(c.name for c in d.classes), {"label": label_facet(d.label)}


def _formula(d: a.Formula) -> View:
    facets = {"by": word_facet(d.by), "type": word_facet(d.type), "label": label_facet(d.label)}
    return "formula", f"by {d.by}", facets


def _adjust(d: a.Adjust) -> View:
    facets = {
        "start": expr_facet(d.start),
        "type": word_facet(d.type),
        "label": label_facet(d.label),
    }
    steps = ", ".join(s.name for s in d.steps)
    return "adjustment", f"from {expr_text(d.start)}; steps {steps}", facets


def _invariant(d: a.Invariant) -> View:
    text = _rule_text(d.rule)
    return "invariant", text, {"rule": (meaning(d.rule), text), "label": label_facet(d.label)}


def _rule_text(rule: a.InvariantRule) -> str:
    if isinstance(rule, a.Monotone):
        return f"monotone {rule.target} in {rule.field}"
    if isinstance(rule, a.Closes):
        return f"closes {rule.target} to {rule.budget}"
    return f"always {expr_text(rule.condition)}"


def _indicator(d: a.Indicator) -> View:
    unit = f" unit {string_text(d.unit)}" if d.unit is not None else ""
    facets = {
        "value": expr_facet(d.expr),
        "type": word_facet(d.type),
        "unit": label_facet(d.unit),
        "grains": (tuple(d.grains), ", ".join(d.grains)),
        "listing": expr_facet(d.listing),
        "label": label_facet(d.label),
    }
    return "indicator", f": {d.type}{unit} for {', '.join(d.grains)}", facets


def _target(d: a.Target) -> View:
    text = target_text(d)
    facets = {"rule": (meaning((d.indicator, d.op, d.threshold, d.grains, d.per)), text)}
    return "target", text, facets | {"label": label_facet(d.label)}


def target_text(d: a.Target) -> str:
    """`grouping_rate >= 90% for city, month`."""
    grains = f" for {', '.join(d.grains)}" if d.grains else ""
    per = f" per {d.per}" if d.per else ""
    return f"{d.indicator} {d.op} {expr_text(d.threshold)}{grains}{per}"


_VIEWS: dict[type, Callable[[Any], View]] = {
    a.Document: _document,
    a.Input: _input,
    a.Param: _param,
    a.Table: _table,
    a.Let: _let,
    a.Classify: _classify,
    a.Formula: _formula,
    a.Adjust: _adjust,
    a.Invariant: _invariant,
    a.Indicator: _indicator,
    a.Target: _target,
}


# ---- parts: rows, classes, arms, steps ---------------------------------------------------------


def part_items(decl: a.Declaration, stage: str | None) -> list[Item]:
    """The rows, classes, arms or steps of a declaration (none for the others)."""
    parts = _PARTS.get(type(decl))
    return parts(decl, stage) if parts else []


def _rows(d: a.Table, stage: str | None) -> list[Item]:
    items = []
    for row in d.rows:
        key, text = row_key(row)
        facets = {"value": expr_facet(row.value)}
        items.append(Item("row", d.name, stage, expr_text(row.value), facets, part=text, key=key))
    return items


def row_key(row: a.TableRow) -> tuple[object, str]:
    """A row's identity (its key or range, by value) and its text: `3`, `[0, 100)`, `else`."""
    if isinstance(row, a.DefaultRow):
        return ("else",), "else"
    if isinstance(row, a.KeyRow):
        return ("key", literal_value(row.key)), expr_text(row.key)
    low, high = literal_value(row.low), literal_value(row.high)
    return ("range", low, row.low_closed, high, row.high_closed), range_text(row)


def _classes(d: a.Classify, stage: str | None) -> list[Item]:
    return [
        Item(
            "class",
            d.name,
            stage,
            summary=expr_text(c.when) if c.when else "otherwise",
            facets={"condition": expr_facet(c.when, "otherwise"), "label": label_facet(c.label)},
            citations=c.citations,
            part=c.name,
        )
        for c in d.classes
    ]


def _arms(d: a.Formula, stage: str | None) -> list[Item]:
    return [
        Item(
            "arm",
            d.name,
            stage,
            summary=expr_text(arm.expr),
            facets={"value": expr_facet(arm.expr)},
            citations=arm.citations,
            part=arm.class_name or "otherwise",
        )
        for arm in d.arms
    ]


def _steps(d: a.Adjust, stage: str | None) -> list[Item]:
    return [
        Item(
            "step",
            d.name,
            stage,
            summary=f"when {expr_text(s.when)} -> {expr_text(s.expr)}",
            facets={
                "condition": expr_facet(s.when),
                "value": expr_facet(s.expr),
                "label": label_facet(s.label),
            },
            citations=s.citations,
            part=s.name,
        )
        for s in d.steps
    ]


_PARTS: dict[type, Callable[[Any, str | None], list[Item]]] = {
    a.Table: _rows,
    a.Classify: _classes,
    a.Formula: _arms,
    a.Adjust: _steps,
}

"""Lowering of run-monitoring indicators and targets to the IR: one definition per indicator and
grain (`<name>@<grain>`, its `when` as `<name>@<grain>?`), one per target's threshold
(`<name>@target`), and the shared definitions they read, in the policy's `monitoring` stage.

The stage runs after the settlement stages, over the same cases: `settled.<output>` reads the
last settling stage (`ir.Ref` to the stage `settled`), `previous.<indicator>` the previous run's
value for the same grain and key (`ir.FieldRef` of the table `previous`, column
`<name>@<grain>`).
"""

from __future__ import annotations

from typing import Any

from policy_dsl import ast as a
from policy_dsl import ir
from policy_dsl.check import Checked
from policy_dsl.check.indicators import GRAINS, PREVIOUS, listed_grains
from policy_dsl.check.infer import DefKey
from policy_dsl.grains import order
from policy_dsl.loader import Entry
from policy_dsl.lower import (
    DEFINITIONS,
    ExprLowering,
    _definition,
    _dependency_order,
    _origin,
    _reachable,
    citations_ir,
    type_ir,
)
from policy_dsl.types import BOOL, TYPE_NAMES
from policy_dsl.unparse import expr_text

STAGE = "monitoring"
#: What an indicator is counted in when it does not say (`unit "…"`), by its type's name.
DEFAULT_UNITS = {"money": "元", "count": "count", "ratio": "ratio", "weight": "weight"}


def value_name(indicator: str, grain: str) -> str:
    """The monitoring stage's definition of an indicator at a grain: `cmi@hospital`."""
    return f"{indicator}@{grain}"


def listing_name(indicator: str, grain: str) -> str:
    """The definition saying which rows of `grain` an indicator lists: `cmi@group?`."""
    return f"{value_name(indicator, grain)}?"


def threshold_name(target: str) -> str:
    return f"{target}@target"


def lower_monitoring(checked: Checked) -> dict[str, Any]:
    """The IR fields `includes`, `indicators`, `targets` and `monitoring` of a checked policy."""
    resolved = checked.resolved
    indicators = _in_dependency_order(checked)
    targets = [e for e in resolved.entries if isinstance(e.decl, a.Target) and e.stage is None]
    if not indicators:
        return {"includes": [m.header.city for m in resolved.modules]}
    roots: list[DefKey] = [(None, e.decl.name) for e in [*indicators, *targets]]
    needed = _reachable(roots, checked.inference.edges)
    helpers = [
        e
        for e in resolved.entries
        if e.stage is None and isinstance(e.decl, DEFINITIONS) and (None, e.decl.name) in needed
    ]
    definitions = [
        _definition(e, checked) for e in _dependency_order(helpers, checked.inference.edges)
    ]
    for entry in indicators:
        definitions += _indicator_definitions(entry, checked)
    for entry in targets:
        definitions.append(_threshold(entry, checked))
    return {
        "includes": [m.header.city for m in resolved.modules],
        "indicators": [_indicator(e) for e in indicators],
        "targets": [_target(e, checked) for e in targets],
        "monitoring": ir.Stage(
            name=STAGE,
            label="运行监测指标",
            period=None,
            settles_cases=False,
            definitions=definitions,
        ),
    }


def _in_dependency_order(checked: Checked) -> list[Entry]:
    """The indicators, each after the indicators it reads (otherwise in file order)."""
    from policy_dsl.references import dependency_first

    by_name = {
        e.decl.name: e
        for e in checked.resolved.entries
        if isinstance(e.decl, a.Indicator) and e.stage is None
    }

    def reads(name: str) -> list[str]:
        found = checked.inference.edges.get((None, name), set())
        return sorted(n for s, n in found if s is None and n in by_name)

    return [by_name[name] for name in dependency_first(by_name, reads)]


def _indicator(entry: Entry) -> ir.Indicator:
    decl = entry.decl
    assert isinstance(decl, a.Indicator)
    return ir.Indicator(
        name=decl.name,
        label=decl.label,
        unit=decl.unit or DEFAULT_UNITS.get(decl.type, decl.type),
        type=type_ir(TYPE_NAMES[decl.type]),
        declared_type=decl.type,
        grains=listed_grains(decl),  # type: ignore[arg-type]
        text=expr_text(decl.expr),
        listing=expr_text(decl.listing) if decl.listing is not None else None,
        citations=citations_ir(decl.citations),
        origin=_origin(entry, decl),
    )


def _indicator_definitions(entry: Entry, checked: Checked) -> list[ir.Definition]:
    decl = entry.decl
    assert isinstance(decl, a.Indicator)
    # the same at every grain: written once (the text of each expression above all)
    parts = [(value_name, decl.expr, TYPE_NAMES[decl.type], expr_text(decl.expr))]
    if decl.listing is not None:
        parts.append((listing_name, decl.listing, BOOL, expr_text(decl.listing)))
    citations, origin = citations_ir(decl.citations), _origin(entry, decl)
    found = []
    for word in listed_grains(decl):
        lowering = IndicatorLowering(checked, entry, word)
        for named, expr, typ, text in parts:
            found.append(
                ir.Definition(
                    name=named(decl.name, word),
                    label=decl.label,
                    grain=order(GRAINS[word]),
                    type=type_ir(typ),
                    expr=lowering.expr(expr),
                    text=text,
                    declared_type=decl.type if typ is not BOOL else "bool",
                    citations=citations,
                    origin=origin,
                )
            )
    return found


def _threshold(entry: Entry, checked: Checked) -> ir.Definition:
    decl = entry.decl
    assert isinstance(decl, a.Target)
    declared = _indicator_of(decl, checked).type
    return ir.Definition(
        name=threshold_name(decl.name),
        label=decl.label,
        grain=[],
        type=type_ir(TYPE_NAMES[declared]),
        expr=IndicatorLowering(checked, entry, "city").expr(decl.threshold),
        text=expr_text(decl.threshold),
        declared_type=declared,
        citations=citations_ir(decl.citations),
        origin=_origin(entry, decl),
    )


def _target(entry: Entry, checked: Checked) -> ir.Target:
    decl = entry.decl
    assert isinstance(decl, a.Target)
    indicator = _indicator_of(decl, checked)
    return ir.Target(
        name=decl.name,
        label=decl.label,
        indicator=decl.indicator,
        fn=decl.op,  # type: ignore[arg-type]
        text=f"{decl.op} {expr_text(decl.threshold)}",
        grains=listed_grains(decl) or listed_grains(indicator),  # type: ignore[arg-type]
        yearly=decl.per == "year",
        citations=citations_ir(decl.citations),
        origin=_origin(entry, decl),
    )


def _indicator_of(target: a.Target, checked: Checked) -> a.Indicator:
    symbol = checked.scope.lookup(target.indicator, None)
    indicator = symbol.entry.decl if symbol is not None and symbol.entry is not None else None
    assert isinstance(indicator, a.Indicator)  # checked: E165
    return indicator


class IndicatorLowering(ExprLowering):
    """An indicator's expression at one grain: other indicators are read at that grain,
    `settled.` from the last settling stage, `previous.` from the previous run."""

    def __init__(self, checked: Checked, entry: Entry, grain: str) -> None:
        super().__init__(checked, entry)
        self.grain = grain

    def _Name(self, node: a.Name) -> Any:
        symbol = self.checked.scope.lookup(node.name, None)
        if symbol is not None and symbol.kind == "indicator":
            return ir.Ref(name=value_name(node.name, self.grain))
        return super()._Name(node)

    def _StageRef(self, node: a.StageRef) -> Any:
        if node.stage == PREVIOUS:
            column = value_name(node.name, self.grain)
            return ir.FieldRef(name=node.name, table=PREVIOUS, column=column)
        return super()._StageRef(node)  # `settled.x`: the stage the engine names so

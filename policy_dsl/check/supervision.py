"""Checks of supervision inputs (医保监管): `input deduction` (违规扣款, 拒付, 考核扣罚) is
money per hospital, `input assessment` (考核得分) a score per hospital (E150–E152); and a
deduction must lower what a hospital is paid, never raise it (W150, by the sign it enters with:
`deduction_signs`).
"""

from __future__ import annotations

from collections.abc import Callable

from policy_dsl import ast as a
from policy_dsl.check.deduction_signs import DefKey, Signs
from policy_dsl.check.scope import Scope
from policy_dsl.diagnostics import Diagnostic
from policy_dsl.loader import Entry

Report = Callable[[Diagnostic], None]

#: The type each supervision input must be declared with, and how to say it.
DECLARED_TYPES = {
    "deduction": (
        ("money",),
        "E150",
        "write `: money` (an amount in 元 deducted from the payment)",
    ),
    "assessment": (
        ("number", "ratio"),
        "E151",
        "write `: number` (a score such as 92.5 on the city's scale)",
    ),
}


def check_supervision_inputs(scope: Scope, report: Report) -> None:
    """A deduction is money and an assessment a number (E150, E151), both per hospital (E152)."""
    for entry in scope.resolved.entries:
        decl = entry.decl
        if not isinstance(decl, a.Input) or decl.table not in DECLARED_TYPES:
            continue
        types, code, hint = DECLARED_TYPES[decl.table]
        at = entry.file.source.diagnostic
        if decl.type not in types:
            what = "an amount of money" if decl.table == "deduction" else "a score (a number)"
            report(
                at(
                    code,
                    f"`input {decl.table} {decl.name}` is {what}, not `{decl.type}`",
                    decl.span,
                    hint,
                )
            )
        if decl.grain is not None and decl.grain.keys != ("hospital",):
            report(
                at(
                    "E152",
                    f"`input {decl.table} {decl.name}` is per hospital, not at "
                    f"{', '.join(decl.grain.keys)}",
                    decl.grain.span,
                    "leave out the grain (or write `at hospital`): every row of the data file "
                    "names its hospital",
                )
            )


def check_deduction_signs(
    scope: Scope,
    edges: dict[DefKey, set[DefKey]],
    order: list[DefKey],
    money: Callable[[Entry], bool],
    report: Report,
) -> None:
    """W150 at each money `report` (and `payment`) that a deduction raises — where it enters
    with a `+` — unless it only totals deductions (`sum(audit_deduction) + sum(refusal)`), or
    the rise comes through another definition already warned about."""
    signs = Signs(scope)
    signs.dependencies_first(order)
    raised: dict[DefKey, tuple[Entry, list[str]]] = {}
    for entry in scope.resolved.entries:
        decl = entry.decl
        if not _pays(decl) or not money(entry):
            continue
        found = signs.definition(entry)
        up = [name for name, sign in found.signs.items() if sign > 0]
        if up and not found.deductions_only:
            raised[(entry.stage, decl.name)] = (entry, up)
    for key, (entry, up) in raised.items():
        before = _reads(key, edges) & raised.keys()
        names = [n for n in up if not any(n in raised[k][1] for k in before)]
        if names:
            report(_raised(entry, names, signs))


def _pays(decl: a.Declaration) -> bool:
    """A money report or the payment: what a hospital is paid, or told it is owed."""
    if isinstance(decl, a.Let):
        return decl.report or decl.name == "payment"
    return isinstance(decl, a.Formula | a.Adjust) and decl.name == "payment"


def _reads(start: DefKey, edges: dict[DefKey, set[DefKey]]) -> set[DefKey]:
    """Every definition `start` reads, directly or through others."""
    seen: set[DefKey] = set()
    todo = list(edges.get(start, ()))
    while todo:
        key = todo.pop()
        if key not in seen:
            seen.add(key)
            todo += edges.get(key, ())
    return seen


def _raised(entry: Entry, names: list[str], signs: Signs) -> Diagnostic:
    decl = entry.decl
    shown = ", ".join(f"`{n}` ({signs.label(n)})" for n in names)
    return entry.file.source.diagnostic(
        "W150",
        f"`{decl.name}` rises with the deduction {shown}: a deduction must lower what is paid",
        decl.span,
        f"subtract it: `… - {names[0]}`",
    )

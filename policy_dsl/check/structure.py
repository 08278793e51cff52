"""Checks across declarations: classification coverage, formula coverage, cycles, unused
parameters and the settlement outputs each stage must produce."""

from __future__ import annotations

from collections.abc import Callable

from policy_dsl import ast as a
from policy_dsl import grains as g
from policy_dsl.check.infer import DefKey, Inference, Info
from policy_dsl.check.scope import Scope
from policy_dsl.diagnostics import Diagnostic
from policy_dsl.loader import Entry
from policy_dsl.types import NUMBER, TYPE_NAMES, Type

Report = Callable[[Diagnostic], None]

#: The per-case outputs of the data contract, by payment method, with their types.
OUTPUTS: dict[str, dict[str, Type | None]] = {
    "points": {
        "category": None,
        "base_points": TYPE_NAMES["points"],
        "case_points": TYPE_NAMES["points"],
        "coefficient": NUMBER,
        "settled_points": TYPE_NAMES["points"],
        "point_value": TYPE_NAMES["point_value"],
        "payment": TYPE_NAMES["money"],
    },
    "rate": {
        "category": None,
        "base_weight": NUMBER,
        "case_weight": NUMBER,
        "coefficient": NUMBER,
        "settled_weight": NUMBER,
        "rate": TYPE_NAMES["rate"],
        "payment": TYPE_NAMES["money"],
    },
}


def settled_name(method: str) -> str:
    """The settled amount of a case under a payment method: `settled_points` (结算点数) or
    `settled_weight` (结算权重)."""
    return "settled_points" if method == "points" else "settled_weight"


def price_name(method: str) -> str:
    """What one unit of the settled amount is paid: `point_value` (点值) or `rate` (费率)."""
    return "point_value" if method == "points" else "rate"


def check_classify(entry: Entry, report: Report) -> None:
    decl = entry.decl
    assert isinstance(decl, a.Classify)
    at = entry.file.source.diagnostic
    seen: set[str] = set()
    for arm in decl.classes:
        if arm.name in seen:
            report(at("E603", f"class `{arm.name}` appears twice", arm.span, "rename one of them"))
        seen.add(arm.name)
    fallback = [i for i, arm in enumerate(decl.classes) if _always(arm.when)]
    if not fallback:
        report(
            at(
                "E601",
                f"`{decl.name}` can leave a case unclassified: no class matches "
                "when every condition is false",
                decl.span,
                'end with a catch-all class: `class normal "正常病例" otherwise`',
            )
        )
    elif fallback[0] != len(decl.classes) - 1:
        dead = decl.classes[fallback[0] + 1]
        report(
            at(
                "E602",
                f"class `{dead.name}` can never match: `{decl.classes[fallback[0]].name}`"
                " before it takes every remaining case",
                dead.span,
                "move the catch-all class to the end",
            )
        )


def _always(when: a.Expr | None) -> bool:
    return when is None or (isinstance(when, a.Bool) and when.value)


def check_formula(entry: Entry, scope: Scope, report: Report) -> None:
    decl = entry.decl
    assert isinstance(decl, a.Formula)
    symbol = scope.lookup(decl.by, entry.stage)
    if symbol is None or symbol.entry is None or not isinstance(symbol.entry.decl, a.Classify):
        return  # reported by inference
    arms = [arm.class_name for arm in decl.arms]
    missing = [c.name for c in symbol.entry.decl.classes if c.name not in arms]
    if missing and None not in arms:
        report(
            entry.file.source.diagnostic(
                "E604",
                f"`{decl.name}` gives no value for class {', '.join(f'`{m}`' for m in missing)}",
                decl.span,
                f"add `{missing[0]} -> …` or a final `otherwise -> …`",
            )
        )


def check_cycles(inference: Inference, scope: Scope, report: Report) -> None:
    """Every cycle of definitions, reported once at its first member in file order."""
    order = {(e.stage, e.decl.name): i for i, e in enumerate(scope.resolved.entries)}
    reported: set[frozenset[DefKey]] = set()
    for start in sorted(inference.edges, key=lambda k: order.get(k, 0)):
        path = _cycle_from(start, inference.edges)
        if path and frozenset(path) not in reported:
            reported.add(frozenset(path))
            first = min(path, key=lambda k: order.get(k, 0))
            symbol = scope.lookup(first[1], first[0])
            assert symbol is not None and symbol.entry is not None
            loop = path[path.index(first) :] + path[: path.index(first)] + [first]
            report(
                symbol.entry.file.source.diagnostic(
                    "E401",
                    "definitions depend on each other in a circle: "
                    + " → ".join(f"`{k[1]}`" for k in loop),
                    symbol.entry.decl.span,
                    "one of them must be computed without the others",
                )
            )


def _cycle_from(start: DefKey, edges: dict[DefKey, set[DefKey]]) -> list[DefKey] | None:
    stack: list[tuple[DefKey, list[DefKey]]] = [(start, [start])]
    seen: set[DefKey] = set()
    while stack:
        node, path = stack.pop()
        for nxt in sorted(edges.get(node, ()), key=str):
            if nxt == start:
                return path
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def check_unused(inference: Inference, scope: Scope, report: Report) -> None:
    for entry in scope.resolved.entries:
        if isinstance(entry.decl, a.Param | a.Table) and (
            (entry.stage, entry.decl.name) not in inference.used
        ):
            report(
                entry.file.source.diagnostic(
                    "W101",
                    f"{type(entry.decl).__name__.lower()} `{entry.decl.name}` is never used",
                    entry.decl.span,
                    "remove it, or use it in a definition",
                )
            )


def output_scopes(scope: Scope) -> list[str | None]:
    """The stages that settle cases (declare `payment`), or the shared scope if none does."""
    stages = [s.name for s in scope.resolved.stages if "payment" in scope.by_stage[s.name]]
    return list(stages) or [None]


def check_outputs(
    scope: Scope,
    method: str | None,
    infos: Callable[[str, str | None], Info | None],
    report: Report,
) -> None:
    required = OUTPUTS.get(method or "")
    if required is None:
        return
    top = scope.resolved.top
    for stage in output_scopes(scope):
        where = f"stage `{stage}`" if stage else "the policy"
        missing = []
        for name, expected in required.items():
            symbol = scope.lookup(name, stage)
            if symbol is None or symbol.entry is None:
                missing.append(name)
            elif symbol.kind != "definition":
                _not_a_definition(name, symbol.kind, symbol.entry, report)
            elif (info := infos(name, stage)) is not None:
                _check_output(name, expected, info, symbol.entry, report)
        if missing:
            report(
                top.source.diagnostic(
                    "E801",
                    f"{where} does not define {', '.join(f'`{m}`' for m in missing)}: "
                    f"settlement outputs of the {method} method",
                    top.header.span,
                    f"every settled case reports {', '.join(required)}; define the missing ones",
                )
            )


def _not_a_definition(name: str, kind: str, entry: Entry, report: Report) -> None:
    """A settlement output declared as a parameter, table, input…: the engine settles
    definitions, which every case reads at its grain."""
    kind = {"param": "parameter"}.get(kind, kind)
    report(
        entry.file.source.diagnostic(
            "E802",
            f"settlement output `{name}` must be a definition, not a {kind}",
            entry.decl.span,
            f'compute it with `let`, e.g. `let {name} "…" at case = …` (a {kind} can be its value)',
        )
    )


def _check_output(
    name: str, expected: Type | None, info: Info, entry: Entry, report: Report
) -> None:
    problem = hint = None
    if expected is None and info.type.kind != "class":
        problem = "must be a classification (`classify`)"
        hint = f'declare it with `classify {name} "…"` and its classes'
    elif expected is not None and not info.type.same(expected):
        problem = f"must be {expected}, not {info.type}"
        hint = f"compute `{name}` as {expected}"
    elif not g.readable_at(info.grain, g.CASE) or (name == "payment" and info.grain != g.CASE):
        problem = f"must be readable per case, not at {g.show(info.grain)}"
        hint = f"compute `{name}` `at case`"
    if problem:
        report(
            entry.file.source.diagnostic(
                "E802", f"settlement output `{name}` {problem}", entry.decl.span, hint
            )
        )
